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
