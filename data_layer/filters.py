"""The filter every page and query shares."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime


@dataclass(frozen=True)
class Filters:
    """What the user selected. Frozen so caches can hash it and nobody mutates it under a page.

    ``start`` is inclusive and ``end`` exclusive, both UTC; None means unbounded. An empty tuple
    means "all". Each field narrows only the tables that have its column: ``models`` narrows LLM
    calls, ``tools`` tool calls, ``severities`` alerts, ``event_types`` events; ``agents`` and
    ``sessions`` narrow every table that records them.
    """

    start: datetime | None = None
    end: datetime | None = None
    agents: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    sessions: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"Filters.{name} must be timezone-aware (got {value!r})")
        for f in fields(self):
            if f.name not in ("start", "end") and not isinstance(getattr(self, f.name), tuple):
                object.__setattr__(self, f.name, tuple(getattr(self, f.name)))

    def previous_period(self) -> Filters | None:
        """The same filter over the period of equal length just before this one, if bounded."""
        if self.start is None or self.end is None:
            return None
        length = self.end - self.start
        return replace(self, start=self.start - length, end=self.start)

    def naive_bounds(self) -> tuple[datetime | None, datetime | None]:
        """Start and end as naive UTC, the form the store's TIMESTAMP columns hold."""
        return tuple(
            None if t is None else t.astimezone(UTC).replace(tzinfo=None) for t in (self.start, self.end)
        )


ALL = Filters()
