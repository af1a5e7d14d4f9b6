"""The freshness line every page shows: what it says for each kind of source."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from data_layer.cache import Entry
from ui import source
from ui.freshness import ago, line
from ui.source import Choice

READ = datetime(2026, 12, 7, 12, 3, 41, tzinfo=UTC)
NOW = READ + timedelta(seconds=95)


def _entry(store: object = None) -> Entry:
    return Entry(store=store, loaded_at=0.0, changed_at=READ, checked_at=NOW - timedelta(seconds=5))


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (Choice("sidebar", "/data/a.db", "a.db", "k"), "Data as of 12:03:41 UTC, checked 5 s ago"),
        (
            Choice("upload", "/tmp/u.jsonl", "u.jsonl", "k"),
            "Data as of 12:03:41 UTC · an upload does not change",
        ),
        (Choice("demo", "demo", "Demo dataset", "k"), "Data as of 12:03:41 UTC · generated for today"),
        (
            Choice("sidebar", "postgresql://u@h/db", "db", "k", pushdown=True),
            # rows are read live, but whole hours come from rollups made when the source last changed
            "Queries run in the database; hourly totals as of 12:03:41 UTC, checked 5 s ago",
        ),
    ],
)
def test_the_line_says_when_the_data_was_read_and_checked(choice, expected):
    assert line(choice, _entry(), now=NOW) == expected


@pytest.mark.parametrize(
    ("copying", "copied", "expected"),
    [
        (True, False, "Queries run in the database while a copy without prompts is read"),
        (
            False,
            True,
            "Data as of 12:03:41 UTC, prompts and responses live from the database, checked 5 s ago",
        ),
    ],
)
def test_a_pushed_down_source_copied_says_where_its_figures_come_from(copying, copied, expected):
    pushed = Choice("sidebar", "postgresql://u@h/db", "db", "k", pushdown=True)
    store = SimpleNamespace(copying=copying, copied=copied)
    assert line(pushed, _entry(store), now=NOW) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0.4, "just now"), (5, "5 s ago"), (59, "59 s ago"), (60, "1 min ago"), (7300, "2 h ago")],
)
def test_ages_read_as_a_person_would_say_them(seconds, expected):
    assert ago(timedelta(seconds=seconds)) == expected


def test_the_line_says_when_a_check_is_running():
    entry = _entry()
    entry.checking = threading.Event()
    database = Choice("sidebar", "postgresql://u@h/db", "db", "k")
    expected = "Data as of 12:03:41 UTC, checked 5 s ago; checking for new data now"
    assert line(database, entry, now=NOW) == expected


@pytest.mark.parametrize(
    ("activity", "expected"),
    [
        (("reading new rows", None), "; reading new rows now"),
        (
            ("reading the source again", "Reading llm calls from PostgreSQL"),
            "; reading the source again now (reading llm calls from PostgreSQL)",
        ),
    ],
)
def test_the_line_says_what_a_running_check_reads(monkeypatch, activity, expected):
    entry = _entry()
    entry.checking = threading.Event()
    database = Choice("sidebar", "postgresql://u@h/db", "db", "k")
    monkeypatch.setitem(source._activity, database.key, activity)
    assert line(database, entry, now=NOW) == "Data as of 12:03:41 UTC, checked 5 s ago" + expected


def test_a_background_full_read_notes_each_step_and_forgets_them_when_done(monkeypatch):
    """The refresh the cache runs in the background says what it reads while it reads it."""
    database = Choice("sidebar", "/data/a.db", "a.db", "k")
    seen = []

    def build(progress):
        seen.append(source.activity(database))
        progress("Reading llm calls", None)
        seen.append(source.activity(database))
        return "new store"

    monkeypatch.setattr(source, "refresh", lambda store, reload, progress: (reload(), True))
    assert source._in_background(database, build)("old store") == ("new store", True)
    assert seen == [("reading the source again", None), ("reading the source again", "Reading llm calls")]
    assert source.activity(database) is None


@pytest.mark.parametrize(
    ("choice", "live", "ticks"),
    [
        (Choice("sidebar", "/data/a.db", "a.db", "k"), None, True),  # on unless turned off
        (Choice("sidebar", "/data/a.db", "a.db", "k"), False, False),
        (Choice("upload", "/tmp/u.jsonl", "u.jsonl", "k"), None, False),  # never changes
        (Choice("demo", "demo", "Demo dataset", "k"), None, False),
    ],
)
def test_the_line_runs_again_every_period_for_a_source_that_can_change(monkeypatch, choice, live, ticks):
    import streamlit as st

    from ui import freshness

    fragments = []
    monkeypatch.setattr(st, "session_state", {} if live is None else {freshness.LIVE_KEY: live})
    monkeypatch.setattr(
        st, "fragment", lambda func, run_every: fragments.append(run_every) or (lambda *a: None)
    )
    monkeypatch.setattr(freshness, "_draw", lambda *a: None)
    monkeypatch.setenv(source.REFRESH_VAR, "7")
    freshness.show(choice, _entry())
    assert fragments == ([7.0] if ticks else [])


@pytest.mark.parametrize("own_run", [False, True])
def test_only_the_lines_own_run_looks_for_new_data(monkeypatch, own_run):
    """In the page's run the line draws the entry the page loaded: that run has started its check
    already and must not wait for it. The fragment's timer runs ask the cache and may wait."""
    from ui import freshness

    database = Choice("sidebar", "/data/a.db", "a.db", "k")
    entry, asked, drawn = _entry(store="store"), [], []
    ctx = SimpleNamespace(fragment_ids_this_run=["line"] if own_run else None)
    monkeypatch.setattr(freshness, "get_script_run_ctx", lambda: ctx)
    monkeypatch.setattr(source, "current", lambda choice: asked.append(choice) or entry)
    monkeypatch.setattr(freshness, "_draw", lambda choice, shown: drawn.append(shown))
    freshness._live(database, entry, entry.store, entry.changed_at)
    assert asked == ([database] if own_run else []) and drawn == [entry]
