"""Phoenix span JSON (the REST body and the client's list) reads as its truth.json says.

Both were got from a local Phoenix fed the OpenInference OTLP sample, so they also agree with it:
the LangChain span and the OpenAI span (a root of its own trace) are one call.
"""

from __future__ import annotations

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
