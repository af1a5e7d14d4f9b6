"""Text from the data, made safe to pass to Markdown."""

from __future__ import annotations

_MARKDOWN_SPECIAL = "\\`*_{}[]()<>#+-.!|~$:"


def md(text: object) -> str:
    """Text from the data, escaped so Markdown shows it literally (no links, emphasis, icons)."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in str(text))
