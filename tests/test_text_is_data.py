"""Text from the data is data: agent, model, tool, session and alert texts holding HTML, script, SQL
and Markdown render as text on every page, table and chart, and never reach SQL text.

Two hostile sources (tests/hostile/text.py): a Cylestio database and a JSON-lines export whose
names are ``<script>alert(1)</script>``, ``'; drop table agents; --``, ``**bold** [link](http://x)``
and ``<a href="http://evil">x</a>``. Markdown-rendering elements must carry them escaped,
Plotly figures with ``<``, ``>`` and ``&`` as entities (Plotly renders a subset of HTML, links
included, in trace names, tick labels and hover text), tables and option lists as they are.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data_layer import queries
from data_layer.filters import Filters
from data_layer.sources import open_source
from data_layer.store import Store
from tests.browser import app_server, chromium_page, visit
from tests.conftest import ROOT
from tests.hostile.text import HOSTILE, HostileSource, hostile_cylestio, hostile_export
from ui import charts, metric_panels, palette
from ui.downloads import neutralised, to_csv
from ui.markdown import md
from ui.pages_list import PAGES
from ui.source import Choice

# Elements whose text Streamlit renders as Markdown: data in them must arrive escaped.
MARKDOWN_ELEMENTS = [
    "markdown",
    "caption",
    "title",
    "header",
    "subheader",
    "info",
    "warning",
    "error",
    "success",
]
# HTML from the data, as it would reach Plotly unescaped (the charts' own <br> are not data).
RAW_HTML = re.compile(r"<\s*/?\s*(script|a[\s>])", re.IGNORECASE)


@pytest.fixture(scope="module")
def cylestio(tmp_path_factory) -> HostileSource:
    return hostile_cylestio(tmp_path_factory.mktemp("hostile-text") / "cylestio.db")


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> HostileSource:
    return hostile_export(tmp_path_factory.mktemp("hostile-text") / "calls.jsonl")


@pytest.fixture(params=["cylestio", "export"])
def source(request) -> HostileSource:
    return request.getfixturevalue(request.param)


def open_page(src: HostileSource, page: str, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["source_choice"] = Choice(
        origin="upload", target=str(src.path), label=src.path.name, key=f"upload:hostile:{src.path}"
    )
    at.session_state["range"] = "All"
    for key, value in state.items():
        at.session_state[key] = value
    return at.switch_page(f"pages/{page}.py").run()


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def drawn_strings(node: object, key: str = "") -> list[str]:
    """Every string of a Plotly figure that Plotly may draw: all but ``customdata`` (never drawn)."""
    if key == "customdata":
        return []
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in drawn_strings(v, k)]
    if isinstance(node, list):
        return [s for v in node for s in drawn_strings(v, key)]
    return []


def assert_text_is_text(at: AppTest, page: str) -> None:
    exceptions = [e.message + "\n".join(e.stack_trace) for e in at.exception]
    assert not exceptions, f"{page}: {exceptions}"
    assert not at.error, f"{page}: {[e.value for e in at.error]}"
    for kind in MARKDOWN_ELEMENTS:
        for element in getattr(at, kind):
            for text in HOSTILE:
                assert text not in str(element.value), f"{page}: {kind} renders {text!r} as Markdown"
    for spec in chart_specs(at):
        for text in drawn_strings(spec):
            assert not RAW_HTML.search(text), f"{page}: a chart draws {text!r} as HTML"


def literal_texts(at: AppTest) -> set[str]:
    """Hostile strings the page shows as they are: table cells, option lists, st.text."""
    found = set()
    for frame in [d.value for d in at.dataframe]:
        for column in frame.columns:
            if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column].dtype):
                cells = " ".join(frame[column].dropna().astype(str))
                found |= {t for t in HOSTILE if t in cells}
    for widget in [*at.multiselect, *at.selectbox]:
        found |= {t for t in HOSTILE if t in widget.options}
    found |= {t for t in HOSTILE for e in at.text if t in e.value}
    return found


def test_every_page_shows_hostile_text_as_text(source):
    """No exception, Markdown escaped, charts without HTML; every string still shown literally."""
    shown: set[str] = set()
    escaped_in_charts = False
    for page in PAGES:
        at = open_page(source, page)
        assert_text_is_text(at, page)
        shown |= literal_texts(at)
        escaped_in_charts |= any(
            "&lt;script&gt;" in s for spec in chart_specs(at) for s in drawn_strings(spec)
        )
        markdown = " ".join(str(m.value) for kind in MARKDOWN_ELEMENTS for m in getattr(at, kind))
        for text in HOSTILE:
            if md(text) in markdown:  # shown in Markdown: escaped, so it reads as the text itself
                shown.add(text)
    assert shown == set(HOSTILE)
    assert escaped_in_charts  # the charts do draw the names, as entities Plotly shows as text


def test_a_selected_alert_and_session_show_their_text_literally(cylestio):
    """The detail views that appear after a click: an alert's heading, text and session timeline."""
    at = open_page(cylestio, "security")
    at.session_state["sec_list"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert_text_is_text(at, "security")
    (alerts, timeline) = [
        d.value for d in at.dataframe if "description" in d.value.columns or "kind" in d.value
    ]
    first = alerts.iloc[0]
    assert first["description"] in HOSTILE and first["type"] in HOSTILE
    assert first["description"] in [t.value for t in at.text]  # st.text: shown as it is
    heading = f"**{md(first['severity'])} · {md(first['type'])}**"
    assert any(m.value.startswith(heading) for m in at.markdown)  # Markdown: escaped
    assert set(timeline["agent"].dropna()) <= set(HOSTILE) and len(timeline)

    at = open_page(cylestio, "sessions", selected_session="1")
    assert_text_is_text(at, "sessions")
    assert "Session 1" in [s.value for s in at.subheader]


def test_a_sql_looking_filter_value_selects_exactly_its_rows(cylestio):
    agent = HOSTILE[1]  # '; drop table agents; --
    at = open_page(cylestio, "overview", agents=[agent])
    assert_text_is_text(at, "overview")
    assert {m.label: m.value for m in at.metric}["LLM calls"] == str(cylestio.llm_calls_by_agent[agent])
    (agents,) = [m for m in at.sidebar.multiselect if m.label == "Agents"]
    assert agents.value == [agent]
    assert sorted(agents.options) == sorted(HOSTILE)  # and the agents are all still there

    store = open_source(cylestio.path)
    injected = Filters(agents=("' OR '1'='1",))
    assert queries.llm_usage(store, injected).iloc[0]["calls"] == 0
    assert queries.llm_usage(store, Filters()).iloc[0]["calls"] == sum(cylestio.llm_calls_by_agent.values())


def test_text_from_the_data_never_reaches_sql_text(export, monkeypatch):
    """Every statement the pages run, with hostile filters and a hostile search: values are bound."""
    seen: list[tuple[str, object]] = []
    run = Store._fetch  # the one place every statement of the store passes through, as SQL text

    def spy(self, sql, params=None):
        seen.append((sql, params))
        return run(self, sql, params)

    monkeypatch.setattr(Store, "_fetch", spy)
    state = {"agents": [HOSTILE[1]], "models": [HOSTILE[2]], "session_search": HOSTILE[3]}
    silent = []  # pages whose figures sent no statement through the spy: it would prove nothing
    for page in PAGES:
        before = len(seen)
        assert_text_is_text(open_page(export, page, **state), page)
        if len(seen) == before:
            silent.append(page)
    at = open_page(export, "sessions", agents=[HOSTILE[0]], session_search="drop table")
    assert_text_is_text(at, "sessions")
    # A notebook runs cells only when asked; the export holds LLM calls only, so the Security
    # page has no alerts to ask about. Every other page's statements went through the spy.
    assert silent == ["security", "explore", "dashboard"]
    for sql, _params in seen:
        for fragment in ("alert(1)", "drop table", "http://evil", "**bold**", *HOSTILE):
            assert fragment not in sql, f"data in SQL text: {sql[:300]}"
    bound = " ".join(repr(params) for _sql, params in seen)
    assert "drop table agents" in bound  # the values did reach the queries, as parameters


# --- the figures themselves ----------------------------------------------------------------------


def _hostile_frame() -> pd.DataFrame:
    buckets = pd.to_datetime(["2025-01-01", "2025-01-02"], utc=True)
    return pd.DataFrame(
        [(b, t, i + 1) for b in buckets for i, t in enumerate(HOSTILE)], columns=["bucket", "agent", "calls"]
    )


def _figures() -> dict[str, object]:
    frame = _hostile_frame()
    palettes = {"agent": palette.palette_for(sorted(HOSTILE))}
    per_agent = frame.groupby("agent", as_index=False)["calls"].sum()
    series = pd.DataFrame(
        {"bucket": frame["bucket"], "name": frame["agent"], "unit": "ms", "mean": frame["calls"]}
    )
    limits = pd.DataFrame(
        {
            "metric": HOSTILE,
            "level": HOSTILE,
            "agent": [None, *HOSTILE[1:]],
            "threshold": [1.0] * 4,
            "samples": [2] * 4,
            "breaches": [1] * 4,
        }
    )
    return {
        "bars_over_time": charts.bars_over_time(
            frame, "calls", color="agent", palettes=palettes, title="t", y_title="y", bucket="day"
        ),
        "lines_over_time": charts.lines_over_time(
            frame, "calls", color="agent", title="t", y_title="y", bucket="day"
        ),
        "bars": charts.bars(per_agent, "agent", "calls", palettes=palettes, title="t", y_title="y"),
        "horizontal bars": charts.bars(per_agent, "agent", "calls", horizontal=True, title="t", y_title="y"),
        "stacked_bars": charts.stacked_bars(
            per_agent.assign(flagged=1),
            "agent",
            {"calls": "calls", "flagged": "flagged"},
            title="t",
            x_title="x",
        ),
        "series_panels": metric_panels.series_panels(series, limits, HOSTILE, bucket="day", agent=HOSTILE[1]),
    }


@pytest.mark.parametrize("name", list(_figures()))
def test_chart_labels_from_the_data_are_escaped_for_plotly(name):
    fig = _figures()[name].to_plotly_json()
    drawn = drawn_strings(json.loads(json.dumps(fig, default=str)))
    assert not [s for s in drawn if RAW_HTML.search(s)]
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in s for s in drawn)
    assert any("'; drop table agents; --" in s for s in drawn)  # only <, > and & change


def test_a_click_on_an_escaped_bar_still_filters_by_the_raw_name():
    fig = _figures()["bars"]
    raw = {d[0] for trace in fig.data for d in trace.customdata}
    assert raw == set(HOSTILE)


# --- downloads and the code itself -------------------------------------------------------------


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_start_like_a_formula_get_an_apostrophe(lead):
    frame = pd.DataFrame({"agent": [f"{lead}cmd|' /C calc'!A0", "planner"], "calls": [-1, 2]})
    rows = list(csv.reader(io.StringIO(to_csv(frame).decode(), newline="")))
    assert rows[1][0] == f"'{lead}cmd|' /C calc'!A0"
    assert rows[2] == ["planner", "2"]
    assert neutralised(frame)["calls"].tolist() == [-1, 2]  # numbers stay numbers


def test_no_page_renders_raw_html():
    """No unsafe_allow_html, st.html or components anywhere in the app: nothing renders data as HTML."""
    code = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
    offenders = [
        f"{path.relative_to(ROOT)}: {pattern}"
        for path in code
        for pattern in ("unsafe_allow_html", "st.html", "components.v1", "components.html")
        if pattern in Path(path).read_text()
    ]
    assert len(code) > 10 and not offenders


# --- in the browser ------------------------------------------------------------------------------


@pytest.mark.browser
def test_hostile_texts_render_as_text_in_chromium(cylestio, tmp_path_factory):
    """No script runs, no link from the data is made, and chart legends show the text itself."""
    env = {"AGENTWATCH_DEMO_DIR": str(tmp_path_factory.mktemp("demo"))}
    with app_server("--source", str(cylestio.path), env=env) as url, chromium_page(1440, 2000) as page:
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        legends = []
        for name in ["Overview", "Cost", "Security", "Sessions"]:
            path = "" if name == "Overview" else name.lower()
            visit(page, f"{url}/{path}?range=All", name)
            assert page.get_by_test_id("stException").count() == 0
            assert page.locator('a[href="http://evil"], a[href="http://x"]').count() == 0
            assert page.locator("script:text('alert(1)')").count() == 0
            legends += page.locator(
                ".js-plotly-plot g.legend text, .js-plotly-plot g.xtick text"
            ).all_text_contents()
            legends += page.locator(".js-plotly-plot g.ytick text").all_text_contents()
    assert dialogs == []
    assert "<script>alert(1)</script>" in legends
    assert '<a href="http://evil">x</a>' in legends
