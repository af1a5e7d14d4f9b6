"""Uploads (data_layer/uploads.py): held to their limits, kept while used, deleted when not.

Time is an injected clock, never a sleep. "Live" sessions are the ones ``is_live`` says have a
browser connected; the app passes Streamlit's answer.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data_layer import uploads
from data_layer.errors import SourceTooLarge, UploadGone
from data_layer.uploads import UploadStore
from tests.conftest import ROOT
from ui.source import Choice

KB = 1024
TTL = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_store(root: Path, clock: Clock, *, live: set[str] | None = None, **kwargs) -> UploadStore:
    """A store whose live sessions are ``live`` (None: every session is live)."""
    return UploadStore(
        root,
        ttl_s=TTL,
        clock=clock,
        is_live=(lambda s: True) if live is None else live.__contains__,
        **kwargs,
    )


def kept_names(store: UploadStore) -> list[str]:
    return sorted(u.name for u in store.kept())


# --- limits and decompression ----------------------------------------------------------------------


def test_an_upload_is_kept_in_its_own_folder_under_this_servers_folder(tmp_path, clock):
    store = make_store(tmp_path, clock)
    upload = store.add(b'{"a": 1}\n', "calls.jsonl", session="s1")
    assert upload.path.read_bytes() == b'{"a": 1}\n'
    assert upload.path.parent.parent == store.folder and store.folder.parent == tmp_path
    assert upload.name == "calls.jsonl" and store.total_bytes() == 9


@pytest.mark.parametrize(
    ("size", "refused"),
    [(10 * KB - 1, False), (10 * KB, False), (10 * KB + 1, True)],
)
def test_uploads_over_the_limit_are_refused_and_leave_nothing_behind(tmp_path, clock, size, refused):
    store = make_store(tmp_path, clock, limit=10 * KB)
    if refused:
        with pytest.raises(SourceTooLarge, match="over the 0 MB upload limit"):
            store.add(b"x" * size, "big.jsonl", session="s1")
        assert store.kept() == [] and list(store.folder.iterdir()) == []
    else:
        assert store.add(b"x" * size, "ok.jsonl", session="s1").path.stat().st_size == size


def test_a_gzip_upload_is_decompressed_and_the_archive_not_kept(tmp_path, clock):
    store = make_store(tmp_path, clock)
    content = b'{"model": "gpt-4o"}\n' * 100
    upload = store.add(gzip.compress(content), "calls.jsonl.gz", session="s1")
    assert upload.path.read_bytes() == content
    assert [p.name for p in upload.path.parent.iterdir()] == [upload.path.name]
    assert store.total_bytes() == len(content)  # what is kept on disk: the decompressed file


def test_a_gzip_bomb_stops_at_the_limit_and_leaves_nothing_behind(tmp_path, clock):
    store = make_store(tmp_path, clock, limit=64 * KB)
    bomb = gzip.compress(b"\0" * (50 * 1024 * KB))  # 50 MB of zeros, ~50 KB compressed
    assert len(bomb) < 64 * KB
    with pytest.raises(SourceTooLarge, match="expands past"):
        store.add(bomb, "bomb.json.gz", session="s1")
    assert store.kept() == [] and list(store.folder.iterdir()) == []


# --- a lifetime: TTL ---------------------------------------------------------------------------------


def test_an_upload_unused_for_the_ttl_is_deleted_and_a_session_coming_back_is_told(tmp_path, clock):
    store = make_store(tmp_path, clock)
    upload = store.add(b"data\n", "calls.jsonl", session="s1")
    clock.now = TTL - 1
    store.touch("s1", upload.path)  # a rerun: used again
    clock.now = 2 * TTL - 2
    assert store.sweep() == [] and upload.path.exists()  # one second short of the TTL since its last use
    clock.now = 2 * TTL
    assert store.sweep() == [upload]
    assert not upload.path.exists() and not upload.path.parent.exists() and store.total_bytes() == 0
    with pytest.raises(UploadGone) as gone:
        store.touch("s1", upload.path, name="calls.jsonl")
    assert str(gone.value).startswith("calls.jsonl is no longer kept on this server")
    assert "after 1 hours unused" in str(gone.value) and "Upload it again" in str(gone.value)


def test_a_session_coming_back_after_the_ttl_finds_its_upload_gone_without_a_sweep(tmp_path, clock):
    """The coming back itself expires it: the check does not wait for the sweeper thread."""
    store = make_store(tmp_path, clock)
    upload = store.add(b"data\n", "calls.jsonl", session="s1")
    clock.now = TTL + 1
    with pytest.raises(UploadGone):
        store.touch("s1", upload.path)
    assert not upload.path.exists()


def test_a_live_session_that_stays_away_for_the_ttl_loses_its_upload_too(tmp_path, clock):
    """The TTL counts use, not connection: a tab left open for a day has not used the file."""
    store = make_store(tmp_path, clock, live={"s1"})
    upload = store.add(b"data\n", "calls.jsonl", session="s1")
    clock.now = TTL + 1
    assert store.sweep() == [upload]


def test_files_that_are_not_uploads_pass_the_touch(tmp_path, clock):
    store = make_store(tmp_path / "uploads", clock)
    elsewhere = tmp_path / "traces.jsonl"
    elsewhere.write_text("{}\n")
    store.touch("s1", elsewhere)
    store.touch("s1", tmp_path / "missing.jsonl")  # opening it will say it is missing
    store.touch("s1", None)


# --- a bound: least recently used first, never one a live session shows -----------------------------


def test_beyond_the_bound_the_least_recently_used_upload_goes_first(tmp_path, clock):
    store = make_store(tmp_path, clock, live=set(), keep_bytes=3 * KB)  # every tab closed
    first = store.add(b"1" * KB, "first", session="s1")
    clock.now = 10
    store.add(b"2" * KB, "second", session="s2")
    clock.now = 20
    store.add(b"3" * KB, "third", session="s3")
    clock.now = 30
    store.touch("s1", first.path)  # first is now the most recently used
    clock.now = 40
    store.add(b"4" * KB, "fourth", session="s4")
    assert kept_names(store) == ["first", "fourth", "third"]
    assert store.total_bytes() == 3 * KB


def test_an_upload_a_live_session_shows_is_never_evicted_for_room(tmp_path, clock):
    live = {"s1"}
    store = make_store(tmp_path, clock, live=live, keep_bytes=2 * KB)
    store.add(b"1" * KB, "shown", session="s1")  # the oldest, but its tab is open
    clock.now = 10
    store.add(b"2" * KB, "closed", session="s2")
    clock.now = 20
    store.add(b"3" * KB, "new", session="s3")
    assert kept_names(store) == ["new", "shown"]


def test_an_upload_that_cannot_fit_beside_the_ones_shown_is_refused(tmp_path, clock):
    store = make_store(tmp_path, clock, keep_bytes=2 * KB)  # every session is live
    store.add(b"1" * KB, "one", session="s1")
    store.add(b"2" * KB, "two", session="s2")
    with pytest.raises(SourceTooLarge, match="AGENTWATCH_UPLOAD_KEEP_MB") as refused:
        store.add(b"3" * KB, "three.jsonl", session="s3")
    assert str(refused.value).startswith("three.jsonl does not fit")
    assert kept_names(store) == ["one", "two"] and store.total_bytes() == 2 * KB
    assert len(list(store.folder.iterdir())) == 2  # nothing of the refused upload on disk


def test_a_session_that_moves_on_no_longer_holds_its_earlier_upload(tmp_path, clock):
    store = make_store(tmp_path, clock, keep_bytes=2 * KB)  # every session is live
    store.add(b"1" * KB, "earlier", session="s1")
    clock.now = 10
    store.touch("s1", None)  # s1 now shows the demo
    store.add(b"2" * KB, "two", session="s2")
    clock.now = 20
    store.add(b"3" * KB, "three", session="s3")
    assert kept_names(store) == ["three", "two"]


def test_a_sessions_new_upload_replaces_the_one_it_held(tmp_path, clock):
    store = make_store(tmp_path, clock, keep_bytes=2 * KB)
    store.add(b"1" * KB, "first", session="s1")
    clock.now = 10
    store.add(b"2" * KB, "second", session="s1")
    clock.now = 20
    store.add(b"3" * KB, "other", session="s2")
    assert kept_names(store) == ["other", "second"]


# --- earlier servers ---------------------------------------------------------------------------------


def _leave_folder(root: Path, name: str, *, lock: bool) -> Path:
    folder = root / name / "upload-abcdefgh"
    folder.mkdir(parents=True)
    (folder / "upload-abcdefgh-prompts.jsonl").write_text('{"prompt": "private"}\n')
    if lock:
        (root / f"{name}.lock").touch()
    return root / name


def test_folders_left_by_servers_that_stopped_are_swept_at_start(tmp_path, clock):
    crashed = _leave_folder(tmp_path, "server-crashed", lock=True)  # its lock is free: no process holds it
    unlocked = _leave_folder(tmp_path, "server-early", lock=False)
    (tmp_path / "server-died-early.lock").touch()  # a lock whose server died before its folder
    (tmp_path / "unrelated").mkdir()
    store = make_store(tmp_path, clock)
    assert sorted(store.swept_at_start) == [crashed, unlocked]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [store.folder.name, store.folder.name + ".lock", "unrelated"]
    )


def test_a_running_servers_folder_is_never_swept(tmp_path, clock):
    running = make_store(tmp_path, clock)
    upload = running.add(b"data\n", "calls.jsonl", session="s1")
    started = make_store(tmp_path, clock)  # a second server on the same root
    assert started.swept_at_start == [] and upload.path.exists()
    assert started.folder != running.folder


# --- the app: a session whose upload was swept -------------------------------------------------------


def _export(path: Path, agent: str, calls: int) -> bytes:
    records = [
        {
            "timestamp": f"2025-01-01T{i:02d}:00:00Z",
            "agent": agent,
            "model": "gpt-4o",
            "input_tokens": 10,
            "output_tokens": 2,
        }
        for i in range(calls)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path.read_bytes()


def test_a_session_whose_upload_was_swept_is_told_to_upload_again_and_sees_the_default(
    monkeypatch, tmp_path, clock
):
    store = make_store(tmp_path / "uploads", clock)
    monkeypatch.setattr(uploads, "_server", store)  # the app's store, with the test's clock
    default = tmp_path / "default.jsonl"
    _export(default, "default-agent", 3)
    data = _export(tmp_path / "mine.jsonl", "my-agent", 5)
    upload = store.add(data, "mine.jsonl", session="uploading session")

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["connections"] = {"agentwatch": {"url": str(default)}}
    at.session_state["range"] = "All"
    choice = Choice("upload", str(upload.path), upload.name, f"upload:{upload.digest}")  # as accept_upload
    at.session_state["source_choice"] = choice
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert {m.label: m.value for m in at.metric}["LLM calls"] == "5"

    clock.now = TTL / 2
    at.run()  # a rerun uses the upload again
    clock.now = TTL * 1.5 - 1
    assert store.sweep() == [] and upload.path.exists()

    clock.now = TTL * 1.5 + 1  # a day (here: an hour) away
    store.sweep()
    assert not upload.path.exists()
    at.run()
    assert not at.exception
    errors = [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]  # unescape the Markdown
    assert len(errors) == 1, errors
    assert errors[0].startswith("mine.jsonl is no longer kept on this server")
    assert "Upload it again" in errors[0]
    assert {m.label: m.value for m in at.metric}["LLM calls"] == "3"  # the default source instead
    assert "source_choice" not in at.session_state
    assert at.session_state["last_good"].origin == "secrets"

    at.run()  # said once: the session now shows the default source
    assert not at.exception and not at.error
