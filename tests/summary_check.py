"""Compare a summary with the figures a test computed itself: integers exactly, floats to 1e-9."""

from __future__ import annotations

import math
from typing import Any


def assert_same_summary(actual: Any, expected: Any, path: str = "summary") -> None:
    if path == "summary" and isinstance(expected, dict) and "read" not in expected and "read" in actual:
        # Expectations written before the reading report: its figures are checked per adapter
        # (tests/test_reading_report.py); here only that it is there, in shape, beside the rest.
        assert_reading_report_shape(actual["read"])
        actual = {k: v for k, v in actual.items() if k != "read"}
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        assert set(actual) == set(expected), f"{path}: keys {sorted(actual)} != {sorted(expected)}"
        for key in expected:
            assert_same_summary(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, float):
        assert isinstance(actual, int | float), f"{path}: expected {expected}, got {actual!r}"
        assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9), f"{path}: {actual} != {expected}"
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
        assert type(actual) is type(expected), f"{path}: {type(actual).__name__} != {type(expected).__name__}"


def assert_reading_report_shape(read: Any) -> None:
    """``read`` is {"records": int, "skipped": {reason: int}, "assumptions": [str]}, nothing else."""
    assert isinstance(read, dict) and set(read) == {"records", "skipped", "assumptions"}, read
    assert type(read["records"]) is int and read["records"] >= 0, read
    assert all(isinstance(k, str) and type(v) is int and v > 0 for k, v in read["skipped"].items()), read
    assert all(isinstance(a, str) and a for a in read["assumptions"]), read
