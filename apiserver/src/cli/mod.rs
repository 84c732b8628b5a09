//! The `kfp` command line: its clap definitions, where runs are kept, and how errors
//! become exit codes.
//!
//! Each subcommand has its own module (`run`, `server`); the client commands that talk to
//! a kfp server (`pipeline`, `experiment`, `run submit|list|...`, `recurring-run`) live in
//! [`client`].

mod client;
mod demo;
mod progress;
mod report;
mod resume;
mod run;
mod server;
mod tree;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

/// Exit code of a run that ended Failed or Error, and of errors after the input was
/// accepted (a package that does not build, a run directory that cannot be made).
pub const EXIT_FAILED: u8 = 1;
/// Exit code when the command line or the workflow is wrong: nothing ran.
pub const EXIT_USAGE: u8 = 2;

/// `kfp`: run Kubeflow-style pipelines.
#[derive(Debug, Parser)]
#[command(
    name = "kfp",
    version,
    about = "Run Kubeflow-style pipelines (Argo Workflows) on this machine",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a workflow file or a pipeline crate locally and follow it to the end
    #[command(override_usage = RUN_USAGE, after_help = RUN_EXAMPLES)]
    Run(Box<RunArgs>),
    /// Serve Kubeflow Pipelines' REST API, running pipelines on this machine
    Server(server::ServerArgs),
    /// Upload, list, show and delete pipelines on a kfp server
    #[command(subcommand)]
    Pipeline(client::PipelineCommand),
    /// Create, list, archive and delete experiments on a kfp server
    #[command(subcommand)]
    Experiment(client::ExperimentCommand),
    /// Schedule pipelines on a kfp server (cron or fixed interval)
    #[command(subcommand, name = "recurring-run")]
    RecurringRun(client::RecurringCommand),
}

const RUN_USAGE: &str = "\
kfp run <FILE.yaml> [-p NAME=VALUE]... [--output FORMAT] [--root DIR] [--binary PATH] [--name NAME]
       kfp run --package <CRATE> [--bin BIN] [--pipeline NAME] [--manifest-path PATH] [--release]
               [-p NAME=VALUE]... [--output FORMAT] [--root DIR] [--name NAME]
       kfp run <submit|list|get|logs|terminate|retry|wait> ... [--endpoint URL]   (runs on a kfp server)";

const RUN_EXAMPLES: &str = "\
Exit status: 0 if the workflow Succeeded, 1 if it Failed or Error, 2 for usage or validation errors.

Without a subcommand the workflow runs here; with one, on the kfp server at --endpoint
(a workflow file named like a subcommand runs locally as `kfp run ./list`).

Examples:
  kfp run hello.yaml -p who=world
  kfp run --package my-pipelines --pipeline train --output json
  kfp run submit --pipeline-id 3f2a... -p who=world --wait
  kfp run list --experiment nightly";

/// Arguments of `kfp run`.
#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("source").required(true).args(["file", "package"])),
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct RunArgs {
    /// Runs on a kfp server instead of here
    #[command(subcommand)]
    pub remote: Option<client::RunCommand>,
    /// The Argo Workflow to run (YAML)
    #[arg(value_name = "FILE.yaml")]
    pub file: Option<PathBuf>,
    /// Build this cargo package, compile its pipeline and run it (Rust-function steps
    /// call the built binary)
    #[arg(long, value_name = "CRATE", conflicts_with_all = ["file", "binary"])]
    pub package: Option<String>,
    /// The binary of the package, when it has several
    #[arg(long, value_name = "BIN", requires = "package")]
    pub bin: Option<String>,
    /// The pipeline to compile, when the binary defines several
    #[arg(long, value_name = "NAME", requires = "package")]
    pub pipeline: Option<String>,
    /// The Cargo.toml of the workspace or package (default: found from here)
    #[arg(long, value_name = "PATH", requires = "package")]
    pub manifest_path: Option<PathBuf>,
    /// Build the pipeline binary in release mode
    #[arg(long, requires = "package")]
    pub release: bool,
    /// Set a workflow parameter (repeatable)
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE", value_parser = parse_parameter)]
    pub parameters: Vec<(String, String)>,
    /// What to print at the end; json and yaml print only the workflow's status on stdout
    #[arg(short, long, value_name = "FORMAT", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Where runs and artifacts are kept [default: $KFP_HOME, else $XDG_DATA_HOME/kfp,
    /// else ~/.local/share/kfp]
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// The pipeline binary that Rust-function steps call (with FILE.yaml)
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,
    /// Name of the run (default: the workflow's metadata.name or generateName)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// What `kfp run` prints when the run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The node tree, the outcome, and where logs and artifacts are
    Table,
    /// `{"metadata":{"name":..},"status":..}` as JSON
    Json,
    /// The same document as YAML
    Yaml,
}

/// An error that ends a command, with the exit code it stands for.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl Failure {
    /// The command line or its input is wrong; nothing ran.
    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: EXIT_USAGE,
            error: error.into(),
        }
    }

    /// Something failed after the input was accepted.
    pub fn failed(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: EXIT_FAILED,
            error: error.into(),
        }
    }
}

/// Parse the process's arguments, run the command, and turn the outcome into the exit
/// code (clap's own usage errors exit 2 too).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => match *args {
            RunArgs {
                remote: Some(command),
                ..
            } => client::run(command),
            args => run::run(args),
        },
        Command::Server(args) => server::run(args),
        Command::Pipeline(command) => client::pipeline(command),
        Command::Experiment(command) => client::experiment(command),
        Command::RecurringRun(command) => client::recurring_run(command),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("kfp: {}", describe(&failure.error));
            ExitCode::from(failure.code)
        }
    }
}

/// The error and its causes, `: `-separated like anyhow's `{:#}`, without repeating a
/// cause its wrapper already quotes (engine errors embed their source's text).
fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

/// `NAME=VALUE` of `-p`; the value may itself contain `=`.
fn parse_parameter(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got {text:?}")),
    }
}

/// The default `--root`, following the XDG base directory rules (empty variables count
/// as unset); `var` reads the environment, a parameter so tests need not change it.
fn default_root(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let var = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("KFP_HOME")
        .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("kfp")))
        .or_else(|| var("HOME").map(|h| h.join(".local").join("share").join("kfp")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parameters_split_at_the_first_equals_sign() {
        assert_eq!(
            parse_parameter("query=a=b"),
            Ok(("query".to_owned(), "a=b".to_owned()))
        );
        assert_eq!(
            parse_parameter("empty="),
            Ok(("empty".to_owned(), String::new()))
        );
        assert!(parse_parameter("novalue").is_err());
        assert!(parse_parameter("=x").is_err());
    }

    #[test]
    fn the_root_follows_kfp_home_then_xdg_then_home() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let all = &[("KFP_HOME", "/k"), ("XDG_DATA_HOME", "/x"), ("HOME", "/h")];
        assert_eq!(default_root(env(all)), Some(PathBuf::from("/k")));
        let xdg = &[("KFP_HOME", ""), ("XDG_DATA_HOME", "/x"), ("HOME", "/h")];
        assert_eq!(default_root(env(xdg)), Some(PathBuf::from("/x/kfp")));
        let home = &[("HOME", "/h")];
        assert_eq!(
            default_root(env(home)),
            Some(PathBuf::from("/h/.local/share/kfp"))
        );
        assert_eq!(default_root(env(&[])), None);
    }
}
