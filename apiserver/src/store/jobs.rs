//! Recurring runs ("jobs"). The store keeps the schedule and when it last fired; the
//! scheduler asks for [`Store::due_jobs`], decides cron firings itself (cron needs a
//! parser), and claims each firing with [`Store::claim_job_firing`] so it happens once.

use serde_json::Value as Json;

use super::Store;
use super::error::StoreError;
use super::ids::new_id;
use super::query::{ListSpec, Sql, list};
use super::rows::JobRow;
use crate::list::{ListQuery, Page, Resource};

const JOB: &str = "job";

/// When a recurring run fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A 6-field cron expression (seconds first).
    Cron(String),
    /// Every this many seconds.
    Interval(i64),
}

/// A recurring run to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub name: String,
    pub description: String,
    /// Must exist; the job copies its namespace.
    pub experiment_id: String,
    pub pipeline_id: Option<String>,
    pub pipeline_version_id: Option<String>,
    pub service_account: String,
    pub enabled: bool,
    pub max_concurrency: i64,
    pub no_catchup: bool,
    pub trigger: Trigger,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub timezone: String,
    pub parameters: Json,
    pub workflow_manifest: String,
}

/// Extra equality conditions for a job list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobScope<'a> {
    pub experiment_id: Option<&'a str>,
    pub namespace: Option<&'a str>,
}

impl Store {
    pub async fn create_job(&self, new: &NewJob) -> Result<JobRow, StoreError> {
        let (cron, interval_seconds) = match &new.trigger {
            Trigger::Cron(c) if !c.trim().is_empty() => (Some(c.clone()), None),
            Trigger::Interval(s) if *s > 0 => (None, Some(*s)),
            other => return Err(StoreError::Invalid(format!("bad trigger {other:?}"))),
        };
        let now = self.now();
        let mut tx = self.write_tx().await?;
        let namespace = Store::experiment_namespace(&mut tx, &new.experiment_id).await?;
        let job = JobRow {
            id: new_id(),
            name: new.name.clone(),
            description: new.description.clone(),
            experiment_id: new.experiment_id.clone(),
            pipeline_id: new.pipeline_id.clone(),
            pipeline_version_id: new.pipeline_version_id.clone(),
            namespace,
            service_account: new.service_account.clone(),
            created_at: now,
            updated_at: now,
            enabled: new.enabled,
            max_concurrency: new.max_concurrency,
            no_catchup: new.no_catchup,
            cron,
            interval_seconds,
            start_time: new.start_time,
            end_time: new.end_time,
            timezone: new.timezone.clone(),
            parameters: new.parameters.clone(),
            workflow_manifest: new.workflow_manifest.clone(),
            last_scheduled_at: None,
        };
        sqlx::query(
            "INSERT INTO jobs (id, name, description, experiment_id, pipeline_id, \
             pipeline_version_id, namespace, service_account, created_at, updated_at, enabled, \
             max_concurrency, no_catchup, cron, interval_seconds, start_time, end_time, timezone, \
             parameters, workflow_manifest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
        )
        .bind(job.id.clone())
        .bind(job.name.clone())
        .bind(job.description.clone())
        .bind(job.experiment_id.clone())
        .bind(job.pipeline_id.clone())
        .bind(job.pipeline_version_id.clone())
        .bind(job.namespace.clone())
        .bind(job.service_account.clone())
        .bind(now)
        .bind(now)
        .bind(i64::from(job.enabled))
        .bind(job.max_concurrency)
        .bind(i64::from(job.no_catchup))
        .bind(job.cron.clone())
        .bind(job.interval_seconds)
        .bind(job.start_time)
        .bind(job.end_time)
        .bind(job.timezone.clone())
        .bind(job.parameters.to_string())
        .bind(job.workflow_manifest.clone())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(job)
    }

    pub async fn get_job(&self, id: &str) -> Result<JobRow, StoreError> {
        let mut sql = Sql::new("SELECT ");
        sql.push(JobRow::COLUMNS)
            .push(" FROM jobs WHERE id = ")
            .arg(id.into());
        let row = sql.build().fetch_optional(&self.pool).await?;
        let row = row.ok_or_else(|| StoreError::not_found(JOB, id))?;
        Ok(JobRow::decode(&row)?)
    }

    /// Deletes the job; the runs it made stay.
    pub async fn delete_job(&self, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM jobs WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(JOB, id));
        }
        Ok(())
    }

    pub async fn enable_job(&self, id: &str) -> Result<(), StoreError> {
        self.set_job_enabled(id, true).await
    }

    pub async fn disable_job(&self, id: &str) -> Result<(), StoreError> {
        self.set_job_enabled(id, false).await
    }

    async fn set_job_enabled(&self, id: &str, enabled: bool) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE jobs SET enabled = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(enabled))
            .bind(self.now())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(JOB, id));
        }
        Ok(())
    }

    /// Enabled jobs inside their [start_time, end_time] window at `now` that may fire:
    /// interval jobs whose period has elapsed since the last firing (or since start_time /
    /// creation), and every cron job (the scheduler evaluates the expression against
    /// `last_scheduled_at`). Oldest first.
    pub async fn due_jobs(&self, now: i64) -> Result<Vec<JobRow>, StoreError> {
        let mut sql = Sql::new("SELECT ");
        sql.push(JobRow::COLUMNS)
            .push(" FROM jobs WHERE enabled = 1 AND (start_time IS NULL OR start_time <= ")
            .arg(now.into())
            .push(") AND (end_time IS NULL OR end_time >= ")
            .arg(now.into())
            .push(") AND (cron IS NOT NULL OR ")
            .push("COALESCE(last_scheduled_at, start_time, created_at) + interval_seconds <= ")
            .arg(now.into())
            .push(") ORDER BY created_at, id");
        let rows = sql.build().fetch_all(&self.pool).await?;
        Ok(rows.iter().map(JobRow::decode).collect::<Result<_, _>>()?)
    }

    /// Records that the job fired for time `at`. Returns false (and changes nothing) when the
    /// job is disabled or already fired for `at` or later, so two schedulers racing for the
    /// same firing produce one run.
    pub async fn claim_job_firing(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET last_scheduled_at = $1 WHERE id = $2 AND enabled = 1 \
             AND (last_scheduled_at IS NULL OR last_scheduled_at < $3)",
        )
        .bind(at)
        .bind(id.to_string())
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Jobs narrowed by `scope`.
    pub async fn list_jobs(
        &self,
        query: &ListQuery,
        scope: JobScope<'_>,
    ) -> Result<Page<JobRow>, StoreError> {
        let scope: Vec<(&'static str, &str)> = [
            ("experiment_id", scope.experiment_id),
            ("namespace", scope.namespace),
        ]
        .into_iter()
        .filter_map(|(column, value)| value.map(|v| (column, v)))
        .collect();
        let spec = ListSpec {
            resource: Resource::Jobs,
            columns: JobRow::COLUMNS,
            decode: JobRow::decode,
            counts: None,
        };
        list(&self.pool, spec, query, &scope).await
    }
}
