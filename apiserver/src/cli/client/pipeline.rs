//! `kfp pipeline upload|list|get|delete`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::http::HttpError;
use super::table::{self, Table, details, local_time};
use super::{ClientOpts, IdArgs, PageOpts, PipelineCommand, done, filter, list, segment, show};
use crate::api::v1::model::{ApiParameter, ApiPipeline, ApiPipelineVersion};
use crate::cli::Failure;

/// Arguments of `kfp pipeline upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The workflow (.yaml, .yml, .json) or a package holding one (.zip, .tar.gz)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Name of the pipeline (or version) [default: the file name without its extension]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Description of the pipeline (or version)
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Upload the file as a new version of this pipeline (it becomes the default)
    #[arg(long, value_name = "PIPELINE_ID")]
    pub version_of: Option<String>,
    #[command(flatten)]
    pub opts: ClientOpts,
}

/// Arguments of `kfp pipeline list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only pipelines whose name contains this text
    #[arg(long, value_name = "SUBSTR")]
    pub filter_name: Option<String>,
    #[command(flatten)]
    pub page: PageOpts,
    #[command(flatten)]
    pub opts: ClientOpts,
}

pub fn run(command: PipelineCommand) -> Result<ExitCode, Failure> {
    match command {
        PipelineCommand::Upload(args) => upload(&args),
        PipelineCommand::List(args) => list_pipelines(&args),
        PipelineCommand::Get(IdArgs { id, opts }) => {
            let value = opts
                .client()?
                .get(&format!("/apis/v1beta1/pipelines/{}", segment(&id)), &[])?;
            show(opts.output, &value, pipeline_details)
        }
        PipelineCommand::Delete(IdArgs { id, opts }) => {
            let value = opts
                .client()?
                .delete(&format!("/apis/v1beta1/pipelines/{}", segment(&id)))?;
            done(
                opts.output,
                &value,
                format!("Deleted pipeline {id} and its versions"),
            )
        }
    }
}

fn upload(args: &UploadArgs) -> Result<ExitCode, Failure> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))
        .map_err(Failure::usage)?;
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let client = args.opts.client()?;
    let mut query = Vec::new();
    if let Some(name) = &args.name {
        query.push(("name", name.clone()));
    }
    if let Some(description) = &args.description {
        query.push(("description", description.clone()));
    }
    match &args.version_of {
        None => {
            let value = client
                .upload("/apis/v1beta1/pipelines/upload", &query, &file_name, &bytes)
                .map_err(|error| match error {
                    HttpError::Status {
                        status: 409,
                        message,
                        request,
                    } => HttpError::Status {
                        status: 409,
                        message: format!(
                            "{message}; add the file as a new version with --version-of \
                             PIPELINE_ID (see `kfp pipeline list`), or pick another --name"
                        ),
                        request,
                    },
                    other => other,
                })?;
            show(args.opts.output, &value, |p: &ApiPipeline| {
                format!("Uploaded pipeline {}\n\n{}", p.id, pipeline_details(p))
            })
        }
        Some(pipeline_id) => {
            query.push(("pipelineid", pipeline_id.clone()));
            if args.name.is_none() {
                // KFP requires a version name; the file name, as for pipelines.
                let stem = args
                    .file
                    .file_stem()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                query.push(("name", stem));
            }
            let value = client.upload(
                "/apis/v1beta1/pipelines/upload_version",
                &query,
                &file_name,
                &bytes,
            )?;
            show(args.opts.output, &value, |v: &ApiPipelineVersion| {
                format!(
                    "Uploaded version {} of pipeline {pipeline_id}\n\n{}",
                    v.id,
                    version_details(v)
                )
            })
        }
    }
}

fn list_pipelines(args: &ListArgs) -> Result<ExitCode, Failure> {
    let client = args.opts.client()?;
    let mut query = Vec::new();
    if let Some(text) = &args.filter_name {
        query.push(("filter", filter("name", "IS_SUBSTRING", text)));
    }
    let (value, items) = list(
        &client,
        "/apis/v1beta1/pipelines",
        &query,
        "pipelines",
        &args.page,
        args.opts.output,
    )?;
    show(args.opts.output, &value, |_: &serde_json::Value| {
        let mut table = Table::new(&["ID", "NAME", "VERSION", "PARAMETERS", "CREATED"]);
        for item in &items {
            let Ok(p) = serde_json::from_value::<ApiPipeline>(item.clone()) else {
                continue;
            };
            table.push(vec![
                p.id.clone(),
                p.name.clone(),
                p.default_version
                    .as_ref()
                    .map(|v| table::clip(&v.name, 30))
                    .unwrap_or_default(),
                table::clip(
                    &p.parameters
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    40,
                ),
                local_time(p.created_at),
            ]);
        }
        table.render("No pipelines; upload one with `kfp pipeline upload FILE`.")
    })
}

/// `name=default, ...` of declared parameters.
pub fn parameters_text(parameters: &[ApiParameter]) -> String {
    parameters
        .iter()
        .map(|p| {
            if p.value.is_empty() {
                p.name.clone()
            } else {
                format!("{}={}", p.name, p.value)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn pipeline_details(p: &ApiPipeline) -> String {
    let version = p
        .default_version
        .as_ref()
        .map(|v| format!("{} ({})", v.name, v.id))
        .unwrap_or_default();
    details(&[
        ("ID", p.id.clone()),
        ("Name", p.name.clone()),
        ("Description", p.description.clone()),
        ("Created", local_time(p.created_at)),
        ("Default version", version),
        ("Parameters", parameters_text(&p.parameters)),
        ("Error", p.error.clone()),
    ])
}

fn version_details(v: &ApiPipelineVersion) -> String {
    details(&[
        ("ID", v.id.clone()),
        ("Name", v.name.clone()),
        ("Description", v.description.clone()),
        ("Created", local_time(v.created_at)),
        ("Parameters", parameters_text(&v.parameters)),
    ])
}
