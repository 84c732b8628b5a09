//! `dsl-compile`: build a pipeline crate and write its Argo workflow, wrap one KFP
//! `component.yaml` into a one-task pipeline, or validate workflow files written by any
//! tool. The counterpart of KFP's `dsl-compile`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use kfp::build::{BuildOptions, build_pipeline_binary, compile_pipeline};

#[derive(Parser, Debug)]
#[command(
    name = "dsl-compile",
    version,
    about = "Compile a Rust pipeline crate or a KFP component.yaml to an Argo Workflow, or validate workflow files",
    after_help = "Examples:\n  dsl-compile --package my-pipelines --pipeline train --output train.yaml\n  dsl-compile --component train/component.yaml --output train.yaml\n  dsl-compile --validate workflow.yaml other.yaml"
)]
struct Args {
    /// The cargo package holding the pipeline binary (it ends in `kfp::main!(..)`).
    #[arg(long, conflicts_with_all = ["validate", "component"], requires = "output")]
    package: Option<String>,
    /// A KFP v1 component.yaml (file, or http(s) URL with the `http` feature) to wrap into
    /// a one-task pipeline whose parameters are the component's inputs.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "validate",
        requires = "output"
    )]
    component: Option<String>,
    /// With --component: also make this optional input (one without a default) a
    /// parameter the run must supply; otherwise it is left out, as KFP omits it.
    #[arg(long, value_name = "INPUT", requires = "component")]
    with_input: Vec<String>,
    /// With --component: fix an input to a constant instead of making it a parameter.
    #[arg(long, value_name = "INPUT=VALUE", requires = "component")]
    set: Vec<String>,
    /// The binary of the package, when it has several.
    #[arg(long, requires = "package")]
    bin: Option<String>,
    /// The pipeline to compile, when the binary defines several.
    #[arg(long, requires = "package")]
    pipeline: Option<String>,
    /// Where to write the workflow YAML (written only if compiling and validating succeed).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Path to the Cargo.toml of the workspace or package (default: found from here).
    #[arg(long, requires = "package")]
    manifest_path: Option<PathBuf>,
    /// Build the pipeline binary in release mode.
    #[arg(long, requires = "package")]
    release: bool,
    /// Validate these Argo workflow files instead of compiling.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    validate: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !args.validate.is_empty() {
        return validate_files(&args.validate);
    }
    if let (Some(component), Some(output)) = (&args.component, &args.output) {
        return match compile_component(&args, component, output) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("dsl-compile: {message}");
                ExitCode::FAILURE
            }
        };
    }
    match (&args.package, &args.output) {
        (Some(package), Some(output)) => match compile_package(&args, package, output) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("dsl-compile: {message}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!(
                "dsl-compile: nothing to do: give --package CRATE --output FILE, --component FILE --output FILE, or --validate FILE..."
            );
            ExitCode::from(2)
        }
    }
}

fn validate_files(files: &[PathBuf]) -> ExitCode {
    let mut failed = 0;
    for file in files {
        let name = file.display().to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{name}: cannot read: {e}");
                failed += 1;
                continue;
            }
        };
        match kfp::validate::validate_workflow_yaml(&text, Some(&name)) {
            Ok(_) => println!("{name}: valid"),
            Err(e) => {
                eprintln!("{e}");
                failed += 1;
            }
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{failed} of {} file(s) invalid", files.len());
        ExitCode::FAILURE
    }
}

/// Load a component.yaml, wrap it into a one-task pipeline (see
/// [`kfp::component::single_task_pipeline`] for how inputs become parameters) and write
/// the validated workflow.
fn compile_component(args: &Args, source: &str, output: &Path) -> Result<(), String> {
    use kfp::component::{Component, WrapOptions, WrappedInput, single_task_pipeline};
    let component = if source.starts_with("http://") || source.starts_with("https://") {
        load_url(source)?
    } else {
        Component::from_file(source).map_err(|e| e.to_string())?
    };
    let mut set = Vec::new();
    for pair in &args.set {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("--set {pair:?}: expected INPUT=VALUE"))?;
        set.push((name.to_owned(), value.to_owned()));
    }
    let options = WrapOptions {
        with_inputs: args.with_input.clone(),
        set,
    };
    let (pipeline, plan) = single_task_pipeline(&component, &options).map_err(|e| e.to_string())?;
    kfp::compile_to_file(&pipeline, output).map_err(|e| e.to_string())?;
    println!("wrote {}", output.display());
    for (input, how) in plan {
        match how {
            WrappedInput::Param(name) => println!("  input {input:?}: parameter {name}"),
            WrappedInput::Constant(value) => println!("  input {input:?}: fixed to {value:?}"),
            WrappedInput::Omitted => println!(
                "  input {input:?}: left out (optional; --with-input {input:?} makes it a parameter)"
            ),
        }
    }
    Ok(())
}

#[cfg(feature = "http")]
fn load_url(url: &str) -> Result<kfp::component::Component, String> {
    kfp::component::Component::from_url(url).map_err(|e| e.to_string())
}

#[cfg(not(feature = "http"))]
fn load_url(url: &str) -> Result<kfp::component::Component, String> {
    Err(format!(
        "{url}: loading a component from a URL needs dsl-compile built with the `http` feature"
    ))
}

/// Build the package with cargo and let its binary (whose `main` is `kfp::main!`)
/// compile the pipeline; see [`kfp::build`].
fn compile_package(args: &Args, package: &str, output: &Path) -> Result<(), String> {
    let options = BuildOptions {
        package: package.to_owned(),
        bin: args.bin.clone(),
        manifest_path: args.manifest_path.clone(),
        release: args.release,
    };
    let exe = build_pipeline_binary(&options).map_err(|e| e.to_string())?;
    compile_pipeline(&exe, args.pipeline.as_deref(), output).map_err(|e| e.to_string())?;
    println!("wrote {}", output.display());
    Ok(())
}
