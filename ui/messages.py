"""What a page says instead of charts: the source has no data of its kind, or the filters leave none."""

from __future__ import annotations

import streamlit as st


def nothing_to_show(what: str, needs: str) -> None:
    """Say that the source has no data for this page, and which source data would fill it."""
    st.info(f"This source has no {what}. {needs}", icon=":material/info:")


def no_match() -> None:
    st.info(
        "Nothing matches the filters. Widen the period or clear a filter in the sidebar.",
        icon=":material/filter_alt_off:",
    )
