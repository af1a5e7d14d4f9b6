"""Cylestio Monitor's database (seeds 000/001): seed 000's SQL on SQLite, and as its SQLAlchemy
models create it on PostgreSQL."""

from __future__ import annotations

import re

from data_layer.writers.engine import SCHEMAS, Writer

SQLITE_SCHEMA = SCHEMAS / "cylestio_sqlite.sql"


def sqlite_ddl() -> str:
    return SQLITE_SCHEMA.read_text()


def postgres_ddl() -> str:
    """Seed 000's schema as Cylestio's SQLAlchemy models create it on PostgreSQL."""
    ddl = sqlite_ddl().replace("INTEGER PRIMARY KEY AUTOINCREMENT", "SERIAL PRIMARY KEY")
    return re.sub(r"\bFLOAT\b", "DOUBLE PRECISION", ddl)


WRITER = Writer(sqlite_ddl=sqlite_ddl, postgres_ddl=postgres_ddl)
