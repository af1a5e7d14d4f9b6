"""Compare a summary with the figures a test computed itself: integers exactly, floats to 1e-9."""

from __future__ import annotations

import math
from typing import Any


def assert_same_summary(actual: Any, expected: Any, path: str = "summary") -> None:
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
