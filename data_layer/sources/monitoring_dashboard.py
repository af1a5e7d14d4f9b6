"""Agent Monitoring Dashboard adapter: being written (placeholder so the registry imports)."""

from __future__ import annotations

SYSTEM = "monitoring-dashboard"
TITLE = "Agent Monitoring Dashboard"
NEEDS = "(adapter not written yet)"


def recognises(db) -> bool:
    return False


def recognises_file(path, kind) -> bool:
    return False
