//! Runs: one execution of a pipeline. The status columns are rewritten on every workflow
//! event, so that path is a single UPDATE; lists never read the manifest or status JSON.
//!
//! Every write that adds, removes or archives runs also changes its experiment's run counts
//! (`available_runs`, `archived_runs`) in its transaction; run lists read their
//! `total_size` there when they are scoped or filtered by experiment, namespace or storage
//! state only.
//!
//! Lock order on PostgreSQL: a write locks the runs it changes before their experiment's
//! row (the counts), and so do the experiment-wide writes (see `archive_experiment`), so
//! two writers never wait for each other in a cycle.

use serde_json::Value as Json;
use sqlx::{AnyConnection, Row};

use super::Store;
use super::error::StoreError;
use super::ids::new_id;
use super::query::{Counts, ListSpec, Sql, list};
use super::rows::{RunDetail, RunRow, StorageState};
use crate::list::{ListQuery, Page, Resource};

const RUN: &str = "run";

/// The `metadata.name` of a JSON workflow manifest (`''` if it has none), read without
/// decoding the rest.
pub(crate) fn workflow_name(manifest: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Named {
        metadata: Metadata,
    }
    #[derive(serde::Deserialize)]
    struct Metadata {
        #[serde(default)]
        name: String,
    }
    serde_json::from_str::<Named>(manifest)
        .map(|n| n.metadata.name)
        .unwrap_or_default()
}

/// Argo phases after which a run never changes again.
pub const FINISHED_STATUSES: [&str; 4] = ["Succeeded", "Failed", "Error", "Skipped"];

/// The kept run counts: per experiment (and so per namespace, which runs copy from their
/// experiment), one column per storage state.
pub(crate) const RUN_COUNTS: Counts = Counts {
    table: "experiments",
    keys: &[("experiment_id", "id"), ("namespace", "namespace")],
    split: (
        "storage_state",
        &[
            ("AVAILABLE", "available_runs"),
            ("ARCHIVED", "archived_runs"),
        ],
    ),
};

/// A run to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    pub name: String,
    pub description: String,
    /// Must exist; the run copies its namespace.
    pub experiment_id: String,
    pub pipeline_id: Option<String>,
    pub pipeline_version_id: Option<String>,
    /// The recurring run that spawned it.
    pub job_id: Option<String>,
    pub service_account: String,
    pub parameters: Json,
    pub workflow_manifest: String,
    pub backend: String,
    /// When it was meant to start; `None` means now (one-off runs).
    pub scheduled_at: Option<i64>,
}

/// What a workflow event changes. `None` leaves a column as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunStatusUpdate {
    /// The Argo phase.
    pub status: String,
    pub finished_at: Option<i64>,
    /// The Argo `status` object as JSON.
    pub workflow_status: Option<String>,
    pub error: Option<String>,
}

/// Extra equality conditions for a run list (from the URL: v2 `experiment_id=`/`namespace=`,
/// v1 `resource_reference_key`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunScope<'a> {
    pub experiment_id: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub job_id: Option<&'a str>,
    pub pipeline_version_id: Option<&'a str>,
}

impl Store {
    /// Creates a run, moves its experiment's `last_run_created_at` and counts it, in one
    /// transaction.
    pub async fn create_run(&self, new: &NewRun) -> Result<RunDetail, StoreError> {
        let now = self.now();
        let mut run = RunRow {
            id: new_id(),
            name: new.name.clone(),
            description: new.description.clone(),
            experiment_id: new.experiment_id.clone(),
            pipeline_id: new.pipeline_id.clone(),
            pipeline_version_id: new.pipeline_version_id.clone(),
            job_id: new.job_id.clone().filter(|j| !j.is_empty()),
            created_at: now,
            scheduled_at: new.scheduled_at.unwrap_or(now),
            finished_at: 0,
            status: String::new(),
            error: String::new(),
            storage_state: StorageState::Available,
            namespace: String::new(),
            service_account: new.service_account.clone(),
            parameters: new.parameters.clone(),
            backend: new.backend.clone(),
        };
        let mut tx = self.write_tx().await?;
        // The namespace is copied from the experiment by the INSERT itself (one statement
        // fewer than reading it first); no row means no such experiment.
        let inserted = sqlx::query(
            "INSERT INTO runs (id, name, description, experiment_id, pipeline_id, \
             pipeline_version_id, job_id, created_at, scheduled_at, namespace, service_account, \
             parameters, workflow_manifest, backend, workflow_name) \
             SELECT $1, $2, $3, id, $4, $5, $6, $7, $8, namespace, $9, $10, $11, $12, $13 \
             FROM experiments WHERE id = $14 RETURNING namespace",
        )
        .bind(run.id.clone())
        .bind(run.name.clone())
        .bind(run.description.clone())
        .bind(run.pipeline_id.clone())
        .bind(run.pipeline_version_id.clone())
        .bind(run.job_id.clone().unwrap_or_default())
        .bind(run.created_at)
        .bind(run.scheduled_at)
        .bind(run.service_account.clone())
        .bind(run.parameters.to_string())
        .bind(new.workflow_manifest.clone())
        .bind(run.backend.clone())
        .bind(workflow_name(&new.workflow_manifest))
        .bind(run.experiment_id.clone())
        .fetch_optional(&mut *tx)
        .await?;
        let inserted =
            inserted.ok_or_else(|| StoreError::not_found("experiment", &new.experiment_id))?;
        run.namespace = inserted.try_get("namespace")?;
        // The statement that moved `last_run_created_at` counts the run too: no extra
        // statement while the experiment row is locked (same-experiment creations queue
        // on it).
        sqlx::query(
            "UPDATE experiments SET last_run_created_at = CASE \
             WHEN last_run_created_at < $1 THEN $2 ELSE last_run_created_at END, \
             available_runs = available_runs + 1 WHERE id = $3",
        )
        .bind(now)
        .bind(now)
        .bind(run.experiment_id.clone())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RunDetail {
            run,
            workflow_manifest: new.workflow_manifest.clone(),
            workflow_status: None,
        })
    }

    /// The run with its manifest and latest workflow status.
    pub async fn get_run(&self, id: &str) -> Result<RunDetail, StoreError> {
        let mut sql = Sql::new("SELECT ");
        sql.push(RunRow::COLUMNS)
            .push(", workflow_manifest, workflow_status FROM runs WHERE id = ")
            .arg(id.into());
        let row = sql.build().fetch_optional(&self.pool).await?;
        let row = row.ok_or_else(|| StoreError::not_found(RUN, id))?;
        Ok(RunDetail::decode(&row)?)
    }

    /// Records a workflow event: one UPDATE, no read.
    pub async fn update_run_status(
        &self,
        id: &str,
        update: &RunStatusUpdate,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = $1, finished_at = COALESCE($2, finished_at), \
             workflow_status = COALESCE($3, workflow_status), error = COALESCE($4, error) \
             WHERE id = $5",
        )
        .bind(update.status.clone())
        .bind(update.finished_at)
        .bind(update.workflow_status.clone())
        .bind(update.error.clone())
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(RUN, id));
        }
        Ok(())
    }

    /// Starts a finished run again under a new workflow manifest (a retry): its status,
    /// times and error are cleared; the run keeps its ID, name and experiment.
    pub async fn restart_run(&self, id: &str, workflow_manifest: &str) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = '', finished_at = 0, workflow_status = NULL, error = '', \
             workflow_manifest = $1 WHERE id = $2",
        )
        .bind(workflow_manifest.to_string())
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(RUN, id));
        }
        Ok(())
    }

    pub async fn archive_run(&self, id: &str) -> Result<(), StoreError> {
        self.set_run_storage_state(id, StorageState::Archived).await
    }

    pub async fn unarchive_run(&self, id: &str) -> Result<(), StoreError> {
        self.set_run_storage_state(id, StorageState::Available)
            .await
    }

    /// Sets the run's storage state and moves it between the counts; setting the state it
    /// already has changes nothing and succeeds.
    async fn set_run_storage_state(&self, id: &str, state: StorageState) -> Result<(), StoreError> {
        let from = match state {
            StorageState::Available => StorageState::Archived,
            StorageState::Archived => StorageState::Available,
        };
        let mut tx = self.write_tx().await?;
        // Only a row that really changes state is returned (PostgreSQL re-checks the
        // condition on the latest row version after waiting for a concurrent writer).
        let changed = sqlx::query(
            "UPDATE runs SET storage_state = $1 WHERE id = $2 AND storage_state = $3 \
             RETURNING experiment_id",
        )
        .bind(state.as_str())
        .bind(id.to_string())
        .bind(from.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        match changed {
            Some(row) => {
                let experiment_id: String = row.try_get("experiment_id")?;
                add_run_counts(&mut tx, &experiment_id, &[(from, -1), (state, 1)]).await?;
            }
            None => {
                let exists = sqlx::query("SELECT 1 AS one FROM runs WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
                if exists.is_none() {
                    return Err(StoreError::not_found(RUN, id));
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the run and its metrics.
    pub async fn delete_run(&self, id: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let deleted =
            sqlx::query("DELETE FROM runs WHERE id = $1 RETURNING experiment_id, storage_state")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        let row = deleted.ok_or_else(|| StoreError::not_found(RUN, id))?;
        let experiment_id: String = row.try_get("experiment_id")?;
        let state = StorageState::parse(&row.try_get::<String, _>("storage_state")?)?;
        add_run_counts(&mut tx, &experiment_id, &[(state, -1)]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Runs whose workflow may still change (status not final, including never reported),
    /// oldest first: what the reconciler re-attaches to after a restart.
    pub async fn unfinished_runs(&self) -> Result<Vec<RunRow>, StoreError> {
        let mut sql = Sql::new("SELECT ");
        sql.push(RunRow::COLUMNS)
            .push(" FROM runs WHERE status NOT IN (");
        for (i, status) in FINISHED_STATUSES.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.arg((*status).into());
        }
        sql.push(") ORDER BY created_at, id");
        let rows = sql.build().fetch_all(&self.pool).await?;
        Ok(rows.iter().map(RunRow::decode).collect::<Result<_, _>>()?)
    }

    /// How many of a recurring run's runs are not finished (for `max_concurrency`).
    pub async fn active_runs_of_job(&self, job_id: &str) -> Result<i64, StoreError> {
        let mut sql = Sql::new("SELECT COUNT(*) AS n FROM runs WHERE job_id = ");
        sql.arg(job_id.into()).push(" AND status NOT IN (");
        for (i, status) in FINISHED_STATUSES.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.arg((*status).into());
        }
        sql.push(")");
        let row = sql.build().fetch_one(&self.pool).await?;
        Ok(sqlx::Row::try_get(&row, "n")?)
    }

    /// Runs (summaries, without manifests) narrowed by `scope`.
    pub async fn list_runs(
        &self,
        query: &ListQuery,
        scope: RunScope<'_>,
    ) -> Result<Page<RunRow>, StoreError> {
        let scope: Vec<(&'static str, &str)> = [
            ("experiment_id", scope.experiment_id),
            ("namespace", scope.namespace),
            ("job_id", scope.job_id),
            ("pipeline_version_id", scope.pipeline_version_id),
        ]
        .into_iter()
        .filter_map(|(column, value)| value.map(|v| (column, v)))
        .collect();
        let spec = ListSpec {
            resource: Resource::Runs,
            columns: RunRow::COLUMNS,
            decode: RunRow::decode,
            counts: Some(RUN_COUNTS),
        };
        list(&self.pool, spec, query, &scope).await
    }
}

/// Adds to `experiment_id`'s run counts (`delta` runs in a storage state, for each pair),
/// in one UPDATE of the experiment row. Relative changes (`n = n + delta` on the row's
/// latest version), so concurrent writers' changes add up instead of overwriting each
/// other.
async fn add_run_counts(
    conn: &mut AnyConnection,
    experiment_id: &str,
    deltas: &[(StorageState, i64)],
) -> Result<(), StoreError> {
    let delta = |wanted: StorageState| {
        deltas
            .iter()
            .filter(|(state, _)| *state == wanted)
            .map(|(_, d)| d)
            .sum::<i64>()
    };
    sqlx::query(
        "UPDATE experiments SET available_runs = available_runs + $1, \
         archived_runs = archived_runs + $2 WHERE id = $3",
    )
    .bind(delta(StorageState::Available))
    .bind(delta(StorageState::Archived))
    .bind(experiment_id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
