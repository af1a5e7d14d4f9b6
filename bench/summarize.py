"""``python -m data_layer summarize`` of a Cylestio SQLite, from a cold process, against pandas.

    python bench/summarize.py [--n 1000000] [--repeat 5]

Each run is a fresh process, so imports count, as they do for whoever types the command:
(a) our CLI, ``--json``; (b) a pandas reader doing the same: ``pandas.read_sql`` of the Cylestio
tables the figures need (the columns they need, not the prompts), joins and group-bys, with the
same genai-prices estimates for calls without a recorded cost. The two are run in turn, the
median of ``--repeat`` runs of each is taken, and their figures must agree (integers exactly,
floats to 1e-9) before a ratio is printed. Also timed: ``python -c "import data_layer"``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PERCENTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
_COUNTED = ("agents", "sessions", "events", "llm_calls", "tool_calls", "security_alerts", "event_security",
            "performance_metrics")  # fmt: skip


def pandas_summary(path: str) -> dict[str, Any]:
    """The summary's figures the way a pandas script gets them: read_sql, merge, group-by."""
    import sqlite3

    import pandas as pd

    from data_layer.pricing import price_table  # the same genai-prices rows, so the same estimates

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def read(sql: str) -> pd.DataFrame:
        return pd.read_sql(sql, con)

    counts = {t: int(read(f"select count(*) n from {t}")["n"][0]) for t in _COUNTED}
    agents = read("select id, agent_id from agents")
    events = read("select id, agent_id, level, timestamp from events").merge(
        agents.rename(columns={"id": "agent_id", "agent_id": "agent"}), on="agent_id"
    )
    events["ts"] = _utc(events["timestamp"])
    ctx = events[["id", "ts", "level"]].rename(columns={"id": "event_id"})
    calls = read("select event_id, model, tokens_in, tokens_out, cost, duration_ms from llm_calls").merge(
        ctx, on="event_id"
    )
    tools = read("select event_id, success from tool_calls").merge(ctx, on="event_id")
    alerts = read("select event_id, timestamp, severity from security_alerts").merge(ctx, on="event_id")
    flagged = read("select event_id, alert_level from event_security")
    flagged = flagged[flagged["alert_level"].str.lower().isin(["suspicious", "dangerous"])]
    flagged = flagged.merge(ctx, on="event_id")
    metrics = read("select event_id, metric_type, value from performance_metrics").merge(ctx, on="event_id")
    sessions = read("select s.start_time, s.end_time from sessions s join agents a on a.id = s.agent_id")

    times = [events["ts"], _utc(alerts["timestamp"]).fillna(alerts["ts"])]
    times += [_utc(sessions["start_time"]), _utc(sessions["end_time"])]
    estimated = _estimates(calls, price_table)
    recorded = calls["cost"].notna()
    latency = calls["duration_ms"].astype("float64").quantile(list(PERCENTILES.values()))
    by_metric = metrics.groupby("metric_type")["value"]
    quantiles = by_metric.quantile(list(PERCENTILES.values())).unstack()
    kept = len(agents) + len(events) + len(calls) + len(tools) + len(alerts) + len(flagged) + len(metrics)
    kept += len(sessions)
    return {
        "agents": len(agents),
        "events": counts["events"],
        "time_range": {
            "start": min(t.min() for t in times).isoformat(),
            "end": max(t.max() for t in times).isoformat(),
        },
        "llm": {
            "calls": len(calls),
            "failures": int(calls["level"].str.lower().isin(["error", "critical"]).sum()),
            "tokens_in": int(calls["tokens_in"].sum()),
            "tokens_out": int(calls["tokens_out"].sum()),
            "cost_usd": float(calls["cost"].sum()),
            "calls_without_cost": int((~recorded).sum()),
            "cost_usd_estimated": float(estimated.sum()),
            "latency_ms": {name: float(v) for name, v in zip(PERCENTILES, latency, strict=True)},
        },
        "tools": {"calls": len(tools), "failures": int((tools["success"] == 0).sum())},
        "alerts": {
            "total": len(alerts),
            "by_severity": alerts["severity"].str.lower().value_counts().to_dict(),
        },
        "flagged_events": len(flagged),
        "metrics": {
            name: {
                "points": int(by_metric.count()[name]),
                "mean": float(by_metric.mean()[name]),
                **{p: float(quantiles.loc[name, q]) for p, q in PERCENTILES.items()},
            }
            for name in sorted(by_metric.groups)
        },
        "read": {"records": sum(counts.values()), "left_out": sum(counts.values()) - kept},
    }


def _utc(text):
    import pandas as pd

    return pd.to_datetime(text, utc=True, format="ISO8601")


def _estimates(calls, price_table):
    """genai-prices' estimate for each call without a recorded cost that one prices."""
    import pandas as pd

    todo = calls[calls["cost"].isna() & calls[["model", "tokens_in", "tokens_out"]].notna().all(axis=1)]
    naive = todo["ts"].dt.tz_localize(None)
    todo = todo.assign(day=naive.dt.normalize(), naive=naive)
    pairs = todo[["model", "day"]].drop_duplicates()
    prices = price_table([(m, d.date()) for m, d in pairs.itertuples(index=False)])
    prices["day"] = prices["day"].astype("datetime64[us]")
    todo = todo.assign(day=todo["day"].astype("datetime64[us]")).merge(prices, on=["model", "day"])
    hit = (
        (todo["starts"] <= todo["naive"])
        & (todo["naive"] < todo["ends"])
        & (todo["tokens_in"] > todo["above_tokens_in"])
        & (todo["tokens_in"] <= todo["up_to_tokens_in"])
    )
    todo = todo[hit]
    return pd.Series(
        todo["tokens_in"] * todo["usd_in"] + todo["tokens_out"] * todo["usd_out"] + todo["usd_call"]
    )


def comparable(summary: dict[str, Any]) -> dict[str, Any]:
    """Our summary's figures in the pandas reader's shape (its read section as two counts)."""
    read = summary["read"]
    out = {k: v for k, v in summary.items() if k not in ("schema", "tasks", "read")}
    out["llm"] = {**out["llm"], "latency_ms": dict(out["llm"]["latency_ms"])}
    out["read"] = {"records": read["records"], "left_out": sum(read["skipped"].values())}
    return out


def agree(ours: Any, theirs: Any, path: str = "summary") -> None:
    """Integers and text exactly, floats to 1e-9: pandas adds in another order."""
    if isinstance(ours, dict):
        assert set(ours) == set(theirs), f"{path}: {sorted(ours)} != {sorted(theirs)}"
        for key in ours:
            agree(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(ours, float) or isinstance(theirs, float):
        assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9), f"{path}: {ours} != {theirs}"
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


def timed(argv: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds (user + system, every thread) of one fresh process, and what it printed.

    On a shared machine the wall time swings with the others' load; the CPU time much less.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    return seconds, cpu, done.stdout


def measure(path: Path, repeat: int) -> dict[str, Any]:
    """Medians of ``repeat`` cold runs of each, taken in turn so that load on the machine is shared."""
    ours_cmd = [sys.executable, "-m", "data_layer", "summarize", str(path), "--json"]
    pandas_cmd = [sys.executable, "-m", "bench.summarize", "--pandas", str(path)]
    import_cmd = [sys.executable, "-c", "import data_layer"]
    commands = {"ours": ours_cmd, "pandas": pandas_cmd, "import": import_cmd}
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        printed = {}
        for name, argv in commands.items():
            seconds, cpu_seconds, printed[name] = timed(argv)
            wall[name].append(seconds)
            cpu[name].append(cpu_seconds)
        agree(comparable(json.loads(printed["ours"])), json.loads(printed["pandas"]))
    return {
        "source": str(path),
        "wall": wall,
        "cpu": cpu,
        **{f"{name}_s": statistics.median(values) for name, values in wall.items()},
        **{f"{name}_cpu_s": statistics.median(values) for name, values in cpu.items()},
    }


def table(result: dict[str, Any]) -> str:
    runs = len(result["wall"]["ours"])

    def line(what: str, suffix: str) -> str:
        ours, pandas, imports = (result[f"{name}{suffix}"] for name in ("ours", "pandas", "import"))
        return (
            f"  {what:<4} ours {ours:6.2f} s   pandas {pandas:6.2f} s   ratio {pandas / ours:4.1f}x"
            f"   (python -c 'import data_layer' {imports:.2f} s)"
        )

    return "\n".join(
        [
            f"\nsummarize {Path(result['source']).name}, cold processes, median of {runs}; figures agree",
            line("wall", "_s"),
            line("cpu", "_cpu_s"),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="LLM calls of the Cylestio SQLite")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pandas", metavar="PATH", help="(internal) print the pandas reader's figures")
    args = parser.parse_args()
    if args.pandas:
        print(json.dumps(pandas_summary(args.pandas)))
        return
    from bench import prepare

    path = prepare.path_for("sqlite", args.n)
    if not path.exists():  # made by bench/prepare.py (bench/run.py makes it on its first run)
        raise SystemExit(f"{path} does not exist: run python bench/run.py --sources sqlite first")
    result = measure(path, args.repeat)
    print(table(result))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
