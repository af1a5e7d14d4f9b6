"""Tables as Agentwatch shows them: UTC times to the second, dollars, units in column titles."""

from __future__ import annotations

import pandas as pd
import streamlit as st


def _column_config(frame: pd.DataFrame) -> dict:
    """How Agentwatch shows its usual columns in tables: UTC times to the second, dollars, units."""
    config: dict = {}
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
            config[col] = st.column_config.DatetimeColumn(col.replace("_", " "), format="YYYY-MM-DD HH:mm:ss")
        elif col.endswith("_usd"):
            config[col] = st.column_config.NumberColumn(
                col.removesuffix("_usd").replace("_", " ") + " (USD)", format="$%.4f"
            )
        elif col.endswith("_ms"):
            config[col] = st.column_config.NumberColumn(
                col.removesuffix("_ms").replace("_", " ") + " (ms)", format="%.0f"
            )
        elif col.endswith("_s"):
            config[col] = st.column_config.NumberColumn(
                col.removesuffix("_s").replace("_", " ") + " (s)", format="%.0f"
            )
    return config


def table(frame: pd.DataFrame, **kwargs):
    """st.dataframe with Agentwatch's column formats; returns what st.dataframe returns."""
    return st.dataframe(frame, hide_index=True, column_config=_column_config(frame), **kwargs)
