"""The fleet as the multi-agent platform records it: tasks, chats whose assistant messages carry the
LLM calls, hourly metrics, configurations and (fake) API keys."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data_layer.demo.draw import (
    DAY_MS,
    HOUR_MS,
    MIN_MS,
    activity,
    arrivals,
    cpu_percent,
    hexes,
    json_list,
    lognormal,
    pick,
    text_times,
    uuids,
)
from data_layer.demo.fleet import (
    AGENT_NAMES,
    FLEET,
    MODELS,
    SLOW_A,
    SLOWDOWN,
    SWITCH_AGENT,
    SWITCH_TO,
    Story,
)
from data_layer.demo.traffic import Tables, Traffic, hourly_calls


@dataclass(frozen=True)
class _Work:
    """What one agent does on the platform: its task type, volume and duration."""

    agent_type: str
    task_type: str
    tasks_per_day: float
    duration_ms: float  # log-normal median
    chats_per_day: float
    session_type: str
    capabilities: tuple[str, ...]


_WORK = (
    _Work("conversational", "answer_ticket", 25, 40_000, 18, "support", ("chat", "search", "email")),
    _Work("llm", "research_report", 6, 20 * MIN_MS, 4, "individual", ("search", "web_fetch", "summarise")),
    _Work("llm", "review_pr", 15, 4 * MIN_MS, 3, "individual", ("git", "tests", "review")),
    _Work("worker", "etl_batch", 8, 25 * MIN_MS, 0, "individual", ("sql", "extract", "classify")),
    _Work("router", "classify_ticket", 30, 3_000, 0, "support", ("classify", "route")),
)


def platform_tables(story: Story, rng: np.random.Generator, traffic: Traffic) -> Tables:
    """The platform's agents, tasks in every status, chats whose assistant messages are LLM
    calls, hourly metrics, configurations and (fake) API keys."""
    tasks = _platform_tasks(story, rng)
    sessions, messages = _platform_chats(story, rng, traffic)
    return {
        "agents": _platform_agents(story),
        "tasks": tasks.drop(columns=["agent", "ms"]),
        "api_keys": _platform_keys(story),
        "chat_sessions": sessions,
        "chat_messages": messages,
        "agent_configurations": _platform_configurations(story),
        "metrics": _platform_metrics(story, rng, traffic, tasks),
    }


def _platform_agents(story: Story) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": list(AGENT_NAMES),
            "name": list(AGENT_NAMES),
            "agent_type": [w.agent_type for w in _WORK],
            "status": "active",
            "capabilities": json_list([list(w.capabilities) for w in _WORK]),
            "last_heartbeat": text_times(np.full(len(FLEET), story.now_ms - 15_000), "iso"),
            "created_at": text_times(story.start_ms - 40 * DAY_MS + np.arange(len(FLEET)) * DAY_MS, "iso"),
            "updated_at": text_times(np.full(len(FLEET), story.now_ms - 15_000), "iso"),
            "metadata": [json.dumps({"title": a.title, "version": "1.8.0"}) for a in FLEET],
        }
    )


def _platform_tasks(story: Story, rng: np.random.Generator) -> pd.DataFrame:
    """Tasks in every status: finished ones, and a few pending or running ones at ``now``.

    The platform always has work in flight, so besides the tasks drawn with the rhythm each
    agent has one to three tasks created in the last half hour: queued, or started and running.
    """
    parts = []
    for a, (spec, work) in enumerate(zip(FLEET, _WORK, strict=True)):
        in_flight = story.now_ms - rng.uniform(0, 30 * MIN_MS, 1 + rng.poisson(1))
        created = np.sort(np.r_[arrivals(rng, story, work.tasks_per_day, spec.rhythm), in_flight])
        n = len(created)
        slow = (a == SLOW_A) & (created >= story.slow_ms)
        started = created + rng.exponential(np.where(slow, 60_000, 20_000))
        duration = lognormal(rng, work.duration_ms, 0.6, n) * np.where(slow, SLOWDOWN, 1)
        finished = np.where(np.isin(created, in_flight), np.inf, started + duration)
        started[np.isin(created, in_flight) & (rng.random(n) < 0.5)] = np.inf  # still queued
        fate = rng.choice(["completed", "failed", "cancelled"], size=n, p=[0.945, 0.04, 0.015])
        status = np.where(
            started > story.now_ms, "pending", np.where(finished > story.now_ms, "running", fate)
        )
        parts.append(
            pd.DataFrame(
                {"agent": a, "ms": created, "started": started, "finished": finished, "status": status}
            ).assign(task_type=work.task_type)
        )
    tasks = pd.concat(parts).sort_values("ms", kind="stable").reset_index(drop=True)
    n, status = len(tasks), tasks["status"].to_numpy()
    done = np.isin(status, ["completed", "failed", "cancelled"])
    return pd.DataFrame(
        {
            "id": [f"task-{h}" for h in hexes(rng, n, 12)],
            "agent_id": np.array(AGENT_NAMES, dtype=object)[tasks["agent"]],
            "task_type": tasks["task_type"],
            "status": status,
            "priority": rng.choice(["low", "normal", "high"], size=n, p=[0.2, 0.6, 0.2]),
            "payload": [
                f'{{"title": "{t.replace("_", " ")} #{i + 1}", "source": "{s}"}}'
                for i, (t, s) in enumerate(
                    zip(tasks["task_type"], pick(rng, ("api", "slack", "cron"), n), strict=True)
                )
            ],
            "result": np.where(status == "completed", '{"ok": true}', None),
            "error": np.where(
                status == "failed", pick(rng, ("upstream timeout", "tool call failed"), n), None
            ),
            "created_at": text_times(tasks["ms"], "iso"),
            "started_at": text_times(np.where(status == "pending", np.nan, tasks["started"]), "iso"),
            "completed_at": text_times(np.where(done, tasks["finished"], np.nan), "iso"),
            "metadata": '{"source": "orchestrator"}',
            "agent": tasks["agent"],
            "ms": tasks["finished"].where(done),
        }
    )


def _platform_chats(
    story: Story, rng: np.random.Generator, traffic: Traffic
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chat sessions and their messages. Each assistant message borrows the model, tokens and
    latency of the agent's nearest LLM call in the shared traffic, so the platform shows the
    same model switch and slowdown as Cylestio."""
    parts = []
    for a, (spec, work) in enumerate(zip(FLEET, _WORK, strict=True)):
        if work.chats_per_day:
            created = arrivals(rng, story, work.chats_per_day, spec.rhythm)
            parts.append(pd.DataFrame({"agent": a, "ms": created, "type": work.session_type}))
    chats = pd.concat(parts).sort_values("ms", kind="stable").reset_index(drop=True)
    chats["id"] = uuids(rng, len(chats))
    chats["user"] = [f"user-{u:04d}" for u in rng.integers(1, 400, len(chats))]
    exchanges = 1 + rng.poisson(2.5, len(chats))
    chat = np.repeat(np.arange(len(chats)), exchanges)
    step = lognormal(rng, 50_000, 0.8, len(chat))
    first = np.r_[0, np.cumsum(exchanges)[:-1]]
    elapsed = np.cumsum(step)
    elapsed = elapsed - np.repeat(elapsed[first] - step[first], exchanges)
    asked = chats["ms"].to_numpy()[chat] + elapsed
    keep = asked < story.now_ms - MIN_MS
    chat, asked = chat[keep], asked[keep]
    agent = chats["agent"].to_numpy()[chat]
    call = _nearest_calls(traffic.calls, agent, asked)
    answered = np.minimum(asked + call["latency_ms"].to_numpy(), story.now_ms - 1)
    messages = _chat_messages(rng, chats, chat, agent, asked, answered, call)
    return _chat_sessions(story, chats, chat, answered), messages


def _nearest_calls(calls: pd.DataFrame, agent: np.ndarray, ts: np.ndarray) -> pd.DataFrame:
    """For each (agent, time), the agent's successful LLM call closest in time."""
    ok = calls[calls["error"].isna() & calls["tokens_in"].notna()].sort_values("ts")
    wanted = pd.DataFrame({"agent": agent, "ts": ts.astype(np.int64), "row": np.arange(len(ts))}).sort_values(
        "ts"
    )
    usage = ok[["agent", "ts", "model", "tokens_in", "tokens_out", "latency_ms", "cost"]]
    found = pd.merge_asof(wanted, usage, on="ts", by="agent", direction="nearest")
    return found.sort_values("row").reset_index(drop=True)


def _chat_messages(
    rng: np.random.Generator,
    chats: pd.DataFrame,
    chat: np.ndarray,
    agent: np.ndarray,
    asked: np.ndarray,
    answered: np.ndarray,
    call: pd.DataFrame,
) -> pd.DataFrame:
    n = len(chat)
    question_ids = [f"msg-{h}" for h in hexes(rng, n, 16)]
    answer_ids = [f"msg-{h}" for h in hexes(rng, n, 16)]
    models = np.array([m.name for m in MODELS], dtype=object)[call["model"].to_numpy()]
    tokens_in, tokens_out = call["tokens_in"].astype(int), call["tokens_out"].astype(int)
    metadata = [
        json.dumps(
            {
                "agent": AGENT_NAMES[a],
                "model": m,
                "usage": {"prompt_tokens": i, "completion_tokens": o, "total_tokens": i + o},
                "latency_ms": int(lat),
                "cost_usd": None if np.isnan(c) else round(float(c), 8),
            }
        )
        for a, m, i, o, lat, c in zip(
            agent, models, tokens_in, tokens_out, call["latency_ms"], call["cost"], strict=True
        )
    ]
    prompts = np.array([FLEET[a].prompts[0] for a in range(len(FLEET))], dtype=object)
    replies = np.array([FLEET[a].responses[0] for a in range(len(FLEET))], dtype=object)
    user = chats["user"].to_numpy()[chat]
    questions = pd.DataFrame(
        {
            "id": question_ids,
            "session_id": chats["id"].to_numpy()[chat],
            "user_id": user,
            "message_type": "user",
            "content": prompts[agent],
            "ms": asked,
            "metadata": "{}",
            "replied_to": None,
        }
    )
    answers = questions.assign(
        id=answer_ids,
        user_id=np.array(AGENT_NAMES, dtype=object)[agent],
        message_type="assistant",
        content=replies[agent],
        ms=answered,
        metadata=metadata,
        replied_to=question_ids,
    )
    messages = pd.concat([questions, answers]).sort_values("ms", kind="stable").reset_index(drop=True)
    messages["timestamp"] = text_times(messages["ms"], "iso")
    messages["attachments"] = "[]"
    return messages.drop(columns="ms")


def _chat_sessions(story: Story, chats: pd.DataFrame, chat: np.ndarray, answered: np.ndarray) -> pd.DataFrame:
    last = pd.Series(answered).groupby(chat).max().reindex(range(len(chats))).to_numpy()
    last = np.where(np.isnan(last), chats["ms"].to_numpy(), last)
    idle = story.now_ms - last
    status = np.where(idle > 2 * HOUR_MS, "ended", np.where(idle > 15 * MIN_MS, "idle", "active"))
    agent = np.array(AGENT_NAMES, dtype=object)[chats["agent"]]
    return pd.DataFrame(
        {
            "id": chats["id"],
            "session_type": chats["type"],
            "status": status,
            "title": np.char.add("Chat with ", agent.astype(str)),
            "context": [json.dumps({"agent": a, "channel": "web"}) for a in agent],
            "created_at": text_times(chats["ms"], "iso"),
            "last_activity": text_times(last, "iso"),
            "ended_at": text_times(np.where(status == "ended", last + 5 * MIN_MS, np.nan), "iso"),
            "settings": '{"language": "en"}',
            "conversation_summary": "",
            "participants": [json.dumps([u, a]) for u, a in zip(chats["user"], agent, strict=True)],
        }
    )


def _platform_configurations(story: Story) -> pd.DataFrame:
    rows = []
    for a, spec in enumerate(FLEET):
        model, changed = spec.models[0][0], story.start_ms - 10 * DAY_MS
        if spec.name == SWITCH_AGENT:
            model, changed = SWITCH_TO, story.switch_ms
        rows += [
            (spec.name, "llm_model", model, changed),
            (spec.name, "temperature", str(spec.temperature), story.start_ms - 10 * DAY_MS),
            (spec.name, "max_tokens", str(4096 if a != SLOW_A else 256), story.start_ms - 10 * DAY_MS),
            (spec.name, "rate_limit", "60/min", story.start_ms - 10 * DAY_MS),
        ]
    frame = pd.DataFrame(rows, columns=["agent_name", "config_key", "config_value", "ms"])
    return frame.assign(last_updated=text_times(frame["ms"], "iso"), is_active=True).drop(columns="ms")


def _platform_keys(story: Story) -> pd.DataFrame:
    """API keys, obviously fake: the app must never read this table, and a test checks it doesn't."""
    return pd.DataFrame(
        {
            "api_key": [f"FAKE-demo-key-{i}-not-a-secret" for i in range(1, 4)],
            "owner_id": ["ops-dashboard", "ci-runner", "former-intern"],
            "permissions": ['["read:metrics"]', '["tasks:write", "tasks:read"]', '["admin"]'],
            "is_active": [True, True, False],
            "created_at": text_times(np.full(3, story.start_ms - 90 * DAY_MS), "iso"),
            "expires_at": text_times(np.array([np.nan, story.now_ms + 90 * DAY_MS, story.start_ms]), "iso"),
        }
    )


_PLATFORM_UNITS = {"tasks_processed": "tasks", "avg_response_ms": "ms", "cpu_usage": "%"}


def _platform_metrics(
    story: Story, rng: np.random.Generator, traffic: Traffic, tasks: pd.DataFrame
) -> pd.DataFrame:
    """Hourly series per agent: tasks_processed, avg_response_ms and cpu_usage."""
    hours = np.arange(story.start_ms, story.now_ms, HOUR_MS, dtype=np.int64)
    hourly = hourly_calls(traffic)
    done = tasks.dropna(subset=["ms"])
    processed = done.groupby([done["agent"], (done["ms"] // HOUR_MS).astype(np.int64)]).size()
    parts = []
    for a, spec in enumerate(FLEET):
        n = len(hours)
        key = pd.MultiIndex.from_arrays([np.full(n, a), hours // HOUR_MS])
        load = activity(hours, spec.rhythm)
        series = {
            "tasks_processed": processed.reindex(key, fill_value=0).to_numpy().astype(float),
            "avg_response_ms": hourly["latency"].reindex(key).to_numpy().round(1),
            "cpu_usage": cpu_percent(rng, load).round(1),
        }
        for name, values in series.items():
            stamp = hours + HOUR_MS - 1000  # reported at the end of the hour
            keep = ~np.isnan(values)
            parts.append(
                pd.DataFrame(
                    {
                        "agent_name": spec.name,
                        "metric_name": name,
                        "metric_value": values[keep],
                        "ms": stamp[keep],
                    }
                )
            )
    metrics = pd.concat(parts).sort_values("ms", kind="stable")
    metrics["timestamp"] = text_times(metrics["ms"], "iso")
    metrics["tags"] = metrics["metric_name"].map(
        {name: json.dumps({"env": "production", "unit": unit}) for name, unit in _PLATFORM_UNITS.items()}
    )
    return metrics.drop(columns="ms").reset_index(drop=True)
