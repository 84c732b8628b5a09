//! `kfp server`: the API server on this machine, with the embedded engine as backend.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use clap::{Args, ValueEnum};
use kfp_engine::{Engine, EngineConfig};

use super::{Failure, default_root};
use crate::server::{LocalBackend, ServerConfig, serve};

/// Arguments of `kfp server`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Database: a SQLite file (`sqlite:///path/kfp.db`) or PostgreSQL (`postgres://...`)
    /// [default: <data dir>/kfp.db]
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Where runs, logs, artifacts and the default database are kept [default: $KFP_HOME,
    /// else $XDG_DATA_HOME/kfp, else ~/.local/share/kfp]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8888")]
    pub listen: SocketAddr,
    /// Where runs execute
    #[arg(long, value_enum, default_value_t = BackendKind::Local)]
    pub backend: BackendKind,
    /// Largest accepted pipeline upload, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 32)]
    pub max_upload_mib: usize,
}

/// The backends a server can run pipelines on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// The embedded engine: processes on this machine
    Local,
}

pub fn run(args: ServerArgs) -> Result<ExitCode, Failure> {
    let data_dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => default_root(|name| std::env::var_os(name)).ok_or_else(|| {
            Failure::usage(anyhow!(
                "cannot tell where to keep data: set KFP_HOME or HOME, or pass --data-dir"
            ))
        })?,
    };
    let data_dir = std::path::absolute(&data_dir)
        .with_context(|| format!("--data-dir {}", data_dir.display()))
        .map_err(Failure::usage)?;
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))
        .map_err(Failure::failed)?;
    let database_url = args
        .db
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data_dir.join("kfp.db").display()));
    let config = ServerConfig {
        database_url,
        data_dir: data_dir.clone(),
        listen: args.listen,
        max_upload_bytes: args.max_upload_mib.saturating_mul(1024 * 1024),
    };
    let runtime = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .map_err(Failure::failed)?;
    runtime
        .block_on(async {
            let backend = match args.backend {
                BackendKind::Local => {
                    Arc::new(LocalBackend::new(Engine::new(EngineConfig::new(&data_dir))))
                }
            };
            serve(config, backend).await
        })
        .map_err(Failure::failed)?;
    Ok(ExitCode::SUCCESS)
}
