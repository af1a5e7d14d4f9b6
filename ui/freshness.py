"""How fresh the data on every page is: one line in the sidebar, which every page shares.

A database or a file at a path is checked for new data every ``AGENTWATCH_REFRESH_S`` seconds,
in the background (``ui.source``); queries pushed down into the database read its rows every
time, but whole hours from the rollups kept since it was last found changed; uploads and the demo
never change. The line says which, when the data was read and last checked, and whether a check
is running.

For a source that can change, the line is a fragment that runs again every period on its own, as
a dashboard on a wall expects: each run starts the check when due, and once a check has found
new rows (or read the source again) the whole page runs again and shows them, with no click. A
check still running after a second (reading a changed source again) shows at the next run.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from data_layer.backend import Backend
from data_layer.cache import Entry
from ui import source
from ui.markdown import md
from ui.source import Choice

STALE = "Showing the last data loaded; refreshing failed"
# How long the line's own run waits for a check it started or found running. New rows take a
# few tenths of a second to append (a rerun waits only AGENTWATCH_REFRESH_WAIT_S); a click
# arriving meanwhile waits at most this for its run.
TICK_WAIT_S = 1.0
LIVE_KEY = "live"  # the sidebar's "Live updates" toggle: off, the page changes only when the user acts


def line(choice: Choice, entry: Entry, now: datetime | None = None) -> str:
    """The sentence: when the data was read, when it was last found to match its source, and
    whether a check is running and what it is reading (the figures shown stay these until a rerun
    after it ends)."""
    sentence = _sentence(choice, entry, now or datetime.now(UTC))
    if entry.checking is None:
        return sentence
    what, step = source.activity(choice) or ("checking for new data", None)
    return f"{sentence}; {what} now" + (f" ({step[:1].lower()}{step[1:]})" if step else "")


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
    """The line in the sidebar, and the warning while refreshes fail (app.py calls it for every
    page, inside the sidebar); for a source that can change, kept current on its own (``_live``)
    unless the user turned live updates off."""
    if not choice.can_change or not st.session_state.get(LIVE_KEY, True):
        _draw(choice, entry)
        return
    live = st.fragment(_live, run_every=source.refresh_period())
    live(choice, entry, entry.store, entry.changed_at)


def _live(choice: Choice, loaded: Entry, drawn: Backend, drawn_at: datetime) -> None:
    """The line's fragment. In the page's run, the line of the entry it ``loaded``. In a run of
    its own: the whole page again if its data is no longer the one the page drew (``drawn`` as
    of ``drawn_at``), else the line and warning as they are now."""
    if not _own_run():  # the page's run checked its source already, and waits for no check
        _draw(choice, loaded)
        return
    entry = source.current(choice)
    running = entry.checking if entry is not None else None
    if running is not None and running.wait(TICK_WAIT_S):  # its rows now, not a period later
        entry = source.current(choice)
    if entry is None or entry.store is not drawn or entry.changed_at != drawn_at:
        st.rerun()  # the whole app: every figure on the page is of the old data
    _draw(choice, entry)


def _own_run() -> bool:
    """Whether this run is the fragment's alone (its timer's), not a run of the whole page."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def _draw(choice: Choice, entry: Entry) -> None:
    st.caption(f":material/schedule: {line(choice, entry)}")
    if entry.stale_reason:
        st.warning(f"{STALE}: {md(entry.stale_reason)}", icon=":material/sync_problem:")
