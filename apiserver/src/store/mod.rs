//! The API server's persistent state (pipelines, versions, experiments, runs, metrics and
//! recurring runs) in SQLite or PostgreSQL.
//!
//! One code base serves both databases: queries are runtime `sqlx::query` calls on an
//! [`AnyPool`] with `$n` placeholders, and one embedded migration set is written in the SQL
//! both understand. Every write is one transaction, so a failed call changes nothing.
//! Lists use keyset pagination driven by [`crate::list::ListQuery`].

mod clock;
mod error;
mod experiments;
pub mod ids;
mod jobs;
mod metrics;
mod pipelines;
mod query;
mod rows;
mod runs;

#[cfg(test)]
mod tests;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Transaction};

pub use clock::Clock;
pub use error::StoreError;
pub use experiments::DEFAULT_EXPERIMENT;
pub use jobs::{JobScope, NewJob, Trigger};
pub use metrics::{MetricOutcome, MetricStatus, NewMetric};
pub use pipelines::{NewPipeline, NewVersion};
pub use rows::{
    ExperimentRow, JobRow, MetricRow, PipelineRow, RunDetail, RunRow, StorageState, VersionRow,
};
pub use runs::{FINISHED_STATUSES, NewRun, RunScope, RunStatusUpdate};

/// The migrations in `migrations/`, compiled into the binary so a fresh database needs no
/// files on disk.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Which database the pool talks to; only transaction start-up differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the database; cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    clock: Clock,
}

impl Store {
    /// Connects to `sqlite://path?mode=rwc` or `postgres://...` and brings the schema up to
    /// date. SQLite connections run in WAL mode (readers do not block the writer) with foreign
    /// keys on and a busy timeout, so concurrent writers wait instead of failing.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        // Idempotent (guarded by a `Once` inside sqlx).
        install_default_drivers();

        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Invalid(format!(
                "unsupported database URL (want sqlite:// or postgres://): {}",
                redact(url)
            )));
        };
        let options = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 10000",
                            "PRAGMA synchronous = NORMAL",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            });
        let pool = options.connect(url).await?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Database(sqlx::Error::Migrate(Box::new(e))))?;
        Ok(Store {
            pool,
            backend,
            clock: Clock::system(),
        })
    }

    /// The same store reading "now" from `clock` (tests and simulations pin time with it).
    pub fn with_clock(mut self, clock: Clock) -> Store {
        self.clock = clock;
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool's connections (waits for checked-out ones to come back).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes can fail with
    /// SQLITE_BUSY without waiting when another writer got in between.
    async fn write_tx(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_string(),
    }
}
