"""The fleet as Sentinel AI records it: UUID keys, samples every 15 minutes, JSON thresholds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from data_layer.demo.draw import (
    DAY_MS,
    HOUR_MS,
    MIN_MS,
    activity,
    cpu_percent,
    grid,
    lognormal,
    text_times,
    uuids,
)
from data_layer.demo.fleet import (
    AGENT_NAMES,
    FLEET,
    SLOW_A,
    SWITCH_A,
    Story,
)
from data_layer.demo.traffic import Tables, Traffic, hourly_calls

SENTINEL_EVERY_MS = 15 * MIN_MS
SENTINEL_THRESHOLDS = {  # global; sentinel_tables adds per-agent ones for the story's agents
    "latency_ms": {"warning": 15000, "critical": 30000},
    "cpu_usage_percent": {"warning": 85, "critical": 95},
    "memory_usage_mb": {"warning": 2500, "critical": 3500},
    "cost_per_request": {"warning": 0.06, "critical": 0.12},
}


def sentinel_tables(story: Story, rng: np.random.Generator, traffic: Traffic) -> Tables:
    """Sentinel's agents, samples every 10 minutes, thresholds and dashboard sessions.

    Each sample's latency, throughput and cost come from the fleet's calls in that hour, so
    Sentinel agrees with Cylestio: triage-agent slows down, code-reviewer's cost jumps.
    """
    ids = uuids(rng, len(FLEET))
    metrics = _sentinel_metrics(story, rng, traffic, ids)
    last_seen = metrics.groupby("agent_id", sort=False)["ms"].max()
    agents = pd.DataFrame(
        {
            "agent_id": ids,
            "name": list(AGENT_NAMES),
            "description": [f"{a.title}: {a.role.replace('-', ' ')} agent" for a in FLEET],
            "status": ["running", "running", "running", "running", "error"],
            "created_at": text_times(story.start_ms - 40 * DAY_MS + np.arange(len(FLEET)) * DAY_MS, "iso"),
            "last_seen": text_times(last_seen.reindex(ids).to_numpy(), "iso"),
            "metadata": [
                json.dumps({"version": "2.3.1", "framework": "langgraph", "model": a.models[0][0]})
                for a in FLEET
            ],
        }
    )
    return {
        "ai_agents": agents,
        "performance_metrics": metrics.drop(columns="ms"),
        "user_sessions": _sentinel_sessions(story, rng, ids),
        "monitoring_configuration": _sentinel_configuration(story, rng, ids),
    }


def _sentinel_metrics(
    story: Story, rng: np.random.Generator, traffic: Traffic, ids: list[str]
) -> pd.DataFrame:
    hourly = hourly_calls(traffic)
    parts = []
    for a, spec in enumerate(FLEET):
        ts = grid(rng, story, SENTINEL_EVERY_MS, 30_000)
        n = len(ts)
        key = pd.MultiIndex.from_arrays([np.full(n, a), ts // HOUR_MS])
        seen = hourly.reindex(key)
        load = activity(ts, spec.rhythm)
        slow = (a == SLOW_A) & (ts >= story.slow_ms)
        latency = seen["latency"].to_numpy() * lognormal(rng, 1.0, 0.1, n)
        cpu = cpu_percent(rng, load, extra=np.where(slow, 12.0, 0.0))
        leak = (
            9.0 * ((ts - story.start_ms) % (3 * DAY_MS)) / HOUR_MS if spec.name == "research-agent" else 0.0
        )
        memory = spec.memory_mb * (1 + 0.25 * load) + leak + rng.normal(0, spec.memory_mb * 0.02, n)
        gpu = np.clip(10 + 65 * load + rng.normal(0, 5, n), 0, 100) if spec.name == "data-pipeline" else None
        queue = rng.poisson((1 + 12 * load) * np.where(slow, 3, 1))
        custom = [
            f'{{"queue_depth": {q}, "cache_hit_rate": {h:.3f}, "error_rate": {e:.4f}}}'
            for q, h, e in zip(
                queue, rng.uniform(0.55, 0.9, n), np.nan_to_num(seen["errors"].to_numpy()), strict=True
            )
        ]
        parts.append(
            pd.DataFrame(
                {
                    "metric_id": uuids(rng, n),
                    "agent_id": ids[a],
                    "timestamp": text_times(ts, "iso"),
                    "latency_ms": latency.round(1),
                    "throughput_req_per_min": (seen["calls"].fillna(0).to_numpy() / 60).round(3),
                    "cost_per_request": seen["cost"].to_numpy().round(6),
                    "cpu_usage_percent": cpu.round(1),
                    "gpu_usage_percent": None if gpu is None else gpu.round(1),
                    "memory_usage_mb": memory.round(1),
                    "custom_metrics": custom,
                    "ms": ts,
                }
            )
        )
    return pd.concat(parts).sort_values("ms", kind="stable").reset_index(drop=True)


def _sentinel_configuration(story: Story, rng: np.random.Generator, ids: list[str]) -> pd.DataFrame:
    """A global configuration and per-agent ones tight enough that the story's agents breach them."""
    every_s = SENTINEL_EVERY_MS // 1000
    rows = [
        (None, every_s, 90, SENTINEL_THRESHOLDS, story.start_ms - 30 * DAY_MS),
        (
            ids[SLOW_A],
            every_s,
            90,
            {"latency_ms": {"warning": 1500, "critical": 3000}},
            story.start_ms - 20 * DAY_MS,
        ),
        (
            ids[SWITCH_A],
            every_s,
            90,
            {"cost_per_request": {"warning": 0.01, "critical": 0.04}},
            story.start_ms,
        ),
    ]
    created = np.array([r[4] for r in rows])
    return pd.DataFrame(
        {
            "config_id": uuids(rng, len(rows)),
            "agent_id": [r[0] for r in rows],
            "collection_interval_seconds": [r[1] for r in rows],
            "retention_days": [r[2] for r in rows],
            "alert_thresholds": [json.dumps(r[3]) for r in rows],
            "enabled": True,
            "created_at": text_times(created, "iso"),
            "updated_at": text_times(created + DAY_MS, "iso"),
        }
    )


def _sentinel_sessions(story: Story, rng: np.random.Generator, ids: list[str]) -> pd.DataFrame:
    users = ("maria@example.com", "sam@example.com", "dev-oncall", "anon-7f3a91")
    created = np.sort(rng.integers(story.now_ms - 5 * DAY_MS, story.now_ms - HOUR_MS, len(users)))
    last = np.minimum(created + rng.integers(10 * MIN_MS, 8 * HOUR_MS, len(users)), story.now_ms)
    return pd.DataFrame(
        {
            "session_id": uuids(rng, len(users)),
            "user_identifier": list(users),
            "created_at": text_times(created, "iso"),
            "last_activity": text_times(last, "iso"),
            "preferences": ['{"theme": "dark", "refresh_seconds": 30}'] * len(users),
            "active_filters": [
                json.dumps({"agent_id": ids[i % len(ids)], "time_range": "24h"}) for i in range(4)
            ],
        }
    )
