"""Explore in a real browser: type a query, press Ctrl+Enter, see its chart; share the link; pin the
chart and find it on the Dashboard. Screenshots of each go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from data_layer.notebook.starter import P95_GROWTH
from tests.browser import SCREENSHOTS, app_server, chromium_page, screenshot, settled, settles, visit

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1440, "height": 2400}
WAIT_MS = 120_000  # an upper bound for a loaded machine; each wait ends as soon as its condition holds
SIZE = {"width": VIEWPORT["width"], "height": VIEWPORT["height"]}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {
        "AGENTWATCH_DEMO_DIR": str(tmp_path_factory.mktemp("demo")),
        "AGENTWATCH_HOME": str(tmp_path_factory.mktemp("home")),
    }
    with app_server(env=env) as url:
        yield url


_RUNNING = "() => document.querySelector('[data-testid=\"stApp\"]')?.dataset.testScriptState === 'running'"


def _no_exception(page) -> None:
    errors = page.get_by_test_id("stException")
    assert errors.count() == 0, errors.first.inner_text()


def test_a_query_typed_and_run_with_ctrl_enter_draws_its_chart_shares_and_pins(server):
    with chromium_page(**SIZE) as page:
        visit(page, f"{server}/explore?range=30d", "Explore")
        _no_exception(page)

        with settles(page, title="Explore"):
            page.get_by_role("button", name="SQL cell").click()
        cell = page.locator("[class*='st-key-cell-']").last
        editor = cell.locator("textarea")
        editor.fill(P95_GROWTH)
        with settles(page, title="Explore"):
            editor.press("Control+Enter")
        _no_exception(page)
        summary = cell.get_by_text(re.compile(r"^[\d,]+ rows · "))
        expect(summary).to_be_visible(timeout=WAIT_MS)
        expect(cell.get_by_test_id("stPlotlyChart").locator(".main-svg").first).to_be_visible(timeout=WAIT_MS)
        rows = summary.inner_text()
        assert not rows.startswith("0 rows"), rows
        assert cell.get_by_test_id("stAlert").count() == 0
        screenshot(page, "explore-page")
        cell.scroll_into_view_if_needed()
        cell.screenshot(path=str(screenshot_path("explore-p95-growth-cell")))

        # The page's URL opens the same notebook in a new browser context (another user).
        link = page.url
        assert "notebook=" in link and "select" not in link.lower()
        other = page.context.browser.new_context(viewport=VIEWPORT).new_page()  # another user
        visit(other, link, "Explore")
        _no_exception(other)
        shared = other.locator("[class*='st-key-cell-']").last
        assert shared.locator("textarea").input_value() == P95_GROWTH
        expect(shared.get_by_test_id("stPlotlyChart").locator(".main-svg").first).to_be_visible(
            timeout=WAIT_MS
        )
        screenshot(other, "explore-shared-link")

        # Pin it, and the starter's cost chart, then open the Dashboard.
        with settles(page, title="Explore"):
            cell.get_by_role("button", name="Pin to Dashboard").click()
        first_sql = page.locator("[class*='st-key-cell-']").nth(1)
        with settles(page, title="Explore"):
            first_sql.get_by_role("button", name="Pin to Dashboard").click()
        with settles(page, title="Dashboard"):
            page.get_by_test_id("stSidebarNav").get_by_text("Dashboard", exact=True).click()
        _no_exception(page)
        tiles = page.locator("[class*='st-key-tile-']")
        expect(tiles).to_have_count(2, timeout=WAIT_MS)
        for i in range(2):
            chart = tiles.nth(i).get_by_test_id("stPlotlyChart").locator(".main-svg").first
            expect(chart).to_be_visible(timeout=WAIT_MS)
        assert "range=30d" in page.url
        screenshot(page, "dashboard")

        # Each tile links back to its cell (a link may open a new session: wait for its page).
        tiles.nth(0).get_by_role("link").first.click()
        page.wait_for_url(re.compile("cell="), timeout=WAIT_MS)
        settled(page, title="Explore", text="The cell this Dashboard chart comes from")
        assert "cell=" in page.url and "notebook=" in page.url


def screenshot_path(name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


SLOW = "select sum(a.range * b.range) as s from range(4000000) a, range(4000000) b"  # never ends by itself


# A's cell runs until this limit stops it. B's page must finish well inside it however busy the
# machine: at a load average of 20, B's Overview alone took 18-30 s, so a 20 s limit made the
# test fail for work that was right. A held-up B would finish only after the whole limit.
SLOW_LIMIT_S = 120


def test_a_slow_cell_does_not_hold_up_another_users_pages(tmp_path_factory):
    """User A runs a cell that runs until the time limit stops it; user B opens the Overview
    meanwhile. B's page must finish while A's cell is still running: cells run in DuckDB with the
    GIL released, on a thread of their own session, so nothing of B's waits for them.
    """
    import time

    env = {
        "AGENTWATCH_DEMO_DIR": str(tmp_path_factory.mktemp("demo2")),
        "AGENTWATCH_HOME": str(tmp_path_factory.mktemp("home2")),
        "AGENTWATCH_CELL_TIMEOUT_S": str(SLOW_LIMIT_S),
    }
    with app_server(env=env) as server, chromium_page(**SIZE) as a:
        b = a.context.browser.new_context(viewport=VIEWPORT).new_page()  # another user
        visit(a, f"{server}/explore", "Explore")
        visit(b, server, "Overview")  # warm: the store is loaded and shared
        timings = []
        for _ in range(3):
            started = time.monotonic()
            visit(b, server, "Overview")
            timings.append(time.monotonic() - started)
        alone = sorted(timings)[1]  # the median of three

        with settles(a, title="Explore"):
            a.get_by_role("button", name="SQL cell").click()
        editor = a.locator("[class*='st-key-cell-']").last.locator("textarea")
        editor.fill(SLOW)
        cell_started = time.monotonic()
        editor.press("Control+Enter")
        a.wait_for_function(_RUNNING, timeout=30_000)  # A's run is under way

        started = time.monotonic()
        visit(b, server, "Overview")
        beside = time.monotonic() - started
        still_running = a.evaluate(_RUNNING)
        elapsed_a = time.monotonic() - cell_started

        expect(a.get_by_text(re.compile(f"ran longer than {SLOW_LIMIT_S} s and was stopped"))).to_be_visible(
            timeout=(SLOW_LIMIT_S + 60) * 1000
        )
        samples = ", ".join(f"{t:.1f}" for t in timings)
        print(
            f"\nOverview for user B: {alone:.1f} s alone (median of {samples}),"
            f" {beside:.1f} s while user A's cell ran"
            f" ({elapsed_a:.1f} s into A's {SLOW_LIMIT_S} s cell, still running: {still_running})"
        )
        # Not held up: B's page finished while A's cell was still running. How much slower it was
        # depends on the machine (A's cell takes one of its cores); measured 7.0 s beside vs 7.9 s
        # alone, and 16.7 s vs 5.9 s on two cores at a load average of 30.
        assert still_running, "B's page finished only after A's cell"
        assert beside < SLOW_LIMIT_S
