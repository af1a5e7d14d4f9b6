"""CPU per figure: the chart builders on the cases of tests/test_charts_same.py.

    python -m bench.charts                                   # the builders as they are
    git show 89f6e83:ui/charts.py > /tmp/old_charts.py
    python -m bench.charts --against /tmp/old_charts.py      # and another version, interleaved

Figures are CPU-bound and a page draws up to 15, so a figure's CPU is a page rerun's. Time is
``time.process_time``, median of ``--repeat`` builds; with ``--against`` the two versions build
in turn in the same process, so that a shared machine's load falls on both alike.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from pathlib import Path
from types import ModuleType

import tests.test_charts_same as cases
from ui import charts, metric_panels

# A page's usual figures: bars over time by model, cost source and severity, the latency lines,
# bars by category, stacked bars, a histogram, the KPI cards' sparklines, the metric panels.
NAMES = [
    "bot_models_day", "bot_cost_source", "bot_severity", "lot_wide_day", "bars_agents",
    "bars_sessions_by_agent", "bars_status", "stacked_terms", "hist_ms", "spark_lines", "spark_bars",
    "panels",
]  # fmt: skip


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("charts_against", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu_ms(versions: dict[str, ModuleType], repeat: int) -> dict[str, dict[str, float]]:
    """Per case, per version, the median CPU ms of one build."""
    out = {}
    for name in NAMES:
        times: dict[str, list[float]] = {label: [] for label in versions}
        for _ in range(repeat):
            for label, module in versions.items():
                cases.charts = module  # the cases call the builders through these names
                cases.metric_panels = module if hasattr(module, "series_panels") else metric_panels
                started = time.process_time()
                cases.CASES[name]()
                times[label].append((time.process_time() - started) * 1000)
        out[name] = {label: statistics.median(t) for label, t in times.items()}
    cases.charts, cases.metric_panels = charts, metric_panels
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", type=Path, help="another ui/charts.py to time alongside")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    versions = {"current": charts} | ({"against": _module(args.against)} if args.against else {})
    for name, ms in cpu_ms(versions, args.repeat).items():
        print(f"{name:24s} " + "  ".join(f"{label} {v:6.1f} ms" for label, v in ms.items()))


if __name__ == "__main__":
    main()
