"""The benchmark's sources: files cached in bench/out, PostgreSQL databases kept between runs."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
from psycopg import sql

from bench import generate

PG_URL = os.environ.get("AGENTWATCH_BENCH_PG_URL") or os.environ.get(
    "AGENTWATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def source(kind: str, n: int) -> str:
    """A path or URL Agentwatch can open holding n LLM calls in the given form."""
    if kind in ("sqlite", "parquet"):
        return str(generate.cached(kind, n))
    return _postgres(n)


def _postgres(n: int) -> str:
    name = f"agentwatch_bench_{n}"
    base = PG_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    with psycopg.connect(PG_URL, autocommit=True) as con:
        exists = con.execute("select 1 from pg_database where datname = %s", [name]).fetchone()
        if exists:
            with psycopg.connect(url) as db:
                done = db.execute("select to_regclass('public.bench_complete') is not null").fetchone()[0]
            if done:
                return url
            con.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))
        con.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    generate.write_postgres(generate.fleet(n), url)
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("create table bench_complete (n bigint)")
        db.execute("insert into bench_complete values (%s)", [n])
    return url


def path_for(kind: str, n: int) -> Path:
    return generate.OUT / (f"cylestio-{n}.db" if kind == "sqlite" else f"export-{n}.parquet")
