"""Demo databases: one fleet of five agents, seen through each of the four systems Agentwatch reads.

The app opens on this data when nothing is configured, and ``python -m data_layer demo OUTDIR``
writes it for people to try. Each file is created with the system's own schema
(``data_layer/schemas``) and filled the way that system writes rows (Cylestio's naive UTC times
and upper-case enums, Sentinel's UUIDs and JSON, the platform's usage in message metadata), so
the demo runs through the same adapter code a real database does.

The data tells a story, planted relative to ``now`` so that it is always recent:

* the user-facing agents work weekday office hours (UTC); ``data-pipeline`` runs nightly batches;
* about twelve days ago the Anthropic API is overloaded for a few hours: an error burst;
* six days ago ``code-reviewer`` moves from Claude 3.5 Haiku to Claude 3.5 Sonnet and its cost
  per call jumps about 3.5x (Cylestio's costs, Sentinel's cost_per_request, the platform's
  calls and configuration);
* four days ago ``triage-agent`` gets about 2.5x slower, breaching Sentinel's thresholds and
  raising Dashboard alerts.

The package is split where the work is: ``fleet`` (who the agents are, and the story), ``traffic``
(their LLM calls, drawn once), one module per system that turns them into that system's rows
(``cylestio``, ``dashboard``, ``sentinel``, ``platform``), and ``data_layer.writers``, which
writes each system's rows, as it does for the tests' databases. This module writes the files.

Everything is drawn with numpy from one seed, vectorised: the default 35 days (about 22,000
LLM calls, 32 MB in all) take two or three seconds, and the same seed and ``now`` give the same
rows.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np

from data_layer import writers
from data_layer.demo.cylestio import cylestio_tables
from data_layer.demo.dashboard import dashboard_tables
from data_layer.demo.draw import activity
from data_layer.demo.fleet import (
    AGENT_NAMES,
    FLEET,
    MODELS,
    SELF_HOSTED,
    SLOW_AGENT,
    SLOWDOWN,
    SWITCH_AGENT,
    SWITCH_FROM,
    SWITCH_TO,
    Story,
    anchor,
)
from data_layer.demo.platform import platform_tables
from data_layer.demo.sentinel import sentinel_tables
from data_layer.demo.traffic import Tables, Traffic, fleet_traffic
from data_layer.errors import SourceUnavailable
from data_layer.writers import cylestio, dashboard, platform, sentinel
from data_layer.writers.engine import SCHEMAS, Writer

__all__ = [
    "AGENT_NAMES",
    "DEMO_DIR_VAR",
    "FILES",
    "FLEET",
    "MODELS",
    "POSTGRES_DATABASES",
    "SCHEMAS",
    "SELF_HOSTED",
    "SLOWDOWN",
    "SLOW_AGENT",
    "SWITCH_AGENT",
    "SWITCH_FROM",
    "SWITCH_TO",
    "Story",
    "activity",
    "anchor",
    "demo_sources",
    "demo_tables",
    "generator_version",
    "write_demo",
    "write_postgres_demo",
]

# System name (as ``summarize`` reports it) -> the demo file of that system.
FILES = {
    "cylestio": "cylestio.db",
    "monitoring-dashboard": "monitoring-dashboard.db",
    "sentinel": "sentinel.db",
    "agent-platform": "agent-platform.db",
}
POSTGRES_DATABASES = {"sentinel": "agentwatch_demo_sentinel", "agent-platform": "agentwatch_demo_platform"}


# -- writing ---------------------------------------------------------------------------------------


_BUILDERS: dict[str, tuple[Writer, Callable[[Story, np.random.Generator, Traffic], Tables]]] = {
    "cylestio": (cylestio.WRITER, cylestio_tables),
    "monitoring-dashboard": (dashboard.WRITER, dashboard_tables),
    "sentinel": (sentinel.WRITER, sentinel_tables),
    "agent-platform": (platform.WRITER, platform_tables),
}


def demo_tables(
    *, days: int = 35, seed: int = 7, now: datetime | None = None, systems: tuple[str, ...] = tuple(FILES)
) -> dict[str, Tables]:
    """The demo tables of ``systems``, as frames with each source's own column names.

    Each system draws from its own stream of the seed, so changing one builder leaves the other
    systems' rows as they were, and asking for fewer systems gives the same rows for those.
    """
    story = Story.anchored(anchor(now), days)
    traffic = fleet_traffic(story, np.random.default_rng([seed, 0]))
    return {
        system: builder(story, np.random.default_rng([seed, i + 1]), traffic)
        for i, (system, (_writer, builder)) in enumerate(_BUILDERS.items())
        if system in systems
    }


def write_demo(outdir: Path, *, days: int = 35, seed: int = 7, now: datetime | None = None) -> list[Path]:
    """Write the four demo SQLite databases into ``outdir`` and return their paths.

    Existing demo files there are replaced; each file appears complete or not at all.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for system, tables in demo_tables(days=days, seed=seed, now=now).items():
        path = outdir / FILES[system]
        partial = path.with_name(path.name + ".partial")
        partial.unlink(missing_ok=True)
        _BUILDERS[system][0].write_sqlite(partial, tables, compact=True)
        partial.replace(path)
        paths.append(path)
    return paths


def write_postgres_demo(
    server_url: str,
    *,
    days: int = 35,
    seed: int = 7,
    now: datetime | None = None,
    databases: dict[str, str] | None = None,
) -> list[str]:
    """Create the Sentinel and platform demo databases on a PostgreSQL server; return their URLs.

    ``server_url`` is any database on the server (postgresql://user@host:5432/postgres); the
    demo databases (``POSTGRES_DATABASES`` unless ``databases`` names others) are dropped if they
    exist and created again with the systems' own PostgreSQL schemas. The rows are the same as
    in the SQLite demo files. The URLs returned hide the password.
    """
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    databases = databases or POSTGRES_DATABASES
    server = make_url(server_url).set(drivername="postgresql")
    tables = demo_tables(days=days, seed=seed, now=now, systems=tuple(databases))
    urls = []
    for system, name in databases.items():
        url = server.set(database=name)
        try:
            with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as con:
                con.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
                con.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
            _BUILDERS[system][0].write_postgres(url.render_as_string(hide_password=False), tables[system])
        except psycopg.OperationalError as err:  # server down, bad credentials, no CREATEDB right
            detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise SourceUnavailable(
                f"Cannot create the demo database {name} on {server.render_as_string(hide_password=True)}"
                f" ({detail}). Check that the server runs and that the user may create databases."
            ) from err
        urls.append(url.render_as_string(hide_password=True))
    return urls


# -- the app's default dataset ---------------------------------------------------------------------


DEMO_DIR_VAR = "AGENTWATCH_DEMO_DIR"
_DAY_DIR = re.compile(r"demo-[0-9a-f]+-\d{4}-\d{2}-\d{2}")


def demo_sources(cache_dir: Path | None = None) -> list[Path]:
    """The demo databases for today, written on first use and then reused.

    They live in ``<cache>/demo-<generator version>-<UTC date>``, where the cache is
    ``cache_dir``, else $AGENTWATCH_DEMO_DIR, else $XDG_CACHE_HOME/agentwatch (~/.cache/agentwatch).
    A new day, or a changed generator, gets a fresh folder so "the last 7 days" always has data.
    The folder is written under a temporary name and renamed: two app sessions starting at once
    both generate, one rename wins, and neither ever reads a half-written file.
    """
    now = anchor()
    base = Path(cache_dir) if cache_dir else _cache_base()
    target = base / f"demo-{generator_version()}-{now:%Y-%m-%d}"
    paths = [target / name for name in FILES.values()]
    if all(p.is_file() for p in paths):
        return paths
    base.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".demo-", dir=base))
    try:
        write_demo(scratch, now=now)
        try:
            scratch.rename(target)
        except OSError:  # another session finished first (or a stale partial folder is in the way)
            if not all(p.is_file() for p in paths):
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _remove_old_days(base, keep=target.name)
    return paths


def _cache_base() -> Path:
    if os.environ.get(DEMO_DIR_VAR):
        return Path(os.environ[DEMO_DIR_VAR]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "agentwatch"


def _remove_old_days(base: Path, keep: str) -> None:
    """Delete earlier days' demo folders (only folders named like ours), newest two kept."""
    days = sorted(
        (p for p in base.iterdir() if p.is_dir() and _DAY_DIR.fullmatch(p.name) and p.name != keep),
        key=lambda p: p.name[-10:],  # by date, whatever the generator version
    )
    for old in days[:-1]:  # yesterday's may still be open in a session started before midnight
        shutil.rmtree(old, ignore_errors=True)


def generator_version() -> str:
    """A short hash of the generator's and the writers' code and the schemas they run: a changed
    generator never reuses a cache."""
    digest = hashlib.sha256()
    for folder, pattern in ((Path(__file__).parent, "*.py"), (Path(writers.__file__).parent, "*.py")):
        for path in sorted(folder.glob(pattern)):
            digest.update(path.read_bytes())
    for path in sorted(SCHEMAS.glob("*.sql")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]
