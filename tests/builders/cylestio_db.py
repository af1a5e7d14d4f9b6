"""A Cylestio Monitor database for tests, written by Cylestio's writer (seed 000's own SQL), and its figures.

``CylestioData.generate`` makes rows the way Cylestio writes them (an ``events`` row per detail
row, mixed-case enum values, NULL costs and tokens, unknown models, failed tool calls, both
security tables). ``expected_summary`` computes every summary figure from those Python rows,
independently of the data layer: sums in Python, percentiles with numpy, estimates with
genai-prices' own ``calc_price`` call by call.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from genai_prices import Usage, calc_price

from data_layer.writers import Rows, cylestio
from data_layer.writers.cylestio import postgres_ddl as postgres_ddl  # the tests' import

KNOWN_MODELS = ["gpt-4o", "claude-3-5-sonnet-20241022", "gpt-4o-mini"]
UNKNOWN_MODEL = "acme-internal-llm"
START = datetime(2025, 3, 3, 8, 0, 0)  # naive, as Cylestio writes them: UTC


@dataclass
class CylestioData:
    agents: list[tuple] = field(default_factory=list)  # (agent_id, name)
    sessions: list[tuple] = field(default_factory=list)  # (agent_row, start, end)
    events: list[tuple] = field(default_factory=list)  # (agent_row, session_row, type, channel, level, ts)
    llm_calls: list[tuple] = field(
        default_factory=list
    )  # (event_row, model, tokens_in, tokens_out, ms, cost)
    tool_calls: list[tuple] = field(default_factory=list)  # (event_row, tool, success, ms, error)
    alerts: list[tuple] = field(default_factory=list)  # (event_row, type, severity, description, terms, ts)
    flags: list[tuple] = field(default_factory=list)  # (event_row, alert_level, terms, reason)
    perf: list[tuple] = field(default_factory=list)  # (event_row, metric_type, value, unit)

    @classmethod
    def generate(cls, seed: int = 1, calls: int = 240) -> CylestioData:
        rnd = random.Random(seed)
        d = cls()
        d.agents = [("support-bot", "Support Bot"), ("research-agent", None), ("coder", "Coder")]
        for i in range(12):
            start = START + timedelta(hours=7 * i, minutes=rnd.randint(0, 59))
            end = None if i % 5 == 4 else start + timedelta(minutes=rnd.randint(5, 90))
            d.sessions.append((i % 3 + 1, start, end))

        def event(session: int, etype: str, channel: str, level: str, minutes: float) -> int:
            agent = d.sessions[session - 1][0]
            ts = d.sessions[session - 1][1] + timedelta(minutes=minutes)
            d.events.append((agent, session, etype, channel, level, ts))
            return len(d.events)

        for i in range(calls):
            session = i % 12 + 1
            level = "ERROR" if i % 17 == 0 else rnd.choice(["INFO", "info"])
            e = event(session, "LLM_RESPONSE", "LLM", level, rnd.uniform(0, 300))
            model = UNKNOWN_MODEL if i % 11 == 0 else KNOWN_MODELS[i % 3]
            tokens_in = None if i % 23 == 0 else rnd.randint(10, 5000)
            tokens_out = None if i % 23 == 0 else rnd.randint(1, 1500)
            cost = None if i % 4 == 0 else round(rnd.uniform(0.0001, 0.2), 6)
            ms = None if i % 13 == 0 else rnd.randint(120, 9000)
            d.llm_calls.append((e, model, tokens_in, tokens_out, ms, cost))
            if i % 3 == 0:
                t = event(session, "TOOL_CALL", "TOOL", "INFO", rnd.uniform(0, 300))
                ok = i % 9 != 0
                d.tool_calls.append(
                    (
                        t,
                        rnd.choice(["search", "shell", "fetch"]),
                        ok,
                        rnd.randint(5, 800),
                        None if ok else "timeout",
                    )
                )
            if i % 10 == 0:
                s = event(session, "SECURITY_ALERT", "SECURITY", "WARNING", rnd.uniform(0, 300))
                sev = ["LOW", "medium", "High", "CRITICAL"][len(d.alerts) % 4]
                terms = ["ignore previous"] if i % 20 == 0 else ["rm -rf", "sudo"]
                ts = d.events[s - 1][5]
                d.alerts.append(
                    (s, "prompt_injection" if i % 20 == 0 else "dangerous_command", sev, "alert", terms, ts)
                )
                d.flags.append(
                    (s, ["none", "suspicious", "dangerous", "SUSPICIOUS"][len(d.flags) % 4], terms, "matched")
                )
            if i % 6 == 0:
                p = event(session, "PERFORMANCE_METRIC", "PERFORMANCE", "INFO", rnd.uniform(0, 300))
                d.perf.append(
                    (
                        p,
                        "memory_usage" if i % 12 == 0 else "cpu_percent",
                        rnd.uniform(1, 100),
                        "MB" if i % 12 == 0 else "%",
                    )
                )
        for _ in range(7):  # events with no detail row still count as events
            event(rnd.randint(1, 12), "SESSION_START", "SYSTEM", "INFO", 0)
        return d

    # -- writing ------------------------------------------------------------------------------

    def tables(self) -> dict[str, Rows]:
        """Each table's rows, in the order Cylestio writes them (ids follow that order)."""
        return {
            "agents": Rows(("agent_id", "name"), self.agents),
            "sessions": Rows(("agent_id", "start_time", "end_time"), self.sessions),
            "events": Rows(
                ("agent_id", "session_id", "event_type", "channel", "level", "timestamp"), self.events
            ),
            "llm_calls": Rows(
                ("event_id", "model", "prompt", "response", "tokens_in", "tokens_out", "duration_ms", "cost"),
                [(e, m, "prompt", "response", ti, to, ms, c) for e, m, ti, to, ms, c in self.llm_calls],
            ),
            "tool_calls": Rows(
                ("event_id", "tool_name", "success", "duration_ms", "error_message"), self.tool_calls
            ),
            "security_alerts": Rows(
                ("event_id", "alert_type", "severity", "description", "matched_terms", "timestamp"),
                [(e, t, s, d, json.dumps(m), ts) for e, t, s, d, m, ts in self.alerts],
            ),
            "event_security": Rows(
                ("event_id", "alert_level", "matched_terms", "reason"),
                [(e, lvl, json.dumps(m), r) for e, lvl, m, r in self.flags],
            ),
            "performance_metrics": Rows(("event_id", "metric_type", "value", "unit"), self.perf),
        }

    def write_sqlite(self, path: Path) -> Path:
        return cylestio.WRITER.write_sqlite(path, self.tables())

    def write_postgres(self, url: str) -> str:
        return cylestio.WRITER.write_postgres(url, self.tables())

    # -- what the summary must say ------------------------------------------------------------

    def expected_summary(self) -> dict:
        calls = self.llm_calls
        recorded = [c[5] for c in calls if c[5] is not None]
        estimated = 0.0
        for e, model, tin, tout, _ms, cost in calls:
            if cost is None and model in KNOWN_MODELS and tin is not None and tout is not None:
                when = self.events[e - 1][5].replace(hour=12, minute=0, second=0, tzinfo=UTC)
                price = calc_price(
                    Usage(input_tokens=tin, output_tokens=tout), model, genai_request_timestamp=when
                )
                estimated += float(price.total_price)
        latencies = [c[4] for c in calls if c[4] is not None]
        times = [e[5] for e in self.events] + [s[1] for s in self.sessions]
        times += [s[2] for s in self.sessions if s[2]] + [a[5] for a in self.alerts]
        severities = {s: 0 for s in ("low", "medium", "high", "critical")}
        for a in self.alerts:
            severities[a[2].lower()] += 1
        metrics: dict[str, list[float]] = {}
        for _e, name, value, _unit in self.perf:
            metrics.setdefault(name, []).append(value)
        return {
            "schema": "cylestio",
            "agents": len(self.agents),
            "events": len(self.events),
            "time_range": {"start": _iso(min(times)), "end": _iso(max(times))},
            "llm": {
                "calls": len(calls),
                "failures": sum(
                    1 for c in calls if self.events[c[0] - 1][4].lower() in ("error", "critical")
                ),
                "tokens_in": sum(c[2] for c in calls if c[2] is not None),
                "tokens_out": sum(c[3] for c in calls if c[3] is not None),
                "cost_usd": sum(recorded),
                "calls_without_cost": len(calls) - len(recorded),
                "cost_usd_estimated": estimated,
                "latency_ms": _percentiles(latencies),
            },
            "tools": {"calls": len(self.tool_calls), "failures": sum(1 for t in self.tool_calls if not t[2])},
            "tasks": None,
            "alerts": {"total": len(self.alerts), "by_severity": severities},
            "flagged_events": sum(1 for f in self.flags if f[1].lower() in ("suspicious", "dangerous")),
            "metrics": {
                name: {"points": len(v), "mean": float(np.mean(v)), **_percentiles(v)}
                for name, v in metrics.items()
            },
        }


def _percentiles(values: list[float]) -> dict:
    return {f"p{q}": float(np.percentile(values, q)) for q in (50, 95, 99)}


def _iso(t: datetime) -> str:
    return t.replace(tzinfo=UTC).isoformat()
