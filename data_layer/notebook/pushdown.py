"""Cells over a source queried in the database: run inside PostgreSQL, read-only, time-limited.

When queries are pushed down nothing is loaded, so a cell cannot run in the cell database; it
runs in the source PostgreSQL over the same model tables the query functions read (the
pushdown's CTEs), narrowed by the global filters, in a read-only transaction with a
``statement_timeout``. The session is read-only already (``data_layer.sources.database``);
the transaction says so again, and the parser check (``safety``, PostgreSQL's server functions
refused too) comes first.

The statement sent is ``WITH <model CTEs, renamed>, <filtered model tables> SELECT * FROM
(<cell>) AS cell``: the cell's own text is a fragment whose colons and percent signs are
escaped, and every filter value is a bound parameter.
"""

from __future__ import annotations

import time

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql import visitors

from data_layer.filters import Filters
from data_layer.frames import utc_times
from data_layer.model import TABLES
from data_layer.notebook.runner import (
    KEEP_ROWS,
    TIME_COLUMNS,
    TIMEOUT_VAR,
    CellFailed,
    CellResult,
    CellTimedOut,
    DuckDBCells,
    timeout_s,
)
from data_layer.notebook.safety import POSTGRES, CheckedQuery, check
from data_layer.queries._common import conditions
from data_layer.tables import MODEL


def cells_for(backend) -> DuckDBCells | PostgresCells:
    """The cell runner for a page's backend: in PostgreSQL when pushed down, else in DuckDB."""
    return PostgresCells(backend) if hasattr(backend, "model_ctes") else DuckDBCells(backend)


class PostgresCells:
    dialect = POSTGRES

    def __init__(self, backend) -> None:
        self.backend = backend

    def run(self, sql: str, filters: Filters, *, limit_s: float | None = None) -> CellResult:
        started = time.perf_counter()
        rows, columns, total = self._fetch(check(sql, self.dialect), filters, limit_s, KEEP_ROWS)
        frame = _frame(rows, columns)
        return CellResult(frame=frame, total_rows=total, seconds=time.perf_counter() - started)

    def all_rows(self, sql: str, filters: Filters, *, limit_s: float | None = None) -> pd.DataFrame:
        rows, columns, _ = self._fetch(check(sql, self.dialect), filters, limit_s, None)
        return _frame(rows, columns)

    def statement(self, query: CheckedQuery, filters: Filters) -> sa.Select:
        """The cell as one statement over the filtered model tables (bound parameters only)."""
        ctes = self.backend.model_ctes()
        added: list[sa.CTE] = []
        for name in sorted(query.tables):
            base = ctes[name].element.cte(f"_model_{name}")
            model_table = MODEL[name]
            terms = [
                visitors.replacement_traverse(
                    term, {}, lambda el, b=base, t=model_table: _column_of(el, b, t)
                )
                for term in conditions(model_table, filters, time=TIME_COLUMNS.get(name, "ts"))
            ]
            filtered = sa.select(*(base.c[c.name] for c in TABLES[name])).where(*terms).cte(name)
            added += [base, filtered]
        cell = sa.text(query.sql.replace(":", "\\:")).columns().subquery("cell")
        return sa.select(sa.literal_column("*")).select_from(cell).add_cte(*added)

    def _fetch(self, query: CheckedQuery, filters: Filters, limit_s: float | None, keep: int | None):
        limit = limit_s or timeout_s()
        stmt = self.statement(query, filters)
        try:
            with self.backend.db.engine.connect() as con:
                con.exec_driver_sql("set transaction read only")
                con.exec_driver_sql(f"set local statement_timeout = {int(limit * 1000)}")
                result = con.execute(stmt)
                columns = list(result.keys())
                rows = result.fetchall() if keep is None else result.fetchmany(keep)
                total = len(rows)
                if keep is not None:
                    while more := result.fetchmany(10_000):
                        total += len(more)
                con.rollback()
        except sa.exc.DBAPIError as err:
            if type(err.orig).__name__ == "QueryCanceled":
                raise CellTimedOut(
                    f"This cell ran longer than {limit:g} s and was stopped ({TIMEOUT_VAR})."
                    " Narrow the period or aggregate more; the other cells still ran."
                ) from err
            raise CellFailed(_one_line(err.orig or err)) from err
        return rows, columns, total


def _column_of(element, base: sa.CTE, table: sa.TableClause):
    if isinstance(element, sa.ColumnClause) and element.table is table:
        return base.c[element.name]
    return None


def _frame(rows: list, columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    for col in frame.columns:  # NUMERIC arrives as Decimal; integers keep NA as integers
        values = frame[col].dropna()
        if (
            frame[col].dtype == object
            and len(values)
            and values.map(lambda v: isinstance(v, (int, float)) or type(v).__name__ == "Decimal").all()
        ):
            numbers = pd.to_numeric(frame[col].map(float, na_action="ignore"))
            integral = values.map(lambda v: isinstance(v, int)).all()
            frame[col] = numbers.astype("Int64") if integral else numbers
        elif frame[col].dtype == object and len(values) and values.map(lambda v: isinstance(v, str)).all():
            frame[col] = frame[col].astype("string")
    return utc_times(frame)


def _one_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = lines[0] if lines else type(err).__name__
    return text if len(text) <= 300 else text[:299] + "…"
