"""The scale benchmark: load time, peak memory and per-page query time against a pandas baseline.

    python bench/run.py [--quick] [--json bench/results.json] [--sources sqlite,postgres,parquet]
    python bench/run.py --sources postgres,postgres-pushdown (queries pushed down beside loaded)
    python bench/run.py --sharded [--sharded-n 200000] [--json bench/results-sharded.json]
    python bench/run.py --summarize [--repeat 5]
    python bench/run.py --refresh [--quick | --sizes 1000000]
    python bench/run.py --due --sizes 10000000 --sources postgres

--quick runs 100k and 1M LLM calls; the full run adds 10M. Each (N, source) is measured in its
own process (bench/measure.py), so peak memory is that load's alone. The table printed gives,
per page, our query time, the baseline's, the ratio baseline/ours, the AppTest run that first
shows the page (cold) and a full AppTest rerun after a filter change.
--sharded is a run of its own, outside --quick: pushdown on PostgreSQL sharded over two more
clusters through postgres_fdw (bench/sharded.py). --summarize is one too: the summarize command
against a pandas reader on the 1M-call SQLite, cold processes (bench/summarize.py). So is
--refresh: per N, a refresh after 10,000 new calls against a full reload of the same SQLite file
(bench/refresh.py). And --due: per N and database source, the rerun that finds its store due for
a check, checked in the background against waiting for the check (bench/due_rerun.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def run_one(n: int, source: str, repeat: int) -> dict:
    """Measure one (N, source) in a fresh process; its last stdout line is the JSON result.

    The source is generated first, in a process of its own: generating 10M rows takes gigabytes,
    and in the measuring process that would count as the load's peak memory.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    prepare = f"from bench import prepare; prepare.source({source!r}, {n})"
    subprocess.run([sys.executable, "-c", prepare], cwd=ROOT, env=env, check=True)
    return _child("bench.measure", "--n", str(n), "--source", source, "--repeat", str(repeat))


def run_sharded(n: int) -> dict:
    """The sharded pushdown run in a process of its own; it starts and removes its clusters."""
    return _child("bench.sharded", "--n", str(n))


def _child(module: str, *args: str) -> dict:
    """Run ``python -m module args`` in a process of its own and read the JSON its last line prints."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{module} {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(runs: list[dict]) -> str:
    lines = []
    for run in runs:
        lines.append(
            f"\nN={run['n']:,} {run['source']}: load {run['load_s']:.2f} s,"
            + (f" rollups ready {run['rollups_s']:.2f} s," if run.get("rollups_s") is not None else "")
            + f" peak RSS {run['peak_rss_mb']:,.0f} MB"
        )
        lines.append(
            f"  {'page':<10} {'ours ms':>9} {'pandas ms':>10} {'ratio':>7} {'open ms':>8} {'rerun ms':>9}"
            f" {'queries':>8}"
        )
        for page, p in run["pages"].items():
            base = p["baseline_ms"]
            # a page that sends no statement (the source has none of its data) has nothing to compare
            ratio = "" if base is None or not p["queries"] else f"{base / p['query_ms']:.1f}x"
            base = "–" if base is None else f"{base:.1f}"
            opened = "–" if p.get("open_ms") is None else f"{p['open_ms']:.0f}"  # older results lack it
            lines.append(
                f"  {page:<10} {p['query_ms']:>9.1f} {base:>10} {ratio:>7} {opened:>8}"
                f" {p['rerun_ms']:>9.0f} {p['queries']:>8}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k and 1M LLM calls only")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--sources", default="sqlite,postgres,parquet")
    parser.add_argument("--sizes", help="comma-separated N, overriding --quick")
    parser.add_argument("--sharded", action="store_true", help="pushdown sharded over postgres_fdw, alone")
    parser.add_argument("--sharded-n", type=int, default=200_000, help="LLM calls for --sharded")
    parser.add_argument("--repeat", type=int, default=5, help="runs per median (noisy machine: more)")
    parser.add_argument("--summarize", action="store_true", help="summarize against pandas, alone")
    parser.add_argument(
        "--refresh", action="store_true", help="refresh after new calls vs full reload, alone"
    )
    parser.add_argument(
        "--due", action="store_true", help="a rerun due for a check: background vs waiting, alone"
    )
    args = parser.parse_args()
    if args.summarize:
        from bench.summarize import table as summarize_table

        print(summarize_table(_child("bench.summarize", "--repeat", str(args.repeat))), flush=True)
        _footer()
        return
    if args.sharded:
        from bench.sharded import table as sharded_table

        print(f"measuring N={args.sharded_n:,} sharded...", file=sys.stderr, flush=True)
        result = run_sharded(args.sharded_n)
        print(sharded_table(result), flush=True)
        _footer()
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"sharded": result}, indent=2))
        return
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [100_000, 1_000_000]
    if not args.sizes and not args.quick:
        sizes.append(10_000_000)
    if args.refresh:
        from bench.refresh import table as refresh_table

        for n in sizes:
            print(f"measuring the refresh at N={n:,}...", file=sys.stderr, flush=True)
            print(refresh_table(_child("bench.refresh", "--n", str(n), "--repeat", "3")), flush=True)
        _footer()
        return
    if args.due:
        from bench.due_rerun import table as due_table

        for n in sizes:
            for kind in args.sources.split(","):
                print(f"measuring a due rerun at N={n:,} {kind}...", file=sys.stderr, flush=True)
                print(due_table(_child("bench.due_rerun", "--n", str(n), "--kind", kind)), flush=True)
        _footer()
        return
    runs = []
    for n in sizes:
        for source in args.sources.split(","):
            print(f"measuring N={n:,} {source}...", file=sys.stderr, flush=True)
            runs.append(run_one(n, source, args.repeat))
            print(table(runs[-1:]), flush=True)
    _footer()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"runs": runs}, indent=2))


def _footer() -> None:
    machine = f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}"
    print(f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine}")


if __name__ == "__main__":
    main()
