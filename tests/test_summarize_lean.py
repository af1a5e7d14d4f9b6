"""``summarize`` loads only the columns its figures read (``sources.open_lean``): the same summary,
to the last digit, and the same reading report as the app's whole load, for every database system."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from data_layer.__main__ import render_table
from data_layer.sources import cylestio, open_lean, open_source
from data_layer.sources.adapter import only_columns, source_columns
from data_layer.sources.database import Database
from data_layer.store import Store
from data_layer.summary import COLUMNS, summarize
from tests.builders.agent_platform_db import PlatformData
from tests.builders.cylestio_db import CylestioData
from tests.builders.dashboard_db import DashboardData
from tests.builders.sentinel_db import SentinelData

SEEDS = {
    "cylestio": CylestioData.generate,
    "agent_platform": PlatformData.generate,
    "dashboard": DashboardData.generate,
    "sentinel": SentinelData.generate,
}
ON_POSTGRES = ("cylestio", "agent_platform", "sentinel")


def _both_ways(source: str | Path) -> tuple[tuple[dict, str], tuple[dict, str]]:
    """(summary, printed table) from the lean load, then from the whole load."""

    def told(store: Store) -> tuple[dict, str]:
        summary = summarize(store)
        return summary, render_table(summary, store.info.label, None, store.info.report)

    return told(open_lean(source, COLUMNS)), told(open_source(source))


@pytest.mark.parametrize("system", SEEDS)
def test_lean_summary_is_the_whole_loads_on_sqlite(system, tmp_path):
    lean, whole = _both_ways(SEEDS[system]().write_sqlite(tmp_path / f"{system}.db"))
    assert lean == whole


@pytest.mark.postgres
@pytest.mark.parametrize("system", ON_POSTGRES)
def test_lean_summary_is_the_whole_loads_on_postgres(system, make_pg_database):
    lean, whole = _both_ways(SEEDS[system]().write_postgres(make_pg_database(system)))
    assert lean == whole


def test_lean_summary_of_a_database_with_orphans_and_unpriced_calls(tmp_path):
    """Rows the joins leave out are counted alike; estimates price the same calls."""
    path = CylestioData.generate(seed=5, calls=600).write_sqlite(tmp_path / "c.db")
    with sqlite3.connect(path) as con:
        con.execute("update llm_calls set cost = null where id % 3 = 0")
        con.execute("update llm_calls set event_id = -1 where id % 50 = 0")
    (lean, lean_text), (whole, whole_text) = _both_ways(path)
    assert lean["read"]["skipped"] and lean["llm"]["cost_usd_estimated"]  # the case is exercised
    assert (lean, lean_text) == (whole, whole_text)


def test_cylestio_lean_load_reads_no_prompt_or_response(tmp_path):
    db = Database.sqlite_file(CylestioData.generate().write_sqlite(tmp_path / "c.db"))
    read = source_columns(only_columns(cylestio.model_selects(db), COLUMNS))
    assert {"event_id", "model", "tokens_in", "tokens_out", "cost", "duration_ms"} <= read["llm_calls"]
    assert not {"prompt", "response"} & read["llm_calls"]


def test_a_column_the_lean_store_left_out_is_an_error_not_missing_values(tmp_path):
    store = open_lean(CylestioData.generate().write_sqlite(tmp_path / "c.db"), COLUMNS)
    with pytest.raises(duckdb.BinderException, match="does not have a column"):
        store.frame("llm_calls")
