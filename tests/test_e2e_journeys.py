"""The main user journeys in a real browser: open, upload an export, filter, see the numbers change.

AppTest cannot see what only a browser does (a file upload reaching the rerun, URL-bound
filters surviving a reload), so these drive the real server in headless Chromium. Every page
visited is screenshotted into test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser import app_server, chromium_page, expand, metric_value, screenshot, settled, settles, visit
from ui.pages_list import TITLES

pytestmark = pytest.mark.browser

AGENTS = ["billing-agent", "search-agent", "writer-agent"]


@pytest.fixture(scope="module")
def export_rows() -> list[dict]:
    """LLM calls as an OpenTelemetry-flavoured JSON-lines export, three agents, two models."""
    rnd = random.Random(11)
    start = datetime(2025, 5, 5, 9, tzinfo=UTC)
    rows = []
    for i in range(240):
        rows.append(
            {
                "timestamp": (start + timedelta(minutes=17 * i)).isoformat(),
                "agent": AGENTS[i % 3] if i % 7 else AGENTS[0],
                "session_id": f"s-{i // 6}",
                "gen_ai.request.model": "gpt-4o" if i % 2 else "claude-3-5-haiku-20241022",
                "gen_ai.usage.input_tokens": rnd.randint(100, 4000),
                "gen_ai.usage.output_tokens": rnd.randint(10, 800),
                "cost_usd": round(rnd.uniform(0.001, 0.05), 6),
                "latency_ms": rnd.randint(200, 6000),
            }
        )
    return rows


@pytest.fixture(scope="module")
def export_file(export_rows, tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "calls.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in export_rows) + "\n")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    demo_dir = tmp_path_factory.mktemp("demo")
    with app_server(env={"AGENTWATCH_DEMO_DIR": str(demo_dir)}) as url:
        yield url


@pytest.fixture
def page():
    with chromium_page(1440, 2200) as page:
        yield page


def _no_exception(page) -> None:
    errors = page.get_by_test_id("stException")
    assert errors.count() == 0, errors.first.inner_text()


def test_opening_the_app_shows_the_demo_overview_without_errors(server, page):
    visit(page, server, "Overview")
    _no_exception(page)
    assert page.get_by_text("Demo dataset").first.is_visible()
    assert metric_value(page, "LLM calls") not in ("", "—", "0")
    screenshot(page, "demo-overview")


def test_uploading_an_export_then_filtering_by_agent_changes_the_kpis(server, page, export_file, export_rows):
    visit(page, server, "Overview")
    sidebar = page.get_by_test_id("stSidebar")
    expand(page, "Change source")
    with settles(page, title="Overview", source="calls.jsonl"):
        sidebar.locator("input[type=file]").set_input_files(str(export_file))
    assert sidebar.get_by_text("calls.jsonl").first.is_visible()

    with settles(page, title="Overview"):
        sidebar.get_by_role("radio", name="All", exact=True).click()
    _no_exception(page)
    assert metric_value(page, "LLM calls") == f"{len(export_rows):,}"
    tokens_in = sum(r["gen_ai.usage.input_tokens"] for r in export_rows)
    assert metric_value(page, "Tokens in") == f"{tokens_in:,}"
    screenshot(page, "upload-overview-all")

    sidebar.get_by_test_id("stMultiSelect").filter(has_text="Agents").click()
    with settles(page, title="Overview"):  # one run: picking an option sends it, closing sends nothing
        page.get_by_role("option", name="search-agent", exact=True).click()
        page.keyboard.press("Escape")
    mine = [r for r in export_rows if r["agent"] == "search-agent"]
    assert metric_value(page, "LLM calls") == f"{len(mine):,}"
    cost = sum(r["cost_usd"] for r in mine)
    assert metric_value(page, "Cost recorded") == f"${cost:,.2f}"
    assert "agents=search-agent" in page.url
    screenshot(page, "upload-overview-search-agent")

    for name in TITLES[1:]:
        with settles(page, title=name):
            page.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()
        _no_exception(page)
        assert "agents=search-agent" in page.url, f"the agent filter was lost on {name}"
        screenshot(page, f"upload-{name.lower()}")


def test_a_shared_link_reproduces_the_filtered_view(server, page):
    visit(page, server, "Overview")
    everything = metric_value(page, "LLM calls")
    visit(page, f"{server}/cost?range=All&agents=support-bot", "Cost")
    _no_exception(page)
    chips = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text="Agents")
    assert "support-bot" in chips.inner_text()
    page.reload()
    settled(page, title="Cost")  # a new session: its runs count from 1 again
    assert "agents=support-bot" in page.url
    with settles(page, title="Overview"):
        page.get_by_test_id("stSidebarNav").get_by_text("Overview", exact=True).click()
    assert metric_value(page, "LLM calls") != everything


def test_every_page_of_the_demo_renders_without_an_exception(server, page):
    for name in TITLES:
        path = "" if name == "Overview" else name.lower()
        visit(page, f"{server}/{path}", name)
        _no_exception(page)
        screenshot(page, f"demo-{name.lower()}")


def test_clicking_a_bar_filters_by_it_and_the_sidebar_shows_it(server, page):
    visit(page, f"{server}/cost?range=All", "Cost")
    by_agent = page.get_by_test_id("stPlotlyChart").nth(1)
    bar = by_agent.locator("g.trace.bars path").first
    with settles(page, title="Cost"):
        bar.click(force=True)
    assert "agents=" in page.url
    agent = page.url.split("agents=")[1].split("&")[0]
    chips = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text="Agents")
    assert agent in chips.inner_text()
    _no_exception(page)
    screenshot(page, "demo-cost-after-click")
