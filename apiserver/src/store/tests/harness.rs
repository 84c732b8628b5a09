//! Runs each test case against a fresh SQLite file and a fresh PostgreSQL database.
//!
//! PostgreSQL: `KFP_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`) is
//! the admin connection; each case gets `CREATE DATABASE kfp_test_<random>`, dropped
//! `WITH (FORCE)` by a guard, also when the case panics. When the server cannot be reached
//! the case runs on SQLite only and says so loudly, unless `KFP_REQUIRE_POSTGRES=1`.

use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use sqlx::{AnyConnection, AssertSqlSafe, Connection};

use crate::store::{Clock, Store, ids::new_id};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A store on a throw-away database, with a clock the test sets.
#[derive(Debug)]
pub(crate) struct TestDb {
    pub store: Store,
    pub url: String,
    pub label: &'static str,
    now: Arc<AtomicI64>,
    // Dropped after the store (fields drop in order): remove the database.
    _sqlite_dir: Option<tempfile::TempDir>,
    _postgres: Option<PgDropGuard>,
}

impl TestDb {
    /// Sets what the store sees as "now" (Unix seconds).
    pub fn set_now(&self, t: i64) {
        self.now.store(t, Ordering::SeqCst);
    }

    /// Opens a second store on the same database (same clock).
    pub async fn reopen(&self) -> Store {
        Store::open(&self.url)
            .await
            .expect("reopen store")
            .with_clock(clock(&self.now))
    }
}

fn clock(now: &Arc<AtomicI64>) -> Clock {
    let now = Arc::clone(now);
    Clock::new(move || now.load(Ordering::SeqCst))
}

/// One database per backend that is available.
pub(crate) async fn backends() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    match postgres().await {
        Ok(db) => dbs.push(db),
        Err(reason) => {
            if std::env::var("KFP_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("PostgreSQL required (KFP_REQUIRE_POSTGRES=1) but unavailable: {reason}");
            }
            // Straight to fd 2: libtest captures `eprintln!` of passing tests, and this
            // must be seen. Once per test binary.
            static SAID: Once = Once::new();
            SAID.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED (PostgreSQL): {reason} -- store tests ran on SQLite only"
                );
            });
        }
    }
    dbs
}

async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kfp.db").display());
    let now = Arc::new(AtomicI64::new(1_000));
    let store = Store::open(&url)
        .await
        .expect("open SQLite store")
        .with_clock(clock(&now));
    TestDb {
        store,
        url,
        label: "SQLite",
        now,
        _sqlite_dir: Some(dir),
        _postgres: None,
    }
}

async fn postgres() -> Result<TestDb, String> {
    let admin_url =
        std::env::var("KFP_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string());
    sqlx::any::install_default_drivers();
    let mut admin =
        tokio::time::timeout(Duration::from_secs(5), AnyConnection::connect(&admin_url))
            .await
            .map_err(|_| format!("connecting to {admin_url} timed out"))?
            .map_err(|e| format!("cannot connect to {admin_url}: {e}"))?;
    let name = format!("kfp_test_{}", new_id().replace('-', ""));
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
    let _ = admin.close().await;
    let guard = PgDropGuard {
        admin_url: admin_url.clone(),
        name: name.clone(),
    };
    let url = database_url(&admin_url, &name);
    let now = Arc::new(AtomicI64::new(1_000));
    let store = Store::open(&url)
        .await
        .map_err(|e| format!("open store on {name}: {e}"))?
        .with_clock(clock(&now));
    Ok(TestDb {
        store,
        url,
        label: "PostgreSQL",
        now,
        _sqlite_dir: None,
        _postgres: Some(guard),
    })
}

/// `admin_url` with its database path replaced by `name` (query string kept).
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// Drops the test database. Drop cannot await, so it runs on its own thread and runtime;
/// `WITH (FORCE)` ends the store's pooled connections still open.
#[derive(Debug)]
struct PgDropGuard {
    admin_url: String,
    name: String,
}

impl Drop for PgDropGuard {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut admin = AnyConnection::connect(&admin_url)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .map_err(|e| e.to_string())?;
                let _ = admin.close().await;
                Ok(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!("dropping test database {} panicked", self.name),
        }
    }
}

#[test]
fn database_url_replaces_the_path() {
    assert_eq!(
        database_url("postgres://u@h:5432/postgres?sslmode=disable", "x"),
        "postgres://u@h:5432/x?sslmode=disable"
    );
    assert_eq!(database_url("postgres://u@h", "x"), "postgres://u@h/x");
}
