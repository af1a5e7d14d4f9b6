"""The baseline: each page's aggregations done the way a typical Streamlit app does them.

The frames are loaded once and kept in memory (what ``st.cache_data`` gives such an app); every
rerun filters them with boolean masks and aggregates with pandas ``groupby`` / ``quantile``.
The frames use pandas' own categorical and string dtypes, the best case for pandas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data_layer.filters import Filters
from data_layer.store import Store

Q = [0.5, 0.95, 0.99]


@dataclass
class Frames:
    calls: pd.DataFrame
    tools: pd.DataFrame
    alerts: pd.DataFrame
    flagged: pd.DataFrame
    metrics: pd.DataFrame
    events: pd.DataFrame

    @classmethod
    def load(cls, store: Store) -> Frames:
        def frame(name: str, cols: list[str]) -> pd.DataFrame:
            out = store.execute(f'select {", ".join(cols)} from "{name}"')
            for c in out.columns:
                if out[c].dtype == "string":
                    out[c] = out[c].astype("category")
            return out

        return cls(
            calls=frame(
                "llm_calls",
                [
                    "ts",
                    "agent",
                    "session",
                    "model",
                    "tokens_in",
                    "tokens_out",
                    "cost_usd",
                    "cost_source",
                    "latency_ms",
                    "status",
                ],
            ),
            tools=frame("tool_calls", ["ts", "agent", "session", "tool", "latency_ms", "success"]),
            alerts=frame("alerts", ["ts", "agent", "session", "type", "severity", "status", "matched_terms"]),
            flagged=frame("flagged_events", ["ts", "agent", "level"]),
            metrics=frame("metrics", ["ts", "agent", "name", "value"]),
            events=frame("events", ["ts", "agent", "session", "type"]),
        )


def _mask(df: pd.DataFrame, f: Filters) -> pd.DataFrame:
    keep = np.ones(len(df), dtype=bool)
    if f.start is not None:
        keep &= (df["ts"] >= f.start).to_numpy()
    if f.end is not None:
        keep &= (df["ts"] < f.end).to_numpy()
    if f.agents and "agent" in df:
        keep &= df["agent"].isin(f.agents).to_numpy()
    if f.models and "model" in df:
        keep &= df["model"].isin(f.models).to_numpy()
    return df[keep]


def _usage(calls: pd.DataFrame, by: list) -> pd.DataFrame:
    return calls.groupby(by, observed=True).agg(
        calls=("ts", "size"), tokens_in=("tokens_in", "sum"), tokens_out=("tokens_out", "sum"),
        cost=("cost_usd", "sum"),
    )  # fmt: skip


def overview(fr: Frames, f: Filters) -> None:
    for period in (f, f.previous_period() or f):
        c = _mask(fr.calls, period)
        _usage(c, ["cost_source"])
        c["latency_ms"].quantile(0.95)
        t = _mask(fr.tools, period)
        (t["success"] == False).sum()  # noqa: E712
        a = _mask(fr.alerts, period)
        a[a["status"] == "open"].groupby("severity", observed=True).size()
        for by in ("agent", "model"):
            _usage(c, [by])
    c = _mask(fr.calls, f)
    day = c["ts"].dt.floor("D")
    _usage(c.assign(day=day), ["day", "model"])
    _usage(c.assign(day=day), ["day", "cost_source"])
    c.assign(day=day).groupby("day")["latency_ms"].quantile(Q)
    a = _mask(fr.alerts, f)
    a.assign(day=a["ts"].dt.floor("D")).groupby(["day", "severity"], observed=True).size()


def velocity(fr: Frames, f: Filters) -> None:
    c = _mask(fr.calls, f)  # throughput in days: the page counts hours only up to two weeks
    _usage(c.assign(day=c["ts"].dt.floor("D")), ["day", "agent"])


def cost(fr: Frames, f: Filters) -> None:
    c = _mask(fr.calls, f)
    _usage(c, ["cost_source"])
    _usage(c.assign(day=c["ts"].dt.floor("D")), ["day", "model"])
    _usage(c, ["agent"])
    _sessions(fr, f).nlargest(200, "cost")


def tokens(fr: Frames, f: Filters) -> None:
    c = _mask(fr.calls, f)
    c[["tokens_in", "tokens_out"]].sum()
    _usage(c.assign(day=c["ts"].dt.floor("D")), ["day", "model"])
    by_model = _usage(c, ["model"])
    by_model["tokens_out"] / by_model["tokens_in"]
    np.histogram(np.log10(c["tokens_in"].dropna().clip(lower=1)), bins=40)
    _sessions(fr, f).nlargest(50, "tokens_in")


def latency(fr: Frames, f: Filters) -> None:
    c = _mask(fr.calls, f)
    c["latency_ms"].quantile(Q)
    c.assign(day=c["ts"].dt.floor("D")).groupby("day")["latency_ms"].quantile(Q)
    c.groupby("model", observed=True)["latency_ms"].quantile(Q)
    np.histogram(np.log10(c["latency_ms"].dropna().clip(lower=1)), bins=40)
    t = _mask(fr.tools, f)
    t.groupby("tool", observed=True)["latency_ms"].quantile(Q)
    m = _mask(fr.metrics, f)
    m.assign(hour=m["ts"].dt.floor("h")).groupby(["hour", "name"], observed=True)["value"].agg(
        ["mean", "min", "max"]
    )


def security(fr: Frames, f: Filters) -> None:
    a = _mask(fr.alerts, f)
    a[a["status"] == "open"].groupby("severity", observed=True).size()
    _mask(fr.flagged, f).groupby("level", observed=True).size()
    a.assign(day=a["ts"].dt.floor("D")).groupby(["day", "severity"], observed=True).size()
    a.groupby("type", observed=True).size()
    a["matched_terms"].explode().value_counts().head(25)
    a.groupby("status", observed=True).size()
    c = _mask(fr.calls, f)
    per_agent = c.groupby("agent", observed=True).size()
    a.groupby("agent", observed=True).size().reindex(per_agent.index) * 1000 / per_agent
    a.sort_values("ts", ascending=False).head(500)


def _sessions(fr: Frames, f: Filters) -> pd.DataFrame:
    c = _mask(fr.calls, f)
    t = _mask(fr.tools, f)
    per = c.groupby("session", observed=True).agg(
        agent=("agent", "first"), first=("ts", "min"), last=("ts", "max"), calls=("ts", "size"),
        tokens_in=("tokens_in", "sum"), tokens_out=("tokens_out", "sum"), cost=("cost_usd", "sum"),
        errors=("status", lambda s: (s == "error").sum()),
    )  # fmt: skip
    tools = t.groupby("session", observed=True).agg(tool_calls=("ts", "size"))
    return per.join(tools, how="outer")


def sessions(fr: Frames, f: Filters) -> None:
    _sessions(fr, f).sort_values("first", ascending=False).head(500)


def data(fr: Frames, f: Filters) -> None:
    for df in (fr.calls, fr.tools, fr.alerts, fr.metrics, fr.events):
        len(df)
        df["ts"].min(), df["ts"].max()
    fr.calls["cost_usd"].isna().sum()
    fr.calls[fr.calls["cost_source"] == "unknown"].groupby("model", observed=True).size()


PAGES: dict[str, Callable[[Frames, Filters], None]] = {
    "overview": overview,
    "velocity": velocity,
    "cost": cost,
    "tokens": tokens,
    "latency": latency,
    "security": security,
    "sessions": sessions,
    "data": data,
}
