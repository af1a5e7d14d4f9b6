"""Cost estimates for LLM calls the source recorded no cost for, from the genai-prices library.

genai-prices is asked once per (model, day) rather than once per call, which keeps estimating
10 million calls a join instead of a Python loop. The day matters because providers change
prices; tiers matter because some models charge every token more above an input-size threshold.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pandas as pd
from genai_prices import data_snapshot, types

PRICE_COLUMNS = ["model", "day", "above_tokens_in", "up_to_tokens_in", "usd_in", "usd_out", "usd_call"]
# One row per (model, day, tier): a call of that model on that day whose input tokens are
# > above_tokens_in and <= up_to_tokens_in costs tokens_in*usd_in + tokens_out*usd_out + usd_call.
# Models genai-prices does not know get no row, so their calls stay "unknown".
_NO_LIMIT = 2**62


def price_table(model_days: Iterable[tuple[str, date]]) -> pd.DataFrame:
    """Unit prices for each distinct (model, day) given; unknown models are left out."""
    snapshot = data_snapshot.get_snapshot()
    rows: list[tuple] = []
    for model, day in model_days:
        try:
            _provider, info = snapshot.find_provider_model(model, None, None, None)
        except LookupError:
            continue
        # Noon UTC: a price that changes on a day boundary applies to the whole day.
        prices = info.get_prices(datetime.combine(day, time(12), tzinfo=UTC))
        rows.extend((model, day, *tier) for tier in _tiers(prices))
    return pd.DataFrame(rows, columns=PRICE_COLUMNS).astype(
        {"day": "datetime64[s]", "above_tokens_in": "int64", "up_to_tokens_in": "int64"}
    )


def _tiers(prices: types.ModelPrice) -> list[tuple[int, int, float, float, float]]:
    """(above, up_to, usd per input token, usd per output token, usd per call) for each tier."""
    input_price, output_price = prices.input_mtok, prices.output_mtok
    if input_price is None and output_price is None:
        return []  # priced by something we do not record (images, audio seconds)
    starts = sorted(
        {-1}
        | {t.start for p in (input_price, output_price) if isinstance(p, types.TieredPrices) for t in p.tiers}
    )
    per_call = (prices.requests_kcount or Decimal(0)) / 1000
    tiers = []
    for i, above in enumerate(starts):
        up_to = starts[i + 1] if i + 1 < len(starts) else _NO_LIMIT
        # genai-prices applies a tier when the call's input tokens exceed its start.
        usd_in = _per_token(input_price, above + 1)
        usd_out = _per_token(output_price, above + 1)
        tiers.append((above, up_to, usd_in, usd_out, float(per_call)))
    return tiers


def _per_token(price: Decimal | types.TieredPrices | None, tokens_in: int) -> float:
    if price is None:
        return 0.0
    if isinstance(price, types.TieredPrices):
        applicable = price.base
        for tier in reversed(price.tiers):
            if tokens_in > tier.start:
                applicable = tier.price
                break
        price = applicable
    return float(price / 1_000_000)
