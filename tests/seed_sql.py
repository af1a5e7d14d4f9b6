"""The SQL of the seed documents (tests/fixtures/seeds, copied from shared/seeds), run as written."""

from __future__ import annotations

import re
from pathlib import Path

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
_SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.DOTALL)


def seed_sql(prefix: str, *, only_create: bool = True) -> str:
    """The ```sql blocks of the seed file whose name starts with ``prefix`` (000, 002, 004).

    ``only_create`` keeps CREATE statements (tables, indexes, functions, triggers) and drops the
    documents' example queries (cleanup DELETEs, EXPLAINs, INSERTs into schema_version...).
    """
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    blocks = _SQL_BLOCK.findall(path.read_text())
    if not only_create:
        return "\n".join(blocks)
    statements = []
    for block in blocks:
        for statement in _split(block):
            if re.match(r"\s*(--[^\n]*\n\s*)*CREATE\b", statement, re.IGNORECASE):
                statements.append(statement)
    return ";\n".join(statements) + ";\n"


def _split(block: str) -> list[str]:
    """Split on semicolons outside $$-quoted function bodies."""
    parts, current, in_dollar = [], [], False
    for piece in re.split(r"(\$\$|;)", block):
        if piece == "$$":
            in_dollar = not in_dollar
            current.append(piece)
        elif piece == ";" and not in_dollar:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(piece)
    tail = "".join(current).strip()
    return [p for p in [*parts, tail] if p]
