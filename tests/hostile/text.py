"""Sources whose names and texts are attacker-controlled: HTML, script, SQL and Markdown.

``hostile_cylestio`` is a Cylestio Monitor database whose agent ids and names, models, tools,
tool errors, alert types, descriptions and matched terms are the strings in ``HOSTILE``;
``hostile_export`` is a JSON-lines export whose sessions, agents, models, tools, errors and
prompts are. Both come with the counts a page must show, worked out from the rows written.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.builders.cylestio_db import CylestioData

HOSTILE = [
    "<script>alert(1)</script>",
    "'; drop table agents; --",
    "**bold** [link](http://x)",
    '<a href="http://evil">x</a>',
]


@dataclass(frozen=True)
class HostileSource:
    path: Path
    llm_calls_by_agent: dict[str, int]
    texts: tuple[str, ...]  # every hostile string the source holds somewhere


def hostile_cylestio(path: Path, calls: int = 80) -> HostileSource:
    d = CylestioData.generate(seed=21, calls=calls)
    n = len(HOSTILE)
    d.agents = [(HOSTILE[i], HOSTILE[(i + 1) % n]) for i in range(n)]
    d.sessions = [(i % n + 1, start, end) for i, (_agent, start, end) in enumerate(d.sessions)]
    d.events = [(d.sessions[s - 1][0], s, *rest) for (_agent, s, *rest) in d.events]
    d.llm_calls = [(e, HOSTILE[i % n], *rest) for i, (e, _model, *rest) in enumerate(d.llm_calls)]
    d.tool_calls = [
        (e, HOSTILE[i % n], ok, ms, None if ok else HOSTILE[(i + 1) % n])
        for i, (e, _tool, ok, ms, _error) in enumerate(d.tool_calls)
    ]
    d.alerts = [
        (e, HOSTILE[i % n], severity, HOSTILE[(i + 1) % n], [HOSTILE[(i + 2) % n]], ts)
        for i, (e, _type, severity, _description, _terms, ts) in enumerate(d.alerts)
    ]
    d.write_sqlite(path)
    by_agent = Counter(HOSTILE[d.events[e - 1][0] - 1] for e, *_ in d.llm_calls)
    return HostileSource(path, dict(by_agent), tuple(HOSTILE))


def hostile_export(path: Path) -> HostileSource:
    """LLM and tool calls over two hours; each hostile string is a session, agent, model, tool."""
    start = datetime(2025, 4, 1, 9, tzinfo=UTC)
    rows, by_agent = [], Counter()
    for i in range(40):
        agent = HOSTILE[i % 4]
        row = {
            "timestamp": (start + timedelta(minutes=3 * i)).isoformat(),
            "agent": agent,
            "session_id": HOSTILE[(i // 2) % 4],
            "call_id": f"call-{i}",
        }
        if i % 5:
            row |= {
                "model": HOSTILE[(i + 1) % 4],
                "input_tokens": 100 + i,
                "output_tokens": 10 + i,
                "latency_ms": 200 + 10 * i,
                "prompt": f"{HOSTILE[(i + 2) % 4]} please",
                "response": HOSTILE[(i + 3) % 4],
            }
            by_agent[agent] += 1
        else:
            row |= {"tool_name": HOSTILE[i % 4], "status": "error", "error": HOSTILE[(i + 1) % 4]}
        rows.append(row)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return HostileSource(path, dict(by_agent), tuple(HOSTILE))
