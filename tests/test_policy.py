"""The server's rules about sources (data_layer/policy.py): typed paths, passwords in URLs, pushdown."""

from __future__ import annotations

import pytest

from data_layer import policy
from data_layer.errors import SourceRefused, SourceUnavailable
from data_layer.policy import PushdownDefaults, check_typed, has_password


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://reader:secret@db.example/agents", True),
        ("  postgresql://reader:secret@db.example/agents  ", True),
        ("postgresql+psycopg://reader:S3cr3t%2Fp%40ss@db:5432/agents", True),
        ("mysql://root:pw@localhost/db", True),
        ("postgresql://reader@db.example/agents", False),
        ("postgresql://reader:@db.example/agents", False),  # an empty password is none
        ("postgresql:///agents", False),
        ("sqlite:////var/data/traces.db", False),
        ("/home/ann/traces:old@2025.db", False),  # a path with ':' and '@' is no URL
        ("traces.db", False),
        ("", False),
        ("://:secret@", False),  # not a URL SQLAlchemy can parse
    ],
)
def test_has_password_finds_a_password_only_in_a_database_url(text, expected):
    assert has_password(text) is expected


TYPED = [
    ("/etc/passwd", False),
    ("traces.db", False),
    ("postgres-dump.db", False),  # a relative file named like the server is still a file
    ("sqlite:////etc/passwd", False),
    ("sqlite:///traces.db", False),
    ("postgresql://reader@db.example/agents", True),
    ("postgres://reader@db.example/agents", True),
    ("postgresql+psycopg://reader@db.example/agents", True),
]


@pytest.mark.parametrize(("text", "is_server"), TYPED)
@pytest.mark.parametrize("allow_paths", [None, "1", "0"])
def test_check_typed_refuses_files_only_when_paths_are_turned_off(monkeypatch, text, is_server, allow_paths):
    if allow_paths is None:
        monkeypatch.delenv(policy.ALLOW_PATHS_VAR, raising=False)
    else:
        monkeypatch.setenv(policy.ALLOW_PATHS_VAR, allow_paths)
    if allow_paths == "0" and not is_server:
        with pytest.raises(SourceRefused, match="AGENTWATCH_ALLOW_PATHS=0") as refused:
            check_typed(text)
        assert "Upload the file instead" in str(refused.value)
    else:
        check_typed(text)


class _Probe:
    """A stand-in for sources.should_push_down that counts its calls and answers as told."""

    def __init__(self, answer: bool | Exception) -> None:
        self.answer = answer
        self.calls: list[str] = []

    def __call__(self, target: str) -> bool:
        self.calls.append(target)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


URL = "postgresql://reader:secret@db.example/agents"


@pytest.mark.parametrize("text", ["traces.db", "/tmp/x.jsonl", "sqlite:///x.db", "postgres-dump.db"])
def test_pushdown_is_never_the_default_for_a_file_and_nothing_is_probed(text):
    probe = _Probe(True)
    assert PushdownDefaults(decide=probe)(text) is False
    assert probe.calls == []


@pytest.mark.parametrize("answer", [True, False])
def test_pushdown_default_is_probed_once_per_source(answer):
    probe = _Probe(answer)
    defaults = PushdownDefaults(decide=probe)
    assert [defaults(URL) for _ in range(5)] == [answer] * 5
    assert probe.calls == [URL]
    defaults("postgresql://reader:secret@db.example/other")
    assert len(probe.calls) == 2  # another source is probed on its own


def test_a_source_that_cannot_be_probed_is_loaded_and_probed_again_after_the_retry_period():
    clock = _Clock()
    probe = _Probe(SourceUnavailable("Cannot connect (timeout). Check the server."))
    defaults = PushdownDefaults(decide=probe, retry_s=60.0, clock=clock)
    assert defaults(URL) is False
    clock.now += 59
    assert defaults(URL) is False
    assert len(probe.calls) == 1  # within the retry period: no second connect timeout
    probe.answer = True
    clock.now += 2
    assert defaults(URL) is True
    clock.now += 3600
    assert defaults(URL) is True
    assert len(probe.calls) == 2  # a decision that was reached is kept
