"""The Explore and Dashboard pages through app.py with AppTest, as a user works with a notebook."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from data_layer.filters import Filters
from data_layer.notebook import document
from data_layer.notebook.runner import DuckDBCells
from data_layer.notebook.state import NotebookStore
from data_layer.sources import open_source
from tests.builders.cylestio_db import CylestioData
from tests.conftest import ROOT

QUERY = (
    "select agent, count(*) as calls, sum(cost_usd) as cost_usd from llm_calls group by agent order by agent"
)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("explore") / "cylestio.db"
    CylestioData.generate(seed=21, calls=300).write_sqlite(path)
    return str(path)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENTWATCH_HOME", str(tmp_path))
    return tmp_path


def open_page(source: str, page: str = "explore", *, url: dict | None = None, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets["connections"] = {"agentwatch": {"url": source}}
    at.session_state["range"] = "All"
    for key, value in state.items():
        at.session_state[key] = value
    for key, value in (url or {}).items():
        at.query_params[key] = value
    return at.switch_page(f"pages/{page}.py").run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def new_cell(at: AppTest, sql: str) -> tuple[AppTest, str]:
    """Add a SQL cell at the end, type ``sql`` and commit it (what Ctrl+Enter does); its id."""
    before = {t.key for t in at.text_area}
    ok(at.button(key="add-sql").click().run())
    (key,) = {t.key for t in at.text_area} - before
    ok(at.text_area(key=key).input(sql).run())
    return at, key.removeprefix("sql-")


def cell_frames(at: AppTest, *columns: str):
    """The result tables shown with exactly these columns (AppTest does not expose table keys)."""
    return [d.value for d in at.dataframe if list(d.value.columns) == list(columns)]


RESULT = ("agent", "calls", "cost_usd")


def test_explore_opens_the_starter_notebook_with_its_three_results(home, source):
    at = ok(open_page(source))
    assert at.title[0].value == "Explore"
    notebook_id = at.query_params["notebook"]
    nb = NotebookStore(home).get(notebook_id)
    assert nb.name == "Starter notebook"
    assert len([c for c in nb.cells if c.kind == "sql"]) == 3
    assert len(at.get("plotly_chart")) == 3 and not at.error


def test_a_new_cell_runs_and_shows_its_table_and_chart_and_a_filter_change_reruns_it(home, source):
    at = ok(open_page(source))
    at, cell_id = new_cell(at, QUERY)
    (frame,) = cell_frames(at, *RESULT)
    want = DuckDBCells(open_source(source)).run(QUERY, Filters()).frame
    assert frame["agent"].tolist() == want["agent"].tolist()
    assert frame["calls"].tolist() == want["calls"].tolist()
    assert f"chart-{cell_id}" in {c.key for c in at.get("plotly_chart")}
    # The chart was picked from the types: bars of agent by calls; the user makes it cost.
    assert at.selectbox(key=f"chart-kind-{cell_id}").value == "bar"
    assert at.selectbox(key=f"chart-x-{cell_id}").value == "agent"
    ok(at.selectbox(key=f"chart-y-{cell_id}").select("cost_usd").run())
    nb = NotebookStore(home).get(at.query_params["notebook"])
    assert nb.cell(cell_id).chart.y == "cost_usd"

    first = want["agent"].iloc[0]
    ok(at.multiselect(key="agents").select(first).run())
    (frame,) = cell_frames(at, *RESULT)
    assert frame["agent"].tolist() == [first]

    ok(at.toggle(key=f"unfiltered-{cell_id}").set_value(True).run())
    (frame,) = cell_frames(at, *RESULT)
    assert frame["agent"].tolist() == want["agent"].tolist()


def test_a_failing_cell_shows_one_line_and_the_others_still_run(home, source):
    at = ok(open_page(source))
    charts = len(at.get("plotly_chart"))
    for bad in (
        "select nope from llm_calls",
        "select * from read_text('/etc/hostname')",
        "drop table llm_calls",
    ):
        at, _ = new_cell(at, bad)
    errors = [e.value for e in at.error]
    assert len(errors) == 3 and all("\n" not in e for e in errors)
    assert "nope" in errors[0] and "read_text" in errors[1] and "DROP" in errors[2]
    assert len(at.get("plotly_chart")) == charts  # the starter's cells still drew theirs
    at, _ = new_cell(at, "select 1 as one")
    assert cell_frames(at, "one")[0]["one"].tolist() == [1]


def test_a_slow_cell_is_stopped_and_the_session_goes_on(home, source, monkeypatch):
    monkeypatch.setenv("AGENTWATCH_CELL_TIMEOUT_S", "0.5")
    at = ok(open_page(source))
    at, _ = new_cell(at, "select sum(a.range * b.range) as s from range(200000) a, range(200000) b")
    assert any("stopped" in e.value and "0.5 s" in e.value for e in at.error)
    at, _ = new_cell(at, "select 2 as two")
    assert cell_frames(at, "two")[0]["two"].tolist() == [2]


def test_cells_move_duplicate_and_delete(home, source):
    at = ok(open_page(source))
    store = NotebookStore(home)
    nb = store.get(at.query_params["notebook"])
    second, third = nb.cells[1].id, nb.cells[2].id
    ok(at.button(key=f"down-{second}").click().run())
    assert [c.id for c in store.get(nb.id).cells][1:3] == [third, second]
    ok(at.button(key=f"dup-{third}").click().run())
    assert len(store.get(nb.id).cells) == len(nb.cells) + 1
    ok(at.button(key=f"del-{third}").click().run())
    assert third not in [c.id for c in store.get(nb.id).cells]


def test_a_pinned_chart_is_on_the_dashboard_rerun_with_the_filters_and_links_back(home, source):
    at = ok(open_page(source))
    at, cell_id = new_cell(at, QUERY)
    ok(at.button(key=f"pin-{cell_id}").click().run())
    notebook_id = at.query_params["notebook"]
    assert NotebookStore(home).is_pinned(notebook_id, cell_id)

    dash = ok(open_page(source, "dashboard"))
    assert dash.title[0].value == "Dashboard" and not dash.error
    (chart,) = [c for c in dash.get("plotly_chart") if c.key == f"pin-chart-{cell_id}"]
    agents = {t["name"] for t in json.loads(chart.proto.spec)["data"]}
    (link,) = [p.proto for p in dash.get("page_link") if f"cell={cell_id}" in p.proto.query_string]
    assert f"notebook={notebook_id}" in link.query_string and link.page.endswith("explore")

    one = sorted(agents)[0]
    narrowed = ok(open_page(source, "dashboard", agents=[one]))
    (chart,) = [c for c in narrowed.get("plotly_chart") if c.key == f"pin-chart-{cell_id}"]
    assert {t["name"] for t in json.loads(chart.proto.spec)["data"]} == {one}


def test_a_notebook_is_saved_and_opens_again_from_its_link(home, source):
    at = ok(open_page(source))
    at, cell_id = new_cell(at, QUERY)
    notebook_id = at.query_params["notebook"]
    again = ok(open_page(source, url={"notebook": notebook_id}))  # a new session, as a shared link
    assert again.query_params["notebook"] == notebook_id
    assert again.text_area(key=f"sql-{cell_id}").value == QUERY
    assert len(cell_frames(again, *RESULT)) == 1


def test_rename_new_and_delete_notebooks(home, source):
    at = ok(open_page(source))
    first = at.query_params["notebook"]
    ok(at.text_input(key="notebook-name").input("Latency digging").run())
    assert NotebookStore(home).get(first).name == "Latency digging"
    ok(at.button(key="nb-new").click().run())
    second = at.query_params["notebook"]
    assert second != first and len(NotebookStore(home).list()) == 2
    ok(at.checkbox(key="nb-delete-sure").check().run())
    ok(at.button(key="nb-delete").click().run())
    assert NotebookStore(home).get(second) is None
    assert at.query_params["notebook"] == first


def test_a_downloaded_notebook_opens_and_a_bad_file_gets_one_line(home, source):
    at = ok(open_page(source))
    nb = NotebookStore(home).get(at.query_params["notebook"])
    ok(at.file_uploader(key="nb-upload").upload("broken.json", b"{not json", "application/json").run())
    assert [e.value for e in at.error] == [
        "This file is not a notebook (not JSON text). Open a file downloaded from the Explore page."
    ]
    assert at.query_params["notebook"] == nb.id  # still on the same notebook, still usable
    at = ok(open_page(source, url={"notebook": nb.id}))
    ok(at.file_uploader(key="nb-upload").upload("mine.json", document.to_file(nb), "application/json").run())
    opened = at.query_params["notebook"]
    assert opened != nb.id
    assert [c.source for c in NotebookStore(home).get(opened).cells] == [c.source for c in nb.cells]


@pytest.mark.postgres
def test_explore_on_a_source_queried_in_postgresql_runs_its_cells_there(home, make_pg_database, monkeypatch):
    import data_layer.sources

    monkeypatch.setattr(data_layer.sources, "PUSHDOWN_ROWS", 0)  # every PostgreSQL source is pushed down
    url = CylestioData.generate(seed=22).write_postgres(make_pg_database("explore"))
    at = ok(open_page(url))
    assert not at.error, [e.value for e in at.error]
    assert any("inside the PostgreSQL source" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 3  # the starter's three cells ran in PostgreSQL
    median = "select percentile_cont(0.5) within group (order by latency_ms) as p50 from llm_calls"
    at, _ = new_cell(at, median)
    assert len(cell_frames(at, "p50")) == 1
    at, _ = new_cell(at, "select pg_read_file('/etc/hostname')")
    assert any("not allowed" in e.value for e in at.error)


def test_a_long_result_says_how_many_rows_were_left_out(home, source):
    at = ok(open_page(source))
    at, _ = new_cell(at, "select range as n from range(25000)")
    assert len(cell_frames(at, "n")[0]) == 10_000
    assert any(
        c.value.startswith("25,000 rows") and "15,000 left out" in c.value and "download has all" in c.value
        for c in at.caption
    )
