"""Sources are read-only: a write through Agentwatch's own connection fails, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
import sqlalchemy as sa

from data_layer.errors import SourceUnavailable
from data_layer.sources.database import Database, masked


@pytest.fixture
def sqlite_file(tmp_path):
    path = tmp_path / "src.db"
    con = sqlite3.connect(path)
    con.execute("create table t (x int)")
    con.execute("insert into t values (1)")
    con.commit()
    con.close()
    return path


def test_sqlite_source_refuses_writes_through_our_connection(sqlite_file):
    before = hashlib.sha256(sqlite_file.read_bytes()).hexdigest()
    db = Database.sqlite_file(sqlite_file)
    with (
        pytest.raises(sa.exc.OperationalError, match=r"readonly|read-only|query_only"),
        db.engine.begin() as con,
    ):
        con.execute(sa.text("insert into t values (2)"))
    assert db.count("t") == 1
    assert hashlib.sha256(sqlite_file.read_bytes()).hexdigest() == before


@pytest.mark.postgres
def test_postgres_source_refuses_writes_through_our_connection(make_pg_database):
    import psycopg

    url = make_pg_database("ro")
    with psycopg.connect(url) as con:
        con.execute("create table t (x int)")
        con.execute("insert into t values (1)")
    db = Database(url)
    with pytest.raises(sa.exc.InternalError, match="read-only transaction"), db.engine.begin() as con:
        con.execute(sa.text("insert into t values (2)"))
    assert db.count("t") == 1
    with db.engine.connect() as con:
        assert con.execute(sa.text("show default_transaction_read_only")).scalar() == "on"


@pytest.mark.postgres
def test_postgres_bulk_reads_run_in_read_only_sessions(make_pg_database):
    url = make_pg_database("ro")
    setting = Database(url).read(sa.select(sa.func.current_setting("default_transaction_read_only")))
    assert setting.iloc[0, 0] == "on"


def test_a_password_in_a_url_is_never_shown():
    url = "postgresql://reader:s3cret-pw@db.example:5432/agents"
    assert "s3cret-pw" not in masked(url)
    with pytest.raises(SourceUnavailable) as err:
        Database("postgresql://reader:s3cret-pw@127.0.0.1:1/agents").catalog()
    assert "s3cret-pw" not in str(err.value)
