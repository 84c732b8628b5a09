//! The command line of a pipeline binary: what `kfp::main!(hello, ..)` runs.
//!
//! A user's crate builds one binary that knows its pipelines; this module gives it the
//! commands every such binary has:
//!
//! - `list`: the pipelines, one per line, with their descriptions;
//! - `compile [--pipeline NAME] -o FILE`: compile and validate one pipeline into Argo
//!   Workflow YAML (`-o -` for standard output). Nothing is written unless it succeeds.
//! - `component NAME --INPUT VALUE ... --output-OUTPUT PATH ...`: run one Rust-function
//!   component, as the compiled workflow's task does (the contract, including exit
//!   statuses, is [`FunctionComponent::invoke`]); `component` alone lists them, `component
//!   NAME --help` shows one's arguments.
//!
//! [`Program`] is the builder form: `main!` expands to
//! `Program::new().pipeline("hello", hello).run()`.
//!
//! Which Rust functions a binary can run: those its pipelines use (building a pipeline
//! builds its components, which registers their functions with the process; see
//! [`registered_functions`]), plus any added with [`Program::function`]. Deriving them
//! from the pipelines means nothing is listed twice and nothing depends on link-time
//! registration, which silently loses items of library crates the linker drops.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::dsl::{FunctionComponent, Pipeline, registered_functions};

/// Builds a pipeline (a `#[pipeline]` function).
pub type PipelineFn = fn() -> Pipeline;

/// The pipelines a binary serves, and its command line.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pipelines: Vec<(String, PipelineFn)>,
    functions: Vec<FunctionComponent>,
}

#[derive(Debug, Parser)]
#[command(
    about = "Compile the Kubeflow-style pipelines defined in this program to Argo Workflows, \
             and run its Rust-function components"
)]
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
    /// Run a Rust-function component as a workflow task does (alone: list them).
    #[command(disable_help_flag = true)]
    Component(ComponentArgs),
}

#[derive(Debug, Args)]
struct ComponentArgs {
    /// The function's name, then `--INPUT VALUE ... --output-OUTPUT PATH ...` (`NAME
    /// --help` lists them).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "NAME [ARGS]"
    )]
    argv: Vec<String>,
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

    /// Serve the Rust function `function` even if no pipeline of this program uses it.
    pub fn function(mut self, function: FunctionComponent) -> Self {
        self.functions.push(function);
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
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let program = args.first().map_or_else(
            || "pipeline".to_owned(),
            |a| a.to_string_lossy().into_owned(),
        );
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
        if let Command::Component(c) = &cli.command {
            return ExitCode::from(self.component(&program, &c.argv, out, err));
        }
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
            Command::Component(_) => Err(Failure("`component` is run by `run_with`".into())),
        }
    }

    /// `component [NAME [ARGS..]]`; returns the exit status.
    fn component(
        &self,
        program: &str,
        argv: &[String],
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> u8 {
        let Some((name, rest)) = argv.split_first() else {
            return self.list_functions(program, out);
        };
        if name == "--help" || name == "-h" {
            return self.list_functions(program, out);
        }
        match self.find_function(name) {
            Ok(function) => function.invoke(program, rest, out, err),
            Err(message) => {
                let _ = writeln!(err, "error: {message}");
                crate::dsl::EXIT_BAD_INVOCATION
            }
        }
    }

    /// Every Rust function this program can run, by name.
    fn functions(&self) -> Vec<FunctionComponent> {
        for (_, build) in &self.pipelines {
            build();
        }
        let mut all = self.functions.clone();
        for f in registered_functions() {
            if !all.iter().any(|g| g.name() == f.name()) {
                all.push(f);
            }
        }
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all
    }

    fn find_function(&self, name: &str) -> Result<FunctionComponent, String> {
        if let Some(f) = self.functions.iter().find(|f| f.name() == name) {
            return Ok(f.clone());
        }
        for (_, build) in &self.pipelines {
            build();
        }
        match crate::dsl::lookup_function(name) {
            Some(found) => found,
            None => {
                let names: Vec<String> = self
                    .functions()
                    .iter()
                    .map(|f| f.name().to_owned())
                    .collect();
                Err(if names.is_empty() {
                    format!("no Rust function `{name}`: this program runs none")
                } else {
                    format!(
                        "no Rust function `{name}`; this program runs: {}",
                        names.join(", ")
                    )
                })
            }
        }
    }

    fn list_functions(&self, program: &str, out: &mut dyn Write) -> u8 {
        let functions = self.functions();
        let mut text = format!(
            "Usage: {program} component NAME --INPUT VALUE ... --output-OUTPUT PATH ...\n\
             ({program} component NAME --help lists a function's arguments)\n\n"
        );
        if functions.is_empty() {
            text.push_str("This program runs no Rust function.\n");
        } else {
            text.push_str("Rust functions:\n");
            let width = functions.iter().map(|f| f.name().len()).max().unwrap_or(0);
            for f in &functions {
                let line = format!(
                    "  {:<width$}  {}",
                    f.name(),
                    f.rust_path_text().unwrap_or("")
                );
                text.push_str(line.trim_end());
                text.push('\n');
            }
        }
        match out.write_all(text.as_bytes()) {
            Ok(()) => 0,
            Err(_) => crate::dsl::EXIT_FAILED,
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
