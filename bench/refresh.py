"""Refresh benchmark: appending new calls to a big source and reading only them, against a full reload.

    python -m bench.refresh --n 1000000 [--new 10000] [--repeat 3]

The shared benchmark file (``bench/out/cylestio-N.db``) is copied to a temporary directory first:
sources are read-only, and only the copy is written to. New rows are drawn the way the benchmark
draws its data (``generate.fleet``), with ids past the source's and times in the hour after its
last: what an agent fleet writes between two refreshes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import generate  # noqa: E402

# generate.fleet's frames -> the source table and the columns holding ids of other tables.
_LINKS = {
    "sessions": ("sessions", {}),
    "events": ("events", {"session_id": "sessions"}),
    "calls": ("llm_calls", {"event_id": "events"}),
    "tools": ("tool_calls", {"event_id": "events"}),
    "alerts": ("security_alerts", {"event_id": "events"}),
    "flags": ("event_security", {"event_id": "events"}),
    "perf": ("performance_metrics", {"event_id": "events"}),
}


def append_calls(target: Path | str, n: int, *, seed: int = 7, recent: bool = True) -> None:
    """Append ``n`` LLM calls (with their events, tool calls, alerts, metrics and sessions) to a
    Cylestio database (a SQLite path or a PostgreSQL URL) in its own schema, ids continuing the
    source's.

    ``recent``: times fall in the hour after the source's last event, as new calls do; else they
    keep the benchmark's month, so they land in hours the source already has.
    """
    data = generate.fleet(n, seed=seed)
    postgres = str(target).startswith("postgres")
    with _connect(target) as con:
        cur = con.cursor()
        offsets = {}
        for table, _ in _LINKS.values():
            cur.execute(f"select coalesce(max(id), 0) from {table}")
            offsets[table] = cur.fetchone()[0]
        cur.execute("select max(timestamp) from events")
        last = cur.fetchone()[0]
        shift = _shift(pd.Timestamp(last)) if recent and last else None
        for attr, (table, links) in _LINKS.items():
            frame = getattr(data, attr).copy()
            frame["id"] += offsets[table]
            for column, target_table in links.items():
                frame[column] += offsets[target_table]
            for column in frame.columns:
                if pd.api.types.is_datetime64_any_dtype(frame[column]) and shift is not None:
                    frame[column] = shift(frame[column])
            frame = generate._as_text_times(frame)
            names = ", ".join(frame.columns)
            marks = ", ".join(("%s" if postgres else "?") for _ in frame.columns)
            rows = list(frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None))
            cur.executemany(f"insert into {table} ({names}) values ({marks})", rows)
        con.commit()


def _connect(target: Path | str):
    if str(target).startswith("postgres"):
        import psycopg

        return psycopg.connect(str(target))
    return closing(sqlite3.connect(target))


def _shift(after: pd.Timestamp):
    """Map the fleet's month onto the hour after ``after``, keeping the order of times."""
    span = np.timedelta64(generate.DAYS * 86_400, "s")

    def shift(times: pd.Series) -> pd.Series:
        fraction = (times - pd.Timestamp(generate.START)) / span
        return after + pd.to_timedelta(1 + fraction * 3599, unit="s").dt.round("us")

    return shift


def measure(n: int, new: int = 10_000, repeat: int = 3) -> dict:
    """Time a refresh after appending ``new`` calls to a copy of the N-call source, and a full
    reload of the same file, in this process, side by side; medians of ``repeat`` rounds."""
    from data_layer.refresh import open_watched, refresh
    from data_layer.sources import open_source

    source = generate.OUT / f"cylestio-{n}.db"
    if not source.exists():  # made by bench/prepare.py; never written here
        raise SystemExit(f"no {source}: run bench/prepare.py first")
    refreshes, reloads, unchanged = [], [], []
    with tempfile.TemporaryDirectory(prefix="agentwatch-refresh-") as scratch:
        copy = Path(scratch) / source.name
        shutil.copyfile(source, copy)
        started = time.perf_counter()
        store = open_watched(copy)
        load_s = time.perf_counter() - started
        for round_ in range(repeat):
            started = time.perf_counter()
            _, changed = refresh(store, lambda: open_source(copy), lambda *_: None)
            unchanged.append(time.perf_counter() - started)
            assert not changed
            append_calls(copy, new, seed=100 + round_)
            started = time.perf_counter()
            refreshed, changed = refresh(store, lambda: open_source(copy), lambda *_: None)
            refreshes.append(time.perf_counter() - started)
            if refreshed is not store or not changed:
                raise SystemExit("the refresh read the source in full instead of the new rows")
            started = time.perf_counter()
            full = open_source(copy)
            reloads.append(time.perf_counter() - started)
            if full.row_counts() != store.row_counts():
                raise SystemExit(f"refresh {store.row_counts()} != full reload {full.row_counts()}")
            del full
    return {
        "n": n,
        "new": new,
        "load_s": load_s,
        "unchanged_s": float(np.median(unchanged)),
        "refresh_s": float(np.median(refreshes)),
        "reload_s": float(np.median(reloads)),
    }


def table(result: dict) -> str:
    return (
        f"\nRefresh, N={result['n']:,} SQLite + {result['new']:,} new calls:"
        f" refresh {result['refresh_s']:.3f} s, full reload {result['reload_s']:.2f} s"
        f" ({result['reload_s'] / result['refresh_s']:.0f}x),"
        f" unchanged check {result['unchanged_s'] * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    result = measure(args.n, args.new, args.repeat)
    print(table(result), file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
