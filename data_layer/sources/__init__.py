"""Open any source Agentwatch reads and translate it into the telemetry model.

A *source* is a SQLite file, a SQLAlchemy database URL, or an exported file. Which system wrote
it is decided by introspection: each adapter (``adapter.Adapter``, listed in ``registry``) says
whether it recognises the tables (or the file) and, if so, loads it. Adapters are tried in the
registry's order, most specific first; a source none of them recognises gets an ``UnknownSchema``
error listing what was found and what each system needs, never a guess.

Every load comes back with its reading report (``data_layer.report``): what was read, what was
left out and why, and what was assumed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from data_layer import model
from data_layer.errors import AgentwatchError, SourceUnavailable, UnknownSchema
from data_layer.model import Telemetry
from data_layer.report import ReadingReport
from data_layer.sources import files
from data_layer.sources.adapter import Adapter
from data_layer.sources.database import Database, Progress, masked
from data_layer.sources.registry import database_adapters, file_adapters
from data_layer.store import SourceInfo, Store

if TYPE_CHECKING:
    from data_layer.pushdown import PushdownBackend


@dataclass(frozen=True)
class Location:
    """Where a source is: a file path or a database URL. ``label`` is safe to display."""

    target: str
    label: str
    is_url: bool

    @classmethod
    def parse(cls, source: str | Path) -> Location:
        text = str(source).strip()
        if "://" in text:
            return cls(target=text, label=masked(text), is_url=True)
        path = Path(text).expanduser()
        return cls(target=str(path), label=path.name or text, is_url=False)

    @property
    def is_postgres(self) -> bool:
        """A PostgreSQL server's URL (postgresql://, postgres://, postgresql+psycopg://)."""
        return self.is_url and self.target.lower().startswith("postgres")

    def identity(self) -> str:
        """A cache key for the source that holds no password. A file's key stays the same when
        the file changes: its store is checked against it and read again (``data_layer.refresh``)."""
        digest = hashlib.sha256(self.target.encode()).hexdigest()[:16]
        return f"url:{digest}" if self.is_url else f"file:{digest}"


Columns = Mapping[str, Collection[str]]
"""Model table -> the columns a caller needs of it (``open_lean``)."""


def load_telemetry(
    source: str | Path,
    progress: Progress | None = None,
    label: str | None = None,
    columns: Columns | None = None,
) -> tuple[Telemetry, SourceInfo]:
    """Read a source into the telemetry model. Raises AgentwatchError subclasses for bad input.

    ``label`` names the source in messages (an upload's own file name, not our temp copy's).
    ``columns``: an adapter that can (``Adapter.load_columns``) reads only these model columns.
    """
    progress = progress or (lambda _m, _f: None)
    location = Location.parse(source)
    label = label or location.label
    started = time.perf_counter()
    if location.is_url:
        telemetry = _load_database(Database(location.target, label=label), progress, columns)
    else:
        telemetry = _load_file(Path(location.target), label, progress, columns)
    report = telemetry.report
    if not report.read:  # an adapter that counted nothing itself read its source tables whole
        for table, rows in telemetry.source_tables.items():
            report.count(table, rows)
    info = SourceInfo(
        system=telemetry.system,
        label=label,
        source_tables=dict(telemetry.source_tables),
        notes=tuple(telemetry.notes),
        source_events=telemetry.source_events,
        provided=telemetry.provided,
        report=report,
    )
    return telemetry, replace(info, load_seconds=time.perf_counter() - started)


def open_source(source: str | Path, progress: Progress | None = None, label: str | None = None) -> Store:
    """Load a source and build its store: the one call the app and the CLI make."""
    telemetry, info = load_telemetry(source, progress, label)
    if progress:
        progress("Building rollups", None)
    started = time.perf_counter()
    store = Store.build(telemetry, info)
    info.report.settle(store.row_counts())  # rows an inner join or a filter left behind
    store.info = replace(store.info, load_seconds=(info.load_seconds or 0) + time.perf_counter() - started)
    return store


def open_lean(source: str | Path, columns: Columns, progress: Progress | None = None) -> Store:
    """Load only ``columns`` of the model into a store without ENUMs or rollups (``data_layer.lean``):
    for a few aggregates asked once, as ``summarize`` does. Same figures, same reading report."""
    from data_layer import lean

    telemetry, info = load_telemetry(source, progress, columns=columns)
    started = time.perf_counter()
    store = lean.build(telemetry, info, columns)
    info.report.settle(store.row_counts())
    store.info = replace(store.info, load_seconds=(info.load_seconds or 0) + time.perf_counter() - started)
    return store


def _load_database(db: Database, progress: Progress, columns: Columns | None = None) -> Telemetry:
    adapter = _recognise(db)
    progress(f"Recognised {adapter.title}", None)
    if columns is not None and adapter.load_columns is not None:
        return adapter.load_columns(db, progress, columns)
    return adapter.load(db, progress)


def _recognise(db: Database) -> Adapter:
    adapters = database_adapters()
    for adapter in adapters:
        if adapter.recognises(db):
            return adapter
    raise _unknown(db.label, db.catalog(), adapters)


PUSHDOWN_ROWS = int(os.environ.get("AGENTWATCH_PUSHDOWN_ROWS", "5000000"))
"""Above this many rows (PostgreSQL's own estimate), a source is queried in place, not loaded;
0 pushes every source that can take it down."""


def copy_rows() -> int:
    """Up to this many rows in its tables (``AGENTWATCH_PUSHDOWN_COPY_ROWS``, read when a source
    is opened), a pushed-down source is also copied, without its prompts and responses, in the
    background (``PushdownBackend``, ``copy``): its pages then answer as a loaded source's do.
    At ten million calls (25M source rows) the copy holds 1.5 GB; 0 never copies."""
    return int(os.environ.get("AGENTWATCH_PUSHDOWN_COPY_ROWS", "60000000"))


def can_push_down(source: str | Path) -> bool:
    """Whether queries on this source can run inside it: a PostgreSQL database whose adapter
    maps it in SQL (every system Agentwatch reads from PostgreSQL does)."""
    location = Location.parse(source)
    if not location.is_postgres:
        return False
    return _recognise(Database(location.target)).can_push_down


def should_push_down(source: str | Path) -> bool:
    """Pushdown is worth it: the source can take it and holds more than PUSHDOWN_ROWS rows."""
    if not can_push_down(source):
        return False
    if PUSHDOWN_ROWS == 0:  # 0: always
        return True
    db = Database(Location.parse(source).target)
    return _estimated_rows(db) > PUSHDOWN_ROWS


def _estimated_rows(db: Database) -> int:
    """Rows in the source's tables by PostgreSQL's statistics: instant, where count(*) is not."""
    import sqlalchemy as sa

    stmt = sa.text(
        "select coalesce(sum(greatest(reltuples, 0)), 0) from pg_class where relname = any(:names)"
    )
    with db.engine.connect() as con:
        return int(con.execute(stmt, {"names": list(db.catalog())}).scalar())


def open_pushdown(
    source: str | Path,
    label: str | None = None,
    *,
    rollups: bool = True,
    copy: bool | None = None,
    on_ready: Callable[[PushdownBackend], None] | None = None,
) -> PushdownBackend:
    """A backend that runs queries inside the source PostgreSQL; nothing is loaded up front.

    ``rollups``: keep the rollups locally, built in the background (``PushdownBackend``), or,
    up to ``copy_rows()`` rows (``copy`` None) or when ``copy`` says so, a copy without prompts
    and responses, which brings its own; a command that asks a few figures once has nothing to
    gain from either. ``on_ready``: ``PushdownBackend``'s."""
    from data_layer.pushdown import PushdownBackend  # it imports this package

    location = Location.parse(source)
    db = Database(location.target)
    adapter = _recognise(db)
    if not adapter.can_push_down:
        raise SourceUnavailable(
            f"Queries on {adapter.title} databases cannot run inside the database yet ({location.label})."
            " Turn off 'Query in the database' to load it instead."
        )
    source_tables = {name: db.count(name) for name in sorted(db.catalog()) if name in adapter.tables}
    if copy is None:
        copy = rollups and 0 < sum(source_tables.values()) <= copy_rows()
    note = (
        "Queries run inside PostgreSQL (pushdown) until a copy without prompts and responses is"
        " read in the background; then here, with prompts and responses still read from PostgreSQL."
        if copy
        else "Queries run inside PostgreSQL (pushdown): nothing was loaded, only aggregates are fetched."
    )
    info = SourceInfo(
        system=adapter.system,
        label=label or location.label,
        source_tables=source_tables,
        notes=(note,),
        source_events=db.count(adapter.events_table) if adapter.events_table in db.catalog() else None,
        provided=frozenset(adapter.model_selects(db)),
    )
    report = adapter.reading(db, info.source_tables) if adapter.reading else _pushdown_report(info)
    backend = PushdownBackend(
        db,
        adapter,
        replace(info, report=report),
        rollups=rollups and not copy,
        copy=copy,
        background=True,
        on_ready=on_ready,
    )
    report.settle(backend.row_counts())  # what the SELECTs leave behind, counted in PostgreSQL
    return backend


def _load_file(path: Path, label: str, progress: Progress, columns: Columns | None = None) -> Telemetry:
    if not path.exists():
        raise SourceUnavailable(f"Cannot open {label} (no such file). Check the path, or upload the file.")
    if not path.is_file():
        raise SourceUnavailable(
            f"{label} is a folder, not a file. Point Agentwatch at a database or export file."
        )
    with tempfile.TemporaryDirectory(prefix="agentwatch-") as scratch:
        if files.is_gzip(path):
            progress(f"Decompressing {label}", None)
            path = files.gunzip_to_temp(path, Path(scratch))
        kind = files.sniff(path)
        if kind == "sqlite":
            return _load_database(Database.sqlite_file(path, label=label), progress, columns)
        for adapter in file_adapters():
            if adapter.recognises_file(path, kind):
                progress(f"Recognised {adapter.title} ({kind})", None)
                return adapter.load_file(path, kind, progress)
    raise UnknownSchema(
        f"{label} is a {kind.upper()} file Agentwatch cannot map. It needs "
        + "; or ".join(f"{a.title}: {a.needs}" for a in file_adapters())
        + "."
    )


def _pushdown_report(info: SourceInfo) -> ReadingReport:
    """The source tables' rows, which the queries will see, for an adapter that says no more."""
    report = ReadingReport()
    for table, rows in info.source_tables.items():
        report.count(table, rows)
    return report


def _unknown(label: str, catalog: dict[str, set[str]], adapters: list[Adapter]) -> UnknownSchema:
    if not catalog:
        found = "no tables"
    else:
        shown = sorted(catalog)[:12]
        found = "tables " + ", ".join(shown) + (f" and {len(catalog) - 12} more" if len(catalog) > 12 else "")
    needs = "; ".join(f"{a.title} needs {a.needs}" for a in adapters)
    return UnknownSchema(f"{label} has {found}, which match no system Agentwatch reads. {needs}.")


__all__ = [
    "AgentwatchError",
    "Location",
    "load_telemetry",
    "open_source",
    "open_sources",
]


def open_sources(sources: list[str | Path], label: str, progress: Progress | None = None) -> Store:
    """Load several sources into one store, as if one fleet wrote them all (the demo dataset).

    Agents with the same key in two sources are one agent; the first source's details win.
    """
    started = time.perf_counter()
    loaded = [load_telemetry(s, progress) for s in sources]
    parts: dict[str, list[pd.DataFrame]] = {}
    for t, i in loaded:  # each table read once: a lazy table's loader may let its source go
        read = {name: model.conform(name, model.materialize(t.tables[name])) for name in model.TABLES}
        i.report.settle({name: len(frame) for name, frame in read.items()})
        for name, frame in read.items():
            parts.setdefault(name, []).append(frame)
    frames = {
        name: pd.concat(parts[name], ignore_index=True)
        for name in model.TABLES
        if any(name in t.provided for t, _ in loaded)
    }
    if "agents" in frames:
        frames["agents"] = frames["agents"].drop_duplicates("agent", keep="first")
    systems = [t.system for t, _ in loaded]
    telemetry = Telemetry(
        system="+".join(systems),
        tables=frames,
        source_tables={f"{i.label}: {table}": n for _, i in loaded for table, n in i.source_tables.items()},
        notes=[f"{i.label}: {note}" for _, i in loaded for note in i.notes],
        source_events=sum(t.source_events or 0 for t, _ in loaded)
        if any(t.source_events is not None for t, _ in loaded)
        else None,
    )
    report = ReadingReport()
    for _, i in loaded:
        report = report.merged(i.report, prefix=f"{i.label}: ")
    info = SourceInfo(
        system=telemetry.system,
        label=label,
        source_tables=telemetry.source_tables,
        notes=tuple(telemetry.notes),
        source_events=telemetry.source_events,
        provided=telemetry.provided,
        report=report,
    )
    if progress:
        progress("Building rollups", None)
    store = Store.build(telemetry, info)
    store.info = replace(store.info, load_seconds=time.perf_counter() - started)
    return store
