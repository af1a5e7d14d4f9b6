"""The fleet's sessions and LLM calls, drawn once and shared by the systems that record calls."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data_layer.demo.draw import (
    HOUR_MS,
    arrivals,
    lognormal,
    pick,
)
from data_layer.demo.fleet import (
    FLEET,
    MODEL_INDEX,
    MODELS,
    SLOW_A,
    SLOWDOWN,
    SWITCH_A,
    SWITCH_FROM,
    SWITCH_TO,
    Story,
)

Tables = dict[str, pd.DataFrame]  # one system's rows: table -> frame with the source's column names


@dataclass
class Traffic:
    """Sessions and LLM calls of the whole fleet, agents and models as indexes into FLEET and
    MODELS, times in epoch ms.

    Cylestio records all of it; Sentinel and the platform derive their figures from the same
    draw so that their numbers agree with Cylestio's.
    """

    sessions: pd.DataFrame  # index (what calls.session refers to), agent, start, end (NaN: open)
    calls: pd.DataFrame  # session, agent, conversation, ts, model, tokens, latency, cost, error...


def fleet_traffic(story: Story, rng: np.random.Generator) -> Traffic:
    """Draw the fleet's sessions, then each session's calls, then close the sessions."""
    sessions = _sessions(story, rng)
    calls = _calls(story, rng, sessions)
    return Traffic(sessions=_close_sessions(story, rng, sessions, calls), calls=calls)


def _sessions(story: Story, rng: np.random.Generator) -> pd.DataFrame:
    parts = []
    for a, agent in enumerate(FLEET):
        starts = arrivals(rng, story, agent.calls_per_day / agent.calls_per_session, agent.rhythm)
        calls = 1 + rng.poisson(agent.calls_per_session - 1, len(starts))
        parts.append(pd.DataFrame({"agent": a, "start": starts, "calls": calls}))
    sessions = pd.concat(parts).sort_values(["start", "agent"], kind="stable").reset_index(drop=True)
    return sessions


def _calls(story: Story, rng: np.random.Generator, sessions: pd.DataFrame) -> pd.DataFrame:
    """A session's calls follow each other at log-normal gaps; calls after ``now`` are not drawn
    yet, which leaves the sessions they belong to open."""
    per_session = sessions["calls"].to_numpy()
    session = np.repeat(np.arange(len(sessions)), per_session)
    agent = sessions["agent"].to_numpy()[session]
    n = len(session)
    gap_s = np.array([a.gap_s for a in FLEET])[agent]
    gaps = lognormal(rng, gap_s * 1000, 0.9, n)
    first = np.r_[0, np.cumsum(per_session)[:-1]]
    gaps[first] = rng.uniform(200, 3000, len(first))
    cumulative = np.cumsum(gaps)
    ts = sessions["start"].to_numpy()[session] + (
        cumulative - np.repeat(cumulative[first] - gaps[first], per_session)
    )
    calls = pd.DataFrame({"session": session, "agent": agent, "ts": ts.astype("int64")})
    # A conversation starts with the session and again at about one call in six.
    new_conversation = rng.random(n) < 0.17
    new_conversation[first] = True
    calls["conversation"] = np.cumsum(new_conversation) - 1
    calls = calls[calls["ts"] < story.now_ms].reset_index(drop=True)
    _draw_models(story, rng, calls)
    _draw_usage(story, rng, calls)
    _draw_errors(story, rng, calls)
    _draw_costs(rng, calls)
    _draw_text(rng, calls)
    return calls


def _draw_models(story: Story, rng: np.random.Generator, calls: pd.DataFrame) -> None:
    model = np.zeros(len(calls), dtype=np.int64)
    for a, agent in enumerate(FLEET):
        mine = np.flatnonzero(calls["agent"].to_numpy() == a)
        names, shares = zip(*agent.models, strict=True)
        choice = rng.choice(len(names), size=len(mine), p=np.array(shares) / sum(shares))
        model[mine] = np.array([MODEL_INDEX[m] for m in names])[choice]
    switched = (
        (calls["agent"].to_numpy() == SWITCH_A)
        & (calls["ts"].to_numpy() >= story.switch_ms)
        & (model == MODEL_INDEX[SWITCH_FROM])
    )
    model[switched] = MODEL_INDEX[SWITCH_TO]
    calls["model"] = model


def _draw_usage(story: Story, rng: np.random.Generator, calls: pd.DataFrame) -> None:
    """Log-normal token counts; latency from the model's speed and the tokens, with a heavy tail."""
    n, agent, model = len(calls), calls["agent"].to_numpy(), calls["model"].to_numpy()
    spec = {f: np.array([getattr(a, f) for a in FLEET]) for f in ("tokens_in", "tokens_out")}
    tokens_in = lognormal(rng, spec["tokens_in"][agent, 0], spec["tokens_in"][agent, 1], n)
    tokens_out = lognormal(rng, spec["tokens_out"][agent, 0], spec["tokens_out"][agent, 1], n)
    tokens_in, tokens_out = np.clip(tokens_in.round(), 12, 190_000), np.clip(tokens_out.round(), 1, 8192)
    m = {
        f: np.array([getattr(x, f) for x in MODELS]) for f in ("base_ms", "ms_per_token_out", "ms_per_1k_in")
    }
    latency = m["base_ms"][model] + m["ms_per_token_out"][model] * tokens_out
    latency = (latency + m["ms_per_1k_in"][model] * tokens_in / 1000) * lognormal(rng, 1.0, 0.25, n)
    slow = (agent == SLOW_A) & (calls["ts"].to_numpy() >= story.slow_ms)
    latency[slow] *= SLOWDOWN
    tail = rng.random(n) < np.where(slow, 0.08, 0.03)
    latency[tail] *= 1 + 1.5 * rng.pareto(1.6, tail.sum())
    calls["tokens_in"], calls["tokens_out"] = tokens_in, tokens_out
    calls["latency_ms"] = np.minimum(latency, 120_000).round()
    calls["is_stream"] = rng.random(n) < np.array([a.stream_share for a in FLEET])[agent]


_ERRORS = (
    ("429 rate_limit_error: request rate exceeded your per-minute limit", 0.5, (150, 400)),
    ("Request timed out after 60s", 0.3, (60_000, 61_000)),
    ("400 invalid_request_error: prompt is too long", 0.1, (200, 600)),
    ("500 api_error: internal server error", 0.1, (800, 3000)),
)
_OVERLOADED = "529 overloaded_error: Overloaded"


def _draw_errors(story: Story, rng: np.random.Generator, calls: pd.DataFrame) -> None:
    """About 2% of calls fail; during the outage, almost half the Anthropic calls do."""
    n, ts = len(calls), calls["ts"].to_numpy()
    anthropic = np.array([m.vendor == "anthropic" for m in MODELS])[calls["model"].to_numpy()]
    in_outage = anthropic & (ts >= story.outage_ms[0]) & (ts < story.outage_ms[1])
    failed = rng.random(n) < np.where(in_outage, 0.45, 0.02)
    kind = rng.choice(len(_ERRORS), size=n, p=[e[1] for e in _ERRORS])
    message = np.array([e[0] for e in _ERRORS], dtype=object)[kind]
    low, high = (np.array([e[2][i] for e in _ERRORS])[kind] for i in (0, 1))
    latency = rng.uniform(low, high)
    message[in_outage] = _OVERLOADED
    latency[in_outage] = rng.uniform(300, 2500, in_outage.sum())
    calls["error"] = np.where(failed, message, None)
    calls.loc[failed, "latency_ms"] = latency[failed].round()
    calls.loc[failed, "tokens_out"] = 0.0
    calls.loc[failed, "is_stream"] = False


def _draw_costs(rng: np.random.Generator, calls: pd.DataFrame) -> None:
    """Recorded cost at list price; missing on ~15% of calls, and unknown for the self-hosted model.

    Failed calls are not billed (cost 0). A few calls lost their usage (tokens and cost NULL).
    """
    n, model = len(calls), calls["model"].to_numpy()
    usd_in = np.array([np.nan if m.usd_in is None else m.usd_in for m in MODELS])[model]
    usd_out = np.array([np.nan if m.usd_out is None else m.usd_out for m in MODELS])[model]
    cost = (calls["tokens_in"] * usd_in + calls["tokens_out"] * usd_out).to_numpy() / 1e6
    failed = calls["error"].notna().to_numpy()
    cost = np.where(failed & ~np.isnan(usd_in), 0.0, cost.round(8))
    cost[(rng.random(n) < 0.10) & ~failed] = np.nan
    lost = (rng.random(n) < 0.012) & ~failed
    cost[lost] = np.nan
    calls.loc[lost, ["tokens_in", "tokens_out"]] = np.nan
    calls["cost"] = cost


def _draw_text(rng: np.random.Generator, calls: pd.DataFrame) -> None:
    prompts = np.empty(len(calls), dtype=object)
    responses = np.empty(len(calls), dtype=object)
    agent = calls["agent"].to_numpy()
    for a, spec in enumerate(FLEET):
        mine = np.flatnonzero(agent == a)
        prompts[mine] = pick(rng, spec.prompts, len(mine))
        responses[mine] = pick(rng, spec.responses, len(mine))
    failed = calls["error"].notna().to_numpy()
    responses[failed] = np.char.add("Error: ", calls["error"].to_numpy()[failed].astype(str)).astype(object)
    calls["prompt"], calls["response"] = prompts, responses


def _close_sessions(
    story: Story, rng: np.random.Generator, sessions: pd.DataFrame, calls: pd.DataFrame
) -> pd.DataFrame:
    """End each session a little after its last call; some never end, some are still open."""
    last = (calls["ts"] + calls["latency_ms"]).groupby(calls["session"]).max()
    seen = calls.groupby("session").size()
    sessions = sessions.copy()
    sessions["recorded_calls"] = seen.reindex(sessions.index, fill_value=0).to_numpy()
    end = last.reindex(sessions.index).to_numpy() + lognormal(rng, 15_000, 0.8, len(sessions))
    open_ = (sessions["recorded_calls"] < sessions["calls"]) | (end >= story.now_ms)
    abandoned = rng.random(len(sessions)) < 0.04
    sessions["end"] = np.where(open_ | abandoned, np.nan, end.round())
    return sessions[sessions["recorded_calls"] > 0].reset_index()  # keep the index: calls refer to it


def hourly_calls(traffic: Traffic) -> pd.DataFrame:
    """Per (agent, hour): calls, median latency, mean recorded cost and error share."""
    calls = traffic.calls
    return (
        calls.assign(hour=calls["ts"] // HOUR_MS, failed=calls["error"].notna())
        .groupby(["agent", "hour"])
        .agg(
            calls=("ts", "size"),
            latency=("latency_ms", "median"),
            cost=("cost", "mean"),
            errors=("failed", "mean"),
        )
    )
