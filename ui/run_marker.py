"""Two invisible markers per run, so a browser can tell a finished run from one still drawing.

While a run is under way the browser keeps showing the previous run's elements until each is
replaced, and Streamlit's "running" icon appears only half a second after a run starts, so a
test that reads the page right after a click can read a mix of two runs (the demo's call count
beside an upload's tokens). Each run therefore renders two empty containers whose CSS class
carries the session's run number (a key becomes the class ``st-key-<key>``; no HTML is rendered):

- ``started``, at the end of the sidebar just before the page runs, with the page's title and the
  source's label;
- ``finished``, the very last thing the run renders, after the page.

A run that a page ends early with ``st.stop()`` never renders ``finished`` (nothing can be drawn
after ``st.stop()``); it ends successfully all the same, and Streamlit then removes every element
the run did not draw, the earlier run's ``finished`` marker included. ``tests/browser.py`` reads
both: see ``settled`` there. A run that ``st.rerun()`` cuts short must do so before ``started``
(app.py's buttons do); a page that needs a rerun uses a widget callback instead.
"""

from __future__ import annotations

import streamlit as st

_COUNT_KEY = "run_marker_count"


def started(page_title: str, source_label: str) -> None:
    """In the sidebar, before the page runs: this run's number, what page and source it shows."""
    number = st.session_state.get(_COUNT_KEY, 0) + 1
    st.session_state[_COUNT_KEY] = number
    with st.sidebar:
        _marker(f"agentwatch-started-{number}--{page_title}--{source_label}")


def finished() -> None:
    """After the page: the last element of the run."""
    _marker(f"agentwatch-finished-{st.session_state.get(_COUNT_KEY, 0)}")


def _marker(key: str) -> None:
    # A container without children is not drawn at all; an st.empty() child draws nothing.
    with st.container(key=key, gap=None):
        st.empty()
