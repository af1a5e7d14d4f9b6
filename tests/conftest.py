"""Shared fixtures: throwaway PostgreSQL databases, and the repository's paths."""

from __future__ import annotations

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
