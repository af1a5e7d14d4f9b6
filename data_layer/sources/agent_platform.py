"""The multi-agent platform's database (seed 004), on PostgreSQL or as a SQLite file.

The platform keeps agents, their tasks, chat sessions and messages, operational metrics and
per-agent configuration. It has no table of LLM calls: where an assistant message's ``metadata``
records a model or token usage, that message *is* the call. Messages without such metadata are
chat events only; no call is ever inferred from a message count.

``api_keys`` holds gateway secrets. This adapter never reads it, not even to count its rows, so a
read-only role without SELECT on it loads the source just as well.

The SELECTs stay dialect-neutral (PostgreSQL's jsonb and TEXT[] arrive as JSON text and lists,
a SQLite copy of the schema holds both as JSON text); JSON and arrays are taken apart in DuckDB
on the fetched frames, so both engines share one path. Pushdown maps the same tables in
PostgreSQL's own SQL (``agent_platform_sql``, which also holds the task statuses and metadata keys
both read), held to the same frames by tests.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import sqlalchemy as sa

from data_layer.model import TASK_STATUSES, Telemetry
from data_layer.report import ReadingReport
from data_layer.sources.adapter import Adapter, optional_column, select_fields
from data_layer.sources.agent_platform_sql import (
    CALL_FIELDS,
    CALL_HINTS,
    METADATA_NOT_AN_OBJECT,
    TASK_TITLE,
    model_selects,
    reading_report,
    task_status_case,
)
from data_layer.sources.database import Database, Progress

SYSTEM = "agent-platform"
_NEEDS = (
    "tables agents (agent_type, last_heartbeat), tasks (task_type, payload), chat_sessions,"
    " chat_messages and metrics"
)

# The platform's tables this adapter reads. api_keys is deliberately absent.
_READ = ("agents", "tasks", "chat_sessions", "chat_messages", "agent_configurations", "metrics")
# Only messages whose metadata mentions one of CALL_HINTS can record an LLM call: filtering in
# the source keeps a large chat history from crossing the wire just to be discarded.
# Configuration keys worth a note (the model an agent is set to use), and keys never shown.
_MODEL_KEYS = ("%model", "%model\\_name")
_SECRET_KEYS = ("%key%", "%secret%", "%token%", "%password%", "%passwd%", "%credential%")
_MAX_CONFIG_NOTES = 20
# What each fetched frame is, for progress messages.
_WHAT = {
    "agents": "agents",
    "tasks": "tasks",
    "chat_sessions": "chat sessions",
    "events": "chat messages",
    "call_candidates": "chat messages with LLM metadata",
    "metrics": "metrics",
    "model_settings": "agent configurations",
}


def recognises(db: Database) -> bool:
    """The agents and tasks columns are the platform's own; Cylestio's agents table has neither."""
    return (
        db.has("agents", "id", "name", "agent_type", "last_heartbeat")
        and db.has("tasks", "id", "agent_id", "task_type", "status", "payload")
        and db.has("chat_sessions", "id", "created_at")
        and db.has("chat_messages", "id", "session_id", "user_id", "message_type", "timestamp")
        and db.has("metrics", "agent_name", "metric_name", "metric_value", "timestamp")
    )


def load(db: Database, progress: Progress) -> Telemetry:
    raw = {}
    for name, stmt in source_selects(db).items():
        progress(f"Reading {_WHAT[name]}", None)
        raw[name] = db.read(stmt, progress, _WHAT[name])
    progress("Reading payloads, participants and message metadata", None)
    tables = _translate(raw)
    if tables["llm_calls"].empty:
        del tables["llm_calls"]  # not provided, so the summary shows llm as null rather than zeros
    counts = _source_counts(db, raw)
    report = ReadingReport(read=dict(counts)).map(select_fields(source_selects(db)))
    report.skip(
        METADATA_NOT_AN_OBJECT,
        _not_json_objects(raw["call_candidates"]["metadata"]),
    )
    report.assume(*READ_ASSUMPTIONS)
    return Telemetry(
        system=SYSTEM,
        tables=tables,
        source_tables=counts,
        source_events=counts["chat_messages"],
        notes=_notes(tables, raw.get("model_settings"), counts["chat_messages"]),
        report=report,
    )


def _not_json_objects(values: pd.Series) -> int:
    """How many values are not a JSON object (a message's metadata cut short, or not JSON)."""
    with duckdb.connect() as con:
        con.register("v", pd.DataFrame({"v": values.astype("string")}))
        return int(
            con.execute(
                "select count(*) from v where v is not null"
                " and not case when json_valid(v) then json_type(v) = 'OBJECT' else false end"
            ).fetchone()[0]
        )


def _source_counts(db: Database, raw: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Rows of the platform's tables. Those read whole are counted as read; api_keys never is."""
    counts = {
        "agents": len(raw["agents"]),
        "tasks": len(raw["tasks"]),
        "chat_sessions": len(raw["chat_sessions"]),
        "chat_messages": len(raw["events"]),
        "metrics": len(raw["metrics"]),
    }
    if "agent_configurations" in db.catalog():
        counts["agent_configurations"] = db.count("agent_configurations")
    return counts


def source_selects(db: Database) -> dict[str, sa.Select]:
    """One SELECT per frame to fetch, in the source's terms and labelled with model names."""
    t = {name: db.table(name) for name in _READ if name in db.catalog()}
    agents, tasks, sessions, messages, metrics = (
        t["agents"],
        t["tasks"],
        t["chat_sessions"],
        t["chat_messages"],
        t["metrics"],
    )
    assignee = agents.alias("assignee")
    by_id, by_name = agents.alias("agent_by_id"), agents.alias("agent_by_name")
    # A message's sender is an agent when user_id is an agent's id or its name.
    sent = messages.outerjoin(by_id, by_id.c.id == messages.c.user_id).outerjoin(
        by_name, by_name.c.name == messages.c.user_id
    )
    sender = sa.func.coalesce(by_id.c.name, by_name.c.name)
    message_context = [
        sa.cast(messages.c.id, sa.String).label("event_id"),
        messages.c.timestamp.label("ts"),
        sender.label("agent"),
        sa.cast(messages.c.session_id, sa.String).label("session"),
    ]
    metadata_text = sa.cast(optional_column(messages, "metadata"), sa.Text)

    selects: dict[str, sa.Select] = {
        "agents": sa.select(
            sa.cast(agents.c.id, sa.String).label("source_id"),
            agents.c.name.label("agent"),
            agents.c.name.label("display_name"),
            agents.c.agent_type.label("kind"),
            optional_column(agents, "status").label("status"),
            optional_column(agents, "created_at").label("created_at"),
            agents.c.last_heartbeat.label("last_seen_at"),
        ),
        # A task whose agent_id matches no agent keeps the id: it still says who had the task.
        "tasks": sa.select(
            sa.cast(tasks.c.id, sa.String).label("task_id"),
            sa.func.coalesce(assignee.c.name, sa.cast(tasks.c.agent_id, sa.String)).label("agent"),
            tasks.c.task_type.label("type"),
            tasks.c.payload.label("payload"),
            tasks.c.status.label("status"),
            optional_column(tasks, "created_at").label("created_at"),
            optional_column(tasks, "started_at").label("started_at"),
            optional_column(tasks, "completed_at").label("completed_at"),
        ).select_from(tasks.outerjoin(assignee, assignee.c.id == tasks.c.agent_id)),
        "chat_sessions": sa.select(
            sa.cast(sessions.c.id, sa.String).label("session"),
            sessions.c.created_at.label("started_at"),
            optional_column(sessions, "ended_at").label("ended_at"),
            optional_column(sessions, "participants").label("participants"),
        ),
        "events": sa.select(
            *message_context,
            messages.c.message_type.label("type"),
            sa.literal("chat", sa.String).label("channel"),
            sa.literal("info", sa.String).label("level"),
        ).select_from(sent),
        "call_candidates": sa.select(
            message_context[0].label("call_id"),
            *message_context[1:],
            metadata_text.label("metadata"),
        )
        .select_from(sent)
        .where(sa.or_(*(metadata_text.like(hint) for hint in CALL_HINTS))),
        "metrics": sa.select(
            metrics.c.timestamp.label("ts"),
            metrics.c.agent_name.label("agent"),
            metrics.c.metric_name.label("name"),
            sa.cast(metrics.c.metric_value, sa.Double).label("value"),
            optional_column(metrics, "tags").label("tags"),
        ),
    }
    if "agent_configurations" in t:
        selects["model_settings"] = _model_settings_select(t["agent_configurations"])
    return selects


def _model_settings_select(configs: sa.TableClause) -> sa.Select:
    """Active settings naming a model. Secret-looking keys are excluded here, in the source, so
    their values never reach Agentwatch's memory at all."""
    key = sa.func.lower(configs.c.config_key)
    stmt = (
        sa.select(configs.c.agent_name.label("agent"), configs.c.config_key.label("key"))
        .add_columns(configs.c.config_value.label("value"))
        .where(
            sa.or_(*(key.like(p, escape="\\") for p in _MODEL_KEYS)),
            *(key.not_like(p) for p in _SECRET_KEYS),
        )
        .order_by(configs.c.agent_name, configs.c.config_key)
    )
    if "is_active" in configs.c:
        stmt = stmt.where(configs.c.is_active == sa.true())
    return stmt


# -- translation, in DuckDB over the fetched frames --------------------------------------------

# JSON helpers: a value counts only when it has the expected JSON type, so {"model": {...}} is
# no model name and {"tokens_in": "n/a"} no token count.
READ_ASSUMPTIONS = (
    "Times without a time zone are UTC.",
    "A call's agent is its sender when that is an agent, else its session's only agent participant.",
)

_MACROS = f"""
create temp macro as_json(v) as
    case when json_valid(v::varchar) and json_type(v::varchar) = 'OBJECT' then v::varchar::json end;
create temp macro json_text(j, p) as
    case when json_type(j, p) = 'VARCHAR' then nullif(trim(json_extract_string(j, p)), '') end;
create temp macro json_number(j, p) as
    case
        when json_type(j, p) in ('BIGINT', 'UBIGINT', 'DOUBLE') then json_extract_string(j, p)::double
        when json_type(j, p) = 'VARCHAR' and isfinite(try_cast(json_extract_string(j, p) as double))
            then try_cast(json_extract_string(j, p) as double)
    end;
create temp macro text_list(v) as
    case
        when v is null then null
        when json_type(to_json(v)) = 'ARRAY' then from_json(to_json(v), '["VARCHAR"]')
        when json_valid(v::varchar) and json_type(v::varchar) = 'ARRAY'
            then from_json(v::varchar, '["VARCHAR"]')
        when trim(v::varchar) like '{{%}}'  -- PostgreSQL's array literal, if a copy kept it as text
            then list_transform(string_split(nullif(trim(trim(v::varchar), '{{}}'), ''), ','),
                                lambda x: trim(x, ' "'))
    end;
create temp macro task_status(s) as {task_status_case("s")};
"""


def _first(read: str, paths: tuple[str, ...]) -> str:
    """coalesce(read(j, '$.a'), read(j, '$.b.c')...): the first path that holds a value."""
    return "coalesce(" + ", ".join(f"{read}(j, '$.{p}')" for p in paths) + ")"


_TASKS = f"""
select task_id, agent, type,
       {_first("json_text", TASK_TITLE)} as title,
       task_status(replace(replace(lower(trim(status)), '-', '_'), ' ', '_')) as status,
       created_at, started_at, completed_at
from (select *, as_json(payload) as j from tasks)
"""

# A session belongs to an agent when exactly one of its participants is a known agent.
_SESSIONS = """
create temp table sessions as
with participant as (
    select session, unnest(text_list(participants)) as key from chat_sessions
),
agent_of as (
    select p.session, min(coalesce(by_id.agent, by_name.agent)) as agent
    from participant p
    left join agents by_id on by_id.source_id = p.key
    left join agents by_name on by_name.agent = p.key
    where coalesce(by_id.agent, by_name.agent) is not null
    group by p.session
    having count(distinct coalesce(by_id.agent, by_name.agent)) = 1
)
select s.session, a.agent, s.started_at, s.ended_at
from chat_sessions s left join agent_of a using (session)
"""

# An LLM call is a message whose metadata names a model or counts tokens. Its agent is the
# sender when that is an agent, else the session's agent (assistant messages are often sent as
# "assistant" rather than by the agent's id).
_LLM_CALLS = f"""
with m as (select *, as_json(metadata) as j from call_candidates),
call as (
    select call_id, ts, agent, session,
        {
    ", ".join(
        f"{_first('json_text' if kind == 'model' else 'json_number', paths)} as {kind}"
        for kind, paths in CALL_FIELDS.items()
    )
},
        json_text(j, '$.error') as error
    from m where j is not null
)
select c.call_id, c.ts, coalesce(c.agent, s.agent) as agent, c.session, c.model,
       c.tokens_in, c.tokens_out, c.cost_usd, c.latency_ms,
       case when c.error is null then 'ok' else 'error' end as status, c.error
from call c left join sessions s using (session)
where c.model is not null or c.tokens_in is not null or c.tokens_out is not null
"""

# metrics.agent_name is the agent's name; one reported under the agent's id is mapped to the name.
_METRICS = """
select m.ts, coalesce(by_name.agent, by_id.agent, m.agent) as agent, m.name, m.value,
       json_text(as_json(m.tags), '$.unit') as unit
from metrics m
left join agents by_name on by_name.agent = m.agent
left join agents by_id on by_id.source_id = m.agent
"""


def _translate(raw: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Model frames from the fetched ones: JSON fields and arrays taken apart, statuses mapped."""
    with duckdb.connect(":memory:", config={"threads": 2}) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(_MACROS)
        for name, frame in raw.items():
            con.register(name, frame)
        con.execute(_SESSIONS)
        return {
            "agents": raw["agents"],
            "tasks": con.sql(_TASKS).df(),
            "sessions": con.sql("select * from sessions").df(),
            "events": raw["events"],
            "llm_calls": con.sql(_LLM_CALLS).df(),
            "metrics": con.sql(_METRICS).df(),
        }


# -- notes --------------------------------------------------------------------------------------


def _notes(tables: dict[str, pd.DataFrame], model_settings: pd.DataFrame | None, messages: int) -> list[str]:
    notes = ["api_keys holds gateway secrets and is never read."]
    calls = len(tables.get("llm_calls", ()))
    if calls:
        notes.append(
            f"LLM calls are the {calls:,} of {messages:,} chat messages whose metadata records a model"
            " or token usage; other messages are chat events only."
        )
    else:
        notes.append(
            "No chat message's metadata records a model or token usage, so this source has no LLM calls."
        )
    notes += _unknown_status_notes(tables["tasks"])
    if model_settings is not None:
        notes += _model_setting_notes(model_settings)
    return notes


def _unknown_status_notes(tasks: pd.DataFrame) -> list[str]:
    unknown = sorted(set(tasks["status"].dropna().unique()) - set(TASK_STATUSES))
    if not unknown:
        return []
    shown = ", ".join(repr(s) for s in unknown[:10])
    return [f"Task statuses {shown} match none of Agentwatch's; they are shown as recorded."]


def _model_setting_notes(settings: pd.DataFrame) -> list[str]:
    """One sentence per agent with model settings: the model table has no configuration table."""
    if settings.empty:
        return []
    pairs = settings["key"].astype("string") + "=" + settings["value"].astype("string").str.strip().str[:80]
    per_agent = pairs.groupby(settings["agent"].astype("string"), sort=True).agg(", ".join)
    notes = [
        f"agent {agent} is configured with {setting}."
        for agent, setting in per_agent.head(_MAX_CONFIG_NOTES).items()
    ]
    if len(per_agent) > _MAX_CONFIG_NOTES:
        notes.append(
            f"{len(per_agent) - _MAX_CONFIG_NOTES} more agents have model settings in agent_configurations."
        )
    return notes


ADAPTER = Adapter(
    system=SYSTEM,
    title="Multi-agent platform",
    needs=_NEEDS,
    provides=frozenset({"agents", "tasks", "sessions", "events", "llm_calls", "metrics"}),
    recognises=recognises,
    load=load,
    model_selects=model_selects,
    reading=reading_report,
    tables=_READ,
    events_table="chat_messages",
)
