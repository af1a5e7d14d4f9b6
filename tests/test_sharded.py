"""Pushdown on PostgreSQL sharded over postgres_fdw gives one server's frames, and the check bites.

Starts three PostgreSQL 15 clusters of its own (bench/sharded.py), so it runs only when asked:
AGENTWATCH_TEST_SHARDED=1 (about two minutes on two cores). CI does not set it; the benchmark's
``bench/run.py --sharded`` makes the same assertions at 200,000 calls.
"""

from __future__ import annotations

import os

import psycopg
import pytest
import sqlalchemy as sa

from bench import generate, sharded

pytestmark = pytest.mark.skipif(
    os.environ.get("AGENTWATCH_TEST_SHARDED") != "1" or not (sharded.PG_BIN / "initdb").exists(),
    reason="starts its own PostgreSQL clusters: set AGENTWATCH_TEST_SHARDED=1 (needs PostgreSQL 15 binaries)",
)


@pytest.fixture(scope="module")
def servers():
    data = generate.fleet(3_000, seed=7)
    frames = sharded._frames(data)
    with sharded.clusters() as (coordinator, shards):
        for i, shard in enumerate(shards):
            sharded.load_shard(shard, i, frames)
        yield (
            sharded.load_single(coordinator, data),
            sharded.load_coordinator(coordinator, shards, frames),
            shards,
            frames,
        )


def test_each_shard_holds_a_disjoint_slice_and_together_every_row(servers):
    _, _, shards, frames = servers
    ids = []
    for shard in shards:
        with psycopg.connect(shard.url()) as con:
            ids.append({r[0] for r in con.execute("select event_id from llm_calls")})
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    assert ids[0] | ids[1] == set(frames["llm_calls"]["event_id"])


def test_every_query_gives_one_servers_frame_on_the_sharded_coordinator(servers):
    single, coordinator, _, _ = servers
    assert sharded.compare_queries(single, coordinator) == 4 * len(sharded.query_calls())


def test_statements_read_the_shards_through_foreign_scans(servers):
    from data_layer import queries
    from data_layer.filters import Filters
    from data_layer.sources import open_pushdown

    _, coordinator, _, frames = servers
    recorded = []

    def listen(_conn, _cursor, statement, parameters, _context, _many):
        recorded.append((statement, dict(parameters or {})))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", listen)
    try:
        backend = open_pushdown(coordinator, copy=False)
        recorded.clear()
        queries.llm_usage(backend, Filters(), bucket="day", by="model")
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", listen)
    with sharded._connect(coordinator) as con:
        seen = sharded.crossing(con, recorded)
    assert seen["foreign_scans"] >= 2  # one per shard at least
    assert 0 < seen["rows_from_shards"] <= len(frames["llm_calls"]) + len(frames["events"])


def test_a_missing_row_on_one_shard_is_caught(servers):  # last: it takes a row from a shard
    single, coordinator, shards, _ = servers
    with psycopg.connect(shards[1].url(), autocommit=True) as con:
        con.execute("delete from llm_calls where id = (select min(id) from llm_calls)")
    with pytest.raises(AssertionError, match="differs from one server"):
        sharded.compare_queries(single, coordinator)
