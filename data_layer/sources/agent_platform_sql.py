"""The multi-agent platform's tables as model tables in PostgreSQL's SQL, for pushdown.

The loader (``agent_platform.load``) fetches the tables with dialect-neutral SELECTs and takes
JSON and arrays apart in DuckDB, because a SQLite copy of the schema holds jsonb and TEXT[] as
JSON text, and DuckDB's JSON functions are not PostgreSQL's. Here the same rules are written
with jsonb functions and ``unnest``; the task statuses and the metadata keys a call is read
from are defined once (below) for both. ``tests/test_pushdown.py`` holds the two to the same
frames and the same summary, reading report included. ``api_keys`` is never named.
"""

from __future__ import annotations

import sqlalchemy as sa

from data_layer.report import ReadingReport
from data_layer.sources import in_postgres as pg
from data_layer.sources.adapter import ModelSelect, select_fields
from data_layer.sources.database import Database

# Source task statuses -> the model's; any other is kept as recorded.
TASK_STATUSES = {
    "pending": ("pending", "queued", "assigned", "created", "new", "scheduled"),
    "running": ("running", "in_progress", "started", "processing"),
    "blocked": ("blocked", "paused", "on_hold"),
    "completed": ("completed", "complete", "done", "success", "succeeded", "finished"),
    "failed": ("failed", "failure", "error", "errored", "timeout", "timed_out"),
    "cancelled": ("cancelled", "canceled", "aborted"),
}
# Where an LLM call's figures sit in a message's metadata, first found wins.
CALL_FIELDS = {
    "model": ("model", "llm_model", "model_name"),
    "tokens_in": (
        "tokens_in", "input_tokens", "prompt_tokens",
        "usage.tokens_in", "usage.input_tokens", "usage.prompt_tokens",
    ),
    "tokens_out": (
        "tokens_out", "output_tokens", "completion_tokens",
        "usage.tokens_out", "usage.output_tokens", "usage.completion_tokens",
    ),
    "cost_usd": ("cost_usd", "cost"),
    "latency_ms": ("latency_ms", "duration_ms"),
}  # fmt: skip
TASK_TITLE = ("title", "name", "description")  # payload keys, first found wins
CALL_HINTS = ("%model%", "%token%")  # metadata without either records no call
# Why a message is no call, in the loader's reading report and this one.
METADATA_NOT_AN_OBJECT = (
    "chat message metadata naming a model that is not a JSON object (read as a chat event only)"
)


def task_status_case(value: str) -> str:
    """SQL mapping a normalised status to the model's (DuckDB and PostgreSQL both read it)."""
    whens = " ".join(
        f"when {value} in ({', '.join(repr(s) for s in sources)}) then '{status}'"
        for status, sources in TASK_STATUSES.items()
    )
    return f"case {whens} else {value} end"


def model_selects(db: Database) -> dict[str, ModelSelect]:
    """One SELECT per model table the platform fills; llm_calls only where a message is a call."""
    from data_layer.sources.agent_platform import source_selects  # it imports this module

    source = source_selects(db)
    selects: dict[str, ModelSelect] = {
        "agents": source["agents"],
        "tasks": _tasks(db),
        "sessions": pg.select(
            _session_agents(db) + f"\nselect s.id::varchar as session, a.agent, s.created_at as started_at,"
            f" {pg.column(db, 'chat_sessions', 's', 'ended_at')} as ended_at"
            f" from {pg.table(db, 'chat_sessions')} s left join agent_of a on a.session = s.id::varchar",
            session=sa.String(),
            agent=sa.String(),
            started_at=sa.DateTime(),
            ended_at=sa.DateTime(),
        ),
        "events": source["events"],
        "llm_calls": _calls(db),
        "metrics": _metrics(db),
    }
    with db.engine.connect() as con:
        if not con.execute(sa.select(sa.exists(selects["llm_calls"].subquery().select()))).scalar():
            del selects["llm_calls"]  # not provided, as the loader leaves it: llm shows null, not zeros
    return selects


def _tasks(db: Database) -> sa.TextualSelect:
    opt = {c: pg.column(db, "tasks", "t", c) for c in ("created_at", "started_at", "completed_at")}
    title = ", ".join(pg.json_text("t.p", key) for key in TASK_TITLE)
    sql = f"""
select t.id::varchar as task_id, coalesce(a.name, t.agent_id::varchar) as agent, t.task_type as type,
       coalesce({title}) as title, {task_status_case("t.s")} as status,
       {opt["created_at"]} as created_at, {opt["started_at"]} as started_at,
       {opt["completed_at"]} as completed_at
from (select t.*, {pg.as_object("t.payload")} as p,
             replace(replace(lower(trim(t.status)), '-', '_'), ' ', '_') as s
      from {pg.table(db, "tasks")} t) t
left join {pg.table(db, "agents")} a on a.id = t.agent_id"""
    return pg.select(
        sql, task_id=sa.String(), agent=sa.String(), type=sa.String(), title=sa.String(), status=sa.String(),
        created_at=sa.DateTime(), started_at=sa.DateTime(), completed_at=sa.DateTime(),
    )  # fmt: skip


def _session_agents(db: Database) -> str:
    """``agent_of``: a session's agent, when exactly one of its participants is a known agent."""
    agents = pg.table(db, "agents")
    participants = pg.column(db, "chat_sessions", "s", "participants")
    return f"""
with participant as (
    select s.id::varchar as session, unnest(({participants})::text[]) as key
    from {pg.table(db, "chat_sessions")} s
),
agent_of as (
    select p.session, min(coalesce(by_id.name, by_name.name)) as agent
    from participant p
    left join {agents} by_id on by_id.id::varchar = p.key
    left join {agents} by_name on by_name.name = p.key
    where coalesce(by_id.name, by_name.name) is not null
    group by p.session
    having count(distinct coalesce(by_id.name, by_name.name)) = 1
)"""


def _candidates(db: Database) -> str:
    """Messages whose metadata mentions a model or tokens, with their sender when it is an agent."""
    agents = pg.table(db, "agents")
    metadata = pg.column(db, "chat_messages", "msg", "metadata")
    hints = " or ".join(f"({metadata})::text like '{hint}'" for hint in CALL_HINTS)
    return f"""
candidate as (
    select msg.id::varchar as call_id, msg.timestamp as ts, coalesce(by_id.name, by_name.name) as agent,
           msg.session_id::varchar as session, ({metadata})::jsonb as metadata
    from {pg.table(db, "chat_messages")} msg
    left join {agents} by_id on by_id.id = msg.user_id
    left join {agents} by_name on by_name.name = msg.user_id
    where {hints}
)"""


def _calls(db: Database) -> sa.TextualSelect:
    """A call is a message whose metadata (a JSON object) names a model or counts tokens; its
    agent is the sender when that is an agent, else the session's one agent participant."""

    def first(kind: str, read) -> str:
        return "coalesce(" + ", ".join(read("j", *path.split(".")) for path in CALL_FIELDS[kind]) + ")"

    figures = ", ".join(
        f"{first(kind, pg.json_text if kind == 'model' else pg.json_number)} as {kind}"
        for kind in CALL_FIELDS
    )
    sql = f"""{_session_agents(db)},{_candidates(db)},
call as (
    select call_id, ts, agent, session, {figures}, {pg.json_text("j", "error")} as error
    from (select *, {pg.as_object("metadata")} as j from candidate) m
    where j is not null
)
select c.call_id, c.ts, coalesce(c.agent, s.agent) as agent, c.session, c.model,
       c.tokens_in, c.tokens_out, c.cost_usd, c.latency_ms,
       case when c.error is null then 'ok' else 'error' end as status, c.error
from call c left join agent_of s on s.session = c.session
where c.model is not null or c.tokens_in is not null or c.tokens_out is not null"""
    return pg.select(
        sql, call_id=sa.String(), ts=sa.DateTime(), agent=sa.String(), session=sa.String(), model=sa.String(),
        tokens_in=sa.Double(), tokens_out=sa.Double(), cost_usd=sa.Double(), latency_ms=sa.Double(),
        status=sa.String(), error=sa.String(),
    )  # fmt: skip


def _metrics(db: Database) -> sa.TextualSelect:
    """metrics.agent_name is the agent's name; one reported under the agent's id gets the name."""
    agents = pg.table(db, "agents")
    tags = pg.column(db, "metrics", "m", "tags")
    sql = f"""
select m.timestamp as ts, coalesce(by_name.name, by_id.name, m.agent_name) as agent, m.metric_name as name,
       m.metric_value::float8 as value, {pg.json_text(pg.as_object(tags), "unit")} as unit
from {pg.table(db, "metrics")} m
left join {agents} by_name on by_name.name = m.agent_name
left join {agents} by_id on by_id.id::varchar = m.agent_name"""
    return pg.select(
        sql, ts=sa.DateTime(), agent=sa.String(), name=sa.String(), value=sa.Double(), unit=sa.String()
    )


def reading_report(db: Database, counts: dict[str, int]) -> ReadingReport:
    """The loader's reading report, counted in PostgreSQL (api_keys is neither read nor counted)."""
    from data_layer.sources.agent_platform import READ_ASSUMPTIONS, source_selects

    with db.engine.connect() as con:
        not_objects = con.execute(
            sa.text(
                f"with {_candidates(db)} select count(*) from candidate"
                " where metadata is not null and jsonb_typeof(metadata) <> 'object'"
            )
        ).scalar()
    report = ReadingReport(read=dict(counts)).map(select_fields(source_selects(db)))
    report.skip(
        METADATA_NOT_AN_OBJECT,
        int(not_objects or 0),
    )
    return report.assume(*READ_ASSUMPTIONS)
