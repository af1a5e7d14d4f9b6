"""Queries pushed down to the source PostgreSQL: nothing is loaded, only aggregates cross the wire.

Past what one machine holds, Agentwatch stops copying the source into DuckDB and runs the same
query functions inside PostgreSQL. Each model table becomes a common table expression over the
source's own tables (the adapter's ``model_selects``, the SELECTs it also loads with), cast to
the model's types, with the same cost estimates the store computes; the query function's
statement is then compiled for PostgreSQL and sent with its CTEs. Filter semantics are the
query functions', so both paths return the same frames (``tests/test_pushdown.py``).

Any engine that speaks PostgreSQL's SQL through SQLAlchemy (Citus, or a dialect whose engine
distributes work) takes the same path: the distribution is the database's business.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import pandas as pd
import sqlalchemy as sa

from data_layer import model
from data_layer.pricing import PRICE_COLUMNS, price_table
from data_layer.sources.adapter import Adapter
from data_layer.sources.database import Database
from data_layer.store import Memo, SourceInfo, typed_result, utc_times
from data_layer.tables import MODEL

T = TypeVar("T")

_SA_TYPES = {
    "text": sa.String(),
    "time": sa.DateTime(),
    "int": sa.BigInteger(),
    "float": sa.Double(),
    "bool": sa.Boolean(),
}


class PushdownBackend:
    """A query backend over a PostgreSQL source; the interface the pages use of a ``Store``."""

    has_rollups = False

    def __init__(self, db: Database, adapter: Adapter, info: SourceInfo) -> None:
        if db.dialect != "postgresql" or adapter.model_selects is None:
            raise ValueError("pushdown needs a PostgreSQL source whose adapter maps it in SQL")
        self.db = db
        self.info = info
        self._memo = Memo()
        selects = adapter.model_selects(db)
        self._ctes = {name: _model_cte(name, selects.get(name)) for name in model.TABLES}
        self._ctes["llm_calls"] = self._calls_with_costs(self._ctes["llm_calls"])

    # -- the Store interface the queries and pages use ----------------------------------------

    def run(self, stmt: sa.Executable) -> pd.DataFrame:
        """Run a query function's statement inside PostgreSQL, with the model tables as CTEs."""
        try:
            with self.db.engine.connect() as con:
                result = con.execute(stmt.add_cte(*self._needed(stmt)))
                frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        except sa.exc.SQLAlchemyError as err:
            raise self.db.unavailable(err) from err
        for col in frame.columns:  # psycopg hands NUMERIC back as Decimal objects
            if frame[col].dtype == object and frame[col].map(type).isin([int, float, Decimal]).all():
                frame[col] = pd.to_numeric(frame[col].map(float, na_action="ignore"))
        return typed_result(utc_times(frame), stmt)

    def memo(self, name: str, compute: Callable[[], T]) -> T:
        """As ``Store.memo``: row counts and filter choices are asked of PostgreSQL once."""
        return self._memo(name, compute)

    def row_counts(self) -> dict[str, int]:
        return {
            name: int(self.run(sa.select(sa.func.count()).select_from(MODEL[name])).iloc[0, 0])
            for name in model.TABLES
        }

    def time_span(self):
        lows, highs = [], []
        for name, cols in model.TABLES.items():
            for c in cols:
                if c.kind == "time" and name != "agents":
                    column = MODEL[name].c[c.name]
                    row = self.run(
                        sa.select(sa.func.min(column).label("lo"), sa.func.max(column).label("hi"))
                    ).iloc[0]
                    lows.append(row["lo"])
                    highs.append(row["hi"])
        lows = [t for t in lows if not pd.isna(t)]
        highs = [t for t in highs if not pd.isna(t)]
        return (min(lows).to_pydatetime() if lows else None, max(highs).to_pydatetime() if highs else None)

    def frame(self, table: str, limit: int | None = None) -> pd.DataFrame:
        stmt = sa.select(MODEL[table])
        if limit is not None:
            stmt = stmt.limit(limit)
        return model.conform(table, self.run(stmt))

    def model_ctes(self) -> dict[str, sa.CTE]:
        """Each model table as the CTE the queries run over (notebook cells read them too)."""
        return dict(self._ctes)

    # -- model tables as CTEs -----------------------------------------------------------------

    def _needed(self, stmt: sa.Executable) -> list[sa.CTE]:
        """The CTEs of the model tables the statement reads (all of them would also work)."""
        names = {getattr(t, "name", None) for t in sa.sql.util.find_tables(stmt, include_crud=False)}
        return [cte for name, cte in self._ctes.items() if name in names]

    def _calls_with_costs(self, calls: sa.CTE) -> sa.CTE:
        """llm_calls with the store's cost rule: recorded, else a genai-prices estimate, else unknown."""
        needed = (
            sa.select(calls.c.model, sa.cast(calls.c.ts, sa.Date).label("day"))
            .where(
                calls.c.cost_usd.is_(None),
                calls.c.model.is_not(None),
                calls.c.ts.is_not(None),
                calls.c.tokens_in.is_not(None),
                calls.c.tokens_out.is_not(None),
            )
            .distinct()
        )
        with self.db.engine.connect() as con:
            pairs = [tuple(r) for r in con.execute(needed.add_cte(calls)).fetchall()]
        p = _prices_cte(price_table(pairs))
        raw = calls
        estimate = raw.c.tokens_in * p.c.usd_in + raw.c.tokens_out * p.c.usd_out + p.c.usd_call
        computed = {
            "cost_usd": sa.func.coalesce(raw.c.cost_usd, estimate),
            "cost_source": sa.case(
                (raw.c.cost_usd.is_not(None), "recorded"),
                (p.c.model.is_not(None), "estimated"),
                else_="unknown",
            ),
        }
        select = [computed.get(c.name, raw.c[c.name]).label(c.name) for c in model.TABLES["llm_calls"]]
        joined = raw.outerjoin(
            p,
            sa.and_(
                raw.c.cost_usd.is_(None),
                p.c.model == raw.c.model,
                p.c.day == sa.cast(raw.c.ts, sa.Date),
                raw.c.tokens_in > p.c.above_tokens_in,
                raw.c.tokens_in <= p.c.up_to_tokens_in,
                raw.c.tokens_out.is_not(None),
            ),
        )
        return sa.select(*select).select_from(joined).add_cte(raw).add_cte(p).cte("llm_calls")


def _model_cte(name: str, source: sa.Select | None) -> sa.CTE:
    """One model table as a CTE: the adapter's SELECT, each column cast to the model's type."""
    cols = model.TABLES[name]
    inner_name = f"_source_{name}"
    if source is None:
        return sa.select(*(_typed_null(c).label(c.name) for c in cols)).where(sa.false()).cte(name)
    src = source.subquery(inner_name)
    return sa.select(*(_cast(c, src).label(c.name) for c in cols)).cte(
        name if name != "llm_calls" else "_raw_calls"
    )


def _typed_null(column: model.Column) -> sa.ColumnElement:
    if column.kind == "text_list":
        return sa.cast(sa.null(), sa.ARRAY(sa.String()))
    return sa.cast(sa.null(), _SA_TYPES[column.kind])


def _cast(column: model.Column, src: sa.Subquery) -> sa.ColumnElement:
    """The source's value in the model's type; the session's TimeZone is UTC, so a TIMESTAMPTZ
    cast to TIMESTAMP is the naive UTC time the store holds."""
    if column.name not in src.c:
        return _typed_null(column)
    value = src.c[column.name]
    if column.kind == "text_list":  # JSON text to text[]: an array's items, else the one value
        as_json = sa.cast(sa.cast(value, sa.String), sa.JSON)
        items = sa.func.json_array_elements_text(as_json).table_valued("value")
        array = sa.select(
            sa.func.coalesce(sa.func.array_agg(items.c.value), sa.literal([], sa.ARRAY(sa.String())))
        )
        single = sa.select(sa.func.array_agg(sa.cast(value, sa.String)))
        return sa.case(
            (value.is_(None), sa.cast(sa.null(), sa.ARRAY(sa.String()))),
            (sa.func.json_typeof(as_json) == "array", array.scalar_subquery()),
            else_=single.scalar_subquery(),
        )
    if column.kind == "float":
        number = sa.cast(value, sa.Double())
        return sa.case((sa.func.abs(number) < float("inf"), number))  # NaN and ±inf are missing
    if column.kind == "text" and column.name in ("severity", "level", "status", "cost_source"):
        return sa.cast(value, sa.String())
    return sa.cast(value, _SA_TYPES[column.kind])


def _prices_cte(prices: pd.DataFrame) -> sa.CTE:
    types = [sa.String(), sa.Date(), sa.BigInteger(), sa.BigInteger(), sa.Double(), sa.Double(), sa.Double()]
    columns = [sa.column(name, t) for name, t in zip(PRICE_COLUMNS, types, strict=True)]
    if prices.empty:
        return (
            sa.select(*(sa.cast(sa.null(), t).label(n) for n, t in zip(PRICE_COLUMNS, types, strict=True)))
            .where(sa.false())
            .cte("_prices")
        )
    rows = [
        (
            r.model,
            r.day.date(),
            int(r.above_tokens_in),
            int(r.up_to_tokens_in),
            float(r.usd_in),
            float(r.usd_out),
            float(r.usd_call),
        )
        for r in prices.itertuples()
    ]
    return sa.values(*columns, name="_prices_values").data(rows).cte("_prices")
