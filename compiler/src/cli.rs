//! The command line of a pipeline binary: what `kfp::main!(hello, ..)` runs.
//!
//! A user's crate builds one binary that knows its pipelines; this module gives it the
//! commands every such binary has:
//!
//! - `list`: the pipelines, one per line, with their descriptions;
//! - `compile [--pipeline NAME] -o FILE`: compile and validate one pipeline into Argo
//!   Workflow YAML (`-o -` for standard output). Nothing is written unless it succeeds.
//!
//! [`Program`] is the builder form: `main!` expands to
//! `Program::new().pipeline("hello", hello).run()`. New kinds of entries (such as Rust
//! functions run as components, `component NAME --arg ..`) are a field of `Program`, a
//! variant of `Command` and an arm of `Program::dispatch`.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::dsl::Pipeline;

/// Builds a pipeline (a `#[pipeline]` function).
pub type PipelineFn = fn() -> Pipeline;

/// The pipelines a binary serves, and its command line.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pipelines: Vec<(String, PipelineFn)>,
}

#[derive(Debug, Parser)]
#[command(about = "Compile the Kubeflow-style pipelines defined in this program to Argo Workflows")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the pipelines, one per line, with their descriptions.
    List,
    /// Compile a pipeline to a validated Argo Workflow YAML file.
    Compile(CompileArgs),
}

#[derive(Debug, Args)]
struct CompileArgs {
    /// The pipeline to compile (by the name `list` shows); needed when there are several.
    #[arg(long, short)]
    pipeline: Option<String>,
    /// Where to write the workflow (`-` for standard output).
    #[arg(long, short)]
    output: PathBuf,
}

/// Why a command failed; printed as `error: ...`.
#[derive(Debug)]
struct Failure(String);

impl Program {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serve the pipeline `build` under `name`.
    pub fn pipeline(mut self, name: impl Into<String>, build: PipelineFn) -> Self {
        self.pipelines.push((name.into(), build));
        self
    }

    /// Run with the process's arguments and streams; the exit code tells success.
    pub fn run(&self) -> ExitCode {
        self.run_with(
            std::env::args_os(),
            &mut io::stdout().lock(),
            &mut io::stderr().lock(),
        )
    }

    /// Run with the given arguments (the first is the program's name) and streams.
    pub fn run_with(
        &self,
        args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> ExitCode {
        let cli = match Cli::try_parse_from(args) {
            Ok(cli) => cli,
            Err(e) => {
                // Help and version go to stdout and succeed; usage errors fail.
                let _ = if e.use_stderr() {
                    write!(err, "{}", e.render())
                } else {
                    write!(out, "{}", e.render())
                };
                return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
            }
        };
        match self.dispatch(cli.command, out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(Failure(message)) => {
                let _ = writeln!(err, "error: {message}");
                ExitCode::FAILURE
            }
        }
    }

    fn dispatch(&self, command: Command, out: &mut dyn Write) -> Result<(), Failure> {
        match command {
            Command::List => self.list(out),
            Command::Compile(args) => self.compile(&args, out),
        }
    }

    fn list(&self, out: &mut dyn Write) -> Result<(), Failure> {
        let width = self
            .pipelines
            .iter()
            .map(|(n, _)| n.len())
            .max()
            .unwrap_or(0);
        for (name, build) in &self.pipelines {
            let pipeline = build();
            let line = match pipeline
                .description
                .as_deref()
                .and_then(|d| d.lines().next())
            {
                Some(d) => format!("{name:<width$}  {d}"),
                None => name.clone(),
            };
            writeln!(out, "{}", line.trim_end()).map_err(write_failed)?;
        }
        Ok(())
    }

    fn compile(&self, args: &CompileArgs, out: &mut dyn Write) -> Result<(), Failure> {
        let pipeline = self.find(args.pipeline.as_deref())?;
        if args.output.as_os_str() == "-" {
            let yaml = crate::compile_to_yaml(&pipeline).map_err(|e| Failure(e.to_string()))?;
            return out.write_all(yaml.as_bytes()).map_err(write_failed);
        }
        crate::compile_to_file(&pipeline, &args.output).map_err(|e| Failure(e.to_string()))
    }

    /// The pipeline `name` (its entry name or the pipeline's own name), or the only one.
    fn find(&self, name: Option<&str>) -> Result<Pipeline, Failure> {
        let names = || {
            self.pipelines
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            None => match self.pipelines.as_slice() {
                [(_, build)] => Ok(build()),
                [] => Err(Failure("this program defines no pipeline".into())),
                _ => Err(Failure(format!(
                    "this program defines several pipelines ({}): choose one with --pipeline NAME",
                    names()
                ))),
            },
            Some(name) => {
                if let Some((_, build)) = self.pipelines.iter().find(|(n, _)| n == name) {
                    return Ok(build());
                }
                self.pipelines
                    .iter()
                    .map(|(_, build)| build())
                    .find(|p| p.name() == name)
                    .ok_or_else(|| {
                        Failure(format!(
                            "no pipeline {name:?}; the pipelines are: {}",
                            names()
                        ))
                    })
            }
        }
    }
}

fn write_failed(e: io::Error) -> Failure {
    Failure(format!("cannot write the output: {e}"))
}

/// Run the command line for `pipelines` (name, builder): the shortest form of `main`.
pub fn run(pipelines: &[(&str, PipelineFn)]) -> ExitCode {
    pipelines
        .iter()
        .fold(Program::new(), |program, (name, build)| {
            program.pipeline(*name, *build)
        })
        .run()
}
