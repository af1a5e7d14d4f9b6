"""The shared store cache: one load per source, bounded memory, stale data kept when a refresh fails."""

from __future__ import annotations

import threading
import time

import pytest

from data_layer.cache import StoreCache
from data_layer.errors import SourceUnavailable


class FakeStore:
    def __init__(self, n: int) -> None:
        self.n = n


def test_a_second_get_reuses_the_store_without_loading_again():
    cache, loads = StoreCache(), []
    for _ in range(3):
        entry = cache.get("k", lambda: loads.append(1) or FakeStore(len(loads)))
    assert len(loads) == 1 and entry.store.n == 1


def test_sessions_asking_at_once_wait_for_one_load():
    cache, loads = StoreCache(), []

    def slow():
        loads.append(1)
        time.sleep(0.2)
        return FakeStore(1)

    threads = [threading.Thread(target=cache.get, args=("k", slow)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1


def test_least_recently_used_stores_are_dropped_beyond_capacity():
    cache = StoreCache(capacity=2)
    for key in "abc":
        cache.get(key, lambda key=key: FakeStore(ord(key)))
    reloaded = []
    cache.get("a", lambda: reloaded.append("a") or FakeStore(0))
    cache.get("c", lambda: reloaded.append("c") or FakeStore(0))
    assert reloaded == ["a"]


def test_a_failed_refresh_keeps_the_last_store_and_marks_it_stale():
    cache = StoreCache(ttl_s=0.0)
    cache.get("db", lambda: FakeStore(1), refreshable=True)

    def down():
        raise SourceUnavailable("Cannot read db (connection refused). Check that the server is running.")

    entry = cache.get("db", down, refreshable=True, force=True)
    assert entry.store.n == 1 and "connection refused" in entry.stale_reason
    back = cache.get("db", lambda: FakeStore(2), refreshable=True, force=True)
    assert back.store.n == 2 and back.stale_reason is None


def test_a_source_that_never_loaded_raises_its_error():
    cache = StoreCache()
    with pytest.raises(SourceUnavailable):
        cache.get("x", lambda: (_ for _ in ()).throw(SourceUnavailable("nope")))


def test_a_due_store_is_refreshed_in_place_and_says_when_it_was_checked_and_changed():
    cache, loads, checks = StoreCache(ttl_s=0.0), [], []
    first = cache.get("db", lambda: loads.append(1) or FakeStore(1), refreshable=True)
    read_at = first.changed_at

    def unchanged(store):
        checks.append(store)
        return store, False

    entry = cache.get("db", lambda: loads.append(1) or FakeStore(2), refreshable=True, refresh=unchanged)
    assert entry is first and checks == [first.store] and len(loads) == 1
    assert entry.changed_at == read_at and entry.checked_at >= read_at

    def appended(store):
        store.n += 10
        return store, True

    entry = cache.get("db", lambda: FakeStore(3), refreshable=True, refresh=appended)
    assert entry is first and entry.store.n == 11 and entry.changed_at == entry.checked_at > read_at


def test_reload_reads_in_full_even_where_a_refresh_could_append():
    cache = StoreCache(ttl_s=3600.0)
    cache.get("db", lambda: FakeStore(1), refreshable=True)

    def refresh(_store):
        raise AssertionError("Reload must read the source in full")

    entry = cache.get("db", lambda: FakeStore(2), refreshable=True, force=True, refresh=refresh)
    assert entry.store.n == 2


def test_a_refresh_that_fails_marks_the_store_stale_until_one_succeeds():
    cache = StoreCache(ttl_s=0.0)
    cache.get("db", lambda: FakeStore(1), refreshable=True)

    def down(_store):
        raise SourceUnavailable("Cannot read db (connection refused).")

    stale = cache.get("db", lambda: FakeStore(2), refreshable=True, refresh=down)
    assert stale.store.n == 1 and "connection refused" in stale.stale_reason
    back = cache.get("db", lambda: FakeStore(2), refreshable=True, refresh=lambda store: (store, False))
    assert back.store.n == 1 and back.stale_reason is None
