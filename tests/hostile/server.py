"""``tests.browser.app_server`` with its log file readable while the server runs.

The secrets test searches Streamlit's own log for a password; the many-users test shows the
traceback behind a redacted ``stException``. ``app_server`` keeps its log in a temporary file
that it deletes on exit; this records that file's name when ``app_server`` creates it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest import mock

from tests import browser


@contextmanager
def logged_app_server(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, Path]]:
    """Yields the server's base URL and the path of its log (stdout and stderr)."""
    created: list[str] = []
    real = tempfile.NamedTemporaryFile

    def recording(*a, **kw):
        f = real(*a, **kw)
        created.append(f.name)
        return f

    with ExitStack() as stack:
        with mock.patch.object(browser.tempfile, "NamedTemporaryFile", recording):
            url = stack.enter_context(browser.app_server(*args, env=env))
        yield url, Path(created[0])


def traceback_in(log: Path) -> str:
    """The first traceback in the server's log, or '' (for assertion messages)."""
    text = log.read_text(errors="replace")
    start = text.find("Traceback")
    return "" if start < 0 else text[start : start + 4000]
