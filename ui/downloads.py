"""CSV and Parquet downloads of a page's rows, with cells a spreadsheet would run made harmless."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime

import pandas as pd
import streamlit as st

# Cells that spreadsheets would run as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that start like a formula get a leading apostrophe, so Excel shows them as text."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col].dtype) or out[col].dtype == object:
            text = out[col].astype("string")
            risky = text.str.startswith(_FORMULA_START).fillna(False)
            out[col] = text.where(~risky, "'" + text)
    return out


def to_csv(frame: pd.DataFrame) -> bytes:
    """RFC 4180 CSV: CRLF line ends, so a cell holding a lone CR is quoted, not read as a row break."""
    return neutralised(frame).to_csv(index=False, lineterminator="\r\n").encode()


def to_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def downloads(name: str, rows: Callable[[], pd.DataFrame]) -> None:
    """CSV and Parquet downloads of the page's filtered rows, built only when clicked."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        "Download CSV",
        data=lambda: to_csv(rows()),
        file_name=f"agentwatch-{name}-{stamp}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    right.download_button(
        "Download Parquet",
        data=lambda: to_parquet(rows()),
        file_name=f"agentwatch-{name}-{stamp}.parquet",
        mime="application/octet-stream",
        icon=":material/download:",
        on_click="ignore",
    )
