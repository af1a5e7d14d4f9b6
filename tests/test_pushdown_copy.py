"""Pushdown with a local copy: the telemetry without prompts and responses, read from PostgreSQL
into a store of its own. Every query gives the loaded store's frame; a statement that reads only
copied columns sends nothing to PostgreSQL, one that reads the text is answered there."""

from __future__ import annotations

import functools
import threading

import pytest

from bench import generate
from bench.refresh import append_calls
from data_layer import queries
from data_layer.filters import Filters
from data_layer.pushdown import COPIED, PushdownBackend
from data_layer.refresh import open_watched_pushdown, refresh
from data_layer.sources import cylestio, open_pushdown, open_source
from data_layer.sources.database import Database
from data_layer.store import Store
from tests.test_pushdown import QUERIES, SYSTEMS, _same, _statements_sent
from tests.test_refresh import FLEET

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", params=sorted(SYSTEMS))
def copied(request, make_pg_database):
    system = SYSTEMS[request.param]
    url = system.write(make_pg_database("pushcopy"))
    store = open_source(url)
    backend = PushdownBackend(Database(url), system.adapter, store.info, rollups=False, copy=True)
    return system, store, backend


@pytest.mark.parametrize("name", sorted(QUERIES))
@pytest.mark.parametrize("which", range(4), ids=["all", "window", "agents_models", "sessions_severities"])
def test_every_query_on_the_copy_gives_the_loaded_frame(copied, name, which):
    system, store, backend = copied
    f = system.filters()[which]
    query = QUERIES[name]
    if name in ("kpis", "what_changed", "timeline"):
        query = functools.partial(query, system=system)
    _same(query(store, f), query(backend, f))


RAW_ROW_QUERIES = {  # what made pushed-down pages slow: statements over every raw row
    "percentiles": lambda b: queries.latency_sets(b, Filters(), [(), ("bucket",), ("model",)]),
    "histogram": lambda b: queries.llm_histogram(b, Filters(), measure="latency_ms"),
    "sessions": lambda b: queries.session_summaries(b, Filters(), order_by="tokens"),
    "usage": lambda b: queries.llm_usage(b, Filters(), bucket="hour", by="model"),
}


@pytest.mark.parametrize("name", sorted(RAW_ROW_QUERIES))
def test_statements_over_copied_columns_send_nothing_to_postgres(copied, name):
    _, _, backend = copied
    assert backend.copied and backend.has_rollups
    assert _statements_sent(backend, lambda: RAW_ROW_QUERIES[name](backend)) == []


def test_prompts_and_responses_are_read_from_postgres_not_copied(copied):
    """The copy leaves the bulky text out; a call's detail still shows it, read where it is."""
    system, store, backend = copied
    assert "prompt" not in COPIED["llm_calls"] and "response" not in COPIED["llm_calls"]
    calls = store.execute("select call_id, prompt from llm_calls order by prompt is null, call_id limit 1")
    if calls.empty:
        pytest.skip("this system records no LLM calls")
    call_id = calls["call_id"].iloc[0]
    if system.adapter is cylestio:  # the system whose calls record their prompts
        assert calls["prompt"].notna().all()
    sent = _statements_sent(backend, lambda: queries.event_detail(backend, call_id))
    assert len(sent) == 1
    _same(queries.event_detail(store, call_id), queries.event_detail(backend, call_id))


def test_an_opened_source_is_copied_in_the_background_up_to_copy_rows(copied, monkeypatch):
    """``open_pushdown`` copies a source of up to ``copy_rows()`` rows and says so; a larger one
    keeps its rollups from PostgreSQL, with nothing copied."""
    _, store, backend = copied
    url = backend.db.url.render_as_string(hide_password=False)
    opened = open_pushdown(url)
    assert opened.rollups_ready.wait(timeout=120)
    assert opened.copied and "copy without prompts" in opened.info.notes[0]
    by_model = functools.partial(queries.llm_latency, filters=Filters(), by="model")
    _same(by_model(opened), by_model(store))
    monkeypatch.setenv("AGENTWATCH_PUSHDOWN_COPY_ROWS", "0")
    larger = open_pushdown(url)
    assert larger.rollups_ready.wait(timeout=120)
    assert larger.has_rollups and not larger.copied
    assert "nothing was loaded" in larger.info.notes[0]


def test_a_refresh_adds_the_new_rows_to_the_copy_and_equals_a_full_load(make_pg_database):
    """A refresh of a pushed-down source appends the new rows to its copy (nothing is opened
    again); every figure then equals a loaded store's of the grown source."""
    url = generate.write_postgres(generate.fleet(2000, seed=8), make_pg_database("copyrefresh"))
    backend = open_watched_pushdown(url)
    assert backend.rollups_ready.wait(timeout=120) and backend.copied
    append_calls(url, 300, seed=71)
    reopened = []
    assert refresh(backend, lambda: reopened.append(1), lambda _m, _f: None) == (backend, True)
    assert not reopened and backend.copied
    full = open_source(url)
    assert backend.row_counts() == full.row_counts()
    for name, query in QUERIES.items():
        for f in FLEET.filters():
            args = (f, FLEET) if name in ("kpis", "what_changed", "timeline") else (f,)
            _same(query(backend, *args), query(full, *args))
    assert _statements_sent(backend, lambda: queries.llm_latency(backend, Filters(), by="model")) == []


def test_rows_arriving_while_the_copy_is_read_are_not_appended_twice(make_pg_database, monkeypatch):
    """While the copy is read, a refresh leaves the backend alone (PostgreSQL answers, and it is
    live); rows that arrived meanwhile may be in the copy, so the next change reads in full."""
    url = generate.write_postgres(generate.fleet(500, seed=3), make_pg_database("copying"))
    release, build = threading.Event(), Store.build
    monkeypatch.setattr(Store, "build", classmethod(lambda _cls, *args: release.wait(60) and build(*args)))
    backend = open_watched_pushdown(url)
    assert backend.copying and not backend.copied
    append_calls(url, 50, seed=4)
    reopened = []
    assert refresh(backend, lambda: reopened.append(1), lambda _m, _f: None) == (backend, False)
    release.set()
    assert backend.rollups_ready.wait(timeout=120) and backend.copied and not reopened
    assert backend.origin.marks is None  # the copy may hold the new rows: a full read next time
    assert backend.row_counts() == open_source(url).row_counts()
