"""Refreshing a source reads what changed: nothing when nothing did, the new rows when rows were
appended, everything when the history changed; and every figure equals a full reload's."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from bench import generate
from bench.refresh import append_calls
from data_layer import model
from data_layer.refresh import open_watched, refresh
from data_layer.sources import cylestio, open_source
from data_layer.sources.database import Database
from data_layer.store import Store
from data_layer.tables import ROLLUPS
from tests.builders.agent_platform_db import PlatformData
from tests.builders.dashboard_db import DashboardData
from tests.builders.sentinel_db import SentinelData
from tests.test_pushdown import QUERIES, System, _same

FLEET = System(
    write=lambda url: url,
    adapter=cylestio.ADAPTER,
    t0=pd.Timestamp(generate.START).tz_localize("UTC").to_pydatetime(),
    agents=("agent-1", "agent-2"),
    models=("gpt-4o", "in-house-70b"),
    sessions=("2", "5"),
    timeline="3",
)


def _no_progress(_message: str, _fraction: float | None) -> None:
    pass


class Reloads:
    """The ``reload`` a refresh falls back on, counting how often it is asked to read in full."""

    def __init__(self, source: str | Path) -> None:
        self.source, self.count = source, 0

    def __call__(self) -> Store:
        self.count += 1
        return open_source(self.source)


@pytest.fixture(scope="module")
def seed_db(tmp_path_factory) -> Path:
    return generate.write_sqlite(generate.fleet(3000, seed=5), tmp_path_factory.mktemp("seed") / "c.db")


@pytest.fixture
def source(seed_db: Path, tmp_path: Path) -> Path:
    return Path(shutil.copyfile(seed_db, tmp_path / "c.db"))


def _assert_same_as_full_load(store: Store, source: str | Path, *, queries: bool = False) -> None:
    """Every model table, every rollup, the facts and the reading report of ``store`` (and with
    ``queries`` every query function's frame) equal those of a store loaded from scratch."""
    full = open_source(source)
    assert store.row_counts() == full.row_counts()
    for name in model.TABLES:
        _same(store.frame(name), full.frame(name))
    for name in ROLLUPS:
        order = "order by all"
        _same(store.execute(f"select * from {name} {order}"), full.execute(f"select * from {name} {order}"))
    assert store.time_span() == full.time_span()
    assert store.filter_options() == full.filter_options()
    for name, query in QUERIES.items() if queries else ():
        for f in FLEET.filters():
            args = (store, f, FLEET) if name in ("kpis", "what_changed", "timeline") else (store, f)
            again = (full, *args[1:])
            _same(query(*args), query(*again))
    assert store.info.source_tables == full.info.source_tables
    assert store.info.source_events == full.info.source_events
    assert store.info.report.read == full.info.report.read
    assert store.info.report.skipped == full.info.report.skipped


def test_an_unchanged_file_is_not_read_at_all(source, monkeypatch):
    store, reload = open_watched(source), Reloads(source)
    monkeypatch.setattr(Database, "__init__", _refused)
    assert refresh(store, reload, _no_progress) == (store, False)
    assert reload.count == 0


def _refused(*_args, **_kwargs):
    raise AssertionError("the source was opened")


@pytest.mark.parametrize("recent", [True, False], ids=["new_hours", "old_hours"])
def test_appended_rows_are_read_alone_and_every_figure_equals_a_full_load(source, recent):
    store, reload = open_watched(source), Reloads(source)
    before = store.row_counts()
    append_calls(source, 400, seed=11, recent=recent)
    refreshed, changed = refresh(store, reload, _no_progress)
    assert refreshed is store and changed and reload.count == 0
    assert store.row_counts()["llm_calls"] == before["llm_calls"] + 400
    _assert_same_as_full_load(store, source, queries=True)


def test_a_database_url_that_did_not_change_costs_only_its_watermarks(source, monkeypatch):
    url = f"sqlite:///{source}"
    store, reload = open_watched(url), Reloads(url)
    read = []
    monkeypatch.setattr(Database, "read_arrow", lambda *a, **k: read.append(a))
    assert refresh(store, reload, _no_progress) == (store, False)
    assert read == [] and reload.count == 0


def test_appends_through_a_url_then_twice_more_stay_equal_to_a_full_load(source):
    url = f"sqlite:///{source}"
    store, reload = open_watched(url), Reloads(url)
    for seed in (21, 22, 23):
        append_calls(source, 150, seed=seed)
        assert refresh(store, reload, _no_progress) == (store, True)
    assert reload.count == 0
    _assert_same_as_full_load(store, url, queries=True)


@pytest.mark.parametrize(
    "rewrite",
    [
        "delete from llm_calls where id in (select id from llm_calls limit 5)",
        "delete from llm_calls where id = (select max(id) from llm_calls)",
        "drop table performance_metrics",
        "update llm_calls set id = id + 1000000 where id = (select min(id) from llm_calls)",
    ],
    ids=["rows_deleted", "last_row_deleted", "table_dropped", "id_moved"],
)
def test_a_source_whose_history_changed_is_read_in_full(source, rewrite):
    store, reload = open_watched(source), Reloads(source)
    with closing(sqlite3.connect(source)) as con:
        con.execute(rewrite)
        con.commit()
    refreshed, changed = refresh(store, reload, _no_progress)
    assert refreshed is not store and changed and reload.count == 1
    _assert_same_as_full_load(refreshed, source)


def test_a_name_the_store_has_never_seen_widens_its_column_and_is_appended(source):
    """A new model, tool or agent is not in the ENUMs the store was built with: they grow."""
    store, reload = open_watched(source), Reloads(source)
    append_calls(source, 50, seed=31)
    with closing(sqlite3.connect(source)) as con:
        con.execute(
            "update llm_calls set model = 'brand-new-model' where id = (select max(id) from llm_calls)"
        )
        con.execute(
            "update tool_calls set tool_name = 'a-new-tool' where id = (select max(id) from tool_calls)"
        )
        con.commit()
    assert refresh(store, reload, _no_progress) == (store, True)
    assert reload.count == 0
    assert "brand-new-model" in store.filter_options()["models"]
    _assert_same_as_full_load(store, source)


def test_an_ended_session_and_an_agent_seen_again_replace_their_rows(source):
    store, reload = open_watched(source), Reloads(source)
    with closing(sqlite3.connect(source)) as con:
        con.execute("update sessions set end_time = '2031-01-01 00:00:00.000000' where id = 7")
        con.execute("update agents set last_seen = '2031-01-01 00:00:00', name = 'Renamed' where id = 2")
        con.commit()
    assert refresh(store, reload, _no_progress) == (store, True)
    assert reload.count == 0
    _assert_same_as_full_load(store, source)


def test_rows_arriving_during_the_load_make_the_next_change_a_full_read(source, monkeypatch):
    """The watermarks bracket the load; when they moved, which rows it read is unknown."""
    import data_layer.refresh as refreshing

    real = refreshing.open_source

    def load_then_append(*args, **kwargs):
        store = real(*args, **kwargs)
        append_calls(source, 20, seed=41)
        return store

    monkeypatch.setattr(refreshing, "open_source", load_then_append)
    store = open_watched(source)
    monkeypatch.setattr(refreshing, "open_source", real)
    assert store.origin.marks is None
    reload = Reloads(source)
    refreshed, _ = refresh(store, reload, _no_progress)
    assert reload.count == 1
    _assert_same_as_full_load(refreshed, source)


def test_a_query_running_during_an_append_sees_all_of_it_or_none(source):
    """The rows and the rollups change in one transaction: within one statement they agree."""
    store = open_watched(source)
    append_calls(source, 2000, seed=51)
    agree = "select (select count(*) from llm_calls) = (select sum(calls) from llm_calls_hourly)"
    seen, done = [], threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.append(bool(store.execute(agree).iloc[0, 0]))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert refresh(store, Reloads(source), _no_progress) == (store, True)
    finally:
        done.set()
        watcher.join()
    assert seen and all(seen)


def test_kept_facts_and_the_reading_report_follow_an_append(source):
    store = open_watched(source)
    counts, (first, last) = store.row_counts(), store.time_span()  # kept by SourceFacts
    read = store.info.report.records
    append_calls(source, 100, seed=61)
    refresh(store, Reloads(source), _no_progress)
    assert store.row_counts()["llm_calls"] == counts["llm_calls"] + 100
    assert store.time_span()[0] == first and store.time_span()[1] > last
    assert store.time_span()[1] < last + timedelta(hours=2)
    assert store.info.source_tables["llm_calls"] == counts["llm_calls"] + 100
    assert store.info.report.records > read


def test_notebook_cells_read_the_rows_a_refresh_appended(source):
    """Cells run over Arrow copies of the model tables kept per store: a store that grew in
    place must not keep answering from the copy made before."""
    from data_layer.filters import Filters
    from data_layer.notebook.runner import DuckDBCells

    store = open_watched(source)
    cells = DuckDBCells(store)
    count = "select count(*) as n from llm_calls"
    before = int(cells.run(count, Filters()).frame["n"][0])
    append_calls(source, 100, seed=62)
    refresh(store, Reloads(source), _no_progress)
    assert int(cells.run(count, Filters()).frame["n"][0]) == before + 100


@pytest.mark.parametrize(
    ("builder", "system"),
    [
        (lambda: DashboardData.generate(seed=3), "monitoring-dashboard"),
        (lambda: SentinelData.generate(seed=3, samples=60), "sentinel"),
        (lambda: PlatformData.generate(seed=3), "agent-platform"),
    ],
    ids=["dashboard", "sentinel", "platform"],
)
def test_other_systems_are_checked_cheaply_and_read_in_full_when_changed(tmp_path, builder, system):
    """Without an incremental reader, a database still costs nothing when it did not change."""
    path = builder().write_sqlite(tmp_path / "other.db")
    url = f"sqlite:///{path}"
    store, reload = open_watched(url), Reloads(url)
    assert store.origin.system == system and store.origin.marks
    assert refresh(store, reload, _no_progress) == (store, False)
    with closing(sqlite3.connect(path)) as con:
        table = next(t for t in sorted(store.origin.marks) if store.origin.marks[t].rows)
        con.execute(f"delete from {table} where rowid = (select min(rowid) from {table})")
        con.commit()
    refreshed, changed = refresh(store, reload, _no_progress)
    assert refreshed is not store and changed and reload.count == 1


def test_a_changed_export_file_is_read_in_full(tmp_path):
    path = tmp_path / "calls.jsonl"
    row = '{"timestamp": "2025-01-01T00:00:00Z", "model": "gpt-4o", "input_tokens": 3, "output_tokens": 4}\n'
    path.write_text(row)
    store, reload = open_watched(path), Reloads(path)
    assert refresh(store, reload, _no_progress) == (store, False)
    path.write_text(row * 2)
    refreshed, changed = refresh(store, reload, _no_progress)
    assert refreshed is not store and changed and reload.count == 1
    assert refreshed.row_counts()["llm_calls"] == 2


@pytest.mark.postgres
def test_appended_rows_in_postgresql_are_read_alone_and_equal_a_full_load(make_pg_database):
    url = generate.write_postgres(generate.fleet(2000, seed=8), make_pg_database("refresh"))
    store, reload = open_watched(url), Reloads(url)
    assert refresh(store, reload, _no_progress) == (store, False)
    append_calls(url, 300, seed=71)
    assert refresh(store, reload, _no_progress) == (store, True)
    assert reload.count == 0
    _assert_same_as_full_load(store, url, queries=True)
