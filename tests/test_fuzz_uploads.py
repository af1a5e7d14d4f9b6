"""Fuzzing the upload parsers: whatever bytes arrive, the result is a loaded store or our typed error.

Four generators, each with a fixed budget of examples (``BUDGET``, printed with what happened):
random bytes under every file name the uploader accepts; JSON and JSON-lines built from the
names the export reader looks for, with values of every type and shape (NaN, huge numbers,
nesting, truncation, stray bytes); CSV with such headers and cells; and any of those gzipped.
A loaded store is then summarised, so values that load but break a query are caught as well.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_layer.errors import AgentwatchError
from data_layer.sources import open_source
from data_layer.summary import summarize

# Examples per generator (about 30 s in all on 2 cores). AGENTWATCH_FUZZ_SCALE=10 explores longer.
_SCALE = float(os.environ.get("AGENTWATCH_FUZZ_SCALE", "1"))
BUDGET = {
    kind: int(n * _SCALE)
    for kind, n in {"random bytes": 150, "JSON and JSON-lines": 150, "CSV": 100, "gzip": 40}.items()
}
NAMES = ["events.json", "calls.jsonl", "calls.ndjson", "export.csv", "spans.parquet", "agents.db", "log.txt"]
KEYS = [
    "timestamp", "ts", "time", "start_time", "end_time", "time_unix_nano", "agent", "agent_id",
    "session_id", "model", "gen_ai.request.model", "input_tokens", "output_tokens", "prompt_tokens",
    "cost_usd", "latency_ms", "duration", "status", "error", "tool_name", "level", "event_type",
    "prompt", "response", "trace_id", "span_id", "attributes", "data", "events", "records", "tasks",
    "id", "x", "",
]  # fmt: skip

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        ["2025-01-01T00:00:00Z", "9999-12-31", "0000-00-00", "1e308", "NaN", "-inf", "=1+1", "null", "ok"]
    )
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    max_leaves=12,
)
_VALID = {
    "timestamp": "2025-01-01T00:00:00Z",
    "agent": "planner",
    "session_id": "s-1",
    "model": "gpt-4o",
    "input_tokens": 10,
    "output_tokens": 2,
    "cost_usd": 0.001,
    "latency_ms": 120,
}
_random_records = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), _values, max_size=8)
# Mostly right: a valid record with a few fields replaced by values of any type or shape, so the
# mapping and the store see wrong types, not only files that are refused at the door.
_nearly_valid = st.builds(
    lambda changes, extra: {**_VALID, **changes, **extra},
    st.dictionaries(st.sampled_from(list(_VALID)), _values, max_size=3),
    st.dictionaries(st.sampled_from(KEYS), _values, max_size=2),
)
_records = _nearly_valid | _random_records


def _json_text(value: object) -> str:
    return json.dumps(value, allow_nan=True)  # NaN and Infinity literals too: other tools write them


@st.composite
def json_files(draw) -> tuple[str, bytes]:
    records = draw(st.lists(_records, max_size=6))
    shape = draw(st.sampled_from(["array", "lines", "wrapped", "scalar"]))
    if shape == "array":
        text, name = _json_text(records), "events.json"
    elif shape == "lines":
        text, name = "\n".join(_json_text(r) for r in records) + "\n", draw(st.sampled_from(NAMES[:3]))
    elif shape == "wrapped":
        key = draw(st.sampled_from(["data", "events", "records", "tasks", "spans", "other"]))
        text, name = _json_text({key: records, "version": 1}), "export.json"
    else:
        text, name = _json_text(draw(_values)), "value.json"
    data = text.encode()
    damage = draw(st.sampled_from(["none", "truncate", "flip", "insert"]))
    if data and damage == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif data and damage == "flip":
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1 :]
    elif damage == "insert":
        i = draw(st.integers(0, len(data)))
        data = data[:i] + draw(st.binary(min_size=1, max_size=4)) + data[i:]
    return name, data


_cells = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["2025-01-01T00:00:00Z", "gpt-4o", "10", "0.5"]),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["2025-01-01T00:00:00Z", "1970-01-01", "9999-12-31 23:59:59", "", "=cmd", '"', "a,b"]),
)


@st.composite
def csv_files(draw) -> tuple[str, bytes]:
    header = draw(st.lists(st.sampled_from(KEYS) | st.text(max_size=8), min_size=1, max_size=7))
    rows = draw(st.lists(st.lists(_cells, min_size=0, max_size=len(header) + 1), max_size=6))
    if draw(st.booleans()):  # mostly right: the columns a call needs, then anything
        header = ["timestamp", "model", "input_tokens", *header]
        rows = [["2025-01-01T00:00:00Z", "gpt-4o", "10", *row] for row in rows]

    def line(cells: list[str]) -> str:
        quote = draw(st.booleans())
        return ",".join('"' + c.replace('"', '""') + '"' if quote else c for c in cells)

    text = "\n".join([line(header), *(line(r) for r in rows)]) + draw(st.sampled_from(["", "\n", "\r\n"]))
    return draw(st.sampled_from(["export.csv", "export.txt", "export.json"])), text.encode("utf-8", "replace")


@st.composite
def gzip_files(draw) -> tuple[str, bytes]:
    name, data = draw(json_files() | csv_files())
    packed = gzip.compress(data)
    if draw(st.booleans()):
        packed = packed[: draw(st.integers(2, len(packed)))]
    return name + ".gz", packed


random_files = st.tuples(st.sampled_from(NAMES), st.binary(max_size=2048))
STRATEGIES = {"random bytes": random_files, "JSON and JSON-lines": json_files(), "CSV": csv_files()}
STRATEGIES["gzip"] = gzip_files()


def _load(name: str, data: bytes, outcomes: Counter) -> None:
    """The property: a store (that a summary can be made of) or an AgentwatchError, nothing else."""
    with tempfile.TemporaryDirectory(prefix="agentwatch-fuzz-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            store = open_source(path)
        except AgentwatchError as err:
            message = str(err)
            assert message and "\n" not in message, f"not one line: {message!r}"
            assert folder not in message, f"a server path in the message: {message!r}"
            outcomes[type(err).__name__] += 1
            return
        summary = summarize(store)
        assert summary["events"] is None or summary["events"] >= 0
        calls = (summary.get("llm") or {}).get("calls") or 0
        assert calls >= 0 and not (isinstance(calls, float) and math.isnan(calls))
        outcomes["loaded"] += 1


@pytest.mark.parametrize("kind", BUDGET)
def test_uploads_load_or_fail_with_our_typed_error(kind):
    outcomes: Counter = Counter()

    @settings(
        max_examples=BUDGET[kind],
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(STRATEGIES[kind])
    def check(upload: tuple[str, bytes]) -> None:
        _load(*upload, outcomes)

    check()
    runs = sum(outcomes.values())
    print(f"\nfuzz {kind}: {runs} examples (budget {BUDGET[kind]}): {dict(outcomes)}")
    assert runs >= BUDGET[kind] // 2  # hypothesis may stop early only when it runs out of new inputs
