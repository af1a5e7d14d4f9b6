"""The adapter contract: what every reader of a source system declares, and the helpers they share.

An adapter is a typed object, not a module found by ``hasattr``: the registry
(``data_layer.sources.registry``) lists them in the order they are tried, and everything outside
the adapters (the loader, pushdown, the pages' hints, the sidebar's titles) asks the registry
rather than naming a system, its tables or its columns.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from data_layer.model import TABLES, Telemetry
from data_layer.report import ReadingReport
from data_layer.sources.database import Database, Progress
from data_layer.sources.watermarks import Delta, Marks

# A model table in the source's terms: Core, a union of shapes, or SQL text where the mapping
# needs the source's own functions (jsonb, unnest, recursion).
ModelSelect = sa.Select | sa.CompoundSelect | sa.TextualSelect


@dataclass(frozen=True)
class Adapter:
    """One source system Agentwatch reads. Frozen: it is shared by every session and never changes.

    An adapter reads databases (``recognises`` and ``load``), files (``recognises_file`` and
    ``load_file``) or both. ``provides`` are the model tables it can fill from some source of its
    system; which ones a given source fills is the ``Telemetry``'s business. ``model_selects``,
    when present, maps the source in SQL, one SELECT per model table, so queries can run inside
    the source database (pushdown); ``tables`` are then the source tables those SELECTs read and
    ``events_table`` the one whose row count is the source's event total.
    """

    system: str  # the name ``summarize`` reports
    title: str  # the name people know it by
    needs: str  # what a source must hold to be recognised, for messages
    provides: frozenset[str]
    formats: str = ""  # which sources of the system it reads, when not only its database
    recognises: Callable[[Database], bool] | None = None
    load: Callable[[Database, Progress], Telemetry] | None = None
    # A load of only some model columns (the rest missing), for callers that need a few figures
    # and not the text: ``python -m data_layer summarize``. Without it they get the whole load.
    load_columns: Callable[[Database, Progress, Mapping[str, Collection[str]]], Telemetry] | None = None
    recognises_file: Callable[[Path, str], bool] | None = None
    load_file: Callable[[Path, str, Progress], Telemetry] | None = None
    model_selects: Callable[[Database], dict[str, ModelSelect]] | None = None
    # With model_selects: the reading report of those SELECTs, from the source tables' row counts
    # (pushdown settles it against the model's counts, as a load does).
    reading: Callable[[Database, dict[str, int]], ReadingReport] | None = None
    tables: tuple[str, ...] = ()
    events_table: str | None = None
    # Refreshing (``data_layer.refresh``): the source tables whose watermarks say whether the
    # source changed (default: ``tables``, else every table), a column per table whose maximum
    # moves when rows are updated in place, and, for append-only sources, a reader of the rows
    # past the old watermarks up to the new ones. Without it a changed source is read in full.
    watched: tuple[str, ...] = ()
    changes: Mapping[str, str] = field(default_factory=dict)
    load_since: Callable[[Database, Marks, Marks, Progress], Delta] | None = None

    def __post_init__(self) -> None:
        if unknown := self.provides - set(TABLES):
            raise ValueError(f"{self.system}: not model tables: {sorted(unknown)}")
        if (self.recognises is None) != (self.load is None):
            raise ValueError(f"{self.system}: a database adapter needs both recognises and load")
        if (self.recognises_file is None) != (self.load_file is None):
            raise ValueError(f"{self.system}: a file adapter needs both recognises_file and load_file")

    @property
    def reads_databases(self) -> bool:
        return self.recognises is not None

    @property
    def reads_files(self) -> bool:
        return self.recognises_file is not None

    def watched_tables(self, db: Database) -> tuple[str, ...]:
        """The source tables whose watermarks tell whether a source of this system changed."""
        return self.watched or self.tables or tuple(sorted(db.catalog()))

    @property
    def can_push_down(self) -> bool:
        return self.model_selects is not None

    @property
    def described(self) -> str:
        """The title, with the kinds of source read when there is more than one."""
        return f"{self.title} ({self.formats})" if self.formats else self.title


def optional_column(table: sa.TableClause, name: str) -> sa.ColumnElement:
    """The column if the source has it, else NULL: older or trimmed databases lack optional columns."""
    return table.c[name] if name in table.c else sa.null()


def only_columns(
    selects: dict[str, ModelSelect], columns: Mapping[str, Collection[str]]
) -> dict[str, ModelSelect]:
    """The SELECTs cut to the model columns asked for, with the same rows: the joins and filters
    stay. SQL text, DISTINCT and GROUP BY (whose rows depend on the columns) stay whole."""
    return {name: _only(stmt, columns.get(name, ())) for name, stmt in selects.items()}


def _only(stmt: ModelSelect, keep: Collection[str]) -> ModelSelect:
    if isinstance(stmt, sa.CompoundSelect):
        return sa.CompoundSelect(stmt.keyword, *(_only(part, keep) for part in stmt.selects))
    if not isinstance(stmt, sa.Select) or stmt._distinct or stmt._group_by_clauses:
        return stmt
    kept = [c for c in stmt.selected_columns if c.key in keep] or list(stmt.selected_columns)[:1]
    return stmt.with_only_columns(*kept, maintain_column_froms=True)


def source_columns(selects: dict[str, ModelSelect]) -> dict[str, set[str]]:
    """Source table -> the columns the SELECTs read of it (in their columns, joins and filters)."""
    used: dict[str, set[str]] = {}
    for stmt in selects.values():
        for element in sa.sql.visitors.iterate(stmt):
            if isinstance(element, sa.ColumnClause) and isinstance(element.table, sa.TableClause):
                used.setdefault(element.table.name, set()).add(element.name)
    return used


def select_fields(selects: dict[str, ModelSelect]) -> dict[str, str]:
    """``table.column`` of the source -> ``table.column`` of the model, read off the SELECTs' labels.

    For the reading report: the SELECTs already say which source column feeds which model column,
    so the mapping is written once. Computed values (a CASE, a literal) name no source column.
    """
    pairs: dict[str, str] = {}
    for model_table, stmt in selects.items():
        if not isinstance(stmt, sa.Select) or model_table not in TABLES:
            continue  # a union of shapes, or a frame reshaped later: not named here
        for column in stmt.selected_columns:
            source = column
            while not isinstance(source, sa.ColumnClause):
                inner = getattr(source, "element", None)
                inner = inner if inner is not None else getattr(source, "clause", None)
                if inner is None:
                    break
                source = inner  # a label, a cast: the column inside
            if isinstance(source, sa.ColumnClause) and source.table is not None:
                pairs.setdefault(f"{source.table.name}.{source.name}", f"{model_table}.{column.key}")
    return pairs
