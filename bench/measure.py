"""One benchmark measurement, in a process of its own so its peak memory is its own.

    python -m bench.measure --n 1000000 --source sqlite

Prints one JSON object: load time, peak RSS, and per page the time of the queries one rerun of
the page makes after a filter change (median of 5), the pandas baseline for the same page, the
AppTest run that first shows the page (cold: the page's queries have not run yet) and one full
AppTest rerun of the page after the filter change.

``--source postgres-pushdown`` opens the PostgreSQL database with queries pushed down, as the
app does above AGENTWATCH_PUSHDOWN_ROWS (set to 0 here, so any size is); its "load" is the
open, rollups included. It has no pandas baseline: the loaded sources' rows are its reference.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPEAT = 5
PUSHDOWN = "postgres-pushdown"
SOURCES = ["sqlite", "postgres", "parquet", PUSHDOWN]


def _peak_rss_mb() -> float:
    """VmHWM, the high-water mark of this process's own memory. getrusage's ru_maxrss is not
    used: Linux carries it across exec, so it can report the size of the parent that spawned us.
    """
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def _median_ms(run, repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(n: int, kind: str, repeat: int = REPEAT) -> dict:
    pushdown = kind == PUSHDOWN
    # Read when data_layer.sources is first imported. 0: the app pushes the source down. Loaded
    # runs raise it past any N: above 5M rows the app would push a PostgreSQL source down itself,
    # and the pages measured would not be the loaded store's.
    os.environ["AGENTWATCH_PUSHDOWN_ROWS"] = "0" if pushdown else str(1 << 62)
    from bench import prepare
    from data_layer.refresh import open_watched, open_watched_pushdown

    source = prepare.source(kind, n)
    started = time.perf_counter()
    # Opened as the app opens a source: with the watermarks its refreshes compare against. A store
    # without them is read again in full when the refresh period is up, in the middle of a page.
    store = open_watched_pushdown(source) if pushdown else open_watched(source)
    load_s = time.perf_counter() - started
    rollups_s = None
    if pushdown:  # the rollups are built on a thread of their own; pages are measured once ready
        store.rollups_ready.wait()
        rollups_s = time.perf_counter() - started
    peak = _peak_rss_mb()

    ui_setup = _app_setup(store, source, pushdown)
    baseline, frames, filters = ui_setup["baseline"], ui_setup["frames"], ui_setup["filters"]
    pages = {}
    for page, (statements, open_ms, rerun_ms) in _recorded_pages(store, source, ui_setup["changed"]).items():
        pages[page] = {
            "query_ms": _median_ms(lambda statements=statements: [store.run(s) for s in statements], repeat),
            "queries": len(statements),
            "baseline_ms": (  # a page the baseline has no counterpart for is shown without one
                _median_ms(lambda page=page: baseline[page](frames, filters), repeat)
                if page in baseline and frames is not None
                else None
            ),
            "open_ms": open_ms,
            "rerun_ms": rerun_ms,
        }
    result = {"n": n, "source": kind, "load_s": load_s, "peak_rss_mb": peak, "pages": pages}
    return result | ({"rollups_s": rollups_s} if pushdown else {})


def _app_setup(store, source: str, pushdown: bool) -> dict:
    """The filter change every page is measured after, and the baseline's frames and filters."""
    from streamlit import config

    config.set_option("client.showErrorDetails", "full")  # a failing page says why

    from bench.baseline import PAGES as BASELINE
    from bench.baseline import Frames
    from data_layer.filters import Filters
    from data_layer.sources import Location
    from ui import filters as ui_filters
    from ui import source as ui_source

    # The app finds the store already loaded, as a second session on the same source would.
    key = Location.parse(source).identity() + (":pushdown" if pushdown else "")
    ui_source._cache().get(key, lambda: store, refreshable=False)
    agents = sorted(store.frame("agents")["agent"])[:2]
    end = ui_filters.anchor(store)
    filters = Filters(start=end - timedelta(days=30), end=end, agents=tuple(agents))
    changed = {"range": "30d", "agents": agents}
    frames = None if pushdown else Frames.load(store)  # pushdown's figures are the loaded ones'
    return {"changed": changed, "frames": frames, "filters": filters, "baseline": BASELINE}


def _recorded_pages(store, source: str, changed: dict) -> dict[str, tuple[list, float, float]]:
    """Per page, every statement one AppTest rerun after the filter change sends, the time of
    the run that first shows the page (cold), and the rerun's time."""
    from streamlit.testing.v1 import AppTest

    from ui.pages_list import PAGES  # after the load: streamlit's memory is not the load's

    backend_class = type(store)  # the Store or the pushdown backend: its run is recorded
    pages = {}
    for page in PAGES:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.secrets["connections"] = {"agentwatch": {"url": str(source)}}
        at.session_state["range"] = "30d"
        started = time.perf_counter()
        at.run()
        if page != "overview":
            started = time.perf_counter()
            at.switch_page(f"pages/{page}.py").run()
        open_ms = (time.perf_counter() - started) * 1000
        for key, value in changed.items():
            at.session_state[key] = value
        recorded: list = []
        original = backend_class.run

        def recording(self, stmt, _original=original, _recorded=recorded):
            _recorded.append(stmt)
            return _original(self, stmt)

        backend_class.run = recording
        try:
            started = time.perf_counter()
            at.run()
            rerun_ms = (time.perf_counter() - started) * 1000
        finally:
            backend_class.run = original
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].message}\n{''.join(at.exception[0].stack_trace)}")
        pages[page] = (recorded, open_ms, rerun_ms)
    return pages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--source", choices=SOURCES, required=True)
    parser.add_argument("--repeat", type=int, default=REPEAT, help="runs per median (noisy machine: more)")
    args = parser.parse_args()
    # The app reads ``--source`` from the command line too, before its secrets: left in place,
    # ours ("sqlite") would be the app's source and the pages recorded would not be the store's.
    sys.argv = sys.argv[:1]
    os.environ.setdefault("AGENTWATCH_DEMO_DIR", str(ROOT / "bench" / "out" / "demo"))
    print(json.dumps(measure(args.n, args.source, args.repeat)))


if __name__ == "__main__":
    main()
