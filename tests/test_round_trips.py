"""How many statements each page sends to the database in one rerun after a filter change.

Each statement costs a round trip and a fixed time however small its result, so at scale a
page's speed is mostly its number of statements: the pages share scans (one statement per model
table where figures read the same rows). A page that starts sending more fails here, whatever
its timing on the day. The demo has every model table, so every figure of every page is drawn.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from data_layer.store import Store
from tests.conftest import ROOT
from tests.test_pages import demo_dir, demo_source, full_error_details  # noqa: F401 (fixtures)
from ui.pages_list import PAGES

# The most statements a rerun of each page may send (with tasks, thresholds and metrics).
MOST: dict[str, int] = {
    "overview": 5,  # one per model table: LLM calls, their latency, tool calls, tasks, alerts
    "velocity": 6,  # tasks completed, cycle times, statuses, cycle histogram, throughput, code metrics
    "cost": 3,  # usage, cost per task, sessions
    "tokens": 3,  # usage, histogram, sessions
    "latency": 5,  # LLM latency, histogram, tool latency, thresholds, metric series
    "security": 5,  # alert counts, flagged events, matched terms, alerts per call, alert list
    "sessions": 1,
    "explore": 0,
    "dashboard": 0,
    "data": 1,  # the table preview
}


@pytest.fixture
def sent() -> Iterator[list]:
    """Every statement Store.run is handed while the test runs (as bench/measure.py counts them)."""
    recorded: list = []
    original = Store.run

    def recording(self: Store, stmt):
        recorded.append(stmt)
        return original(self, stmt)

    Store.run = recording
    try:
        yield recorded
    finally:
        Store.run = original


def test_every_page_is_bounded():
    assert set(MOST) == set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_a_rerun_after_a_filter_change_sends_few_statements(demo_source, page, sent):  # noqa: F811
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets["connections"] = {"agentwatch": {"url": ""}}  # none configured: the demo
    at.session_state["range"] = "30d"
    at.switch_page(f"pages/{page}.py").run()
    agents = sorted(demo_source.store.execute("select agent from agents")["agent"])[:2]
    at.session_state["agents"] = agents
    sent.clear()
    at.run()
    assert not at.exception, at.exception[0].message
    print(page, len(sent))
    assert len(sent) <= MOST[page], [str(s)[:80] for s in sent]
    if MOST[page]:
        assert sent, "the page drew nothing from the store: the filter change did not reach it"
