"""Which source the app shows, and loading it once for every session that asks.

Precedence: what the user chose in the sidebar (an upload, or a typed path or URL), then the
command line (``streamlit run app.py -- --source SOURCE``), then ``.streamlit/secrets.toml``
(``[connections.agentwatch] url = "..."``), else the bundled demo dataset.

A choice is remembered per session; the store behind it is shared by every session through one
``StoreCache``. Loading errors never replace a working source: the previous choice stays.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st
from sqlalchemy.engine import make_url

from data_layer import demo
from data_layer.cache import Entry, StoreCache
from data_layer.errors import AgentwatchError, SourceTooLarge
from data_layer.sources import Location, files, open_pushdown, open_source, open_sources, should_push_down
from data_layer.sources.registry import titles

SYSTEM_TITLES = titles()  # system -> title, from the adapter registry
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

    def with_pushdown(self, on: bool) -> Choice:
        key = self.key.removesuffix(":pushdown") + (":pushdown" if on else "")
        return replace(self, pushdown=on, key=key)


REFRESH_VAR = "AGENTWATCH_REFRESH_S"
ALLOW_PATHS_VAR = "AGENTWATCH_ALLOW_PATHS"  # "0": the sidebar takes uploads and URLs, not paths


class _ServerCache:
    """One store cache for the whole process, so sessions on the same source share its store.

    A module-level object rather than ``st.cache_resource``: the benchmark and the tests load a
    store outside the app and hand it over, which a Streamlit cache keyed to its runtime would
    not see. Databases are read again after AGENTWATCH_REFRESH_S seconds (default 300).
    """

    def __init__(self) -> None:
        self._cache: StoreCache | None = None
        self._lock = threading.Lock()

    def __call__(self) -> StoreCache:
        with self._lock:
            if self._cache is None:
                self._cache = StoreCache(capacity=6, ttl_s=float(os.environ.get(REFRESH_VAR, "300")))
            return self._cache

    def clear(self) -> None:
        """Forget every store (tests; and a changed AGENTWATCH_REFRESH_S takes effect)."""
        with self._lock:
            self._cache = None


_cache = _ServerCache()


def _from_location(origin: str, text: str) -> Choice:
    location = Location.parse(text)
    choice = Choice(origin=origin, target=location.target, label=location.label, key=location.identity())
    return choice.with_pushdown(_pushdown_by_default(choice))


_PUSHDOWN_DECIDED: dict[str, tuple[bool, float | None]] = {}  # source key -> (decision, retry at)
_PUSHDOWN_RETRY_S = 60.0


def _pushdown_by_default(choice: Choice) -> bool:
    """Query big PostgreSQL sources in place (AGENTWATCH_PUSHDOWN_ROWS); load the rest.

    Decided once per source and server process: the probe reads the catalog and row estimates,
    and every rerun of every session asks again for the default source, so without this a server
    that stopped answering cost a connect timeout per probe on every click (15 s per rerun with
    the server black-holed, in tests/test_faults.py). A source that could not be probed is
    loaded, and probed again after a minute. Keyed by the source's cache key: no password.
    """
    if not choice.can_push_down:
        return False
    key = choice.key.removesuffix(":pushdown")
    decided = _PUSHDOWN_DECIDED.get(key)
    if decided is None or (decided[1] is not None and time.monotonic() > decided[1]):
        try:
            decided = (should_push_down(choice.target), None)
        except AgentwatchError:
            decided = (False, time.monotonic() + _PUSHDOWN_RETRY_S)  # the load will say what is wrong
        _PUSHDOWN_DECIDED[key] = decided
    return decided[0]


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
    # Anything but a PostgreSQL server names a file here: a path, or a URL such as sqlite:////etc/x.db.
    if os.environ.get(ALLOW_PATHS_VAR, "1") == "0" and not Location.parse(text).is_postgres:
        st.session_state["source_error"] = (
            "Opening files on this server is turned off (AGENTWATCH_ALLOW_PATHS=0)."
            " Upload the file instead, or type a PostgreSQL URL."
        )
        return
    choose(_from_location("sidebar", text))
    if _has_password(text):
        st.session_state["typed_source"] = ""


def _has_password(text: str) -> bool:
    try:
        return "://" in text and bool(make_url(text.strip()).password)
    except Exception:  # not a URL SQLAlchemy can parse: nothing to hide, Location says what is wrong
        return False


def upload_dir() -> Path:
    """A private folder for this session's uploads (other sessions never see these paths)."""
    if "upload_dir" not in st.session_state:
        st.session_state["upload_dir"] = tempfile.mkdtemp(prefix="agentwatch-upload-")
    return Path(st.session_state["upload_dir"])


def accept_upload() -> None:
    """on_change of the uploader: keep the file and make it this session's source.

    Uploads come from strangers: they are held to ``files.MAX_UPLOAD_BYTES``, and so is what a
    .gz upload expands to (decompressed here, once, within that limit).
    """
    uploaded = st.session_state.get(UPLOAD_KEY)
    if uploaded is None:
        return
    limit = files.MAX_UPLOAD_BYTES
    try:
        if uploaded.size > limit:
            raise SourceTooLarge(
                f"{uploaded.name} is {uploaded.size / 2**20:,.0f} MB, over the {limit / 2**20:,.0f} MB"
                " upload limit. Upload a smaller export, or point Agentwatch at the database."
            )
        data = uploaded.getvalue()
        path = files.copy_upload(data, uploaded.name, upload_dir())
        if files.is_gzip(path):
            archive = path
            try:
                path = files.gunzip_to_temp(archive, upload_dir(), limit=limit)
            finally:
                archive.unlink(missing_ok=True)
    except AgentwatchError as err:
        st.session_state["source_error"] = str(err)
        return
    digest = hashlib.sha256(data).hexdigest()[:16]
    choose(Choice(origin="upload", target=str(path), label=uploaded.name, key=f"upload:{digest}"))


def load(choice: Choice, progress) -> Entry:
    """The store for ``choice``, from the shared cache or loaded now (raises AgentwatchError)."""

    def build():
        if choice.origin == "demo":
            return open_sources(demo.demo_sources(), label="Demo dataset", progress=progress)
        if choice.pushdown:
            return open_pushdown(choice.target, label=choice.label)
        return open_source(choice.target, progress=progress, label=choice.label)

    force = st.session_state.pop("reload_requested", None) == choice.key
    return _cache().get(choice.key, build, refreshable=choice.is_database_url, force=force)


def reload(choice: Choice) -> None:
    """Read the source again on the next run; if that fails, the data shown so far stays."""
    st.session_state["reload_requested"] = choice.key


__all__ = ["AgentwatchError", "Choice", "accept_upload", "choose", "current_choice", "load", "reload"]
