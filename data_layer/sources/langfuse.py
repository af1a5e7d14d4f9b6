"""Langfuse exports: a trace with its observations, and observation lists.

Three shapes, all JSON: the UI's trace download (``{"trace": {..., "observations": [...]},
"observations": [...]}``, every observation held twice), the public API's trace
(``GET /api/public/traces/{id}``: the trace's fields with ``observations``), and its observation
list (``GET /api/public/observations``: ``{"data": [...], "meta": {...}}``), or a bare list of
observations. Langfuse's API definition (``fern/apis/server/definition``) fixes what they mean:

* a ``GENERATION`` is an LLM call and a ``TOOL`` a tool call; ``SPAN``, ``AGENT``, ``EVENT``,
  ``CHAIN`` and the rest are steps around them. A GENERATION with another GENERATION below it is
  a framework's wrapper (the Vercel AI SDK's ``ai.generateText`` over ``doGenerate``): its usage
  and cost are the inner call's again, so only the innermost is a call. An ``AGENT`` observation
  names an agent and is never a call, even when it carries usage of its own;
* the call's time is ``startTime`` (``createdAt`` is when Langfuse ingested it);
* ``latency`` is seconds ("The latency in seconds", ``ObservationsView``);
* tokens are ``usageDetails`` (``input`` plus the ``input_*`` parts Langfuse split off), else
  ``inputUsage``/``outputUsage``, else the deprecated ``usage`` or ``promptTokens``/
  ``completionTokens``; cost is ``costDetails.total``, else ``calculatedTotalCost``, else
  ``totalCost``: the figure Langfuse computed and stored;
* level ``ERROR`` is a failure, its ``statusMessage`` the error.

Exports are one JSON document of a few traces, read whole in Python (the size limit of
``files.sniff`` applies).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from data_layer.errors import BadExport
from data_layer.model import Telemetry
from data_layer.report import ReadingReport
from data_layer.sources.adapter import Adapter
from data_layer.sources.database import Progress
from data_layer.sources.files import shown_name

SYSTEM = "langfuse"
_NEEDS = 'a trace with "observations", or a list of observations with id, type and startTime'
TYPES = (
    "GENERATION",
    "TOOL",
    "SPAN",
    "EVENT",
    "AGENT",
    "CHAIN",
    "RETRIEVER",
    "EVALUATOR",
    "EMBEDDING",
    "GUARDRAIL",
)
_SNIFF_BYTES = 64 * 1024
NOT_AN_OBSERVATION = "not an observation (no id or no type)"
NO_START = "no startTime, and not a call"

Obs = dict[str, Any]


def recognises_file(path: Path, kind: str) -> bool:
    """A JSON document whose observations have Langfuse's id, type and startTime.

    An API response saved as it came is one line, which ``files.sniff`` calls JSON lines: it is
    taken too when the whole file is that one document.
    """
    if kind not in ("json", "jsonl"):
        return False
    with path.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
    if b'"parentObservationId"' not in head or b'"startTime"' not in head:
        return False
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        return False
    return any(_is_observation(o) for _trace, found in _documents(doc) for o in found)


def _is_observation(o: Any) -> bool:
    return isinstance(o, dict) and o.get("type") in TYPES and "startTime" in o and "id" in o


def _documents(doc: Any) -> list[tuple[Obs, list[Any]]]:
    """(trace, observations) pairs of every shape: the trace is {} where the file has none."""
    if isinstance(doc, list):
        return [({}, doc)]
    if not isinstance(doc, dict):
        return []
    if isinstance(doc.get("data"), list):
        items = doc["data"]
        if items and all(isinstance(t, dict) and isinstance(t.get("observations"), list) for t in items):
            return [(t, t["observations"]) for t in items]  # a list of traces with their observations
        return [({}, items)]
    own = doc.get("observations") if isinstance(doc.get("observations"), list) else []
    trace = doc.get("trace")
    if isinstance(trace, dict):  # the UI's download: the trace's copy, then the top-level one
        inner = trace.get("observations") if isinstance(trace.get("observations"), list) else []
        return [(trace, [*inner, *own])]
    return [(doc, own)]  # the API's trace: its own fields beside its observations


def load_file(path: Path, kind: str, progress: Progress) -> Telemetry:
    name = shown_name(path)
    progress(f"Reading observations from {name}", None)
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as err:
        raise BadExport(f"{name} is not valid JSON ({err}). Download the trace again.") from err
    report = ReadingReport()
    observations, sessions, listed = _observations(doc, report)
    if not observations:
        raise BadExport(f"{name} holds no Langfuse observations. Export a trace that has some.")
    report.count("observations", len(observations))
    frames, notes = _translate(observations, sessions, report)
    notes.insert(0, f"Read {len(observations):,} observations from a Langfuse export.")
    if listed > len(observations):
        notes.append(
            f"The export lists {listed:,} observations, {listed - len(observations):,} of them twice"
            " (under the trace and at the top level): each is read once."
        )
    return Telemetry(
        system=SYSTEM,
        tables={t: f for t, f in frames.items() if len(f)},
        source_tables={"observations": len(observations)},
        notes=notes,
        source_events=len(observations),
        report=report,
    )


def _observations(doc: Any, report: ReadingReport) -> tuple[dict[str, Obs], dict[str, str], int]:
    """Observations by id (a later copy of an id wins: the top-level copy has input and output),
    the session of each trace id, and how many observation entries the file listed."""
    by_id: dict[str, Obs] = {}
    sessions: dict[str, str] = {}
    listed = bad = 0
    for trace, found in _documents(doc):
        if trace.get("id") and trace.get("sessionId"):
            sessions[str(trace["id"])] = str(trace["sessionId"])
        for o in found:
            listed += 1
            if not (isinstance(o, dict) and o.get("id") and o.get("type")):
                bad += 1
                continue
            if trace.get("id") and not o.get("traceId"):
                o = {**o, "traceId": trace["id"]}
            by_id[str(o["id"])] = o
    report.skip(NOT_AN_OBSERVATION, bad)
    return by_id, sessions, listed - bad


def _translate(
    obs: dict[str, Obs], sessions: dict[str, str], report: ReadingReport
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The model's rows: GENERATIONs that wrap none are calls, TOOLs tool calls, the rest events."""
    parents = {i: o.get("parentObservationId") for i, o in obs.items()}
    generations = {i for i, o in obs.items() if o["type"] == "GENERATION"}
    wrappers = {p for g in generations for p in _ancestors(g, parents) if p in generations}
    rows: dict[str, list[dict]] = {"llm_calls": [], "tool_calls": [], "events": []}
    agents: dict[str, dict] = {}
    for i, o in obs.items():
        agent = next(
            (_text(obs[a].get("name")) for a in _ancestors(i, parents) if _is(obs.get(a), "AGENT")), None
        )
        common = {
            "ts": _time(o.get("startTime")),
            "agent": agent,
            "session": _text(o.get("sessionId")) or sessions.get(str(o.get("traceId"))),
            "trace_id": _text(o.get("traceId")),
            "span_id": i,
            "parent_span_id": _text(parents[i]),
        }
        if o["type"] == "GENERATION" and i not in wrappers:
            rows["llm_calls"].append({**common, **_call(o)})
        elif o["type"] == "TOOL":
            rows["tool_calls"].append({**common, **_tool(o)})
        elif _time(o.get("startTime")):
            rows["events"].append({**common, **_event(o, wrapper=i in wrappers)})
        else:
            report.skip(NO_START, 1)
        if o["type"] == "AGENT" and _text(o.get("name")):
            _seen_agent(agents, o)
    frames = {name: pd.DataFrame(found) for name, found in rows.items()}
    frames["agents"] = pd.DataFrame(list(agents.values()))
    calls = [*rows["llm_calls"], *rows["tool_calls"]]
    if used := sorted({c["session"] for c in calls if c["session"]}):
        frames["sessions"] = pd.DataFrame({"session": used})
    return frames, _report(obs, wrappers, rows, report)


def _is(o: Obs | None, kind: str) -> bool:
    return o is not None and o["type"] == kind


def _call(o: Obs) -> dict[str, Any]:
    failed = o.get("level") == "ERROR"
    tokens_in, tokens_out = _usage(o)
    return {
        "call_id": str(o["id"]),
        "model": _text(o.get("model")),
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "cost_usd": _cost(o),
        "latency_ms": _latency_ms(o),
        "status": "error" if failed else "ok",
        "error": _text(o.get("statusMessage")) if failed else None,
    }


def _tool(o: Obs) -> dict[str, Any]:
    failed = o.get("level") == "ERROR"
    return {
        "call_id": str(o["id"]),
        "tool": _text(o.get("name")),
        "latency_ms": _latency_ms(o),
        "success": not failed,
        "error": _text(o.get("statusMessage")) if failed else None,
    }


def _event(o: Obs, *, wrapper: bool) -> dict[str, Any]:
    kind = "GENERATION (wrapper)" if wrapper else o["type"]
    return {
        "event_id": str(o["id"]),
        "type": f"{kind} {_text(o.get('name')) or ''}".strip(),
        "channel": str(o["type"]).lower(),
        "level": (_text(o.get("level")) or "").lower() or None,
    }


def _seen_agent(agents: dict[str, dict], o: Obs) -> None:
    """An AGENT observation: its name is the agent, first seen at its earliest start."""
    name = str(_text(o.get("name")))
    seen = agents.setdefault(name, {"agent": name, "kind": "AGENT", "created_at": None})
    start = _time(o.get("startTime"))
    if start and (seen["created_at"] is None or start < seen["created_at"]):
        seen["created_at"] = start


def _report(
    obs: dict[str, Obs], wrappers: set[str], rows: dict[str, list], report: ReadingReport
) -> list[str]:
    """Fill the reading report; return the notes for the Data page."""
    report.map(_FIELDS)
    if any(_is_naive(o.get("startTime")) for o in obs.values()):
        report.assume("Times without a time zone are UTC.")
    by_ends = sum(
        1 for o in obs.values() if o["type"] in ("GENERATION", "TOOL") and _number(o.get("latency")) is None
    )
    timed = sum(1 for r in [*rows["llm_calls"], *rows["tool_calls"]] if r["latency_ms"] is not None)
    if by_ends and timed:
        report.assume("Where an observation has no latency, its latency is endTime − startTime.")
    units = sorted({u for r in rows["llm_calls"] if (u := _other_unit(obs[r["call_id"]]))})
    if units:
        report.assume(f"Usage counted in {', '.join(units)} is not tokens: those calls' tokens are missing.")
    notes = []
    if wrappers:
        notes.append(
            f"{len(wrappers):,} GENERATION observations wrap another GENERATION (a framework's call"
            " around the provider's): the innermost is the call; the wrappers' tokens and cost are"
            " not added, and they are listed as events."
        )
        report.assume(
            "A GENERATION with another GENERATION below it is a framework's wrapper, not a call:"
            " only the innermost is counted."
        )
    carrying = sum(1 for o in obs.values() if o["type"] == "AGENT" and _cost(o))
    if carrying:
        notes.append(
            f"{carrying:,} AGENT observations carry usage and cost of their own: they are agents,"
            " not calls, and their figures are not added to the calls'."
        )
        report.assume(
            f"AGENT observations are agents, not calls: the usage and cost {carrying:,} carry are not added."
        )
    return notes


_FIELDS = {
    "GENERATION": "an LLM call (the innermost, where GENERATIONs nest)",
    "TOOL": "a tool call",
    "AGENT.name": "agent",
    "startTime": "time",
    "latency (seconds)": "latency (ms)",
    "usageDetails.input / inputUsage / usage.input": "input tokens",
    "usageDetails.output / outputUsage / usage.output": "output tokens",
    "costDetails.total / calculatedTotalCost / totalCost": "recorded cost",
    "level ERROR": "failure",
    "sessionId": "session",
}


def _ancestors(i: str, parents: dict[str, Any]) -> list[str]:
    """The observation's parents, nearest first; a cycle in a broken file stops the walk."""
    out: list[str] = []
    parent = parents.get(i)
    while parent and parent not in out and parent != i:
        out.append(parent)
        parent = parents.get(parent)
    return out


def _text(value: Any) -> str | None:
    """Text as the file wrote it; a number or an object (a broken file) as its JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _time(value: Any) -> str | None:
    """ISO text, or nothing: Langfuse writes its times as ISO 8601 strings."""
    return value if isinstance(value, str) and value else None


def _is_naive(text: Any) -> bool:
    return isinstance(text, str) and not text.endswith("Z") and "+" not in text[10:] and "-" not in text[10:]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else round(number)


def _usage(o: Obs) -> tuple[int | None, int | None]:
    """Input and output tokens, by the order of the fields' deprecation (newest first)."""
    details = o.get("usageDetails")
    if isinstance(details, dict) and details:
        parts = [_int(v) for k, v in details.items() if k == "input" or k.startswith("input_")]
        inputs = [p for p in parts if p is not None]
        return (sum(inputs) if inputs else None), _int(details.get("output"))
    if o.get("inputUsage") is not None or o.get("outputUsage") is not None:
        return _int(o.get("inputUsage")), _int(o.get("outputUsage"))
    usage = o.get("usage") if isinstance(o.get("usage"), dict) else {}
    if _other_unit(o):
        return None, None  # characters, images, seconds...: not tokens, so none is known
    if usage.get("input") is not None or usage.get("output") is not None:
        return _int(usage.get("input")), _int(usage.get("output"))
    source = (
        usage if usage.get("promptTokens") is not None or usage.get("completionTokens") is not None else o
    )
    return _int(source.get("promptTokens")), _int(source.get("completionTokens"))


def _other_unit(o: Obs) -> str | None:
    """The unit of the deprecated ``usage`` when it is read and counts something else than tokens
    (``Usage.unit``, ModelUsageUnit: CHARACTERS, MILLISECONDS, SECONDS, IMAGES, REQUESTS)."""
    details = o.get("usageDetails")
    if (
        (isinstance(details, dict) and details)
        or o.get("inputUsage") is not None
        or o.get("outputUsage") is not None
    ):
        return None
    usage = o.get("usage") if isinstance(o.get("usage"), dict) else {}
    unit = _text(usage.get("unit"))
    return unit if unit and unit.upper() != "TOKENS" else None


def _cost(o: Obs) -> float | None:
    details = o.get("costDetails") if isinstance(o.get("costDetails"), dict) else {}
    for value in (details.get("total"), o.get("calculatedTotalCost"), o.get("totalCost")):
        if value is not None:
            return _number(value)
    return None


def _latency_ms(o: Obs) -> float | None:
    """``latency`` (seconds) in milliseconds; without it, endTime − startTime."""
    seconds = _number(o.get("latency"))
    if seconds is not None:
        return seconds * 1000
    start, end = (pd.to_datetime(o.get(k), utc=True, errors="coerce") for k in ("startTime", "endTime"))
    if pd.isna(start) or pd.isna(end):
        return None
    return (end - start).total_seconds() * 1000


ADAPTER = Adapter(
    system=SYSTEM,
    title="Langfuse export",
    needs=_NEEDS,
    provides=frozenset({"llm_calls", "tool_calls", "events", "agents", "sessions"}),
    formats="trace downloads, API traces and observation lists",
    recognises_file=recognises_file,
    load_file=load_file,
)
