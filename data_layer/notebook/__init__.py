"""The Explore page's notebooks: SQL cells checked and run safely, saved in Agentwatch's own state.

``safety`` decides what a cell may run; ``runner`` (DuckDB) and ``pushdown`` (PostgreSQL) run it;
``document`` is a notebook and its file; ``state`` keeps notebooks and Dashboard pins in SQLite;
``charting`` picks a chart from a result; ``starter`` is the first notebook a user sees.
No Streamlit here: the pages in ``pages/`` and widgets in ``ui/notebook*.py`` draw all of it.
"""
