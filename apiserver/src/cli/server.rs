//! `kfp server`: the API server on this machine, with the embedded engine as backend.
//!
//! `--demo` ([`super::demo`]) builds the samples, serves them with their binary as the
//! function binary, and uploads and runs each once the listener is bound.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use clap::{Args, ValueEnum};
use kfp_engine::{Engine, EngineConfig};

use super::{Failure, default_root, demo};
use crate::server::{LocalBackend, ServerConfig, serve_with};

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
    /// The pipeline binary that Rust-function steps of every run call (the local engine
    /// runs it in place of the image's /usr/local/bin/pipelines)
    #[arg(long, value_name = "PATH")]
    pub function_binary: Option<PathBuf>,
    /// Build the sample pipelines, upload each and run it once in experiment "Samples"
    /// (first start only; run from the kfp-rs checkout)
    #[arg(long, conflicts_with = "function_binary")]
    pub demo: bool,
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
    // Checked before anything is created: a wrong path is a usage error.
    let given_binary = args
        .function_binary
        .as_deref()
        .map(|path| {
            std::fs::canonicalize(path)
                .with_context(|| {
                    format!(
                        "--function-binary {}: give the path of a built pipeline binary \
                         (e.g. target/debug/pipelines)",
                        path.display()
                    )
                })
                .map_err(Failure::usage)
        })
        .transpose()?;
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))
        .map_err(Failure::failed)?;
    let demo = if args.demo {
        Some(demo::prepare(&data_dir)?)
    } else {
        None
    };
    // --demo conflicts with --function-binary: the samples' binary is the one.
    let function_binary = demo.as_ref().map(|d| d.binary.clone()).or(given_binary);
    let mut engine_config = EngineConfig::new(&data_dir);
    if let Some(demo) = &demo {
        engine_config.env.extend(demo.engine_env());
    }
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
                    let mut local = LocalBackend::new(Engine::new(engine_config));
                    if let Some(binary) = function_binary {
                        local = local.with_function_binary(binary);
                    }
                    Arc::new(local)
                }
            };
            serve_with(config, backend, |address| {
                if let Some(demo) = demo {
                    demo::start(demo, address);
                }
            })
            .await
        })
        .map_err(Failure::failed)?;
    Ok(ExitCode::SUCCESS)
}
