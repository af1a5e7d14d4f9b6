"""Loaded stores, shared by every session that opens the same source, built once.

The app keeps one instance for the whole server. A rerun, another page or another browser tab on
the same source reuses the store instead of reloading it; two sessions asking for the same source
at once wait for one load instead of running two. Least recently used stores are dropped beyond
``capacity`` so that memory stays bounded however many files people upload.

A store loaded from a database (or a file at a path) is checked against its source after
``ttl_s`` by the ``refresh`` its caller gives (``data_layer.refresh``: nothing read if nothing
changed, only the new rows if rows were appended); without one it is read in full. The check runs
in the background: the rerun that starts it waits for it at most ``wait_s`` and is otherwise
served the current store, as are the reruns while it runs. So a check that takes seconds (at ten
million calls, counting a PostgreSQL source's rows takes 1 to 3 s) never holds a page. Reload
(``force``) reads in full while the user waits, once a check running meanwhile has ended: two
full reads of one source at once would hold three stores. When a check fails (the server went
away), the last store stays in use and is marked stale until one succeeds. Each entry says when
its data was read and last checked, and whether a check is running.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from data_layer.backend import Backend
from data_layer.errors import AgentwatchError

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Entry:
    store: Backend
    loaded_at: float  # monotonic: when the store was last checked against its source, or tried to be
    stale_reason: str | None = None  # set while refreshes fail; the store shown is the last good one
    changed_at: datetime = field(default_factory=_now)  # when rows were last read from the source
    checked_at: datetime = field(default_factory=_now)  # when the store last matched the source
    checking: threading.Event | None = None  # while a check runs in the background; set when it ends


Refresh = Callable[[Backend], tuple[Backend, bool]]
"""Bring a store up to date: the same or a new store, and whether its data changed."""


class StoreCache:
    def __init__(self, capacity: int = 4, ttl_s: float | None = 300.0, wait_s: float | None = 0.1) -> None:
        """``ttl_s``: how old a database's store may get before it is checked against its source.
        ``wait_s``: how long a rerun waits for that check before it is served the current store
        (None: until the check ends).
        """
        self.capacity = capacity
        self.ttl_s = ttl_s
        self.wait_s = wait_s
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._running: set[threading.Event] = set()  # checks in the background, dropped entries' too

    def get(
        self,
        key: str,
        load: Callable[[], Backend],
        *,
        refreshable: bool = False,
        force: bool = False,
        refresh: Refresh | None = None,
        early_s: float = 0.0,
    ) -> Entry:
        """The entry for ``key``, loading it with ``load()`` on first use or when ``force`` asks for
        it (the Reload button). When due, a check starts in the background through ``refresh`` if
        given, else ``load``, and the call that starts it waits for it at most ``wait_s``.

        ``early_s``: a check due within that many seconds starts now. A caller that comes back
        every ``ttl_s`` (a page's periodic run) would otherwise find the store a moment short of
        due every other time, and check only every second period.

        Raises what ``load`` raises when there is no earlier store to fall back on; a failed
        refresh or reload keeps the earlier store and marks it stale instead.
        """
        if force:
            self._await_check(key)  # never two full reads of one source at once: memory is the limit
        started = None
        with self._lock_of(key):
            entry = self._peek(key)
            if entry is None or force:
                return self._load(key, entry, load)
            if entry.checking is None and refreshable and self._due(entry, early_s):
                check = refresh or (lambda _store: (load(), True))
                started = entry.checking = threading.Event()
                with self._guard:
                    self._running.add(started)
                threading.Thread(
                    target=self._check, args=(key, entry, check), name=f"refresh {key}", daemon=True
                ).start()
        if started is not None:  # a run that finds a check running already is not held by it
            started.wait(self.wait_s)
        with self._guard:
            return self._entries.get(key, entry)  # a new store, if the check read the source in full

    def cached(self, key: str) -> Entry | None:
        """The entry for ``key`` if a store is cached for it, else None: nothing loaded or checked."""
        with self._guard:
            return self._entries.get(key)

    def settle(self, timeout: float | None = None) -> None:
        """Wait for the checks running in the background to end (a test, or a server stopping)."""
        with self._guard:
            running = list(self._running)
        for done in running:
            done.wait(timeout)

    def _await_check(self, key: str) -> None:
        """Wait for the check of ``key``'s store running in the background, if one is."""
        with self._guard:
            entry = self._entries.get(key)
        running = entry.checking if entry is not None else None
        if running is not None:
            running.wait()

    def _due(self, entry: Entry, early_s: float = 0.0) -> bool:
        return self.ttl_s is not None and time.monotonic() - entry.loaded_at > self.ttl_s - early_s

    def _load(self, key: str, entry: Entry | None, load: Callable[[], Backend]) -> Entry:
        """Read the source in full, while the caller waits (first use, or Reload)."""
        try:
            store = load()
        except AgentwatchError as err:
            if entry is None:
                raise
            entry.stale_reason = str(err)
            entry.loaded_at = time.monotonic()  # retry after another ttl, not on every rerun
            return entry
        fresh = Entry(store=store, loaded_at=time.monotonic())
        self._put(key, fresh)
        return fresh

    def _check(self, key: str, entry: Entry, check: Refresh) -> None:
        """The background check of ``entry``'s store. A new store it read is kept only if the
        entry is still the cache's: dropped meanwhile (beyond capacity), it stays dropped."""
        try:
            store, changed = check(entry.store)
            failure = None
        except Exception as err:  # a thread's error has no page to show on: it becomes the warning
            failure = str(err)
            if not isinstance(err, AgentwatchError):
                log.exception("Checking %s against its source failed", key)
                failure = f"an unexpected error ({type(err).__name__}: {err})"
            store, changed = entry.store, False
        with self._lock_of(key):
            entry.loaded_at = time.monotonic()  # the next check after another ttl, failed or not
            if failure is not None:
                entry.stale_reason = failure
            elif store is entry.store:  # checked, or the new rows appended
                entry.stale_reason, entry.checked_at = None, _now()
                entry.changed_at = entry.checked_at if changed else entry.changed_at
            elif self._entries.get(key) is entry:
                self._put(key, Entry(store=store, loaded_at=time.monotonic()))
            done, entry.checking = entry.checking, None
        with self._guard:
            self._running.discard(done)
        done.set()

    def _lock_of(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _peek(self, key: str) -> Entry | None:
        with self._guard:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def _put(self, key: str, entry: Entry) -> None:
        with self._guard:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                old, _ = self._entries.popitem(last=False)
                self._locks.pop(old, None)
