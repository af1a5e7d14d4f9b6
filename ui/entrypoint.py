"""Sending a page that Streamlit ran on its own back through app.py."""

from __future__ import annotations

import streamlit as st


def run_through_entrypoint() -> None:
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
