//! Write a synthetic pipeline's workflow: `cargo run --release -p kfp --example synthetic --
//! --shape random --ops 1000 --output /tmp/random-1000.yaml`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use kfp::synthetic::{Shape, pipeline};

#[derive(Parser)]
struct Args {
    /// chain, fan or random.
    #[arg(long)]
    shape: Shape,
    /// Number of ops.
    #[arg(long)]
    ops: usize,
    /// Where to write the workflow YAML.
    #[arg(long)]
    output: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let started = Instant::now();
    let p = pipeline(args.shape, args.ops);
    let built = started.elapsed();
    let workflow = match kfp::compile(&p) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let compiled = started.elapsed();
    let yaml = match kfp::compile::to_yaml(&workflow) {
        Ok(y) => y,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(&args.output, &yaml) {
        eprintln!("cannot write {}: {e}", args.output.display());
        return ExitCode::FAILURE;
    }
    println!(
        "{} ops ({}): built in {:.1} ms, compiled+validated in {:.1} ms, {} templates, {} bytes -> {}",
        args.ops,
        args.shape,
        built.as_secs_f64() * 1e3,
        (compiled - built).as_secs_f64() * 1e3,
        workflow.spec.templates.len(),
        yaml.len(),
        args.output.display()
    );
    ExitCode::SUCCESS
}
