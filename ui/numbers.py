"""Figures and their changes as a person reads them; missing reads '—', never 0."""

from __future__ import annotations

import pandas as pd


def fmt_number(value: object, unit: str = "") -> str:
    """A figure as a person reads it; missing values read '—', never 0."""
    if value is None or pd.isna(value):
        return "—"
    v = float(value)
    if unit == "USD":
        return f"${v:,.2f}" if abs(v) >= 1 or v == 0 else f"${v:,.4f}"
    if unit == "%":
        return f"{v:.1f}%"
    if unit == "ms":
        return f"{v / 1000:,.2f} s" if v >= 10_000 else f"{v:,.0f} ms"
    if unit == "h":
        return f"{v * 60:,.0f} min" if v < 1 else f"{v:,.1f} h"
    return f"{v:,.0f}"


NO_CHANGE = "no change"


def fmt_delta(current: object, previous: object, unit: str) -> str | None:
    """The change from ``previous``, as the KPI cards show it; None when either is missing."""
    if current is None or previous is None or pd.isna(current) or pd.isna(previous):
        return None
    diff = float(current) - float(previous)
    shown = {"%": 1, "USD": 2}.get(unit, 0)  # decimals the change is shown with
    if round(diff, shown) == 0:
        return NO_CHANGE
    if unit == "%":
        return f"{diff:+.1f} pts"
    rel = f" ({diff / float(previous):+.0%})" if float(previous) else ""
    if unit == "USD":
        return f"{'+' if diff >= 0 else '-'}${abs(diff):,.2f}{rel}"
    if unit == "ms":
        return f"{diff:+,.0f} ms{rel}"
    return f"{diff:+,.0f}{rel}"
