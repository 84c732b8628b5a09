//! `kfp experiment create|list|get|archive|unarchive|delete`.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::table::{Table, clip, details, local_time};
use super::{ClientOpts, ExperimentCommand, IdArgs, PageOpts, done, list, segment, show};
use crate::api::v1::model::{ApiExperiment, ApiExperimentStorageState};
use crate::cli::Failure;

/// Arguments of `kfp experiment create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Name of the experiment (unique on the server)
    #[arg(value_name = "NAME")]
    pub name: String,
    /// What the experiment is for
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    #[command(flatten)]
    pub opts: ClientOpts,
}

/// Arguments of `kfp experiment list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub page: PageOpts,
    #[command(flatten)]
    pub opts: ClientOpts,
}

fn path(id: &str) -> String {
    format!("/apis/v1beta1/experiments/{}", segment(id))
}

pub fn run(command: ExperimentCommand) -> Result<ExitCode, Failure> {
    match command {
        ExperimentCommand::Create(args) => {
            let mut body = json!({"name": args.name});
            if let Some(description) = &args.description {
                body["description"] = json!(description);
            }
            let value = args
                .opts
                .client()?
                .post("/apis/v1beta1/experiments", Some(&body))?;
            show(args.opts.output, &value, |e: &ApiExperiment| {
                format!("Created experiment {}\n\n{}", e.id, experiment_details(e))
            })
        }
        ExperimentCommand::List(args) => {
            let client = args.opts.client()?;
            let (value, items) = list(
                &client,
                "/apis/v1beta1/experiments",
                &[],
                "experiments",
                &args.page,
                args.opts.output,
            )?;
            show(args.opts.output, &value, |_: &serde_json::Value| {
                let mut table = Table::new(&["ID", "NAME", "STATE", "CREATED", "DESCRIPTION"]);
                for item in &items {
                    let Ok(e) = serde_json::from_value::<ApiExperiment>(item.clone()) else {
                        continue;
                    };
                    table.push(vec![
                        e.id.clone(),
                        e.name.clone(),
                        state(e.storage_state).to_owned(),
                        local_time(e.created_at),
                        clip(&e.description, 50),
                    ]);
                }
                table.render("No experiments; create one with `kfp experiment create NAME`.")
            })
        }
        ExperimentCommand::Get(IdArgs { id, opts }) => {
            let value = opts.client()?.get(&path(&id), &[])?;
            show(opts.output, &value, experiment_details)
        }
        ExperimentCommand::Archive(IdArgs { id, opts }) => {
            let value = opts
                .client()?
                .post(&format!("{}:archive", path(&id)), None)?;
            done(
                opts.output,
                &value,
                format!(
                    "Archived experiment {id} (its runs are archived, its recurring runs disabled)"
                ),
            )
        }
        ExperimentCommand::Unarchive(IdArgs { id, opts }) => {
            let value = opts
                .client()?
                .post(&format!("{}:unarchive", path(&id)), None)?;
            done(
                opts.output,
                &value,
                format!("Unarchived experiment {id} (its runs stay archived)"),
            )
        }
        ExperimentCommand::Delete(IdArgs { id, opts }) => {
            let value = opts.client()?.delete(&path(&id))?;
            done(opts.output, &value, format!("Deleted experiment {id}"))
        }
    }
}

fn state(state: ApiExperimentStorageState) -> &'static str {
    match state {
        ApiExperimentStorageState::Archived => "archived",
        _ => "available",
    }
}

fn experiment_details(e: &ApiExperiment) -> String {
    details(&[
        ("ID", e.id.clone()),
        ("Name", e.name.clone()),
        ("Description", e.description.clone()),
        ("State", state(e.storage_state).to_owned()),
        ("Created", local_time(e.created_at)),
    ])
}
