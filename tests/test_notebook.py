"""Notebooks in the data layer: cells run over the filtered model, the starter equals the pages'
figures, results are limited and timed, notebooks are saved, downloaded and opened again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, timedelta

import pandas as pd
import psycopg
import pytest

from data_layer import queries
from data_layer.filters import Filters
from data_layer.notebook import charting, document, starter
from data_layer.notebook.document import BadNotebookFile, Cell, ChartSpec, Notebook
from data_layer.notebook.runner import KEEP_ROWS, CellFailed, CellTimedOut, DuckDBCells, cell_database
from data_layer.notebook.safety import CellRefused, CheckedQuery
from data_layer.notebook.state import NotebookStore
from data_layer.sources import open_source
from tests.builders.cylestio_db import START, CylestioData
from tests.conftest import ROOT

T0 = START.replace(tzinfo=UTC)
FILTERS = [
    Filters(),
    Filters(start=T0 + timedelta(hours=9, minutes=13), end=T0 + timedelta(days=2, hours=5, minutes=7)),
    Filters(agents=("support-bot", "coder"), models=("gpt-4o", "acme-internal-llm")),
    Filters(sessions=("2", "5"), severities=("high", "critical")),
]
FILE = {"format": "agentwatch-notebook", "version": 1}
FILTER_IDS = ["all", "window", "agents_models", "sessions_severities"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("nb") / "cylestio.db"
    CylestioData.generate(seed=12, calls=400).write_sqlite(path)
    return open_source(str(path))


@pytest.fixture(scope="module")
def cells(store) -> DuckDBCells:
    return DuckDBCells(store)


def _sql(title: str) -> str:
    return next(c.source for c in starter.starter().cells if c.title == title)


def _numbers_equal(left: pd.Series, right: pd.Series) -> None:
    pd.testing.assert_series_equal(
        left.astype("float64").reset_index(drop=True),
        right.astype("float64").reset_index(drop=True),
        check_exact=False,
        rtol=1e-9,
        check_names=False,
    )


def _text_equal(left: pd.Series, right: pd.Series) -> None:
    assert left.astype("string").fillna("<NA>").tolist() == right.astype("string").fillna("<NA>").tolist()


@pytest.mark.parametrize("f", FILTERS, ids=FILTER_IDS)
def test_starter_cost_per_day_equals_the_cost_page(cells, store, f):
    got = cells.run(_sql("Cost per day by model"), f).frame
    want = queries.llm_usage(store, f, bucket="day", by="model")
    want = want[want["calls"] > 0].sort_values(["bucket", "model"], na_position="last")
    assert len(got) == len(want)
    assert len(want) > 0 or f.sessions
    _text_equal(got["day"], want["bucket"])
    _text_equal(got["model"], want["model"])
    _numbers_equal(got["cost_usd"], want["cost_usd"])


@pytest.mark.parametrize("f", FILTERS, ids=FILTER_IDS)
def test_starter_p95_by_model_equals_the_latency_page(cells, store, f):
    got = cells.run(_sql("p95 latency by model"), f).frame
    want = queries.llm_latency(store, f, by="model").sort_values("model", na_position="last")
    assert len(got) == len(want)
    _text_equal(got["model"], want["model"])
    _numbers_equal(got["p95_ms"], want["p95"])
    _numbers_equal(got["calls_with_latency"], want["calls_with_latency"])


@pytest.mark.parametrize("f", FILTERS, ids=FILTER_IDS)
def test_starter_alerts_by_severity_equals_the_security_page(cells, store, f):
    got = cells.run(_sql("Alerts by severity"), f).frame
    want = queries.alert_counts(store, f, by="severity")
    assert len(got) == len(want)
    merged = got.astype({"severity": "string"}).merge(want.astype({"severity": "string"}), on="severity")
    assert len(merged) == len(want)
    _numbers_equal(merged["alerts_x"], merged["alerts_y"])


def test_a_cell_sees_only_what_the_global_filters_select(cells, store):
    f = Filters(agents=("coder",))
    got = cells.run("select distinct agent from llm_calls", f).frame
    assert got["agent"].tolist() == ["coder"]
    everything = cells.run("select count(*) as n from llm_calls", Filters()).frame["n"].iloc[0]
    assert everything == store.row_counts()["llm_calls"]


def test_a_cell_cannot_see_rollups_internal_tables_or_the_store(cells):
    for sql in (
        "select * from llm_calls_hourly",
        "select * from _llm_calls",
        "select * from tool_calls_hourly",
    ):
        with pytest.raises(CellRefused, match="Unknown table"):
            cells.run(sql, Filters())
    # Past the parser too: the cell database holds no table at all; a run's cursor sees only
    # the model tables its query reads, registered on that cursor.
    cells.run("select count(*) from llm_calls", Filters())
    with cell_database().cursor() as cur:
        assert cur.execute("select table_name from information_schema.tables").fetchall() == []
        assert cur.execute("select count(*) from duckdb_databases() where not internal").fetchone()[0] == 1


def test_the_week_over_week_example_runs_and_names_one_agent_per_model(cells):
    frame = cells.run(starter.P95_GROWTH, Filters()).frame
    assert list(frame.columns) == ["model", "agent", "growth_ms", "p95_last_week_ms", "p95_this_week_ms"]
    assert frame["model"].is_unique


def test_results_keep_ten_thousand_rows_and_say_how_many_were_left_out(cells):
    result = cells.run("select range as n from range(25000)", Filters())
    assert len(result.frame) == KEEP_ROWS
    assert result.total_rows == 25_000 and result.rows_left_out == 15_000
    assert len(cells.all_rows("select range as n from range(25000)", Filters())) == 25_000


def test_a_slow_cell_is_interrupted_and_the_next_one_runs(cells):
    slow = "select sum(a.range * b.range) from range(200000) a, range(200000) b"
    with pytest.raises(CellTimedOut, match="stopped"):
        cells.run(slow, Filters(), limit_s=0.5)
    assert cells.run("select 42 as answer", Filters()).frame["answer"].iloc[0] == 42


def test_a_failing_cell_says_one_line(cells):
    with pytest.raises(CellFailed) as err:
        cells.run("select no_such_column from llm_calls", Filters())
    assert "\n" not in str(err.value) and "no_such_column" in str(err.value)


def test_times_come_back_utc_and_missing_stays_missing(cells):
    frame = cells.run("select ts, cast(null as bigint) as n from llm_calls limit 1", Filters()).frame
    assert str(frame["ts"].dt.tz) == "UTC"
    assert frame["n"].dtype == "Int64" and frame["n"].isna().all()


def test_columns_stored_as_enums_are_text_in_a_cell(cells, store):
    """The store keeps agent and model as ENUMs; a cell sees, compares and returns them as text."""
    sql = "select agent, model, agent || '/' || model as pair, typeof(model) as t from llm_calls"
    frame = cells.run(sql + " where model like '%' order by 1, 2 limit 1", Filters()).frame
    assert frame["t"].iloc[0] == "VARCHAR"
    assert pd.api.types.is_string_dtype(frame["agent"]) and pd.api.types.is_string_dtype(frame["model"])
    stored = store.execute("select typeof(agent) a, typeof(model) m from llm_calls limit 1")
    assert stored["a"].iloc[0].startswith("ENUM") and stored["m"].iloc[0].startswith("ENUM")
    first = store.execute("select agent::varchar a, model::varchar m from llm_calls order by 1, 2 limit 1")
    assert frame["pair"].iloc[0] == f"{first['a'].iloc[0]}/{first['m'].iloc[0]}"


@pytest.mark.parametrize(
    ("frame", "kind", "x", "y", "color"),
    [
        (
            pd.DataFrame({"day": pd.to_datetime(["2025-01-01"], utc=True), "model": ["m"], "usd": [1.0]}),
            "line", "day", "usd", "model",
        ),
        (pd.DataFrame({"agent": ["a"], "calls": [3]}), "bar", "agent", "calls", None),
        (pd.DataFrame({"latency_ms": [1.0, 2.0]}), "histogram", "latency_ms", None, None),
        (pd.DataFrame({"tokens": [1, 2], "usd": [0.1, 0.2]}), "scatter", "tokens", "usd", None),
        (pd.DataFrame({"agent": ["a"], "model": ["m"]}), "none", None, None, None),
    ],
)  # fmt: skip
def test_chart_is_picked_from_the_result_types(frame, kind, x, y, color):
    assert charting.infer(frame) == ChartSpec(kind=kind, x=x, y=y, color=color)


def test_a_saved_chart_whose_columns_went_away_falls_back_to_the_pick():
    frame = pd.DataFrame({"agent": ["a"], "calls": [3]})
    assert charting.resolve(ChartSpec(kind="line", x="day", y="usd"), frame) == charting.infer(frame)
    kept = ChartSpec(kind="area", x="agent", y="calls")
    assert charting.resolve(kept, frame) == kept


def test_notebooks_are_saved_listed_renamed_and_deleted(tmp_path):
    state = NotebookStore(tmp_path / "home")
    nb = state.save(starter.starter())
    assert (tmp_path / "home" / "state.db").exists()
    assert state.get(nb.id) == nb
    state.rename(nb.id, "Mine")
    assert [name for _, name, _ in state.list()] == ["Mine"]
    cell = nb.cells[1]
    state.pin(nb.id, cell.id)
    state.pin(nb.id, cell.id)
    assert [p.cell_id for p in state.pins()] == [cell.id]
    state.save(nb.with_cells([c for c in nb.cells if c.id != cell.id]))
    assert state.pins() == []  # the deleted cell's pin went with it
    state.delete(nb.id)
    assert state.get(nb.id) is None and state.list() == []


def test_notebooks_survive_a_new_process(tmp_path):
    state = NotebookStore(tmp_path)
    nb = state.save(Notebook(name="kept", cells=(Cell(kind="sql", source="select 1 as one"),)))
    code = (
        "import sys; from pathlib import Path; from data_layer.notebook.state import NotebookStore;"
        "nb = NotebookStore(Path(sys.argv[1])).get(sys.argv[2]); print(nb.name, nb.cells[0].source)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), nb.id],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert out.stdout.strip() == "kept select 1 as one"


def test_a_downloaded_notebook_opens_again_with_a_new_id():
    nb = starter.starter()
    opened = document.from_file(document.to_file(nb))
    assert opened.id != nb.id
    assert [(c.kind, c.source, c.chart, c.title) for c in opened.cells] == [
        (c.kind, c.source, c.chart, c.title) for c in nb.cells
    ]


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not JSON"),
        (b"[1, 2, 3]", "not an Agentwatch notebook"),
        (json.dumps({"format": "agentwatch-notebook", "version": 99, "cells": []}).encode(), "version"),
        (json.dumps({"format": "agentwatch-notebook", "version": 1, "cells": "x"}).encode(), "not a list"),
        (json.dumps({**FILE, "cells": [{"kind": "py", "source": ""}]}).encode(), "Cell 1"),
        (json.dumps({**FILE, "cells": [{"kind": "sql"}]}).encode(), "no text"),
        (b"{" * 10, "not JSON"),
        (b" " * (document.MAX_FILE_BYTES + 1), "MB"),
    ],
)  # fmt: skip
def test_a_bad_notebook_file_is_refused_in_one_line(data, hint):
    with pytest.raises(BadNotebookFile) as err:
        document.from_file(data)
    assert hint in str(err.value) and "\n" not in str(err.value)


# --- cells on a source queried in the database ------------------------------------------------


@pytest.fixture(scope="module")
def pushed(make_pg_database):
    from data_layer.notebook.pushdown import PostgresCells
    from data_layer.pushdown import PushdownBackend
    from data_layer.sources import cylestio
    from data_layer.sources.database import Database

    url = CylestioData.generate(seed=9).write_postgres(make_pg_database("notebook"))
    with psycopg.connect(url, autocommit=True) as con:  # for the read-only proof below
        con.execute("create sequence cell_seq")
    store = open_source(url)
    return store, PostgresCells(PushdownBackend(Database(url), cylestio, store.info))


@pytest.mark.postgres
@pytest.mark.parametrize("f", FILTERS, ids=FILTER_IDS)
def test_starter_cells_give_the_same_result_inside_postgresql(pushed, f):
    store, pg = pushed
    local = DuckDBCells(store)
    for cell in starter.starter().cells:
        if cell.kind != "sql":
            continue
        a, b = pg.run(cell.source, f).frame, local.run(cell.source, f).frame
        assert list(a.columns) == list(b.columns) and len(a) == len(b), cell.title
        for col in a.columns:
            if pd.api.types.is_numeric_dtype(a[col]):
                _numbers_equal(a[col], b[col])
            else:
                _text_equal(a[col], b[col])


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "select pg_read_file('/etc/hostname')",
        "select * from pg_ls_dir('.')",
        "select set_config('default_transaction_read_only', 'off', false)",
        "select query_to_xml('select 1', true, true, '')",
        "select * from pg_catalog.pg_authid",
        "select * from public.cylestio_events",
        "select lo_import('/etc/hostname')",
        "select * from dblink('host=x', 'select 1') as t(x int)",
        "delete from llm_calls",
        "select 1; select 2",
    ],
)
def test_server_functions_and_source_tables_are_refused_in_postgresql(pushed, sql):
    _, pg = pushed
    with pytest.raises(CellRefused):
        pg.run(sql, Filters())
    assert pg.run("select count(*) as n from llm_calls", Filters()).frame["n"].iloc[0] > 0


@pytest.mark.postgres
def test_a_cell_in_postgresql_is_read_only_and_stopped_at_the_time_limit(pushed):
    _, pg = pushed
    with pytest.raises(CellTimedOut, match="stopped"):
        pg.run("select count(*) from generate_series(1, 500000000)", Filters(), limit_s=0.3)
    with pytest.raises(CellFailed, match="read-only"):  # past the parser: the transaction refuses
        pg._fetch(CheckedQuery(sql="select nextval('cell_seq')", tables=frozenset()), Filters(), 5, 10)
    frame = pg.run("select 'a:b' as colon, '50%' as percent", Filters()).frame
    assert frame.iloc[0].tolist() == ["a:b", "50%"]


def test_cells_move_duplicate_and_delete_within_the_notebook():
    a, b, c = (Cell(kind="sql", source=f"select {n}") for n in range(3))
    nb = Notebook(name="n", cells=(a, b, c))
    assert [x.id for x in nb.moved(c.id, -1).cells] == [a.id, c.id, b.id]
    assert [x.id for x in nb.moved(a.id, -1).cells] == [a.id, b.id, c.id]  # already first
    assert [x.id for x in nb.moved(c.id, +1).cells] == [a.id, b.id, c.id]  # already last
    copy = nb.duplicated(a.id)
    assert [x.source for x in copy.cells] == ["select 0", "select 0", "select 1", "select 2"]
    assert len({x.id for x in copy.cells}) == 4
    assert [x.id for x in nb.without(b.id).cells] == [a.id, c.id]
