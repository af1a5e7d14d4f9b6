"""Drawing a figure on a page, and turning a click on a bar into a sidebar filter."""

from __future__ import annotations

import streamlit as st

from ui.context import CONTEXT_KEY

_SINGULAR = {
    "agents": "agent",
    "models": "model",
    "sessions": "session",
    "tools": "tool",
    "severities": "severity",
    "event_types": "event type",
}


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


def _apply_click(key: str, field: str) -> None:
    from ui.filters import narrow_to

    event = st.session_state.get(key)
    points = (event or {}).get("selection", {}).get("points", [])
    for point in points:
        data = point.get("customdata")
        if data:
            value = data[0] if isinstance(data, list | tuple) else data
            if value is not None and value in st.session_state.get(CONTEXT_KEY).options.get(field, []):
                narrow_to(field, str(value))
