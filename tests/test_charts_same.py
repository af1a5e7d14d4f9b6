"""The figure builders draw exactly what they drew when they were written with plotly.express.

``tests/fixtures/charts/reference.json`` holds, for each case below, the figure as the browser
receives it (``plotly.io.to_json``), built by the plotly.express implementation of ``ui/charts.py``
(the commit is the fixture's ``charts_commit``). Building the figures with graph_objects in one
pass is much cheaper, but Plotly draws from this JSON alone: if it is the same, so is the chart:
colours, order, hover text, legend, axes, the raw value in ``customdata`` that a click filters by,
and the escaped names.

The only normalisation is of encodings that draw alike: a typed array (``bdata``) is compared as
its numbers, NaN as null, an empty object (``"title": {}``, which sets nothing) as absent, and the
template (Plotly's default, the same large dict on every figure) by a digest.

One change was made on purpose since (the fixture's ``changed_on_purpose`` names the cases and
why): rows without a value in the colour column are drawn, as a grey series "(no model)", where
plotly.express left them out and a stacked chart added up to less than the page's totals.

Regenerate only on purpose, from a committed ``ui/charts.py``:
``PYTHONPATH=. python -m tests.test_charts_same``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from ui import charts, metric_panels, palette

REFERENCE = Path(__file__).parent / "fixtures" / "charts" / "reference.json"
TEMPLATE = "plotly"

MODELS = ["claude-3", "gpt-4o", "<b>x</b>", "llama & co", "mistral", "o1"]
AGENTS = ["planner", "coder", "<i>reviewer</i>"]
PALETTES = {"model": palette.palette_for(sorted(MODELS)), "agent": palette.palette_for(sorted(AGENTS))}


def _times(n: int, bucket: str, start: str = "2026-03-01") -> pd.Series:
    step = charts.BUCKET_WIDTHS[bucket]
    return pd.Series(
        [pd.Timestamp(start, tz="UTC") + i * step for i in range(n)], dtype="datetime64[us, UTC]"
    )


def _over_time(n: int, bucket: str, dim: str, values: list, y: str = "calls", dtype: str | None = None):
    """``n`` buckets, one row per bucket and value of ``dim`` (a few left out), as the queries give."""
    rows = [
        (t, v, float((i * 7 + j * 3) % 11) if y == "cost_usd" else (i * 7 + j * 3) % 11)
        for i, t in enumerate(_times(n, bucket))
        for j, v in enumerate(values)
        if (i + j) % 4 != 3
    ]
    frame = pd.DataFrame(rows, columns=["bucket", dim, y])
    frame["bucket"] = frame["bucket"].astype("datetime64[us, UTC]")
    if dtype:
        frame[dim] = frame[dim].astype(dtype)
    return frame


def _wide(n: int, bucket: str, columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({"bucket": _times(n, bucket)})
    for k, col in enumerate(columns):
        frame[col] = [None if (i + k) % 5 == 4 else 100.0 * (k + 1) + i for i in range(n)]
    return frame


def _cats(names: list[str], y: str, *, extra: dict | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"name": names, y: [float(10 * (i + 1)) for i in range(len(names))]})
    return frame.assign(**(extra or {}))


def _hist(ends: list[float]) -> pd.DataFrame:
    starts = [0.0, *ends][: len(ends)]
    return pd.DataFrame(
        {"bin_start": starts, "bin_end": ends, "count": [3 * i + 1 for i in range(len(ends))]}
    )


def _bot(frame: pd.DataFrame, y: str, bucket: str, color: str | None = None, **kw) -> go.Figure:
    return charts.bars_over_time(
        frame, y, title=f"{y} per {bucket}", y_title=y, bucket=bucket, color=color, **kw
    )


def _lot(frame: pd.DataFrame, y, bucket: str, color: str | None = None, **kw) -> go.Figure:
    return charts.lines_over_time(
        frame, y, title=f"per {bucket}", y_title="ms", bucket=bucket, color=color, **kw
    )


def _na_model() -> pd.DataFrame:
    frame = _over_time(5, "day", "model", MODELS[:3])
    frame.loc[1, "model"] = None
    frame.loc[4, "calls"] = None
    return frame


def _one_model() -> pd.DataFrame:
    return _over_time(4, "day", "model", ["gpt-4o"])


def _metric_series() -> tuple[pd.DataFrame, pd.DataFrame]:
    times = _times(8, "hour")
    series = pd.concat(
        [
            pd.DataFrame({"bucket": times, "name": n, "unit": u, "mean": [float(i * k) for i in range(8)]})
            for k, (n, u) in enumerate([("cpu", "%"), ("<b>mem</b>", None)], start=1)
        ]
    )
    limits = pd.DataFrame(
        {
            "metric": ["cpu", "cpu", "<b>mem</b>"],
            "level": ["warning", "critical", "warning"],
            "agent": [None, "coder", None],
            "threshold": [85.0, 95.0, 5.0],
            "samples": [1200, 1200, 8],
            "breaches": [3, 1, 2],
        }
    )
    return series, limits


def _long_series() -> pd.DataFrame:
    times = _times(30, "hour")
    return pd.DataFrame(
        {"bucket": times, "name": "cpu", "unit": "%", "mean": [float(i % 7) * 15 for i in range(30)]}
    )


CASES: dict[str, Callable[[], go.Figure]] = {
    # bars_over_time: palettes, fixed colour maps, no colour, orders, names to escape, NA, tick logic.
    "bot_models_day": lambda: _bot(
        _over_time(30, "day", "model", MODELS), "calls", "day", "model", palettes=PALETTES
    ),
    "bot_models_object": lambda: _bot(
        _over_time(7, "day", "model", MODELS, dtype="object"), "calls", "day", "model", palettes=PALETTES
    ),
    "bot_models_no_palette": lambda: _bot(_over_time(3, "week", "model", MODELS), "calls", "week", "model"),
    "bot_models_small_palette": lambda: _bot(
        _over_time(3, "day", "model", MODELS),
        "calls",
        "day",
        "model",
        palettes={"model": {"gpt-4o": "#000000"}},
    ),
    "bot_severity": lambda: _bot(
        _over_time(10, "day", "severity", ["low", "critical", "weird", "high", "medium"], "alerts"),
        "alerts",
        "day",
        "severity",
    ),
    "bot_cost_source": lambda: _bot(
        _over_time(48, "hour", "cost_source", ["recorded", "estimated", "unknown"], "cost_usd"),
        "cost_usd",
        "hour",
        "cost_source",
    ),
    "bot_status": lambda: _bot(_over_time(2, "day", "status", ["failed", "ok"]), "calls", "day", "status"),
    "bot_agents_one_bucket": lambda: _bot(
        _over_time(1, "day", "agent", AGENTS), "calls", "day", "agent", palettes=PALETTES
    ),
    "bot_one_value": lambda: _bot(_one_model(), "calls", "day", "model", palettes=PALETTES),
    "bot_na": lambda: _bot(_na_model(), "calls", "day", "model", palettes=PALETTES),
    "bot_all_na": lambda: _bot(_one_model().assign(model=None), "calls", "day", "model", palettes=PALETTES),
    "bot_na_and_one": lambda: _bot(
        _na_model().query("model != 'gpt-4o' and model != 'claude-3'"), "calls", "day", "model"
    ),
    "bot_no_color": lambda: _bot(
        _over_time(12, "hour", "model", ["m"]).drop(columns="model"), "calls", "hour"
    ),
    "bot_no_color_13": lambda: _bot(
        _over_time(13, "week", "model", ["m"]).drop(columns="model"), "calls", "week"
    ),
    "bot_empty": lambda: _bot(
        _over_time(0, "day", "model", MODELS), "calls", "day", "model", palettes=PALETTES
    ),
    # lines_over_time: wide (the pages' p50/p95/p99) and long, with and without markers.
    "lot_wide_day": lambda: _lot(_wide(30, "day", ["p50", "p95", "p99"]), ["p50", "p95", "p99"], "day"),
    "lot_wide_one": lambda: _lot(_wide(1, "hour", ["p50", "p95"]), ["p50", "p95"], "hour"),
    "lot_wide_many": lambda: _lot(_wide(70, "hour", ["p50", "p95"]), ["p50", "p95"], "hour"),
    "lot_single_column": lambda: _lot(_wide(5, "week", ["p50"]), "p50", "week"),
    "lot_color": lambda: _lot(
        _over_time(6, "day", "model", MODELS[:4], "ms"), "ms", "day", "model", palettes=PALETTES
    ),
    "lot_color_na": lambda: _lot(_na_model(), "calls", "day", "model", palettes=PALETTES),
    "lot_color_many": lambda: _lot(_over_time(40, "day", "agent", AGENTS, "ms"), "ms", "day", "agent"),
    # bars: plain categories, palettes, status colours, horizontal with another colour, ids, NA.
    "bars_plain": lambda: charts.bars(
        _cats(["read", "<script>", "write"], "p95"), "name", "p95", title="t", y_title="ms"
    ),
    "bars_agents": lambda: charts.bars(
        _cats(AGENTS, "cost_usd").rename(columns={"name": "agent"}),
        "agent",
        "cost_usd",
        palettes=PALETTES,
        title="Cost by agent",
        y_title="USD",
    ),
    "bars_status": lambda: charts.bars(
        _cats(["open", "resolved", "acknowledged"], "alerts").rename(columns={"name": "status"}),
        "status",
        "alerts",
        title="Alerts by status",
        y_title="alerts",
    ),
    "bars_horizontal_types": lambda: charts.bars(
        _cats(["pii", "<b>inj</b>", "exfil"], "alerts").rename(columns={"name": "type"}),
        "type",
        "alerts",
        horizontal=True,
        title="Alerts by type",
        y_title="alerts",
    ),
    "bars_sessions_by_agent": lambda: charts.bars(
        _cats(
            ["3271", "s-<2>", "77", "9"],
            "cost_usd",
            extra={"agent": ["coder", "planner", "coder", "<i>reviewer</i>"]},
        ).rename(columns={"name": "session"}),
        "session",
        "cost_usd",
        color="agent",
        palettes=PALETTES,
        horizontal=True,
        title="Most expensive sessions",
        y_title="USD",
    ),
    "bars_vertical_by_agent": lambda: charts.bars(
        _cats(["s1", "s2", "s3"], "cost_usd", extra={"agent": ["coder", None, "planner"]}).rename(
            columns={"name": "session"}
        ),
        "session",
        "cost_usd",
        color="agent",
        palettes=PALETTES,
        title="t",
        y_title="USD",
    ),
    "bars_one_agent_color": lambda: charts.bars(
        _cats(["1", "2"], "cost_usd", extra={"agent": ["coder", "coder"]}).rename(
            columns={"name": "session"}
        ),
        "session",
        "cost_usd",
        color="agent",
        palettes=PALETTES,
        horizontal=True,
        title="t",
        y_title="USD",
    ),
    "bars_na": lambda: charts.bars(
        _cats(["a", "b", "c"], "v").assign(v=[1.5, None, 2.0]), "name", "v", title="t", y_title="v"
    ),
    "bars_one": lambda: charts.bars(_cats(["only"], "v"), "name", "v", title="t", y_title="v"),
    "bars_models_ratio": lambda: charts.bars(
        _cats(MODELS, "r").rename(columns={"name": "model"}),
        "model",
        "r",
        palettes=PALETTES,
        title="t",
        y_title="r",
    ),
    # stacked_bars, histogram, sparkline, series_panels.
    "stacked_terms": lambda: charts.stacked_bars(
        pd.DataFrame(
            {"term": ["ssn", "<img src=x>", "key & id"], "alerts": [5, 3, 0], "flagged_events": [2, None, 1]}
        ),
        "term",
        {"alerts": "alerts", "flagged_events": "flagged events"},
        title="Most matched terms",
        x_title="times matched",
    ),
    "stacked_many": lambda: charts.stacked_bars(
        pd.DataFrame({"term": [f"t{i}" for i in range(12)], "a": range(12), "b": range(12, 0, -1)}),
        "term",
        {"a": "a", "b": "b"},
        title="t",
        x_title="x",
    ),
    "hist_ms": lambda: charts.histogram(
        _hist([0.0, 1.0, 13.0, 1300.0, 2_500_000.0]), title="Latency", unit="ms", count_title="calls"
    ),
    "hist_hours": lambda: charts.histogram(
        _hist([0.01, 0.5, 3.0, 100.0]),
        title="Cycle",
        unit="cycle time",
        count_title="tasks",
        label=charts.hours_label,
    ),
    "hist_empty": lambda: charts.histogram(_hist([]), title="t", unit="u", count_title="c"),
    "spark_lines": lambda: charts.sparkline([5.0, None, 7.0, 1.0], bars=False),
    "spark_bars": lambda: charts.sparkline([1.0, 0.0, 2.0], bars=True),
    "spark_empty": lambda: charts.sparkline([], bars=False),
    "panels": lambda: metric_panels.series_panels(
        *_metric_series(), ["cpu", "<b>mem</b>"], bucket="hour", agent="coder"
    ),
    "panels_all_agents": lambda: metric_panels.series_panels(
        *_metric_series(), ["<b>mem</b>", "cpu"], bucket="hour"
    ),
    "panels_one": lambda: metric_panels.series_panels(
        *_metric_series(), ["cpu"], bucket="day", agent="coder"
    ),
    "panels_no_limits": lambda: metric_panels.series_panels(
        _metric_series()[0], _metric_series()[1].iloc[:0], ["cpu", "<b>mem</b>", "disk"], bucket="hour"
    ),
    "panels_long": lambda: metric_panels.series_panels(
        _long_series(), _metric_series()[1], ["cpu"], bucket="hour"
    ),
}


def _decoded(value: object) -> object:
    """``value`` with typed arrays as their numbers and NaN as null: encodings that draw alike."""
    if isinstance(value, dict):
        if set(value) >= {"dtype", "bdata"}:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            if "shape" in value:
                array = array.reshape([int(s) for s in str(value["shape"]).split(",")])
            return _decoded(array.tolist())
        decoded = {k: _decoded(v) for k, v in value.items()}
        return {k: v for k, v in decoded.items() if v != {}}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def drawn(fig: go.Figure) -> dict:
    """The figure as the browser gets it (``st.plotly_chart`` sends ``plotly.io.to_json``)."""
    spec = json.loads(pio.to_json(fig, validate=False))
    template = spec["layout"].pop("template", None)
    spec["layout"]["template_sha"] = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()
    return _decoded(spec)


@pytest.fixture(autouse=True)
def _plotly_template(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plotly's own default template, the reference's: importing Streamlit's chart element makes
    its template the default, and which test module imported it first must not matter."""
    monkeypatch.setattr(pio.templates, "default", TEMPLATE)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_figure_is_drawn_as_before(case: str) -> None:
    reference = json.loads(REFERENCE.read_text())["cases"]
    assert drawn(CASES[case]()) == reference[case]


@pytest.mark.parametrize("build", [_bot, _lot])
def test_rows_without_a_colour_value_are_drawn_and_add_up_to_the_total(build) -> None:
    frame = _na_model()
    fig = build(frame, "calls", "day", "model", palettes=PALETTES)
    drawn_total = sum(sum(v for v in trace.y if v is not None and v == v) for trace in fig.data)
    assert drawn_total == frame["calls"].sum()
    missing = [trace for trace in fig.data if trace.name == "(no model)"]
    assert len(missing) == 1 and fig.data[-1] is missing[0]  # last in the legend, in grey
    if missing[0].customdata is not None:  # bars carry the raw value for a click: none to filter by
        assert all(pd.isna(c[0]) for c in missing[0].customdata)


def test_every_case_has_a_reference() -> None:
    assert sorted(json.loads(REFERENCE.read_text())["cases"]) == sorted(CASES)


if __name__ == "__main__":
    import subprocess

    def _git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()

    if _git("status", "--porcelain", "ui/charts.py"):
        raise SystemExit("ui/charts.py has changes that are not committed: the reference names its commit")
    pio.templates.default = TEMPLATE
    cases = {name: json.dumps(drawn(build()), sort_keys=True) for name, build in sorted(CASES.items())}
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    commit = _git("log", "-1", "--format=%H", "--", "ui/charts.py")
    lines = ",\n".join(f"{json.dumps(name)}: {case}" for name, case in cases.items())
    REFERENCE.write_text(f'{{"charts_commit": "{commit}",\n"cases": {{\n{lines}\n}}}}\n')
