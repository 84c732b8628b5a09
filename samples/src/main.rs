//! Compile the samples.
//!
//! ```text
//! cargo run -p samples -- list                 # the sample names
//! cargo run -p samples -- compile-all [DIR]    # every sample to DIR/<name>.yaml (default out/samples)
//! cargo run -p samples -- show NAME            # one sample's YAML on stdout
//! ```
//!
//! `compile-all` compiles and validates every sample, writes the ones that succeed, prints
//! one line per sample, and exits non-zero if any failed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kfp::argo::Workflow;

const USAGE: &str = "usage: samples list | compile-all [DIR] | show NAME";
const DEFAULT_DIR: &str = "out/samples";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["list"] => {
            for (name, build) in samples::all() {
                println!("{name}\t{}", build().name());
            }
            ExitCode::SUCCESS
        }
        ["compile-all"] => compile_all(Path::new(DEFAULT_DIR)),
        ["compile-all", dir] => compile_all(Path::new(dir)),
        ["show", name] => show(name),
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn compile_all(dir: &Path) -> ExitCode {
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let mut failed = 0;
    let samples = samples::all();
    for (name, build) in &samples {
        let path: PathBuf = dir.join(format!("{name}.yaml"));
        let pipeline = build();
        let result = kfp::compile(&pipeline).and_then(|wf| {
            let yaml = kfp::compile::to_yaml(&wf)?;
            std::fs::write(&path, yaml).map_err(|source| kfp::CompileError::Write {
                path: path.clone(),
                source,
            })?;
            Ok(wf)
        });
        match result {
            Ok(wf) => {
                let (templates, tasks) = counts(&wf);
                println!(
                    "ok    {name:<16} {templates:>3} templates {tasks:>3} tasks  -> {}",
                    path.display()
                );
            }
            Err(e) => {
                failed += 1;
                println!("FAIL  {name:<16} {e}");
            }
        }
    }
    if failed == 0 {
        println!(
            "{} samples compiled and validated into {}",
            samples.len(),
            dir.display()
        );
        ExitCode::SUCCESS
    } else {
        eprintln!("{failed} of {} samples failed", samples.len());
        ExitCode::FAILURE
    }
}

fn show(name: &str) -> ExitCode {
    let Some((_, build)) = samples::all().into_iter().find(|(n, _)| *n == name) else {
        eprintln!("no sample {name:?}; `samples list` shows them");
        return ExitCode::from(2);
    };
    match kfp::compile_to_yaml(&build()) {
        Ok(yaml) => {
            print!("{yaml}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Templates in the workflow, and tasks over all its DAG templates.
fn counts(wf: &Workflow) -> (usize, usize) {
    let tasks = wf
        .spec
        .templates
        .iter()
        .filter_map(|t| t.dag.as_ref())
        .map(|d| d.tasks.len())
        .sum();
    (wf.spec.templates.len(), tasks)
}
