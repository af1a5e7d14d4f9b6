"""What every page shares: its context (store, filters, colours), empty states, KPIs, downloads.

``app.py`` loads the source and renders the sidebar before the page runs, and leaves a
``PageContext`` in session state for this run; a page starts with ``ctx = page.context()``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from data_layer.backend import Backend
from data_layer.filters import Filters
from data_layer.masking import mask_frame
from ui import source

CONTEXT_KEY = "page_context"

PAGE_ICONS = {
    "overview": ":material/dashboard:",
    "velocity": ":material/speed:",
    "cost": ":material/payments:",
    "tokens": ":material/token:",
    "latency": ":material/timer:",
    "security": ":material/shield:",
    "sessions": ":material/forum:",
    "data": ":material/database:",
}
"""The app's pages in menu order: the file under pages/ (titled as its name, capitalised) and its
menu icon. app.py builds the navigation from it, and the tests and the benchmark visit each page."""
PAGES = list(PAGE_ICONS)
TITLES = [name.capitalize() for name in PAGES]


@dataclass(frozen=True)
class PageContext:
    store: Backend
    filters: Filters
    options: dict[str, list[str]]
    palettes: dict[str, dict[str, str]] = field(default_factory=dict)
    mask: bool = True  # mask e-mails, phone and card numbers, API keys in displayed text

    def shown(self, frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
        """``frame`` as it may be displayed: text columns masked unless the user turned it off."""
        return mask_frame(frame, columns) if self.mask else frame

    def has(self, table: str) -> bool:
        """Whether the source has rows of this kind at all (not: whether the filter leaves any)."""
        counts = self.store.row_counts()
        return table in self.store.info.provided and counts.get(table, 0) > 0

    def bucket(self, hours_up_to: timedelta = timedelta(days=3)) -> str:
        """The time bucket that keeps a chart of the filtered period readable (≤ ~400 bars):
        hours for periods up to ``hours_up_to``, then days, then weeks.
        """
        start, end = self.filters.start, self.filters.end
        if start is None or end is None:
            first, last = self.store.time_span()
            start, end = start or first, end or last
        if start is None or end is None:
            return "day"
        span = end - start
        if span <= hours_up_to:
            return "hour"
        if span <= timedelta(days=180):
            return "day"
        return "week"


def context() -> PageContext:
    """This run's context; also renders the uploader, which must live in the page (see app.py)."""
    _run_through_entrypoint()
    ctx = st.session_state.get(CONTEXT_KEY)
    if ctx is None:
        st.info("Open Agentwatch through app.py (scripts/run.sh).")
        st.stop()
    uploader_slot = st.session_state.get("uploader_slot")
    if uploader_slot is not None:
        uploader_slot.file_uploader(
            "Upload an export",
            type=["json", "jsonl", "ndjson", "csv", "parquet", "db", "sqlite", "sqlite3", "gz"],
            key=source.UPLOAD_KEY,
            on_change=source.accept_upload,
            help="JSON, JSON-lines, CSV, Parquet or a SQLite database, optionally gzip-compressed.",
        )
    return ctx


def _run_through_entrypoint() -> None:
    """Rerun through app.py when Streamlit ran this page file on its own.

    With a ``pages/`` folder beside the entrypoint, a server's first run (and every AppTest run)
    takes Streamlit's old folder-based navigation, which executes the page in the URL directly,
    skipping app.py and with it the source and the filters; a context left in session state by
    an earlier run would then be used with stale filters. That mode ends when app.py calls
    ``st.navigation``; ending it here and rerunning sends this run through app.py too, so a
    shared link to /cost works on a freshly started server.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the old mode
        PagesManager = None
    if PagesManager is not None and PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def nothing_to_show(what: str, needs: str) -> None:
    """Say that the source has no data for this page, and which source data would fill it."""
    st.info(f"This source has no {what}. {needs}", icon=":material/info:")


def no_match() -> None:
    st.info(
        "Nothing matches the filters. Widen the period or clear a filter in the sidebar.",
        icon=":material/filter_alt_off:",
    )


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


def kpi_row(kpis: pd.DataFrame, trends: dict[str, list[float]] | None = None) -> None:
    """st.metric per KPI row (label, current, previous, unit, rise_is_good), four to a row, with
    the KPI's trend over the period as a sparkline where ``trends`` has one.
    """
    rows = list(kpis.itertuples())
    for start in range(0, len(rows), 4):
        columns = st.columns(4)
        for col, k in zip(columns, rows[start : start + 4], strict=False):
            delta = fmt_delta(k.current, k.previous, k.unit)
            unchanged = delta == NO_CHANGE
            color = (
                "off" if k.rise_is_good is None or unchanged else ("normal" if k.rise_is_good else "inverse")
            )
            trend = (trends or {}).get(k.kpi) or None
            col.metric(
                k.label,
                fmt_number(k.current, k.unit),
                delta,
                delta_color=color,
                delta_arrow="off" if unchanged else "auto",
                border=True,
                chart_data=trend if trend and len(trend) > 1 else None,
                chart_type="bar" if k.unit in ("calls", "tasks", "alerts") else "line",
            )


# Cells that spreadsheets would run as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that start like a formula get a leading apostrophe, so Excel shows them as text."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col].dtype) or out[col].dtype == object:
            text = out[col].astype("string")
            risky = text.str.startswith(_FORMULA_START).fillna(False)
            out[col] = text.where(~risky, "'" + text)
    return out


def to_csv(frame: pd.DataFrame) -> bytes:
    """RFC 4180 CSV: CRLF line ends, so a cell holding a lone CR is quoted, not read as a row break."""
    return neutralised(frame).to_csv(index=False, lineterminator="\r\n").encode()


def to_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def downloads(name: str, rows: Callable[[], pd.DataFrame]) -> None:
    """CSV and Parquet downloads of the page's filtered rows, built only when clicked."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        "Download CSV",
        data=lambda: to_csv(rows()),
        file_name=f"agentwatch-{name}-{stamp}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    right.download_button(
        "Download Parquet",
        data=lambda: to_parquet(rows()),
        file_name=f"agentwatch-{name}-{stamp}.parquet",
        mime="application/octet-stream",
        icon=":material/download:",
        on_click="ignore",
    )


def chart(fig, key: str, *, filter_on: str | None = None) -> None:
    """Draw a figure; with ``filter_on`` (a list filter: agents, models...), clicking a bar or
    segment adds its value to that filter. Figures must carry the value as ``customdata[0]``.
    """
    if filter_on is None:
        st.plotly_chart(fig, key=key, config={"displaylogo": False})
        return
    st.plotly_chart(
        fig,
        key=key,
        on_select=lambda: _apply_click(key, filter_on),
        selection_mode="points",
        config={"displaylogo": False},
    )
    st.caption(f":material/ads_click: Click a bar to filter by its {_SINGULAR.get(filter_on, filter_on)}.")


_SINGULAR = {
    "agents": "agent",
    "models": "model",
    "sessions": "session",
    "tools": "tool",
    "severities": "severity",
    "event_types": "event type",
}


def _apply_click(key: str, field: str) -> None:
    from ui.filters import narrow_to

    event = st.session_state.get(key)
    points = (event or {}).get("selection", {}).get("points", [])
    for point in points:
        data = point.get("customdata")
        if data:
            value = data[0] if isinstance(data, list | tuple) else data
            if value is not None and value in st.session_state.get("page_context").options.get(field, []):
                narrow_to(field, str(value))


_MARKDOWN_SPECIAL = "\\`*_{}[]()<>#+-.!|~$:"


def md(text: object) -> str:
    """Text from the data, escaped so Markdown shows it literally (no links, emphasis, icons)."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in str(text))


def _column_config(frame: pd.DataFrame) -> dict:
    """How Agentwatch shows its usual columns in tables: UTC times to the second, dollars, units."""
    config: dict = {}
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
            config[col] = st.column_config.DatetimeColumn(col.replace("_", " "), format="YYYY-MM-DD HH:mm:ss")
        elif col.endswith("_usd"):
            config[col] = st.column_config.NumberColumn(
                col.removesuffix("_usd").replace("_", " ") + " (USD)", format="$%.4f"
            )
        elif col.endswith("_ms"):
            config[col] = st.column_config.NumberColumn(
                col.removesuffix("_ms").replace("_", " ") + " (ms)", format="%.0f"
            )
        elif col.endswith("_s"):
            config[col] = st.column_config.NumberColumn(
                col.removesuffix("_s").replace("_", " ") + " (s)", format="%.0f"
            )
    return config


def table(frame: pd.DataFrame, **kwargs):
    """st.dataframe with Agentwatch's column formats; returns what st.dataframe returns."""
    return st.dataframe(frame, hide_index=True, column_config=_column_config(frame), **kwargs)
