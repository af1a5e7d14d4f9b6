"""A Sentinel AI database for tests, built with Agentwatch's Sentinel DDL, and the figures it must give.

``SentinelData.generate`` makes rows the way a Sentinel collector writes them: UUID keys, times
with assorted UTC offsets (one on a month boundary: 2025-09-30 23:30:00-05 is October in UTC),
measures that are often NULL, custom_metrics with numbers, nested objects, text, booleans,
lists and nulls, and monitoring configurations global and per agent, enabled and not, with
both threshold shapes. ``expected_summary`` and friends compute every figure from those Python
rows, independently of the data layer: plain Python flattening, numpy percentiles.

Sentinel's writer puts the same rows into PostgreSQL (the shipped DDL, monthly partitions) or into
SQLite tables of the same names and columns (UUIDs, times and JSON as text), as it does the demo's.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from data_layer.writers import Rows, sentinel

DDL = sentinel.POSTGRES_SCHEMA
START = datetime(2025, 9, 18, 6, 0, tzinfo=UTC)
DAYS = 50  # September to November 2025: three monthly partitions hold rows
OFFSETS = [
    UTC,
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=5, minutes=30)),
]
# On a month boundary: September where it was written, October in UTC.
BOUNDARY = datetime(2025, 9, 30, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
BOUNDARY_TEXT = "2025-09-30 23:30:00-05"
MEASURES = {
    "latency_ms": "ms",
    "throughput_req_per_min": "req/min",
    "cost_per_request": "USD",
    "cpu_usage_percent": "%",
    "gpu_usage_percent": "%",
    "memory_usage_mb": "MB",
}


class Agent(NamedTuple):
    agent_id: str
    name: str
    status: str
    created_at: datetime
    last_seen: datetime | None


class Sample(NamedTuple):
    metric_id: str
    agent: int  # index into agents
    ts: datetime  # aware, in the offset the collector wrote it with
    measures: dict[str, float | None]
    custom: dict[str, Any] | None


class Config(NamedTuple):
    config_id: str
    agent: int | None  # None: global
    thresholds: dict[str, Any]
    enabled: bool
    created_at: datetime


class UserSession(NamedTuple):
    session_id: str
    user: str
    created_at: datetime
    last_activity: datetime


@dataclass
class SentinelData:
    agents: list[Agent] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    configs: list[Config] = field(default_factory=list)
    sessions: list[UserSession] = field(default_factory=list)

    @classmethod
    def generate(cls, seed: int = 1, samples: int = 360) -> SentinelData:
        rnd = random.Random(seed)

        def new_id() -> str:
            return str(uuid.UUID(int=rnd.getrandbits(128), version=4))

        def when(minutes: int) -> datetime:
            return (START + timedelta(minutes=minutes)).astimezone(OFFSETS[minutes % len(OFFSETS)])

        d = cls()
        names = [("support-bot", "running"), ("research-agent", "error"), ("code-reviewer", "stopped")]
        names.append(("billing-agent", "unknown"))
        for name, status in names:
            d.agents.append(Agent(new_id(), name, status, START - timedelta(days=rnd.randint(3, 30)), None))
        for i in range(samples):
            measures = _measures(rnd, gpu=i % 4 in (0, 2))
            custom = _custom(rnd, i)
            if all(v is None for v in measures.values()) and custom is None:
                measures["latency_ms"] = 42.0  # the DDL wants one value per row
            d.samples.append(Sample(new_id(), i % 4, when(rnd.randint(0, DAYS * 24 * 60)), measures, custom))
        # A row on the boundary, one with nothing numeric at all, one at midnight UTC of November.
        none = dict.fromkeys(MEASURES)
        d.samples.append(
            Sample(new_id(), 0, BOUNDARY, {**none, "latency_ms": 777.5}, {"queue": {"depth": 7}})
        )
        d.samples.append(Sample(new_id(), 1, when(20 * 24 * 60), none, {"note": "warming up", "ok": False}))
        november = datetime(2025, 10, 31, 20, 0, tzinfo=timezone(timedelta(hours=-4)))
        d.samples.append(Sample(new_id(), 2, november, {**none, "cpu_usage_percent": 12.25}, None))
        last = {}
        for s in d.samples:
            last[s.agent] = max(last.get(s.agent, s.ts), s.ts)
        d.agents = [a._replace(last_seen=last[i] if i != 3 else None) for i, a in enumerate(d.agents)]

        created = START - timedelta(days=2)
        d.configs = [
            Config(
                new_id(),
                None,
                {"latency_ms": {"warning": 500, "critical": 1000}, "cpu_usage_percent": 90},
                True,
                created,
            ),
            Config(
                new_id(),
                0,
                {"latency_ms": 300, "custom.queue.depth": {"warning": 50, "critical": 120.5}},
                True,
                created,
            ),
            Config(new_id(), 1, {"latency_ms": 9999, "memory_usage_mb": 1}, False, created),  # superseded
            Config(
                new_id(),
                1,
                {
                    "memory_usage_mb": {"max": 4096},
                    "gpu_usage_percent": "high",
                    "throughput_req_per_min": None,
                },
                True,
                created,
            ),
        ]
        users = ["ana@example.com", "bo", "anon-7f3a"]
        for i in range(14):
            opened = when(rnd.randint(0, DAYS * 24 * 60))
            d.sessions.append(
                UserSession(new_id(), users[i % 3], opened, opened + timedelta(minutes=rnd.randint(1, 240)))
            )
        return d

    # -- writing ------------------------------------------------------------------------------

    def write_postgres(self, url: str, *, create_schema: bool = True) -> str:
        """The shipped DDL (unless the database has a variant of it already), then the rows.

        Times go in as text with their offsets, and PostgreSQL places them in the partitions.
        """
        return sentinel.WRITER.write_postgres(url, self.tables(), create=create_schema)

    def write_sqlite(self, path: Path) -> Path:
        return sentinel.WRITER.write_sqlite(path, self.tables())

    def tables(self) -> dict[str, Rows]:
        """Each table's rows, the same for both engines: UUIDs, JSON and times as text."""
        return {
            "ai_agents": Rows(
                ("agent_id", "name", "description", "status", "created_at", "last_seen", "metadata"),
                [
                    (
                        a.agent_id,
                        a.name,
                        f"{a.name} agent",
                        a.status,
                        _text(a.created_at),
                        _text(a.last_seen),
                        "{}",
                    )
                    for a in self.agents
                ],
            ),
            "performance_metrics": Rows(
                ("metric_id", "agent_id", "timestamp", *MEASURES, "custom_metrics"),
                [
                    (
                        s.metric_id,
                        self.agents[s.agent].agent_id,
                        BOUNDARY_TEXT if s.ts == BOUNDARY else _text(s.ts),
                        *s.measures.values(),
                        None if s.custom is None else json.dumps(s.custom),
                    )
                    for s in self.samples
                ],
            ),
            "monitoring_configuration": Rows(
                ("config_id", "agent_id", "alert_thresholds", "enabled", "created_at", "updated_at"),
                [
                    (
                        c.config_id,
                        None if c.agent is None else self.agents[c.agent].agent_id,
                        json.dumps(c.thresholds),
                        c.enabled,
                        _text(c.created_at),
                        _text(c.created_at),
                    )
                    for c in self.configs
                ],
            ),
            "user_sessions": Rows(
                (
                    "session_id",
                    "user_identifier",
                    "created_at",
                    "last_activity",
                    "preferences",
                    "active_filters",
                ),
                [
                    (
                        s.session_id,
                        s.user,
                        _text(s.created_at),
                        _text(s.last_activity),
                        json.dumps({"theme": "dark", "refresh_seconds": 30}),
                        json.dumps({"agent_id": self.agents[0].agent_id, "time_range": "24h"}),
                    )
                    for s in self.sessions
                ],
            ),
        }

    # -- what Agentwatch must show ------------------------------------------------------------

    def points(self) -> list[tuple[datetime, str, str, float]]:
        """(UTC time, agent name, series, value) for every sample value that is a number."""
        out = []
        for s in self.samples:
            ts, agent = s.ts.astimezone(UTC), self.agents[s.agent].name
            out += [(ts, agent, name, v) for name, v in s.measures.items() if v is not None]
            out += [(ts, agent, name, v) for name, v in _flatten(s.custom or {}, "custom.") if _is_number(v)]
        return out

    def skipped_custom_values(self) -> int:
        """Custom values that are there but not numbers (text, booleans, lists); nulls are just missing."""
        leaves = [v for s in self.samples for _name, v in _flatten(s.custom or {}, "custom.")]
        return sum(1 for v in leaves if v is not None and not _is_number(v))

    def expected_thresholds(self) -> list[tuple[str | None, str, str, float]]:
        """(agent, metric, level, value) of the enabled configurations' numeric thresholds."""
        rows = []
        for c in self.configs:
            if not c.enabled:
                continue
            agent = None if c.agent is None else self.agents[c.agent].name
            for metric, setting in c.thresholds.items():
                levels = setting if isinstance(setting, dict) else {"threshold": setting}
                rows += [(agent, metric, lvl, float(v)) for lvl, v in levels.items() if _is_number(v)]
        return sorted(rows, key=lambda r: (r[1], r[2], r[0] or ""))

    def skipped_thresholds(self) -> int:
        """Threshold values of enabled configurations that are there but not numbers."""
        values = []
        for c in self.configs:
            for setting in c.thresholds.values() if c.enabled else ():
                values += setting.values() if isinstance(setting, dict) else [setting]
        return sum(1 for v in values if v is not None and not _is_number(v))

    def expected_summary(self) -> dict:
        points = self.points()
        series: dict[str, list[float]] = {}
        for _ts, _agent, name, value in points:
            series.setdefault(name, []).append(float(value))
        times = [p[0] for p in points] + [s.created_at.astimezone(UTC) for s in self.sessions]
        return {
            "schema": "sentinel",
            "agents": len(self.agents),
            "events": None,
            "time_range": {"start": min(times).isoformat(), "end": max(times).isoformat()},
            "llm": None,
            "tools": None,
            "tasks": None,
            "alerts": None,
            "flagged_events": None,
            "metrics": {
                name: {"points": len(v), "mean": float(np.mean(v)), **_percentiles(v)}
                for name, v in series.items()
            },
        }


def _measures(rnd: random.Random, gpu: bool) -> dict[str, float | None]:
    """One collection's measures, each missing now and then; GPU only on the agents that have one."""

    def maybe(p_missing: float, lo: float, hi: float, digits: int = 3) -> float | None:
        return None if rnd.random() < p_missing else round(rnd.uniform(lo, hi), digits)

    return {
        "latency_ms": maybe(0.15, 20, 2500),
        "throughput_req_per_min": maybe(0.3, 1, 600),
        "cost_per_request": maybe(0.4, 0.0001, 0.05, 6),
        "cpu_usage_percent": maybe(0.1, 0, 100),
        "gpu_usage_percent": maybe(0.2, 0, 100) if gpu else None,
        "memory_usage_mb": maybe(0.2, 100, 8000),
    }


def _custom(rnd: random.Random, i: int) -> dict[str, Any] | None:
    """custom_metrics in the shapes collectors send: flat, nested, with text, flags, lists, nulls."""
    shape = i % 5
    if shape == 0:
        return None
    if shape == 1:
        return {"tokens_per_s": rnd.uniform(5, 120), "model": "gpt-4o"}
    if shape == 2:
        return {
            "queue": {"depth": rnd.randint(0, 200), "wait": {"p95_ms": rnd.uniform(1, 900)}},
            "healthy": True,
        }
    if shape == 3:
        return {
            "queue": {"depth": rnd.randint(0, 200)},
            "shards": [1, 2],
            "retries": None,
            "errors": rnd.randint(0, 3),
        }
    return {"tokens_per_s": rnd.uniform(5, 120), "temperature": "0.7"}  # a number written as text


def _flatten(obj: dict[str, Any], prefix: str) -> list[tuple[str, Any]]:
    out = []
    for key, value in obj.items():
        if isinstance(value, dict):
            out += _flatten(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _percentiles(values: list[float]) -> dict:
    return {f"p{q}": float(np.percentile(values, q)) for q in (50, 95, 99)}


def _text(t: datetime | None) -> str | None:
    """A time as Sentinel's clients send it: ISO text with the writer's UTC offset."""
    return None if t is None else t.isoformat(sep=" ")
