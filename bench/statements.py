"""Where each statement's time goes: planning, running, the pandas frame, the retyping.

    python -m bench.statements --n 100000 [--kind parquet] [--page overview] [--repeat 9]

Records the statements one rerun of each page sends after the benchmark's filter change (as
bench/measure.py does), then times each one apart on the store: ``plan`` is DuckDB's parse,
bind and optimise alone (``PREPARE``, values inlined as literals: a prepared statement cannot
hold bound values), ``run`` executes it and fetches the rows as tuples, ``frame`` is what
``.df()`` adds over that, ``typed`` is ``typed_result``, ``total`` is ``Store.run``. Times are
medians of the process's CPU time, not wall time: on a shared machine wall time mostly measures
the neighbours, while CPU time still compares one statement shape with another.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from datetime import datetime

from bench import measure
from data_layer.frames import typed_result
from data_layer.tables import compile_statement


def _cpu_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.process_time()
        run()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def _literal(value: object) -> str:
    """A value as SQL text, only to time planning: the benchmark's own values, never the app's."""
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _times(store, stmt, repeat: int) -> dict[str, float]:
    sql, params = compile_statement(stmt)
    inlined = re.sub(r"\$(\d+)", lambda m: _literal(params[int(m.group(1)) - 1]), sql)
    cur = store._con.cursor()
    try:
        frame = cur.execute(sql, params).df()
        times = {
            "plan": _cpu_ms(lambda: cur.execute("prepare _timed as " + inlined), repeat),
            "run": _cpu_ms(lambda: cur.execute(sql, params).fetchall(), repeat),
            "frame": _cpu_ms(lambda: cur.execute(sql, params).df(), repeat),
            "typed": _cpu_ms(lambda: typed_result(frame, stmt), repeat),
            "total": _cpu_ms(lambda: store.run(stmt), repeat),
        }
    finally:
        cur.close()
    times["frame"] -= times["run"]
    return times | {"rows": len(frame), "sql": " ".join(sql.split())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--page", help="only this page")
    parser.add_argument("--repeat", type=int, default=9)
    # Not --source: the app, run in this process by AppTest, reads that flag as its own.
    parser.add_argument("--kind", choices=("sqlite", "parquet"), default="sqlite",
                        help="the source's kind (the same rows; Parquet loads fastest)")  # fmt: skip
    args = parser.parse_args()
    from bench import prepare
    from data_layer.refresh import open_watched

    source = prepare.source(args.kind, args.n)
    store = open_watched(source)  # as bench/measure.py opens it: not read again mid-run
    pages = measure._recorded_pages(store, source, measure._app_setup(store, source, False)["changed"])
    keys = ("plan", "run", "frame", "typed", "total")
    print(f"{'page':<9} {'#':>2} " + " ".join(f"{k:>6}" for k in keys) + "   rows  statement (CPU ms)")
    for page, (statements, _open_ms, _rerun_ms) in pages.items():
        if args.page and page != args.page:
            continue
        sums = dict.fromkeys(keys, 0.0)
        for i, stmt in enumerate(statements):
            t = _times(store, stmt, args.repeat)
            sums = {k: sums[k] + t[k] for k in keys}
            cells = " ".join(f"{t[k]:6.2f}" for k in keys)
            print(f"{page:<9} {i:>2} {cells} {t['rows']:>6}  {t['sql'][:90]}")
        print(f"{page:<9} {'=':>2} " + " ".join(f"{sums[k]:6.1f}" for k in keys))


if __name__ == "__main__":
    main()
