"""Masking of personal data and secrets in text shown to people (prompts, responses, messages).

Prompts and responses can hold e-mail addresses, phone numbers, card numbers and API keys.
The app masks them in everything it displays unless the user turns masking off; the model
itself keeps the text as the source had it.
"""

from __future__ import annotations

import re

import pandas as pd

# Order matters: keys and cards before phone numbers, whose pattern would eat their digits.
PATTERNS: dict[str, re.Pattern[str]] = {
    "api key": re.compile(
        r"\b(?:sk|pk|rk|ak)[-_](?:live[-_]|test[-_]|proj[-_]|ant[-_])?[A-Za-z0-9_\-]{16,}\b"
        r"|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bxox[abprs]-[A-Za-z0-9-]{10,}\b"
        r"|\bAIza[0-9A-Za-z_\-]{35}\b|\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"
    ),
    "email": re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b"),
    "card": re.compile(r"\b\d(?:[ -]?\d){12,18}\b"),
    # International (+44 20 7946 0958), North American ((415) 555-0100, 415.555.0100) and
    # trunk-prefixed national (020 7946 0958) forms; bare digit runs and dates are left alone.
    "phone": re.compile(
        r"\+\d{1,3}(?:[ .\-]?\(?\d{1,4}\)?){2,5}\d"
        r"|(?:\(\d{3}\)\s?|\b\d{3}[ .\-])\d{3}[ .\-]\d{4}\b"
        r"|\b0\d{2,4}[ .\-]\d{3,4}[ .\-]\d{3,4}\b"
    ),
}


def mask_text(text: str) -> str:
    """``text`` with every match replaced by a label such as [email]."""
    for label, pattern in PATTERNS.items():
        text = pattern.sub(f"[{label}]", text)
    return text


def mask_series(values: pd.Series) -> pd.Series:
    """Vectorised ``mask_text`` over a string column; missing values stay missing."""
    out = values.astype("string")
    for label, pattern in PATTERNS.items():
        out = out.str.replace(pattern, f"[{label}]", regex=True)
    return out


def mask_frame(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with its text columns (or ``columns``) masked."""
    out = frame.copy()
    for col in columns or [c for c in out.columns if pd.api.types.is_string_dtype(out[c].dtype)]:
        if col in out.columns:
            out[col] = mask_series(out[col])
    return out
