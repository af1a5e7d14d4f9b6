"""A multi-agent platform database for tests, written by the platform's writer, and the figures it must give.

``PlatformData.generate`` makes rows the way the platform writes them: agents whose ids differ
from their names (and one whose id is its name), tasks in every status spelling, chat sessions
whose participants mix users and agents, messages of which only some assistant ones carry LLM
metadata (in four key layouts, with missing costs, tokens, latencies and an unknown model),
metrics with units in their tags, configurations with secrets, and api_keys rows.

Each LLM call is generated as a ``Call`` first and only then rendered into message metadata, so
``expected_summary`` computes its figures from the calls themselves, never from parsing the
metadata again: sums in Python, percentiles with numpy, estimates with genai-prices' own
``calc_price`` call by call.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from genai_prices import Usage, calc_price

from data_layer.writers import Rows, platform

KNOWN_MODELS = ["gpt-4o", "claude-3-5-sonnet-20241022", "gpt-4o-mini"]
UNKNOWN_MODEL = "acme-internal-llm"
START = datetime(2025, 4, 7, 9, 0, 0, tzinfo=UTC)
SECRETS = ("sk-live-4f9a1c0d", "tok-7d21aa93", "sk-reviewer-0c11", "sk-gateway-e5e5")

# Task statuses as the platform writes them, and the model status each must become.
TASK_STATUSES = {
    "pending": "pending",
    "queued": "pending",
    "assigned": "pending",
    "running": "running",
    "in_progress": "running",
    "started": "running",
    "blocked": "blocked",
    "completed": "completed",
    "done": "completed",
    "success": "completed",
    "Completed": "completed",
    "failed": "failed",
    "error": "failed",
    "cancelled": "cancelled",
    "In-Progress": "running",
    "Archived": "archived",  # no status the model knows: kept as recorded, lower-cased
}


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    agent_type: str
    status: str
    heartbeat: datetime


@dataclass(frozen=True)
class Call:
    """What one assistant message's metadata records about its LLM call (None: not recorded)."""

    model: str | None
    tokens_in: int | None
    tokens_out: int | None
    cost: float | None
    latency_ms: int | None


@dataclass
class Message:
    id: str
    session: str
    user_id: str
    type: str
    ts: datetime
    metadata: dict | None
    call: Call | None = None


@dataclass
class PlatformData:
    agents: list[Agent] = field(default_factory=list)
    # (id, agent_id, task_type, status, payload, created_at, started_at, completed_at)
    tasks: list[tuple] = field(default_factory=list)
    # (id, created_at, ended_at, participants)
    sessions: list[tuple] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    metrics: list[tuple] = field(default_factory=list)  # (agent_name, metric_name, Decimal, ts, tags)
    configs: list[tuple] = field(default_factory=list)  # (agent_name, key, value, is_active)
    api_keys: list[tuple] = field(default_factory=list)  # (api_key, owner_id, permissions, is_active)

    @classmethod
    def generate(cls, seed: int = 4, *, with_calls: bool = True) -> PlatformData:
        rnd = random.Random(seed)
        d = cls()
        d.agents = [
            Agent("agt-orch", "orchestrator", "orchestrator", "active", START + timedelta(days=3)),
            Agent("agt-res", "researcher", "llm", "active", START + timedelta(days=3, hours=2)),
            Agent("agt-wri", "writer", "llm", "idle", START + timedelta(days=2)),
            Agent("coder", "coder", "llm", "error", START + timedelta(days=1)),  # id is the name
        ]
        d._tasks(rnd)
        d._sessions(rnd)
        d._messages(rnd, with_calls)
        d._metrics(rnd)
        d.configs = [
            ("orchestrator", "llm_model", "gpt-4o", True),
            ("orchestrator", "rate_limit", "10", True),
            ("researcher", "llm_model", "claude-3-5-sonnet-20241022", True),
            ("researcher", "openai_api_key", SECRETS[0], True),
            ("writer", "model", "gpt-4o-mini", False),  # inactive: not what the agent uses
            ("writer", "auth_token", SECRETS[1], True),
            ("coder", "secret_model", SECRETS[2], True),  # names a model, but looks like a secret
            ("coder", "embedding_model", "text-embedding-3-small", True),
        ]
        d.api_keys = [
            (SECRETS[3], "gateway", ["read", "write"], True),
            ("sk-old-0001", "ops", ["read"], False),
        ]
        return d

    def _tasks(self, rnd: random.Random) -> None:
        statuses = list(TASK_STATUSES)
        payloads = [
            lambda i: {"title": f"Summarise report {i}", "priority_hint": 2},
            lambda i: {"name": f"crawl-{i}", "urls": ["https://example.com"]},
            lambda i: {"description": f"Review pull request {i}"},
            lambda i: {"query": f"question {i}"},  # no title at all
            lambda i: {"title": "", "name": f"fallback-{i}"},  # an empty title is no title
        ]
        for i in range(70):
            raw = statuses[i % len(statuses)]
            status = TASK_STATUSES[raw]
            created = START + timedelta(hours=5 * i, minutes=rnd.randint(0, 59))
            started = None
            if status in ("running", "completed", "failed") or (status == "cancelled" and i % 2):
                started = created + timedelta(minutes=rnd.randint(1, 30))
            finished = None
            if status in ("completed", "failed"):  # the seed: set when a task completed or failed
                finished = started + timedelta(minutes=rnd.randint(1, 600))
            agent = self.agents[i % len(self.agents)]
            task_type = ["research", "write", "code", "route"][i % 4]
            self.tasks.append(
                (f"task-{i:03d}", agent.id, task_type, raw, payloads[i % 5](i), created, started, finished)
            )

    def _sessions(self, rnd: random.Random) -> None:
        participants = [
            ["user-1", "agt-orch"],  # one agent, by id
            ["user-2", "researcher"],  # one agent, by name
            ["user-3", "agt-wri", "writer"],  # one agent, named twice
            ["user-4", "agt-orch", "agt-res"],  # two agents: no single owner
            ["user-5"],  # no agent
            ["coder", "user-1"],
        ]
        for i in range(12):
            created = START + timedelta(hours=9 * i, minutes=rnd.randint(0, 59))
            ended = None if i % 4 == 3 else created + timedelta(minutes=rnd.randint(40, 200))
            self.sessions.append((f"chat-{i:02d}", created, ended, participants[i % len(participants)]))

    def _messages(self, rnd: random.Random, with_calls: bool) -> None:
        plain = [{}, None, {"client": "web"}, {"model_feedback": "thumbs_up"}, {"max_tokens_hint": 512}]
        ids = {a.id for a in self.agents} | {a.name for a in self.agents}
        calls = 0
        for i, (session, created, _ended, participants) in enumerate(self.sessions):
            user = participants[0] if participants[0].startswith("user") else participants[1]
            agents = [p for p in participants if p in ids] or ["assistant"]
            if i % 5 == 2:  # the agent answers as "assistant": its calls go to the session's agent
                agents = ["assistant"]
            ts = created
            for j in range(13):
                ts += timedelta(minutes=rnd.randint(1, 4), seconds=rnd.randint(0, 59))
                mid = f"{session}-m{j:02d}"
                if j == 0:
                    self.messages.append(Message(mid, session, "system", "system", ts, {}))
                elif j % 2:
                    self.messages.append(Message(mid, session, user, "user", ts, {"client": "mobile"}))
                elif with_calls and j % 4 == 0:
                    call = _call(calls, rnd)
                    metadata = _render(call, calls)
                    sender = agents[j // 4 % len(agents)]
                    self.messages.append(Message(mid, session, sender, "assistant", ts, metadata, call))
                    calls += 1
                else:
                    sender = agents[j // 4 % len(agents)]
                    self.messages.append(Message(mid, session, sender, "assistant", ts, plain[j % 5]))

    def _metrics(self, rnd: random.Random) -> None:
        series = [
            ("cpu_usage", {"unit": "%"}),
            ("tasks_processed", {}),
            ("memory_usage", {"unit": "MB", "host": "node-1"}),
            ("response_time", None),
        ]
        for i in range(48):
            name, tags = series[i % 4]
            value = Decimal(str(round(rnd.uniform(0, 500), 3)))
            agent = self.agents[i % 3]
            reporter = agent.id if i % 12 == 11 else agent.name  # a few report under the agent's id
            self.metrics.append((reporter, name, value, START + timedelta(minutes=37 * i), tags))

    # -- writing ------------------------------------------------------------------------------

    def write_postgres(self, url: str) -> str:
        """Seed 004's SQL as written, then the rows: jsonb from dicts, TEXT[] from lists."""
        return platform.WRITER.write_postgres(url, self.tables(time=_same))

    def write_sqlite(self, path: Path) -> Path:
        """The same rows in the platform's SQLite schema, as the demo's are written: JSON text for
        jsonb and arrays, times as ISO text (naive UTC, +00:00 or another offset, all the same instants)."""
        return platform.WRITER.write_sqlite(path, self.tables(time=_sqlite_time))

    def tables(self, *, time: Callable[[datetime], Any]) -> dict[str, Rows]:
        """Each table's rows, times written by ``time``; the writer renders JSON, arrays and NUMERIC."""

        def maybe_time(t: datetime | None) -> Any:
            return None if t is None else time(t)

        return {
            "agents": Rows(
                (
                    "id",
                    "name",
                    "agent_type",
                    "status",
                    "capabilities",
                    "last_heartbeat",
                    "created_at",
                    "metadata",
                ),
                [
                    (
                        a.id,
                        a.name,
                        a.agent_type,
                        a.status,
                        ["chat"],
                        time(a.heartbeat),
                        time(START - timedelta(days=30)),
                        {},
                    )
                    for a in self.agents
                ],
            ),
            "tasks": Rows(
                (
                    "id",
                    "agent_id",
                    "task_type",
                    "status",
                    "priority",
                    "payload",
                    "created_at",
                    "started_at",
                    "completed_at",
                ),
                [
                    (tid, agent, ttype, status, "normal", payload, time(c), maybe_time(s), maybe_time(f))
                    for tid, agent, ttype, status, payload, c, s, f in self.tasks
                ],
            ),
            "chat_sessions": Rows(
                (
                    "id",
                    "session_type",
                    "status",
                    "title",
                    "created_at",
                    "last_activity",
                    "ended_at",
                    "participants",
                ),
                [
                    (
                        sid,
                        "group",
                        "ended" if e else "active",
                        f"Chat {sid}",
                        time(c),
                        time(e or c),
                        maybe_time(e),
                        p,
                    )
                    for sid, c, e, p in self.sessions
                ],
            ),
            "chat_messages": Rows(
                ("id", "session_id", "user_id", "message_type", "content", "timestamp", "metadata"),
                [
                    (m.id, m.session, m.user_id, m.type, f"text of {m.id}", time(m.ts), m.metadata)
                    for m in self.messages
                ],
            ),
            "metrics": Rows(
                ("agent_name", "metric_name", "metric_value", "timestamp", "tags"),
                [(a, n, v, time(t), g) for a, n, v, t, g in self.metrics],
            ),
            "agent_configurations": Rows(
                ("agent_name", "config_key", "config_value", "is_active"), self.configs
            ),
            "api_keys": Rows(("api_key", "owner_id", "permissions", "is_active"), self.api_keys),
        }

    # -- what the loaded source must say ------------------------------------------------------

    def agent_name(self, key: str) -> str | None:
        """The agent a participant or sender names, by id or by name."""
        by_id = {a.id: a.name for a in self.agents}
        by_name = {a.name: a.name for a in self.agents}
        return by_id.get(key, by_name.get(key))

    def session_agents(self) -> dict[str, str | None]:
        out = {}
        for sid, _c, _e, participants in self.sessions:
            named = {self.agent_name(p) for p in participants} - {None}
            out[sid] = named.pop() if len(named) == 1 else None
        return out

    def call_agents(self) -> dict[str, str | None]:
        """Each call's agent: its sender if that is an agent, else the session's agent."""
        sessions = self.session_agents()
        return {m.id: self.agent_name(m.user_id) or sessions[m.session] for m in self.messages if m.call}

    def task_titles(self) -> dict[str, str | None]:
        def title(payload: dict) -> str | None:
            return next((payload[k] for k in ("title", "name", "description") if payload.get(k)), None)

        return {t[0]: title(t[4]) for t in self.tasks}

    def expected_summary(self) -> dict:
        calls = [(m, m.call) for m in self.messages if m.call]
        times = [m.ts for m in self.messages] + [m[3] for m in self.metrics]
        times += [s[1] for s in self.sessions] + [s[2] for s in self.sessions if s[2]]
        times += [t for task in self.tasks for t in task[5:8] if t]
        statuses = [TASK_STATUSES[t[3]] for t in self.tasks]
        per_day: dict[str, int] = {}
        for task in self.tasks:
            if TASK_STATUSES[task[3]] == "completed":
                day = task[7].astimezone(UTC).strftime("%Y-%m-%d")
                per_day[day] = per_day.get(day, 0) + 1
        metrics: dict[str, list[float]] = {}
        for _a, name, value, _t, _tags in self.metrics:
            metrics.setdefault(name, []).append(float(value))
        return {
            "schema": "agent-platform",
            "agents": len(self.agents),
            "events": len(self.messages),
            "time_range": {"start": _iso(min(times)), "end": _iso(max(times))},
            "llm": _llm_summary(calls) if calls else None,
            "tools": None,
            "tasks": {
                "completed": statuses.count("completed"),
                "failed": statuses.count("failed"),
                "completed_per_day": per_day,
            },
            "alerts": None,
            "flagged_events": None,
            "metrics": {
                name: {"points": len(v), "mean": float(np.mean(v)), **_percentiles(v)}
                for name, v in metrics.items()
            },
        }


def _call(k: int, rnd: random.Random) -> Call:
    """The k-th call: known models mostly, an unknown one, a few without model, tokens or cost."""
    model: str | None = KNOWN_MODELS[k % 3]
    if k % 9 == 4:
        model = UNKNOWN_MODEL
    elif k % 13 == 7:
        model = None  # tokens only: still a call, its cost unknown
    no_tokens = k % 11 == 5 and model is not None  # a model alone is still a call
    cost = None if k % 3 == 0 or k == 4 else round(rnd.uniform(0.0001, 0.2), 6)
    return Call(
        model=model,
        tokens_in=None if no_tokens else rnd.randint(10, 6000),
        tokens_out=None if no_tokens else rnd.randint(1, 1500),
        cost=cost,
        latency_ms=None if k % 7 == 3 else rnd.randint(150, 9000),
    )


def _render(call: Call, k: int) -> dict:
    """The call as message metadata, in one of the layouts agents write (OpenAI, Anthropic...)."""
    if k % 4 == 0:  # OpenAI-style usage block; missing values written as JSON null
        return {
            "model": call.model,
            "usage": {"prompt_tokens": call.tokens_in, "completion_tokens": call.tokens_out},
            "cost_usd": call.cost,
            "latency_ms": call.latency_ms,
            "finish_reason": "stop",
        }
    layouts = [
        None,
        {
            "llm_model": "model",
            "input_tokens": "tokens_in",
            "output_tokens": "tokens_out",
            "cost": "cost",
            "duration_ms": "latency_ms",
        },
        {
            "model_name": "model",
            "tokens_in": "tokens_in",
            "tokens_out": "tokens_out",
            "cost_usd": "cost",
            "latency_ms": "latency_ms",
        },
        {
            "model": "model",
            "input_tokens": "tokens_in",
            "output_tokens": "tokens_out",
            "cost": "cost",
            "latency_ms": "latency_ms",
        },
    ]
    rendered = {key: getattr(call, attr) for key, attr in layouts[k % 4].items()}
    present = {key: value for key, value in rendered.items() if value is not None}  # missing: left out
    if k % 4 == 3:  # Anthropic-style: tokens nested under usage
        usage = {key: present.pop(key) for key in ("input_tokens", "output_tokens") if key in present}
        present["usage"] = usage
    return present


def _llm_summary(calls: list[tuple[Message, Call]]) -> dict:
    recorded = [c.cost for _m, c in calls if c.cost is not None]
    estimated = 0.0
    for message, c in calls:
        if (
            c.cost is None
            and c.model in KNOWN_MODELS
            and c.tokens_in is not None
            and c.tokens_out is not None
        ):
            when = message.ts.astimezone(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
            price = calc_price(
                Usage(input_tokens=c.tokens_in, output_tokens=c.tokens_out),
                c.model,
                genai_request_timestamp=when,
            )
            estimated += float(price.total_price)
    latencies = [c.latency_ms for _m, c in calls if c.latency_ms is not None]
    return {
        "calls": len(calls),
        "failures": 0,  # no message's metadata records an error
        "tokens_in": sum(c.tokens_in for _m, c in calls if c.tokens_in is not None),
        "tokens_out": sum(c.tokens_out for _m, c in calls if c.tokens_out is not None),
        "cost_usd": sum(recorded),
        "calls_without_cost": len(calls) - len(recorded),
        "cost_usd_estimated": estimated,
        "latency_ms": _percentiles(latencies),
    }


def _percentiles(values: list[float]) -> dict:
    return {f"p{q}": float(np.percentile(values, q)) for q in (50, 95, 99)}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


def _same(t: datetime) -> datetime:
    return t


_OFFSETS = [None, UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))]


def _sqlite_time(t: datetime) -> str:
    """The same instant as ISO text, in a format that varies with it: naive UTC or an offset."""
    zone = _OFFSETS[t.minute % len(_OFFSETS)]
    if zone is None:
        return t.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return t.astimezone(zone).isoformat()
