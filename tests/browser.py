"""A real Agentwatch server on a free port and headless Debian Chromium driving it, for the e2e tests.

Chromium is Debian's (``/usr/bin/chromium``, installed by scripts/test.sh); Playwright's own
browser download does not work on these machines. The flags keep Chromium off the network.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

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
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


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
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"streamlit did not start:\n{log.read()[-4000:]}")
            time.sleep(0.3)
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


_SETTLED = """() => !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid="stSkeleton"]')
    && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
        .every(c => c.querySelector('.main-svg'))"""


def wait_for_page(page, title: str, timeout_ms: int = 120_000) -> None:
    """Wait until the page's title is drawn, Streamlit has finished running the script (and
    any rerun it asked for), and Plotly has drawn every chart: twice in a row, half a second
    apart, since a run can end and the next begin between two looks.
    """
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=timeout_ms)
    for _ in range(2):
        page.wait_for_function(_SETTLED, timeout=timeout_ms)
        page.wait_for_timeout(500)
    page.wait_for_function(_SETTLED, timeout=timeout_ms)


def metric_value(page, label: str) -> str:
    metric = page.get_by_test_id("stMetric").filter(has_text=label).first
    return metric.get_by_test_id("stMetricValue").inner_text().strip()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
