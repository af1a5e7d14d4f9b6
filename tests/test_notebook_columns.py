"""A cell is given only the columns its SQL names, and answers exactly as with every column.

The runner exports, per table a cell reads, the columns named anywhere in its SQL
(``safety._names``), or every column when the query may read columns it does not name. Each
query below runs both ways on the same store and filters; the frames (or the one-line errors)
must be the same. The queries are the starter's, the schema panel's examples, and the shapes
where a column is read without being named or a name could bind elsewhere.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, timedelta

import pandas as pd
import pytest

from data_layer.filters import Filters
from data_layer.notebook import runner, starter
from data_layer.notebook.runner import CellFailed, DuckDBCells, columns_read
from data_layer.notebook.safety import check
from data_layer.sources import open_source
from tests.builders.cylestio_db import START, CylestioData

T0 = START.replace(tzinfo=UTC)
FILTERS = {
    "all": Filters(),
    "window_agents": Filters(
        start=T0 + timedelta(hours=9), end=T0 + timedelta(days=2), agents=("support-bot", "coder")
    ),
}

QUERIES = {
    **{f"example: {title}": sql for title, sql in starter.EXAMPLES.items()},
    "count only": "select count(*) as n from llm_calls",
    "count of a table without time": "select count(*) as n from agents",
    "join using": "select c.model, count(*) as n from llm_calls c join tool_calls t using (session)"
    " group by all order by 1",
    "correlated subquery, bare name": "select session, (select count(*) from tool_calls"
    " where tool_calls.session = llm_calls.session and latency_ms > 0) as tools"
    " from llm_calls order by 1, 2 limit 50",
    "star": "select * from alerts order by alert_id limit 5",
    "columns()": "select columns('tokens_.*') from llm_calls order by 1, 2 limit 5",
    "order by all (a star to the parser)": "select model, ts from llm_calls order by all limit 5",
    "a table's row as a value": "select to_json(a) as agent from agents a order by 1",
    "a table's row by its name": "select to_json(llm_calls) as row from llm_calls order by 1 limit 3",
    "positional reference": "select #2 as second from agents order by 1",
    "natural join (on every shared column)": "select count(*) as n from llm_calls a natural join llm_calls b",
    "pivot (grouped by the columns it does not name)": 'select model, "support-bot" as cost'
    " from llm_calls pivot (sum(cost_usd) for agent in ('support-bot')) order by 1, 2",
    "lambda": "select list_transform([1, 2], x -> x + 1) as l, count(*) as n from llm_calls group by 1",
    "quoted, upper case": 'select "MODEL", count("TS") as n from llm_calls group by 1 order by 1',
    "order by an alias": "select model as m, sum(tokens_in) as t from llm_calls group by m order by t, m",
    "ambiguous name (an error both ways)": "select latency_ms from llm_calls, tool_calls limit 1",
    "unknown name (an error both ways)": "select latncy_ms from llm_calls",
}


@pytest.fixture(scope="module")
def cells(tmp_path_factory) -> DuckDBCells:
    path = tmp_path_factory.mktemp("nb-columns") / "cylestio.db"
    CylestioData.generate(seed=7, calls=300).write_sqlite(path)
    return DuckDBCells(open_source(str(path)))


def _answer(cells: DuckDBCells, sql: str, f: Filters) -> pd.DataFrame | str:
    try:
        return cells.run(sql, f).frame
    except CellFailed as err:
        return str(err)


@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
@pytest.mark.parametrize("sql", QUERIES.values(), ids=QUERIES.keys())
def test_a_cell_answers_the_same_with_only_the_columns_it_names(cells, sql, f, monkeypatch):
    named = _answer(cells, sql, f)
    every = check(sql)
    monkeypatch.setattr(runner, "check", lambda text, dialect: dataclasses.replace(every, names=None))
    whole = _answer(cells, sql, f)
    if isinstance(whole, str):
        assert named == whole
    else:
        assert not isinstance(named, str), named
        pd.testing.assert_frame_equal(named, whole)


@pytest.mark.parametrize(
    ("sql", "names"),
    [
        ("select c.ts, count(*) from llm_calls c join tool_calls using (session) group by all",
         {"c", "ts", "session"}),
        ('select "MODEL" from llm_calls', {"model"}),
        ("select count(*) from llm_calls", set()),
        ("select * from llm_calls", None),
        ("select llm_calls.* from llm_calls", None),
        ("select columns('tok.*') from llm_calls", None),
        ("select #1 from llm_calls", None),
        ("select ts from llm_calls natural join tool_calls", None),
        ("select model from llm_calls pivot (sum(cost_usd) for agent in ('a'))", None),
        ("select ts from llm_calls unpivot (v for k in (tokens_in, tokens_out))", None),
        ("select c from llm_calls c", None),
        ("select llm_calls from llm_calls", None),
    ],
)  # fmt: skip
def test_the_names_a_query_reads_columns_by(sql, names):
    assert check(sql).names == (None if names is None else frozenset(names))


def test_a_cell_exports_only_the_columns_it_names(cells, monkeypatch):
    exported: list[tuple[str, tuple[str, ...]]] = []
    export = runner._export

    def recording(store, filters, table, columns):
        exported.append((table, columns))
        return export(store, filters, table, columns)

    monkeypatch.setattr(runner, "_export", recording)
    runner.EXPORTS.clear()
    cells.run(starter.COST_PER_DAY, Filters())
    cells.run("select count(*) from agents", Filters())
    cells.run("select * from alerts", Filters())
    assert exported == [
        ("llm_calls", ("ts", "model", "cost_usd")),
        ("agents", ("agent",)),
        ("alerts", columns_read("alerts", None)),
    ]
    assert len(columns_read("alerts", None)) > 5
