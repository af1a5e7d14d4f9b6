"""The global filters: sidebar widgets bound to the URL, turned into one ``Filters`` for every page.

Each widget's key is both the ``Filters`` field it feeds and its query parameter, so the URL,
session state and code agree and a shared link reproduces the view. ``bind="query-params"`` keeps
the values across page switches and reloads. Only filters the source has values for are shown.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import streamlit as st

from data_layer.backend import Backend
from data_layer.filters import Filters

PRESETS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30), "All": None}
CUSTOM = "Custom"
LIST_FILTERS = {
    "agents": "Agents",
    "models": "Models",
    "sessions": "Sessions",
    "tools": "Tools",
    "severities": "Severities",
    "event_types": "Event types",
}


def anchor(store: Backend) -> datetime:
    """Where the period presets end: the latest activity in the source, or now if that is later.

    Counting back from the data, not from the clock, keeps "last 7 days" useful on an export
    taken last month; for a live source the two are the same.
    """
    _start, end = store.time_span()
    now = datetime.now(UTC)
    if end is None or end > now:
        return _ceil_hour(now)
    return _ceil_hour(end)


def _ceil_hour(t: datetime) -> datetime:
    floor = t.replace(minute=0, second=0, microsecond=0)
    return floor if floor == t else floor + timedelta(hours=1)


def render(store: Backend, options: dict[str, list[str]]) -> Filters:
    """Draw the filter widgets in the sidebar and return what they select."""
    end_of_data = anchor(store)
    first, _last = store.time_span()
    st.sidebar.segmented_control(
        "Period",
        [*PRESETS, CUSTOM],
        key="range",
        default="7d",
        bind="query-params",
        help=f"Presets count back from the latest data, {end_of_data:%Y-%m-%d %H:%M} UTC.",
    )
    choice = st.session_state.get("range") or "7d"
    start: datetime | None
    end: datetime | None = end_of_data
    if choice == CUSTOM:
        default_from = (first or end_of_data - timedelta(days=30)).date()
        left, right = st.sidebar.columns(2)
        from_day = left.date_input("From", value=default_from, key="from", bind="query-params")
        to_day = right.date_input("To", value=end_of_data.date(), key="to", bind="query-params")
        start, end = _day_start(from_day), _day_start(to_day) + timedelta(days=1)
        if start >= end:
            st.sidebar.warning("The period ends before it starts; showing one day from its start.")
            end = start + timedelta(days=1)
    else:
        length = PRESETS[choice]
        start = None if length is None else end_of_data - length
        if length is None:
            end = None

    chosen: dict[str, tuple[str, ...]] = {}
    for field, label in LIST_FILTERS.items():
        values = options.get(field) or []
        if not values:
            chosen[field] = ()
            continue
        picked = st.sidebar.multiselect(
            label, values, key=field, bind="query-params", placeholder=f"All {label.lower()}"
        )
        chosen[field] = tuple(picked)
    return Filters(start=start, end=end, **chosen)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def narrow_to(field: str, value: str) -> None:
    """Add one value to a list filter (a click on a chart); the sidebar shows it, clearable."""
    current = list(st.session_state.get(field) or [])
    if value not in current:
        st.session_state[field] = [*current, value]


def describe(filters: Filters) -> str:
    """The period in words, for chart captions: 'Mar 1 – Mar 8, 2025 (UTC)' or 'all time'."""
    if filters.start is None and filters.end is None:
        return "all time"
    start = "the beginning" if filters.start is None else f"{filters.start:%b %d %H:%M}"
    end = "now" if filters.end is None else f"{filters.end:%b %d %H:%M, %Y}"
    return f"{start} – {end} UTC"
