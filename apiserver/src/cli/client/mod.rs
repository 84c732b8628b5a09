//! The client commands: `kfp pipeline`, `kfp experiment`, `kfp run submit|list|...` and
//! `kfp recurring-run`, talking to a kfp server over its v1beta1 REST API.
//!
//! Each command takes `--endpoint URL` (default `$KFP_ENDPOINT`, else
//! `http://127.0.0.1:8888`) and `--output table|json`: a table for people, or the
//! server's JSON object as it came (lists fetched with `--all` merge their pages into one
//! object of the same shape). Server errors exit 1 with the server's message and the HTTP
//! status; local mistakes (a missing file, a bad time) exit 2 before anything is sent.

mod experiment;
pub(super) mod http;
mod pipeline;
mod recurring;
mod run;
mod table;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand, ValueEnum};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use self::http::{Client, HttpError};
use super::{Failure, parse_parameter};
use crate::api::v1::model::{
    ApiExperiment, ApiListExperimentsResponse, ApiParameter, ApiPipelineSpec, ApiRelationship,
    ApiResourceReference, ApiResourceType,
};

/// The endpoint when neither `--endpoint` nor `$KFP_ENDPOINT` says.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8888";

/// Options every client command takes.
#[derive(Debug, Clone, Args)]
pub struct ClientOpts {
    /// The kfp server [default: $KFP_ENDPOINT, else http://127.0.0.1:8888]
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// `table` for people; `json` prints the server's JSON object
    #[arg(short, long, value_name = "FORMAT", value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

impl ClientOpts {
    /// The client for `--endpoint`, `$KFP_ENDPOINT` or the default.
    fn client(&self) -> Result<Client, Failure> {
        let endpoint = self
            .endpoint
            .clone()
            .or_else(|| std::env::var("KFP_ENDPOINT").ok())
            .filter(|e| !e.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        Client::new(&endpoint)
    }
}

/// What a client command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Aligned columns, times in local time
    Table,
    /// The server's JSON object
    Json,
}

/// `--page-size` and `--all` of the list commands.
#[derive(Debug, Clone, Args)]
pub struct PageOpts {
    /// Rows per request (the server's default is 20, its maximum 200)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=200))]
    pub page_size: Option<u32>,
    /// Follow the pages to the end instead of showing the first one
    #[arg(long)]
    pub all: bool,
}

/// A command that names one resource by ID.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// The resource's ID
    #[arg(value_name = "ID")]
    pub id: String,
    #[command(flatten)]
    pub opts: ClientOpts,
}

/// What a run or a recurring run executes: exactly one of a pipeline (its default
/// version), a pipeline version, or a workflow file sent inline.
#[derive(Debug, Clone, Args)]
#[group(id = "pipeline_source", required = true, multiple = false)]
pub struct SourceArgs {
    /// Run this pipeline's default version
    #[arg(long, value_name = "ID")]
    pub pipeline_id: Option<String>,
    /// Run this pipeline version
    #[arg(long, value_name = "ID")]
    pub version_id: Option<String>,
    /// Run this Argo Workflow file, sent with the request (no upload needed)
    #[arg(long, value_name = "WORKFLOW.yaml")]
    pub file: Option<PathBuf>,
}

// ---------------------------------------------------------------------------------------
// The subcommands

/// `kfp pipeline ...`
#[derive(Debug, Subcommand)]
pub enum PipelineCommand {
    /// Upload a workflow file (.yaml, .json, .zip, .tar.gz) as a pipeline, or as a new
    /// version of one with --version-of
    Upload(pipeline::UploadArgs),
    /// List pipelines, newest first
    List(pipeline::ListArgs),
    /// Show a pipeline: its default version and parameters
    Get(IdArgs),
    /// Delete a pipeline and all its versions
    Delete(IdArgs),
}

/// `kfp experiment ...`
#[derive(Debug, Subcommand)]
pub enum ExperimentCommand {
    /// Create an experiment
    Create(experiment::CreateArgs),
    /// List experiments, newest first
    List(experiment::ListArgs),
    /// Show an experiment
    Get(IdArgs),
    /// Archive an experiment, with its runs and recurring runs
    Archive(IdArgs),
    /// Make an archived experiment available again (its runs stay archived)
    Unarchive(IdArgs),
    /// Delete an experiment
    Delete(IdArgs),
}

/// `kfp run submit|list|get|logs|terminate|retry|wait`: runs on a server.
#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// Start a run of a pipeline, a pipeline version or a workflow file on the server
    Submit(run::SubmitArgs),
    /// List runs, newest first
    List(run::ListArgs),
    /// Show a run: status, times, parameters and its nodes
    Get(IdArgs),
    /// Print the logs of a run's steps
    Logs(run::LogsArgs),
    /// Stop a run that is still going
    Terminate(IdArgs),
    /// Run again what failed in a Failed or Error run (what succeeded is kept; same run)
    Retry(IdArgs),
    /// Wait for a run to end; exit 0 if it Succeeded, 1 if it Failed, 2 on timeout
    Wait(run::WaitArgs),
}

/// `kfp recurring-run ...`
#[derive(Debug, Subcommand)]
pub enum RecurringCommand {
    /// Schedule a pipeline: on a cron expression or every N seconds
    Create(Box<recurring::CreateArgs>),
    /// List recurring runs, newest first
    List(recurring::ListArgs),
    /// Show a recurring run: its schedule, pipeline and parameters
    Get(IdArgs),
    /// Resume scheduling (missed firings are not caught up)
    Enable(IdArgs),
    /// Stop scheduling runs
    Disable(IdArgs),
    /// Delete a recurring run (the runs it started stay)
    Delete(IdArgs),
}

pub fn pipeline(command: PipelineCommand) -> Result<ExitCode, Failure> {
    pipeline::run(command)
}

pub fn experiment(command: ExperimentCommand) -> Result<ExitCode, Failure> {
    experiment::run(command)
}

pub fn run(command: RunCommand) -> Result<ExitCode, Failure> {
    run::run(command)
}

pub fn recurring_run(command: RecurringCommand) -> Result<ExitCode, Failure> {
    recurring::run(command)
}

// ---------------------------------------------------------------------------------------
// Shared by the commands

/// Write `text` to stdout; a closed pipe (`| head`) is not an error.
fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
}

/// Print the server's object as JSON, or the table `table` makes of it.
fn show<T: DeserializeOwned>(
    output: Output,
    value: &Value,
    table: impl FnOnce(&T) -> String,
) -> Result<ExitCode, Failure> {
    match output {
        Output::Json => print_json(value),
        Output::Table => print(&table(&decode::<T>(value)?)),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_json(value: &Value) {
    print(&serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

/// A server answer as its model type.
fn decode<T: DeserializeOwned>(value: &Value) -> Result<T, Failure> {
    serde_json::from_value(value.clone())
        .map_err(|e| Failure::failed(anyhow!("the server's answer is not what kfp expects: {e}")))
}

/// The `{}` of delete/archive/... : a line saying what was done, or the object itself.
fn done(output: Output, value: &Value, message: String) -> Result<ExitCode, Failure> {
    match output {
        Output::Json => print_json(value),
        Output::Table => print(&message),
    }
    Ok(ExitCode::SUCCESS)
}

/// What a path segment keeps as is: RFC 3986's unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One path segment, percent-encoded.
fn segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, SEGMENT).to_string()
}

/// A v1 filter with one predicate.
fn filter(key: &str, op: &str, value: &str) -> String {
    json!({"predicates": [{"key": key, "op": op, "string_value": value}]}).to_string()
}

/// One page, or every page with `--all`: the object to print for `--output json` (the
/// server's own for one page; the pages' items merged under `key` for `--all`) and the
/// items. With more pages left, a table says so on stderr.
fn list(
    client: &Client,
    path: &str,
    query: &[(&str, String)],
    key: &str,
    page: &PageOpts,
    output: Output,
) -> Result<(Value, Vec<Value>), Failure> {
    let mut query: Vec<(&str, String)> = query.to_vec();
    query.push(("sort_by", "created_at desc".to_owned()));
    if let Some(size) = page.page_size {
        query.push(("page_size", size.to_string()));
    }
    let first = client.get(path, &query)?;
    let items_of =
        |value: &Value| -> Vec<Value> { value[key].as_array().cloned().unwrap_or_default() };
    let next_of = |value: &Value| -> String {
        value["next_page_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let total = first["total_size"].as_u64().unwrap_or(0);
    let mut items = items_of(&first);
    if !page.all {
        let next = next_of(&first);
        if output == Output::Table && !next.is_empty() {
            eprintln!(
                "showing {} of {total}; pass --all for every one (or a larger --page-size)",
                items.len()
            );
        }
        return Ok((first, items));
    }
    // The token carries the sort and filter; it is sent alone (with the scope).
    query.retain(|(k, _)| *k != "sort_by" && *k != "filter");
    let mut next = next_of(&first);
    while !next.is_empty() {
        let mut paged = query.clone();
        paged.push(("page_token", next));
        let reply = client.get(path, &paged)?;
        items.extend(items_of(&reply));
        next = next_of(&reply);
    }
    let mut merged = serde_json::Map::new();
    if !items.is_empty() {
        merged.insert(key.to_owned(), Value::Array(items.clone()));
    }
    if total > 0 {
        merged.insert("total_size".to_owned(), json!(total));
    }
    Ok((Value::Object(merged), items))
}

/// The query parameters that scope a list to an experiment (given by ID or name).
fn experiment_scope(
    client: &Client,
    experiment: Option<&str>,
) -> Result<Vec<(&'static str, String)>, Failure> {
    let Some(experiment) = experiment else {
        return Ok(Vec::new());
    };
    Ok(vec![
        (
            "resource_reference_key.type",
            ApiResourceType::Experiment.name().to_owned(),
        ),
        (
            "resource_reference_key.id",
            resolve_experiment(client, experiment)?,
        ),
    ])
}

/// The ID of the experiment named `given`, which may be its ID or its name.
fn resolve_experiment(client: &Client, given: &str) -> Result<String, Failure> {
    match client.get(
        &format!("/apis/v1beta1/experiments/{}", segment(given)),
        &[],
    ) {
        Ok(value) => return Ok(decode::<ApiExperiment>(&value)?.id),
        Err(HttpError::Status { status, .. }) if status == 404 || status == 400 => {}
        Err(error) => return Err(error.into()),
    }
    let found = client.get(
        "/apis/v1beta1/experiments",
        &[("filter", filter("name", "EQUALS", given))],
    )?;
    let found: ApiListExperimentsResponse = decode(&found)?;
    match found.experiments.into_iter().next() {
        Some(experiment) => Ok(experiment.id),
        None => Err(Failure::failed(anyhow!(
            "no experiment with ID or name '{given}' on {}; create it with `kfp experiment \
             create {given}` or see `kfp experiment list`",
            client.endpoint()
        ))),
    }
}

/// What a run or recurring run sends about its pipeline: the spec, the references
/// (experiment, version) and a name for it when none is given.
struct Source {
    spec: ApiPipelineSpec,
    references: Vec<ApiResourceReference>,
    /// The pipeline's, version's or file's name.
    label: String,
}

fn source(
    client: &Client,
    args: &SourceArgs,
    experiment: Option<&str>,
    parameters: &[(String, String)],
) -> Result<Source, Failure> {
    // Local mistakes first: nothing is sent for a file that is not there.
    let file = match &args.file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))
                .map_err(Failure::usage)?;
            let label = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "workflow".to_owned());
            Some((text, label))
        }
        None => None,
    };
    let mut references = Vec::new();
    if let Some(experiment) = experiment {
        references.push(ApiResourceReference::new(
            ApiResourceType::Experiment,
            resolve_experiment(client, experiment)?,
            ApiRelationship::Owner,
        ));
    }
    let mut spec = ApiPipelineSpec {
        parameters: parameters
            .iter()
            .map(|(name, value)| ApiParameter {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        ..ApiPipelineSpec::default()
    };
    let label = if let Some((text, label)) = file {
        spec.workflow_manifest = text;
        label
    } else if let Some(id) = &args.version_id {
        references.push(ApiResourceReference::new(
            ApiResourceType::PipelineVersion,
            id.clone(),
            ApiRelationship::Creator,
        ));
        let version = client.get(
            &format!("/apis/v1beta1/pipeline_versions/{}", segment(id)),
            &[],
        )?;
        version["name"].as_str().unwrap_or(id).to_owned()
    } else if let Some(id) = &args.pipeline_id {
        spec.pipeline_id = id.clone();
        let pipeline = client.get(&format!("/apis/v1beta1/pipelines/{}", segment(id)), &[])?;
        pipeline["name"].as_str().unwrap_or(id).to_owned()
    } else {
        return Err(Failure::usage(anyhow!(
            "give --pipeline-id, --version-id or --file"
        )));
    };
    Ok(Source {
        spec,
        references,
        label,
    })
}

/// `-p NAME=VALUE` of the client commands (the same rules as `kfp run FILE`).
fn parameter(text: &str) -> Result<(String, String), String> {
    parse_parameter(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_v1_predicates() {
        let text = filter("name", "IS_SUBSTRING", "a\"b");
        let value: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value["predicates"][0]["op"], "IS_SUBSTRING");
        assert_eq!(value["predicates"][0]["string_value"], "a\"b");
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
        assert_eq!(segment("abc-123_x.y~"), "abc-123_x.y~");
    }
}
