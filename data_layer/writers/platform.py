"""The multi-agent platform's database (seed 004): its PostgreSQL SQL as written, and the same
tables on SQLite, where TEXT[] and JSONB columns hold JSON text."""

from __future__ import annotations

from data_layer.writers.engine import SCHEMAS, Writer

SQLITE_SCHEMA = SCHEMAS / "agent_platform_sqlite.sql"
POSTGRES_SCHEMA = SCHEMAS / "agent_platform_postgres.sql"

WRITER = Writer(
    sqlite_ddl=SQLITE_SCHEMA.read_text,
    postgres_ddl=POSTGRES_SCHEMA.read_text,
    array_columns=frozenset({"capabilities", "permissions", "participants", "attachments"}),
)
