"""The rerun that finds its store due for a check against the source, as the app runs it (the check
in the background, waited for at most AGENTWATCH_REFRESH_WAIT_S) against waiting for the check
to end, as the app did before: one store, one AppTest session, side by side.

    python -m bench.due_rerun --n 10000000 --kind postgres [--page data] [--repeat 3]

The source is the benchmark's (``bench/prepare.py``), unchanged, so each check reads nothing but
the source's watermarks: at ten million calls in PostgreSQL, counting its rows is the cost.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def measure(n: int, kind: str, page: str, repeat: int) -> dict:
    """Median ms of a due rerun both ways, of the rerun after it, and of the check alone."""
    os.environ["AGENTWATCH_PUSHDOWN_ROWS"] = str(1 << 62)  # loaded, as bench/measure.py's "postgres"
    from streamlit.testing.v1 import AppTest

    from bench import measure, prepare
    from data_layer.refresh import open_watched, refresh
    from data_layer.sources import Location
    from ui import source as ui_source

    target = prepare.source(kind, n)
    store = open_watched(target)
    key = Location.parse(target).identity()

    def check() -> None:
        _, changed = refresh(store, lambda: store, lambda *_: None)
        assert not changed, "the benchmark's source changed"

    result = {"n": n, "kind": kind, "page": page, "check_ms": measure._median_ms(check, repeat)}
    for name, wait in (("waited", None), ("background", ui_source.refresh_wait())):
        ui_source._cache.clear()
        cache = ui_source._cache()
        cache.wait_s = wait
        cache.get(key, lambda: store)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.secrets["connections"] = {"agentwatch": {"url": target}}
        at.session_state["range"] = "30d"
        at.switch_page(f"pages/{page}.py").run()
        due, after = [], []
        for _ in range(repeat):
            cache.get(key, lambda: store).loaded_at = float("-inf")  # the refresh period is up
            due.append(_timed(at.run))
            cache.settle()
            after.append(_timed(at.run))
        if at.exception:
            raise SystemExit(f"{page}: {at.exception[0].message}")
        result[f"{name}_due_ms"] = float(np.median(due))
        result[f"{name}_after_ms"] = float(np.median(after))
    return result


def _timed(run) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def table(result: dict) -> str:
    return (
        f"\nDue rerun, N={result['n']:,} {result['kind']}, {result['page']} page:"
        f" check {result['check_ms']:.0f} ms;"
        f" rerun waiting for it {result['waited_due_ms']:.0f} ms,"
        f" checked in the background {result['background_due_ms']:.0f} ms"
        f" ({result['waited_due_ms'] / result['background_due_ms']:.1f}x);"
        f" the rerun after {result['background_after_ms']:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--kind", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--page", default="data")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.argv = sys.argv[:1]  # the app reads --source from the command line: none here
    result = measure(args.n, args.kind, args.page, args.repeat)
    print(table(result), file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
