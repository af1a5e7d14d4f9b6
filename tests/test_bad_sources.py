"""Bad input ends in one of our typed errors, with a one-line message saying what is wrong and what to do.

Each case is checked twice: through ``open_source`` (what the app calls) and through the CLI,
which must exit with status 2 and print exactly one line on stderr, without a traceback.
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from data_layer.errors import AgentwatchError, BadExport, SourceTooLarge, SourceUnavailable, UnknownSchema
from data_layer.sources import files, open_source
from data_layer.summary import summarize
from tests.conftest import ROOT

RECORD = {"timestamp": "2025-01-01T00:00:00Z", "model": "gpt-4o", "input_tokens": 10, "output_tokens": 2}
LIMIT_MB = 1


def _write(name: str, data: bytes) -> Callable[[Path], str]:
    def make(tmp: Path) -> str:
        (tmp / name).write_bytes(data)
        return str(tmp / name)

    return make


def _sqlite_without_known_tables(tmp: Path) -> str:
    con = sqlite3.connect(tmp / "crm.db")
    con.execute("create table customers (id integer primary key, name text, email text)")
    con.execute("insert into customers (name, email) values ('Ann', 'ann@example.com')")
    con.commit()
    con.close()
    return str(tmp / "crm.db")


def _gzip_past_limit(tmp: Path) -> str:
    with gzip.open(tmp / "huge.jsonl.gz", "wb") as f:
        f.write(b" " * (LIMIT_MB + 2) * 2**20)  # compresses to a few kB
    return str(tmp / "huge.jsonl.gz")


def _latin1_after_the_sample(tmp: Path) -> str:
    """Plain ASCII for more than the 64 kB the sniffer reads, then a Latin-1 line."""
    good = (json.dumps(RECORD) + "\n").encode()
    bad = json.dumps({**RECORD, "agent": "café"}, ensure_ascii=False).encode("latin-1") + b"\n"
    (tmp / "late.jsonl").write_bytes(good * (70_000 // len(good) + 1) + bad)
    return str(tmp / "late.jsonl")


def _source(text: str) -> Callable[[Path], str]:
    return lambda _tmp: text


@dataclass(frozen=True)
class Case:
    make: Callable[[Path], str]  # writes the bad source under a temp dir, returns what to open
    error: type[AgentwatchError]
    says: tuple[str, ...]  # fragments of the message: what is wrong, and what to do
    hides: tuple[str, ...] = ()


CASES = {
    "empty file": Case(
        _write("events.json", b""), BadExport, ("events.json is empty", "Export the data again")
    ),
    "truncated JSON": Case(
        _write("calls.json", json.dumps([RECORD, RECORD]).encode()[:-30]),
        BadExport,
        ("calls.json ends in the middle of a record", "export or download it again"),
    ),
    "JSON-lines whose only line is cut": Case(
        _write("calls.jsonl", json.dumps(RECORD).encode()[:-20]),
        BadExport,
        ("cut off", "export or download it again"),
    ),
    "JSON-lines with a malformed line in the middle": Case(
        _write(
            "calls.jsonl", b'{"timestamp": "2025-01-01T00:00:00Z"}\n{"timestamp": oops}\n{"model": "x"}\n'
        ),
        BadExport,
        ("Cannot read calls.jsonl as JSONL", "Malformed JSON", "export it again"),
    ),
    "JSON-lines whose last line is malformed, not cut": Case(
        _write("calls.jsonl", json.dumps(RECORD).encode() + b"\n{oops}\n"),
        BadExport,
        ("Cannot read calls.jsonl as JSONL", "Malformed JSON"),
    ),
    "binary garbage named .json": Case(
        _write("export.json", bytes(range(256)) * 64), BadExport, ("binary data", "Upload the export file")
    ),
    "UTF-16 file": Case(
        _write("export.json", json.dumps([RECORD]).encode("utf-16")),
        BadExport,
        ("UTF-16", "Save it as UTF-8"),
    ),
    "Latin-1 file": Case(
        _write("export.csv", "timestamp,agent,model\n2025-01-01T00:00:00Z,café,gpt-4o\n".encode("latin-1")),
        BadExport,
        ("export.csv is not UTF-8", "Save it as UTF-8"),
    ),
    "Latin-1 file ending in a non-ASCII byte": Case(
        _write("export.csv", "timestamp,model,agent\n2025-01-01T00:00:00Z,gpt-4o,café".encode("latin-1")),
        BadExport,
        ("export.csv is not UTF-8", "Save it as UTF-8"),
    ),
    "Latin-1 bytes past the sniffed sample": Case(
        _latin1_after_the_sample, BadExport, ("late.jsonl is not UTF-8", "Save it as UTF-8")
    ),
    "CSV with unrelated columns": Case(
        _write("people.csv", b"name,city,age\nann,paris,31\nbob,oslo,45\n"),
        UnknownSchema,
        ("people.csv", "columns found: name, city, age", "timestamp + model + input_tokens"),
    ),
    "JSON list of numbers": Case(
        _write("numbers.json", b"[1, 2, 3]"), UnknownSchema, ("numbers.json", "a time column")
    ),
    "JSON list with no records": Case(_write("none.json", b"[]"), BadExport, ("holds no records", "Export")),
    "CSV whose times never parse": Case(
        _write("days.csv", b"timestamp,event\nyesterday,start\nlater,stop\n"),
        BadExport,
        ("times of days.csv", "ISO 8601"),
    ),
    "SQLite database with none of the known tables": Case(
        _sqlite_without_known_tables,
        UnknownSchema,
        ("crm.db has tables customers", "Export file needs a time column"),
    ),
    "zero-byte .db": Case(_write("agents.db", b""), BadExport, ("agents.db is empty",)),
    "gzip expanding past the size limit": Case(
        _gzip_past_limit, SourceTooLarge, ("huge.jsonl.gz expands past the 1 MB limit", "Upload a smaller")
    ),
    "unreachable PostgreSQL server": Case(
        _source("postgresql://agentwatch:secret@127.0.0.1:1/telemetry"),
        SourceUnavailable,
        ("Cannot read postgresql://agentwatch:***@127.0.0.1:1/telemetry", "Check that the server is running"),
        hides=("secret",),
    ),
    "URL with an unsupported scheme": Case(
        _source("mysql://root@localhost/telemetry"),
        SourceUnavailable,
        ("not mysql", "postgresql:// URL"),
    ),
    "missing path": Case(
        lambda tmp: str(tmp / "nowhere" / "export.jsonl"),
        SourceUnavailable,
        ("export.jsonl (no such file)", "Check the path"),
    ),
}


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(files, "MAX_FILE_BYTES", LIMIT_MB * 2**20)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_open_source_raises_a_typed_one_line_error_for_bad_input(case, tmp_path, small_limit):
    source = case.make(tmp_path)
    started = time.perf_counter()
    with pytest.raises(case.error) as raised:
        open_source(source)
    assert time.perf_counter() - started < 10
    message = str(raised.value)
    assert "\n" not in message and message.endswith(".")
    for fragment in case.says:
        assert fragment in message
    for secret in case.hides:
        assert secret not in message


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_cli_exits_2_with_one_line_on_stderr_for_bad_input(case, tmp_path):
    source = case.make(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "data_layer", "summarize", source, "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "AGENTWATCH_MAX_FILE_MB": str(LIMIT_MB), "AGENTWATCH_DEBUG": ""},
        timeout=60,
    )
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in out.stderr and "please report" not in out.stderr  # not the bug path
    for fragment in case.says:
        assert fragment in lines[0]
    for secret in case.hides:
        assert secret not in out.stderr


def test_truncated_json_lines_load_the_complete_lines_and_say_so(tmp_path):
    lines = [
        {**RECORD, "timestamp": f"2025-01-01T00:0{i}:00Z", "input_tokens": 10 * (i + 1)} for i in range(3)
    ]
    path = tmp_path / "live.jsonl"
    path.write_bytes(
        b"".join(json.dumps(r).encode() + b"\n" for r in lines) + json.dumps(RECORD).encode()[:25]
    )
    store = open_source(path)
    summary = summarize(store)
    assert summary["events"] == len(lines)
    assert summary["llm"]["calls"] == len(lines)
    assert summary["llm"]["tokens_in"] == sum(r["input_tokens"] for r in lines)
    assert any("last line of the file was cut off" in note for note in store.info.notes)
