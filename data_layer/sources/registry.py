"""Every source system Agentwatch reads, in the order they are tried: the one list to add a reader to.

Most specific first: cylestio-monitor's SDK also has agents and events tables, but no llm_calls,
and the export adapter, which takes any table of rows with a time, comes last. Whatever needs to
know the systems (the loader, the pages' "nothing to show" hints, the sidebar's titles) asks here.
"""

from __future__ import annotations

from data_layer.sources import (
    agent_platform,
    cylestio,
    cylestio_monitor,
    exports,
    langfuse,
    monitoring_dashboard,
    otel_js,
    otlp,
    phoenix,
    sentinel,
)
from data_layer.sources.adapter import Adapter

ADAPTERS: tuple[Adapter, ...] = (
    cylestio.ADAPTER,
    cylestio_monitor.ADAPTER,
    monitoring_dashboard.ADAPTER,
    sentinel.ADAPTER,
    agent_platform.ADAPTER,
    otlp.ADAPTER,
    otel_js.ADAPTER,
    phoenix.ADAPTER,
    langfuse.ADAPTER,
    exports.ADAPTER,
)
if len({a.system for a in ADAPTERS}) != len(ADAPTERS):
    raise ValueError("two adapters report the same system")


def database_adapters() -> list[Adapter]:
    return [a for a in ADAPTERS if a.reads_databases]


def file_adapters() -> list[Adapter]:
    return [a for a in ADAPTERS if a.reads_files]


def titles() -> dict[str, str]:
    """System name -> the title people know it by."""
    return {a.system: a.title for a in ADAPTERS}


def titles_of(system: str) -> list[str]:
    """The titles of a loaded source's systems (``system`` joins several with "+")."""
    known = titles()
    return [known.get(s, s) for s in system.split("+")]


def providers(*tables: str) -> list[str]:
    """The systems and formats that can fill any of these model tables, in registry order."""
    return [a.described for a in ADAPTERS if a.provides & set(tables)]


def fills(*tables: str) -> str:
    """One sentence for a page with nothing to show: which sources would fill these tables."""
    names = providers(*tables)
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"Sources that fill this: {listed}."
