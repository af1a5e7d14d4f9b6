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

from decimal import Decimal

import pandas as pd
import sqlalchemy as sa

from data_layer import model, pricing
from data_layer.backend import SourceFacts, typed_result, utc_times
from data_layer.casts import to_model, typed_null
from data_layer.sources.adapter import Adapter, ModelSelect
from data_layer.sources.database import Database
from data_layer.store import SourceInfo, agents_named


class PushdownBackend(SourceFacts):
    """A ``Backend`` over a PostgreSQL source: every statement runs inside it."""

    has_rollups = False

    def __init__(self, db: Database, adapter: Adapter, info: SourceInfo) -> None:
        if db.dialect != "postgresql" or adapter.model_selects is None:
            raise ValueError("pushdown needs a PostgreSQL source whose adapter maps it in SQL")
        super().__init__()
        self.db = db
        self.info = info
        selects = adapter.model_selects(db)
        self._ctes = {name: _model_cte(name, selects.get(name)) for name in model.TABLES}
        self._ctes["agents"] = self._agents_or_named(self._ctes["agents"])
        self._ctes["llm_calls"] = self._calls_with_costs(self._ctes["llm_calls"])

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

    def model_ctes(self) -> dict[str, sa.CTE]:
        """Each model table as the CTE the queries run over (notebook cells read them too)."""
        return dict(self._ctes)

    # -- model tables as CTEs -----------------------------------------------------------------

    def _needed(self, stmt: sa.Executable) -> list[sa.CTE]:
        """The CTEs of the model tables the statement reads (all of them would also work)."""
        names = {getattr(t, "name", None) for t in sa.sql.util.find_tables(stmt, include_crud=False)}
        return [cte for name, cte in self._ctes.items() if name in names]

    def _agents_or_named(self, agents: sa.CTE) -> sa.CTE:
        """The source's agents, or where it lists none, the agents its other tables name: the
        store's rule at load (``store.agents_named``)."""
        others = {name: cte for name, cte in self._ctes.items() if name != "agents"}
        named = agents_named(others).subquery("_named_agents")
        cols = model.TABLES["agents"]
        fallback = sa.select(
            *(named.c.agent if c.name == "agent" else typed_null(c.kind).label(c.name) for c in cols)
        ).where(~sa.exists(sa.select(agents.c.agent)))
        return sa.union_all(sa.select(agents), fallback).add_cte(agents, *others.values()).cte("agents")

    def _calls_with_costs(self, calls: sa.CTE) -> sa.CTE:
        """llm_calls with the store's cost rule (``pricing.with_costs``), priced for the (model,
        day) pairs this source's calls without a recorded cost have."""
        with self.db.engine.connect() as con:
            pairs = [tuple(r) for r in con.execute(pricing.unpriced(calls).add_cte(calls)).fetchall()]
        prices = pricing.price_rows(pricing.price_table(pairs))
        return pricing.with_costs(calls, prices, enum=False).add_cte(calls).add_cte(prices).cte("llm_calls")


def _model_cte(name: str, source: ModelSelect | None) -> sa.CTE:
    """One model table as a CTE: the adapter's SELECT, each column cast to the model's type."""
    cols = model.TABLES[name]
    cte_name = {"llm_calls": "_raw_calls", "agents": "_raw_agents"}.get(name, name)  # wrapped later
    if source is None:
        return sa.select(*(typed_null(c.kind).label(c.name) for c in cols)).where(sa.false()).cte(cte_name)
    src = source.subquery(f"_source_{name}")
    return sa.select(*(_cast(c, src).label(c.name) for c in cols)).cte(cte_name)


def _cast(column: model.Column, src: sa.Subquery) -> sa.ColumnElement:
    """The source's value in the model's type; the session's TimeZone is UTC, so a TIMESTAMPTZ
    cast to TIMESTAMP is the naive UTC time the store holds."""
    if column.name not in src.c:
        return typed_null(column.kind)
    return to_model(src.c[column.name], column.kind, "postgresql")
