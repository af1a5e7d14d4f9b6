"""Hostile SQL in a notebook cell: each statement is refused, or runs and proves harmless.

Harmless means, after every statement: the canary file was not read (its text is in no result)
and not changed, the target path was not written, no setting of the cell database changed, no
extension was loaded (the function catalogue is the same), and the next good cell still runs.
The file and network statements are also run straight on the locked cell database, past the
parser, to show that the runtime settings refuse them on their own (defence in depth).
"""

from __future__ import annotations

import hashlib

import pytest

from data_layer.errors import AgentwatchError
from data_layer.filters import Filters
from data_layer.notebook.runner import DuckDBCells, cell_database
from data_layer.notebook.safety import CellRefused
from data_layer.sources import open_source
from tests.builders.cylestio_db import CylestioData

CANARY_TEXT = "canary-7f3c9b-secret"
REFUSED = r"disabled|locked|Permission|does not exist"


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    canary = base / "canary.txt"
    canary.write_text(CANARY_TEXT)
    db = base / "cylestio.db"
    CylestioData.generate(seed=3, calls=120).write_sqlite(db)
    return {"canary": canary, "target": base / "written.csv", "dir": base, "db": db}


@pytest.fixture(scope="module")
def cells(paths) -> DuckDBCells:
    return DuckDBCells(open_source(str(paths["db"])))


def corpus(p: dict) -> list[str]:
    canary, target, folder, db = p["canary"], p["target"], p["dir"], p["db"]
    return [
        "select 1; select 2",
        "select * from llm_calls; drop table llm_calls",
        f"copy llm_calls to '{target}'",
        f"copy (select * from llm_calls) to '{target}' (format csv)",
        f"export database '{folder}/export'",
        f"import database '{folder}/export'",
        f"attach '{db}' as src",
        "attach ':memory:' as scratch",
        "detach scratch",
        "install httpfs",
        "load httpfs",
        "force install httpfs from community",
        "pragma threads = 64",
        "pragma enable_profiling",
        "set threads = 64",
        "set memory_limit = '100GB'",
        "set enable_external_access = true",
        "set lock_configuration = false",
        "reset lock_configuration",
        "create table stolen as select * from llm_calls",
        "insert into llm_calls (call_id) values ('x')",
        "update llm_calls set cost_usd = 0",
        "delete from llm_calls",
        "drop view llm_calls",
        "create macro boom() as 1",
        "call pragma_version()",
        "checkpoint",
        f"select read_text('{canary}')",
        f"select * from read_text('{canary}')",
        f"select * from read_blob('{canary}')",
        f"select * from read_csv('{canary}')",
        f"select * from read_csv_auto('{canary}', header = false)",
        f"select * from read_parquet('{folder}/*.parquet')",
        f"select * from read_json_auto('{canary}')",
        f"select * from '{canary}'",
        f'select * from "{canary}"',
        f"select * from glob('{folder}/*')",
        "select * from 'https://example.com/data.parquet'",
        "select * from read_csv('s3://bucket/x.csv')",
        "select 'http://169.254.169.254/latest/meta-data' as u",
        "select getenv('HOME')",
        "select * from query('select 1')",
        "select * from query_table('llm_calls_hourly')",
        "select * from duckdb_settings()",
        "select * from duckdb_secrets()",
        "select * from sqlite_scan('x.db', 'events')",
        "select * from parquet_metadata('x.parquet')",
        "select * from llm_calls_hourly",
        "select * from _llm_calls",
        "select * from main._llm_calls",
        "select * from system.main.duckdb_tables",
        "select * from information_schema.tables",
        "select * from pg_catalog.pg_class",
        "describe llm_calls",
        "explain analyze select 1",
        "with x as (select 1) insert into llm_calls (call_id) select * from x",
        "select current_setting('memory_limit')",
        "select * from llm_calls where cost_usd > (select sum(range) from range(10))",
        f"select read_text('{canary}') from llm_calls limit 1",
        "select * from (values (1)) t(x), lateral (select * from read_text('/etc/hostname'))",
    ]


def _settings() -> list[tuple]:
    with cell_database().cursor() as cur:
        return cur.execute("select name, value from duckdb_settings() order by name").fetchall()


def _functions() -> int:
    with cell_database().cursor() as cur:
        return cur.execute("select count(*) from duckdb_functions()").fetchone()[0]


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_corpus_has_at_least_thirty_statements(paths):
    assert len(corpus(paths)) >= 30


@pytest.mark.parametrize("index", range(60))
def test_hostile_sql_is_refused_or_harmless(cells, paths, index):
    statements = corpus(paths)
    if index >= len(statements):
        pytest.skip("past the end of the corpus")
    sql = statements[index]
    settings, functions, canary = _settings(), _functions(), _digest(paths["canary"])
    try:
        result = cells.run(sql, Filters())
    except AgentwatchError as err:  # refused by the parser, or refused by the database
        assert "\n" not in str(err) and str(err).strip()
    else:
        # It ran: then it read only the model (or constants); never the canary's text.
        shown = result.frame.astype("string").to_csv()
        assert CANARY_TEXT not in shown
    assert _digest(paths["canary"]) == canary
    assert not paths["target"].exists()
    assert not (paths["dir"] / "export").exists()
    assert _settings() == settings
    assert _functions() == functions
    assert cells.run("select count(*) as n from llm_calls", Filters()).frame["n"].iloc[0] > 0


@pytest.mark.parametrize(
    "sql",
    [
        "select * from read_text('{canary}')",
        "select * from read_csv('{canary}')",
        "select * from '{canary}'",
        "copy (select 1) to '{target}'",
        "export database '{dir}/export'",
        "attach '{canary}' as c",
        "install httpfs",
        "load httpfs",
        "select * from glob('{dir}/*')",
        "set memory_limit = '100GB'",
        "set enable_external_access = true",
        "set lock_configuration = false",
        "set python_enable_replacements = true",
        "select * from read_csv('https://example.com/x.csv')",
    ],
)
def test_the_locked_cell_database_refuses_files_network_and_settings_without_the_parser(paths, sql):
    statement = sql.format(canary=paths["canary"], target=paths["target"], dir=paths["dir"])
    settings = _settings()
    with (
        cell_database().cursor() as cur,
        pytest.raises(Exception, match=REFUSED),
    ):
        cur.execute(statement).fetchall()
    assert _settings() == settings
    assert not paths["target"].exists()


def test_python_variables_are_not_read_by_name(cells):
    leaked = __import__("pandas").DataFrame({"secret": [CANARY_TEXT]})  # noqa: F841 - the bait
    with cell_database().cursor() as cur, pytest.raises(Exception, match="does not exist"):
        cur.execute("select * from leaked").fetchall()


def test_a_refusal_names_what_to_do(cells):
    with pytest.raises(CellRefused, match="model's tables"):
        cells.run("select * from llm_calls_hourly", Filters())
    with pytest.raises(CellRefused, match="one statement"):
        cells.run("select 1; select 2", Filters())
