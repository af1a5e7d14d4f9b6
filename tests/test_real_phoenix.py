"""Phoenix span JSON (the REST body and the client's list) reads as its truth.json says.

Both were got from a local Phoenix fed the OpenInference OTLP sample, so they also agree with it:
the LangChain span and the OpenAI span (a root of its own trace) are one call.
"""

from __future__ import annotations

import json

import pytest

from data_layer.sources import load_telemetry
from tests.span_truth import REAL, account, assert_matches_truth

SAMPLES = ["phoenix/phoenix_rest_spans.json", "phoenix/phoenix_client_spans.json"]


@pytest.mark.parametrize("sample", SAMPLES)
def test_sample_reads_as_its_truth(sample: str) -> None:
    said = " ".join(assert_matches_truth(sample))
    assert "no service.name" in said
    assert "root spans naming a model hold, in their time, a root span of another trace" in said
    telemetry, _info = load_telemetry(REAL / sample)
    assert telemetry.system == "phoenix"


def test_both_forms_read_alike() -> None:
    rest, client = (account(sample)[0] for sample in SAMPLES)
    assert rest == client


def _nested(flat: dict) -> dict:
    """Dotted attribute names as nested objects ({"llm": {"model_name": ..}})."""
    out: dict = {}
    for key, value in flat.items():
        *parents, last = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def test_nested_attributes_read_as_the_flat_ones(tmp_path) -> None:
    """Phoenix writes attributes flat; a client or a hand that nests them by their dots reads the same."""
    spans = json.loads((REAL / SAMPLES[1]).read_text(encoding="utf-8"))
    for span in spans:
        span["attributes"] = _nested(span["attributes"])
    path = tmp_path / "nested.json"
    path.write_text(json.dumps(spans), encoding="utf-8")
    assert account(str(path))[0] == account(SAMPLES[1])[0]
