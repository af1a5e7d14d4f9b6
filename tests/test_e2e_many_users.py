"""Many users on one server, in Chromium: uploads stay private, and every page renders under load.

Two browser contexts (two users) upload different exports at the same moment; each must see only
its own figures, before and after reruns and page switches. Then 20 sessions open the demo at
once and each goes through every page; the test records how long each page took (the first
load, then click to rendered) and prints p50/p95/max. Machines are noisy: times are printed,
never asserted.

Playwright's async API drives the sessions concurrently from one event loop, against one server.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from playwright.async_api import async_playwright

from tests.browser import SCREENSHOTS, launch_chromium
from tests.hostile.server import logged_app_server, traceback_in
from ui.pages_list import TITLES

pytestmark = pytest.mark.browser

SESSIONS = 20
TIMEOUT_MS = 240_000


@dataclass(frozen=True)
class Export:
    path: Path
    agent: str
    calls: int
    tokens_in: int


def write_export(folder: Path, agent: str, calls: int, tokens: int) -> Export:
    start = datetime(2025, 6, 2, 8, tzinfo=UTC)
    rows = [
        {
            "timestamp": (start + timedelta(minutes=7 * i)).isoformat(),
            "agent": agent,
            "session_id": f"{agent}-{i // 5}",
            "model": "gpt-4o-mini",
            "input_tokens": tokens,
            "output_tokens": 3,
        }
        for i in range(calls)
    ]
    path = folder / f"{agent}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return Export(path, agent, calls, calls * tokens)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    global _LOG
    env = {"AGENTWATCH_DEMO_DIR": str(tmp_path_factory.mktemp("demo"))}
    with logged_app_server(env=env) as (url, log):
        _LOG = log
        yield url


_LOG: Path | None = None  # the server's log: a redacted stException's traceback is in it


_SETTLED = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"


async def rendered(page, title: str) -> float:
    """Wait until the page's title is drawn and Streamlit has finished running the script; look
    again half a second later, as tests/browser.py's wait_for_page does (a rerun may start
    between two looks). Returns when it was first seen finished (time.perf_counter()).
    """
    await page.get_by_role("heading", name=title, level=1).wait_for(timeout=TIMEOUT_MS)
    await page.wait_for_function(_SETTLED, timeout=TIMEOUT_MS, polling=250)
    finished = time.perf_counter()
    await page.wait_for_timeout(500)
    await page.wait_for_function(_SETTLED, timeout=TIMEOUT_MS, polling=250)
    exceptions = page.get_by_test_id("stException")
    if await exceptions.count():
        shown = await exceptions.first.inner_text()
        raise AssertionError(f"{title}: {shown}\n{traceback_in(_LOG) if _LOG else ''}")
    return finished


async def metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label).first
    return (await box.get_by_test_id("stMetricValue").inner_text()).strip()


async def go_to(page, title: str) -> float:
    """Click a page in the sidebar navigation; seconds until it has rendered."""
    started = time.perf_counter()
    await page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    return await rendered(page, title) - started


# --- two users, two uploads ------------------------------------------------------------------------


async def upload_and_check(browser, url: str, mine: Export, theirs: Export) -> list[str]:
    context = await browser.new_context(viewport={"width": 1440, "height": 1400})
    page = await context.new_page()
    await page.goto(f"{url}/?range=All")
    await rendered(page, "Overview")
    sidebar = page.get_by_test_id("stSidebar")
    await sidebar.get_by_text("Change source").click()
    await sidebar.locator("input[type=file]").set_input_files(str(mine.path))
    # The source's name in the sidebar (not the uploader's file list, which shows it at once).
    label = sidebar.get_by_test_id("stMarkdown").filter(has_text=mine.path.name.replace(".jsonl", ""))
    await label.first.wait_for(timeout=TIMEOUT_MS)
    await rendered(page, "Overview")

    seen = []

    async def check(where: str) -> None:
        calls = await metric(page, "LLM calls")
        tokens = await metric(page, "Tokens in")
        seen.append(f"{mine.agent} {where}: {calls} calls, {tokens} tokens in")
        assert calls == f"{mine.calls:,}", seen[-1]
        assert tokens == f"{mine.tokens_in:,}", seen[-1]
        assert await sidebar.get_by_text(theirs.path.name).count() == 0
        assert await page.get_by_text(theirs.agent).count() == 0

    await check("after upload")
    await sidebar.get_by_role("radio", name="30d", exact=True).click()  # a rerun...
    await rendered(page, "Overview")
    await sidebar.get_by_role("radio", name="All", exact=True).click()  # ...and another
    await rendered(page, "Overview")
    await check("after reruns")
    await go_to(page, "Tokens")
    assert await metric(page, "Tokens in") == f"{mine.tokens_in:,}"
    await go_to(page, "Overview")
    await check("after switching pages")
    await context.close()
    return seen


def test_two_users_uploading_at_once_each_see_only_their_own_data(server, tmp_path):
    alpha = write_export(tmp_path, "alpha-only-agent", calls=37, tokens=11)
    beta = write_export(tmp_path, "beta-only-agent", calls=53, tokens=17)

    async def main() -> list[list[str]]:
        async with async_playwright() as p:
            browser = await launch_chromium(p)
            try:
                return await asyncio.gather(
                    upload_and_check(browser, server, alpha, beta),
                    upload_and_check(browser, server, beta, alpha),
                )
            finally:
                await browser.close()

    seen = asyncio.run(main())
    print("\n" + "\n".join(line for lines in seen for line in lines))
    assert [len(lines) for lines in seen] == [3, 3]


# --- twenty sessions, every page -------------------------------------------------------------------


async def one_session(context, url: str, n: int, times: list[tuple[str, float]]) -> None:
    """One Streamlit session (a tab has its own websocket, so its own session) through every page."""
    page = await context.new_page()
    started = time.perf_counter()
    await page.goto(url)
    times.append(("Overview", await rendered(page, "Overview") - started))  # a new session's first page
    for title in TITLES[1:]:
        times.append((title, await go_to(page, title)))
    if n == 0:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "many-users-session-0.png"), full_page=True)
    await page.close()


def test_twenty_sessions_open_every_page_of_the_demo_at_once(server):
    times: list[tuple[str, float]] = []

    async def main() -> None:
        async with async_playwright() as p:
            browser = await launch_chromium(p)
            try:
                # One browser profile for all tabs, so Chromium fetches and compiles Streamlit's
                # scripts once, not 20 times; a small window without animations, since Chromium
                # draws on the same 2 cores as the server.
                context = await browser.new_context(
                    viewport={"width": 1024, "height": 720}, reduced_motion="reduce"
                )
                context.set_default_timeout(TIMEOUT_MS)
                await asyncio.gather(*(one_session(context, server, n, times) for n in range(SESSIONS)))
            finally:
                await browser.close()

    wall = time.perf_counter()
    asyncio.run(main())
    wall = time.perf_counter() - wall
    pages = np.array([t for _name, t in times])
    print(
        f"\n{SESSIONS} concurrent sessions x {len(TITLES)} pages in {wall:.0f} s: page time"
        f" p50 {np.percentile(pages, 50):.2f} s, p95 {np.percentile(pages, 95):.2f} s,"
        f" max {pages.max():.2f} s"
        f" ({len(pages)} pages; Overview is each session's first load, the others a click in the sidebar)"
    )
    for title in TITLES:
        mine = [t for name, t in times if name == title]
        print(f"  {title:<9} p50 {np.percentile(mine, 50):.2f} s  p95 {np.percentile(mine, 95):.2f} s")
    assert sorted(name for name, _t in times) == sorted(TITLES * SESSIONS)
