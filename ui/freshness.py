"""How fresh the data on every page is: one line in the sidebar, which every page shares.

A database or a file at a path is checked for new data every ``AGENTWATCH_REFRESH_S`` seconds,
in the background (``ui.source``); queries pushed down into the database read its rows every
time, but whole hours from the rollups kept since it was last found changed; uploads and the demo
never change. The line says which, when the data was read and last checked, and whether a check
is running.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from data_layer.cache import Entry
from ui.source import Choice


def line(choice: Choice, entry: Entry, now: datetime | None = None) -> str:
    """The sentence: when the data was read, when it was last found to match its source, and
    whether a check is running (the figures shown stay these until a rerun after it ends)."""
    sentence = _sentence(choice, entry, now or datetime.now(UTC))
    return f"{sentence}; checking for new data now" if entry.checking is not None else sentence


def _sentence(choice: Choice, entry: Entry, now: datetime) -> str:
    checked = ago(now - entry.checked_at)
    as_of = f"{entry.changed_at:%H:%M:%S} UTC"
    read = f"Data as of {as_of}"
    if choice.pushdown and getattr(entry.store, "copying", False):  # everything is read live meanwhile
        return "Queries run in the database while a copy without prompts is read"
    if choice.pushdown and getattr(entry.store, "copied", False):  # the copy; prompts are read live
        return f"{read}, prompts and responses live from the database, checked {checked}"
    if choice.pushdown:  # raw rows are read live; whole hours come from rollups made at this time
        return f"Queries run in the database; hourly totals as of {as_of}, checked {checked}"
    if not choice.can_change:
        return f"{read} · {'generated for today' if choice.origin == 'demo' else 'an upload does not change'}"
    return f"{read}, checked {checked}"


def ago(delta) -> str:
    """A short age: "just now", "5 s ago", "3 min ago", "2 h ago"."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 1:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def show(choice: Choice, entry: Entry) -> None:
    """The line, as a caption in the sidebar (app.py calls it for every page)."""
    st.sidebar.caption(f":material/schedule: {line(choice, entry)}")
