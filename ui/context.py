"""What a page starts from: the store, the filters, the colours and the masking of this run.

``app.py`` loads the source and renders the sidebar before the page runs, and leaves a
``PageContext`` in session state for this run; a page starts with ``ctx = context()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pandas as pd
import streamlit as st

from data_layer.backend import Backend
from data_layer.filters import Filters
from data_layer.masking import mask_frame
from ui import source
from ui.entrypoint import run_through_entrypoint

CONTEXT_KEY = "page_context"


@dataclass(frozen=True)
class PageContext:
    store: Backend
    filters: Filters
    options: dict[str, list[str]]
    palettes: dict[str, dict[str, str]] = field(default_factory=dict)
    mask: bool = True  # mask e-mails, phone and card numbers, API keys in displayed text

    def shown(self, frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
        """``frame`` as it may be displayed: text columns masked unless the user turned it off."""
        return mask_frame(frame, columns) if self.mask else frame

    def has(self, table: str) -> bool:
        """Whether the source has rows of this kind at all (not: whether the filter leaves any)."""
        counts = self.store.row_counts()
        return table in self.store.info.provided and counts.get(table, 0) > 0

    def bucket(self, hours_up_to: timedelta = timedelta(days=3)) -> str:
        """The time bucket that keeps a chart of the filtered period readable (≤ ~400 bars):
        hours for periods up to ``hours_up_to``, then days, then weeks.
        """
        start, end = self.filters.start, self.filters.end
        if start is None or end is None:
            first, last = self.store.time_span()
            start, end = start or first, end or last
        if start is None or end is None:
            return "day"
        span = end - start
        if span <= hours_up_to:
            return "hour"
        if span <= timedelta(days=180):
            return "day"
        return "week"


def context() -> PageContext:
    """This run's context; also renders the uploader, which must live in the page (see app.py)."""
    run_through_entrypoint()
    ctx = st.session_state.get(CONTEXT_KEY)
    if ctx is None:
        st.info("Open Agentwatch through app.py (scripts/run.sh).")
        st.stop()
    uploader_slot = st.session_state.get("uploader_slot")
    if uploader_slot is not None:
        uploader_slot.file_uploader(
            "Upload an export",
            type=["json", "jsonl", "ndjson", "csv", "parquet", "db", "sqlite", "sqlite3", "gz"],
            key=source.UPLOAD_KEY,
            on_change=source.accept_upload,
            help="JSON, JSON-lines, CSV, Parquet or a SQLite database, optionally gzip-compressed.",
        )
    return ctx
