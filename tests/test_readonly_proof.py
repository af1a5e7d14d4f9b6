"""Read-only, proved: no code path can write to a source, and the canaries show none did.

``tests/test_database.py`` proves the two connection kinds refuse writes. Here: every way the data
layer opens a source (SQLAlchemy engine, sqlite3, ADBC for SQLite and PostgreSQL) refuses a write
on the session's canary databases (``tests/conftest.py``), every connection the data layer makes
is one of those or an in-memory DuckDB, and the canaries are loaded by the data layer and by
every page of the app. Their checksums are compared when the session ends; a change fails the run.
"""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from data_layer.errors import SourceUnavailable
from data_layer.sources import open_source
from data_layer.sources.database import Database, _libpq_uri, _read_sqlite_arrow, _sqlite_connect
from data_layer.summary import summarize
from tests.builders.cylestio_db import CylestioData
from tests.conftest import CANARY_SEED, ROOT, _file_checksum, _pg_checksum
from ui.pages_list import PAGES
from ui.source import Choice

WRITES = [
    "insert into agents (agent_id, name) values ('intruder', 'x')",
    "update llm_calls set cost = 0",
    "delete from events",
    "create table intruder (x int)",
    "drop table agents",
]


def expected_events() -> int:
    return len(CylestioData.generate(seed=CANARY_SEED, calls=60).events)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def canary(request) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("canary_sqlite"))
    return request.getfixturevalue("canary_postgres")


def test_the_data_layer_reads_the_canary(canary):
    store = open_source(canary)
    assert store.info.system == "cylestio"
    assert summarize(store)["events"] == expected_events()


# Every page on the SQLite canary; on PostgreSQL four (a run there costs seconds; the fault
# tests read it through every refresh too).
PAGE_READS = [pytest.param("canary_sqlite", page, id=f"sqlite-{page}") for page in PAGES] + [
    pytest.param("canary_postgres", page, id=f"postgres-{page}", marks=pytest.mark.postgres)
    for page in ("overview", "security", "sessions", "data")
]


@pytest.mark.parametrize(("fixture", "page"), PAGE_READS)
def test_every_page_reads_the_canary(fixture, page, request):
    canary = str(request.getfixturevalue(fixture))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets["connections"] = {"agentwatch": {"url": canary}}
    at.session_state["range"] = "All"
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.title[0].value == page.capitalize()


@pytest.mark.parametrize("statement", WRITES)
def test_sqlite_refuses_writes_through_every_connection_we_open(canary_sqlite, statement):
    before = _file_checksum(canary_sqlite)
    db = Database.sqlite_file(canary_sqlite)
    with pytest.raises(sa.exc.OperationalError, match="readonly"), db.engine.begin() as con:
        con.execute(sa.text(statement))
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        con = _sqlite_connect(str(canary_sqlite))
        try:
            con.execute(statement)
            con.commit()
        finally:
            con.close()
    with pytest.raises(Exception, match=r"(?i)readonly|read-only|read only"):
        _read_sqlite_arrow(str(canary_sqlite), statement, [])
    with pytest.raises(SourceUnavailable, match=r"(?i)readonly"):
        db.read(sa.text(statement))
    assert _file_checksum(canary_sqlite) == before


@pytest.mark.postgres
@pytest.mark.parametrize("statement", WRITES)
def test_postgres_refuses_writes_through_every_connection_we_open(canary_postgres, statement):
    import adbc_driver_postgresql.dbapi as adbc

    before = _pg_checksum(canary_postgres)
    db = Database(canary_postgres)
    with pytest.raises(sa.exc.InternalError, match="read-only transaction"), db.engine.begin() as con:
        con.execute(sa.text(statement))
    with (
        pytest.raises(adbc.Error, match="read-only transaction"),
        adbc.connect(_libpq_uri(db.url)) as con,
        con.cursor() as cur,
    ):
        cur.execute(statement)
        con.commit()
    with pytest.raises(SourceUnavailable, match="read-only transaction"):
        db.read(sa.text(statement))
    assert _pg_checksum(canary_postgres) == before


# Every way the data layer may open a connection, and why each cannot write to a source.
_ALLOWED = {
    r"duckdb\.connect\((\":memory:\"(, config=.*)?)?\)": "an in-memory DuckDB: its own scratch space",
    r"(records\.)?connect\(\)": "records.connect, an in-memory DuckDB",
    r"_sqlite_connect\(": "sqlite3 with ?mode=ro and query_only",
    r"sqlite3\.connect\(uri, uri=True": "inside _sqlite_connect: the mode=ro URI",
    r"adbc\.connect\(_libpq_uri\(": "PostgreSQL through ADBC, default_transaction_read_only=on",
    r"adbc\.connect\(uri\)": "SQLite through ADBC, a mode=ro URI (_read_sqlite_arrow)",
    r"(self\.)?(backend\.)?(db\.)?engine\.connect\(\)": "Database.engine: read-only on both backends",
    r"sa\.create_engine\(": "Database's engine factory (_engine)",
}
# Writers by design, never pointed at a source: the demo generator and the schemas' writers, which
# write the demo's own files and the tests' databases, and data_layer/notebook/state.py, which
# writes Agentwatch's own state database in AGENTWATCH_HOME.
_WRITERS = {"data_layer/demo", "data_layer/writers", "data_layer/notebook/state.py"}


def test_every_connection_the_data_layer_opens_is_read_only_or_in_memory():
    calls = []
    for path in sorted((ROOT / "data_layer").rglob("*.py")):
        if {path.parent.relative_to(ROOT).as_posix(), path.relative_to(ROOT).as_posix()} & _WRITERS:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for match in re.finditer(r"[\w.]*(connect|create_engine)\(.*", line):
                if not line.lstrip().startswith(("#", "def ", '"""')):
                    calls.append((f"{path.relative_to(ROOT)}:{number}", match.group(0)))
    unknown = [(where, code) for where, code in calls if not any(re.match(p, code) for p in _ALLOWED)]
    assert len(calls) > 8
    assert not unknown, "a connection this test does not know to be read-only: " + repr(unknown)


def test_the_read_only_settings_are_in_every_connection_string(canary_sqlite):
    db = Database("postgresql://reader:pw@db.example:5432/agents")
    assert "options=-c default_transaction_read_only=on" in unquote(_libpq_uri(db.url))
    con = _sqlite_connect(str(canary_sqlite))
    try:
        assert con.execute("pragma query_only").fetchone()[0] == 1
    finally:
        con.close()


def test_an_uploaded_database_is_read_like_any_other(canary_sqlite, tmp_path):
    """The app reads an upload from its own copy, but that copy is opened read-only too."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["source_choice"] = Choice("upload", str(canary_sqlite), "canary.db", "upload:canary")
    at.session_state["range"] = "All"
    at.switch_page("pages/data.py").run()
    assert not at.exception and not at.error
    assert any("canary" in m.value for m in at.markdown)
