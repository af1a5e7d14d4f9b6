"""How long after rows are written an open page shows them, with no click: the real server and
Chromium, the freshness line's own runs doing the checking (``ui/freshness.py``).

    python -m bench.live_redraw [--period 5] [--appends 4]

A 500-call SQLite file (``bench.generate``) is served with ``AGENTWATCH_REFRESH_S=period`` and
its Overview opened; each round appends 100 calls and times until the browser shows a finished
run with the new count. Expect about a period at most, plus the check and the run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def delays(period: float, appends: int) -> list[float]:
    """Seconds from each append to the page redrawn with it."""
    from bench import generate
    from bench.refresh import append_calls
    from tests.browser import app_server, chromium_page, settled, visit

    folder = Path(tempfile.mkdtemp(prefix="live-redraw-"))
    path = generate.write_sqlite(generate.fleet(500, seed=3), folder / "live.db")
    env = {"AGENTWATCH_DEMO_DIR": str(folder / "demo"), "AGENTWATCH_REFRESH_S": f"{period:g}"}
    found = []
    with app_server("--source", str(path), env=env) as url, chromium_page(1440, 1000) as page:
        run = visit(page, f"{url}/?range=All", "Overview")
        for i in range(appends):
            append_calls(path, 100, seed=10 + i)
            started = time.perf_counter()
            run = settled(page, after=run.number, title="Overview", text=f"{600 + 100 * i:,} LLM calls")
            found.append(time.perf_counter() - started)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period", type=float, default=5.0, help="AGENTWATCH_REFRESH_S, seconds")
    parser.add_argument("--appends", type=int, default=4)
    args = parser.parse_args()
    found = delays(args.period, args.appends)
    shown = ", ".join(f"{s:.2f}" for s in found)
    print(f"period {args.period:g} s: rows written -> page redrawn with them {shown} s")
    print(f"median {statistics.median(found):.2f} s")


if __name__ == "__main__":
    main()
