"""The fleet as the Agent Monitoring Dashboard records it: a task board, commits, per-agent samples,
its own health, RAG metrics and alerts, with the dashboard's retention applied."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from data_layer.demo.draw import (
    DAY_MS,
    HOUR_MS,
    MIN_MS,
    activity,
    arrivals,
    grid,
    hexes,
    lognormal,
    pick,
    text_times,
)
from data_layer.demo.fleet import (
    AGENT_NAMES,
    FLEET,
    SLOW_A,
    SLOW_AGENT,
    SWITCH_A,
    SWITCH_AGENT,
    Story,
    agent_index,
)
from data_layer.demo.traffic import Tables, Traffic

_BOARD_SHARE = (0.1, 0.2, 0.35, 0.2, 0.15)  # which agents the board's tasks go to
_BOARD_TYPES = ("support", "research", "review", "etl", "triage")  # task type by agent
_BOARD_TITLES = np.array(  # three titles per agent, in FLEET order
    [
        ("Update refund macro for annual plans", "Add FAQ answers for the new plan", "Close stale tickets"),
        ("Summarise competitor pricing changes", "Weekly research digest", "Survey agent benchmarks"),
        ("Review PR: currency refactor", "Review PR: HTTP client retries", "Fix flaky test_checkout_total"),
        ("Nightly invoice extraction job", "Migrate orders to bigint ids", "Backfill review sentiment"),
        ("Route billing tickets to new queue", "Tune prompts for bug reports", "Relabel misrouted tickets"),
    ],
    dtype=object,
)


def dashboard_tables(story: Story, rng: np.random.Generator, traffic: Traffic) -> Tables:
    """Rows of the Dashboard's tables: the board's tasks, commits, per-agent samples, health."""
    tasks = _board_tasks(story, rng)
    return {
        "agent_metrics": _agent_metrics(story, rng, tasks),
        "task_events": _task_events(story, tasks),
        "git_commits": _git_commits(story, rng, tasks),
        "system_health": _system_health(story, rng),
        "rag_metrics": _rag_metrics(story, rng),
        "alerts": _board_alerts(story, rng),
        "schema_version": pd.DataFrame(
            {
                "version": [1],
                "applied_at": text_times(np.array([story.start_ms - 60 * DAY_MS]), "seconds"),
                "description": ["Initial dashboard schema"],
            }
        ),
    }


def _board_tasks(story: Story, rng: np.random.Generator) -> pd.DataFrame:
    """One row per task with its lifecycle moments (ms); the outcome decides which are used.

    Cycle times: an hour or two to be picked up, then log-normal work of about six hours; one
    task in eight is blocked for most of a day. code-reviewer's reviews get quicker after its
    model switch (the pricier model needs fewer rounds).
    """
    created = arrivals(rng, story, 9, "office")
    n = len(created)
    agent = rng.choice(len(FLEET), size=n, p=_BOARD_SHARE)
    assigned = created + rng.exponential(1.5 * HOUR_MS, n)
    started = assigned + rng.exponential(1.0 * HOUR_MS, n)
    work = lognormal(rng, 6 * HOUR_MS, 0.9, n)
    work[(agent == SWITCH_A) & (started >= story.switch_ms)] *= 0.7
    outcome = rng.choice(["completed", "failed", "unblocked", "blocked"], size=n, p=[0.8, 0.07, 0.09, 0.04])
    blocked_at = started + work * rng.uniform(0.2, 0.6, n)
    unblocked_at = blocked_at + lognormal(rng, 18 * HOUR_MS, 0.7, n)
    finished = started + work + np.where(outcome == "unblocked", unblocked_at - blocked_at, 0)
    return pd.DataFrame(
        {
            "task_id": [f"TASK-{1001 + i}" for i in range(n)],
            "agent": agent,
            "title": _BOARD_TITLES[agent, rng.integers(0, _BOARD_TITLES.shape[1], n)],
            "priority": rng.choice(["low", "medium", "high"], size=n, p=[0.3, 0.5, 0.2]),
            "outcome": outcome,
            "created": created,
            "assigned": assigned.round(),
            "started": started.round(),
            "blocked_at": blocked_at.round(),
            "unblocked_at": unblocked_at.round(),
            "finished": finished.round(),
        }
    )


def _task_events(story: Story, tasks: pd.DataFrame) -> pd.DataFrame:
    """created -> assigned -> in_progress -> completed / failed / blocked, up to now."""
    agent = np.array(AGENT_NAMES, dtype=object)[tasks["agent"]]
    outcome = tasks["outcome"].to_numpy()
    everyone = np.ones(len(tasks), dtype=bool)
    blocked = np.isin(outcome, ["blocked", "unblocked"])
    stages = [  # (when, event_type, previous, new, changed_by, which tasks)
        ("created", "created", None, "todo", "orchestrator", everyone),
        ("assigned", "assigned", "todo", "assigned", "orchestrator", everyone),
        ("started", "updated", "assigned", "in_progress", agent, everyone),
        ("blocked_at", "blocked", "in_progress", "blocked", agent, blocked),
        ("unblocked_at", "updated", "blocked", "in_progress", "human:maria", outcome == "unblocked"),
        (
            "finished",
            "completed",
            "in_progress",
            "completed",
            agent,
            np.isin(outcome, ["completed", "unblocked"]),
        ),
        ("finished", "updated", "in_progress", "failed", agent, outcome == "failed"),
    ]
    parts = []
    for order, (when, event_type, previous, new, changed_by, which) in enumerate(stages):
        frame = pd.DataFrame(
            {
                "task_id": tasks["task_id"],
                "event_type": event_type,
                "previous_status": previous,
                "new_status": new,
                "assigned_to": np.where(order == 0, None, agent),
                "changed_by": changed_by,
                "details": [
                    json.dumps({"title": t, "type": _BOARD_TYPES[a], "priority": p}) if order == 0 else None
                    for t, a, p in zip(tasks["title"], tasks["agent"], tasks["priority"], strict=True)
                ],
                "ms": tasks[when],
                "order": order,
            }
        )
        parts.append(frame[which & (tasks[when].to_numpy() < story.now_ms)])
    events = pd.concat(parts, ignore_index=True).sort_values(["ms", "order"], kind="stable")
    events["details"] = np.where(
        events["new_status"] == "failed", '{"error": "acceptance checks failed"}', events["details"]
    )
    events["timestamp"] = text_times(events["ms"], "seconds")
    return events.drop(columns=["ms", "order"]).reset_index(drop=True)


def _git_commits(story: Story, rng: np.random.Generator, tasks: pd.DataFrame) -> pd.DataFrame:
    """Commits made while a task was in progress, on the task's branch."""
    agent = tasks["agent"].to_numpy()
    per_task = rng.poisson(np.where(np.isin(agent, [SWITCH_A, agent_index("data-pipeline")]), 2.2, 0.6))
    begun = tasks["started"].to_numpy() < story.now_ms
    per_task = np.where(begun, per_task, 0)
    task = np.repeat(np.arange(len(tasks)), per_task)
    start = tasks["started"].to_numpy()[task]
    end = np.minimum(tasks["finished"].to_numpy()[task], story.now_ms - MIN_MS)
    ts = np.sort(start + rng.uniform(0, 1, len(task)) * np.maximum(end - start, MIN_MS))
    ts = np.minimum(ts, story.now_ms - MIN_MS)
    hashes = hexes(rng, len(task), 40)
    names = np.array(AGENT_NAMES, dtype=object)[agent[task]]
    added = np.ceil(lognormal(rng, 40, 1.1, len(task)))
    return pd.DataFrame(
        {
            "commit_hash": hashes,
            "short_hash": [h[:7] for h in hashes],
            "agent_id": names,
            "author_name": names + " (bot)",
            "author_email": names + "@agents.example.com",
            "message": "wip(" + tasks["task_id"].to_numpy()[task] + "): " + tasks["title"].to_numpy()[task],
            "branch": "task/" + tasks["task_id"].str.lower().to_numpy()[task],
            "files_changed": 1 + rng.geometric(0.35, len(task)),
            "lines_added": added.astype(np.int64),
            "lines_deleted": np.floor(added * rng.uniform(0, 0.8, len(task))).astype(np.int64),
            "commit_timestamp": text_times(ts, "seconds"),
            "recorded_at": text_times(ts + 30_000, "seconds"),
        }
    )


_AGENT_METRICS_DAYS = 30  # the dashboard's retention for detailed agent samples


def _agent_metrics(story: Story, rng: np.random.Generator, tasks: pd.DataFrame) -> pd.DataFrame:
    """A sample per agent every 5-15 minutes: status from the rhythm and the board's tasks.

    The dashboard's retention job keeps 30 days of agent samples, so older ones are gone.
    """
    parts = []
    for a, spec in enumerate(FLEET):
        steps = rng.uniform(5 * MIN_MS, 15 * MIN_MS, story.days * 24 * 6 + 10)
        ts = (story.start_ms + np.cumsum(steps)).astype(np.int64)
        ts = ts[(ts < story.now_ms) & (ts >= story.now_ms - _AGENT_METRICS_DAYS * DAY_MS)]
        n = len(ts)
        load = activity(ts, spec.rhythm)
        task_ids, stuck = _task_at(tasks[tasks["agent"] == a], ts)
        working = pd.notna(task_ids)
        active = working | (rng.random(n) < load)
        error_rate = 0.004 + np.where((a == SLOW_A) & (ts >= story.slow_ms), 0.03, 0.0)
        status = np.where(active, "active", "idle").astype(object)
        status[stuck] = "blocked"
        status[rng.random(n) < error_rate] = "error"
        offline = rng.random(n) < 0.003
        status[offline] = "offline"
        restarts = np.sort(rng.integers(story.start_ms, story.now_ms, max(story.days // 4, 1)))
        since = np.searchsorted(restarts, ts, side="right") - 1
        booted = np.where(since >= 0, restarts[np.maximum(since, 0)], story.start_ms - 2 * DAY_MS)
        cpu = np.where(active, 15 + 55 * load, 2 + 5 * load) * lognormal(rng, 1.0, 0.12, n)
        memory = spec.memory_mb * (1 + 0.25 * load) + rng.normal(0, spec.memory_mb * 0.02, n)
        parts.append(
            pd.DataFrame(
                {
                    "agent_id": spec.name,
                    "timestamp": text_times(ts, "seconds"),
                    "status": status,
                    "current_task": task_ids,
                    "cpu_usage": np.where(offline, 0.0, np.clip(cpu, 0, 100).round(1)),
                    "memory_usage": np.where(offline, 0, memory).round().astype(np.int64),
                    "memory_percent": np.where(offline, 0.0, memory / 16384 * 100).round(2),
                    "uncommitted_changes": np.where(working, rng.poisson(4, n), 0),
                    "uptime_seconds": np.where(offline, 0, (ts - booted) // 1000),
                    "last_activity": text_times(ts - np.where(active, 20_000, 40 * MIN_MS), "seconds"),
                    "branch": np.where(
                        working, np.char.add("task/", np.char.lower(task_ids.astype(str))), "main"
                    ),
                    "created_at": text_times(ts, "seconds"),
                    "ms": ts,
                }
            )
        )
    return pd.concat(parts).sort_values("ms", kind="stable").drop(columns="ms").reset_index(drop=True)


def _task_at(mine: pd.DataFrame, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The board task (id, or None) an agent works on at each time, and whether it is blocked.

    A task occupies its agent from start to finish; one that stays blocked, until the agent
    gives up on it and moves on (its unblock time).
    """
    if mine.empty:
        return np.full(len(ts), None, dtype=object), np.zeros(len(ts), dtype=bool)
    mine = mine.sort_values("started")
    pos = np.searchsorted(mine["started"].to_numpy(), ts, side="right") - 1
    row = mine.iloc[np.maximum(pos, 0)]
    outcome = row["outcome"].to_numpy()
    until = np.where(outcome == "blocked", row["unblocked_at"], row["finished"])
    working = (pos >= 0) & (until > ts)
    blocked = working & np.isin(outcome, ["blocked", "unblocked"]) & (row["blocked_at"].to_numpy() <= ts)
    blocked &= row["unblocked_at"].to_numpy() > ts
    return np.where(working, row["task_id"].to_numpy(), None), blocked


def _system_health(story: Story, rng: np.random.Generator) -> pd.DataFrame:
    """The dashboard's own health every 10 minutes; degraded during the outage.

    Its retention job keeps 7 days of detail and only the on-the-hour samples before that.
    """
    ts = grid(rng, story, 10 * MIN_MS, 5_000)
    ts = ts[(ts >= story.now_ms - 7 * DAY_MS) | (ts % HOUR_MS < MIN_MS)]
    n = len(ts)
    load = activity(ts, "office")
    outage = (ts >= story.outage_ms[0]) & (ts < story.outage_ms[1])
    degraded = outage | (rng.random(n) < 0.015)
    status = np.where(degraded, "degraded", "healthy").astype(object)
    status[outage & (ts < story.outage_ms[0] + HOUR_MS)] = "unhealthy"
    services = np.where(outage, '"llm_gateway": "down"', '"llm_gateway": "up"')
    return pd.DataFrame(
        {
            "timestamp": text_times(ts, "seconds"),
            "overall_status": status,
            "api_latency": (lognormal(rng, 45, 0.3, n) * np.where(degraded, 4, 1)).round(1),
            "websocket_connections": rng.poisson(1 + 10 * load),
            "file_watch_events": rng.poisson(2 + 30 * load),
            "error_count": rng.poisson(0.2, n) + np.where(outage, rng.poisson(25, n), 0),
            "cpu_usage": np.clip(5 + 30 * load + rng.normal(0, 3, n), 1, 100).round(1),
            "memory_usage": (900 + 300 * load + rng.normal(0, 20, n)).round().astype(np.int64),
            "disk_usage": (41 + 6 * (ts - story.start_ms) / max(story.now_ms - story.start_ms, 1)).astype(
                np.int64
            ),
            "details": np.char.add(
                np.char.add('{"api": "up", "websocket": "up", ', services.astype(str)), "}"
            ),
        }
    )


def _rag_metrics(story: Story, rng: np.random.Generator) -> pd.DataFrame:
    ts = grid(rng, story, 30 * MIN_MS, 5_000)
    n = len(ts)
    volume = rng.poisson(5 + 150 * activity(ts, "office"))
    progress = (ts - story.start_ms) / max(story.now_ms - story.start_ms, 1)
    patterns = (
        '["refund policy", "order status", "password reset"]',
        '["pricing", "api limits", "sso setup"]',
    )
    queries = ('["where is my order", "refund annual plan"]', '["reset password", "add teammate"]')
    return pd.DataFrame(
        {
            "timestamp": text_times(ts, "seconds"),
            "total_patterns": (1200 + 260 * progress).astype(np.int64),
            "total_queries": 48_000 + np.cumsum(volume) // 2,
            "average_response_time": lognormal(rng, 120, 0.25, n).round(1),
            "hit_rate": np.clip(rng.normal(0.78, 0.05, n), 0, 1).round(3),
            "memory_usage": (512 + 180 * progress + rng.normal(0, 8, n)).round().astype(np.int64),
            "query_volume_last_hour": volume,
            "top_patterns": pick(rng, patterns, n),
            "recent_queries": pick(rng, queries, n),
        }
    )


_BOARD_ALERT_KINDS = (  # type, severity, title
    ("agent", "warning", "High CPU usage"),
    ("agent", "error", "Agent stopped reporting"),
    ("agent", "info", "Agent restarted"),
    ("task", "warning", "Task blocked for more than 24 hours"),
    ("task", "info", "Task reassigned"),
    ("system", "warning", "Disk usage above 45%"),
    ("system", "critical", "Dashboard API not responding"),
    ("performance", "warning", "Slow LLM responses"),
    ("performance", "error", "Error rate above 5%"),
)


def _board_alerts(story: Story, rng: np.random.Generator) -> pd.DataFrame:
    """Background alerts of every type and severity, plus the story's: the outage, the slowdown,
    the cost jump. Older alerts are mostly acknowledged and resolved; recent ones are open."""
    ts = arrivals(rng, story, 3, "office")
    kind = rng.choice(
        len(_BOARD_ALERT_KINDS), size=len(ts), p=[0.16, 0.08, 0.16, 0.12, 0.12, 0.08, 0.02, 0.14, 0.12]
    )
    rows = [
        (t, *_BOARD_ALERT_KINDS[k], AGENT_NAMES[rng.integers(0, len(FLEET))])
        for t, k in zip(ts, kind, strict=True)
    ]
    rows += [
        (
            story.outage_ms[0] + 4 * MIN_MS,
            "system",
            "critical",
            "LLM provider overloaded (Anthropic 529)",
            None,
        )
    ]
    rows += [
        (story.outage_ms[0] + (6 + i) * MIN_MS, "agent", "error", "LLM calls failing", name)
        for i, name in enumerate(("support-bot", "research-agent", "code-reviewer"))
    ]
    for day, t in enumerate(range(story.slow_ms + HOUR_MS, story.now_ms, DAY_MS)):
        rows.append(
            (t, "performance", "warning" if day == 0 else "error", "Response time above 2 s", SLOW_AGENT)
        )
    if story.switch_ms + DAY_MS < story.now_ms:
        rows.append(
            (story.switch_ms + DAY_MS, "performance", "warning", "LLM spend up 3x on the week", SWITCH_AGENT)
        )
    alerts = pd.DataFrame(rows, columns=["ms", "type", "severity", "title", "agent"]).sort_values(
        "ms", kind="stable"
    )
    n = len(alerts)
    ms = alerts["ms"].to_numpy(dtype=np.int64)
    age = story.now_ms - ms
    acknowledged = (age > 6 * HOUR_MS) & (rng.random(n) < 0.85)
    resolved = acknowledged & (age > 2 * DAY_MS) & (rng.random(n) < 0.9)
    acked_at = ms + np.minimum(rng.exponential(45 * MIN_MS, n), age - MIN_MS)
    resolved_at = acked_at + np.minimum(rng.exponential(5 * HOUR_MS, n), story.now_ms - acked_at - MIN_MS)
    day = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="D")
    return pd.DataFrame(
        {
            "alert_id": [f"alert-{d.replace('-', '')}-{i:04d}" for i, d in enumerate(day)],
            "type": alerts["type"].to_numpy(),
            "severity": alerts["severity"].to_numpy(),
            "title": np.where(
                alerts["agent"].notna(), alerts["title"] + ": " + alerts["agent"].fillna(""), alerts["title"]
            ),
            "message": alerts["title"].to_numpy() + " (see the agent's metrics for details)",
            "source": alerts["agent"].fillna("system").to_numpy(),
            "metadata": [json.dumps({"agent_id": a} if isinstance(a, str) else {}) for a in alerts["agent"]],
            "acknowledged": acknowledged,
            "acknowledged_by": np.where(acknowledged, pick(rng, ("maria", "dev-oncall", "sam"), n), None),
            "acknowledged_at": text_times(np.where(acknowledged, acked_at, np.nan), "seconds"),
            "resolved": resolved,
            "resolved_at": text_times(np.where(resolved, resolved_at, np.nan), "seconds"),
            "created_at": text_times(ms, "seconds"),
        }
    )
