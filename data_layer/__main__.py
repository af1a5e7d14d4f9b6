"""Command line: ``python -m data_layer summarize SOURCE [--json]`` and ``python -m data_layer demo OUTDIR``.

Bad input ends with one line on stderr and exit status 2; a traceback only with AGENTWATCH_DEBUG=1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from data_layer.errors import AgentwatchError
from data_layer.report import ReadingReport, read_sentences

EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_layer", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    summarize = commands.add_parser("summarize", help="load a source and print what it holds")
    summarize.add_argument("source", help="SQLite file, export file, or database URL (postgresql://...)")
    summarize.add_argument("--json", action="store_true", help="print one JSON object")
    summarize.add_argument(
        "--pushdown",
        action="store_true",
        help="run the queries inside the PostgreSQL source instead of loading it",
    )
    demo = commands.add_parser("demo", help="write a demo database in each supported schema")
    demo.add_argument("outdir", type=Path)
    demo.add_argument("--days", type=int, default=35, help="weeks of history to generate, in days")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument(
        "--postgres",
        metavar="URL",
        help="also create the Sentinel and platform demo databases on this PostgreSQL server",
    )
    args = parser.parse_args(argv)

    try:
        if args.command == "summarize":
            return _summarize(args.source, as_json=args.json, pushdown=args.pushdown)
        return _demo(args.outdir, days=args.days, seed=args.seed, postgres=args.postgres)
    except AgentwatchError as err:
        print(f"error: {_one_line(str(err))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as err:  # a bug, or input we did not foresee: still one line, no traceback
        if os.environ.get("AGENTWATCH_DEBUG"):
            raise
        print(
            f"error: could not read {getattr(args, 'source', 'the source')}"
            f" ({type(err).__name__}: {_one_line(str(err))[:300]})."
            " If the file is valid, please report this; set AGENTWATCH_DEBUG=1 for details.",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT


def _one_line(message: str) -> str:
    """A message as one line: names from the data (a column called "a\\nb") may hold newlines."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in message)


def _summarize(source: str, *, as_json: bool, pushdown: bool = False) -> int:
    from data_layer.sources import open_lean, open_pushdown
    from data_layer.summary import COLUMNS, summarize

    def progress(message: str, _fraction: float | None) -> None:
        if not as_json and sys.stderr.isatty():
            print(f"\r{message[:70]:<70}", end="", file=sys.stderr, flush=True)

    if pushdown:  # a few figures asked once: the rollups would cost more than they save
        store = open_pushdown(source, rollups=False)
    else:
        store = open_lean(source, COLUMNS, progress=progress)
    if not as_json and sys.stderr.isatty():
        print("\r" + " " * 70 + "\r", end="", file=sys.stderr)
    summary = summarize(store)
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        print(render_table(summary, store.info.label, store.info.load_seconds, store.info.report))
    return 0


def _demo(outdir: Path, *, days: int, seed: int, postgres: str | None = None) -> int:
    from data_layer.demo import write_demo, write_postgres_demo

    for path in write_demo(outdir, days=days, seed=seed):
        print(path)
    for url in write_postgres_demo(postgres, days=days, seed=seed) if postgres else []:
        print(url)
    return 0


def render_table(
    summary: dict[str, Any], label: str, seconds: float | None, report: ReadingReport | None = None
) -> str:
    """The summary as aligned ``key  value`` lines for people; absent data reads "—".

    The reading report is told in sentences, with the line numbers of lines that could not be read.
    """
    lines = [f"{label}: {summary['schema']}" + (f" (loaded in {seconds:.2f} s)" if seconds else "")]

    def add(key: str, value: Any, indent: int = 0) -> None:
        pad = "  " * indent
        if isinstance(value, dict):
            lines.append(f"{pad}{key}")
            if not value:
                lines.append(f"{pad}  (none)")
            for k, v in value.items():
                add(str(k), v, indent + 1)
        else:
            lines.append(f"{pad}{key:<{max(1, 28 - len(pad))}} {_fmt(key, value)}")

    for key, value in summary.items():
        if key == "read":
            lines.append("read")
            lines.extend(f"  {sentence}" for sentence in read_sentences(value, report))
        elif key != "schema":
            add(key, value)
    return "\n".join(lines)


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"${value:,.6f}" if "cost" in key else f"{value:,.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
