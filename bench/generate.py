"""Benchmark data: N LLM calls with proportional tool calls, alerts and metrics, in three forms.

* SQLite and PostgreSQL in Cylestio Monitor's schema (seed 000, ``data_layer/schemas``), the
  way Cylestio writes it: an ``events`` row per detail row, naive UTC text times (SQLite);
* Parquet, a flat OpenTelemetry-style export of the same calls and tool calls.

Per N LLM calls: N/4 tool calls, N/500 security alerts and flagged events, N/100 performance
metrics, N/50 sessions, 8 agents and 6 models (one unknown to genai-prices), over 30 days.
Everything is drawn with numpy from one seed; files are cached in ``bench/out`` by N.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from data_layer.writers import Rows, cylestio

OUT = Path(__file__).resolve().parent / "out"
DAYS = 30
START = np.datetime64("2025-06-01T00:00:00", "us")
AGENTS = [f"agent-{i}" for i in range(8)]
MODELS = [
    "gpt-4o",
    "gpt-4o-mini",
    "claude-3-5-sonnet-20241022",
    "claude-3-5-haiku-20241022",
    "o3-mini",
    "in-house-70b",
]
TOOLS = ["search", "fetch", "sql", "shell", "email", "calendar"]


@dataclass
class Fleet:
    """Every row of the benchmark dataset, as numpy columns (ids are 1-based like SQLite's)."""

    sessions: pd.DataFrame
    events: pd.DataFrame
    calls: pd.DataFrame
    tools: pd.DataFrame
    alerts: pd.DataFrame
    flags: pd.DataFrame
    perf: pd.DataFrame


def fleet(n: int, seed: int = 42) -> Fleet:
    rng = np.random.default_rng(seed)
    n_sessions = max(1, n // 50)
    session_agent = rng.integers(0, len(AGENTS), n_sessions)
    span_us = DAYS * 86_400 * 1_000_000

    def times(k: int) -> np.ndarray:
        return START + np.sort(rng.integers(0, span_us, k)).astype("timedelta64[us]")

    n_tools, n_alerts, n_perf = n // 4, max(1, n // 500), max(1, n // 100)
    kinds = np.repeat(
        ["LLM_RESPONSE", "TOOL_CALL", "SECURITY_ALERT", "PERFORMANCE_METRIC"], [n, n_tools, n_alerts, n_perf]
    )
    channels = np.repeat(["LLM", "TOOL", "SECURITY", "PERFORMANCE"], [n, n_tools, n_alerts, n_perf])
    total = len(kinds)
    session = rng.integers(0, n_sessions, total)
    level = np.where(rng.random(total) < 0.02, "ERROR", "INFO")
    events = pd.DataFrame(
        {
            "id": np.arange(1, total + 1),
            "agent_id": session_agent[session] + 1,
            "session_id": session + 1,
            "event_type": kinds,
            "channel": channels,
            "level": level,
            "timestamp": times(total)[rng.permutation(total)],
        }
    )
    model = rng.integers(0, len(MODELS), n)
    tokens_in = rng.lognormal(6.5, 1.0, n).astype(np.int64) + 1
    tokens_out = rng.lognormal(5.0, 1.0, n).astype(np.int64) + 1
    price = np.array([2.5, 0.15, 3.0, 0.8, 1.1, 0.0])[model]
    cost = (tokens_in * price + tokens_out * price * 4) / 1e6
    calls = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "event_id": np.arange(1, n + 1),
            "model": np.array(MODELS)[model],
            "prompt": "p",
            "response": "r",
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "duration_ms": (rng.lognormal(7.3, 0.8, n)).astype(np.int64),
            "is_stream": rng.random(n) < 0.3,
            "cost": np.where(rng.random(n) < 0.15, np.nan, cost),
        }
    )
    tools = pd.DataFrame(
        {
            "id": np.arange(1, n_tools + 1),
            "event_id": np.arange(n + 1, n + n_tools + 1),
            "tool_name": np.array(TOOLS)[rng.integers(0, len(TOOLS), n_tools)],
            "success": rng.random(n_tools) > 0.05,
            "duration_ms": rng.lognormal(5, 1, n_tools).astype(np.int64),
        }
    )
    first_alert = n + n_tools + 1
    alert_events = np.arange(first_alert, first_alert + n_alerts)
    alerts = pd.DataFrame(
        {
            "id": np.arange(1, n_alerts + 1),
            "event_id": alert_events,
            "alert_type": np.array(["prompt_injection", "pii", "dangerous_command"])[
                rng.integers(0, 3, n_alerts)
            ],
            "severity": np.array(["low", "medium", "high", "critical"])[rng.integers(0, 4, n_alerts)],
            "description": "alert",
            "matched_terms": '["ignore previous"]',
            "timestamp": events["timestamp"].to_numpy()[alert_events - 1],
        }
    )
    flags = pd.DataFrame(
        {
            "id": np.arange(1, n_alerts + 1),
            "event_id": alert_events,
            "alert_level": np.array(["suspicious", "dangerous"])[rng.integers(0, 2, n_alerts)],
            "matched_terms": '["rm -rf"]',
            "reason": "matched",
        }
    )
    perf = pd.DataFrame(
        {
            "id": np.arange(1, n_perf + 1),
            "event_id": np.arange(first_alert + n_alerts, first_alert + n_alerts + n_perf),
            "metric_type": np.array(["memory_mb", "cpu_percent"])[rng.integers(0, 2, n_perf)],
            "value": rng.uniform(1, 100, n_perf),
            "unit": "",
        }
    )
    perf["unit"] = np.where(perf["metric_type"] == "memory_mb", "MB", "%")
    start = events.groupby("session_id")["timestamp"].min()
    end = events.groupby("session_id")["timestamp"].max()
    sessions = pd.DataFrame(
        {
            "id": np.arange(1, n_sessions + 1),
            "agent_id": session_agent + 1,
            "start_time": start.reindex(np.arange(1, n_sessions + 1)).to_numpy(),
            "end_time": end.reindex(np.arange(1, n_sessions + 1)).to_numpy(),
        }
    )
    return Fleet(sessions, events, calls, tools, alerts, flags, perf)


# --- writers ---------------------------------------------------------------------------------


_TABLES = {
    "sessions": "sessions",
    "events": "events",
    "calls": "llm_calls",
    "tools": "tool_calls",
    "alerts": "security_alerts",
    "flags": "event_security",
    "perf": "performance_metrics",
}


def _tables(data: Fleet) -> dict[str, Rows | pd.DataFrame]:
    """Every Cylestio table's rows, times as the naive UTC text Cylestio writes on SQLite."""
    agents = Rows(("id", "agent_id", "name"), [(i + 1, a, a) for i, a in enumerate(AGENTS)])
    return {
        "agents": agents,
        **{table: _as_text_times(getattr(data, attr)) for attr, table in _TABLES.items()},
    }


def _as_text_times(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    return out


def write_sqlite(data: Fleet, path: Path) -> Path:
    """Cylestio's writer, as for the demo and the tests (it builds the indexes after the rows)."""
    path.unlink(missing_ok=True)
    return cylestio.WRITER.write_sqlite(path, _tables(data))


def write_postgres(data: Fleet, url: str) -> str:
    """Fill an empty PostgreSQL database with COPY in CSV, indexes built after the rows.

    Cylestio's writer gives only the DDL here. It sends rows one at a time (``write_row``), which
    keeps every value exact where CSV would turn an empty string into NULL (no benchmark value is
    one), and at 100k calls it took 25 s against this path's 18 s (best of three, same busy machine).
    """
    import psycopg

    tables, indexes = _statements(cylestio.postgres_ddl())
    with psycopg.connect(url, autocommit=True) as con:
        for statement in tables:
            con.execute(statement)
        with con.cursor().copy("copy agents (id, agent_id, name) from stdin") as copy:
            for i, a in enumerate(AGENTS):
                copy.write_row((i + 1, a, a))
        for attr, table in _TABLES.items():
            frame = _as_text_times(getattr(data, attr))
            with con.cursor().copy(
                f"copy {table} ({', '.join(frame.columns)}) from stdin (format csv)"
            ) as copy:
                for chunk in range(0, len(frame), 500_000):
                    buffer = io.StringIO()
                    frame.iloc[chunk : chunk + 500_000].to_csv(buffer, header=False, index=False)
                    copy.write(buffer.getvalue())
        for statement in indexes:
            con.execute(statement)
        for table in ("agents", *_TABLES.values()):
            con.execute(
                f"select setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (select coalesce(max(id), 1) from {table}))"
            )
        con.execute("analyze")
    return url


def _statements(sql: str) -> tuple[list[str], list[str]]:
    """The schema's CREATE TABLEs and CREATE INDEXes, apart: indexes are built after the rows."""
    parts = [p.strip() for p in sql.split(";") if p.strip()]
    parts = [re.sub(r"^(--[^\n]*\n)+", "", p).strip() for p in parts]
    tables = [p for p in parts if p.upper().startswith("CREATE TABLE")]
    indexes = [p for p in parts if p.upper().startswith("CREATE INDEX")]
    return tables, indexes


def write_parquet(data: Fleet, path: Path) -> Path:
    """The calls and tool calls as one flat export with OpenTelemetry GenAI names."""
    ev = data.events.set_index("id")
    calls = data.calls.join(ev, on="event_id")
    tools = data.tools.join(ev, on="event_id")
    flat = pd.DataFrame(
        {
            "timestamp": pd.concat(
                [calls["timestamp"], tools["timestamp"]], ignore_index=True
            ).dt.tz_localize("UTC"),
            "agent": np.array(AGENTS)[pd.concat([calls["agent_id"], tools["agent_id"]]).to_numpy() - 1],
            "session_id": pd.concat([calls["session_id"], tools["session_id"]], ignore_index=True).astype(
                str
            ),
            "gen_ai.request.model": pd.concat(
                [calls["model"], pd.Series([None] * len(tools))], ignore_index=True
            ),
            "gen_ai.usage.input_tokens": pd.concat(
                [calls["tokens_in"], pd.Series([None] * len(tools))], ignore_index=True
            ).astype("Int64"),
            "gen_ai.usage.output_tokens": pd.concat(
                [calls["tokens_out"], pd.Series([None] * len(tools))], ignore_index=True
            ).astype("Int64"),
            "cost_usd": pd.concat([calls["cost"], pd.Series([np.nan] * len(tools))], ignore_index=True),
            "latency_ms": pd.concat([calls["duration_ms"], tools["duration_ms"]], ignore_index=True).astype(
                "float64"
            ),
            "tool_name": pd.concat([pd.Series([None] * len(calls)), tools["tool_name"]], ignore_index=True),
        }
    ).sort_values("timestamp", kind="stable")
    pq.write_table(pa.Table.from_pandas(flat, preserve_index=False), path, row_group_size=1_000_000)
    return path


def cached(kind: str, n: int) -> Path:
    """The benchmark file for (kind, n) in bench/out, written on first use."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"cylestio-{n}.db" if kind == "sqlite" else OUT / f"export-{n}.parquet"
    if not path.exists():
        data = fleet(n)
        (write_sqlite if kind == "sqlite" else write_parquet)(data, path)
    return path
