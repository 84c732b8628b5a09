//! Typed rows as read back from the database, and their decoding from `AnyRow`.
//!
//! Each row type carries the exact column list it is read with (`COLUMNS`) so list and get
//! queries cannot drift apart. Absent optional text that lives in a NOT NULL list column
//! (e.g. `runs.job_id = ''`) is turned back into `None` here.

use serde_json::Value as Json;
use sqlx::Row;
use sqlx::any::AnyRow;

/// Whether a run or experiment is archived (`storage_state` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageState {
    Available,
    Archived,
}

impl StorageState {
    /// The stored text, also what list predicates compare against.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageState::Available => "AVAILABLE",
            StorageState::Archived => "ARCHIVED",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<StorageState, sqlx::Error> {
        match s {
            "AVAILABLE" => Ok(StorageState::Available),
            "ARCHIVED" => Ok(StorageState::Archived),
            other => Err(decode_error(format!("unknown storage_state {other:?}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PipelineRow {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub created_at: i64,
    pub namespace: String,
    pub default_version_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VersionRow {
    pub id: String,
    pub pipeline_id: String,
    pub name: String,
    pub description: String,
    pub created_at: i64,
    pub status: String,
    /// JSON as given at creation (e.g. `[{"name": .., "value": ..}]`).
    pub parameters: Json,
    pub code_source_url: String,
    /// The Argo Workflow YAML.
    pub manifest: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub created_at: i64,
    /// 0 until the experiment's first run.
    pub last_run_created_at: i64,
    pub namespace: String,
    pub storage_state: StorageState,
}

/// A run without its (large) manifest and status JSON; what lists return.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub experiment_id: String,
    pub pipeline_id: Option<String>,
    pub pipeline_version_id: Option<String>,
    /// The recurring run that made it.
    pub job_id: Option<String>,
    pub created_at: i64,
    /// 0 when never set.
    pub scheduled_at: i64,
    /// 0 while the run has not finished.
    pub finished_at: i64,
    /// The Argo phase (`Pending`, `Running`, `Succeeded`, ...); '' before the first report.
    pub status: String,
    pub error: String,
    pub storage_state: StorageState,
    pub namespace: String,
    pub service_account: String,
    pub parameters: Json,
    /// Which execution backend runs it (free text chosen by the API layer).
    pub backend: String,
}

/// A run with its submitted workflow and the latest status reported for it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDetail {
    pub run: RunRow,
    pub workflow_manifest: String,
    /// The Argo `status` JSON; `None` until the first report.
    pub workflow_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub run_id: String,
    pub node_id: String,
    pub name: String,
    pub number_value: f64,
    /// `UNSPECIFIED`, `RAW` or `PERCENTAGE`.
    pub format: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub experiment_id: String,
    pub pipeline_id: Option<String>,
    pub pipeline_version_id: Option<String>,
    pub namespace: String,
    pub service_account: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub enabled: bool,
    pub max_concurrency: i64,
    pub no_catchup: bool,
    /// 6-field cron (seconds first); exactly one of `cron` and `interval_seconds` is set.
    pub cron: Option<String>,
    pub interval_seconds: Option<i64>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    /// IANA name; '' means UTC.
    pub timezone: String,
    pub parameters: Json,
    pub workflow_manifest: String,
    pub last_scheduled_at: Option<i64>,
}

pub(crate) fn decode_error(msg: String) -> sqlx::Error {
    sqlx::Error::Decode(msg.into())
}

fn json(row: &AnyRow, col: &str) -> Result<Json, sqlx::Error> {
    let text: String = row.try_get(col)?;
    serde_json::from_str(&text).map_err(|e| decode_error(format!("{col}: {e}")))
}

fn none_if_empty(s: String) -> Option<String> {
    if s.is_empty() { None } else { Some(s) }
}

impl PipelineRow {
    pub(crate) const COLUMNS: &'static str =
        "id, name, display_name, description, created_at, namespace, default_version_id";

    pub(crate) fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(PipelineRow {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            display_name: row.try_get("display_name")?,
            description: row.try_get("description")?,
            created_at: row.try_get("created_at")?,
            namespace: row.try_get("namespace")?,
            default_version_id: row.try_get("default_version_id")?,
        })
    }
}

impl VersionRow {
    pub(crate) const COLUMNS: &'static str = "id, pipeline_id, name, description, created_at, \
         status, parameters, code_source_url, manifest";

    pub(crate) fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(VersionRow {
            id: row.try_get("id")?,
            pipeline_id: row.try_get("pipeline_id")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            created_at: row.try_get("created_at")?,
            status: row.try_get("status")?,
            parameters: json(row, "parameters")?,
            code_source_url: row.try_get("code_source_url")?,
            manifest: row.try_get("manifest")?,
        })
    }
}

impl ExperimentRow {
    pub(crate) const COLUMNS: &'static str =
        "id, name, description, created_at, last_run_created_at, namespace, storage_state";

    pub(crate) fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(ExperimentRow {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            created_at: row.try_get("created_at")?,
            last_run_created_at: row.try_get("last_run_created_at")?,
            namespace: row.try_get("namespace")?,
            storage_state: StorageState::parse(&row.try_get::<String, _>("storage_state")?)?,
        })
    }
}

impl RunRow {
    pub(crate) const COLUMNS: &'static str = "id, name, description, experiment_id, \
         pipeline_id, pipeline_version_id, job_id, created_at, scheduled_at, finished_at, \
         status, error, storage_state, namespace, service_account, parameters, backend";

    pub(crate) fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(RunRow {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            experiment_id: row.try_get("experiment_id")?,
            pipeline_id: row.try_get("pipeline_id")?,
            pipeline_version_id: row.try_get("pipeline_version_id")?,
            job_id: none_if_empty(row.try_get("job_id")?),
            created_at: row.try_get("created_at")?,
            scheduled_at: row.try_get("scheduled_at")?,
            finished_at: row.try_get("finished_at")?,
            status: row.try_get("status")?,
            error: row.try_get("error")?,
            storage_state: StorageState::parse(&row.try_get::<String, _>("storage_state")?)?,
            namespace: row.try_get("namespace")?,
            service_account: row.try_get("service_account")?,
            parameters: json(row, "parameters")?,
            backend: row.try_get("backend")?,
        })
    }
}

impl RunDetail {
    pub(crate) fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(RunDetail {
            run: RunRow::decode(row)?,
            workflow_manifest: row.try_get("workflow_manifest")?,
            workflow_status: row.try_get("workflow_status")?,
        })
    }
}

impl MetricRow {
    pub(crate) const COLUMNS: &'static str = "run_id, node_id, name, number_value, format";

    pub(crate) fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(MetricRow {
            run_id: row.try_get("run_id")?,
            node_id: row.try_get("node_id")?,
            name: row.try_get("name")?,
            number_value: row.try_get("number_value")?,
            format: row.try_get("format")?,
        })
    }
}

impl JobRow {
    pub(crate) const COLUMNS: &'static str = "id, name, description, experiment_id, \
         pipeline_id, pipeline_version_id, namespace, service_account, created_at, updated_at, \
         enabled, max_concurrency, no_catchup, cron, interval_seconds, start_time, end_time, \
         timezone, parameters, workflow_manifest, last_scheduled_at";

    pub(crate) fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(JobRow {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            experiment_id: row.try_get("experiment_id")?,
            pipeline_id: row.try_get("pipeline_id")?,
            pipeline_version_id: row.try_get("pipeline_version_id")?,
            namespace: row.try_get("namespace")?,
            service_account: row.try_get("service_account")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            enabled: row.try_get::<i64, _>("enabled")? != 0,
            max_concurrency: row.try_get("max_concurrency")?,
            no_catchup: row.try_get::<i64, _>("no_catchup")? != 0,
            cron: row.try_get("cron")?,
            interval_seconds: row.try_get("interval_seconds")?,
            start_time: row.try_get("start_time")?,
            end_time: row.try_get("end_time")?,
            timezone: row.try_get("timezone")?,
            parameters: json(row, "parameters")?,
            workflow_manifest: row.try_get("workflow_manifest")?,
            last_scheduled_at: row.try_get("last_scheduled_at")?,
        })
    }
}
