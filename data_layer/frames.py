"""The dtypes every query result comes back with, whichever database computed it.

Integer results are nullable integers (a missing count stays NA), times are UTC-aware and ENUM
columns are text, so that callers never see which backend answered.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa


def typed_result(frame: pd.DataFrame, stmt: sa.Executable) -> pd.DataFrame:
    """Give integer result columns a nullable integer dtype, so a missing count stays NA; times
    UTC-aware and ENUM columns text, as ``utc_times``."""
    types = {col.name: col.type for col in getattr(stmt, "selected_columns", ())}
    return _conformed(frame, types)


def no_rows(stmt: sa.Select) -> pd.DataFrame:
    """The frame ``stmt`` would return if no row matched, without asking the database: for a
    query known to match nothing, whose statement would cost its fixed few milliseconds."""
    dtypes = {sa.Integer: "int64", sa.Double: "float64", sa.DateTime: "datetime64[us]", sa.String: "str"}
    empty = {
        col.name: pd.Series(dtype=next((d for t, d in dtypes.items() if isinstance(col.type, t)), object))
        for col in stmt.selected_columns
    }
    return typed_result(pd.DataFrame(empty), stmt)


def utc_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Mark naive result times as UTC: the store holds UTC, and callers should not have to know."""
    return _conformed(frame, {})


def _conformed(frame: pd.DataFrame, types: dict[str, sa.types.TypeEngine]) -> pd.DataFrame:
    """The result frame with the dtypes callers get, built in one go.

    Assigning converted columns one by one into the frame costs ~1 ms a column in pandas; a
    dozen-column result then took longer to retype than DuckDB took to compute it. Building a
    new frame from the converted arrays costs a fraction of that, and a ``BIGINT`` without NULLs
    becomes a nullable integer array with no copy and no checks.
    """
    arrays: dict[int, object] = {}
    changed = False
    for i, (name, series) in enumerate(frame.items()):
        kind, dtype = types.get(name), series.dtype
        if isinstance(kind, sa.Integer) and dtype == np.int64:  # the database's integers: exact
            values = series.to_numpy()
            arrays[i] = pd.arrays.IntegerArray(values, np.zeros(len(values), dtype=bool))
        elif isinstance(kind, sa.Integer) and dtype != "Int64":
            arrays[i] = series.astype("Int64").array
        elif isinstance(kind, sa.Double) and dtype != "float64":
            arrays[i] = series.astype("float64").array
        elif pd.api.types.is_datetime64_dtype(dtype):
            arrays[i] = series.dt.tz_localize("UTC").array
        elif isinstance(dtype, pd.CategoricalDtype):  # an ENUM column: callers get text
            arrays[i] = series.array.astype("string")
        else:
            arrays[i] = series.array
            continue
        changed = True
    if not changed:
        return frame
    result = pd.DataFrame(arrays, index=frame.index, copy=False)
    result.columns = frame.columns
    return result
