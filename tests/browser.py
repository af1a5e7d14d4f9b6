"""A real Agentwatch server on a free port and headless Debian Chromium driving it, for the e2e tests.

Chromium is Debian's (``/usr/bin/chromium``, installed by scripts/test.sh); Playwright's own
browser download does not work on these machines. The flags keep Chromium off the network.

Every wait for the app goes through ``settled`` (never a fixed sleep: a busy machine outlasts
any fixed time, and a quiet one wastes it)::

    with app_server() as url, chromium_page() as page:
        visit(page, f"{url}/cost?range=All", "Cost")        # a new session's first run
        with settles(page, title="Cost"):                   # the click's run, finished and drawn
            page.get_by_role("radio", name="30d").click()
        expand(page, "Change source")                       # opens without a run
        with settles(page, source="calls.jsonl"):          # say what the run must show when an
            page.locator("input[type=file]").set_input_files(path)  # action may start two runs

It reads the markers each run renders (ui/run_marker.py). A page's own ``st.stop()`` is fine; a
page must not call ``st.rerun()`` after drawing something (use a widget callback). A test that
fails prints the page's text and saves a screenshot under test-artifacts/ (``chromium_page``,
``page_report``; the async API has ``settled_async``, ``shown_async``, ``page_report_async``).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_server(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``streamlit run app.py`` on a free port; yields its base URL. Prints its log on failure."""
    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", prefix="streamlit-", suffix=".log", delete=False)  # noqa: SIM115
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.headless", "true", "--server.fileWatcherType", "none"]
    if args:
        command += ["--", *args]
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            with suppress(subprocess.TimeoutExpired):  # look again in 0.3 s, at once if the server exits
                proc.wait(timeout=0.3)
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"streamlit did not start:\n{log.read()[-4000:]}")
        yield url
    except BaseException:
        log.seek(0)
        print(f"--- streamlit log ---\n{log.read()[-6000:]}")
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        Path(log.name).unlink(missing_ok=True)


def launch_chromium(playwright):
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing; scripts/test.sh installs Debian's chromium package"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


TIMEOUT_MS = 240_000

# One look at the page: the run the browser shows, if that run has finished and is fully drawn,
# else null. The app renders two markers per run (ui/run_marker.py): "started" in the sidebar
# before the page, "finished" after it. Finished and drawn means:
# - Streamlit's frontend says no script is running (stApp's data-test-script-state) and its
#   running icon is gone: the frontend has handled the end of every run it was told of;
# - the newest "started" marker's run is that run's, so the browser has seen the run begin: a
#   click's run may not have reached the browser yet when the page is looked at;
# - the newest "finished" marker is of the same run, or there is none at all: a page that ends
#   its run with st.stop() draws no "finished", and Streamlit then removes the earlier one;
# - nothing is still loading (skeletons), Plotly has drawn every chart, and nothing is moving (an
#   expander opening: a click on a button that moves between press and release is lost).
_LOOK = r"""() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.dataset.testScriptState !== 'notRunning'
        || app.dataset.testConnectionState !== 'CONNECTED') return null;
    if (document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]')) return null;
    if (![...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
        .every(c => c.querySelector('.main-svg'))) return null;
    if (document.getAnimations().some(a => a.playState === 'running'
        && a.effect && a.effect.getComputedTiming().endTime !== Infinity)) return null;
    const marks = (phase) => [...document.querySelectorAll(`[class*="st-key-agentwatch-${phase}-"]`)]
        .map(e => [...e.classList].find(c => c.startsWith(`st-key-agentwatch-${phase}-`))
            .slice(`st-key-agentwatch-${phase}-`.length));
    const started = marks('started').map(m => {
        const [, run, title, source] = m.match(/^(\d+)--(.*?)--(.*)$/);
        return {run: Number(run), title, source};
    }).sort((a, b) => b.run - a.run)[0];
    const finished = Math.max(...marks('finished').map(Number));
    if (!started || (finished !== -Infinity && finished !== started.run)) return null;
    return started;
}"""


def as_class(text: str) -> str:
    """``text`` as Streamlit writes a key into a CSS class, as the markers carry titles and labels."""
    return re.sub(r"[^a-zA-Z0-9_-]", "-", text.strip())


@dataclass(frozen=True)
class Run:
    """A finished run as the browser shows it: the session's run number, page title, source label
    (the last two as CSS classes spell them: see ``as_class``)."""

    number: int
    title: str
    source: str


def _wanted(after: int, title: str | None, source: str | None, text: str | None) -> dict:
    return {
        "after": after,
        "title": None if title is None else as_class(title),
        "source": None if source is None else as_class(source),
        "text": text,
    }


_UNTIL = (
    "(want) => { const run = (" + _LOOK + ")(); return run && run.run > want.after"
    " && (want.title === null || run.title === want.title)"
    " && (want.source === null || run.source === want.source)"
    " && (want.text === null || document.body.innerText.includes(want.text)) && run; }"
)


def settled(
    page,
    *,
    after: int = 0,
    title: str | None = None,
    source: str | None = None,
    text: str | None = None,
    timeout_ms: int = TIMEOUT_MS,
) -> Run:
    """Wait until the browser shows a finished, fully drawn run numbered above ``after`` and, if
    given, of the page titled ``title``, of the source labelled ``source``, showing ``text``;
    return it.

    The one way browser tests wait for the app: never a fixed sleep. Use ``after=0`` for a page
    just opened (a new session counts its runs from 1), else ``after=shown(page)`` read before
    the action, or wrap the action in ``with settles(page):``. Some actions start two runs (an
    upload that replaces a file: one run without it, one with the new one); say what the run
    you wait for shows (``source``, ``text``) so the first cannot pass for it. On timeout it
    fails with the page's text, the last run it showed and a screenshot.
    """
    want = _wanted(after, title, source, text)
    try:
        handle = page.wait_for_function(_UNTIL, arg=want, timeout=timeout_ms, polling=100)
    except PlaywrightTimeout:
        raise AssertionError(
            f"no finished run after run {after} with {want} within {timeout_ms / 1000:.0f} s;"
            f" the page shows {_shown_run(page)}\n{page_report(page)}"
        ) from None
    found = handle.json_value()
    return Run(found["run"], found["title"], found["source"])


def shown(page) -> int:
    """The number of the finished run the browser shows, read before an action to pass as
    ``settled(page, after=...)``; first waits until the page is settled (a list or an expander
    may still be opening).
    """
    return settled(page).number


def _shown_run(page) -> str:
    try:
        return str(page.evaluate(_LOOK))
    except PlaywrightError as err:
        return f"(unreadable: {err})"


@contextmanager
def settles(
    page, *, title: str | None = None, source: str | None = None, text: str | None = None
) -> Iterator[None]:
    """``with settles(page, title="Cost"): page.click(...)``: the block's action must start a run;
    leaving the block waits until that run (or a later one) has finished, as ``settled`` does.
    """
    before = shown(page)
    yield
    settled(page, after=before, title=title, source=source, text=text)


def expand(page, label: str) -> None:
    """Open the sidebar's expander ``label`` (it starts no run) and wait until it has stopped
    moving, so that a click on what it holds lands."""
    page.get_by_test_id("stSidebar").get_by_test_id("stExpander").filter(has_text=label).locator(
        "summary"
    ).click()
    settled(page)


async def expand_async(page, label: str) -> None:
    """``expand`` for Playwright's async API."""
    await (
        page.get_by_test_id("stSidebar")
        .get_by_test_id("stExpander")
        .filter(has_text=label)
        .locator("summary")
        .click()
    )
    await settled_async(page)


def visit(page, url: str, title: str, *, source: str | None = None) -> Run:
    """Open ``url`` (a new session) and wait for its first finished run of the page ``title``."""
    page.goto(url)
    return settled(page, title=title, source=source)


async def settled_async(
    page,
    *,
    after: int = 0,
    title: str | None = None,
    source: str | None = None,
    text: str | None = None,
    timeout_ms: int = TIMEOUT_MS,
) -> Run:
    """``settled`` for Playwright's async API."""
    want = _wanted(after, title, source, text)
    try:
        handle = await page.wait_for_function(_UNTIL, arg=want, timeout=timeout_ms, polling=250)
    except PlaywrightTimeout:
        shown_run = await page.evaluate(_LOOK)
        raise AssertionError(
            f"no finished run after run {after} with {want} within {timeout_ms / 1000:.0f} s;"
            f" the page shows {shown_run}\n{await page_report_async(page)}"
        ) from None
    found = await handle.json_value()
    return Run(found["run"], found["title"], found["source"])


async def shown_async(page) -> int:
    """``shown`` for Playwright's async API."""
    return (await settled_async(page)).number


# --- what a failing test prints ----------------------------------------------------------------------


def _report_path(page) -> Path:
    test = os.environ.get("PYTEST_CURRENT_TEST", "test").split(" ")[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"failed-{re.sub(r'[^a-zA-Z0-9_.-]', '-', test)}-{id(page)}.png"


def _report(url: str, path: Path, text: str) -> str:
    return f"--- page text ({url}; screenshot {path}) ---\n{text}\n--- end of page text ---"


def page_report(page) -> str:
    """The page's text and a screenshot's path, for a failure message."""
    try:
        path = _report_path(page)
        page.screenshot(path=str(path), full_page=True)
        return _report(page.url, path, page.inner_text("body"))
    except PlaywrightError as err:
        return f"(the page could not be read: {err})"


async def page_report_async(page) -> str:
    """``page_report`` for Playwright's async API."""
    try:
        path = _report_path(page)
        await page.screenshot(path=str(path), full_page=True)
        return _report(page.url, path, await page.inner_text("body"))
    except PlaywrightError as err:
        return f"(the page could not be read: {err})"


_OPEN_PAGES: list = []  # pages chromium_page has open: tests/conftest.py reports them on failure


@contextmanager
def chromium_page(width: int = 1440, height: int = 1600, **options) -> Iterator:
    """A new Chromium page (``options`` go to the browser context). If the block fails, the
    page's text is printed and a screenshot saved under test-artifacts/ before the browser
    closes; a test using it through a fixture gets the same from tests/conftest.py's hook.
    """
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_context(viewport={"width": width, "height": height}, **options).new_page()
        _OPEN_PAGES.append(page)
        try:
            yield page
        except BaseException:
            print(page_report(page))
            raise
        finally:
            _OPEN_PAGES.remove(page)
            browser.close()


def open_pages_report() -> str:
    """``page_report`` of every page ``chromium_page`` has open (for a failed test's report)."""
    return "\n".join(page_report(page) for page in _OPEN_PAGES)


def metric_value(page, label: str) -> str:
    metric = page.get_by_test_id("stMetric").filter(has_text=label).first
    return metric.get_by_test_id("stMetricValue").inner_text().strip()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
