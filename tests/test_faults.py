"""A database that goes away: PostgreSQL cut off while sessions are open, then back.

The test's own TCP proxy stands between the app and the shared PostgreSQL server (which is never
stopped): ``cut()`` closes the listening socket and resets every open connection, ``restore()``
listens again on the same port. The app re-reads a database after AGENTWATCH_REFRESH_S seconds or
when the sidebar's Reload is clicked; when that fails it must say so in one line, keep showing
the last data marked stale, and recover once the server answers again. The source is the
session's PostgreSQL canary (tests/conftest.py), so these reads count towards its proof too.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from tests.browser import app_server, chromium_page, expand, free_port, metric_value, settles, visit
from tests.builders.cylestio_db import CylestioData
from tests.conftest import CANARY_SEED, ROOT
from ui import source as app_source

pytestmark = pytest.mark.postgres
CALLS = len(CylestioData.generate(seed=CANARY_SEED, calls=60).llm_calls)
STALE = "Showing the last data loaded; refreshing failed"


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the PostgreSQL server, until cut."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.connections = 0
        self.swallowed = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.restore()

    def _call(self, coro) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    def restore(self) -> None:
        self._call(self._listen())

    def cut(self) -> None:
        self._call(self._cut())

    def black_hole(self) -> None:
        """Accept connections and never answer: a host that went away without a word."""
        self._call(self._cut())
        self._call(self._listen(self._swallow))

    async def _swallow(self, reader, writer) -> None:
        self.swallowed += 1
        self._open.add(writer)
        await reader.read()  # until the client gives up

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _listen(self, handler=None) -> None:
        self._server = await asyncio.start_server(
            handler or self._serve, "127.0.0.1", self.port, reuse_address=True
        )

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()  # a reset, as when a server or a network goes away
        self._open.clear()

    async def _serve(self, client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self.connections += 1
        self._open |= {client_writer, server_writer}

        async def pipe(reader, writer) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.transport.abort()
                self._open.discard(writer)

        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))


@pytest.fixture
def proxy(canary_postgres) -> Iterator[TcpProxy]:
    url = make_url(canary_postgres)
    p = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield p
    p.close()


@pytest.fixture
def proxied_url(proxy, canary_postgres) -> str:
    return make_url(canary_postgres).set(port=proxy.port).render_as_string(hide_password=False)


@pytest.fixture
def refresh_every_run(monkeypatch) -> Iterator[None]:
    """AGENTWATCH_REFRESH_S=0, and each run waits for its check to end (the check runs in the
    background, and a run waits 0.1 s by default): the app's shared cache is rebuilt to read both.
    """
    monkeypatch.setenv(app_source.REFRESH_VAR, "0")
    monkeypatch.setenv(app_source.WAIT_VAR, "600")
    app_source._cache.clear()
    yield
    monkeypatch.undo()
    app_source._cache.clear()  # later tests get the default period again


@pytest.fixture
def check_every_run(monkeypatch) -> Iterator[None]:
    """AGENTWATCH_REFRESH_S=0 with the default wait: each run starts a check in the background."""
    monkeypatch.setenv(app_source.REFRESH_VAR, "0")
    monkeypatch.delenv(app_source.WAIT_VAR, raising=False)
    app_source._cache.clear()
    yield
    app_source._cache().settle()
    monkeypatch.undo()
    app_source._cache.clear()


def open_app(url: str, page: str = "overview") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets["connections"] = {"agentwatch": {"url": url}}
    at.session_state["range"] = "All"
    return at.switch_page(f"pages/{page}.py").run()


def calls_shown(at: AppTest) -> str:
    return {m.label: m.value for m in at.metric}["LLM calls"]


def stale_warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.sidebar.warning if w.value.startswith(STALE)]


def assert_calm(at: AppTest) -> None:
    """No traceback, no st.error: an outage of a source that loaded before is a warning."""
    assert not at.exception, at.exception[0].message
    assert not at.error, [e.value for e in at.error]


def test_a_refresh_that_fails_keeps_the_data_marks_it_stale_and_recovers(
    proxy, proxied_url, refresh_every_run
):
    at = open_app(proxied_url)
    assert_calm(at)
    assert calls_shown(at) == f"{CALLS:,}" and not stale_warnings(at)

    proxy.cut()
    at.run()  # AGENTWATCH_REFRESH_S=0: this run reads the database again, and fails
    assert_calm(at)
    (warning,) = stale_warnings(at)
    assert "Connection refused" in warning or "connection" in warning.lower()
    assert "\n" not in warning
    assert calls_shown(at) == f"{CALLS:,}"  # the last data, still shown
    at.switch_page("pages/data.py").run()  # other pages keep working on it
    assert_calm(at)
    assert stale_warnings(at)

    proxy.restore()
    at.switch_page("pages/overview.py").run()
    assert_calm(at)
    assert not stale_warnings(at)
    assert calls_shown(at) == f"{CALLS:,}"


def test_reload_while_the_server_is_away_keeps_the_data_and_reload_after_recovers(proxy, proxied_url):
    app_source._cache.clear()  # the default refresh period: only Reload reads the database again
    at = open_app(proxied_url)
    assert_calm(at)
    reads = proxy.connections

    proxy.cut()
    at.run()
    assert_calm(at)
    assert not stale_warnings(at)  # nothing was re-read yet: nothing to report
    _click_reload(at)
    assert_calm(at)
    assert len(stale_warnings(at)) == 1
    assert calls_shown(at) == f"{CALLS:,}"

    proxy.restore()
    _click_reload(at)
    assert_calm(at)
    assert not stale_warnings(at)
    assert proxy.connections > reads


def _click_reload(at: AppTest) -> None:
    """What the sidebar's Reload button does (``ui.source.reload``), then a run.

    AppTest cannot click it: each AppTest run first executes the page alone (Streamlit's old
    ``pages/`` mode), ``ui.context.context`` reruns through app.py, and a rerun resets a button's
    click. The browser test below clicks the real button.
    """
    (_reload,) = [b for b in at.button if b.label == "Reload"]  # the button is there
    at.session_state["reload_requested"] = at.session_state["last_good"].key
    at.run()


def test_a_server_that_stops_answering_costs_reruns_nothing_and_reload_marks_the_data_stale(
    proxy, proxied_url
):
    """Black-holed, not refused: connections hang until the 5 s connect timeout. A rerun that
    reads nothing must not even try; Reload tries, times out, and keeps the data.
    """
    app_source._cache.clear()
    at = open_app(proxied_url)
    assert_calm(at)

    proxy.black_hole()
    started = time.perf_counter()
    at.run()
    at.switch_page("pages/data.py").run()
    print(f"\ntwo reruns with the server black-holed: {time.perf_counter() - started:.1f} s")
    assert_calm(at)
    assert proxy.swallowed == 0  # nothing was due: no connection attempted, so no wait
    started = time.perf_counter()
    _click_reload(at)
    print(f"Reload with the server black-holed: {time.perf_counter() - started:.1f} s")
    assert_calm(at)
    assert proxy.swallowed >= 1 and len(stale_warnings(at)) == 1
    assert "timeout" in stale_warnings(at)[0].lower()

    proxy.cut()
    proxy.restore()
    _click_reload(at)
    at.switch_page("pages/overview.py").run()
    assert_calm(at)
    assert not stale_warnings(at) and calls_shown(at) == f"{CALLS:,}"


def test_a_check_that_hangs_holds_no_page_and_its_failure_shows_on_the_next_run(
    proxy, proxied_url, check_every_run
):
    """Black-holed during the periodic check: the check waits for its 5 s connect timeout in the
    background, while the run shows the data it has and says a check is running."""
    at = open_app(proxied_url)
    assert_calm(at)

    proxy.black_hole()
    at.run()
    assert_calm(at)
    assert not stale_warnings(at) and calls_shown(at) == f"{CALLS:,}"
    assert any("checking for new data now" in c.value for c in at.sidebar.caption)
    app_source._cache().settle()
    assert proxy.swallowed >= 1  # the check did try the server

    at.run()  # shows what the check found, and starts another
    assert_calm(at)
    (warning,) = stale_warnings(at)
    assert "timeout" in warning.lower()
    assert calls_shown(at) == f"{CALLS:,}"

    proxy.cut()
    proxy.restore()
    app_source._cache().settle()
    at.run()
    app_source._cache().settle()
    at.run()
    assert_calm(at)
    assert not stale_warnings(at) and calls_shown(at) == f"{CALLS:,}"


@pytest.mark.browser
def test_in_the_browser_an_outage_is_a_warning_and_the_data_stays(proxy, proxied_url, tmp_path_factory):
    env = {"AGENTWATCH_DEMO_DIR": str(tmp_path_factory.mktemp("demo"))}
    with app_server("--source", proxied_url, env=env) as url, chromium_page(1440, 1600) as page:
        visit(page, f"{url}/?range=All", "Overview")
        assert metric_value(page, "LLM calls") == f"{CALLS:,}"
        sidebar = page.get_by_test_id("stSidebar")
        expand(page, "Change source")
        reload = sidebar.get_by_role("button", name="Reload")

        proxy.cut()
        with settles(page, title="Overview"):
            reload.click()
        assert sidebar.get_by_text(STALE).is_visible()
        assert page.get_by_test_id("stException").count() == 0
        assert page.get_by_test_id("stAlertContentError").count() == 0
        assert metric_value(page, "LLM calls") == f"{CALLS:,}"

        proxy.restore()
        # The expander has a key, so it stays open though the warning above it moved it.
        with settles(page, title="Overview"):
            reload.click()
        assert sidebar.get_by_text(STALE).count() == 0
        assert metric_value(page, "LLM calls") == f"{CALLS:,}"
