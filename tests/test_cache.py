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
    cache, loads, checks = StoreCache(ttl_s=0.0, wait_s=None), [], []
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


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (SourceUnavailable("Cannot read db (connection refused)."), "Cannot read db (connection refused)."),
        # a bug, not the source: still a warning on the page, never a traceback
        (KeyError("llm_calls"), "an unexpected error (KeyError: 'llm_calls')"),
    ],
)
def test_a_refresh_that_fails_marks_the_store_stale_until_one_succeeds(error, reason):
    cache = StoreCache(ttl_s=0.0, wait_s=None)
    cache.get("db", lambda: FakeStore(1), refreshable=True)

    def down(_store):
        raise error

    stale = cache.get("db", lambda: FakeStore(2), refreshable=True, refresh=down)
    assert stale.store.n == 1 and stale.stale_reason == reason
    back = cache.get("db", lambda: FakeStore(2), refreshable=True, refresh=lambda store: (store, False))
    assert back.store.n == 1 and back.stale_reason is None and back.checking is None


class Gate:
    """A check that runs until the test lets it finish: no timing in the test."""

    def __init__(self, outcome) -> None:
        self.outcome = outcome
        self.started = threading.Event()
        self.open = threading.Event()
        self.calls = 0

    def __call__(self, store):
        self.calls += 1
        self.started.set()
        assert self.open.wait(10), "the test never let the check finish"
        return self.outcome(store)


def test_a_slow_check_holds_no_rerun_and_its_result_shows_on_the_next():
    cache = StoreCache(ttl_s=0.0, wait_s=0.0)
    first = cache.get("db", lambda: FakeStore(1), refreshable=True)
    gate = Gate(lambda store: (FakeStore(2), True))  # the source's history changed: read in full

    served = cache.get("db", lambda: FakeStore(9), refreshable=True, refresh=gate)
    assert gate.started.wait(10)
    again = cache.get("db", lambda: FakeStore(9), refreshable=True, refresh=gate)
    assert served is again is first and first.store.n == 1 and first.checking is not None
    assert gate.calls == 1  # one check at a time, however many reruns ask meanwhile

    gate.open.set()
    cache.settle()
    assert first.checking is None
    after = cache.get("db", lambda: FakeStore(9))
    assert after.store.n == 2 and after.stale_reason is None


def test_without_a_wait_limit_a_run_is_served_what_its_check_found():
    cache = StoreCache(ttl_s=0.0, wait_s=None)
    cache.get("db", lambda: FakeStore(1), refreshable=True)
    quick = lambda _store: (FakeStore(2), True)  # noqa: E731
    entry = cache.get("db", lambda: FakeStore(9), refreshable=True, refresh=quick)
    assert entry.store.n == 2 and entry.checking is None


def test_a_check_of_a_store_dropped_meanwhile_does_not_bring_it_back():
    cache = StoreCache(capacity=1, ttl_s=0.0, wait_s=0.0)
    cache.get("a", lambda: FakeStore(1), refreshable=True)
    gate = Gate(lambda store: (FakeStore(2), True))
    cache.get("a", lambda: FakeStore(9), refreshable=True, refresh=gate)
    assert gate.started.wait(10)
    cache.get("b", lambda: FakeStore(5))  # beyond capacity: "a" is dropped
    gate.open.set()
    cache.settle()
    assert cache.get("b", lambda: FakeStore(9)).store.n == 5
    assert cache.get("a", lambda: FakeStore(7)).store.n == 7  # loaded again, not the check's store


def test_only_the_run_that_starts_a_check_waits_for_it():
    cache = StoreCache(ttl_s=0.0, wait_s=600.0)
    cache.get("db", lambda: FakeStore(1), refreshable=True)
    gate = Gate(lambda store: (store, False))
    starter = threading.Thread(
        target=cache.get,
        args=("db", lambda: FakeStore(9)),
        kwargs={"refreshable": True, "refresh": gate},
        daemon=True,
    )
    starter.start()
    assert gate.started.wait(10)

    served: list = []
    later = threading.Thread(
        target=lambda: served.append(cache.get("db", lambda: FakeStore(9), refreshable=True)), daemon=True
    )
    later.start()
    later.join(10)  # held by the check, it would wait out the 600 s
    assert not later.is_alive() and served[0].store.n == 1 and served[0].checking is not None
    gate.open.set()
    starter.join(10)
    assert not starter.is_alive() and gate.calls == 1


def test_a_reload_asked_during_a_check_waits_for_it_to_end():
    cache = StoreCache(ttl_s=0.0, wait_s=0.0)
    cache.get("db", lambda: FakeStore(1), refreshable=True)
    gate = Gate(lambda store: (FakeStore(2), True))  # a full read, in the background
    cache.get("db", lambda: FakeStore(9), refreshable=True, refresh=gate)
    assert gate.started.wait(10)

    during_the_check: list[bool] = []

    def reload():
        during_the_check.append(not gate.open.is_set())
        return FakeStore(3)

    reloading = threading.Thread(target=cache.get, args=("db", reload), kwargs={"force": True}, daemon=True)
    reloading.start()
    reloading.join(0.5)  # a Reload that did not wait has read the source by now
    gate.open.set()
    reloading.join(10)
    assert not reloading.is_alive() and during_the_check == [False]
    assert cache.get("db", lambda: FakeStore(9)).store.n == 3


def test_a_caller_coming_back_every_period_checks_every_period():
    """The freshness line's run comes back every ttl; checked a moment ago by the last one, the
    store is due only with ``early_s``: without it the check would skip every other period."""
    cache = StoreCache(ttl_s=60.0, wait_s=None)
    entry = cache.get("db", lambda: FakeStore(1), refreshable=True)
    checks = []

    def count(store):
        checks.append(store.n)
        return store, False

    entry.loaded_at = time.monotonic() - 59.9  # the last check ended 59.9 s ago: not quite due
    cache.get("db", lambda: FakeStore(2), refreshable=True, refresh=count)
    assert checks == []
    cache.get("db", lambda: FakeStore(2), refreshable=True, refresh=count, early_s=30.0)
    assert checks == [1]
