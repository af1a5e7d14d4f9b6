"""Agentwatch's colours: one per agent, model, severity and status, the same on every page.

Severities have fixed colours (critical is always the same red); agents and models take palette
colours in the order of the source's full, sorted list, so filtering never repaints a series.
Red is kept out of the palette so that it only ever means "critical" or "failed".
"""

from __future__ import annotations

import pandas as pd

SEVERITY_COLORS = {"low": "#60A5FA", "medium": "#FBBF24", "high": "#F97316", "critical": "#DC2626"}
COST_SOURCE_COLORS = {"recorded": "#4F46E5", "estimated": "#A5B4FC", "unknown": "#9CA3AF"}
STATUS_COLORS = {
    "ok": "#10B981",
    "completed": "#10B981",
    "running": "#60A5FA",
    "started": "#60A5FA",
    "pending": "#9CA3AF",
    "blocked": "#F59E0B",
    "error": "#DC2626",
    "failed": "#DC2626",
    "cancelled": "#6B7280",
    "open": "#DC2626",
    "acknowledged": "#F59E0B",
    "resolved": "#10B981",
    "suspicious": "#FBBF24",
    "dangerous": "#DC2626",
}
MISSING_COLOR = "#D1D5DB"  # the rows a chart's colour column has no value for: "(no model)"
PALETTE = [
    "#4C78A8", "#F58518", "#54A24B", "#B279A2", "#72B7B2", "#EECA3B",
    "#9D755D", "#FF9DA6", "#2E86AB", "#8CD17D", "#BAB0AC", "#D4A6C8",
]  # fmt: skip


def palette_for(names: list[str]) -> dict[str, str]:
    """Stable colours for a source's agents or models (pass the full sorted list)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def colors(dim: str | None, palettes: dict[str, dict[str, str]]) -> dict[str, str] | None:
    if dim == "severity":
        return SEVERITY_COLORS
    if dim == "cost_source":
        return COST_SOURCE_COLORS
    if dim in ("status", "level", "outcome"):
        return STATUS_COLORS
    return palettes.get(dim or "")


def order(dim: str, values: pd.Series) -> list[str]:
    """Legend and stacking order: severities by scale (critical first), the rest by name."""
    present = set(values.dropna())
    if dim == "severity":
        return [s for s in reversed(SEVERITY_COLORS) if s in present] + sorted(present - set(SEVERITY_COLORS))
    return sorted(present)
