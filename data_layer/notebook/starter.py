"""The starter notebook and the example queries the schema panel offers.

Every query here is in the SQL that DuckDB and PostgreSQL share, so the starter runs on a
loaded source and on one queried in the database alike. The starter's three SQL cells
reproduce figures the pages draw from the query functions (the Cost page's cost per day by
model, the Latency page's p95 by model, the Security page's alerts by severity);
``tests/test_notebook.py`` checks that they are equal for several filters, both ways.
"""

from __future__ import annotations

from data_layer.notebook.document import Cell, ChartSpec, Notebook

COST_PER_DAY = """-- Cost per day by model, as on the Cost page (recorded + estimated, USD)
select date_trunc('day', ts) as day, model, sum(cost_usd) as cost_usd
from llm_calls
group by 1, 2
order by 1, 2"""

P95_BY_MODEL = """-- p95 LLM latency by model, as on the Latency page (exact, linear interpolation)
select model,
       count(latency_ms) as calls_with_latency,
       percentile_cont(0.95) within group (order by latency_ms) as p95_ms
from llm_calls
group by model
order by model"""

ALERTS_BY_SEVERITY = """-- Alerts raised by severity, as on the Security page
select severity, count(*) as alerts
from alerts
group by severity
order by severity"""

P95_GROWTH = """-- Which agent's p95 latency grew most this week against last week, per model?
-- Weeks end at the latest call in the data; this cell ignores the global period.
with bounds as (select max(ts) as last from llm_calls),
weekly as (
    select model, agent,
           percentile_cont(0.95) within group (order by latency_ms)
               filter (where ts > last - interval '7 days') as p95_this_week_ms,
           percentile_cont(0.95) within group (order by latency_ms)
               filter (where ts <= last - interval '7 days' and ts > last - interval '14 days')
               as p95_last_week_ms
    from llm_calls, bounds
    group by model, agent
),
ranked as (
    select *, p95_this_week_ms - p95_last_week_ms as growth_ms,
           row_number() over (partition by model
                              order by p95_this_week_ms - p95_last_week_ms desc) as rank
    from weekly
    where p95_this_week_ms is not null and p95_last_week_ms is not null
)
select model, agent, growth_ms, p95_last_week_ms, p95_this_week_ms
from ranked
where rank = 1
order by growth_ms desc"""

EXAMPLES = {
    "Cost per day by model": COST_PER_DAY,
    "p95 latency by model": P95_BY_MODEL,
    "Alerts by severity": ALERTS_BY_SEVERITY,
    "p95 growth this week vs last, per model": P95_GROWTH,
    "Tokens per agent": """select agent, sum(tokens_in) as tokens_in, sum(tokens_out) as tokens_out
from llm_calls
group by agent
order by 2 desc""",
    "Slowest tools": """select tool, count(*) as calls,
       percentile_cont(0.95) within group (order by latency_ms) as p95_ms,
       avg(case when success then 0 else 1 end) as failure_rate
from tool_calls
group by tool
order by p95_ms desc nulls last
limit 20""",
    "Latest alerts": """select ts, agent, severity, type, description
from alerts
order by ts desc
limit 100""",
}

INTRO = """### Explore the telemetry
Each SQL cell is one query over the model's tables (the schema panel lists them). The global
filters in the sidebar have already narrowed every table; a cell can opt out. Press
**Ctrl+Enter** in a cell, or **Run**, to run it. These three cells reproduce figures from the
Cost, Latency and Security pages."""


def starter() -> Notebook:
    """A fresh starter notebook (new ids each time)."""
    return Notebook(
        name="Starter notebook",
        cells=(
            Cell(kind="markdown", source=INTRO),
            Cell(kind="sql", source=COST_PER_DAY, title="Cost per day by model",
                 chart=ChartSpec(kind="bar", x="day", y="cost_usd", color="model")),
            Cell(kind="sql", source=P95_BY_MODEL, title="p95 latency by model",
                 chart=ChartSpec(kind="bar", x="model", y="p95_ms")),
            Cell(kind="sql", source=ALERTS_BY_SEVERITY, title="Alerts by severity",
                 chart=ChartSpec(kind="bar", x="severity", y="alerts")),
        ),
    )  # fmt: skip
