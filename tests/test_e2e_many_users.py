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

from tests.browser import (
    SCREENSHOTS,
    expand_async,
    launch_chromium,
    page_report_async,
    settled_async,
    shown_async,
)
from tests.hostile.server import logged_app_server, traceback_in
from ui.pages_list import TITLES

pytestmark = pytest.mark.browser

SESSIONS = 20
# Twenty sessions on two busy cores: a page can take minutes. Waits are for the run to finish
# (tests/browser.py's settled), so a long timeout only matters when something is wrong.
TIMEOUT_MS = 900_000


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


async def rendered(page, title: str, *, after: int = 0, source: str | None = None) -> float:
    """Wait until a run after run ``after`` of the page ``title`` has finished and is drawn
    (tests/browser.py's ``settled``); returns when it was seen (time.perf_counter()).
    """
    await settled_async(page, after=after, title=title, source=source, timeout_ms=TIMEOUT_MS)
    finished = time.perf_counter()
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
    before = await shown_async(page)
    started = time.perf_counter()
    await page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    return await rendered(page, title, after=before) - started


async def on_failure_show(page, work):
    """Await ``work``; if it fails, print the page's text (and save a screenshot) first."""
    try:
        return await work
    except BaseException:
        print(await page_report_async(page))
        raise


# --- two users, two uploads ------------------------------------------------------------------------


async def upload_and_check(browser, url: str, mine: Export, theirs: Export) -> list[str]:
    context = await browser.new_context(viewport={"width": 1440, "height": 1400})
    page = await context.new_page()
    seen: list[str] = []
    await on_failure_show(page, _upload_and_check(page, url, mine, theirs, seen))
    await context.close()
    return seen


async def _upload_and_check(page, url: str, mine: Export, theirs: Export, seen: list[str]) -> None:
    await page.goto(f"{url}/?range=All")
    await rendered(page, "Overview")
    sidebar = page.get_by_test_id("stSidebar")
    await expand_async(page, "Change source")  # no run
    before = await shown_async(page)
    await sidebar.locator("input[type=file]").set_input_files(str(mine.path))
    await rendered(page, "Overview", after=before, source=mine.path.name)
    # The source's name in the sidebar (not the uploader's file list, which shows it at once).
    label = sidebar.get_by_test_id("stMarkdown").filter(has_text=mine.path.name.replace(".jsonl", ""))
    assert await label.count(), f"{mine.path.name} is not named in the sidebar"

    async def check(where: str) -> None:
        calls = await metric(page, "LLM calls")
        tokens = await metric(page, "Tokens in")
        seen.append(f"{mine.agent} {where}: {calls} calls, {tokens} tokens in")
        assert calls == f"{mine.calls:,}", seen[-1]
        assert tokens == f"{mine.tokens_in:,}", seen[-1]
        assert await sidebar.get_by_text(theirs.path.name).count() == 0
        assert await page.get_by_text(theirs.agent).count() == 0

    await check("after upload")
    before = await shown_async(page)
    await sidebar.get_by_role("radio", name="30d", exact=True).click()  # a rerun...
    await rendered(page, "Overview", after=before)
    before = await shown_async(page)
    await sidebar.get_by_role("radio", name="All", exact=True).click()  # ...and another
    await rendered(page, "Overview", after=before)
    await check("after reruns")
    await go_to(page, "Tokens")
    assert await metric(page, "Tokens in") == f"{mine.tokens_in:,}"
    await go_to(page, "Overview")
    await check("after switching pages")


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
    times.append(
        ("Overview", await on_failure_show(page, rendered(page, "Overview")) - started)
    )  # first page
    for title in TITLES[1:]:
        times.append((title, await on_failure_show(page, go_to(page, title))))
    if n == 0:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "many-users-session-0.png"), full_page=True)
    await page.close()


@pytest.mark.timeout(1800)
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
