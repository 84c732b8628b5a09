//! `kfp run`: load (or build and compile) a workflow, run it on the embedded engine,
//! follow it, and report.
//!
//! Everything that can be checked is checked before the engine starts, so a wrong file
//! or parameter exits 2 with nothing created under `<root>/runs`. Once started, the
//! command always waits for the run to end (Ctrl-C stops it, a second Ctrl-C terminates
//! it), so no process of the run outlives `kfp`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow};
use kfp::argo::{WorkflowPhase, WorkflowStatus};
use kfp::build::{BuildOptions, build_pipeline_binary, compile_pipeline};
use kfp_engine::{Engine, EngineConfig, EngineError, RunHandle, RunOptions};
use tokio::signal::unix::{SignalKind, signal};

use super::progress::{Progress, Stream};
use super::report::{self, Places};
use super::{EXIT_FAILED, Failure, OutputFormat, RunArgs, default_root};

/// How often the live view may redraw.
const TICK: Duration = Duration::from_millis(100);

/// Run `kfp run`.
pub fn run(args: RunArgs) -> Result<ExitCode, Failure> {
    let root = root(&args)?;
    let (file, function_binary) = match &args.package {
        Some(package) => build_package(&args, package, &root)?,
        None => match &args.file {
            Some(file) => (file.clone(), absolute_binary(args.binary.as_deref())?),
            None => return Err(Failure::usage(anyhow!("give FILE.yaml or --package CRATE"))),
        },
    };
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))
        .map_err(Failure::usage)?;
    let workflow = Engine::load_yaml(&text, &file.display().to_string()).map_err(engine_failure)?;
    let options = RunOptions {
        parameters: args.parameters.clone(),
        function_binary,
        name: args.name.clone(),
        ..RunOptions::default()
    };
    let engine = Engine::new(EngineConfig::new(&root));
    let runtime = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .map_err(Failure::failed)?;
    let (name, run_dir, status) =
        runtime.block_on(execute(&engine, workflow, options, args.output))?;
    let artifacts = root.join("artifacts").join(&name);
    let places = Places {
        name: &name,
        run_dir: &run_dir,
        artifacts: &artifacts,
    };
    let text = report::render(args.output, &places, &status).map_err(Failure::failed)?;
    // A closed stdout must not turn the run's outcome into a panic.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(if status.phase == WorkflowPhase::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

/// `--root` or its default, made absolute: steps run in their own directories and get
/// paths under the root in their arguments.
fn root(args: &RunArgs) -> Result<PathBuf, Failure> {
    let root = match &args.root {
        Some(root) => root.clone(),
        None => default_root(|name| std::env::var_os(name)).ok_or_else(|| {
            Failure::usage(anyhow!(
                "cannot tell where to keep runs: set KFP_HOME or HOME, or pass --root"
            ))
        })?,
    };
    std::path::absolute(&root)
        .with_context(|| format!("--root {}", root.display()))
        .map_err(Failure::usage)
}

/// Start the run and follow it; returns its name, its directory and its final status.
async fn execute(
    engine: &Engine,
    workflow: kfp::argo::Workflow,
    options: RunOptions,
    output: OutputFormat,
) -> Result<(String, PathBuf, WorkflowStatus), Failure> {
    // Registered before the start so a Ctrl-C at any moment of the run is ours (the
    // default action would kill `kfp` and leave the run's processes behind).
    let interrupts = signal(SignalKind::interrupt())
        .context("cannot handle Ctrl-C")
        .map_err(Failure::failed)?;
    let typed = super::resume::lines(&workflow);
    let handle = engine.start(workflow, options).map_err(engine_failure)?;
    let name = handle.name().to_owned();
    let run_dir = handle.run_dir().to_path_buf();
    let stream = match output {
        OutputFormat::Table => Stream::Stdout,
        OutputFormat::Json | OutputFormat::Yaml => Stream::Stderr,
    };
    let progress = Progress::new(stream, &name);
    let status = follow(handle, progress, interrupts, typed).await;
    Ok((name, run_dir, status))
}

/// `--binary` as an absolute path to an existing file (steps run in other directories).
fn absolute_binary(binary: Option<&Path>) -> Result<Option<PathBuf>, Failure> {
    binary
        .map(|path| {
            std::fs::canonicalize(path)
                .with_context(|| format!("--binary {}", path.display()))
                .map_err(Failure::usage)
        })
        .transpose()
}

/// Build the package, compile its pipeline into `<root>/compiled/`, and return that file
/// with the binary for Rust-function steps.
fn build_package(
    args: &RunArgs,
    package: &str,
    root: &Path,
) -> Result<(PathBuf, Option<PathBuf>), Failure> {
    let options = BuildOptions {
        package: package.to_owned(),
        bin: args.bin.clone(),
        manifest_path: args.manifest_path.clone(),
        release: args.release,
    };
    let exe = build_pipeline_binary(&options).map_err(Failure::failed)?;
    let dir = root.join("compiled");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))
        .map_err(Failure::failed)?;
    let pipeline = args.pipeline.as_deref().unwrap_or("default");
    let file = dir.join(format!("{package}-{pipeline}.yaml"));
    compile_pipeline(&exe, args.pipeline.as_deref(), &file).map_err(Failure::failed)?;
    Ok((file, Some(exe)))
}

/// Errors of the input (the workflow, a parameter, a taken run name) exit 2; the
/// others (disk, runtime) exit 1.
fn engine_failure(error: EngineError) -> Failure {
    match error {
        EngineError::Invalid(_)
        | EngineError::Model { .. }
        | EngineError::Parameter(_)
        | EngineError::Exists(..) => Failure::usage(error),
        _ => Failure::failed(error),
    }
}

/// Show progress and handle Ctrl-C until the run ends; returns its final status once
/// every process of the run has been reaped.
async fn follow(
    handle: RunHandle,
    mut progress: Progress,
    mut interrupts: tokio::signal::unix::Signal,
    mut typed: Option<tokio::sync::mpsc::UnboundedReceiver<String>>,
) -> WorkflowStatus {
    let mut status = handle.subscribe();
    let mut announced = std::collections::BTreeSet::new();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut presses = 0;
    progress.changed(&status.borrow_and_update());
    while !status.borrow().phase.is_completed() {
        tokio::select! {
            changed = status.changed() => {
                if changed.is_err() {
                    break;
                }
                progress.changed(&status.borrow_and_update());
            }
            line = async { typed.as_mut()?.recv().await }, if typed.is_some() => match line {
                Some(line) => {
                    handle.resume(None, super::resume::supplied(&line));
                    progress.note("resuming");
                }
                None => typed = None,
            },
            _ = ticker.tick() => progress.tick(&status.borrow()),
            _ = interrupts.recv() => {
                presses += 1;
                if presses == 1 {
                    handle.stop();
                    progress.note("stopping (Ctrl-C again to terminate)");
                } else {
                    handle.terminate();
                    progress.note("terminating");
                }
            }
        }
        // Checked every turn (a node may already wait when following starts, and then
        // nothing changes until someone resumes it).
        if typed.is_some() {
            for node in super::resume::newly_waiting(&status.borrow(), &mut announced) {
                progress.note(&format!(
                    "{node} is suspended: press Enter to resume it (NAME=VALUE words supply its outputs)"
                ));
            }
        }
    }
    let last = handle.wait().await;
    progress.finish(&last);
    last
}
