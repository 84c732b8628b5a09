//! ListRuns and GetRun over 100,000 stored runs, through the real router (in process, so
//! the figures are the server's: JSON, parsing, SQL), on SQLite and on PostgreSQL.
//!
//! `cargo bench -p kfp-apiserver --bench api [-- RUNS]`; PostgreSQL is used when it answers
//! at `$KFP_TEST_POSTGRES` or postgres://postgres@127.0.0.1:5432/postgres (a database is
//! created for the run and dropped after). Prints requests per second and latencies; the
//! targets are p99 under 20 ms for any page and at least 3,000 GetRun/s.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use kfp_apiserver::server::{AppState, LocalBackend, router};
use kfp_apiserver::store::{Clock, NewRun, Store};
use kfp_engine::{Engine, EngineConfig};
use serde_json::{Value, json};
use tower::ServiceExt;

const PAGE: usize = 50;

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    runtime.block_on(bench("SQLite", &sqlite, runs, dir.path()));
    let admin = std::env::var("KFP_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    runtime.block_on(async {
        match postgres_database(&admin).await {
            Ok((url, name)) => {
                bench("PostgreSQL", &url, runs, dir.path()).await;
                drop_database(&admin, &name).await;
            }
            Err(e) => eprintln!("SKIPPED (PostgreSQL): {e}"),
        }
    });
}

async fn bench(label: &str, url: &str, runs: usize, data: &std::path::Path) {
    // Creation times one second apart, as if the runs had come over a long time.
    let clock = Arc::new(AtomicI64::new(1_700_000_000));
    let tick = clock.clone();
    let store = Store::open(url)
        .await
        .expect("the store opens")
        .with_clock(Clock::new(move || tick.fetch_add(1, Ordering::Relaxed)));
    let experiment = store
        .create_experiment_named("bench")
        .await
        .expect("an experiment");
    let other = store
        .create_experiment_named("other")
        .await
        .expect("another experiment");
    let started = Instant::now();
    let mut ids = Vec::with_capacity(runs);
    let mut failed = Vec::new();
    let mut pending = tokio::task::JoinSet::new();
    for i in 0..runs {
        let store = store.clone();
        // Every tenth run goes elsewhere, so the experiment filter has work to do.
        let experiment_id = if i % 10 == 9 {
            other.clone()
        } else {
            experiment.clone()
        };
        pending.spawn(async move {
            store
                .create_run(&NewRun {
                    name: format!("run-{i}"),
                    description: String::new(),
                    experiment_id,
                    pipeline_id: None,
                    pipeline_version_id: None,
                    job_id: None,
                    service_account: String::new(),
                    parameters: json!([{"name": "i", "value": i.to_string()}]),
                    workflow_manifest: "{}".to_owned(),
                    backend: "local".to_owned(),
                    scheduled_at: None,
                })
                .await
                .map(|d| d.run.id)
        });
        if pending.len() >= 16
            && let Some(done) = pending.join_next().await
        {
            stored(done, &mut ids, &mut failed);
        }
    }
    while let Some(done) = pending.join_next().await {
        stored(done, &mut ids, &mut failed);
    }
    println!(
        "{label}: stored {} runs in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(first) = failed.first() {
        // Not fatal (the figures still mean something), but never silent.
        eprintln!(
            "{label}: {} run creations failed; first: {first}",
            failed.len()
        );
    }
    if url.starts_with("postgres") {
        // What autovacuum does on a live server soon after a bulk insert: planner
        // statistics and the visibility map, which a fresh table lacks. (The first page's
        // total no longer depends on it: it is read from `run_counts`, not counted.)
        use sqlx::Connection;
        if let Ok(mut conn) = sqlx::PgConnection::connect(url).await {
            let _ = sqlx::query("VACUUM ANALYZE").execute(&mut conn).await;
        }
    }
    let state = Arc::new(AppState {
        store,
        backend: Arc::new(LocalBackend::new(Engine::new(EngineConfig::new(data)))),
        max_upload_bytes: 1 << 20,
    });
    let list = format!(
        "/apis/v1beta1/runs?resource_reference_key.type=EXPERIMENT&resource_reference_key.id={experiment}&page_size={PAGE}&sort_by=created_at"
    );
    let first = measure(&state, 300, 1, {
        let list = list.clone();
        move |_| list.clone()
    })
    .await;
    report(label, "ListRuns, first page", &first);
    let mut token = String::new();
    for _ in 0..499 {
        let page = get(&state, &format!("{list}&page_token={token}")).await;
        token = page["next_page_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    }
    let page_500 = format!("{list}&page_token={token}");
    let check = get(&state, &page_500).await;
    assert_eq!(
        check["runs"].as_array().map(Vec::len),
        Some(PAGE),
        "page 500 is full"
    );
    let deep = measure(&state, 300, 1, {
        let page = page_500.clone();
        move |_| page.clone()
    })
    .await;
    report(label, "ListRuns, 500th page", &deep);
    let ids = Arc::new(ids);
    let get_run = measure(&state, 6000, 8, {
        let ids = ids.clone();
        move |i| format!("/apis/v1beta1/runs/{}", ids[(i * 7919) % ids.len()])
    })
    .await;
    report(label, "GetRun", &get_run);
    state.store.close().await;
}

/// Records a finished `create_run` task: its run ID, or why it failed.
fn stored(
    done: Result<Result<String, kfp_apiserver::store::StoreError>, tokio::task::JoinError>,
    ids: &mut Vec<String>,
    failed: &mut Vec<String>,
) {
    match done {
        Ok(Ok(id)) => ids.push(id),
        Ok(Err(e)) => failed.push(e.to_string()),
        Err(e) => failed.push(e.to_string()),
    }
}

struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// `count` requests from `workers` concurrent loops; latency of each, and throughput.
async fn measure(
    state: &Arc<AppState>,
    count: usize,
    workers: usize,
    path: impl Fn(usize) -> String + Send + Sync + Clone + 'static,
) -> Figures {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let state = state.clone();
        let path = path.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            for i in (w..count).step_by(workers) {
                let uri = path(i);
                let t = Instant::now();
                let body = get(&state, &uri).await;
                latencies.push(t.elapsed());
                assert!(body.get("error").is_none(), "{uri}: {body}");
            }
            latencies
        });
    }
    let mut all = Vec::with_capacity(count);
    while let Some(done) = tasks.join_next().await {
        all.extend(done.expect("a worker"));
    }
    let elapsed = started.elapsed();
    all.sort();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Figures {
        per_second: all.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn report(label: &str, what: &str, f: &Figures) {
    println!(
        "{label}: {what}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
        f.per_second,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3
    );
}

async fn get(state: &Arc<AppState>, uri: &str) -> Value {
    let request = Request::builder()
        .uri(uri)
        .body(Body::empty())
        .expect("a request");
    let response = router(state.clone())
        .oneshot(request)
        .await
        .expect("an answer");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// A fresh database on the PostgreSQL server at `admin`.
async fn postgres_database(admin: &str) -> Result<(String, String), String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .map_err(|e| format!("cannot connect to {admin}: {e}"))?;
    let name = format!("kfp_bench_{}", std::process::id());
    // The name is ours (digits and letters), not input.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    Ok((format!("{base}/{name}"), name))
}

async fn drop_database(admin: &str, name: &str) {
    use sqlx::Connection;
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    }
}

trait CreateNamed {
    async fn create_experiment_named(&self, name: &str) -> Result<String, String>;
}

impl CreateNamed for Store {
    async fn create_experiment_named(&self, name: &str) -> Result<String, String> {
        self.create_experiment(name, "", "")
            .await
            .map(|e| e.id)
            .map_err(|e| e.to_string())
    }
}
