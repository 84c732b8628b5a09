//! `kfp run submit|list|get|logs|terminate|retry|wait`: runs on a kfp server.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use chrono::Utc;
use clap::Args;
use kfp::argo::{NodeType, WorkflowStatus};
use serde_json::{Value, json};

use super::http::{Client, HttpError};
use super::table::{Table, details, duration, local_time};
use super::{
    ClientOpts, IdArgs, Output, PageOpts, RunCommand, SourceArgs, decode, done, experiment_scope,
    list, parameter, print, print_json, segment, show, source,
};
use crate::api::v1::model::{ApiResourceType, ApiRun, ApiRunDetail};
use crate::cli::progress::{Progress, Stream};
use crate::cli::{EXIT_FAILED, EXIT_USAGE, Failure, tree};

/// How often `wait` asks for the run's status.
const POLL: Duration = Duration::from_secs(1);

/// The v1 run statuses after which nothing changes.
const FINISHED: [&str; 4] = ["Succeeded", "Failed", "Error", "Skipped"];

/// Arguments of `kfp run submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The experiment, by ID or name [default: the server's "Default" experiment]
    #[arg(long, value_name = "ID|NAME")]
    pub experiment: Option<String>,
    /// Name of the run [default: the pipeline's name and the time]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Description of the run
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Set a pipeline parameter (repeatable)
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE", value_parser = parameter)]
    pub parameters: Vec<(String, String)>,
    /// Follow the run to its end; then exit as `kfp run wait` does
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this many seconds (exit 2)
    #[arg(long, value_name = "SECS", requires = "wait")]
    pub timeout: Option<u64>,
    #[command(flatten)]
    pub opts: ClientOpts,
}

/// Arguments of `kfp run list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only the runs of this experiment (ID or name)
    #[arg(long, value_name = "ID|NAME")]
    pub experiment: Option<String>,
    #[command(flatten)]
    pub page: PageOpts,
    #[command(flatten)]
    pub opts: ClientOpts,
}

/// Arguments of `kfp run logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The run's ID
    #[arg(value_name = "ID")]
    pub id: String,
    /// Only this node (its ID, display name or path as `kfp run get` shows it); a DAG
    /// or step group means every step under it [default: every step, each after a
    /// header line]
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    #[command(flatten)]
    pub opts: ClientOpts,
}

/// Arguments of `kfp run wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The run's ID
    #[arg(value_name = "ID")]
    pub id: String,
    /// Give up after this many seconds (exit 2) [default: wait as long as it takes]
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    #[command(flatten)]
    pub opts: ClientOpts,
}

fn path(id: &str) -> String {
    format!("/apis/v1beta1/runs/{}", segment(id))
}

pub fn run(command: RunCommand) -> Result<ExitCode, Failure> {
    match command {
        RunCommand::Submit(args) => submit(&args),
        RunCommand::List(args) => list_runs(&args),
        RunCommand::Get(IdArgs { id, opts }) => {
            let value = opts.client()?.get(&path(&id), &[])?;
            show(opts.output, &value, summary)
        }
        RunCommand::Logs(args) => logs(&args),
        RunCommand::Terminate(IdArgs { id, opts }) => {
            let value = opts
                .client()?
                .post(&format!("{}/terminate", path(&id)), None)?;
            done(
                opts.output,
                &value,
                format!("Terminating run {id}; `kfp run wait {id}` waits for it to stop"),
            )
        }
        RunCommand::Retry(IdArgs { id, opts }) => {
            let value = opts.client()?.post(&format!("{}/retry", path(&id)), None)?;
            done(
                opts.output,
                &value,
                format!("Retrying run {id}; `kfp run wait {id}` follows it"),
            )
        }
        RunCommand::Wait(args) => {
            let client = args.opts.client()?;
            wait(&client, &args.id, args.timeout, args.opts.output)
        }
    }
}

fn submit(args: &SubmitArgs) -> Result<ExitCode, Failure> {
    let client = args.opts.client()?;
    let source = source(
        &client,
        &args.source,
        args.experiment.as_deref(),
        &args.parameters,
    )?;
    let name = args.name.clone().unwrap_or_else(|| {
        format!(
            "{} {}",
            source.label,
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S")
        )
    });
    let mut body = json!({
        "name": name,
        "pipeline_spec": source.spec,
    });
    if !source.references.is_empty() {
        body["resource_references"] = json!(source.references);
    }
    if let Some(description) = &args.description {
        body["description"] = json!(description);
    }
    let value = client.post("/apis/v1beta1/runs", Some(&body))?;
    let detail: ApiRunDetail = decode(&value)?;
    let run = detail.run.unwrap_or_default();
    if !args.wait {
        return show(args.opts.output, &value, |_: &Value| {
            format!(
                "Submitted run {} ({})\nFollow it with `kfp run wait {}`; see it with `kfp run get {}`",
                run.id, run.name, run.id, run.id
            )
        });
    }
    if args.opts.output == Output::Table {
        print(&format!("Submitted run {} ({})", run.id, run.name));
    }
    wait(&client, &run.id, args.timeout, args.opts.output)
}

fn list_runs(args: &ListArgs) -> Result<ExitCode, Failure> {
    let client = args.opts.client()?;
    let query = experiment_scope(&client, args.experiment.as_deref())?;
    let (value, items) = list(
        &client,
        "/apis/v1beta1/runs",
        &query,
        "runs",
        &args.page,
        args.opts.output,
    )?;
    show(args.opts.output, &value, |_: &Value| {
        let mut table = Table::new(&["ID", "NAME", "STATUS", "CREATED", "DURATION"]);
        for item in &items {
            let Ok(run) = serde_json::from_value::<ApiRun>(item.clone()) else {
                continue;
            };
            table.push(vec![
                run.id.clone(),
                run.name.clone(),
                status_text(&run.status).to_owned(),
                local_time(run.created_at),
                duration(run.created_at, run.finished_at),
            ]);
        }
        table.render("No runs; start one with `kfp run submit`.")
    })
}

/// Poll the run every second until it ends; print it, and exit 0 (Succeeded), 1
/// (Failed/Error) or 2 (timeout). Node changes go to stderr while it runs.
fn wait(
    client: &Client,
    id: &str,
    timeout: Option<u64>,
    output: Output,
) -> Result<ExitCode, Failure> {
    let started = Instant::now();
    let mut progress: Option<Progress> = None;
    loop {
        let value = client.get(&path(id), &[])?;
        let detail: ApiRunDetail = decode(&value)?;
        let run = detail.run.clone().unwrap_or_default();
        let status = workflow_status(&detail);
        let view = progress.get_or_insert_with(|| Progress::new(Stream::Stderr, &run.name));
        view.changed(&status);
        view.tick(&status);
        if FINISHED.contains(&run.status.as_str()) {
            if let Some(view) = progress.take() {
                view.finish(&status);
            }
            match output {
                Output::Json => print_json(&value),
                Output::Table => print(&summary(&detail)),
            }
            return Ok(if matches!(run.status.as_str(), "Succeeded" | "Skipped") {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_FAILED)
            });
        }
        if let Some(limit) = timeout
            && started.elapsed() >= Duration::from_secs(limit)
        {
            if let Some(view) = progress.take() {
                view.finish(&status);
            }
            return Err(Failure {
                code: EXIT_USAGE,
                error: anyhow!(
                    "run {id} is still {} after {limit} s; wait more with `kfp run wait {id}`, \
                     or stop it with `kfp run terminate {id}`",
                    status_text(&run.status)
                ),
            });
        }
        std::thread::sleep(POLL);
    }
}

/// The Argo status inside `pipeline_runtime.workflow_manifest` (empty if none).
fn workflow_status(detail: &ApiRunDetail) -> WorkflowStatus {
    detail
        .pipeline_runtime
        .as_ref()
        .and_then(|r| serde_json::from_str::<Value>(&r.workflow_manifest).ok())
        .and_then(|m| serde_json::from_value(m["status"].clone()).ok())
        .unwrap_or_default()
}

/// A run's status as people read it: empty right after creation means Pending.
fn status_text(status: &str) -> &str {
    if status.is_empty() { "Pending" } else { status }
}

/// `kfp run get`: the run, then its node tree.
fn summary(detail: &ApiRunDetail) -> String {
    let run = detail.run.clone().unwrap_or_default();
    let status = workflow_status(detail);
    let reference = |kind: ApiResourceType| {
        run.resource_references
            .iter()
            .filter_map(|r| r.key.as_ref())
            .find(|k| k.r#type == kind)
            .map(|k| k.id.clone())
            .unwrap_or_default()
    };
    let spec = run.pipeline_spec.clone().unwrap_or_default();
    let parameters = spec
        .parameters
        .iter()
        .map(|p| format!("{}={}", p.name, p.value))
        .collect::<Vec<_>>()
        .join(", ");
    let started = status
        .started_at
        .as_deref()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc));
    let finished = run.finished_at.filter(|t| t.timestamp() > 0);
    let mut out = details(&[
        ("ID", run.id.clone()),
        ("Name", run.name.clone()),
        ("Status", status_text(&run.status).to_owned()),
        ("Error", run.error.clone()),
        ("Experiment", reference(ApiResourceType::Experiment)),
        ("Pipeline", spec.pipeline_id.clone()),
        ("Version", reference(ApiResourceType::PipelineVersion)),
        ("Parameters", parameters),
        ("Created", local_time(run.created_at)),
        (
            "Started",
            started.map(|t| local_time(Some(t))).unwrap_or_default(),
        ),
        (
            "Finished",
            finished.map(|t| local_time(Some(t))).unwrap_or_default(),
        ),
        ("Duration", duration(started.or(run.created_at), finished)),
    ]);
    if !status.nodes.is_empty() {
        out.push_str("\nNodes:\n");
        let rows = tree::rows(&status);
        for line in tree::render(&rows, Utc::now(), None).lines() {
            let _ = writeln!(out, "  {line}");
        }
        let _ = writeln!(
            out,
            "\nLogs: kfp run logs {} [--node NODE]",
            if run.id.is_empty() { "ID" } else { &run.id }
        );
    }
    out
}

fn logs(args: &LogsArgs) -> Result<ExitCode, Failure> {
    let client = args.opts.client()?;
    let value = client.get(&path(&args.id), &[])?;
    let detail: ApiRunDetail = decode(&value)?;
    let status = workflow_status(&detail);
    let rows = tree::rows(&status);
    let pods: Vec<&tree::Row<'_>> = match &args.node {
        None => rows
            .iter()
            .filter(|r| r.node.node_type == NodeType::Pod)
            .collect(),
        Some(wanted) => {
            let chosen = choose_node(&rows, wanted, &args.id)?;
            rows.iter()
                .filter(|r| r.node.node_type == NodeType::Pod && under(&r.node.name, chosen))
                .collect()
        }
    };
    if pods.is_empty() {
        let what = match &args.node {
            Some(node) => format!("node '{node}' of run {} has no steps", args.id),
            None => format!("run {} has no steps yet", args.id),
        };
        return Err(Failure::failed(anyhow!(
            "{what}; see `kfp run get {}`",
            args.id
        )));
    }
    let headers = args.node.is_none() || pods.len() > 1;
    let mut documents = Vec::new();
    for row in pods {
        let node = row.node;
        let log_path = format!(
            "/apis/v1alpha1/runs/{}/nodes/{}/log",
            segment(&args.id),
            segment(&node.id)
        );
        let log = match client.get_text(&log_path) {
            Ok(text) => Ok(text),
            // A step that never started has no log: say so and go on with the others.
            Err(HttpError::Status {
                status: 404,
                message,
                ..
            }) => Err(message),
            Err(other) => return Err(other.into()),
        };
        match args.opts.output {
            Output::Json => documents.push(match &log {
                Ok(text) => json!({"node_id": node.id, "name": row.path,
                                   "phase": node.phase.as_str(), "log": text}),
                Err(message) => json!({"node_id": node.id, "name": row.path,
                                       "phase": node.phase.as_str(), "error": message}),
            }),
            Output::Table => {
                let mut text = String::new();
                if headers {
                    let _ = writeln!(
                        text,
                        "==> {} ({}) {} <==",
                        row.path,
                        node.id,
                        node.phase.as_str()
                    );
                }
                match log {
                    Ok(log) => text.push_str(&log),
                    Err(message) => {
                        let _ = writeln!(text, "(no log: {message})");
                    }
                }
                print(&text);
            }
        }
    }
    if args.opts.output == Output::Json {
        print_json(&Value::Array(documents));
    }
    Ok(ExitCode::SUCCESS)
}

/// The node `wanted` names: its ID, else its display name, path or full name.
fn choose_node<'a>(rows: &[tree::Row<'a>], wanted: &str, run_id: &str) -> Result<&'a str, Failure> {
    if let Some(row) = rows.iter().find(|r| r.node.id == wanted) {
        return Ok(&row.node.name);
    }
    for matches in [
        |r: &tree::Row<'_>, w: &str| r.node.display_name == w,
        |r: &tree::Row<'_>, w: &str| r.path == w,
        |r: &tree::Row<'_>, w: &str| r.node.name == w,
    ] {
        let found: Vec<&tree::Row<'a>> = rows.iter().filter(|r| matches(r, wanted)).collect();
        match found.as_slice() {
            [] => {}
            [row] => return Ok(&row.node.name),
            several => {
                let ids: Vec<String> = several
                    .iter()
                    .map(|r| format!("{} ({})", r.node.id, r.path))
                    .collect();
                return Err(Failure::usage(anyhow!(
                    "several nodes of run {run_id} are called '{wanted}': {}; pass --node with \
                     one of those IDs",
                    ids.join(", ")
                )));
            }
        }
    }
    let known: Vec<&str> = rows
        .iter()
        .filter(|r| r.node.node_type == NodeType::Pod)
        .map(|r| r.node.display_name.as_str())
        .collect();
    Err(Failure::failed(anyhow!(
        "run {run_id} has no node '{wanted}'; its steps are: {}",
        if known.is_empty() {
            "(none yet)".to_owned()
        } else {
            known.join(", ")
        }
    )))
}

/// Whether the node called `name` is `parent` or nested in it (names nest as templates
/// do: `wf.task`, `wf.loop(0)`, `wf[0].step`).
fn under(name: &str, parent: &str) -> bool {
    name == parent
        || name
            .strip_prefix(parent)
            .is_some_and(|rest| rest.starts_with(['.', '(', '[']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_nest_by_name() {
        assert!(under("wf.a", "wf"));
        assert!(under("wf[0].a", "wf"));
        assert!(under("wf.loop(1)", "wf.loop"));
        assert!(under("wf", "wf"));
        assert!(!under("wf2.a", "wf"));
    }

    #[test]
    fn an_empty_status_reads_as_pending() {
        assert_eq!(status_text(""), "Pending");
        assert_eq!(status_text("Running"), "Running");
    }
}
