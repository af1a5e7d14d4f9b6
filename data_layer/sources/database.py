"""Read-only access to a source database: SQLite files and PostgreSQL servers.

Agentwatch never writes to a user's database, and this module is where that is enforced:
SQLite files are opened through a ``mode=ro`` URI, PostgreSQL sessions start with
``default_transaction_read_only`` on, so even a bug that tried to write would be refused.

Bulk reads skip SQLAlchemy's row objects: SQLite rows are fetched in chunks straight into
frames, PostgreSQL results arrive as Arrow through ADBC (libpq's binary COPY), both several
times faster than ``pandas.read_sql`` at millions of rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url

from data_layer.errors import SourceUnavailable
from data_layer.model import Frame, to_pandas

Progress = Callable[[str, float | None], None]
"""Called with a sentence about what is being read and the fraction done (None if unknown)."""

T = TypeVar("T")
_CHUNK_ROWS = 200_000
_CONNECT_TIMEOUT_S = 5


def _no_progress(_message: str, _fraction: float | None) -> None:
    pass


def masked(url: str | URL) -> str:
    """The URL as it may be shown to a person: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: show nothing of it that could be a secret
        return "<unparseable database URL>"


class Database:
    """A read-only handle on one SQLite file or PostgreSQL database."""

    def __init__(self, url: str | URL, label: str | None = None) -> None:
        try:
            self.url = make_url(url)
        except Exception as err:
            raise SourceUnavailable(
                "Cannot parse the database URL. Use postgresql://user@host:5432/dbname or a SQLite file path."
            ) from err
        backend = self.url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise SourceUnavailable(
                f"Agentwatch reads SQLite and PostgreSQL databases, not {backend} ({masked(self.url)})."
                " Point it at a SQLite file or a postgresql:// URL."
            )
        self.dialect = backend
        self.label = label or masked(self.url)
        self.engine = _engine(self.url)
        self._catalog: dict[str, set[str]] | None = None
        self._current_schema: str | None = None

    @classmethod
    def sqlite_file(cls, path: Path, label: str | None = None) -> Database:
        return cls(URL.create("sqlite", database=str(path.resolve())), label=label or str(path))

    # -- introspection ------------------------------------------------------------------------

    def catalog(self) -> dict[str, set[str]]:
        """Tables (PostgreSQL: of the search path) and their columns, lower-cased."""
        if self._catalog is None:
            try:
                inspector = sa.inspect(self.engine)
                names = inspector.get_table_names()
                if self.dialect == "postgresql":  # a partitioned table is read through its parent
                    names = [n for n in names if n not in self._partitions()]
                self._catalog = {
                    name.lower(): {c["name"].lower() for c in inspector.get_columns(name)} for name in names
                }
            except sa.exc.SQLAlchemyError as err:
                raise self.unavailable(err) from err
        return self._catalog

    def _partitions(self) -> set[str]:
        with self.engine.connect() as con:
            rows = con.execute(sa.text("select relname from pg_class where relispartition"))
            return {r[0] for r in rows}

    def has(self, table: str, *columns: str) -> bool:
        found = self.catalog().get(table)
        return found is not None and set(columns) <= found

    def columns(self, table: str) -> set[str]:
        return self.catalog().get(table, set())

    def table(self, name: str) -> sa.TableClause:
        """A Core table over the columns the source really has, for building SELECTs.

        On PostgreSQL it is schema-qualified: pushed-down queries name the model's tables
        (``events``, ``llm_calls``) as CTEs, and the source's own must not be mistaken for them.
        """
        return sa.table(name, *(sa.column(c) for c in sorted(self.columns(name))), schema=self._schema())

    def _schema(self) -> str | None:
        if self.dialect != "postgresql":
            return None
        if self._current_schema is None:
            with self.engine.connect() as con:
                self._current_schema = con.execute(sa.text("select current_schema()")).scalar()
        return self._current_schema

    # -- reading ------------------------------------------------------------------------------

    def count(self, table: str) -> int:
        """Rows of one source table, through the pooled connection (no new connection each)."""
        try:
            with self.engine.connect() as con:
                return int(con.execute(sa.select(sa.func.count()).select_from(self.table(table))).scalar())
        except sa.exc.SQLAlchemyError as err:
            raise self.unavailable(err) from err

    def read(self, stmt: sa.Executable, progress: Progress = _no_progress, what: str = "") -> pd.DataFrame:
        """Run one SELECT on the source and return every row as a pandas frame."""
        return to_pandas(self.read_arrow(stmt, progress, what))

    def read_arrow(self, stmt: sa.Executable, progress: Progress = _no_progress, what: str = "") -> Frame:
        """Run one SELECT and return its rows as Arrow where the driver gives Arrow (no copy into
        Python objects: the fast path at millions of rows), else as pandas.
        """
        try:
            if self.dialect == "sqlite":
                return self._read_sqlite(stmt, progress, what)
            return self._read_postgres(stmt, progress, what)
        except (sqlite3.Error, sa.exc.SQLAlchemyError, OSError) as err:
            raise self.unavailable(err) from err
        except Exception as err:
            if type(err).__module__.startswith("adbc_driver"):
                raise self.unavailable(err) from err
            raise

    def _read_sqlite(self, stmt: sa.Executable, progress: Progress, what: str) -> Frame:
        compiled = stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True})
        params = [compiled.params[name] for name in compiled.positiontup or ()]
        progress(f"Reading {what or 'rows'}", None)
        return self._read_sqlite_sql(compiled.string, params, progress, what)

    def _read_sqlite_sql(self, sql: str, params: list, progress: Progress, what: str) -> Frame:
        fast = _read_sqlite_arrow(str(self.url.database), sql, params)
        if fast is not None:
            return fast
        with closing(_sqlite_connect(self.url.database)) as con:
            cur = con.execute(sql, params)
            names = [d[0] for d in cur.description]
            chunks = []
            done = 0
            while rows := cur.fetchmany(_CHUNK_ROWS):
                chunks.append(pd.DataFrame.from_records(rows, columns=names, coerce_float=False))
                done += len(rows)
                progress(f"Read {done:,} rows{' of ' + what if what else ''}", None)
        if not chunks:
            return pd.DataFrame({n: pd.Series(dtype=object) for n in names})
        return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]

    def _read_postgres(self, stmt: sa.Executable, progress: Progress, what: str) -> pa.Table:
        import adbc_driver_postgresql.dbapi as adbc

        compiled = stmt.compile(
            dialect=postgresql.dialect(paramstyle="numeric_dollar"),
            compile_kwargs={"render_postcompile": True},
        )
        params = [compiled.params[name] for name in compiled.positiontup or ()]
        progress(f"Reading {what or 'rows'} from PostgreSQL", None)
        with adbc.connect(_libpq_uri(self.url)) as con, con.cursor() as cur:
            cur.execute(compiled.string, params or None)
            table = cur.fetch_arrow_table()
        return _plain_arrow(table)

    def read_batches(
        self, stmt: sa.Executable, progress: Progress = _no_progress, what: str = ""
    ) -> pa.RecordBatchReader:
        """Run one SELECT on PostgreSQL and return its rows as a stream of Arrow record batches,
        read from the server as they are consumed: at ten million rows the whole result read at
        once took 5 GB, a stream one batch at a time. The connection closes when the stream ends.
        """
        import adbc_driver_postgresql.dbapi as adbc

        # Values inline, not bound: the driver streams a result through COPY, in batches of about
        # 16 MB, only for a statement without parameters; otherwise it receives the result whole
        # (a million calls in one batch).
        try:
            sql, params = (
                # numeric_dollar: the driver's own placeholders, so a literal % stays one % (the
                # default pyformat dialect doubles it: Sentinel's "%" unit came back as "%%").
                str(stmt.compile(dialect=_LITERAL_DIALECT, compile_kwargs={"literal_binds": True})),
                None,
            )
        except sa.exc.CompileError:  # a value with no literal form: bound, and received whole
            compiled = stmt.compile(
                dialect=postgresql.dialect(paramstyle="numeric_dollar"),
                compile_kwargs={"render_postcompile": True},
            )
            sql, params = compiled.string, [compiled.params[name] for name in compiled.positiontup or ()]
        progress(f"Reading {what or 'rows'} from PostgreSQL", None)
        con = self._source_errors(adbc.connect, _libpq_uri(self.url))
        try:
            cur = con.cursor()
            self._source_errors(cur.execute, sql, params or None)
            reader = cur.fetch_record_batch()
        except BaseException:
            con.close()
            raise

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                while (batch := self._source_errors(_next_batch, reader)) is not None:
                    yield _plain_batch(batch)
            finally:
                cur.close()
                con.close()

        return pa.RecordBatchReader.from_batches(_plain_schema(reader.schema), batches())

    def read_ranges(
        self, stmt: sa.Executable, ranges: Sequence[Mapping[str, object]]
    ) -> pa.RecordBatchReader:
        """Run one SELECT on SQLite once per range (values of its bound parameters, ``stmt``'s own
        where a range leaves one out) and return the rows as one stream of Arrow record batches,
        one range in memory at a time, the next read on a thread of its own meanwhile (SQLite lets
        go of the GIL). At ten million calls the tables read whole took 2.4 GB before any join.

        Each range is typed from its own rows (``_read_sqlite_arrow``); the stream has the types
        of the first range with rows. A later range's column is cast to them; all-missing columns
        are typed as text, which every number and flag casts to without loss.
        """
        compiled = stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True})
        order = compiled.positiontup or ()

        def read(values: Mapping[str, object]) -> pa.Table:
            params = [values[name] if name in values else compiled.params[name] for name in order]
            frame = self._source_errors(self._read_sqlite_sql, compiled.string, params, _no_progress, "")
            return frame if isinstance(frame, pa.Table) else _arrow_of(frame)

        first, done = read(ranges[0] if ranges else {}), 1
        while first.num_rows == 0 and done < len(ranges):  # the types come from rows, if any
            first, done = read(ranges[done]), done + 1
        schema = first.schema

        def batches() -> Iterator[pa.RecordBatch]:
            yield from first.to_batches()
            with ThreadPoolExecutor(max_workers=1) as pool:
                ahead: Future[pa.Table] | None = None
                for values in ranges[done:]:
                    current, ahead = ahead, pool.submit(read, values)
                    if current is not None:
                        yield from self._cast_to(current.result(), schema).to_batches()
                if ahead is not None:
                    yield from self._cast_to(ahead.result(), schema).to_batches()

        return pa.RecordBatchReader.from_batches(schema, batches())

    def _cast_to(self, rows: pa.Table, schema: pa.Schema) -> pa.Table:
        """``rows`` in ``schema``'s types; a column whose values do not fit them is the source's
        problem (numbers in one part of a column, text in another), said in its words."""
        if rows.schema == schema:
            return rows
        try:
            return rows.cast(schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
            raise self.unavailable(err) from err

    def _source_errors(self, call: Callable[..., T], *args: object) -> T:
        """``call(*args)``, with the driver's errors (the source's problem) as SourceUnavailable."""
        try:
            return call(*args)
        except (OSError, sqlite3.Error) as err:
            raise self.unavailable(err) from err
        except Exception as err:
            if type(err).__module__.startswith("adbc_driver"):
                raise self.unavailable(err) from err
            raise

    def unavailable(self, err: BaseException) -> SourceUnavailable:
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        detail = detail.replace(str(self.url.password), "***") if self.url.password else detail
        hint = (
            "Check that the file is a readable SQLite database."
            if self.dialect == "sqlite"
            else "Check that the server is running and the URL, user and database are right."
        )
        return SourceUnavailable(f"Cannot read {self.label} ({detail[:300]}). {hint}")


def _engine(url: URL) -> sa.Engine:
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        if not path or path == ":memory:":
            raise SourceUnavailable("A SQLite source needs a file path. Point Agentwatch at a .db file.")
        if not Path(path).is_file():
            raise SourceUnavailable(f"Cannot open {path} (no such file). Check the path.")
        return sa.create_engine("sqlite://", creator=lambda: _sqlite_connect(path), poolclass=sa.NullPool)
    return sa.create_engine(
        url.set(drivername="postgresql+psycopg"),
        connect_args={
            "connect_timeout": _CONNECT_TIMEOUT_S,
            # Read-only, and UTC so a TIMESTAMPTZ cast to TIMESTAMP is naive UTC (pushdown).
            "options": "-c default_transaction_read_only=on -c TimeZone=UTC",
        },
        # A few pooled connections: reading a catalog and counting tables is dozens of small
        # queries, and a new connection each (as NullPool) made a first load open ~200 of them.
        pool_size=2,
        max_overflow=2,
        pool_pre_ping=True,
    )


def _sqlite_connect(path: str | None) -> sqlite3.Connection:
    uri = f"file:{quote(str(path))}?mode=ro"
    con = sqlite3.connect(uri, uri=True, check_same_thread=False)
    con.execute("pragma query_only = on")
    return con


_ARROW_BATCH_ROWS = 1 << 20


def _read_sqlite_arrow(path: str, sql: str, params: list) -> pa.Table | None:
    """The rows through ADBC as Arrow (6x faster than sqlite3 at a million rows), or None.

    ADBC types each column from the rows of its first batch; a column whose first million
    values are all NULL, or that mixes integers and text, makes it give up with a type error.
    None then sends the caller down the slower row-by-row path, which takes anything.
    """
    try:
        import adbc_driver_sqlite.dbapi as adbc
    except ImportError:  # pragma: no cover - a requirement, but the slow path still works
        return None
    uri = f"file:{quote(path)}?mode=ro"
    try:
        with adbc.connect(uri) as con, con.cursor() as cur:
            cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(_ARROW_BATCH_ROWS)})
            cur.execute(sql, params)
            table = cur.fetch_arrow_table()
    except Exception as err:
        if "type mismatch" in str(err).lower():
            return None
        raise
    # With no value to go by, ADBC calls a column int64; text is the type every later cast accepts.
    table = pa.table(
        [pa.nulls(len(col), pa.string()) if col.null_count == len(col) else col for col in table.columns],
        names=table.column_names,
    )
    return _plain_arrow(table)


def _arrow_of(frame: pd.DataFrame) -> pa.Table:
    """A frame of the row-by-row path as Arrow, all-missing columns as text (``_read_sqlite_arrow``)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return pa.table(
        [pa.nulls(len(col), pa.string()) if col.null_count == len(col) else col for col in table.columns],
        names=table.column_names,
    )


def _libpq_uri(url: URL) -> str:
    """The same server as a libpq URI, with the session read-only and a short connect timeout."""
    plain = url.set(drivername="postgresql", query={})
    extra = {
        **{k: v for k, v in url.query.items() if isinstance(v, str)},
        "connect_timeout": str(_CONNECT_TIMEOUT_S),
        "options": "-c default_transaction_read_only=on",
    }
    query = "&".join(f"{k}={quote(v)}" for k, v in extra.items())
    return f"{plain.render_as_string(hide_password=False)}?{query}"


def _plain_arrow(table: pa.Table) -> pa.Table:
    """Replace ADBC's extension columns (json, numeric) by their storage, so pandas can take them."""
    columns = []
    for col in table.columns:
        if isinstance(col.type, pa.ExtensionType):
            col = pa.chunked_array([chunk.storage for chunk in col.chunks], type=col.type.storage_type)
        columns.append(col)
    return pa.table(columns, names=table.column_names)


_LITERAL_DIALECT = postgresql.dialect(paramstyle="numeric_dollar")


def _next_batch(reader: pa.RecordBatchReader) -> pa.RecordBatch | None:
    try:
        return reader.read_next_batch()
    except StopIteration:
        return None


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    """The schema ``_plain_batch`` gives: extension types replaced by their storage types."""
    return pa.schema(
        [pa.field(f.name, f.type.storage_type) if isinstance(f.type, pa.ExtensionType) else f for f in schema]
    )


def _plain_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """One batch with ADBC's extension columns replaced by their storage, as ``_plain_arrow``."""
    columns = [col.storage if isinstance(col.type, pa.ExtensionType) else col for col in batch.columns]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)
