"""Cost estimates for LLM calls the source recorded no cost for, from the genai-prices library.

genai-prices is asked once per (model, day, time-of-day interval) rather than once per call,
which keeps estimating 10 million calls a join instead of a Python loop. The day matters because
providers change prices; the interval because some charge less off-peak (deepseek outside
00:30-16:30 UTC); tiers because some models charge every token more above an input-size threshold.

The cost rule itself (recorded cost as is, else the estimate, else unknown) is one SQLAlchemy
statement, ``with_costs``, that the store runs in DuckDB at load and pushdown in PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from data_layer.model import COST_SOURCES

if TYPE_CHECKING:
    from genai_prices import types
    from genai_prices.data_snapshot import DataSnapshot

_PRICE_TYPES = {
    "model": sa.String(),
    "day": sa.Date(),
    "starts": sa.DateTime(),
    "ends": sa.DateTime(),
    "above_tokens_in": sa.BigInteger(),
    "up_to_tokens_in": sa.BigInteger(),
    "usd_in": sa.Double(),
    "usd_out": sa.Double(),
    "usd_call": sa.Double(),
}
PRICE_COLUMNS = list(_PRICE_TYPES)
# One row per (model, day, interval, tier): a call of that model at a time in [starts, ends) (naive
# UTC, within that day) whose input tokens are > above_tokens_in and <= up_to_tokens_in costs
# tokens_in*usd_in + tokens_out*usd_out + usd_call. ``day`` is the join's equality key, which keeps
# it a hash join. Models genai-prices does not know get no row, so their calls stay "unknown".
_NO_LIMIT = 2**62


def price_table(model_days: Iterable[tuple[str, date]]) -> pd.DataFrame:
    """Unit prices for each distinct (model, day) given, per interval of the day with one price;
    unknown models are left out.

    genai-prices (a quarter of a second of imports) is loaded only when some call needs an
    estimate: a source that records every cost never asks for it."""
    rows: list[tuple] = []
    pairs = list(model_days)
    snapshot = _snapshot() if pairs else None
    for model, day in pairs:
        try:
            _provider, info = snapshot.find_provider_model(model, None, None, None)
        except LookupError:
            continue
        for starts, ends in _intervals(info, day):
            prices = info.get_prices(starts.replace(tzinfo=UTC))
            rows.extend((model, day, starts, ends, *tier) for tier in _tiers(prices))
    return pd.DataFrame(rows, columns=PRICE_COLUMNS).astype(
        {
            "day": "datetime64[s]",
            "starts": "datetime64[us]",
            "ends": "datetime64[us]",
            "above_tokens_in": "int64",
            "up_to_tokens_in": "int64",
        }
    )


def _snapshot() -> DataSnapshot:
    from genai_prices import data_snapshot

    return data_snapshot.get_snapshot()


def _intervals(info: types.ModelInfo, day: date) -> list[tuple[datetime, datetime]]:
    """The day (naive UTC) cut where one of the model's time-of-day prices starts or ends.

    Start-date prices change at UTC midnight (genai-prices compares UTC dates), so within a day
    only time-of-day constraints can change the price.
    """
    from genai_prices import types

    conditional = info.prices if isinstance(info.prices, list) else []
    cuts = {time(0)} | {
        _utc_time(t)
        for c in conditional
        if isinstance(c.constraint, types.TimeOfDateConstraint)
        for t in (c.constraint.start_time, c.constraint.end_time)
    }
    starts = [datetime.combine(day, t) for t in sorted(cuts)]
    return list(zip(starts, [*starts[1:], datetime.combine(day + timedelta(days=1), time(0))], strict=True))


def _utc_time(value: time) -> time:
    """A time of day as naive UTC; a naive time is UTC already."""
    if value.tzinfo is None:
        return value
    return datetime.combine(date(2000, 1, 1), value).astimezone(UTC).time()


def _tiers(prices: types.ModelPrice) -> list[tuple[int, int, float, float, float]]:
    """(above, up_to, usd per input token, usd per output token, usd per call) for each tier."""
    from genai_prices import types

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
    from genai_prices import types

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


COST_SOURCE_ENUM = postgresql.ENUM(*COST_SOURCES, name="cost_source_enum", create_type=False)
"""The store's type for ``cost_source`` (an ENUM: one byte a row); PostgreSQL keeps text."""


def unpriced(calls: sa.FromClause) -> sa.Select:
    """The distinct (model, day) of calls without a recorded cost that an estimate could price:
    what ``price_table`` is asked for."""
    c = calls.c
    return (
        sa.select(c.model, sa.cast(c.ts, sa.Date).label("day"))
        .where(
            c.cost_usd.is_(None),
            c.model.is_not(None),
            c.ts.is_not(None),
            c.tokens_in.is_not(None),
            c.tokens_out.is_not(None),
        )
        .distinct()
    )


def price_rows(prices: pd.DataFrame, name: str = "_prices") -> sa.CTE:
    """``price_table``'s rows as a VALUES table expression (for a database we cannot load into)."""
    columns = [sa.column(n, t) for n, t in _PRICE_TYPES.items()]
    if prices.empty:
        nulls = (sa.cast(sa.null(), t).label(n) for n, t in _PRICE_TYPES.items())
        return sa.select(*nulls).where(sa.false()).cte(name)
    rows = [
        (r.model, r.day.date(), r.starts.to_pydatetime(), r.ends.to_pydatetime(), int(r.above_tokens_in),
         int(r.up_to_tokens_in), float(r.usd_in), float(r.usd_out), float(r.usd_call))
        for r in prices.itertuples(index=False)
    ]  # fmt: skip
    return sa.values(*columns, name=f"{name}_values").data(rows).cte(name)


def price_table_clause(name: str) -> sa.TableClause:
    """A table holding ``price_table``'s rows under ``name`` (a frame the store registered)."""
    return sa.table(name, *(sa.column(n, t) for n, t in _PRICE_TYPES.items()))


def with_costs(calls: sa.FromClause, prices: sa.FromClause, *, enum: bool) -> sa.Select:
    """``calls`` with the cost rule applied: the recorded cost as is, else the estimate from
    ``prices`` (the tier the call's input tokens fall in, at the call's time), else unknown.

    Every column of ``calls`` is kept, in order; ``cost_usd`` and ``cost_source`` are replaced.
    ``enum``: give ``cost_source`` the store's ENUM type (DuckDB) rather than text.
    """
    c, p = calls.c, prices.c
    source = sa.case(
        (c.cost_usd.is_not(None), "recorded"), (p.model.is_not(None), "estimated"), else_="unknown"
    )
    computed = {
        "cost_usd": sa.func.coalesce(
            c.cost_usd, c.tokens_in * p.usd_in + c.tokens_out * p.usd_out + p.usd_call
        ),
        "cost_source": sa.cast(source, COST_SOURCE_ENUM) if enum else source,
    }
    joined = calls.outerjoin(
        prices,
        sa.and_(
            c.cost_usd.is_(None),
            p.model == c.model,
            p.day == sa.cast(c.ts, sa.Date),
            p.starts <= c.ts,
            c.ts < p.ends,
            c.tokens_in > p.above_tokens_in,
            c.tokens_in <= p.up_to_tokens_in,
            c.tokens_out.is_not(None),
        ),
    )
    return sa.select(*(computed.get(name, col).label(name) for name, col in c.items())).select_from(joined)
