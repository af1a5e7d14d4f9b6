"""One writer per source system's schema: the demo, the tests' builders and the benchmark all use them.

Each module (``cylestio``, ``dashboard``, ``sentinel``, ``platform``) holds a ``WRITER`` that
knows its system's DDL on SQLite and PostgreSQL (``data_layer/schemas``) and how that system's
values go into each engine; callers only make rows (``Rows``, or DataFrames with the source's
column names) and say where to write them.
"""

from data_layer.writers.engine import SCHEMAS, Rows, Tables, Writer

__all__ = ["SCHEMAS", "Rows", "Tables", "Writer"]
