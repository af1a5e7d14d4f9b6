"""Multi-agent platform databases (seed 004) load exactly, on PostgreSQL and as a SQLite copy."""

from __future__ import annotations

import uuid

import pandas as pd
import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from data_layer.sources import agent_platform, open_source
from data_layer.sources.database import Database
from data_layer.summary import summarize
from tests.builders.agent_platform_db import SECRETS, TASK_STATUSES, PlatformData
from tests.builders.cylestio_db import CylestioData
from tests.summary_check import assert_same_summary


@pytest.fixture(scope="module")
def data() -> PlatformData:
    return PlatformData.generate(seed=4)


@pytest.fixture(scope="module")
def pg_url(data, make_pg_database) -> str:
    return data.write_postgres(make_pg_database("platform"))


@pytest.fixture(scope="module")
def sqlite_path(data, tmp_path_factory):
    return data.write_sqlite(tmp_path_factory.mktemp("platform") / "platform.db")


@pytest.fixture(scope="module", params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def store(request):
    return open_source(request.getfixturevalue("pg_url" if request.param == "postgres" else "sqlite_path"))


@pytest.fixture(scope="module")
def reader_url(pg_url):
    """A login role that may SELECT every table of the platform except api_keys."""
    role = f"agentwatch_reader_{uuid.uuid4().hex[:8]}"
    ident = sql.Identifier(role)
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(sql.SQL("create role {} login").format(ident))
        con.execute(sql.SQL("grant select on all tables in schema public to {}").format(ident))
        con.execute(sql.SQL("revoke all on api_keys from {}").format(ident))
    yield make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(sql.SQL("drop owned by {}").format(ident))
        con.execute(sql.SQL("drop role {}").format(ident))


def test_summary_matches_the_inserted_rows(store, data):
    assert_same_summary(summarize(store), data.expected_summary())


@pytest.mark.postgres
def test_a_role_that_cannot_read_api_keys_loads_the_same_summary(reader_url, data):
    with psycopg.connect(reader_url) as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
        con.execute("select count(*) from api_keys")
    store = open_source(reader_url)
    assert_same_summary(summarize(store), data.expected_summary())
    assert "api_keys" not in store.info.source_tables


def test_messages_without_llm_metadata_provide_no_llm_calls(tmp_path):
    data = PlatformData.generate(seed=5, with_calls=False)
    store = open_source(data.write_sqlite(tmp_path / "quiet.db"))
    expected = data.expected_summary()
    assert expected["llm"] is None  # the builder's figures, not our output, say so
    assert_same_summary(summarize(store), expected)
    assert store.frame("llm_calls").empty
    assert any("no LLM calls" in note for note in store.info.notes)


@pytest.mark.parametrize("engine", [pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def test_an_empty_platform_database_loads_with_nothing_in_it(engine, request, tmp_path):
    empty = PlatformData()
    if engine == "postgres":
        source = empty.write_postgres(request.getfixturevalue("make_pg_database")("platform_empty"))
    else:
        source = empty.write_sqlite(tmp_path / "empty.db")
    assert_same_summary(
        summarize(open_source(source)),
        {
            "schema": "agent-platform",
            "agents": 0,
            "events": 0,
            "time_range": {"start": None, "end": None},
            "llm": None,
            "tools": None,
            "tasks": {"completed": 0, "failed": 0, "completed_per_day": {}},
            "alerts": None,
            "flagged_events": None,
            "metrics": {},
        },
    )


def test_llm_calls_are_exactly_the_messages_whose_metadata_records_one(store, data):
    calls = store.frame("llm_calls").set_index("call_id")
    expected = {m.id: m.call for m in data.messages if m.call}
    assert set(calls.index) == set(expected)
    for call_id, call in expected.items():
        row = calls.loc[call_id]
        assert _plain(row["model"]) == call.model
        assert _plain(row["tokens_in"]) == call.tokens_in
        assert _plain(row["tokens_out"]) == call.tokens_out
        if call.cost is not None:
            assert row["cost_source"] == "recorded" and row["cost_usd"] == pytest.approx(call.cost)
    assert _values(calls["agent"]) == data.call_agents()


def test_missing_llm_figures_stay_missing(store):
    calls = store.frame("llm_calls")
    unknown = calls[calls["cost_source"] == "unknown"]
    assert len(unknown) > 0 and unknown["cost_usd"].isna().all()
    assert calls["latency_ms"].isna().any() and calls["tokens_in"].isna().any()
    assert calls["model"].isna().any()


def test_tasks_carry_agent_name_payload_title_and_normalised_status(store, data):
    tasks = store.frame("tasks").set_index("task_id")
    names = {a.id: a.name for a in data.agents}
    assert tasks["agent"].to_dict() == {t[0]: names[t[1]] for t in data.tasks}
    assert _values(tasks["title"]) == data.task_titles()
    assert tasks["status"].to_dict() == {t[0]: TASK_STATUSES[t[3]] for t in data.tasks}
    assert any("'archived'" in note for note in store.info.notes)


def test_sessions_belong_to_their_one_agent_participant(store, data):
    sessions = store.frame("sessions").set_index("session")
    assert _values(sessions["agent"]) == data.session_agents()
    assert sessions["ended_at"].isna().sum() == sum(1 for s in data.sessions if s[2] is None)


def test_message_senders_that_name_agents_become_event_agents(store, data):
    events = store.frame("events").set_index("event_id")
    assert _values(events["agent"]) == {m.id: data.agent_name(m.user_id) for m in data.messages}
    assert set(events["channel"]) == {"chat"} and set(events["level"]) == {"info"}


def test_metrics_carry_agent_names_and_units_from_the_tags(store, data):
    metrics = store.frame("metrics")
    got = sorted(zip(metrics["ts"].dt.to_pydatetime(), metrics["agent"], strict=True))
    assert got == sorted((t, data.agent_name(reporter)) for reporter, _n, _v, t, _tags in data.metrics)
    units = {name: set(unit.dropna()) for name, unit in metrics.groupby("name")["unit"]}
    expected: dict[str, set] = {}
    for _a, name, _v, _t, tags in data.metrics:
        expected.setdefault(name, set()).update({tags["unit"]} if tags and "unit" in tags else set())
    assert units == expected


def test_notes_name_configured_models_but_never_secrets(store, data):
    notes = " ".join(store.info.notes)
    assert "agent orchestrator is configured with llm_model=gpt-4o." in store.info.notes
    assert "agent researcher is configured with llm_model=claude-3-5-sonnet-20241022." in store.info.notes
    assert "gpt-4o-mini" not in notes  # writer's model setting is inactive
    assert not any(secret in notes for secret in SECRETS)
    assert "rate_limit" not in notes
    assert store.info.source_tables["agent_configurations"] == len(data.configs)
    assert store.info.source_tables["chat_messages"] == len(data.messages)


def test_recognises_the_platform_but_not_cylestio(sqlite_path, tmp_path):
    cylestio = CylestioData.generate(seed=1, calls=12).write_sqlite(tmp_path / "cylestio.db")
    assert agent_platform.recognises(Database.sqlite_file(sqlite_path))
    assert not agent_platform.recognises(Database.sqlite_file(cylestio))
    assert summarize(open_source(cylestio))["schema"] == "cylestio"


def _values(column: pd.Series) -> dict:
    """A frame column as {index: value}, with NA as None as the builder writes it."""
    return {key: _plain(value) for key, value in column.items()}


def _plain(value):
    """A frame value as the builder writes it: NA becomes None."""
    return None if pd.isna(value) else value
