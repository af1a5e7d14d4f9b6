"""The Agent Monitoring Dashboard's database (seed 002): SQLite only, as the dashboard runs it."""

from __future__ import annotations

from data_layer.writers.engine import SCHEMAS, Writer

SQLITE_SCHEMA = SCHEMAS / "monitoring_dashboard_sqlite.sql"

WRITER = Writer(sqlite_ddl=SQLITE_SCHEMA.read_text)
