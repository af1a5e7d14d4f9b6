"""Security queries: alerts, flagged events, matched terms and alerts per 1,000 calls, against pandas."""

from __future__ import annotations

import json
from collections import Counter

import pandas as pd
import pytest

from data_layer import queries
from data_layer.filters import Filters
from tests import tiny
from tests.tiny import at

CALLS = [
    {"call_id": f"c{i}", "ts": ts, "agent": agent, "session": session, "model": model}
    for i, (ts, agent, session, model) in enumerate(
        [
            (at("09:05"), "a", "s1", "m1"),
            (at("09:40"), "a", "s1", "m2"),
            (at("10:00"), "a", "s2", "m1"),
            (at("10:59:59"), "b", "s2", "m1"),
            (at("11:00"), "b", "s3", "m2"),
            (at("11:15"), "b", "s3", "m2"),
            (at("12:30"), "a", "s1", "m1"),
            (at("13:00", day=1), "a", "s4", "m1"),
        ]
    )
]
ALERTS = [
    {"alert_id": "x1", "ts": at("09:06"), "agent": "a", "session": "s1", "severity": "high", "status": "open",
     "type": "pii", "matched_terms": '["email", "phone"]'},
    {"alert_id": "x2", "ts": at("10:30"), "agent": "a", "session": "s2", "severity": "low",
     "status": "resolved", "type": "pii", "matched_terms": '["email"]'},
    {"alert_id": "x3", "ts": at("11:20"), "agent": "c", "session": "s9", "severity": "critical",
     "status": "open", "type": "injection", "matched_terms": '["ignore previous", "email", "email"]'},
    {"alert_id": "x4", "ts": at("12:00"), "agent": None, "session": None, "severity": "high",
     "status": "open", "type": "system", "matched_terms": None},
    {"alert_id": "x5", "ts": at("12:40"), "agent": "b", "session": "s3", "severity": "medium",
     "status": "acknowledged", "type": "pii", "matched_terms": "[]"},
]  # fmt: skip
FLAGGED = [
    {"event_id": "f1", "ts": at("09:07"), "agent": "a", "session": "s1", "level": "suspicious",
     "matched_terms": '["phone"]'},
    {"event_id": "f2", "ts": at("11:50"), "agent": "b", "session": "s3", "level": "dangerous",
     "matched_terms": '["rm -rf", "phone"]'},
]  # fmt: skip
FIELDS = {"agents": "agent", "sessions": "session"}
FILTERS = [
    Filters(),
    Filters(start=at("09:30"), end=at("11:10")),  # both edges mid-hour
    Filters(start=at("10:00"), end=at("12:00")),  # whole hours
    Filters(agents=("a", "c")),
    Filters(models=("m2",)),  # narrows calls, not alerts
    Filters(severities=("high", "critical")),  # narrows alerts, not calls
    Filters(sessions=("s1", "s3"), start=at("09:06")),
    Filters(start=at("14:00")),
]


@pytest.fixture(scope="module", params=tiny.BACKENDS)
def security_store(request):
    return tiny.backend(request, llm_calls=CALLS, alerts=ALERTS, flagged_events=FLAGGED)


def _alerts(f: Filters) -> pd.DataFrame:
    return tiny.selected(tiny.frame(ALERTS), f, fields={**FIELDS, "severities": "severity"})


@pytest.mark.parametrize("f", FILTERS)
def test_alerts_per_thousand_calls_matches_pandas_per_agent(security_store, f):
    alerts = _alerts(f).groupby("agent").size()
    calls = tiny.selected(tiny.frame(CALLS), f, fields={**FIELDS, "models": "model"}).groupby("agent").size()
    agents = sorted(set(alerts.index) | set(calls.index))  # an alert without an agent has no row
    got = queries.alerts_per_thousand_calls(security_store, f)
    assert got["agent"].tolist() == agents
    for row in got.itertuples():
        n_alerts, n_calls = int(alerts.get(row.agent, 0)), int(calls.get(row.agent, 0))
        assert (row.alerts, row.llm_calls) == (n_alerts, n_calls)
        if n_calls:
            assert row.alerts_per_1k_calls == pytest.approx(1000 * n_alerts / n_calls, rel=1e-12)
        else:  # alerts but no calls: a rate of nothing is unknown, not infinite
            assert pd.isna(row.alerts_per_1k_calls)


@pytest.mark.parametrize("f", FILTERS)
def test_matched_terms_counts_every_term_of_alerts_and_flagged_events(security_store, f):
    counts: dict[str, Counter] = {"alerts": Counter(), "flagged_events": Counter()}
    flagged = tiny.selected(tiny.frame(FLAGGED), f, fields=FIELDS)
    for key, rows in (("alerts", _alerts(f)), ("flagged_events", flagged)):
        for terms in rows["matched_terms"].dropna():
            counts[key].update(json.loads(terms))
    terms = set(counts["alerts"]) | set(counts["flagged_events"])
    want = sorted(
        ((t, counts["alerts"][t], counts["flagged_events"][t]) for t in terms),
        key=lambda r: (-(r[1] + r[2]), r[0]),
    )
    got = queries.matched_terms(security_store, f)
    assert list(got.itertuples(index=False, name=None)) == want


def test_matched_terms_keeps_only_the_most_frequent_up_to_the_limit(security_store):
    got = queries.matched_terms(security_store, Filters(), limit=2)
    assert got["term"].tolist() == ["email", "phone"]  # 4 and 3 mentions; the rest fewer


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize("by", ["severity", "type", "status", "agent"])
def test_alert_counts_match_pandas_grouping(security_store, f, by):
    want = _alerts(f).groupby(by, dropna=False).size()
    got = queries.alert_counts(security_store, f, by=by)
    got_pairs = {(None if pd.isna(k) else k): v for k, v in zip(got[by], got["alerts"], strict=True)}
    assert got_pairs == {(None if pd.isna(k) else k): v for k, v in want.items()}


@pytest.mark.parametrize("f", FILTERS)
def test_alert_list_holds_the_filtered_alerts_newest_first(security_store, f):
    want = _alerts(f).sort_values(["ts", "alert_id"], ascending=[False, True])
    got = queries.alert_list(security_store, f)
    assert got["alert_id"].tolist() == want["alert_id"].tolist()


def test_alert_list_keeps_only_the_newest_up_to_the_limit(security_store):
    assert queries.alert_list(security_store, Filters(), limit=2)["alert_id"].tolist() == ["x5", "x4"]


@pytest.mark.parametrize(("event_id", "found"), [("c3", ["c3"]), ("nope", []), ("c3' or '1'='1", [])])
def test_event_detail_finds_the_one_call_behind_an_event(security_store, event_id, found):
    assert queries.event_detail(security_store, event_id)["call_id"].tolist() == found


@pytest.mark.parametrize("f", FILTERS)
def test_open_alerts_by_severity_leave_acknowledged_and_resolved_out(security_store, f):
    alerts = _alerts(f)
    want = alerts[alerts["status"] == "open"].groupby("severity").size().to_dict()
    got = queries.open_alerts_by_severity(security_store, f)
    assert dict(zip(got["severity"], got["alerts"], strict=True)) == want


@pytest.mark.parametrize("f", FILTERS)
def test_flagged_event_counts_match_pandas_by_level(security_store, f):
    want = tiny.selected(tiny.frame(FLAGGED), f, fields=FIELDS).groupby("level").size().to_dict()
    got = queries.flagged_event_counts(security_store, f, by="level")
    assert dict(zip(got["level"], got["events"], strict=True)) == want
