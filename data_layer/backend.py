"""What the queries and pages need of a loaded source, whatever holds it: the ``Backend`` protocol.

Two backends implement it: the DuckDB ``Store`` (``data_layer.store``), which holds a copy of the
telemetry model, and ``PushdownBackend`` (``data_layer.pushdown``), which runs every statement
inside the source PostgreSQL. Pages are typed with the protocol, so they cannot tell them apart.

What changes only when the data does (its time span, row counts, filter choices and data
quality) is computed once per backend and kept until a refresh adds rows, by ``SourceFacts``,
however many sessions and reruns ask: callers just call the method.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

import pandas as pd
import sqlalchemy as sa

from data_layer import model
from data_layer.queries import catalog
from data_layer.tables import MODEL

if TYPE_CHECKING:
    from data_layer.refresh import Origin
    from data_layer.store import SourceInfo

T = TypeVar("T")


class Backend(Protocol):
    """A loaded source the queries run against.

    ``run`` returns frames whose times are UTC-aware and whose integer columns are nullable ints.
    ``has_rollups`` says whether the rollups of ``data_layer.tables.ROLLUPS`` exist.
    """

    info: SourceInfo
    has_rollups: bool

    def run(self, stmt: sa.Executable) -> pd.DataFrame:
        """Run a SQLAlchemy Core statement over the model tables."""
        ...

    def frame(self, table: str, limit: int | None = None) -> pd.DataFrame:
        """A model table (its first ``limit`` rows) with the model's dtypes."""
        ...

    def time_span(self) -> tuple[datetime | None, datetime | None]:
        """Earliest and latest activity, UTC-aware (None if there is none)."""
        ...

    def row_counts(self) -> dict[str, int]:
        """Rows per model table."""
        ...

    def filter_options(self) -> dict[str, list[str]]:
        """The values each sidebar filter can take (``queries.filter_options``)."""
        ...

    def data_quality(self) -> pd.DataFrame:
        """Findings about the whole source (``queries.data_quality``)."""
        ...

    def metric_names(self) -> frozenset[str]:
        """The metric names the source records (``queries.metric_names``)."""
        ...


class Memo:
    """Values computed once and shared, thread-safe (two sessions may ask at once)."""

    def __init__(self) -> None:
        self._values: dict[str, object] = {}
        self._lock = threading.Lock()
        self._generation = 0

    def __call__(self, name: str, compute: Callable[[], T]) -> T:
        with self._lock:
            if name in self._values:
                return self._values[name]  # type: ignore[return-value]
            generation = self._generation
        value = compute()
        with self._lock:
            if generation != self._generation:  # the data changed while computing: do not keep it
                return value
            return self._values.setdefault(name, value)  # type: ignore[return-value]

    def clear(self) -> None:
        """Forget every value: the data they were computed from changed."""
        with self._lock:
            self._values.clear()
            self._generation += 1


class SourceFacts:
    """The ``Backend`` methods every backend answers the same way, through its own ``run``.

    The answers are kept until the backend's data changes (a refresh appended rows: ``forget``);
    a source read in full again is a new backend. Callers get the same object each time and must
    not change it.
    """

    def __init__(self) -> None:
        self._memo = Memo()
        self.origin: Origin | None = None  # where the rows came from, for a refresh (``data_layer.refresh``)
        self.version = 0  # counts the times the rows changed in place: caches of rows key on it

    def forget(self) -> None:
        """Drop the kept answers: the rows they were computed from changed."""
        self._memo.clear()
        self.version += 1

    def run(self, stmt: sa.Executable) -> pd.DataFrame:
        raise NotImplementedError

    def frame(self, table: str, limit: int | None = None) -> pd.DataFrame:
        stmt = sa.select(MODEL[table])
        if limit is not None:
            stmt = stmt.limit(limit)
        return model.conform(table, self.run(stmt))

    def time_span(self) -> tuple[datetime | None, datetime | None]:
        return self._memo("time_span", lambda: catalog.time_span(self))

    def row_counts(self) -> dict[str, int]:
        return self._memo("row_counts", lambda: catalog.row_counts(self))

    def filter_options(self) -> dict[str, list[str]]:
        return self._memo("filter_options", lambda: catalog.filter_options(self))

    def data_quality(self) -> pd.DataFrame:
        return self._memo("data_quality", lambda: catalog.data_quality(self))

    def metric_names(self) -> frozenset[str]:
        return self._memo("metric_names", lambda: catalog.metric_names(self))
