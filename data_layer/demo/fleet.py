"""The demo's fleet of five agents, the models and tools they use, and the story planted in time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from data_layer.demo.draw import DAY_MS, HOUR_MS, weekday


@dataclass(frozen=True)
class Model:
    """An LLM the fleet calls. Prices are list prices per million tokens; None: nobody bills it."""

    name: str
    vendor: str
    usd_in: float | None
    usd_out: float | None
    base_ms: float  # time to first token plus overhead
    ms_per_token_out: float
    ms_per_1k_in: float


SELF_HOSTED = "acme-llama-3.1-70b"  # genai-prices does not know it, so its cost stays unknown
MODELS = (
    Model("claude-3-5-sonnet-20241022", "anthropic", 3.0, 15.0, 900, 14, 60),
    Model("claude-3-5-haiku-20241022", "anthropic", 0.8, 4.0, 500, 8, 30),
    Model("gpt-4o", "openai", 2.5, 10.0, 700, 12, 50),
    Model("gpt-4o-mini", "openai", 0.15, 0.6, 400, 7, 20),
    Model(SELF_HOSTED, "self-hosted", None, None, 300, 25, 80),
)
MODEL_INDEX = {m.name: i for i, m in enumerate(MODELS)}


@dataclass(frozen=True)
class Tool:
    """A tool the agents call, with how long it takes, how often it fails and what it says then."""

    name: str
    median_ms: float
    failure_rate: float
    errors: tuple[str, ...]
    params: str  # input_params JSON of an ordinary call


TOOLS = (
    Tool(
        "search",
        180,
        0.02,
        ("timeout after 5s", "index unavailable"),
        '{"query": "refund policy", "top_k": 5}',
    ),
    Tool("lookup_order", 250, 0.04, ("404: order not found",), '{"order_id": "A-10482"}'),
    Tool("send_email", 600, 0.01, ("SMTP 451: try again later",), '{"template": "refund_confirmation"}'),
    Tool(
        "web_fetch",
        1500,
        0.09,
        ("403 Forbidden", "timeout after 30s", "TLS handshake failed"),
        '{"url": "https://example.com/papers/agent-evals.pdf"}',
    ),
    Tool("git_diff", 120, 0.01, ("fatal: bad revision 'HEAD~1'",), '{"base": "main", "head": "HEAD"}'),
    Tool(
        "run_tests",
        45_000,
        0.12,
        ("exit code 1: 3 tests failed", "timeout after 600s"),
        '{"cmd": "pytest -q"}',
    ),
    Tool(
        "shell",
        800,
        0.06,
        ("exit code 127: command not found", "exit code 1: permission denied"),
        '{"command": "ls -la build/"}',
    ),
    Tool(
        "sql_query",
        1200,
        0.04,
        ('syntax error at or near "FROM"', "canceling statement due to statement timeout"),
        '{"query": "SELECT count(*) FROM orders WHERE day = current_date"}',
    ),
)
TOOL_INDEX = {t.name: i for i, t in enumerate(TOOLS)}


@dataclass(frozen=True)
class Agent:
    """One agent of the demo fleet and how it behaves. Every system sees the same five."""

    name: str
    title: str
    role: str
    rhythm: str  # "office": weekday business hours (UTC); "batch": nightly runs, every day
    calls_per_day: float  # LLM calls on a busy weekday
    calls_per_session: float
    gap_s: float  # median seconds between two calls of a session
    models: tuple[tuple[str, float], ...]  # model and its share of the agent's calls
    tokens_in: tuple[float, float]  # log-normal median and sigma
    tokens_out: tuple[float, float]
    stream_share: float
    temperature: float
    tools: tuple[str, ...]
    tools_per_call: float
    memory_mb: float  # resident memory at rest
    prompts: tuple[str, ...]
    responses: tuple[str, ...]


FLEET = (
    Agent(
        name="support-bot", title="Support Bot", role="customer-support", rhythm="office",
        calls_per_day=280, calls_per_session=6, gap_s=40,
        models=(("claude-3-5-haiku-20241022", 0.75), ("gpt-4o-mini", 0.25)),
        tokens_in=(1800, 0.5), tokens_out=(260, 0.6), stream_share=0.85, temperature=0.3,
        tools=("search", "lookup_order", "send_email"), tools_per_call=0.35, memory_mb=620,
        prompts=(
            "Where is my order A-10482? It was due Monday.",
            "How do I get a refund on my annual plan?",
            "I cannot log in since resetting my password.",
        ),
        responses=(
            "Order A-10482 shipped yesterday; expect it in 2 days.",
            "Refund started: annual plans refund within 30 days.",
            "Use the sign-in link we just emailed you.",
        ),
    ),
    Agent(
        name="research-agent", title="Research Agent", role="research", rhythm="office",
        calls_per_day=100, calls_per_session=12, gap_s=60,
        models=(("claude-3-5-sonnet-20241022", 0.7), ("gpt-4o", 0.3)),
        tokens_in=(9000, 0.8), tokens_out=(900, 0.6), stream_share=0.2, temperature=0.7,
        tools=("search", "web_fetch"), tools_per_call=0.7, memory_mb=1400,
        prompts=(
            "Summarise these papers on agent evaluation.",
            "Compare pricing of three vector databases.",
            "Find recent work on tool-use failures; cite it.",
        ),
        responses=(
            "Three benchmarks recur: success, cost, tool accuracy.",
            "Table of per-GB prices, free tiers and egress costs.",
        ),
    ),
    Agent(
        name="code-reviewer", title="Code Reviewer", role="code-review", rhythm="office",
        calls_per_day=110, calls_per_session=8, gap_s=30,
        models=(("claude-3-5-haiku-20241022", 0.9), ("gpt-4o-mini", 0.1)),
        tokens_in=(6000, 0.7), tokens_out=(600, 0.7), stream_share=0.1, temperature=0.0,
        tools=("git_diff", "run_tests", "shell"), tools_per_call=0.6, memory_mb=900,
        prompts=(
            "Review this diff: retry logic in the HTTP client.",
            "Is this migration safe on a 40M-row table?",
            "Why does test_checkout_total fail now?",
        ),
        responses=(
            "The retry loop never backs off; add jitter, cap at 5.",
            "The default rewrites the table; split the migration.",
        ),
    ),
    Agent(
        name="data-pipeline", title="Data Pipeline", role="batch-etl", rhythm="batch",
        calls_per_day=60, calls_per_session=30, gap_s=5,
        models=((SELF_HOSTED, 0.6), ("gpt-4o-mini", 0.4)),
        tokens_in=(2500, 0.5), tokens_out=(400, 0.5), stream_share=0.0, temperature=0.0,
        tools=("sql_query", "shell"), tools_per_call=0.7, memory_mb=2100,
        prompts=(
            "Extract company, amount and due date as JSON.",
            "Classify these reviews by sentiment and topic.",
        ),
        responses=(
            '{"company": "Initech", "amount": 1290.5}',
            '[{"id": 1, "sentiment": "negative"}]',
        ),
    ),
    Agent(
        name="triage-agent", title="Triage Agent", role="ticket-triage", rhythm="office",
        calls_per_day=220, calls_per_session=3, gap_s=8,
        models=(("gpt-4o-mini", 1.0),),
        tokens_in=(700, 0.4), tokens_out=(60, 0.5), stream_share=0.0, temperature=0.1,
        tools=("search",), tools_per_call=0.2, memory_mb=380,
        prompts=(
            "Route: 'App crashes exporting to PDF.'",
            "Route: 'I was charged twice.'",
            "Route: 'How do I add a teammate?'",
        ),
        responses=('{"queue": "bugs"}', '{"queue": "billing"}'),
    ),
)  # fmt: skip
AGENT_NAMES = tuple(a.name for a in FLEET)
SWITCH_AGENT, SWITCH_FROM, SWITCH_TO = (
    "code-reviewer",
    "claude-3-5-haiku-20241022",
    "claude-3-5-sonnet-20241022",
)
SLOW_AGENT, SLOWDOWN = "triage-agent", 2.5
SWITCH_A, SLOW_A = AGENT_NAMES.index(SWITCH_AGENT), AGENT_NAMES.index(SLOW_AGENT)


def agent_index(name: str) -> int:
    """An agent's index in FLEET, which the arrays below use instead of its name."""
    return AGENT_NAMES.index(name)


@dataclass(frozen=True)
class Story:
    """The period and the moments planted in it, as epoch milliseconds (UTC)."""

    start_ms: int
    now_ms: int
    outage_ms: tuple[int, int]  # the Anthropic API is overloaded: an error burst
    switch_ms: int  # code-reviewer moves to a pricier model
    slow_ms: int  # triage-agent's latency regression starts

    @classmethod
    def anchored(cls, now: datetime, days: int) -> Story:
        now_ms = int(now.timestamp() * 1000)
        start_ms = now_ms - days * DAY_MS
        outage = _weekday_at(now_ms, start_ms, 12, 13)
        return cls(
            start_ms=start_ms,
            now_ms=now_ms,
            outage_ms=(outage, outage + 4 * HOUR_MS),
            switch_ms=_weekday_at(now_ms, start_ms, 6, 10),
            slow_ms=_weekday_at(now_ms, start_ms, 4, 9),
        )

    @property
    def days(self) -> int:
        return (self.now_ms - self.start_ms) // DAY_MS


def _weekday_at(now_ms: int, start_ms: int, days_ago: int, hour: int) -> int:
    """``hour`` o'clock on the weekday ``days_ago`` days back (or earlier), kept inside the period."""
    t = now_ms - now_ms % DAY_MS - days_ago * DAY_MS + hour * HOUR_MS
    while weekday(np.int64(t)) >= 5:
        t -= DAY_MS
    return int(min(max(t, start_ms + HOUR_MS), now_ms - HOUR_MS))


def anchor(now: datetime | None = None) -> datetime:
    """The demo's "now": the given time, or the start of the current hour, in UTC."""
    if now is None:
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
