"""Multi-agent platform adapter: being written (placeholder so the registry imports)."""

from __future__ import annotations

SYSTEM = "agent-platform"
TITLE = "Multi-agent platform"
NEEDS = "(adapter not written yet)"


def recognises(db) -> bool:
    return False


def recognises_file(path, kind) -> bool:
    return False
