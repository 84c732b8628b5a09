//! The API server: KFP's REST API over the store, running pipelines on a backend.
//!
//! Handlers are small functions per resource ([`pipelines`], [`experiments`], [`runs`])
//! that parse with the wire layer ([`crate::api`]), call the store ([`crate::store`]) and
//! answer with one error type ([`ApiError`]); the router only wires paths to them.

mod backend;
mod errors;
mod experiments;
mod healthz;
mod jobs;
pub mod openapi;
mod pipelines;
mod runs;
mod scheduler;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;

pub use self::backend::{Backend, BackendError, LocalBackend, Submission};
pub use self::runs::reconcile;
pub use self::scheduler::tick;
pub(crate) use self::scheduler::{cron_preview, parse_timezone, split_cron_timezone};
use crate::api::error::ApiError;
use crate::store::Store;

/// Settings of a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `sqlite://...` or `postgres://...`.
    pub database_url: String,
    /// Runs, artifacts and the default SQLite file live here.
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Largest accepted upload, in bytes (KFP: 32 MiB).
    pub max_upload_bytes: usize,
}

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    pub backend: Arc<dyn Backend>,
    pub max_upload_bytes: usize,
}

/// The state as handlers extract it.
pub type Shared = Arc<AppState>;

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// Every route of the API.
pub fn router(state: Shared) -> Router {
    let max_upload = state.max_upload_bytes;
    Router::new()
        .merge(healthz::routes())
        .merge(pipelines::routes(max_upload))
        .merge(experiments::routes())
        .merge(runs::routes())
        .merge(jobs::routes())
        .merge(openapi::routes())
        .with_state(state)
}

/// Open the store, reconcile runs left in flight, and serve until Ctrl-C.
pub async fn serve(config: ServerConfig, backend: Arc<dyn Backend>) -> anyhow::Result<()> {
    serve_with(config, backend, |_| {}).await
}

/// [`serve`], calling `on_listening` with the bound address once the listener is bound
/// and before requests are served (connections it makes wait in the listen queue, so it
/// must not block: `kfp server --demo` starts a thread there that uploads the samples
/// through the API; with port 0 it is also how the caller learns the port).
pub async fn serve_with(
    config: ServerConfig,
    backend: Arc<dyn Backend>,
    on_listening: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    use anyhow::Context;
    let store = Store::open(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", config.database_url))?;
    let state = Arc::new(AppState {
        store,
        backend,
        max_upload_bytes: config.max_upload_bytes,
    });
    let reconciled = reconcile(&state).await?;
    if reconciled.resumed > 0 {
        eprintln!(
            "resumed {} run(s) the previous server left in flight (steps that had succeeded are kept)",
            reconciled.resumed
        );
    }
    if reconciled.failed > 0 {
        eprintln!(
            "marked {} run(s) left in flight by the previous server as Failed (they could not be resumed)",
            reconciled.failed
        );
    }
    let scheduler = scheduler::spawn(state.clone());
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    eprintln!(
        "kfp server listening on http://{address} (data in {})",
        config.data_dir.display()
    );
    on_listening(address);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the server stopped")?;
    scheduler.abort();
    Ok(())
}
