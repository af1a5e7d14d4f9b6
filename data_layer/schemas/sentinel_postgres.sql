-- Sentinel AI System: the schema of its data model (seed 003) on PostgreSQL 13 or later.
--
-- The data model names the entities, attributes and validation rules but gives no complete DDL;
-- this is that model written the way a Sentinel deployment would create it: UUID keys generated
-- by the server, TIMESTAMPTZ times, JSONB for the flexible fields, performance_metrics partitioned
-- by month. Validation rules the server can check on its own are CHECK constraints; the two that
-- depend on the clock ("last_seen cannot be in the future", "timestamp cannot be in the future")
-- are left to the collector, as a CHECK must not change its verdict as time passes.
--
-- Agentwatch reads this schema (data_layer/sources/sentinel.py) and its demo generator writes it.

CREATE TABLE ai_agents (
    agent_id    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name        TEXT NOT NULL CHECK (btrim(name) <> ''),
    description TEXT,
    status      TEXT NOT NULL DEFAULT 'unknown'
                CHECK (status IN ('running', 'stopped', 'error', 'unknown')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen   TIMESTAMPTZ,
    metadata    JSONB NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT ai_agents_name_key UNIQUE (name)  -- "unique per deployment"
);

-- Immutable time series, one row per collection. The primary key of a partitioned table must
-- include the partition key, hence (metric_id, "timestamp").
CREATE TABLE performance_metrics (
    metric_id              UUID NOT NULL DEFAULT gen_random_uuid(),
    agent_id               UUID NOT NULL REFERENCES ai_agents (agent_id),
    "timestamp"            TIMESTAMPTZ NOT NULL,
    latency_ms             DOUBLE PRECISION CHECK (latency_ms > 0),
    throughput_req_per_min DOUBLE PRECISION CHECK (throughput_req_per_min >= 0),
    cost_per_request       DOUBLE PRECISION CHECK (cost_per_request >= 0),
    cpu_usage_percent      DOUBLE PRECISION CHECK (cpu_usage_percent BETWEEN 0 AND 100),
    gpu_usage_percent      DOUBLE PRECISION CHECK (gpu_usage_percent BETWEEN 0 AND 100),
    memory_usage_mb        DOUBLE PRECISION CHECK (memory_usage_mb > 0),
    custom_metrics         JSONB,
    PRIMARY KEY (metric_id, "timestamp"),
    CONSTRAINT performance_metrics_some_value CHECK (
        num_nonnulls(latency_ms, throughput_req_per_min, cost_per_request, cpu_usage_percent,
                     gpu_usage_percent, memory_usage_mb, custom_metrics) > 0
    )
) PARTITION BY RANGE ("timestamp");

-- Creates the partition for the UTC month holding `day` (a no-op if it exists) and returns its
-- name. Sentinel's maintenance job calls it ahead of time; retention drops old months. Bounds
-- are written with +00, so months are UTC months whatever the session's TimeZone.
CREATE FUNCTION create_performance_metrics_partition(day DATE) RETURNS TEXT
LANGUAGE plpgsql AS $$
DECLARE
    first_day DATE := date_trunc('month', day)::date;
    next_first_day DATE := (date_trunc('month', day) + INTERVAL '1 month')::date;
    part_name TEXT := format('performance_metrics_%s', to_char(first_day, 'YYYY_MM'));
BEGIN
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF performance_metrics FOR VALUES FROM (%L) TO (%L)',
        part_name, first_day || ' 00:00:00+00', next_first_day || ' 00:00:00+00'
    );
    RETURN part_name;
END
$$;

-- Monthly partitions from the data model's first one (2025-09) to two months ahead of today.
DO $$
DECLARE
    day DATE := DATE '2025-09-01';
BEGIN
    WHILE day <= date_trunc('month', now() AT TIME ZONE 'UTC') + INTERVAL '2 months' LOOP
        PERFORM create_performance_metrics_partition(day);
        day := (day + INTERVAL '1 month')::date;
    END LOOP;
END
$$;

-- Rows outside every monthly partition land here instead of being refused.
CREATE TABLE performance_metrics_default PARTITION OF performance_metrics DEFAULT;

-- Dashboard users' sessions (people looking at Sentinel, not agent sessions).
CREATE TABLE user_sessions (
    session_id      UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_identifier TEXT NOT NULL CHECK (btrim(user_identifier) <> ''),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_activity   TIMESTAMPTZ NOT NULL DEFAULT now(),
    preferences     JSONB NOT NULL DEFAULT '{}'::jsonb,
    active_filters  JSONB NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT user_sessions_activity_after_start CHECK (last_activity >= created_at)
);

-- Global (agent_id NULL) and per-agent settings. Old rows are kept for the audit trail, with
-- enabled = false, so one agent may have several configurations.
CREATE TABLE monitoring_configuration (
    config_id                   UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id                    UUID REFERENCES ai_agents (agent_id) ON DELETE CASCADE,
    collection_interval_seconds INTEGER NOT NULL DEFAULT 60
                                CHECK (collection_interval_seconds BETWEEN 1 AND 3600),
    retention_days              INTEGER NOT NULL DEFAULT 90 CHECK (retention_days > 0),
    alert_thresholds            JSONB NOT NULL DEFAULT '{}'::jsonb,
    enabled                     BOOLEAN NOT NULL DEFAULT true,
    created_at                  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The data model's indexing strategy.
CREATE INDEX idx_metrics_agent_timestamp ON performance_metrics (agent_id, "timestamp" DESC);
CREATE INDEX idx_agents_status ON ai_agents (status) WHERE status != 'running';
CREATE INDEX idx_agents_last_seen ON ai_agents (last_seen DESC);
CREATE INDEX idx_sessions_user_activity ON user_sessions (user_identifier, last_activity DESC);
-- Looking up an agent's configuration, and keeping the foreign key cheap to check on delete.
CREATE INDEX idx_configuration_agent ON monitoring_configuration (agent_id);
