-- Sentinel AI's data model (seed 003) on SQLite: the same tables, column names and checks as
-- sentinel_postgres.sql, with SQLite types. What PostgreSQL types natively is text here:
--   UUID         -> TEXT in the canonical 8-4-4-4-12 form (the writer generates them)
--   JSONB        -> TEXT holding JSON
--   TIMESTAMPTZ  -> TIMESTAMP holding ISO-8601 text with an explicit offset,
--                   e.g. '2025-03-03T08:00:00.000+00:00'
-- PostgreSQL partitions performance_metrics by month; here it is one table with the same key.

CREATE TABLE IF NOT EXISTS ai_agents (
    agent_id    TEXT PRIMARY KEY,
    name        TEXT NOT NULL CHECK (trim(name) <> ''),
    description TEXT,
    status      TEXT NOT NULL DEFAULT 'unknown'
                CHECK (status IN ('running', 'stopped', 'error', 'unknown')),
    created_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    last_seen   TIMESTAMP,
    metadata    TEXT NOT NULL DEFAULT '{}',
    CONSTRAINT ai_agents_name_key UNIQUE (name)
);

CREATE TABLE IF NOT EXISTS performance_metrics (
    metric_id              TEXT NOT NULL,
    agent_id               TEXT NOT NULL REFERENCES ai_agents (agent_id),
    "timestamp"            TIMESTAMP NOT NULL,
    latency_ms             REAL CHECK (latency_ms > 0),
    throughput_req_per_min REAL CHECK (throughput_req_per_min >= 0),
    cost_per_request       REAL CHECK (cost_per_request >= 0),
    cpu_usage_percent      REAL CHECK (cpu_usage_percent BETWEEN 0 AND 100),
    gpu_usage_percent      REAL CHECK (gpu_usage_percent BETWEEN 0 AND 100),
    memory_usage_mb        REAL CHECK (memory_usage_mb > 0),
    custom_metrics         TEXT,
    PRIMARY KEY (metric_id, "timestamp"),
    CONSTRAINT performance_metrics_some_value CHECK (
        coalesce(latency_ms, throughput_req_per_min, cost_per_request, cpu_usage_percent,
                 gpu_usage_percent, memory_usage_mb, custom_metrics) IS NOT NULL
    )
);

CREATE TABLE IF NOT EXISTS user_sessions (
    session_id      TEXT PRIMARY KEY,
    user_identifier TEXT NOT NULL CHECK (trim(user_identifier) <> ''),
    created_at      TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    last_activity   TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    preferences     TEXT NOT NULL DEFAULT '{}',
    active_filters  TEXT NOT NULL DEFAULT '{}',
    CONSTRAINT user_sessions_activity_after_start CHECK (last_activity >= created_at)
);

CREATE TABLE IF NOT EXISTS monitoring_configuration (
    config_id                   TEXT PRIMARY KEY,
    agent_id                    TEXT REFERENCES ai_agents (agent_id) ON DELETE CASCADE,
    collection_interval_seconds INTEGER NOT NULL DEFAULT 60
                                CHECK (collection_interval_seconds BETWEEN 1 AND 3600),
    retention_days              INTEGER NOT NULL DEFAULT 90 CHECK (retention_days > 0),
    alert_thresholds            TEXT NOT NULL DEFAULT '{}',
    enabled                     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at                  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at                  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
);

CREATE INDEX IF NOT EXISTS idx_metrics_agent_timestamp ON performance_metrics (agent_id, "timestamp" DESC);
CREATE INDEX IF NOT EXISTS idx_agents_status ON ai_agents (status) WHERE status != 'running';
CREATE INDEX IF NOT EXISTS idx_agents_last_seen ON ai_agents (last_seen DESC);
CREATE INDEX IF NOT EXISTS idx_sessions_user_activity ON user_sessions (user_identifier, last_activity DESC);
CREATE INDEX IF NOT EXISTS idx_configuration_agent ON monitoring_configuration (agent_id);
