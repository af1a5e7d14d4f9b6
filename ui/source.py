"""Which source the app shows, and loading it once for every session that asks.

Precedence: what the user chose in the sidebar (an upload, or a typed path or URL), then the
command line (``streamlit run app.py -- --source SOURCE``), then ``.streamlit/secrets.toml``
(``[connections.agentwatch] url = "..."``), else the bundled demo dataset.

A choice is remembered per session; the store behind it is shared by every session through one
``StoreCache``. Loading errors never replace a working source: the previous choice stays. What a
session may open, and how uploads are held and kept, is the data layer's (``data_layer/policy.py``,
``data_layer/uploads.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from data_layer import demo, policy, uploads
from data_layer.backend import Backend
from data_layer.cache import Entry, StoreCache
from data_layer.errors import AgentwatchError
from data_layer.refresh import open_watched, open_watched_pushdown, refresh
from data_layer.sources import Location, open_sources
from data_layer.sources.database import Progress

CHOICE_KEY = "source_choice"
UPLOAD_KEY = "upload"


@dataclass(frozen=True)
class Choice:
    """A source to show. ``label`` is safe to display; ``key`` names its store in the cache."""

    origin: str  # upload | sidebar | command line | secrets | demo
    target: str
    label: str
    key: str
    pushdown: bool = False  # queries run inside the PostgreSQL source instead of a loaded copy

    @property
    def is_database_url(self) -> bool:
        return "://" in self.target

    @property
    def can_push_down(self) -> bool:
        return Location.parse(self.target).is_postgres

    @property
    def can_change(self) -> bool:
        """A database or a file at a path may change; an upload and the demo never do."""
        return self.origin not in ("upload", "demo")

    def with_pushdown(self, on: bool) -> Choice:
        key = self.key.removesuffix(":pushdown") + (":pushdown" if on else "")
        return replace(self, pushdown=on, key=key)


REFRESH_VAR = "AGENTWATCH_REFRESH_S"
WAIT_VAR = "AGENTWATCH_REFRESH_WAIT_S"


def refresh_period() -> float:
    """Seconds between checks of a database or a file at a path for new data."""
    return float(os.environ.get(REFRESH_VAR, "30"))


def refresh_wait() -> float:
    """Seconds a page waits for such a check before it shows the data it has."""
    return float(os.environ.get(WAIT_VAR, "0.1"))


class _ServerCache:
    """One store cache for the whole process, so sessions on the same source share its store.

    A module-level object rather than ``st.cache_resource``: the benchmark and the tests load a
    store outside the app and hand it over, which a Streamlit cache keyed to its runtime would
    not see. Databases and files at a path are checked again after AGENTWATCH_REFRESH_S seconds
    (default 30), in the background: a check of an unchanged source reads nothing, new rows are
    appended, and a rerun waits for it at most AGENTWATCH_REFRESH_WAIT_S (default 0.1 s).
    """

    def __init__(self) -> None:
        self._cache: StoreCache | None = None
        self._lock = threading.Lock()

    def __call__(self) -> StoreCache:
        with self._lock:
            if self._cache is None:
                self._cache = StoreCache(capacity=6, ttl_s=refresh_period(), wait_s=refresh_wait())
            return self._cache

    def clear(self) -> None:
        """Forget every store (tests; and changed AGENTWATCH_REFRESH_S and _WAIT_S take effect)."""
        with self._lock:
            self._cache = None


_cache = _ServerCache()


def _from_location(origin: str, text: str) -> Choice:
    location = Location.parse(text)
    choice = Choice(origin=origin, target=location.target, label=location.label, key=location.identity())
    return choice.with_pushdown(policy.pushdown_by_default(choice.target))


def _command_line() -> Choice | None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--source")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return _from_location("command line", args.source) if args.source else None


def _secrets() -> Choice | None:
    try:
        url = st.secrets["connections"]["agentwatch"]["url"]
    except (KeyError, FileNotFoundError, AttributeError, TypeError):
        return None
    except Exception:  # Streamlit raises its own error type when there is no secrets file
        return None
    return _from_location("secrets", str(url)) if url else None


def demo_choice() -> Choice:
    # The demo is re-anchored to the current day, so its store is too.
    day = datetime.now(UTC).date().isoformat()
    return Choice(
        origin="demo", target="demo", label="Demo dataset", key=f"demo:{demo.generator_version()}:{day}"
    )


def default_choice() -> Choice:
    return _command_line() or _secrets() or demo_choice()


def current_choice() -> Choice:
    return st.session_state.get(CHOICE_KEY) or default_choice()


def choose(choice: Choice | None) -> None:
    """Make ``choice`` this session's source (None: back to the default)."""
    if choice is None:
        st.session_state.pop(CHOICE_KEY, None)
    else:
        st.session_state[CHOICE_KEY] = choice


def choose_typed(text: str) -> None:
    """on_change of the sidebar's path-or-URL box. A typed password does not stay on the page:
    the box is emptied (the sidebar's source label shows the URL with the password masked).
    """
    if not text.strip():
        return
    try:
        policy.check_typed(text)
    except AgentwatchError as err:
        st.session_state["source_error"] = str(err)
        return
    choose(_from_location("sidebar", text))
    if policy.has_password(text):
        st.session_state["typed_source"] = ""


def _session() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no session"


def _session_is_live(session: str) -> bool:
    """Whether a browser is still connected to ``session`` (always, without a server: AppTest)."""
    return not runtime.exists() or runtime.get_instance().is_active_session(session)


def _uploads() -> uploads.UploadStore:
    return uploads.for_this_server(is_live=_session_is_live)


def accept_upload() -> None:
    """on_change of the uploader: keep the file and make it this session's source."""
    uploaded = st.session_state.get(UPLOAD_KEY)
    if uploaded is None:
        return
    try:
        upload = _uploads().add(uploaded.getvalue(), uploaded.name, session=_session())
    except AgentwatchError as err:
        st.session_state["source_error"] = str(err)
        return
    choose(Choice(origin="upload", target=str(upload.path), label=upload.name, key=f"upload:{upload.digest}"))


def load(choice: Choice, progress, *, early_s: float = 0.0) -> Entry:
    """The store for ``choice``, from the shared cache or loaded now (raises AgentwatchError).

    Called on every run for the source the session shows, which marks an upload as still in use;
    an upload deleted since (unused too long) raises UploadGone, though its store may be cached.
    ``early_s``: start the check when it is due within that many seconds (``StoreCache.get``).
    """
    if choice.origin == "upload":
        _uploads().touch(_session(), choice.target, name=choice.label)
    else:
        _uploads().touch(_session(), None)

    def build(progress=progress):
        if choice.origin == "demo":
            return open_sources(demo.demo_sources(), label="Demo dataset", progress=progress)
        if choice.pushdown:
            return open_watched_pushdown(choice.target, label=choice.label)
        return open_watched(choice.target, progress=progress, label=choice.label)

    force = st.session_state.pop("reload_requested", None) == choice.key
    return _cache().get(
        choice.key,
        build,
        refreshable=choice.can_change,
        force=force,
        refresh=_in_background(choice, build),
        early_s=early_s,
    )


# What each source's background check is doing past counting rows: (what, its latest step).
_activity: dict[str, tuple[str, str | None]] = {}


def activity(choice: Choice) -> tuple[str, str | None] | None:
    """What the check of ``choice``'s store running in the background is doing, when it reads
    rows: ``("reading new rows", step)`` or ``("reading the source again", step)``."""
    return _activity.get(choice.key)


def _in_background(
    choice: Choice, build: Callable[..., Backend]
) -> Callable[[Backend], tuple[Backend, bool]]:
    """The store's refresh as the cache runs it, on a thread of its own: no page is there to
    draw its progress, so each step is noted for the freshness line (``activity``) instead."""
    key = choice.key

    def step(what: str) -> Progress:
        return lambda message, _fraction: _activity.__setitem__(key, (what, message))

    def reload() -> Backend:
        _activity[key] = ("reading the source again", None)
        return build(progress=step("reading the source again"))

    def check(store: Backend) -> tuple[Backend, bool]:
        try:
            return refresh(store, reload, step("reading new rows"))
        finally:
            _activity.pop(key, None)

    return check


def current(choice: Choice) -> Entry | None:
    """The entry of ``choice``'s source as the shared cache holds it now, its check started when
    due (as ``load`` does) or due within half a period: this is called every period, by the
    freshness line's own runs. None if no store is cached for it, which only a full run reads."""
    if _cache().cached(choice.key) is None:
        return None
    try:  # dropped since, it is loaded here: its error is the full run's to show
        return load(choice, lambda _m, _f: None, early_s=refresh_period() / 2)
    except AgentwatchError:
        return None


def reload(choice: Choice) -> None:
    """Read the source again, in full, on the next run; if that fails, the data shown so far stays."""
    st.session_state["reload_requested"] = choice.key


__all__ = [
    "AgentwatchError",
    "Choice",
    "accept_upload",
    "activity",
    "choose",
    "current",
    "current_choice",
    "load",
    "reload",
]
