"""Query functions: a filter in, a small aggregated frame out, computed by the database.

Every function takes a *backend* (a ``Store`` holding the loaded model in DuckDB, or a pushdown
connection to a PostgreSQL source) and a ``Filters``, and returns a small pandas frame whose
times are UTC-aware and whose counts are nullable integers.

Additive measures (calls, tokens, cost, failures) read the daily rollups for whole days (unless
they are bucketed by hour), the hourly rollups for whole hours and the raw rows only for the
partial hours at the edges of the time range, so a result is exact while scanning a small
fraction of the rows. Percentiles always read raw rows (``percentile_cont``,
linear interpolation, as DuckDB's ``quantile_cont``), so they are exact too.

Missing stays missing: a sum over rows that have no value is NA, never 0, and each measure comes
with a count of the rows it covers (``calls_with_tokens_in``...).
"""

from data_layer.queries._common import BUCKETS, PERCENTILES
from data_layer.queries.catalog import data_quality, filter_options, filtered_rows
from data_layer.queries.llm import (
    LLM_DIMENSIONS,
    LLM_MEASURES,
    TOOL_DIMENSIONS,
    USAGE_COLUMNS,
    cost_per_completed_task,
    latency_sets,
    llm_histogram,
    llm_latency,
    llm_usage,
    llm_usage_sets,
    tool_latency,
    tool_usage,
    tool_usage_sets,
)
from data_layer.queries.metrics import (
    event_counts,
    metric_series,
    metric_stats,
    no_breaches,
    threshold_breaches,
    thresholds,
)
from data_layer.queries.overview import (
    KPI_TABLES,
    KPIS,
    Overview,
    kpi_trends,
    overview,
    overview_kpis,
    what_changed,
)
from data_layer.queries.security import (
    ALERT_DIMENSIONS,
    alert_counts,
    alert_list,
    alert_sets,
    alerts_per_thousand_calls,
    event_detail,
    flagged_event_counts,
    matched_terms,
    only_open,
    open_alerts_by_severity,
)
from data_layer.queries.sessions import SESSION_ORDERS, session_summaries, session_timeline
from data_layer.queries.tasks import (
    FUNNEL_STAGES,
    cycle_time_histogram,
    cycle_times,
    task_funnel,
    task_statuses,
    tasks_completed,
    tasks_completed_sets,
)

__all__ = [
    "ALERT_DIMENSIONS",
    "BUCKETS",
    "FUNNEL_STAGES",
    "KPIS",
    "KPI_TABLES",
    "LLM_DIMENSIONS",
    "LLM_MEASURES",
    "PERCENTILES",
    "SESSION_ORDERS",
    "TOOL_DIMENSIONS",
    "USAGE_COLUMNS",
    "Overview",
    "alert_counts",
    "alert_list",
    "alert_sets",
    "alerts_per_thousand_calls",
    "cost_per_completed_task",
    "cycle_time_histogram",
    "cycle_times",
    "data_quality",
    "event_counts",
    "event_detail",
    "filter_options",
    "filtered_rows",
    "flagged_event_counts",
    "kpi_trends",
    "latency_sets",
    "llm_histogram",
    "llm_latency",
    "llm_usage",
    "llm_usage_sets",
    "matched_terms",
    "metric_series",
    "metric_stats",
    "no_breaches",
    "only_open",
    "open_alerts_by_severity",
    "overview",
    "overview_kpis",
    "session_summaries",
    "session_timeline",
    "task_funnel",
    "task_statuses",
    "tasks_completed",
    "tasks_completed_sets",
    "threshold_breaches",
    "thresholds",
    "tool_latency",
    "tool_usage",
    "tool_usage_sets",
    "what_changed",
]
