"""Sentinel AI's database (seed 003): PostgreSQL as the data model describes it, and the same
tables on SQLite with UUIDs, JSON and times as text."""

from __future__ import annotations

from data_layer.writers.engine import SCHEMAS, Writer

SQLITE_SCHEMA = SCHEMAS / "sentinel_sqlite.sql"
POSTGRES_SCHEMA = SCHEMAS / "sentinel_postgres.sql"

WRITER = Writer(sqlite_ddl=SQLITE_SCHEMA.read_text, postgres_ddl=POSTGRES_SCHEMA.read_text)
