"""What kind of file a user handed over, decided from its bytes rather than trusted from its name.

Exports arrive from strangers' browsers: a ``.json`` may be a SQLite database, a gzip archive or
binary garbage. ``sniff`` looks at the first bytes, decompresses gzip within a size limit, checks
the text encoding, and says which reader applies, or raises a ``BadExport`` that says what to do.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from data_layer.errors import BadExport, SourceTooLarge

MAX_FILE_BYTES = int(os.environ.get("AGENTWATCH_MAX_FILE_MB", "1024")) * 1024 * 1024
"""Largest export file, or decompressed content of a .gz, read from a path (AGENTWATCH_MAX_FILE_MB,
1 GiB). SQLite databases are not limited: their tables are read through SQL, not as one document."""

KINDS = ("sqlite", "parquet", "json", "jsonl", "csv")

MAX_JSON_DEPTH = 100
"""Deepest nesting of arrays and objects read from a JSON file. DuckDB stops at 128 levels and
Python's json module at about 1,000 (with a RecursionError, which is no message for a user);
telemetry records nest a handful of levels."""

_SQLITE_MAGIC = b"SQLite format 3\x00"
_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_SAMPLE_BYTES = 64 * 1024


def shown_name(path: Path) -> str:
    """The file name as the user gave it, without the prefixes of our temporary copies."""
    return re.sub(r"^(?:(?:agentwatch|upload)-[a-z0-9_]{8}-)+", "", path.name)


def sniff(path: Path) -> str:
    """The reader for this file: one of KINDS. Raises BadExport or SourceTooLarge with a hint.

    Gzip files are decompressed by the caller first (``gunzip_to_temp``).
    """
    name = shown_name(path)
    size = path.stat().st_size
    if size == 0:
        raise BadExport(f"{name} is empty (0 bytes). Export the data again and upload the file it writes.")
    with path.open("rb") as f:
        head = f.read(_SAMPLE_BYTES)
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if size > MAX_FILE_BYTES:
        raise SourceTooLarge(
            f"{name} is {size / 2**20:,.0f} MB, over the {MAX_FILE_BYTES / 2**20:,.0f} MB limit."
            " Point Agentwatch at the database instead, or raise AGENTWATCH_MAX_FILE_MB."
        )
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    if head.startswith(_ZIP_MAGIC):
        raise BadExport(f"{name} is a zip archive. Unzip it and upload the export file inside.")
    text = _decode_sample(name, head)
    kind = _text_kind(path, text)
    if kind in ("json", "jsonl"):
        _check_depth(path)
    return kind


def gunzip_to_temp(path: Path, directory: Path | None = None, limit: int | None = None) -> Path:
    """Decompress a .gz into a temporary file, stopping as soon as it passes the size limit
    (``limit`` bytes, default MAX_FILE_BYTES): a small archive may expand a thousandfold.
    """
    limit = MAX_FILE_BYTES if limit is None else limit
    name = path.name[:-3] if path.name.endswith(".gz") else path.name + ".out"
    fd, out_name = tempfile.mkstemp(prefix="agentwatch-", suffix="-" + name, dir=directory)
    out = Path(out_name)
    written = 0
    try:
        with gzip.open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(1024 * 1024):
                written += len(chunk)
                if written > limit:
                    raise SourceTooLarge(
                        f"{shown_name(path)} expands past the {limit / 2**20:,.0f} MB limit."
                        " Upload a smaller export, or point Agentwatch at the database."
                    )
                dst.write(chunk)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        out.unlink(missing_ok=True)
        raise BadExport(
            f"{shown_name(path)} is not a readable gzip file ({err})."
            " Compress it again or upload it uncompressed."
        ) from err
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out


def is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == _GZIP_MAGIC


def _decode_sample(name: str, head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) > 3 and head[1:4:2] == b"\x00\x00"):
        raise BadExport(
            f"{name} is UTF-16 text. Save it as UTF-8 (most editors offer this) and upload it again."
        )
    if b"\x00" in head:
        raise BadExport(
            f"{name} holds binary data, not JSON, CSV, Parquet or SQLite. Upload the export file itself."
        )
    # The sample may end in the middle of a multi-byte character: ignore only that last one, and
    # only if the sample was cut (a whole small file ending in a Latin-1 byte is still Latin-1).
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        if err.reason == "unexpected end of data" and len(head) == _SAMPLE_BYTES:
            return head[: err.start].decode("utf-8-sig")
        raise BadExport(
            f"{name} is not UTF-8 text (byte {err.start} is 0x{head[err.start]:02x}; Latin-1 or another"
            " legacy encoding?). Save it as UTF-8 and upload it again."
        ) from err


def _text_kind(path: Path, text: str) -> str:
    stripped = text.lstrip()
    suffix = path.suffix.lower()
    name = shown_name(path)
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        # One object per line, or one (possibly indented) document?
        first_line = stripped.split("\n", 1)[0].strip()
        return "jsonl" if first_line.endswith("}") and _is_json(first_line) else "json"
    if suffix == ".json":
        # The file's own bytes are never quoted back: a typed path can name any file the server
        # can read (/etc/passwd), and the message would hand its first line to whoever typed it.
        raise BadExport(f"{name} does not start with JSON ([ or {{). Upload a JSON export.")
    if "," in stripped.split("\n", 1)[0] or suffix in (".tsv", ".txt"):
        return "csv"
    raise BadExport(
        f"{name} is not a JSON, JSON-lines, CSV, Parquet or SQLite file."
        " Upload an export in one of those formats."
    )


_DEPTH_CHUNK = 1 << 20
_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1


def _check_depth(path: Path) -> None:
    """Raise BadExport if arrays and objects nest deeper than MAX_JSON_DEPTH anywhere in the file.

    One pass over the file in 1 MB chunks (memory stays flat however big the file is), in numpy:
    brackets count only outside strings, and a quote counts only if not escaped by an odd run of
    backslashes. The state carried between chunks is the depth, whether a string is open, and the
    number of backslashes the chunk ended with.
    """
    depth, in_string, trailing_backslashes = 0, False, 0
    with path.open("rb") as f:
        while chunk := f.read(_DEPTH_CHUNK):
            a = np.frombuffer(chunk, dtype=np.uint8)
            index = np.arange(len(a))
            backslash = a == ord("\\")
            # Index of the last non-backslash at or before each position (before the chunk: the
            # carried run of backslashes, as if at negative indices).
            last_other = np.maximum.accumulate(np.where(backslash, -1 - trailing_backslashes, index))
            run_before = np.empty(len(a), dtype=np.int64)
            run_before[0] = trailing_backslashes
            run_before[1:] = index[:-1] - last_other[:-1]
            quote = (a == ord('"')) & (run_before % 2 == 0)
            # Inside a string after an odd number of quotes (counting the carried state).
            inside = (np.cumsum(quote) + in_string) % 2 == 1
            steps = np.where(inside, 0, _OPEN[a])
            levels = depth + np.cumsum(steps, dtype=np.int64)
            if len(levels) and levels.max() > MAX_JSON_DEPTH:
                raise BadExport(
                    f"{shown_name(path)} nests arrays or objects more than {MAX_JSON_DEPTH} levels deep."
                    " Export flat records (one object per event or call) and upload that."
                )
            depth = int(levels[-1])
            in_string = bool(inside[-1])
            trailing_backslashes = int(len(a) - 1 - last_other[-1])


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except (ValueError, RecursionError):  # too deep for Python's parser: _check_depth says so
        return False
    return True


def copy_upload(data: bytes, name: str, directory: Path) -> Path:
    """Write uploaded bytes to a private temp file named like the upload (extension matters)."""
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(name).name)[-80:] or "upload"
    fd, out = tempfile.mkstemp(prefix="upload-", suffix="-" + safe, dir=directory)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return Path(out)
