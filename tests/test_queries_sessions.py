"""Sessions: per-session totals and one session's timeline, against plain pandas on tiny rows."""

from __future__ import annotations

import pandas as pd
import pytest

from data_layer import queries
from data_layer.filters import Filters
from tests import tiny
from tests.tiny import at

CALLS = [
    {"call_id": "c1", "ts": at("09:05"), "agent": "a", "session": "s1", "model": "in-house-llm",
     "tokens_in": 100, "tokens_out": 10, "cost_usd": 0.25, "latency_ms": 120.0, "status": "ok"},
    {"call_id": "c2", "ts": at("09:50"), "agent": "a", "session": "s1", "model": "other-llm",
     "tokens_in": None, "tokens_out": 20, "cost_usd": None, "status": "error", "error": "timeout"},
    {"call_id": "c3", "ts": at("10:00"), "agent": "b", "session": "s2", "model": "in-house-llm",
     "tokens_in": None, "tokens_out": None, "cost_usd": None, "status": "ok"},
    {"call_id": "c4", "ts": at("10:30"), "agent": "b", "session": "s2", "model": "other-llm",
     "tokens_in": 40, "tokens_out": 4, "cost_usd": 1.0, "status": "ok"},
    {"call_id": "c5", "ts": at("11:00"), "agent": "c", "session": None, "model": "other-llm",
     "tokens_in": 1, "tokens_out": 1, "cost_usd": 9.0, "status": "ok"},
    {"call_id": "c6", "ts": at("12:15"), "agent": "a", "session": "s4", "model": "in-house-llm",
     "tokens_in": 3, "tokens_out": None, "cost_usd": 0.5, "status": "error"},
]  # fmt: skip
TOOLS = [
    {"call_id": "t1", "ts": at("09:10"), "agent": "a", "session": "s1", "tool": "search", "success": True,
     "latency_ms": 30.0},
    {"call_id": "t2", "ts": at("09:20"), "agent": "a", "session": "s1", "tool": "search", "success": False,
     "error": "404"},
    {"call_id": "t3", "ts": at("10:40"), "agent": "b", "session": "s2", "tool": "fetch", "success": None},
    {"call_id": "t4", "ts": at("11:30"), "agent": "d", "session": "s3", "tool": "fetch", "success": False},
]  # fmt: skip
ALERTS = [
    {"alert_id": "x1", "ts": at("09:06"), "agent": "a", "session": "s1", "event_id": "c1", "type": "pii",
     "severity": "high", "description": "an e-mail address"},
    {"alert_id": "x2", "ts": at("11:45"), "agent": "d", "session": "s3", "event_id": "e9", "type": "prompt",
     "severity": "low", "description": "odd"},
]  # fmt: skip
SESSIONS = [
    {"session": "s1", "agent": "a", "started_at": at("09:00"), "ended_at": at("09:59")},
    {"session": "s2", "agent": "b", "started_at": None, "ended_at": None},
    {"session": "s5", "agent": "e", "started_at": at("08:00"), "ended_at": at("08:30")},  # no activity
]
FLAGGED = [
    {"event_id": "f1", "ts": at("09:07"), "agent": "a", "session": "s1", "level": "suspicious",
     "reason": "keyword", "source_field": "prompt"},
]  # fmt: skip
EVENTS = [
    {"event_id": "e1", "ts": at("09:00"), "agent": "a", "session": "s1", "type": "session.start",
     "channel": "chat", "level": "info"},
    {"event_id": "c1", "ts": at("09:05"), "agent": "a", "session": "s1", "type": "llm.call",
     "channel": "llm", "level": "info"},  # the same event as LLM call c1: shown once
    {"event_id": "t2", "ts": at("09:20"), "agent": "a", "session": "s1", "type": "tool.call",
     "channel": "tool", "level": "error"},  # the same as tool call t2
    {"event_id": None, "ts": at("09:58"), "agent": "a", "session": "s1", "type": "session.end",
     "channel": "chat", "level": "info"},
    {"event_id": "e5", "ts": at("10:00"), "agent": "b", "session": "s2", "type": "message",
     "channel": "chat", "level": "info"},
]  # fmt: skip
FIELDS = {"agents": "agent", "sessions": "session"}


@pytest.fixture(scope="module", params=tiny.BACKENDS[1:])
def sessions_store(request):
    return tiny.backend(
        request,
        llm_calls=CALLS,
        tool_calls=TOOLS,
        alerts=ALERTS,
        sessions=SESSIONS,
        flagged_events=FLAGGED,
        events=EVENTS,
    )


def _sum(values: pd.Series):
    values = values.dropna()
    return values.sum() if len(values) else pd.NA


def _oracle(f: Filters) -> pd.DataFrame:
    """session_summaries recomputed in pandas: activity rows of the three tables, then the
    sessions table's own start and end where it has them."""
    calls = tiny.selected(tiny.frame(CALLS), f, fields={**FIELDS, "models": "model"})
    tools = tiny.selected(tiny.frame(TOOLS), f, fields={**FIELDS, "tools": "tool"})
    alerts = tiny.selected(tiny.frame(ALERTS), f, fields={**FIELDS, "severities": "severity"})
    calls = calls.assign(llm=1, err=(calls["status"] == "error").astype(int), tool=0, fail=0, alert=0)
    tools = tools.assign(llm=0, err=0, tool=1, fail=(tools["success"] == False).astype(int), alert=0)  # noqa: E712
    alerts = alerts.assign(llm=0, err=0, tool=0, fail=0, alert=1)
    activity = pd.concat([calls, tools, alerts], ignore_index=True)
    activity = activity[activity["session"].notna()]
    known = tiny.frame(SESSIONS).set_index("session")
    rows = []
    for session, g in activity.groupby("session"):
        priced = g[g["llm"] == 1]
        start = known["started_at"].get(session)
        start = g["ts"].min() if start is None or pd.isna(start) else start
        end = known["ended_at"].get(session)
        ended = None if end is None or pd.isna(end) else end
        tin, tout = _sum(priced["tokens_in"]), _sum(priced["tokens_out"])
        rows.append(
            {
                "session": session,
                "agent": g["agent"].min(),
                "started_at": pd.Timestamp(start),
                "ended_at": ended,
                "duration_s": ((ended or g["ts"].max()) - start).total_seconds(),
                "llm_calls": int(g["llm"].sum()),
                "tokens_in": tin,
                "tokens_out": tout,
                "tokens": pd.NA
                if pd.isna(tin) and pd.isna(tout)
                else (0 if pd.isna(tin) else tin) + (0 if pd.isna(tout) else tout),
                "cost_usd": _sum(priced["cost_usd"]),
                "calls_cost_unknown": int(priced["cost_usd"].isna().sum()),
                "tool_calls": int(g["tool"].sum()),
                "errors": int(g["err"].sum() + g["fail"].sum()),
                "alerts": int(g["alert"].sum()),
            }
        )
    return pd.DataFrame(rows)


def _equal(got, want) -> bool:
    if want is None or pd.isna(want):
        return pd.isna(got)
    if isinstance(want, float):
        return got == pytest.approx(want, rel=1e-12)
    return got == want


@pytest.mark.parametrize(
    "f",
    [
        Filters(),
        Filters(start=at("09:15"), end=at("10:35")),
        Filters(agents=("a",)),
        Filters(sessions=("s2", "s3")),
        Filters(models=("other-llm",)),  # narrows LLM calls only: tool calls and alerts stay
        Filters(start=at("13:00")),
    ],
)
def test_session_summaries_match_pandas_per_session(sessions_store, f):
    want = _oracle(f)
    got = queries.session_summaries(sessions_store, f)
    assert sorted(got["session"]) == sorted(want["session"]) if len(want) else got.empty
    got = got.set_index("session")
    for row in want.to_dict("records"):
        mine = got.loc[row["session"]]
        for column, value in row.items():
            if column != "session":
                assert _equal(mine[column], value), (row["session"], column, mine[column], value)


def test_session_summaries_put_the_largest_first_and_missing_last(sessions_store):
    got = queries.session_summaries(sessions_store, Filters(), order_by="cost")
    want = _oracle(Filters())
    want["cost"] = pd.to_numeric(want["cost_usd"])
    want = want.sort_values(["cost", "session"], ascending=[False, True], na_position="last")
    assert got["session"].tolist() == want["session"].tolist()


@pytest.mark.parametrize("search", ["S1", "b", "%", "_"])
def test_session_summaries_search_session_or_agent_text_literally(sessions_store, search):
    got = queries.session_summaries(sessions_store, Filters(), search=search)
    want = _oracle(Filters())
    hit = want["session"].str.contains(search, case=False, regex=False) | want["agent"].str.contains(
        search, case=False, regex=False
    )
    assert sorted(got["session"]) == sorted(want.loc[hit, "session"])


def test_session_summaries_refuse_an_unknown_order(sessions_store):
    with pytest.raises(ValueError, match="order_by"):
        queries.session_summaries(sessions_store, Filters(), order_by="ts; drop table sessions")


def _timeline_oracle(session: str) -> list[tuple]:
    """(ts, kind, name, outcome, id) of every row the session's timeline should hold, in order."""
    rows = []
    calls, tools = tiny.frame(CALLS), tiny.frame(TOOLS)
    for r in calls[calls["session"] == session].itertuples():
        rows.append((r.ts, "llm call", r.model, r.status, r.call_id))
    for r in tools[tools["session"] == session].itertuples():
        outcome = {True: "ok", False: "failed"}.get(r.success)
        rows.append((r.ts, "tool call", r.tool, outcome, r.call_id))
    for r in tiny.frame(ALERTS).query("session == @session").itertuples():
        rows.append((r.ts, "alert", r.type, r.severity, r.event_id))
    for r in tiny.frame(FLAGGED).query("session == @session").itertuples():
        rows.append((r.ts, "flagged event", r.source_field, r.level, r.event_id))
    seen = set(calls.loc[calls["session"] == session, "call_id"]) | set(
        tools.loc[tools["session"] == session, "call_id"]
    )
    for r in tiny.frame(EVENTS).query("session == @session").itertuples():
        if pd.isna(r.event_id) or r.event_id not in seen:
            rows.append((r.ts, "event", r.type, r.level, r.event_id))
    rows = [tuple(None if pd.isna(v) else v for v in row) for row in rows]
    return sorted(rows, key=lambda r: (r[0], r[1]))


@pytest.mark.parametrize("session", ["s1", "s2", "s3", "nope"])
def test_session_timeline_lists_every_row_once_in_time_order(sessions_store, session):
    got = queries.session_timeline(sessions_store, session)
    as_tuples = [
        (r.ts, r.kind, r.name, None if pd.isna(r.outcome) else r.outcome, None if pd.isna(r.id) else r.id)
        for r in got.itertuples()
    ]
    assert as_tuples == [(pd.Timestamp(t), *rest) for t, *rest in _timeline_oracle(session)]


def test_session_timeline_keeps_a_calls_figures_and_leaves_missing_ones_missing(sessions_store):
    got = queries.session_timeline(sessions_store, "s1")
    got = got[got["kind"].isin(["llm call", "tool call"])].set_index("id")
    assert got.loc["c1", "tokens_in"] == 100 and got.loc["c1", "cost_usd"] == 0.25
    assert pd.isna(got.loc["c2", "tokens_in"]) and pd.isna(got.loc["c2", "cost_usd"])
    assert got.loc["c2", "detail"] == "timeout" and got.loc["t2", "detail"] == "404"
    assert got.loc["t1", "latency_ms"] == 30.0 and pd.isna(got.loc["t1", "tokens_in"])
