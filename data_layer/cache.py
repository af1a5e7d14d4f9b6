"""Loaded stores, shared by every session that opens the same source, built once.

The app keeps one instance for the whole server. A rerun, another page or another browser tab on
the same source reuses the store instead of reloading it; two sessions asking for the same source
at once wait for one load instead of running two. Least recently used stores are dropped beyond
``capacity`` so that memory stays bounded however many files people upload.

A store loaded from a database (or a file at a path) is checked against its source after
``ttl_s`` by the ``refresh`` its caller gives (``data_layer.refresh``: nothing read if nothing
changed, only the new rows if rows were appended); without one, or when Reload asks, it is read
in full. When that fails (the server went away), the last store stays in use and is marked stale
until a refresh succeeds. Each entry says when its data was read and last checked.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from data_layer.backend import Backend
from data_layer.errors import AgentwatchError


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Entry:
    store: Backend
    loaded_at: float  # monotonic: when the store was last checked against its source, or tried to be
    stale_reason: str | None = None  # set while refreshes fail; the store shown is the last good one
    changed_at: datetime = field(default_factory=_now)  # when rows were last read from the source
    checked_at: datetime = field(default_factory=_now)  # when the store last matched the source


Refresh = Callable[[Backend], tuple[Backend, bool]]
"""Bring a store up to date: the same or a new store, and whether its data changed."""


class StoreCache:
    def __init__(self, capacity: int = 4, ttl_s: float | None = 300.0) -> None:
        """``ttl_s``: how old a database's store may get before a rerun reads the source again."""
        self.capacity = capacity
        self.ttl_s = ttl_s
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(
        self,
        key: str,
        load: Callable[[], Backend],
        *,
        refreshable: bool = False,
        force: bool = False,
        refresh: Refresh | None = None,
    ) -> Entry:
        """The entry for ``key``, loading it with ``load()`` on first use or when ``force`` asks for
        it (the Reload button); when due for a refresh, through ``refresh`` if given, else ``load``.

        Raises what ``load`` raises when there is no earlier store to fall back on; a failed
        refresh keeps the earlier store and marks it stale instead.
        """
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            entry = self._peek(key)
            due = entry is not None and (
                force
                or (
                    refreshable and self.ttl_s is not None and time.monotonic() - entry.loaded_at > self.ttl_s
                )
            )
            if entry is not None and not due:
                return entry
            try:
                if entry is not None and refresh is not None and not force:
                    store, changed = refresh(entry.store)
                else:
                    store, changed = load(), True
            except AgentwatchError as err:
                if entry is None:
                    raise
                entry.stale_reason = str(err)
                entry.loaded_at = time.monotonic()  # retry after another ttl, not on every rerun
                return entry
            if entry is not None and store is entry.store:  # checked, or the new rows appended
                entry.loaded_at, entry.stale_reason, entry.checked_at = time.monotonic(), None, _now()
                entry.changed_at = entry.checked_at if changed else entry.changed_at
                return entry
            fresh = Entry(store=store, loaded_at=time.monotonic())
            self._put(key, fresh)
            return fresh

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
