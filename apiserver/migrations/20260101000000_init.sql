-- The API server's schema. One file for SQLite and PostgreSQL, so only portable SQL:
-- TEXT ids (UUIDs made in Rust), BIGINT Unix seconds, TEXT JSON, BIGINT 0/1 flags
-- (the Any driver cannot decode SQLite BOOLEAN columns).
--
-- Every column a list may filter or sort on (see src/list.rs) is NOT NULL with a
-- default, so keyset pagination never meets a NULL ("no value" is '' or 0).

CREATE TABLE pipelines (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL CHECK (name <> ''),
    display_name       TEXT NOT NULL DEFAULT '',
    description        TEXT NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL,
    namespace          TEXT NOT NULL DEFAULT '',
    -- No foreign key: it would be circular; kept consistent by the store's transactions.
    default_version_id TEXT,
    CONSTRAINT pipelines_namespace_name_key UNIQUE (namespace, name)
);
CREATE INDEX pipelines_created_idx ON pipelines (created_at, id);

CREATE TABLE pipeline_versions (
    id              TEXT PRIMARY KEY,
    pipeline_id     TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    name            TEXT NOT NULL CHECK (name <> ''),
    description     TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'READY',
    parameters      TEXT NOT NULL DEFAULT '[]',
    code_source_url TEXT NOT NULL DEFAULT '',
    -- The Argo Workflow YAML.
    manifest        TEXT NOT NULL,
    CONSTRAINT pipeline_versions_pipeline_name_key UNIQUE (pipeline_id, name)
);
CREATE INDEX pipeline_versions_created_idx ON pipeline_versions (created_at, id);
CREATE INDEX pipeline_versions_pipeline_created_idx ON pipeline_versions (pipeline_id, created_at, id);

CREATE TABLE experiments (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL CHECK (name <> ''),
    description         TEXT NOT NULL DEFAULT '',
    created_at          BIGINT NOT NULL,
    last_run_created_at BIGINT NOT NULL DEFAULT 0,
    namespace           TEXT NOT NULL DEFAULT '',
    storage_state       TEXT NOT NULL DEFAULT 'AVAILABLE'
                        CHECK (storage_state IN ('AVAILABLE', 'ARCHIVED')),
    CONSTRAINT experiments_namespace_name_key UNIQUE (namespace, name)
);
CREATE INDEX experiments_created_idx ON experiments (created_at, id);

CREATE TABLE runs (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    -- Deleting an experiment deletes its runs (and, through them, their metrics).
    experiment_id       TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    -- No foreign keys: a run outlives the pipeline and the job that made it.
    pipeline_id         TEXT,
    pipeline_version_id TEXT,
    job_id              TEXT NOT NULL DEFAULT '',
    created_at          BIGINT NOT NULL,
    scheduled_at        BIGINT NOT NULL DEFAULT 0,
    finished_at         BIGINT NOT NULL DEFAULT 0,
    -- The Argo phase; '' until the first status report.
    status              TEXT NOT NULL DEFAULT '',
    error               TEXT NOT NULL DEFAULT '',
    storage_state       TEXT NOT NULL DEFAULT 'AVAILABLE'
                        CHECK (storage_state IN ('AVAILABLE', 'ARCHIVED')),
    namespace           TEXT NOT NULL DEFAULT '',
    service_account     TEXT NOT NULL DEFAULT '',
    parameters          TEXT NOT NULL DEFAULT '[]',
    workflow_manifest   TEXT NOT NULL DEFAULT '',
    -- The Argo status JSON; NULL until the first status report.
    workflow_status     TEXT,
    backend             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_created_idx ON runs (created_at, id);
CREATE INDEX runs_experiment_created_idx ON runs (experiment_id, created_at, id);
CREATE INDEX runs_experiment_state_created_idx ON runs (experiment_id, storage_state, created_at, id);
CREATE INDEX runs_namespace_created_idx ON runs (namespace, created_at, id);
CREATE INDEX runs_job_created_idx ON runs (job_id, created_at, id);
CREATE INDEX runs_status_idx ON runs (status);

CREATE TABLE run_metrics (
    run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    node_id      TEXT NOT NULL,
    name         TEXT NOT NULL,
    number_value DOUBLE PRECISION NOT NULL,
    format       TEXT NOT NULL DEFAULT 'UNSPECIFIED',
    PRIMARY KEY (run_id, node_id, name)
);

CREATE TABLE jobs (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    experiment_id       TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    pipeline_id         TEXT,
    pipeline_version_id TEXT,
    namespace           TEXT NOT NULL DEFAULT '',
    service_account     TEXT NOT NULL DEFAULT '',
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    enabled             BIGINT NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    max_concurrency     BIGINT NOT NULL DEFAULT 1,
    no_catchup          BIGINT NOT NULL DEFAULT 0 CHECK (no_catchup IN (0, 1)),
    -- Exactly one trigger: a 6-field cron expression or a period.
    cron                TEXT,
    interval_seconds    BIGINT CHECK (interval_seconds > 0),
    start_time          BIGINT,
    end_time            BIGINT,
    timezone            TEXT NOT NULL DEFAULT '',
    parameters          TEXT NOT NULL DEFAULT '[]',
    workflow_manifest   TEXT NOT NULL DEFAULT '',
    last_scheduled_at   BIGINT,
    CHECK ((cron IS NULL AND interval_seconds IS NOT NULL)
        OR (cron IS NOT NULL AND interval_seconds IS NULL))
);
CREATE INDEX jobs_created_idx ON jobs (created_at, id);
CREATE INDEX jobs_experiment_created_idx ON jobs (experiment_id, created_at, id);
CREATE INDEX jobs_enabled_idx ON jobs (enabled);
