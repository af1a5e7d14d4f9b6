-- The multi-agent platform's schema (seed 004) on SQLite: the same tables and column names as
-- agent_platform_postgres.sql, with SQLite types. What PostgreSQL types natively is text here:
--   TEXT[]                    -> TEXT holding a JSON array, e.g. '["chat","search"]'
--   JSONB                     -> TEXT holding JSON
--   TIMESTAMP WITH TIME ZONE  -> TIMESTAMP holding ISO-8601 text with an explicit offset,
--                                e.g. '2025-03-03T08:00:00.000+00:00'
--   SERIAL                    -> INTEGER PRIMARY KEY AUTOINCREMENT
-- The PostgreSQL triggers (updated_at on UPDATE) are left out: nothing here updates rows.

CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    agent_type TEXT NOT NULL,
    status TEXT NOT NULL,
    capabilities TEXT NOT NULL DEFAULT '[]',
    last_heartbeat TIMESTAMP NOT NULL,
    created_at TIMESTAMP DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')) NOT NULL,
    updated_at TIMESTAMP DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')) NOT NULL,
    metadata TEXT DEFAULT '{}'
);

CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents(id),
    task_type TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    payload TEXT NOT NULL,
    result TEXT,
    error TEXT,
    created_at TIMESTAMP DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')) NOT NULL,
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    metadata TEXT DEFAULT '{}'
);

CREATE TABLE IF NOT EXISTS api_keys (
    api_key TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    permissions TEXT NOT NULL DEFAULT '[]',
    is_active BOOLEAN DEFAULT TRUE NOT NULL,
    created_at TIMESTAMP DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')) NOT NULL,
    expires_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS chat_sessions (
    id TEXT PRIMARY KEY,
    session_type TEXT NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    context TEXT DEFAULT '{}',
    created_at TIMESTAMP DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')) NOT NULL,
    last_activity TIMESTAMP DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')) NOT NULL,
    ended_at TIMESTAMP,
    settings TEXT DEFAULT '{}',
    conversation_summary TEXT DEFAULT '',
    participants TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE IF NOT EXISTS chat_messages (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    message_type TEXT NOT NULL,
    content TEXT NOT NULL,
    timestamp TIMESTAMP DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')) NOT NULL,
    metadata TEXT DEFAULT '{}',
    replied_to TEXT,
    edited_at TIMESTAMP,
    attachments TEXT DEFAULT '[]'
);

CREATE TABLE IF NOT EXISTS agent_configurations (
    agent_name TEXT NOT NULL,
    config_key TEXT NOT NULL,
    config_value TEXT NOT NULL,
    last_updated TIMESTAMP DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')) NOT NULL,
    is_active BOOLEAN DEFAULT TRUE NOT NULL,
    PRIMARY KEY (agent_name, config_key)
);

CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_name TEXT NOT NULL,
    metric_name TEXT NOT NULL,
    metric_value NUMERIC NOT NULL,
    timestamp TIMESTAMP DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')) NOT NULL,
    tags TEXT DEFAULT '{}'
);

CREATE INDEX IF NOT EXISTS idx_tasks_agent_id ON tasks (agent_id);
CREATE INDEX IF NOT EXISTS idx_tasks_status ON tasks (status);
CREATE INDEX IF NOT EXISTS idx_chat_messages_session_id ON chat_messages (session_id);
CREATE INDEX IF NOT EXISTS idx_chat_messages_timestamp ON chat_messages (timestamp DESC);
CREATE INDEX IF NOT EXISTS idx_agent_configurations_agent_name ON agent_configurations (agent_name);
CREATE INDEX IF NOT EXISTS idx_metrics_agent_name_metric_name ON metrics (agent_name, metric_name);
CREATE INDEX IF NOT EXISTS idx_metrics_timestamp ON metrics (timestamp DESC);
