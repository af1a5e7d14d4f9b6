"""Uploaded files: held to a size limit, decompressed within it, and kept only while someone uses them.

Uploads are strangers' files and hold people's prompts, on a shared server's disk. Each server
process keeps its uploads in a folder of its own under ``AGENTWATCH_UPLOAD_DIR`` (default
``<temp>/agentwatch-uploads-<user>``), one folder per upload, and records when a session last
showed each one:

- an upload no session has shown for ``AGENTWATCH_UPLOAD_TTL_S`` seconds (default 24 h) is deleted;
- all uploads together stay under ``AGENTWATCH_UPLOAD_KEEP_MB`` (default 1024 MB): the least
  recently used go first, never one that a live session is showing, and an upload that cannot
  fit beside those is refused;
- the folders of servers that have stopped (ended, crashed, restarted) are deleted when the next
  server starts. A server holds a lock on its folder while it runs, so servers sharing the root
  never delete each other's uploads.

A session that comes back to an upload that was deleted gets ``UploadGone`` and uploads it again.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from data_layer.errors import SourceTooLarge, UploadGone
from data_layer.sources import files

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; folders of earlier servers are swept by age instead
    fcntl = None

MAX_UPLOAD_BYTES = int(os.environ.get("AGENTWATCH_MAX_UPLOAD_MB", "200")) * 1024 * 1024
"""Largest upload from a browser, and largest decompressed content of an uploaded .gz
(AGENTWATCH_MAX_UPLOAD_MB, 200 MB). Reading an export takes up to ~15 times its size in memory
(a 50 MB one-line JSON peaked at 0.45-0.9 GB), and strangers upload: this keeps one upload from taking
the server's memory. Keep ``server.maxUploadSize`` in .streamlit/config.toml the same."""

TTL_S = float(os.environ.get("AGENTWATCH_UPLOAD_TTL_S", str(24 * 3600)))
"""Seconds an upload is kept after a session last showed it (AGENTWATCH_UPLOAD_TTL_S, 24 h): a day
covers coming back to a tab after a night, and no longer keeps people's prompts on disk."""

KEEP_BYTES = int(os.environ.get("AGENTWATCH_UPLOAD_KEEP_MB", "1024")) * 1024 * 1024
"""Most bytes all uploads may take on disk together (AGENTWATCH_UPLOAD_KEEP_MB, 1024 MB: five
uploads at the largest size), so a disk that only fills cannot be filled by strangers."""

_LOCK_SUFFIX = ".lock"
_SERVER_PREFIX = "server-"


def default_root() -> Path:
    """Where servers keep their upload folders: AGENTWATCH_UPLOAD_DIR, else a per-user temp folder."""
    configured = os.environ.get("AGENTWATCH_UPLOAD_DIR")
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"agentwatch-uploads-{getpass.getuser()}"


@dataclass(frozen=True)
class Upload:
    """One kept upload. ``path`` is the file to read (decompressed); ``name`` is the user's own."""

    path: Path
    name: str
    digest: str  # of the uploaded bytes: the same file uploaded twice is loaded once


@dataclass
class _Record:
    upload: Upload
    size: int
    last_used: float


class UploadStore:
    """This server's uploads, each deleted once unused for ``ttl_s``, all within ``keep_bytes``.

    ``is_live(session)`` says whether a session still has a browser connected; the app passes
    Streamlit's answer. Only a live session's upload is safe from eviction for room: a closed
    tab's is not, though it stays until its time is up unless room is needed. ``clock`` is
    injectable so the tests need no sleeps. Thread-safe: sessions run on threads.
    """

    def __init__(
        self,
        root: Path,
        *,
        ttl_s: float = TTL_S,
        keep_bytes: int = KEEP_BYTES,
        limit: int = MAX_UPLOAD_BYTES,
        clock: Callable[[], float] = time.monotonic,
        is_live: Callable[[str], bool] = lambda _session: True,
    ) -> None:
        self.root = Path(root)
        self.ttl_s = ttl_s
        self.keep_bytes = keep_bytes
        self.limit = limit
        self._clock = clock
        self._is_live = is_live
        self._records: dict[Path, _Record] = {}
        self._shown: dict[str, Path] = {}  # session -> the upload it shows
        self._lock = threading.Lock()
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock_handle, self._lock_path = self._claim_folder()  # open for as long as the store lives
        self.folder = self._lock_path.with_name(self._lock_path.name.removesuffix(_LOCK_SUFFIX))
        self.folder.mkdir(mode=0o700)
        self.swept_at_start = self._sweep_earlier_servers()

    # --- what sessions do ------------------------------------------------------------------------

    def add(self, data: bytes, name: str, session: str) -> Upload:
        """Keep an upload (a .gz decompressed) and mark it as what ``session`` shows.

        Raises SourceTooLarge when it, or what it expands to, is over ``limit``, or when it does
        not fit in ``keep_bytes`` beside the uploads live sessions are showing.
        """
        if len(data) > self.limit:
            raise SourceTooLarge(
                f"{name} is {len(data) / 2**20:,.0f} MB, over the {self.limit / 2**20:,.0f} MB"
                " upload limit. Upload a smaller export, or point Agentwatch at the database."
            )
        self.folder.mkdir(mode=0o700, exist_ok=True)  # a temp cleaner may have removed it
        folder = Path(tempfile.mkdtemp(prefix="upload-", dir=self.folder))
        try:
            path = files.copy_upload(data, name, folder)
            if files.is_gzip(path):
                archive = path
                try:
                    path = files.gunzip_to_temp(archive, folder, limit=self.limit)
                finally:
                    archive.unlink(missing_ok=True)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        upload = Upload(path=path, name=name, digest=hashlib.sha256(data).hexdigest()[:16])
        with self._lock:
            self._records[path] = _Record(upload, path.stat().st_size, self._clock())
            self._shown[session] = path
            self._expire()
            self._make_room()
            if self._total() > self.keep_bytes:
                self._delete(path)
                raise SourceTooLarge(
                    f"{name} does not fit in the {self.keep_bytes / 2**20:,.0f} MB this server keeps for"
                    " uploads (AGENTWATCH_UPLOAD_KEEP_MB), which files other people are looking at take."
                    " Try again later, or point Agentwatch at the database."
                )
        return upload

    def touch(self, session: str, path: Path | str | None, name: str | None = None) -> None:
        """Mark ``path`` as what ``session`` shows now (None: no upload), on every rerun.

        Raises UploadGone when ``path`` was an upload of this root that has been deleted (``name``:
        the user's name for it). Paths elsewhere (a file opened by path) are not uploads and pass.
        """
        with self._lock:
            self._expire()
            if path is None:
                self._shown.pop(session, None)
                return
            path = Path(path)
            record = self._records.get(path)
            if record is None:
                self._shown.pop(session, None)
                if path.is_relative_to(self.root):
                    raise UploadGone(
                        f"{name or files.shown_name(path)} is no longer kept on this server: uploads are"
                        f" deleted after {_duration(self.ttl_s)} unused, or when newer uploads need the room."
                        " Upload it again to see its data."
                    )
                return
            record.last_used = self._clock()
            self._shown[session] = path

    def sweep(self) -> list[Upload]:
        """Delete the uploads whose time is up, and make room if needed; returns what was deleted."""
        if fcntl is None:
            self._lock_path.touch()  # without locks, a recent change says this server still runs
        with self._lock:
            return self._expire() + self._make_room()

    def kept(self) -> list[Upload]:
        with self._lock:
            return [r.upload for r in self._records.values()]

    def total_bytes(self) -> int:
        with self._lock:
            return self._total()

    # --- under the lock --------------------------------------------------------------------------

    def _total(self) -> int:
        return sum(r.size for r in self._records.values())

    def _in_use(self) -> set[Path]:
        return {path for session, path in self._shown.items() if self._is_live(session)}

    def _expire(self) -> list[Upload]:
        cutoff = self._clock() - self.ttl_s
        return [self._delete(p) for p, r in list(self._records.items()) if r.last_used < cutoff]

    def _make_room(self) -> list[Upload]:
        """Least recently used first, never one a live session shows, until all fit in keep_bytes."""
        deleted = []
        in_use = self._in_use()
        for path, _record in sorted(self._records.items(), key=lambda item: item[1].last_used):
            if self._total() <= self.keep_bytes:
                break
            if path not in in_use:
                deleted.append(self._delete(path))
        return deleted

    def _delete(self, path: Path) -> Upload:
        record = self._records.pop(path)
        shutil.rmtree(path.parent, ignore_errors=True)
        for session in [s for s, p in self._shown.items() if p == path]:
            del self._shown[session]
        return record.upload

    # --- the server's folder ---------------------------------------------------------------------

    def _claim_folder(self) -> tuple[IO[str], Path]:
        """Create and lock ``<root>/server-<id>.lock``; the lock lasts as long as this process.

        The lock file is made before the folder it guards, so a folder without one is stale. A
        sweep by another server may delete the file between its creation and the lock: then the
        lock is on a file no longer at that path, and a new one is made.
        """
        while True:
            fd, name = tempfile.mkstemp(prefix=_SERVER_PREFIX, suffix=_LOCK_SUFFIX, dir=self.root)
            handle = os.fdopen(fd, "w")
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)  # waits out another server's check, if any
            try:
                if os.path.samestat(os.fstat(handle.fileno()), Path(name).stat()):
                    return handle, Path(name)
            except FileNotFoundError:
                pass
            handle.close()

    def _sweep_earlier_servers(self) -> list[Path]:
        """Delete the folders of servers that no longer run (their lock is free, or missing)."""
        swept = []
        for entry in sorted(self.root.iterdir()):
            if not entry.name.startswith(_SERVER_PREFIX) or entry.name.endswith(_LOCK_SUFFIX):
                continue
            if entry == self.folder or _held(entry.with_name(entry.name + _LOCK_SUFFIX), self.ttl_s):
                continue
            shutil.rmtree(entry, ignore_errors=True)
            entry.with_name(entry.name + _LOCK_SUFFIX).unlink(missing_ok=True)
            swept.append(entry)
        for lock in self.root.glob(f"{_SERVER_PREFIX}*{_LOCK_SUFFIX}"):  # a server that died early
            folder = lock.with_name(lock.name.removesuffix(_LOCK_SUFFIX))
            if lock != self._lock_path and not folder.exists() and not _held(lock, self.ttl_s):
                lock.unlink(missing_ok=True)
        return swept


def _held(lock: Path, ttl_s: float) -> bool:
    """Whether a running server holds ``lock`` (without locks: whether it changed within ttl_s)."""
    try:
        handle = lock.open()  # read-only: never re-creates a lock another sweep just deleted
    except FileNotFoundError:
        return False
    with handle:
        if fcntl is None:
            return time.time() - lock.stat().st_mtime < ttl_s
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} hours"
    if seconds >= 60:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} seconds"


_server: UploadStore | None = None
_server_lock = threading.Lock()


def for_this_server(is_live: Callable[[str], bool]) -> UploadStore:
    """The server's one upload store, made on first use: that sweeps earlier servers' folders, and
    starts a thread that deletes expired uploads even while nobody clicks."""
    global _server
    with _server_lock:
        if _server is None:
            _server = UploadStore(default_root(), is_live=is_live)
            sweeper = threading.Thread(target=_sweep_forever, args=(_server,), daemon=True)
            sweeper.start()
        return _server


def _sweep_forever(store: UploadStore) -> None:
    while True:
        time.sleep(min(max(store.ttl_s / 10, 1.0), 600.0))
        store.sweep()
