"""Pushdown past one PostgreSQL server: the same statements on a coordinator over two shards.

    python bench/run.py --sharded [--sharded-n 200000]
    python -m bench.sharded --n 200000 [--json bench/sharded.json]

Three PostgreSQL 15 clusters are created for the run (``initdb`` in a temporary directory, as
the ``postgres`` OS user, on free loopback ports) and removed afterwards, also on failure:

* two **shards**, each holding one hash slice of the six event tables (``events`` by ``id``,
  the five detail tables by ``event_id``);
* a **coordinator**, where those six tables are partitioned tables whose two partitions are
  ``postgres_fdw`` foreign tables on the shards (``async_capable``, ``fetch_size`` 10,000,
  ``use_remote_estimate``; ``enable_partitionwise_join`` and ``enable_partitionwise_aggregate``
  on), and the small
  tables (agents, sessions, conversations) are local. Agentwatch connects to it with an
  ordinary URL and sees Cylestio's schema unchanged.

``use_remote_estimate`` makes the coordinator ask each shard what a join would cost: without it
the planner, guessing from local statistics, fetched both sides of every call-to-event join and
joined them itself: 221,480 rows crossed for four query functions at 20,000 calls, 88,496 with it.

The partition key is the event id because it is the only key every big table shares: a detail
row joins its event on ``event_id = events.id``, and hashing both by it puts each call on the
same shard as its event, so the join can run on the shard (one remote join per shard) instead of
shipping both tables. Hashing, not ranges, because Cylestio's ids grow with time: a range by id
would send every new row to the last shard.

The coordinator cluster also holds ``single``, one database with the same rows unsharded. Every
query function must return the same frame on both (``assert_frame_equal``), and each page's
statements, recorded from an AppTest rerun with queries pushed down, are timed on both and
explained on the coordinator: the rows that crossed from the shards are the actual rows of its
``Foreign Scan`` nodes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import psycopg

from bench import generate
from data_layer.writers import cylestio

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("AGENTWATCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
DB = "cylestio"
SHARDS = 2
REPEAT = 3
SHARDED = {  # table -> the column its rows are hashed by: the event id, so details sit with their event
    "events": "id",
    "llm_calls": "event_id",
    "tool_calls": "event_id",
    "security_alerts": "event_id",
    "event_security": "event_id",
    "performance_metrics": "event_id",
}
SESSION = "-c default_transaction_read_only=on -c TimeZone=UTC"  # as Agentwatch's own sessions


# --- clusters --------------------------------------------------------------------------------


@dataclass
class Cluster:
    """One throwaway PostgreSQL cluster, run by the postgres OS user (initdb refuses root)."""

    name: str
    port: int
    data: Path

    def url(self, db: str = DB) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        _as_postgres(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                     "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.data}",
                "-c fsync=off",  # a throwaway benchmark cluster: durability is not measured
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            ]
        )
        _as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.data / "server.log", "-w",
                     "-o", options, "start")  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            _as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)


def _as_postgres(*args: object, check: bool = True) -> None:
    command = [str(a) for a in args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def clusters() -> Iterator[tuple[Cluster, list[Cluster]]]:
    """A coordinator and its shards, started in a temporary directory and always removed."""
    root = Path(tempfile.mkdtemp(prefix="agentwatch-sharded-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    names = ["coordinator", *(f"shard{i}" for i in range(SHARDS))]
    started: list[Cluster] = []
    try:
        for name in names:
            cluster = Cluster(name, _free_port(), root / name)
            started.append(cluster)
            cluster.start()
        yield started[0], started[1:]
    finally:
        for cluster in started:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


# --- the rows, sharded -----------------------------------------------------------------------


def _tables() -> dict[str, str]:
    """Cylestio's CREATE TABLE statements for PostgreSQL, by table name."""
    tables, _ = generate._statements(cylestio.postgres_ddl())
    return {re.match(r"CREATE TABLE (\w+)", t).group(1): t for t in tables}


def _partitioned(create: str, key: str) -> str:
    """A CREATE TABLE as a hash-partitioned parent. Its foreign keys go (a shard holds no
    agents) and so does the primary key on ``id`` (a partitioned table's unique keys must
    contain the partition key, and ``llm_calls`` is hashed by ``event_id``)."""
    lines = [line for line in create.splitlines() if "FOREIGN KEY" not in line]
    body = "\n".join(lines).rstrip().removesuffix(")").rstrip().removesuffix(",")
    return body.replace("SERIAL PRIMARY KEY", "SERIAL") + f"\n) PARTITION BY HASH ({key})"


def _copy(con: psycopg.Connection, table: str, frame: pd.DataFrame) -> None:
    with con.cursor().copy(f"copy {table} ({', '.join(frame.columns)}) from stdin (format csv)") as copy:
        for chunk in range(0, len(frame), 500_000):
            buffer = io.StringIO()
            frame.iloc[chunk : chunk + 500_000].to_csv(buffer, header=False, index=False)
            copy.write(buffer.getvalue())


def _frames(data: generate.Fleet) -> dict[str, pd.DataFrame]:
    frames = {"agents": pd.DataFrame({"id": range(1, len(generate.AGENTS) + 1), "agent_id": generate.AGENTS,
                                      "name": generate.AGENTS})}  # fmt: skip
    for attr, table in generate._TABLES.items():
        frames[table] = generate._as_text_times(getattr(data, attr))
    return frames


def _create_db(cluster: Cluster, name: str = DB) -> None:
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as con:
        con.execute(f"create database {name}")


def load_shard(shard: Cluster, index: int, frames: dict[str, pd.DataFrame]) -> None:
    """Shard ``index`` keeps the rows PostgreSQL's own hash sends to remainder ``index``.

    Every row is copied into a local table partitioned exactly as the coordinator's, and the
    other remainders' partitions are dropped: the slice is the one the coordinator's partition
    bounds promise, by construction rather than by a hash reimplemented here.
    """
    _create_db(shard)
    creates = _tables()
    with psycopg.connect(shard.url(), autocommit=True) as con:
        for table, key in SHARDED.items():
            con.execute(_partitioned(creates[table], key))
            for r in range(SHARDS):
                con.execute(
                    f"create table {table}_{r} partition of {table}"
                    f" for values with (modulus {SHARDS}, remainder {r})"
                )
            _copy(con, table, frames[table])
            for r in range(SHARDS):
                if r != index:
                    con.execute(f"drop table {table}_{r}")
            con.execute(f"create index on {table} ({key})")
        con.execute("create index on events (timestamp)")
        con.execute("analyze")


def load_coordinator(coordinator: Cluster, shards: list[Cluster], frames: dict[str, pd.DataFrame]) -> str:
    """The coordinator: Cylestio's table names, the big ones partitioned over the shards."""
    _create_db(coordinator)
    url = coordinator.url()
    creates = _tables()
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("create extension postgres_fdw")
        for i, shard in enumerate(shards):
            con.execute(
                f"create server shard{i} foreign data wrapper postgres_fdw options (host '127.0.0.1',"
                f" port '{shard.port}', dbname '{DB}', async_capable 'true', fetch_size '10000',"
                " use_remote_estimate 'true')"
            )
            con.execute(f"create user mapping for public server shard{i} options (user 'postgres')")
        for table, create in creates.items():
            if table not in SHARDED:
                con.execute(create)
                if table in frames:
                    _copy(con, table, frames[table])
                continue
            con.execute(_partitioned(create, SHARDED[table]))
            for i in range(SHARDS):
                con.execute(
                    f"create foreign table {table}_shard{i} partition of {table}"
                    f" for values with (modulus {SHARDS}, remainder {i})"
                    f" server shard{i} options (schema_name 'public', table_name '{table}')"
                )
        for setting in ("enable_partitionwise_join", "enable_partitionwise_aggregate", "enable_async_append"):
            con.execute(f"alter database {DB} set {setting} = on")
        for table in SHARDED:  # plain ANALYZE skips foreign tables; these sample the shards
            con.execute(f"analyze {table}")
            for i in range(SHARDS):
                con.execute(f"analyze {table}_shard{i}")
        con.execute("analyze")
    return url


def load_single(coordinator: Cluster, data: generate.Fleet) -> str:
    """The same rows on one server (a database of the coordinator's cluster: same settings)."""
    _create_db(coordinator, "single")
    return generate.write_postgres(data, coordinator.url("single"))


# --- every query function, both ways -----------------------------------------------------------

T0 = pd.Timestamp(generate.START).to_pydatetime().replace(tzinfo=UTC)
_DAY20 = timedelta(days=20)


def _filters():
    from data_layer.filters import Filters

    return {
        "all": Filters(),
        "window": Filters(
            start=T0 + timedelta(days=3, hours=9, minutes=13), end=T0 + timedelta(days=17, hours=5)
        ),
        "agents_models": Filters(agents=("agent-1", "agent-2"), models=("gpt-4o", "in-house-70b")),
        "sessions_severities": Filters(
            sessions=("2", "5", "40"), severities=("high", "critical"), tools=("search",)
        ),
    }


def query_calls() -> dict[str, Callable]:
    """Every query function, as tests/test_pushdown.py calls them, with the benchmark's dates."""
    from data_layer import queries

    month = {"start": T0, "end": T0 + timedelta(days=generate.DAYS)}
    return {
        "llm_usage": lambda b, f: queries.llm_usage(b, f),
        "llm_usage_daily_by_model": lambda b, f: queries.llm_usage(b, f, bucket="day", by="model"),
        "llm_usage_hourly_by_cost_source": lambda b, f: queries.llm_usage(
            b, f, bucket="hour", by="cost_source"
        ),
        "llm_latency_by_model": lambda b, f: queries.llm_latency(b, f, by="model"),
        "llm_latency_daily": lambda b, f: queries.llm_latency(b, f, bucket="day"),
        "llm_histogram_latency": lambda b, f: queries.llm_histogram(b, f, measure="latency_ms"),
        "llm_histogram_tokens": lambda b, f: queries.llm_histogram(b, f, measure="tokens_in"),
        "tool_usage_by_tool": lambda b, f: queries.tool_usage(b, f, by="tool"),
        "tool_latency_by_tool": lambda b, f: queries.tool_latency(b, f, by="tool"),
        "alert_counts_daily_by_severity": lambda b, f: queries.alert_counts(
            b, f, bucket="day", by="severity"
        ),
        "alert_counts_by_type": lambda b, f: queries.alert_counts(b, f, by="type"),
        "open_alerts": lambda b, f: queries.open_alerts_by_severity(b, f),
        "flagged": lambda b, f: queries.flagged_event_counts(b, f, by="level"),
        "matched_terms": lambda b, f: queries.matched_terms(b, f),
        "alerts_per_1k": lambda b, f: queries.alerts_per_thousand_calls(b, f),
        "metric_series": lambda b, f: queries.metric_series(b, f, bucket="day"),
        "metric_stats": lambda b, f: queries.metric_stats(b, f),
        "event_counts": lambda b, f: queries.event_counts(b, f, by="type"),
        "sessions": lambda b, f: queries.session_summaries(b, f, order_by="cost"),
        "timeline": lambda b, f: queries.session_timeline(b, "3"),
        "cost_per_task": lambda b, f: queries.cost_per_completed_task(b, f),
        "kpis": lambda b, f: queries.overview_kpis(
            b, replace(f, start=f.start or month["start"], end=f.end or month["end"])
        ),
        "what_changed": lambda b, f: pd.DataFrame(
            {"text": [queries.what_changed(b, replace(f, start=T0 + timedelta(days=10), end=T0 + _DAY20))]}
        ),
        "filter_options": lambda b, f: pd.DataFrame(
            {k: [tuple(v)] for k, v in queries.filter_options(b).items()}
        ),
        "data_quality": lambda b, f: queries.data_quality(b, now=datetime(2030, 1, 1, tzinfo=UTC)),
    }


def assert_same_frame(single: pd.DataFrame, sharded: pd.DataFrame, what: str) -> None:
    """Equal frames: same columns and dtypes, numbers to 1e-9 (sums over shards add in another
    order). Rows tied in a query's ORDER BY may come in another order, so both are sorted."""

    def key(s: pd.Series) -> pd.Series:
        return s.round(6) if pd.api.types.is_float_dtype(s) else s.astype("string")

    if len(single) == len(sharded) and len(single) > 1 and list(single.columns) == list(sharded.columns):
        single = single.sort_values(list(single.columns), key=key, ignore_index=True)
        sharded = sharded.sort_values(list(sharded.columns), key=key, ignore_index=True)
    try:
        pd.testing.assert_frame_equal(single, sharded, check_exact=False, rtol=1e-9)
    except AssertionError as err:
        raise AssertionError(f"{what}: the coordinator's frame differs from one server's\n{err}") from None


def compare_queries(single_url: str, sharded_url: str) -> int:
    """Every query function under every filter, one server against the coordinator."""
    from data_layer.sources import open_pushdown

    one, sharded = open_pushdown(single_url, copy=False), open_pushdown(sharded_url, copy=False)
    checked = 0
    for fname, f in _filters().items():
        for name, call in query_calls().items():
            assert_same_frame(call(one, f), call(sharded, f), f"{name} ({fname})")
            checked += 1
    return checked


# --- per page: time and rows from the shards -----------------------------------------------------


def record_pages(url: str) -> dict[str, list[tuple[str, dict]]]:
    """Per page, the SQL its rerun sends after a filter change (last 30 days, two agents), from
    AppTest with queries pushed down: the statements of bench/measure.py, in PostgreSQL."""
    import sqlalchemy as sa
    from streamlit.testing.v1 import AppTest

    from ui.pages_list import PAGES

    port = int(url.split(":")[2].split("/")[0])
    recorded: list[tuple[str, dict]] = []

    def listen(conn, _cursor, statement, parameters, _context, _many):
        if conn.engine.url.port == port and statement.lstrip().lower().startswith(("select", "with")):
            recorded.append((statement, dict(parameters or {})))

    pages = {}
    for page in PAGES:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
        at.secrets["connections"] = {"agentwatch": {"url": url}}
        at.session_state["range"] = "30d"
        at.run()
        if page != "overview":
            at.switch_page(f"pages/{page}.py").run()
        assert at.session_state["last_good"].pushdown, "the app loaded the source instead of pushing down"
        at.session_state["agents"] = generate.AGENTS[:2]
        recorded.clear()
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", listen)
        try:
            at.run()
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", listen)
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].message}")
        pages[page] = list(recorded)
    return pages


def _connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url, options=SESSION, autocommit=True)


def _median_ms(con: psycopg.Connection, statements: list[tuple[str, dict]]) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        for sql, params in statements:
            con.execute(sql, params).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _foreign_scans(plan: dict) -> Iterator[dict]:
    if plan.get("Node Type") == "Foreign Scan":
        yield plan
    for child in plan.get("Plans", []):
        yield from _foreign_scans(child)


_AGGREGATE = re.compile(r"\b(count|sum|min|max|avg)\(", re.IGNORECASE)


def crossing(con: psycopg.Connection, statements: list[tuple[str, dict]]) -> dict:
    """What came over from the shards for these statements, by EXPLAIN ANALYZE on the coordinator:
    rows (actual rows × loops of every Foreign Scan), foreign scans, and how many of them ran a
    join or an aggregate on the shard rather than shipping rows."""
    rows = scans = joins = aggregates = in_parallel = 0
    example = None
    for sql, params in statements:
        plan = con.execute("explain (analyze, verbose, format json) " + sql, params).fetchone()[0][0]["Plan"]
        for scan in _foreign_scans(plan):
            remote = scan.get("Remote SQL", "")
            rows += round(scan.get("Actual Rows", 0) * scan.get("Actual Loops", 1))
            scans += 1
            joins += " JOIN " in remote
            aggregates += bool(_AGGREGATE.search(remote.split(" FROM ")[0]))
            in_parallel += bool(scan.get("Async Capable"))
            example = example or remote
    return {
        "rows_from_shards": rows,
        "foreign_scans": scans,
        "async_scans": in_parallel,
        "remote_joins": joins,
        "remote_aggregates": aggregates,
        "example_remote_sql": example,
    }


def measure_pages(single_url: str, sharded_url: str) -> dict:
    recorded = record_pages(sharded_url)
    pages = {}
    with _connect(single_url) as one, _connect(sharded_url) as coordinator:
        for page, statements in recorded.items():
            pages[page] = {
                "queries": len(statements),
                "single_ms": _median_ms(one, statements),
                "sharded_ms": _median_ms(coordinator, statements),
                **crossing(coordinator, statements),
            }
    return pages


# --- the run ---------------------------------------------------------------------------------


def measure(n: int) -> dict:
    os.environ["AGENTWATCH_PUSHDOWN_ROWS"] = "0"  # the app pushes every PostgreSQL source down
    os.environ["AGENTWATCH_PUSHDOWN_COPY_ROWS"] = "0"  # and keeps no copy: the shards answer
    os.environ.setdefault("AGENTWATCH_DEMO_DIR", str(ROOT / "bench" / "out" / "demo"))
    data = generate.fleet(n)
    frames = _frames(data)
    with clusters() as (coordinator, shards):
        started = time.perf_counter()
        for i, shard in enumerate(shards):
            load_shard(shard, i, frames)
        sharded_url = load_coordinator(coordinator, shards, frames)
        single_url = load_single(coordinator, data)
        load_s = time.perf_counter() - started
        checked = compare_queries(single_url, sharded_url)
        pages = measure_pages(single_url, sharded_url)
    source_rows = sum(len(frames[t]) for t in SHARDED)
    return {"n": n, "load_s": load_s, "frames_equal": checked, "sharded_rows": source_rows, "pages": pages}


def table(result: dict) -> str:
    lines = [
        f"\nN={result['n']:,} sharded over {SHARDS} PostgreSQL servers through postgres_fdw:"
        f" {result['frames_equal']} query frames equal to one server's;"
        f" {result['sharded_rows']:,} rows in the sharded tables",
        f"  {'page':<10} {'one server ms':>13} {'sharded ms':>11} {'queries':>8} {'rows from shards':>17}"
        f" {'foreign scans':>14} {'async':>6} {'joined there':>13} {'aggregated there':>17}",
    ]
    for page, p in result["pages"].items():
        lines.append(
            f"  {page:<10} {p['single_ms']:>13.1f} {p['sharded_ms']:>11.1f} {p['queries']:>8}"
            f" {p['rows_from_shards']:>17,} {p['foreign_scans']:>14} {p['async_scans']:>6}"
            f" {p['remote_joins']:>13} {p['remote_aggregates']:>17}"
        )
    return "\n".join(lines)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the clusters are still removed
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="LLM calls (default 200,000)")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args = parser.parse_args()
    result = measure(args.n)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
