//! Experiments: named groups of runs and recurring runs. Archiving one archives its runs
//! and disables its recurring runs; unarchiving restores only the experiment (KFP's rule).

use sqlx::Row;

use super::Store;
use super::error::{StoreError, unique_as_exists};
use super::ids::new_id;
use super::query::{ListSpec, Sql, list};
use super::rows::{ExperimentRow, StorageState};
use crate::list::{ListQuery, Page, Resource};

const EXPERIMENT: &str = "experiment";

/// The experiment runs land in when the request names none.
pub const DEFAULT_EXPERIMENT: &str = "Default";

impl Store {
    pub async fn create_experiment(
        &self,
        name: &str,
        description: &str,
        namespace: &str,
    ) -> Result<ExperimentRow, StoreError> {
        let row = ExperimentRow {
            id: new_id(),
            name: name.to_string(),
            description: description.to_string(),
            created_at: self.now(),
            last_run_created_at: 0,
            namespace: namespace.to_string(),
            storage_state: StorageState::Available,
        };
        sqlx::query(
            "INSERT INTO experiments (id, name, description, created_at, namespace, storage_state) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(row.id.clone())
        .bind(row.name.clone())
        .bind(row.description.clone())
        .bind(row.created_at)
        .bind(row.namespace.clone())
        .bind(row.storage_state.as_str())
        .execute(&self.pool)
        .await
        .map_err(unique_as_exists(EXPERIMENT, name))?;
        Ok(row)
    }

    pub async fn get_experiment(&self, id: &str) -> Result<ExperimentRow, StoreError> {
        let mut sql = Sql::new("SELECT ");
        sql.push(ExperimentRow::COLUMNS)
            .push(" FROM experiments WHERE id = ")
            .arg(id.into());
        let row = sql.build().fetch_optional(&self.pool).await?;
        let row = row.ok_or_else(|| StoreError::not_found(EXPERIMENT, id))?;
        Ok(ExperimentRow::decode(&row)?)
    }

    pub async fn get_experiment_by_name(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<ExperimentRow, StoreError> {
        let mut sql = Sql::new("SELECT ");
        sql.push(ExperimentRow::COLUMNS)
            .push(" FROM experiments WHERE namespace = ")
            .arg(namespace.into())
            .push(" AND name = ")
            .arg(name.into());
        let row = sql.build().fetch_optional(&self.pool).await?;
        let row = row.ok_or_else(|| StoreError::not_found(EXPERIMENT, name))?;
        Ok(ExperimentRow::decode(&row)?)
    }

    /// The namespace's "Default" experiment, created on first use. Concurrent callers get
    /// the same row (`ON CONFLICT DO NOTHING` on the unique name, then read).
    pub async fn default_experiment(&self, namespace: &str) -> Result<ExperimentRow, StoreError> {
        sqlx::query(
            "INSERT INTO experiments (id, name, description, created_at, namespace, storage_state) \
             VALUES ($1, $2, $3, $4, $5, 'AVAILABLE') ON CONFLICT (namespace, name) DO NOTHING",
        )
        .bind(new_id())
        .bind(DEFAULT_EXPERIMENT)
        .bind("All runs created without specifying an experiment will be grouped here.")
        .bind(self.now())
        .bind(namespace.to_string())
        .execute(&self.pool)
        .await?;
        self.get_experiment_by_name(namespace, DEFAULT_EXPERIMENT)
            .await
    }

    /// Deletes the experiment with its runs (and their metrics) and recurring runs.
    /// Returns the workflow names of the deleted runs, whose files the backend deletes.
    pub async fn delete_experiment(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let mut tx = self.write_tx().await?;
        // The runs first, then the experiment row: the order run writes lock them in (the
        // foreign key would cascade from the experiment to the runs, the other order). A
        // run stored before `workflow_name` existed gives its manifest instead.
        let deleted = sqlx::query(
            "DELETE FROM runs WHERE experiment_id = $1 RETURNING workflow_name, \
             CASE WHEN workflow_name = '' THEN workflow_manifest ELSE '' END AS manifest",
        )
        .bind(id.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut names = Vec::with_capacity(deleted.len());
        for row in &deleted {
            let name: String = row.try_get("workflow_name")?;
            let name = if name.is_empty() {
                super::runs::workflow_name(&row.try_get::<String, _>("manifest")?)
            } else {
                name
            };
            if !name.is_empty() {
                names.push(name);
            }
        }
        let done = sqlx::query("DELETE FROM experiments WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(EXPERIMENT, id));
        }
        tx.commit().await?;
        Ok(names)
    }

    /// Archives the experiment and all its runs, and disables its recurring runs.
    pub async fn archive_experiment(&self, id: &str) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.write_tx().await?;
        // The runs first, then the experiment row (the lock order of run writes). Only
        // the runs that change state, so the count moved is exactly theirs: a run created
        // meanwhile and not seen here stays AVAILABLE, and counted so.
        let archived = sqlx::query(
            "UPDATE runs SET storage_state = 'ARCHIVED' \
             WHERE experiment_id = $1 AND storage_state = 'AVAILABLE'",
        )
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let archived = i64::try_from(archived)
            .map_err(|_| StoreError::Invalid(format!("{archived} runs archived")))?;
        let done = sqlx::query(
            "UPDATE experiments SET storage_state = 'ARCHIVED', \
             available_runs = available_runs - $1, archived_runs = archived_runs + $2 \
             WHERE id = $3",
        )
        .bind(archived)
        .bind(archived)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(EXPERIMENT, id));
        }
        sqlx::query(
            "UPDATE jobs SET enabled = 0, updated_at = $1 WHERE experiment_id = $2 AND enabled = 1",
        )
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes the experiment available again; its runs stay archived and its recurring runs
    /// stay disabled.
    pub async fn unarchive_experiment(&self, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE experiments SET storage_state = 'AVAILABLE' WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(EXPERIMENT, id));
        }
        Ok(())
    }

    /// Experiments, optionally only those of one namespace.
    pub async fn list_experiments(
        &self,
        query: &ListQuery,
        namespace: Option<&str>,
    ) -> Result<Page<ExperimentRow>, StoreError> {
        let scope: Vec<(&'static str, &str)> =
            namespace.map(|ns| ("namespace", ns)).into_iter().collect();
        let spec = ListSpec {
            resource: Resource::Experiments,
            columns: ExperimentRow::COLUMNS,
            decode: ExperimentRow::decode,
            counts: None,
        };
        list(&self.pool, spec, query, &scope).await
    }

    /// The namespace of an experiment (runs and jobs copy it), inside a transaction.
    pub(crate) async fn experiment_namespace(
        conn: &mut sqlx::AnyConnection,
        id: &str,
    ) -> Result<String, StoreError> {
        let row = sqlx::query("SELECT namespace FROM experiments WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        let row = row.ok_or_else(|| StoreError::not_found(EXPERIMENT, id))?;
        Ok(row.try_get("namespace")?)
    }
}
