"""Queries pushed down to the source PostgreSQL: nothing is loaded, only aggregates cross the wire.

Past what one machine holds, Agentwatch stops copying the source into DuckDB and runs the same
query functions inside PostgreSQL. Each model table becomes a common table expression over the
source's own tables (the adapter's ``model_selects``, the SELECTs it also loads with), cast to
the model's types, with the same cost estimates the store computes; the query function's
statement is then compiled for PostgreSQL and sent with its CTEs. Filter semantics are the
query functions', so both paths return the same frames (``tests/test_pushdown.py``).

Any engine that speaks PostgreSQL's SQL through SQLAlchemy (Citus, or a dialect whose engine
distributes work) takes the same path: the distribution is the database's business.

Scanning the source's tables on every rerun is what makes a pushed-down page slow (13.6 s for the
Overview at a million calls), so the hourly rollups the store builds at load
(``tables.ROLLUP_DDL``) are computed inside PostgreSQL once, at open, one GROUP BY each, and kept
in a local in-memory DuckDB, where the daily rollups are then summed from them; nothing is ever
written to the source. A statement is then routed by the tables it reads: model tables only, to
PostgreSQL as before; rollups only, to the local DuckDB; both (``additive_rows``: whole days and
hours from rollups, partial hours from raw rows), locally too, with each part that reads only
model tables run in PostgreSQL first and its rows put in its place. The parts are the
statement's own, so the figures are the store's.

Up to ``sources.copy_rows()`` source rows there is a quicker way still: a copy of the telemetry without its
bulky text (prompts, responses, attributes), built in the background by the store's own load
(``Store.build``) from the adapter's SELECTs cut to those columns, streamed. Once it is ready,
every statement that reads only copied columns runs on it, at the speed of a loaded source (the
Latency page at a million calls: 3.0 s in PostgreSQL, tens of milliseconds on the copy); the
statements that read the text (a call's prompt, a download of the calls) still run in
PostgreSQL. The copy takes the place of the rollups: it builds its own, from its rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal

import duckdb
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql import visitors

from data_layer import model, pricing
from data_layer.backend import SourceFacts
from data_layer.casts import to_model, typed_null
from data_layer.frames import typed_result, utc_times
from data_layer.sources.adapter import Adapter, ModelSelect, only_columns
from data_layer.sources.database import Database
from data_layer.store import SourceInfo, Store, Unappendable, agents_named
from data_layer.tables import MODEL, ROLLUP_DDL, ROLLUPS, compile_statement, literal_sql

COPIED = {name: frozenset(c.name for c in cols) - model.BULKY for name, cols in model.TABLES.items()}
"""Model table -> the columns the local copy holds."""


class PushdownBackend(SourceFacts):
    """A ``Backend`` over a PostgreSQL source: every statement runs inside it."""

    def __init__(
        self,
        db: Database,
        adapter: Adapter,
        info: SourceInfo,
        *,
        rollups: bool = True,
        background: bool = False,
        copy: bool = False,
        on_ready: Callable[[PushdownBackend], None] | None = None,
    ) -> None:
        """``rollups``: build the rollups locally (one scan of the source per hourly rollup);
        without them every statement runs in PostgreSQL. ``background``: build them on a thread
        of their own, so the source opens at once (at a million calls the rollups take tens of
        seconds); until they are ready (``rollups_ready``), statements run in PostgreSQL.
        ``copy``: build the local copy (``COPIED``) instead, which brings its own rollups;
        ``rollups_ready`` is then set once it is ready. ``on_ready`` is called once what is kept
        locally was read: after the copy (or its failure), else at once; a refresh takes its
        watermarks then (``data_layer.refresh``), so rows the copy read are not appended twice."""
        if db.dialect != "postgresql" or adapter.model_selects is None:
            raise ValueError("pushdown needs a PostgreSQL source whose adapter maps it in SQL")
        super().__init__()
        self.db = db
        self.info = info
        selects = adapter.model_selects(db)
        self._ctes = {name: _model_cte(name, selects.get(name)) for name in model.TABLES}
        self._ctes["agents"] = self._agents_or_named(self._ctes["agents"])
        self._ctes["llm_calls"] = self._calls_with_costs(self._ctes["llm_calls"])
        self._local = duckdb.connect(":memory:", config={"threads": 1})
        self._local.execute("set TimeZone = 'UTC'")
        self._lock = threading.Lock()
        self.has_rollups = False
        self.rollups_ready = threading.Event()  # set once the rollups are built, or have failed
        self._adapter = adapter
        self._copy: Store | None = None  # the local copy, once built (``copy``)
        self._on_ready = on_ready
        self.copying = copy  # until the copy is built (or failed); meanwhile PostgreSQL answers
        if not copy and on_ready is not None:
            on_ready(self)
        build = self._build_copy if copy else self._build_rollups
        if (rollups or copy) and background:
            threading.Thread(target=build, name="pushdown-local", daemon=True).start()
        elif rollups or copy:
            build(quiet=False)
        else:
            self.rollups_ready.set()

    @property
    def copied(self) -> bool:
        """Whether the local copy is built: statements reading only ``COPIED`` columns run on it."""
        return self._copy is not None

    def _build_copy(self, *, quiet: bool = True) -> None:
        """Load the model without its bulky columns into a store of its own, streamed from
        PostgreSQL table by table, by the store's own rules (types, cost estimates, rollups);
        only then use it. A failure is not raised on a thread of its own, as for the rollups."""
        try:
            selects = only_columns(self._adapter.model_selects(self.db), COPIED)
            tables = {
                name: (lambda stmt=selects[name]: self.db.read_batches(stmt))
                if name in selects
                else model.empty(name)
                for name in model.TABLES
            }
            self._copy = Store.build(model.Telemetry(system=self.info.system, tables=tables), self.info)
        except Exception:
            if not quiet:
                raise
        else:
            self.has_rollups = True
            self.forget()  # facts counted in PostgreSQL meanwhile: the copy may hold rows since
        finally:
            if self._on_ready is not None:
                self._on_ready(self)
            self.copying = False
            self.rollups_ready.set()

    def _build_rollups(self, *, quiet: bool = True) -> None:
        """Compute every hourly rollup in PostgreSQL and keep it locally, sum the daily ones from
        them locally; only then use them.

        On a thread of its own a failure (the server went away) is not raised: statements keep
        running in PostgreSQL, which reports the trouble itself.
        """
        try:
            for name, ddl in ROLLUP_DDL.items():
                if _reads(ddl.selectable) & set(ROLLUPS):  # a daily rollup: from the local hourly one
                    self._local.execute(literal_sql(ddl))
                else:
                    self._keep_locally(name, ddl.selectable)
        except Exception:
            if not quiet:
                raise
        else:
            self.has_rollups = True
        finally:
            self.rollups_ready.set()

    def run(self, stmt: sa.Executable) -> pd.DataFrame:
        """Run a query function's statement where its tables are: on the local copy when it
        holds every column the statement reads; else inside PostgreSQL, with the model tables
        as CTEs, or in the local DuckDB when it reads a rollup."""
        copy = self._copy
        if copy is not None and all(cols <= COPIED[table] for table, cols in _columns_read(stmt).items()):
            return copy.run(stmt)
        if not _reads(stmt) & set(ROLLUPS):
            return typed_result(utc_times(self._remote(stmt)), stmt)
        with self._cursor() as cur:
            local = self._localized(stmt, cur)
            sql, params = compile_statement(local)
            return typed_result(cur.execute(sql, params).df(), stmt)

    def append(self, tables: Mapping[str, model.Frame], keys: Mapping[str, str], info: SourceInfo) -> None:
        """A refresh's new rows (``data_layer.refresh``), added to the local copy without their
        bulky text (``Store.append``): the copy stays what a new one would be, and a refresh
        costs what changed. Without a copy there is nothing local to bring up to date:
        ``Unappendable``, and the caller opens the source again."""
        if self._copy is None:
            raise Unappendable("no local copy (yet) to add the rows to")
        self._copy.append({name: model.without_bulky(frame) for name, frame in tables.items()}, keys, info)
        self.info = info
        self.forget()

    def model_ctes(self) -> dict[str, sa.CTE]:
        """Each model table as the CTE the queries run over (notebook cells read them too)."""
        return dict(self._ctes)

    # -- where a statement runs ------------------------------------------------------------------

    def _remote(self, stmt: sa.Executable) -> pd.DataFrame:
        """The statement's rows from PostgreSQL, with the model tables it reads as CTEs."""
        try:
            with self.db.engine.connect() as con:
                result = con.execute(stmt.add_cte(*self._needed(stmt)))
                frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        except sa.exc.SQLAlchemyError as err:
            raise self.db.unavailable(err) from err
        for col in frame.columns:  # psycopg hands NUMERIC back as Decimal objects
            if frame[col].dtype == object and frame[col].map(type).isin([int, float, Decimal]).all():
                frame[col] = pd.to_numeric(frame[col].map(float, na_action="ignore"))
        return frame

    def _fetched(self, stmt: sa.Select) -> pd.DataFrame:
        """The statement's rows from PostgreSQL, each column in the pandas dtype of its SQL type,
        so DuckDB reads it as that type (a column of NULLs included) and NULLs stay NULL."""
        frame = self._remote(stmt)
        return pd.DataFrame(
            {c.name: _as_dtype(frame[c.name], c.type) for c in stmt.selected_columns}, index=frame.index
        )

    def _localized(self, stmt: sa.Executable, cur: duckdb.DuckDBPyConnection) -> sa.Executable:
        """The statement with each part that reads only model tables replaced by its rows,
        fetched from PostgreSQL and registered on ``cur``: what is left reads local tables."""
        fetched: list[str] = []

        def replace(element: sa.ClauseElement) -> sa.ClauseElement | None:
            if not isinstance(element, sa.Select) or _reads(element) & set(ROLLUPS):
                return None  # look inside
            name = f"_remote_{len(fetched)}"
            cur.register(name, self._fetched(element))
            fetched.append(name)
            rows = sa.table(name, *(sa.column(c.name, c.type) for c in element.selected_columns))
            return sa.select(*rows.c)

        return visitors.replacement_traverse(stmt, {}, replace)

    def _keep_locally(self, name: str, select: sa.Select) -> None:
        """Compute a rollup inside PostgreSQL and keep its rows in a local table of that name."""
        columns = select.selected_columns
        incoming = sa.table("_incoming", *(sa.column(c.name) for c in columns))
        typed = sa.select(*(sa.cast(incoming.c[c.name], c.type).label(c.name) for c in columns))
        self._local.register("_incoming", self._fetched(select))
        try:
            self._local.execute(literal_sql(sa.CreateTableAs(typed, name)))
        finally:
            self._local.unregister("_incoming")

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A local cursor of its own per statement: sessions run on threads of their own."""
        with self._lock:
            cur = self._local.cursor()
        try:
            yield cur
        finally:
            cur.close()

    # -- model tables as CTEs -----------------------------------------------------------------

    def _needed(self, stmt: sa.Executable) -> list[sa.CTE]:
        """The CTEs of the model tables the statement reads (all of them would also work)."""
        names = _reads(stmt)
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
        return _inlined(sa.union_all(sa.select(agents), fallback).add_cte(agents, *others.values()), "agents")

    def _calls_with_costs(self, calls: sa.CTE) -> sa.CTE:
        """llm_calls with the store's cost rule (``pricing.with_costs``), priced for the (model,
        day) pairs this source's calls without a recorded cost have."""
        with self.db.engine.connect() as con:
            pairs = [tuple(r) for r in con.execute(pricing.unpriced(calls).add_cte(calls)).fetchall()]
        prices = pricing.price_rows(pricing.price_table(pairs))
        priced = pricing.with_costs(calls, prices, enum=False).add_cte(calls).add_cte(prices)
        return _inlined(priced, "llm_calls")


def _reads(stmt: sa.ClauseElement) -> set[str]:
    """The names of the tables a statement reads, in any of its parts."""
    return {getattr(t, "name", None) for t in sa.sql.util.find_tables(stmt, include_crud=False)}


def _columns_read(stmt: sa.ClauseElement) -> dict[str, set[str]]:
    """Model table -> the columns a statement reads of it, in any of its parts; every column of
    a table it selects whole (``select(table)``)."""
    read: dict[str, set[str]] = {}
    for element in visitors.iterate(stmt):
        if isinstance(element, sa.Select):
            for whole in element._raw_columns:
                if _is_model(whole):
                    read.setdefault(whole.name, set()).update(whole.c.keys())
        elif isinstance(element, sa.ColumnClause) and _is_model(element.table):
            read.setdefault(element.table.name, set()).add(element.name)
    return read


def _is_model(table: object) -> bool:
    return isinstance(table, sa.TableClause) and MODEL.get(table.name) is table


def _as_dtype(values: pd.Series, kind: sa.types.TypeEngine) -> pd.Series:
    """``values`` as fetched (Python objects, None for NULL) in the nullable dtype of ``kind``."""
    if isinstance(kind, sa.Integer):
        return values.astype("Int64")
    if isinstance(kind, sa.Float | sa.Numeric):
        return values.map(float, na_action="ignore").astype("Float64")
    if isinstance(kind, sa.DateTime):
        return pd.to_datetime(values)
    if isinstance(kind, sa.Boolean):
        return values.astype("boolean")
    if isinstance(kind, sa.String):
        return values.astype("string")
    return values


def _inlined(rows: sa.Select | sa.CompoundSelect, name: str) -> sa.CTE:
    """``rows`` as a CTE PostgreSQL inlines wherever it is read. One read twice in a statement is
    otherwise computed once, whole, every column of every row (the prompts too), before it is
    read; the agents CTE reads every other one, so counting every model table took 17 s at a
    million calls rather than the 4 s its parts take."""
    return rows.cte(name).prefix_with("NOT MATERIALIZED")


def _model_cte(name: str, source: ModelSelect | None) -> sa.CTE:
    """One model table as a CTE: the adapter's SELECT, each column cast to the model's type."""
    cols = model.TABLES[name]
    cte_name = {"llm_calls": "_raw_calls", "agents": "_raw_agents"}.get(name, name)  # wrapped later
    if source is None:
        nothing = sa.select(*(typed_null(c.kind).label(c.name) for c in cols)).where(sa.false())
        return _inlined(nothing, cte_name)
    src = source.subquery(f"_source_{name}")
    return _inlined(sa.select(*(_cast(c, src).label(c.name) for c in cols)), cte_name)


def _cast(column: model.Column, src: sa.Subquery) -> sa.ColumnElement:
    """The source's value in the model's type; the session's TimeZone is UTC, so a TIMESTAMPTZ
    cast to TIMESTAMP is the naive UTC time the store holds."""
    if column.name not in src.c:
        return typed_null(column.kind)
    return to_model(src.c[column.name], column.kind, "postgresql")
