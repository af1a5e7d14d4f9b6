"""What a load read, left out and assumed: the reading report every adapter hands back.

A figure on a page is only as good as the records behind it, so nothing an adapter reads is
dropped without being counted here: a line that is not JSON (and where), a cut last line, a row
whose key points nowhere, an event type no rule maps. ``records`` are the rows and records read
from the source; ``skipped`` counts, by reason, those that did not become telemetry (a line that
could not be parsed at all is counted there only). ``assumptions`` are the choices made without the
source saying so: a unit, a time zone, a default.

Adapters fill a report while they read; ``expect`` lets one say "each of these n source rows is
one model row", and the loader settles it once the model tables are counted (``settle``), so the
rows an inner join leaves behind are counted without a second scan of the source.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Line numbers kept per reason: enough to find the bad lines, never a copy of a broken file.
MAX_LINES = 10


@dataclass
class ReadingReport:
    """Counts of what was read and skipped, by source table or file and by reason."""

    read: dict[str, int] = field(default_factory=dict)  # source table or file -> rows/records read
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> records not read
    lines: dict[str, list[int]] = field(default_factory=dict)  # reason -> first line numbers (1-based)
    fields: dict[str, str] = field(default_factory=dict)  # source field -> the model field it became
    assumptions: list[str] = field(default_factory=list)
    # model table -> (source rows that should each become one row, reason if fewer did)
    expected: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def records(self) -> int:
        return sum(self.read.values())

    def count(self, source: str, rows: int) -> ReadingReport:
        self.read[source] = self.read.get(source, 0) + int(rows)
        return self

    def skip(self, reason: str, n: int, lines: Iterable[int] = ()) -> ReadingReport:
        """Count ``n`` records not read for ``reason``; zero is no news and is not listed."""
        if n:
            self.skipped[reason] = self.skipped.get(reason, 0) + int(n)
        found = [int(x) for x in lines]
        if found:
            self.lines[reason] = sorted({*self.lines.get(reason, []), *found})[:MAX_LINES]
        return self

    def assume(self, *sentences: str) -> ReadingReport:
        self.assumptions.extend(s for s in sentences if s not in self.assumptions)
        return self

    def map(self, pairs: Mapping[str, str]) -> ReadingReport:
        self.fields.update(pairs)
        return self

    def expect(self, table: str, rows: int, reason: str) -> ReadingReport:
        """Each of ``rows`` source rows should become one row of model ``table``; fewer: ``reason``."""
        self.expected[table] = (int(rows), reason)
        return self

    def settle(self, model_rows: Mapping[str, int]) -> ReadingReport:
        """Count the rows the model tables lack against what was expected of them."""
        for table, (rows, reason) in self.expected.items():
            self.skip(reason, max(0, rows - int(model_rows.get(table, 0))))
        self.expected = {}
        return self

    def merged(self, other: ReadingReport, prefix: str = "") -> ReadingReport:
        """This report and another's counts together (several sources loaded as one)."""
        out = ReadingReport(
            read=dict(self.read),
            skipped=dict(self.skipped),
            lines={k: list(v) for k, v in self.lines.items()},
            fields=dict(self.fields),
            assumptions=list(self.assumptions),
        )
        for source, n in other.read.items():
            out.count(f"{prefix}{source}", n)
        for reason, n in other.skipped.items():
            out.skip(reason, n, other.lines.get(reason, ()))
        out.fields.update(other.fields)
        out.assume(*other.assumptions)
        return out

    def summary(self) -> dict[str, Any]:
        """The ``read`` key of ``python -m data_layer summarize --json``."""
        return {
            "records": self.records,
            "skipped": dict(sorted(self.skipped.items())),
            "assumptions": list(self.assumptions),
        }

    def sentences(self, *, fields: bool = True) -> list[str]:
        """The report in plain words, for the Data page and the command line's text form;
        ``fields=False`` leaves out the field mapping (the Data page shows it as a table)."""
        listed = self.read and set(self.read) != {"records"}
        out = [f"Read {self.records:,} records" + (f" ({_listed(self.read)})." if listed else ".")]
        if not self.skipped:
            out.append("Every record read became telemetry; none was left out.")
        for reason, n in sorted(self.skipped.items()):
            where = self.lines.get(reason)
            at = f" (line {', '.join(map(str, where))}{'…' if n > len(where) else ''})" if where else ""
            out.append(f"Not read, {reason}: {n:,}{at}.")
        if fields and self.fields:
            out.append("Read as: " + ", ".join(f"{src} → {col}" for src, col in self.fields.items()) + ".")
        out.extend(f"Assumed: {a}" for a in self.assumptions)
        return out


def read_sentences(read: Mapping[str, Any], report: ReadingReport | None = None) -> list[str]:
    """The ``read`` key of a summary in plain words; the full report, when at hand, adds where."""
    if report is not None:
        return report.sentences()
    told = ReadingReport(read={"source": int(read["records"])}, skipped=dict(read["skipped"]))
    told.assume(*read["assumptions"])
    return told.sentences()


def _listed(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in counts.items())
