"""Which chart a cell's result gets, picked from the result's column types.

A time column goes on x as a line; otherwise the first text column as bars; the first numeric
column that is not on x is y; a second text column (an agent, a model) colours the series. One
numeric column and nothing else is a histogram; two numbers and nothing else, a scatter. The
user can change each choice; a saved choice whose columns the result no longer has falls back
to the pick, so an edited query never draws a broken chart.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from data_layer.notebook.document import CHART_KINDS, ChartSpec


def column_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Each column as ``time``, ``number`` or ``text`` (booleans and lists count as text)."""
    kinds = {}
    for col in frame.columns:
        dtype = frame[col].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            kinds[col] = "time"
        elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            kinds[col] = "number"
        else:
            kinds[col] = "text"
    return kinds


def infer(frame: pd.DataFrame) -> ChartSpec:
    """The chart a person would most likely draw of this result."""
    kinds = column_kinds(frame)
    times = [c for c, k in kinds.items() if k == "time"]
    numbers = [c for c, k in kinds.items() if k == "number"]
    texts = [c for c, k in kinds.items() if k == "text"]
    if not numbers:
        return ChartSpec(kind="none")
    if times:
        y = numbers[0]
        return ChartSpec(kind="line", x=times[0], y=y, color=texts[0] if texts else None)
    if texts:
        return ChartSpec(kind="bar", x=texts[0], y=numbers[0], color=texts[1] if len(texts) > 1 else None)
    if len(numbers) == 1:
        return ChartSpec(kind="histogram", x=numbers[0])
    return ChartSpec(kind="scatter", x=numbers[0], y=numbers[1])


def resolve(spec: ChartSpec | None, frame: pd.DataFrame) -> ChartSpec:
    """The user's chart if the result still has its columns, else the inferred one."""
    picked = infer(frame)
    if spec is None or spec.kind not in CHART_KINDS:
        return picked
    if spec.kind == "none":
        return spec
    columns = set(frame.columns)
    if spec.x not in columns or (spec.kind != "histogram" and spec.y not in columns):
        return picked
    return spec if spec.color is None or spec.color in columns else replace(spec, color=None)
