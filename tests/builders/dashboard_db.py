"""An Agent Monitoring Dashboard database for tests, seed 002's own SQL written by the dashboard's
writer, and its figures.

``DashboardData.generate`` scripts what the dashboard would record over three weeks: agents'
samples (some measures NULL), tasks that are created, assigned, started, blocked, completed,
reopened, failed or cancelled (one ``task_events`` row per change, inserted out of time order),
commits, system health, RAG metrics, alerts of every severity and state, and daily aggregates.

While scripting, it keeps the truth about each task (its final status, when it started and
finished) and each alert, so ``expected_summary`` is computed from that bookkeeping with plain
Python and numpy, never from the adapter's folding.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from data_layer.writers import Rows, dashboard
from tests.seed_sql import seed_sql

START = datetime(2025, 6, 2, 8, 0, 0)  # naive, as SQLite's CURRENT_TIMESTAMP writes: UTC
SAMPLED = ["builder", "reviewer", "planner"]  # agents with agent_metrics samples
TASK_ONLY = "tester"  # named only as a task assignee
COMMIT_ONLY = "release-bot"  # named only as a commit author
ALERT_ONLY = "deployer"  # named only in an alert's metadata
SEVERITY_SCALE = {"info": "low", "warning": "medium", "error": "high", "critical": "critical"}
STATUS_OF_SAMPLE = ["active", "idle", "blocked", "active", "error", "offline"]


@dataclass
class TaskTruth:
    """What a task is, as the script made it: the figures the model's tasks row must hold."""

    task_id: str
    agent: str | None = None
    type: str | None = None
    status: str = "pending"
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass
class AlertTruth:
    alert_id: str
    severity: str  # as written
    status: str  # open | acknowledged | resolved
    agent: str | None


@dataclass
class DashboardData:
    samples: list[tuple] = field(default_factory=list)  # agent, ts, status, cpu, mem, mem%, changes, uptime
    task_events: list[tuple] = field(default_factory=list)  # task, type, prev, new, to, by, details, ts
    commits: list[tuple] = field(default_factory=list)  # hash, agent, files, added, deleted, ts
    health: list[tuple] = field(
        default_factory=list
    )  # ts, status, latency, ws, watch, errors, cpu, mem, disk
    rag: list[tuple] = field(default_factory=list)  # ts, patterns, queries, response, hit, mem, volume
    alerts: list[tuple] = field(default_factory=list)  # id, type, severity, title, msg, source, meta, ack...
    daily: list[tuple] = field(default_factory=list)  # agent, date, avg_cpu, avg_memory, samples
    tasks: list[TaskTruth] = field(default_factory=list)
    alert_truth: list[AlertTruth] = field(default_factory=list)
    iso_times: set[int] = field(default_factory=set)  # task_events rows written as ISO 8601 with Z

    @classmethod
    def generate(cls, seed: int = 1, tasks: int = 60, reopen: bool = True) -> DashboardData:
        """``reopen=False`` makes every task complete at most once, and never reopen after it."""
        rnd = random.Random(seed)
        d = cls()
        d._samples(rnd)
        for i in range(tasks):
            d._task(rnd, i, reopen)
        d._commits(rnd)
        d._health_and_rag(rnd)
        d._alerts(rnd)
        d.daily = [
            (agent, (START - timedelta(days=40 - k)).strftime("%Y-%m-%d"), rnd.uniform(5, 90), memory, 12)
            for agent in SAMPLED
            for k in range(4)
            for memory in [None if k == 2 else rnd.uniform(10, 80)]
        ]
        return d

    # -- scripting ------------------------------------------------------------------------------

    def _samples(self, rnd: random.Random) -> None:
        for agent_no, agent in enumerate(SAMPLED):
            for k in range(21 * 6):  # every 4 hours for three weeks
                ts = START + timedelta(hours=4 * k, minutes=7 * agent_no + rnd.randint(0, 3))
                self.samples.append(
                    (
                        agent,
                        ts,
                        rnd.choice(STATUS_OF_SAMPLE),
                        None if k % 9 == 0 else round(rnd.uniform(1, 99), 2),
                        None if k % 7 == 0 else rnd.randint(100_000, 900_000),
                        None if k % 11 == 0 else round(rnd.uniform(5, 95), 2),
                        rnd.randint(0, 40),
                        3600 * k + rnd.randint(0, 3599),
                    )
                )

    def _task(self, rnd: random.Random, i: int, reopen: bool) -> None:
        task = TaskTruth(task_id=f"TASK-{i:03d}")
        self.tasks.append(task)
        t = START + timedelta(hours=8 * i + rnd.randint(0, 5), minutes=rnd.randint(0, 59))
        held: str | None = None

        def event(kind: str, new: str | None, to: str | None = None, details: dict | None = None) -> None:
            nonlocal t, held
            t += timedelta(hours=rnd.randint(1, 30), minutes=rnd.randint(1, 59))
            self.task_events.append((task.task_id, kind, held, new, to, "coordinator", details, t))
            if to is not None:
                task.agent = to
            held = new or held

        task_type = ["feature", "bugfix", None, "docs"][i % 4]
        details = {"title": f"Task {i}", **({"type": task_type} if task_type else {})}
        event("created", ["pending", "todo", "Pending"][i % 3], None, details if i % 5 else None)
        task.created_at = t
        task.type = task_type
        first = [*SAMPLED, TASK_ONLY][i % 4]
        late_type = {"type": task_type} if i % 5 == 0 and task_type else None  # type set on assignment
        event("assigned", None, first, late_type)
        outcome = i % 10
        if outcome == 9:  # cancelled before anyone started
            event("updated", "cancelled")
            task.status, task.completed_at = "cancelled", t
            return
        if outcome == 8:  # still waiting
            return
        event("updated", ["in_progress", "In Progress", "in-progress"][i % 3])
        task.started_at = t
        task.status = "running"
        if outcome in (1, 4, 7):
            event("blocked", "blocked")
            task.status = "blocked"
            if outcome == 4:  # stays blocked
                return
            event("updated", "in_progress", SAMPLED[(i + 1) % 3])  # unblocked and handed over
            task.status = "running"
        if outcome == 6:  # still being worked on
            return
        if outcome == 5:
            event("updated", "failed")
            task.status, task.completed_at = "failed", t
            return
        event("completed", ["completed", "done", None][i % 3])
        task.status, task.completed_at = "completed", t
        if reopen and outcome == 3:  # reopened, then completed again: counts once, on the last day
            event("updated", "in_progress")
            event("completed", "completed")
            task.completed_at = t
        if reopen and outcome == 2 and i % 20 == 2:  # reopened and left open
            event("updated", "in_progress")
            task.status, task.completed_at = "running", None
        if outcome == 0:
            event("updated", None, None, {"note": "release notes written"})  # changes no status

    def _commits(self, rnd: random.Random) -> None:
        for k in range(70):
            agent = [*SAMPLED, COMMIT_ONLY][k % 4]
            ts = START + timedelta(hours=7 * k, minutes=rnd.randint(0, 59))
            added = None if k % 13 == 0 else rnd.randint(0, 400)
            self.commits.append((f"{k:040x}", agent, rnd.randint(1, 12), added, rnd.randint(0, 200), ts))

    def _health_and_rag(self, rnd: random.Random) -> None:
        for k in range(21 * 24 // 3):  # every 3 hours
            ts = START + timedelta(hours=3 * k, minutes=30)
            self.health.append(
                (
                    ts,
                    rnd.choice(["healthy", "degraded", "unhealthy"]),
                    None if k % 8 == 0 else round(rnd.uniform(5, 900), 1),
                    rnd.randint(0, 20),
                    rnd.randint(0, 500),
                    rnd.randint(0, 5),
                    round(rnd.uniform(1, 99), 2),
                    None if k % 5 == 0 else rnd.randint(1000, 9000),
                    rnd.randint(10, 90),
                )
            )
            if k % 2 == 0:
                self.rag.append(
                    (
                        ts + timedelta(minutes=5),
                        100 + k,
                        1000 + 17 * k,
                        None if k % 6 == 0 else round(rnd.uniform(10, 300), 2),
                        round(rnd.uniform(0, 1), 3),
                        rnd.randint(1000, 5000),
                        rnd.randint(0, 90),
                    )
                )

    def _alerts(self, rnd: random.Random) -> None:
        severities = [
            "info",
            "WARNING",
            "Error",
            "critical",
            "Info",
            "warning",
            "ERROR",
            "Critical",
            "notice",
        ]
        sources = ["builder", "system-monitor", "reviewer", "git-watcher"]
        known = {*SAMPLED, TASK_ONLY, COMMIT_ONLY}
        for k in range(27):
            ts = START + timedelta(hours=18 * k + 3, minutes=rnd.randint(0, 59))
            meta_agent = [None, "planner", None, ALERT_ONLY, None, None][k % 6]
            meta: str | None
            if meta_agent is None:
                meta = [None, "not json", json.dumps({"threshold": 90})][k % 3]
            else:
                meta = json.dumps({"agent_id" if k % 12 == 1 else "agent": meta_agent, "value": k})
            source = sources[k % 4]
            state = ["open", "acknowledged", "resolved", "resolved_unacknowledged"][k % 4]
            acknowledged = state in ("acknowledged", "resolved")
            resolved = state.startswith("resolved")
            ack_value: object = "true" if (acknowledged and k % 8 == 1) else acknowledged
            self.alerts.append(
                (
                    f"alert-{k:03d}",
                    ["agent", "task", "system", "performance"][k % 4],
                    severities[k % len(severities)],
                    f"Alert {k}",
                    None if k % 3 == 0 else f"details of alert {k}",
                    source,
                    meta,
                    ack_value,
                    ts + timedelta(minutes=10) if acknowledged else None,
                    resolved,
                    ts + timedelta(hours=1) if resolved else None,
                    ts,
                )
            )
            agent = meta_agent or (source if source in known else None)
            self.alert_truth.append(
                AlertTruth(f"alert-{k:03d}", severities[k % len(severities)], state.split("_")[0], agent)
            )

    # -- writing --------------------------------------------------------------------------------

    def write_sqlite(self, path: Path) -> Path:
        """Seed 002's SQL as written (with its agent_metrics_daily table), then the rows."""
        return dashboard.WRITER.write_sqlite(path, self.tables(), ddl=seed_sql("002"))

    def tables(self) -> dict[str, Rows]:
        """Every table's rows, task events shuffled so row ids do not follow time."""
        order = list(range(len(self.task_events)))
        random.Random(7).shuffle(order)
        self.iso_times = set(order[::5])
        events = []
        for k in order:
            task, kind, prev, new, to, by, details, ts = self.task_events[k]
            when = ts.strftime("%Y-%m-%dT%H:%M:%S.000Z") if k in self.iso_times else _text(ts)
            events.append((task, kind, prev, new, to, by, json.dumps(details) if details else None, when))
        return {
            "agent_metrics": Rows(
                (
                    "agent_id",
                    "timestamp",
                    "status",
                    "cpu_usage",
                    "memory_usage",
                    "memory_percent",
                    "uncommitted_changes",
                    "uptime_seconds",
                ),
                [(a, _text(ts), *rest) for a, ts, *rest in self.samples],
            ),
            "task_events": Rows(
                (
                    "task_id",
                    "event_type",
                    "previous_status",
                    "new_status",
                    "assigned_to",
                    "changed_by",
                    "details",
                    "timestamp",
                ),
                events,
            ),
            "git_commits": Rows(
                (
                    "commit_hash",
                    "short_hash",
                    "agent_id",
                    "files_changed",
                    "lines_added",
                    "lines_deleted",
                    "commit_timestamp",
                ),
                [(h, h[:7], a, f, ad, de, _text(ts)) for h, a, f, ad, de, ts in self.commits],
            ),
            "system_health": Rows(
                (
                    "timestamp",
                    "overall_status",
                    "api_latency",
                    "websocket_connections",
                    "file_watch_events",
                    "error_count",
                    "cpu_usage",
                    "memory_usage",
                    "disk_usage",
                ),
                [(_text(ts), *rest) for ts, *rest in self.health],
            ),
            "rag_metrics": Rows(
                (
                    "timestamp",
                    "total_patterns",
                    "total_queries",
                    "average_response_time",
                    "hit_rate",
                    "memory_usage",
                    "query_volume_last_hour",
                ),
                [(_text(ts), *rest) for ts, *rest in self.rag],
            ),
            "alerts": Rows(
                (
                    "alert_id",
                    "type",
                    "severity",
                    "title",
                    "message",
                    "source",
                    "metadata",
                    "acknowledged",
                    "acknowledged_at",
                    "resolved",
                    "resolved_at",
                    "created_at",
                ),
                [(*a[:8], _text(a[8]), a[9], _text(a[10]), _text(a[11])) for a in self.alerts],
            ),
            "agent_metrics_daily": Rows(
                ("agent_id", "date", "avg_cpu", "avg_memory", "sample_count"), self.daily
            ),
            "schema_version": Rows(("version", "description"), [(1, "Initial dashboard schema")]),
        }

    # -- what the summary must say --------------------------------------------------------------

    def metric_points(self) -> dict[str, list[tuple[datetime, str | None, float]]]:
        """Every non-NULL measure as (time, agent, value), by the series name the adapter gives it."""
        points: dict[str, list[tuple[datetime, str | None, float]]] = {}

        def add(name: str, ts: datetime, agent: str | None, value: float | None) -> None:
            if value is not None:
                points.setdefault(name, []).append((ts, agent, float(value)))

        for agent, ts, _status, cpu, mem, pct, changes, uptime in self.samples:
            for name, value in zip(
                ("cpu_usage", "memory_usage", "memory_percent", "uncommitted_changes", "uptime_seconds"),
                (cpu, mem, pct, changes, uptime),
                strict=True,
            ):
                add(name, ts, agent, value)
        for _hash, agent, files, added, deleted, ts in self.commits:
            add("commits", ts, agent, 1)
            add("files_changed", ts, agent, files)
            add("lines_added", ts, agent, added)
            add("lines_deleted", ts, agent, deleted)
        health = ("api_latency", "websocket_connections", "file_watch_events", "error_count", "cpu_usage")
        for ts, _status, *values in self.health:
            for name, value in zip((*health, "memory_usage", "disk_usage"), values, strict=True):
                add(f"system.{name}", ts, None, value)
        rag = ("total_patterns", "total_queries", "average_response_time", "hit_rate", "memory_usage")
        for ts, *values in self.rag:
            for name, value in zip((*rag, "query_volume_last_hour"), values, strict=True):
                add(f"rag.{name}", ts, None, value)
        for agent, day, cpu, memory, _n in self.daily:
            midnight = datetime.strptime(day, "%Y-%m-%d")
            add("daily.cpu_usage", midnight, agent, cpu)
            add("daily.memory_percent", midnight, agent, memory)
        return points

    def agents(self) -> dict[str, dict]:
        """Every agent named anywhere, with its last sample status and when it was last heard of."""
        found: dict[str, dict] = {}
        for agent, ts, status, *_ in sorted(self.samples, key=lambda s: s[1]):
            found.setdefault(agent, {"status": None, "last_seen_at": ts})
            found[agent]["status"] = status
        named = [(e[4], e[7]) for e in self.task_events if e[4]] + [(c[1], c[5]) for c in self.commits]
        named += [(s[0], s[1]) for s in self.samples]
        for agent, ts in named:
            entry = found.setdefault(agent, {"status": None, "last_seen_at": ts})
            entry["last_seen_at"] = max(entry["last_seen_at"], ts)
        for alert in self.alert_truth:
            if alert.agent:
                found.setdefault(alert.agent, {"status": None, "last_seen_at": None})
        return found

    def expected_summary(self) -> dict:
        points = self.metric_points()
        times = [e[7] for e in self.task_events] + [a[11] for a in self.alerts]
        times += [ts for series in points.values() for ts, _agent, _value in series]
        per_day: dict[str, int] = {}
        for task in self.tasks:
            if task.status == "completed":
                day = task.completed_at.strftime("%Y-%m-%d")
                per_day[day] = per_day.get(day, 0) + 1
        by_severity = {s: 0 for s in ("low", "medium", "high", "critical")}
        for alert in self.alert_truth:
            scale = SEVERITY_SCALE.get(alert.severity.lower())
            if scale:
                by_severity[scale] += 1
        return {
            "schema": "monitoring-dashboard",
            "agents": len(self.agents()),
            "events": len(self.task_events),
            "time_range": {"start": _iso(min(times)), "end": _iso(max(times))},
            "llm": None,
            "tools": None,
            "tasks": {
                "completed": sum(1 for t in self.tasks if t.status == "completed"),
                "failed": sum(1 for t in self.tasks if t.status == "failed"),
                "completed_per_day": dict(sorted(per_day.items())),
            },
            "alerts": {"total": len(self.alerts), "by_severity": by_severity},
            "flagged_events": None,
            "metrics": {name: _stats([v for _ts, _a, v in series]) for name, series in points.items()},
        }


def _stats(values: list[float]) -> dict:
    return {
        "points": len(values),
        "mean": float(np.mean(values)),
        **{f"p{q}": float(np.percentile(values, q)) for q in (50, 95, 99)},
    }


def _text(ts: datetime | None) -> str | None:
    """A time as SQLite's CURRENT_TIMESTAMP writes it."""
    return None if ts is None else ts.strftime("%Y-%m-%d %H:%M:%S")


def _iso(t: datetime) -> str:
    return t.replace(tzinfo=UTC).isoformat()
