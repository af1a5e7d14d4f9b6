"""What a session may open and how it is read: typed paths, passwords in URLs, pushdown.

These are the server's rules about sources, the same for every session; the app only keeps which
source each session sees (``ui/source.py``) and asks here. Upload limits and their lifetime are in
``data_layer/uploads.py``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from sqlalchemy.engine import make_url

from data_layer import sources
from data_layer.errors import AgentwatchError, SourceRefused
from data_layer.sources import Location

ALLOW_PATHS_VAR = "AGENTWATCH_ALLOW_PATHS"
""""0": the sidebar takes uploads and PostgreSQL URLs, not paths (for a server others can reach)."""


def check_typed(text: str) -> None:
    """Raise SourceRefused when this server does not let the sidebar open ``text``.

    Anyone who can reach the app can type into the sidebar, and a path (or a URL such as
    sqlite:////etc/x.db, which names a file as surely) makes the server read its own files.
    """
    if os.environ.get(ALLOW_PATHS_VAR, "1") == "0" and not Location.parse(text).is_postgres:
        raise SourceRefused(
            f"Opening files on this server is turned off ({ALLOW_PATHS_VAR}=0)."
            " Upload the file instead, or type a PostgreSQL URL."
        )


def has_password(text: str) -> bool:
    """Whether ``text`` is a database URL with a password in it (which must not stay on screen).

    ``sources.database.masked`` hides the password in what is shown; this says there is one.
    """
    try:
        return "://" in text and bool(make_url(text.strip()).password)
    except Exception:  # not a URL SQLAlchemy can parse: nothing to hide, Location says what is wrong
        return False


class PushdownDefaults:
    """Whether a source is queried in place by default: big PostgreSQL sources (AGENTWATCH_PUSHDOWN_ROWS)
    are, the rest are loaded.

    Decided once per source and server process: the probe reads the catalog and row estimates,
    and every rerun of every session asks again for the default source, so without this a server
    that stopped answering cost a connect timeout per probe on every click (15 s per rerun with
    the server black-holed, in tests/test_faults.py). A source that could not be probed is
    loaded, and probed again after ``retry_s``. Keyed by the source's identity: no password.
    """

    def __init__(
        self,
        decide: Callable[[str], bool] | None = None,
        retry_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._decide = decide or (lambda target: sources.should_push_down(target))  # looked up late
        self._retry_s = retry_s
        self._clock = clock
        self._decided: dict[str, tuple[bool, float | None]] = {}  # identity -> (decision, retry at)

    def __call__(self, target: str) -> bool:
        location = Location.parse(target)
        if not location.is_postgres:  # only PostgreSQL takes pushed-down queries: no probe needed
            return False
        key = location.identity()
        decided = self._decided.get(key)
        if decided is None or (decided[1] is not None and self._clock() > decided[1]):
            try:
                decided = (self._decide(location.target), None)
            except AgentwatchError:  # the load will say what is wrong
                decided = (False, self._clock() + self._retry_s)
            self._decided[key] = decided
        return decided[0]


pushdown_by_default = PushdownDefaults()
