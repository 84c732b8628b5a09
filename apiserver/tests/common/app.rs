//! The router in process over a temporary SQLite store and the local engine: requests go
//! through axum as they would over HTTP, without a socket.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use kfp_apiserver::server::{AppState, LocalBackend, router};
use kfp_apiserver::store::{Clock, Store};
use kfp_engine::{Engine, EngineConfig};
use serde_json::Value;
use tower::ServiceExt;

/// A server state with its temporary directory (kept as long as the value lives).
pub struct Server {
    pub state: Arc<AppState>,
    pub dir: tempfile::TempDir,
}

/// A fresh server on the system clock.
pub async fn server() -> Server {
    build(None, 1 << 20).await
}

/// A fresh server accepting uploads up to `limit` bytes.
pub async fn server_with_upload_limit(limit: usize) -> Server {
    build(None, limit).await
}

/// A fresh server whose clock moves one second per reading, so rows created one after
/// another have distinct, ordered creation times.
pub async fn ticking_server() -> Server {
    let tick = Arc::new(AtomicI64::new(1_700_000_000));
    let clock = Clock::new(move || tick.fetch_add(1, Ordering::Relaxed));
    build(Some(clock), 1 << 20).await
}

async fn build(clock: Option<Clock>, max_upload_bytes: usize) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kfp.db").display());
    let mut store = Store::open(&url).await.expect("the store opens");
    if let Some(clock) = clock {
        store = store.with_clock(clock);
    }
    let engine = Engine::new(EngineConfig::new(dir.path()));
    let state = Arc::new(AppState {
        store,
        backend: Arc::new(LocalBackend::new(engine)),
        max_upload_bytes,
    });
    Server { state, dir }
}

/// Send `request`; the status and the body as JSON (a JSON string if it is not JSON).
pub async fn send(server: &Server, request: Request<Body>) -> (StatusCode, Value) {
    let response = router(server.state.clone())
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

/// `method uri` with an optional JSON body.
pub async fn call(
    server: &Server,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let request = Request::builder().method(method).uri(uri);
    let request = match body {
        Some(b) => request
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => request.body(Body::empty()),
    }
    .expect("a request");
    send(server, request).await
}

/// Every path under `root` whose name mentions `needle`.
pub fn files_named(root: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name().to_string_lossy().contains(needle) {
                found.push(path.clone());
            }
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    found
}
