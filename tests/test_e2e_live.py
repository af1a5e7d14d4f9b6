"""A page left open in the browser stays current: rows added to its source show without a click,
and what the user was typing meanwhile is still there."""

from __future__ import annotations

import pytest

from tests.browser import app_server, chromium_page, metric_value, screenshot, settled, settles, visit

pytestmark = pytest.mark.browser

TYPED = "select agent, count(*) as calls\nfrom llm_calls\ngroup by agent"


@pytest.fixture
def live(tmp_path):
    """A server on a 500-call SQLite file it checks every second, and a function adding 100 calls."""
    from bench import generate
    from bench.refresh import append_calls

    path = generate.write_sqlite(generate.fleet(500, seed=3), tmp_path / "live.db")
    env = {
        "AGENTWATCH_DEMO_DIR": str(tmp_path / "demo"),
        "AGENTWATCH_HOME": str(tmp_path / "home"),
        "AGENTWATCH_REFRESH_S": "1",
    }
    with app_server("--source", str(path), env=env) as url:
        yield url, lambda: append_calls(path, 100, seed=4)


def test_rows_added_to_a_watched_database_show_on_an_open_page_without_a_click(live):
    url, add_rows = live
    with chromium_page(1440, 1600) as page:
        before = visit(page, f"{url}/?range=All", "Overview")
        assert metric_value(page, "LLM calls") == "500"
        add_rows()
        settled(page, after=before.number, title="Overview", text="600 LLM calls")
        assert metric_value(page, "LLM calls") == "600"
        assert page.get_by_test_id("stException").count() == 0
        screenshot(page, "live-overview-after-new-rows")


def test_sql_being_typed_when_new_rows_redraw_the_page_is_kept(live):
    url, add_rows = live
    with chromium_page(1440, 2400) as page:
        visit(page, f"{url}/explore?range=All", "Explore")
        with settles(page, title="Explore"):
            page.get_by_role("button", name="SQL cell").click()
        editor = page.locator("[class*='st-key-cell-']").last.locator("textarea")
        editor.fill(TYPED)  # typed, not yet run: the browser holds it, the server has not seen it
        before = settled(page, title="Explore")
        add_rows()
        settled(page, after=before.number, title="Explore", text="600 LLM calls")
        assert editor.input_value() == TYPED
        assert page.get_by_test_id("stException").count() == 0
