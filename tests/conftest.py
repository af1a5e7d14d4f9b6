"""Shared fixtures: throwaway PostgreSQL databases, and the repository's paths."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
PG_URL_VAR = "AGENTWATCH_TEST_PG_URL"
PG_URL = os.environ.get(PG_URL_VAR, "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session", autouse=True)
def agentwatch_home(tmp_path_factory) -> Iterator[Path]:
    """Agentwatch's own state (saved notebooks) goes to a folder of the run, never ~/.agentwatch;
    servers the browser tests start inherit it."""
    path = tmp_path_factory.mktemp("agentwatch-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AGENTWATCH_HOME", str(path))
        yield path


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except psycopg.Error as err:
        return str(err).strip().splitlines()[0]


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The test PostgreSQL server's URL. Skips without one, except under CI=true where it fails."""
    problem = _pg_available()
    if problem:
        message = f"no PostgreSQL at {PG_URL} ({problem}); set {PG_URL_VAR} to a server the tests may use"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return PG_URL


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def make_pg_database(pg_server: str) -> Iterator[Callable[[str], str]]:
    """Creates empty databases that are dropped when the test session ends; returns their URLs."""
    created: list[str] = []

    def make(prefix: str = "t") -> str:
        name = f"agentwatch_{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_server, autocommit=True) as con:
            con.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        created.append(name)
        return _with_database(pg_server, name)

    yield make
    with psycopg.connect(pg_server, autocommit=True) as con:
        for name in created:
            con.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A browser test that fails shows the text of the pages it still has open (tests/browser.py)."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and item.get_closest_marker("browser"):
        from tests.browser import open_pages_report

        text = open_pages_report()
        if text:
            report.sections.append(("open pages", text))


# --- canaries: sources that must be byte-for-byte the same after the whole run ------------------

CANARY_SEED = 41


def _file_checksum(path: Path) -> dict[str, str]:
    """The database file's hash, and its folder's listing: a -journal or -wal file is a write too."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.parent.iterdir())
        if p.is_file()
    }


def _pg_checksum(url: str) -> dict[str, tuple[int, str]]:
    """Row count and an md5 of every row, per table of the public schema."""
    with psycopg.connect(url) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'public' and table_type = 'BASE TABLE' order by 1"
            )
        ]
        found = {}
        for table in tables:
            query = sql.SQL(
                "select count(*), coalesce(md5(string_agg(t::text, ',' order by t::text)), '') from {} t"
            ).format(sql.Identifier(table))
            count, digest = con.execute(query).fetchone()
            found[table] = (count, digest)
        return found


@pytest.fixture(scope="session")
def canary_sqlite(tmp_path_factory) -> Iterator[Path]:
    """A Cylestio SQLite database that tests across the suite open (source, app and fault tests).

    Its checksum is taken when it is written, before any test reads it; if it differs when the
    session ends, the teardown fails and with it the run. The file is writable on purpose: the
    proof is that Agentwatch does not write, not that the file system stops it.
    """
    from tests.builders.cylestio_db import CylestioData

    path = tmp_path_factory.mktemp("canary") / "canary.db"
    CylestioData.generate(seed=CANARY_SEED, calls=60).write_sqlite(path)
    before = _file_checksum(path)
    yield path
    after = _file_checksum(path)
    if after != before:
        pytest.fail(f"the SQLite canary {path} changed during the run: {before} -> {after}")


@pytest.fixture(scope="session")
def canary_postgres(make_pg_database) -> Iterator[str]:
    """A Cylestio PostgreSQL database tests across the suite read; same rule as ``canary_sqlite``."""
    from tests.builders.cylestio_db import CylestioData

    url = CylestioData.generate(seed=CANARY_SEED, calls=60).write_postgres(make_pg_database("canary"))
    before = _pg_checksum(url)
    assert before and all(count for count, _ in before.values() if count)
    yield url
    after = _pg_checksum(url)
    if after != before:
        changed = sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))
        pytest.fail(f"the PostgreSQL canary changed during the run (tables {', '.join(changed)})")
