"""A notebook and its cells, and the file a user downloads and opens again.

A notebook is a name and a list of cells; a cell is Markdown or one SQL query, with the chart
the user chose for its result (None: picked from the result's types) and whether it ignores the
global filters. The file is JSON with a format marker and version, so a file that is not a
notebook (or a newer one) is refused with one line instead of half-opened.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime

from data_layer.errors import AgentwatchError

FORMAT = "agentwatch-notebook"
VERSION = 1
KINDS = ("sql", "markdown")
CHART_KINDS = ("bar", "line", "area", "scatter", "histogram", "none")
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_CELLS = 200
MAX_SOURCE_CHARS = 50_000
MAX_NAME_CHARS = 120


class BadNotebookFile(AgentwatchError):
    """A file offered as a notebook is not one Agentwatch wrote (or is damaged)."""


def new_id() -> str:
    """A short random id: in the URL of a notebook and in the anchor of a cell."""
    return secrets.token_hex(6)


@dataclass(frozen=True)
class ChartSpec:
    """What a cell's chart draws: its kind and the result's columns for x, y and colour."""

    kind: str = "bar"
    x: str | None = None
    y: str | None = None
    color: str | None = None


@dataclass(frozen=True)
class Cell:
    kind: str
    source: str
    id: str = field(default_factory=new_id)
    chart: ChartSpec | None = None  # None: chosen from the result each time it runs
    unfiltered: bool = False  # True: reads every row, not only what the global filters select
    title: str = ""


@dataclass(frozen=True)
class Notebook:
    name: str
    cells: tuple[Cell, ...] = ()
    id: str = field(default_factory=new_id)
    updated_at: str = ""

    def cell(self, cell_id: str) -> Cell | None:
        return next((c for c in self.cells if c.id == cell_id), None)

    def with_cells(self, cells: list[Cell] | tuple[Cell, ...]) -> Notebook:
        return replace(self, cells=tuple(cells))

    def replaced(self, cell: Cell) -> Notebook:
        """This notebook with the cell of the same id replaced by ``cell``."""
        return self.with_cells([cell if c.id == cell.id else c for c in self.cells])

    def moved(self, cell_id: str, step: int) -> Notebook:
        """The cell moved ``step`` places (-1 up, +1 down), staying inside the notebook."""
        cells = list(self.cells)
        i = next((n for n, c in enumerate(cells) if c.id == cell_id), None)
        if i is None:
            return self
        j = min(max(i + step, 0), len(cells) - 1)
        cells.insert(j, cells.pop(i))
        return self.with_cells(cells)

    def added(self, cell: Cell, after: str | None = None) -> Notebook:
        """``cell`` inserted after the cell ``after`` (at the end if None or not found)."""
        cells = list(self.cells)
        i = next((n + 1 for n, c in enumerate(cells) if c.id == after), len(cells))
        cells.insert(i, cell)
        return self.with_cells(cells)

    def duplicated(self, cell_id: str) -> Notebook:
        """A copy of the cell, with a new id, just below it."""
        cell = self.cell(cell_id)
        return self if cell is None else self.added(replace(cell, id=new_id()), after=cell_id)

    def without(self, cell_id: str) -> Notebook:
        return self.with_cells([c for c in self.cells if c.id != cell_id])


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cells_to_json(cells: tuple[Cell, ...]) -> str:
    return json.dumps([asdict(c) for c in cells])


def cells_from_json(text: str) -> tuple[Cell, ...]:
    return tuple(_cell(item, i) for i, item in enumerate(json.loads(text)))


def to_file(notebook: Notebook) -> bytes:
    """The notebook as a JSON file a user can keep, share and open again."""
    body = {
        "format": FORMAT,
        "version": VERSION,
        "name": notebook.name,
        "cells": [asdict(c) for c in notebook.cells],
    }
    return json.dumps(body, indent=2).encode()


def from_file(data: bytes) -> Notebook:
    """A notebook read from a downloaded file, with a new id (opening it never overwrites one).

    Raises ``BadNotebookFile`` with one line saying what is wrong.
    """
    if len(data) > MAX_FILE_BYTES:
        raise BadNotebookFile(
            f"This file is {len(data) / 1e6:.1f} MB; a notebook file is at most {MAX_FILE_BYTES // 2**20} MB."
        )
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise BadNotebookFile(
            "This file is not a notebook (not JSON text). Open a file downloaded from the Explore page."
        ) from err
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise BadNotebookFile(
            "This JSON file is not an Agentwatch notebook. Open a file downloaded from the Explore page."
        )
    if body.get("version") != VERSION:
        raise BadNotebookFile(
            f"This notebook file has version {str(body.get('version'))[:20]};"
            f" this Agentwatch opens version {VERSION}."
        )
    cells = body.get("cells")
    if not isinstance(cells, list) or len(cells) > MAX_CELLS:
        raise BadNotebookFile(f"This notebook file's cells are not a list of at most {MAX_CELLS}.")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        name = "Opened notebook"
    return Notebook(name=name.strip()[:MAX_NAME_CHARS], cells=tuple(_cell(c, i) for i, c in enumerate(cells)))


def _cell(item: object, index: int) -> Cell:
    """One cell from its JSON form; anything unexpected is refused, naming the cell."""
    where = f"Cell {index + 1} of this notebook file"
    if not isinstance(item, dict):
        raise BadNotebookFile(f"{where} is not an object.")
    kind, source = item.get("kind"), item.get("source")
    if kind not in KINDS:
        raise BadNotebookFile(f"{where} has kind {str(kind)[:20]!r}; cells are 'sql' or 'markdown'.")
    if not isinstance(source, str) or len(source) > MAX_SOURCE_CHARS:
        raise BadNotebookFile(f"{where} has no text, or more than {MAX_SOURCE_CHARS:,} characters.")
    chart = item.get("chart")
    spec = None
    if isinstance(chart, dict):
        names = {k: chart.get(k) for k in ("x", "y", "color")}
        if chart.get("kind") not in CHART_KINDS or any(
            v is not None and not isinstance(v, str) for v in names.values()
        ):
            raise BadNotebookFile(f"{where} has a chart this Agentwatch does not draw.")
        spec = ChartSpec(kind=chart["kind"], **names)
    elif chart is not None:
        raise BadNotebookFile(f"{where} has a chart that is not an object.")
    cell_id = item.get("id")
    if not isinstance(cell_id, str) or not cell_id.isalnum() or len(cell_id) > 32:
        cell_id = new_id()
    title = item.get("title") if isinstance(item.get("title"), str) else ""
    return Cell(
        kind=kind,
        source=source,
        id=cell_id,
        chart=spec,
        unfiltered=bool(item.get("unfiltered")),
        title=title[:200],
    )
