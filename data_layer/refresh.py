"""Reading a source again for what changed since it was loaded, not from scratch.

A loaded backend remembers where it came from (``Origin``): the source, its system, and the
watermarks of the source tables (``sources.watermarks``) as they were when it was read. A
refresh then costs what changed:

* a file at a path whose size and modification time (and SQLite's ``-wal``'s) are the same:
  nothing is read at all;
* a database whose watermarks are the same: a statement per table, nothing read;
* a database whose tables only grew, read by an adapter with ``load_since``: only the new rows
  are read, and appended to the store with its rollups in one transaction (``Store.append``);
* anything else (rows deleted, ids reset, a table replaced, a changed export file, rows that
  do not fit the store as built): the source is read in full into a new backend.

Pushed-down backends read the source on every query; a refresh only tells whether their kept
facts (counts, time span) still hold, and opens them again if not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from data_layer.backend import Backend
from data_layer.report import ReadingReport
from data_layer.sources import Location, files, open_pushdown, open_source
from data_layer.sources.adapter import Adapter
from data_layer.sources.database import Database, Progress
from data_layer.sources.registry import database_adapters
from data_layer.sources.watermarks import Marks, append_only, take
from data_layer.store import SourceInfo, Store, Unappendable

Stat = tuple[tuple[int, int] | None, ...]


@dataclass
class Origin:
    """Where a backend's rows came from and how far the source had been read."""

    target: str  # a file path or a database URL (may hold a password: never shown)
    stat: Stat | None  # size and mtime of a file and its -wal; None for a URL
    system: str | None = None  # the adapter that read it, for a database
    marks: Marks | None = None  # None: not known (rows arrived during the load): read in full


def open_watched(source: str | Path, progress: Progress | None = None, label: str | None = None) -> Store:
    """``open_source``, remembering the source's watermarks so that a refresh reads only what is new.

    The watermarks are taken before and after the load: rows that arrived while it read may or
    may not be in it, so then none are kept, and the next change is read in full.
    """
    before = _watch(Location.parse(source))
    store = open_source(source, progress, label)
    store.origin = _settled(before)
    return store


def open_watched_pushdown(source: str | Path, label: str | None = None) -> Backend:
    """``open_pushdown``, remembering the watermarks its kept facts were counted at."""
    before = _watch(Location.parse(source))
    return open_pushdown(source, label, on_ready=lambda backend: setattr(backend, "origin", _settled(before)))


def refresh(backend: Backend, reload: Callable[[], Backend], progress: Progress) -> tuple[Backend, bool]:
    """The backend brought up to date with its source, and whether its data changed.

    The same backend when nothing changed or the new rows were appended to it; ``reload()``'s
    new one when the source must be read in full. Raises what ``reload`` raises (an
    ``AgentwatchError`` when the source cannot be read).
    """
    if getattr(backend, "copying", False):  # a pushed-down source copied meanwhile: PostgreSQL is live
        return backend, False
    origin: Origin | None = getattr(backend, "origin", None)
    if origin is None:
        return reload(), True
    stat = _stat(origin.target)
    if stat is not None and stat == origin.stat:
        return backend, False
    adapter = _adapter(origin.system)
    if adapter is None or origin.marks is None:
        return reload(), True
    db = _database(origin.target)
    marks = take(db, origin.marks, adapter.changes)
    if marks == origin.marks and set(marks) == set(db.catalog()) & set(adapter.watched_tables(db)):
        origin.stat = stat
        return backend, False
    if (
        not hasattr(backend, "append")  # a Store, or a pushed-down source's local copy
        or adapter.load_since is None
        or not append_only(db, origin.marks, marks)
    ):
        return reload(), True
    delta = adapter.load_since(db, origin.marks, marks, progress)
    info = _grown_info(backend.info, db, adapter, marks)
    try:
        backend.append(delta.tables, delta.keys, info)
    except Unappendable:
        return reload(), True
    info.report.settle(backend.row_counts())
    origin.marks, origin.stat = marks, stat
    return backend, True


def _watch(location: Location) -> Origin:
    """The origin of a source about to be loaded, with its watermarks if it is a database."""
    stat = None if location.is_url else _stat(location.target)
    origin = Origin(target=location.target, stat=stat)
    if not location.is_url and not _is_sqlite(Path(location.target)):
        return origin
    try:
        db = _database(location.target)
        adapter = next((a for a in database_adapters() if a.recognises(db)), None)
    except Exception:  # the load that follows says what is wrong with the source, better
        return origin
    if adapter is not None:
        origin.system = adapter.system
        origin.marks = take(db, adapter.watched_tables(db), adapter.changes)
    return origin


def _settled(before: Origin) -> Origin:
    """``before``, if the source still has its watermarks after the load; else without marks."""
    if before.marks is None:
        return before
    after = take(_database(before.target), before.marks, _adapter(before.system).changes)
    return before if after == before.marks else replace(before, marks=None)


def _grown_info(info: SourceInfo, db: Database, adapter: Adapter, marks: Marks) -> SourceInfo:
    """The source's description after an append: its tables' new counts and reading report."""
    counts = {
        table: marks[table].rows if table in marks else rows for table, rows in info.source_tables.items()
    }
    if adapter.reading is not None:
        report = adapter.reading(db, counts)
    else:
        report = ReadingReport()
        for table, rows in counts.items():
            report.count(table, rows)
    events = marks[adapter.events_table].rows if adapter.events_table in marks else info.source_events
    return replace(info, source_tables=counts, source_events=events, report=report)


def _adapter(system: str | None) -> Adapter | None:
    return next((a for a in database_adapters() if a.system == system), None)


def _database(target: str) -> Database:
    return Database(target) if "://" in target else Database.sqlite_file(Path(target))


def _is_sqlite(path: Path) -> bool:
    try:
        return path.is_file() and not files.is_gzip(path) and files.sniff(path) == "sqlite"
    except Exception:  # not a file Agentwatch reads: the load will say so
        return False


def _stat(target: str) -> Stat | None:
    """Size and modification time of a file and of SQLite's write-ahead log beside it."""
    if "://" in target:
        return None
    return tuple(_one_stat(p) for p in (target, f"{target}-wal"))


def _one_stat(path: str) -> tuple[int, int] | None:
    try:
        found = Path(path).stat()
    except OSError:
        return None
    return found.st_size, found.st_mtime_ns
