"""Agentwatch's own state: saved notebooks and the charts pinned to the Dashboard, in SQLite.

The file lives in ``AGENTWATCH_HOME`` (default ``~/.agentwatch``), created on first use, and is
the only file Agentwatch writes; a user's source is never written. Each call opens its own
connection: Streamlit runs sessions on threads, and SQLite connections are not to be shared
between threads. WAL mode lets one session read while another saves.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from data_layer.errors import AgentwatchError
from data_layer.notebook.document import Cell, Notebook, cells_from_json, cells_to_json, new_id, now_text

HOME_VAR = "AGENTWATCH_HOME"
FILE_NAME = "state.db"

_SCHEMA = """
create table if not exists notebooks (
    id text primary key,
    name text not null,
    cells text not null,          -- JSON list of cells (data_layer.notebook.document)
    created_at text not null,
    updated_at text not null
);
create table if not exists pins (
    id text primary key,
    notebook_id text not null references notebooks(id) on delete cascade,
    cell_id text not null,
    position integer not null,
    created_at text not null,
    unique (notebook_id, cell_id)
);
"""


class StateUnavailable(AgentwatchError):
    """Agentwatch's own state database cannot be opened or written."""


@dataclass(frozen=True)
class Pin:
    """A cell's chart on the Dashboard: which notebook and cell, and where in the grid."""

    id: str
    notebook_id: str
    cell_id: str
    position: int


def home() -> Path:
    """Agentwatch's data directory: ``AGENTWATCH_HOME``, else ``~/.agentwatch``."""
    configured = os.environ.get(HOME_VAR)
    return Path(configured).expanduser() if configured else Path.home() / ".agentwatch"


class NotebookStore:
    """Notebooks and pins in ``<home>/state.db``."""

    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or home()) / FILE_NAME
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with self._connect() as con:
                con.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise StateUnavailable(
                f"Cannot open Agentwatch's state database {self.path} ({err})."
                f" Set {HOME_VAR} to a writable folder."
            ) from err

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.path, timeout=10)) as con:
                con.execute("pragma journal_mode = wal")
                con.execute("pragma foreign_keys = on")
                with con:
                    yield con
        except sqlite3.Error as err:
            raise StateUnavailable(
                f"Cannot read or write Agentwatch's state database {self.path} ({err})."
                f" Check that {HOME_VAR} points at a writable folder."
            ) from err

    # -- notebooks ---------------------------------------------------------------------------

    def list(self) -> list[tuple[str, str, str]]:
        """(id, name, updated_at) of every notebook, most recently changed first."""
        with self._connect() as con:
            rows = con.execute(
                "select id, name, updated_at from notebooks order by updated_at desc, name"
            ).fetchall()
        return [tuple(r) for r in rows]

    def get(self, notebook_id: str) -> Notebook | None:
        with self._connect() as con:
            row = con.execute(
                "select id, name, cells, updated_at from notebooks where id = ?", [notebook_id]
            ).fetchone()
        if row is None:
            return None
        return Notebook(id=row[0], name=row[1], cells=cells_from_json(row[2]), updated_at=row[3])

    def save(self, notebook: Notebook) -> Notebook:
        """Insert or update the notebook; returns it with its new ``updated_at``."""
        saved = replace(notebook, updated_at=now_text())
        with self._connect() as con:
            con.execute(
                "insert into notebooks (id, name, cells, created_at, updated_at) values (?, ?, ?, ?, ?)"
                " on conflict (id) do update set name = excluded.name, cells = excluded.cells,"
                " updated_at = excluded.updated_at",
                [saved.id, saved.name, cells_to_json(saved.cells), saved.updated_at, saved.updated_at],
            )
            # A pin whose cell was deleted goes with it.
            pinned = con.execute("select cell_id from pins where notebook_id = ?", [saved.id]).fetchall()
            kept = {c.id for c in saved.cells}
            con.executemany(
                "delete from pins where notebook_id = ? and cell_id = ?",
                [(saved.id, cell_id) for (cell_id,) in pinned if cell_id not in kept],
            )
        return saved

    def rename(self, notebook_id: str, name: str) -> None:
        with self._connect() as con:
            con.execute(
                "update notebooks set name = ?, updated_at = ? where id = ?",
                [name.strip(), now_text(), notebook_id],
            )

    def delete(self, notebook_id: str) -> None:
        with self._connect() as con:
            con.execute("delete from notebooks where id = ?", [notebook_id])

    # -- pins --------------------------------------------------------------------------------

    def pins(self) -> list[Pin]:
        with self._connect() as con:
            rows = con.execute(
                "select id, notebook_id, cell_id, position from pins order by position, created_at"
            )
            return [Pin(*r) for r in rows.fetchall()]

    def is_pinned(self, notebook_id: str, cell_id: str) -> bool:
        return any(p.notebook_id == notebook_id and p.cell_id == cell_id for p in self.pins())

    def pin(self, notebook_id: str, cell_id: str) -> None:
        """Add the cell's chart to the end of the Dashboard (once)."""
        with self._connect() as con:
            last = con.execute("select coalesce(max(position), -1) from pins").fetchone()[0]
            con.execute(
                "insert or ignore into pins (id, notebook_id, cell_id, position, created_at)"
                " values (?, ?, ?, ?, ?)",
                [new_id(), notebook_id, cell_id, last + 1, now_text()],
            )

    def unpin(self, notebook_id: str, cell_id: str) -> None:
        with self._connect() as con:
            con.execute("delete from pins where notebook_id = ? and cell_id = ?", [notebook_id, cell_id])


def cell_of(store: NotebookStore, pin: Pin) -> tuple[Notebook, Cell] | None:
    """The notebook and cell a pin shows, or None if either has gone."""
    notebook = store.get(pin.notebook_id)
    cell = notebook.cell(pin.cell_id) if notebook else None
    return (notebook, cell) if notebook and cell else None
