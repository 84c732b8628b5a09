//! `kfp recurring-run create|list|get|enable|disable|delete` (v1 jobs).

use std::process::ExitCode;

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use clap::{ArgGroup, Args};
use serde_json::Value;

use super::table::{Table, details, every, local_time};
use super::{
    ClientOpts, IdArgs, PageOpts, RecurringCommand, SourceArgs, done, experiment_scope, list,
    parameter, segment, show, source,
};
use crate::api::v1::model::{
    ApiCronSchedule, ApiJob, ApiPeriodicSchedule, ApiResourceType, ApiTrigger,
};
use crate::cli::Failure;

/// Arguments of `kfp recurring-run create`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("trigger").required(true).args(["cron", "every"])))]
pub struct CreateArgs {
    /// Name of the recurring run
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Cron schedule: 5 fields (`0 * * * *`), 6 with seconds first (`0 0 * * * *`), or
    /// @hourly, @daily, ...; in UTC unless --timezone says otherwise
    #[arg(long, value_name = "EXPR")]
    pub cron: Option<String>,
    /// The IANA timezone the cron is read in (e.g. Europe/Paris) [default: UTC]
    #[arg(long, value_name = "ZONE", requires = "cron", value_parser = timezone)]
    pub timezone: Option<String>,
    /// Start a run every this many seconds
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub every: Option<u64>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// The experiment, by ID or name [default: the server's "Default" experiment]
    #[arg(long, value_name = "ID|NAME")]
    pub experiment: Option<String>,
    /// Description of the recurring run
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Most runs of it going at once (1 to 10) [default: 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=10))]
    pub max_concurrency: Option<u8>,
    /// After a pause, start one run for the missed firings, not one per firing
    #[arg(long)]
    pub no_catchup: bool,
    /// First firing not before this time (RFC 3339, e.g. 2026-01-02T03:00:00Z)
    #[arg(long, value_name = "RFC3339", value_parser = rfc3339)]
    pub start: Option<DateTime<Utc>>,
    /// No firing after this time (RFC 3339)
    #[arg(long, value_name = "RFC3339", value_parser = rfc3339)]
    pub end: Option<DateTime<Utc>>,
    /// Create it disabled (enable it later with `kfp recurring-run enable`)
    #[arg(long)]
    pub disabled: bool,
    /// Set a pipeline parameter of every run (repeatable)
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE", value_parser = parameter)]
    pub parameters: Vec<(String, String)>,
    #[command(flatten)]
    pub opts: ClientOpts,
}

/// Arguments of `kfp recurring-run list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only the recurring runs of this experiment (ID or name)
    #[arg(long, value_name = "ID|NAME")]
    pub experiment: Option<String>,
    #[command(flatten)]
    pub page: PageOpts,
    #[command(flatten)]
    pub opts: ClientOpts,
}

fn rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e}; expected RFC 3339 such as 2026-01-02T03:00:00Z or ...+02:00"))
}

fn timezone(text: &str) -> Result<String, String> {
    crate::server::parse_timezone(text).map(|_| text.trim().to_owned())
}

fn path(id: &str) -> String {
    format!("/apis/v1beta1/jobs/{}", segment(id))
}

pub fn run(command: RecurringCommand) -> Result<ExitCode, Failure> {
    match command {
        RecurringCommand::Create(args) => create(&args),
        RecurringCommand::List(args) => list_jobs(&args),
        RecurringCommand::Get(IdArgs { id, opts }) => {
            let value = opts.client()?.get(&path(&id), &[])?;
            show(opts.output, &value, job_details)
        }
        RecurringCommand::Enable(IdArgs { id, opts }) => {
            let value = opts
                .client()?
                .post(&format!("{}/enable", path(&id)), None)?;
            done(opts.output, &value, format!("Enabled recurring run {id}"))
        }
        RecurringCommand::Disable(IdArgs { id, opts }) => {
            let value = opts
                .client()?
                .post(&format!("{}/disable", path(&id)), None)?;
            done(opts.output, &value, format!("Disabled recurring run {id}"))
        }
        RecurringCommand::Delete(IdArgs { id, opts }) => {
            let value = opts.client()?.delete(&path(&id))?;
            done(
                opts.output,
                &value,
                format!("Deleted recurring run {id} (the runs it started stay)"),
            )
        }
    }
}

fn create(args: &CreateArgs) -> Result<ExitCode, Failure> {
    if let (Some(start), Some(end)) = (args.start, args.end)
        && end <= start
    {
        return Err(Failure::usage(anyhow!(
            "--end {} is not after --start {}",
            end.to_rfc3339(),
            start.to_rfc3339()
        )));
    }
    let client = args.opts.client()?;
    let source = source(
        &client,
        &args.source,
        args.experiment.as_deref(),
        &args.parameters,
    )?;
    let trigger = match (&args.cron, args.every) {
        (Some(cron), _) => ApiTrigger {
            cron_schedule: Some(ApiCronSchedule {
                start_time: args.start,
                end_time: args.end,
                cron: match &args.timezone {
                    Some(zone) => format!("CRON_TZ={zone} {cron}"),
                    None => cron.clone(),
                },
            }),
            periodic_schedule: None,
        },
        (None, Some(seconds)) => ApiTrigger {
            cron_schedule: None,
            periodic_schedule: Some(ApiPeriodicSchedule {
                start_time: args.start,
                end_time: args.end,
                interval_second: i64::try_from(seconds).unwrap_or(i64::MAX),
            }),
        },
        (None, None) => return Err(Failure::usage(anyhow!("give --cron or --every"))),
    };
    let job = ApiJob {
        name: args.name.clone(),
        description: args.description.clone().unwrap_or_default(),
        pipeline_spec: Some(source.spec),
        resource_references: source.references,
        max_concurrency: i64::from(args.max_concurrency.unwrap_or(1)),
        trigger: Some(trigger),
        enabled: !args.disabled,
        no_catchup: args.no_catchup,
        ..ApiJob::default()
    };
    let body = serde_json::to_value(&job)
        .map_err(|e| Failure::failed(anyhow!("cannot encode the request: {e}")))?;
    let value = client.post("/apis/v1beta1/jobs", Some(&body))?;
    show(args.opts.output, &value, |job: &ApiJob| {
        format!(
            "Created recurring run {} (from {})\n\n{}",
            job.id,
            source.label,
            job_details(job)
        )
    })
}

fn list_jobs(args: &ListArgs) -> Result<ExitCode, Failure> {
    let client = args.opts.client()?;
    let query = experiment_scope(&client, args.experiment.as_deref())?;
    let (value, items) = list(
        &client,
        "/apis/v1beta1/jobs",
        &query,
        "jobs",
        &args.page,
        args.opts.output,
    )?;
    show(args.opts.output, &value, |_: &Value| {
        let mut table = Table::new(&["ID", "NAME", "STATUS", "TRIGGER", "CREATED"]);
        for item in &items {
            let Ok(job) = serde_json::from_value::<ApiJob>(item.clone()) else {
                continue;
            };
            table.push(vec![
                job.id.clone(),
                job.name.clone(),
                status(&job).to_owned(),
                trigger_text(job.trigger.as_ref()),
                local_time(job.created_at),
            ]);
        }
        table.render(
            "No recurring runs; create one with `kfp recurring-run create --name N --every SECS ...`.",
        )
    })
}

fn status(job: &ApiJob) -> &'static str {
    if job.enabled { "Enabled" } else { "Disabled" }
}

/// `every 1h` or `cron 0 0 * * * * (UTC)`.
fn trigger_text(trigger: Option<&ApiTrigger>) -> String {
    let Some(trigger) = trigger else {
        return String::new();
    };
    if let Some(cron) = &trigger.cron_schedule {
        let (zone, expression) = crate::server::split_cron_timezone(&cron.cron);
        return format!("cron {expression} ({})", zone.unwrap_or("UTC"));
    }
    trigger
        .periodic_schedule
        .as_ref()
        .map(|p| every(p.interval_second))
        .unwrap_or_default()
}

/// The window of a trigger: `from .. until ..`.
fn window(trigger: Option<&ApiTrigger>) -> String {
    let (start, end) = match trigger {
        Some(ApiTrigger {
            cron_schedule: Some(c),
            ..
        }) => (c.start_time, c.end_time),
        Some(ApiTrigger {
            periodic_schedule: Some(p),
            ..
        }) => (p.start_time, p.end_time),
        _ => (None, None),
    };
    let start = start.filter(|t| t.timestamp() > 0);
    let end = end.filter(|t| t.timestamp() > 0);
    match (start, end) {
        (None, None) => String::new(),
        (Some(s), None) => format!("from {}", local_time(Some(s))),
        (None, Some(e)) => format!("until {}", local_time(Some(e))),
        (Some(s), Some(e)) => format!("{} to {}", local_time(Some(s)), local_time(Some(e))),
    }
}

/// The next three firings of an enabled cron job, in local time: what a schedule means is
/// easier to check on dates than on its fields.
fn next_runs(job: &ApiJob) -> String {
    let Some(cron) = job.trigger.as_ref().and_then(|t| t.cron_schedule.as_ref()) else {
        return String::new();
    };
    if !job.enabled {
        return "none while disabled".to_owned();
    }
    let after = cron
        .start_time
        .map(|t| t.timestamp() - 1)
        .filter(|start| *start > Utc::now().timestamp())
        .unwrap_or_else(|| Utc::now().timestamp());
    let until = cron.end_time.map(|t| t.timestamp()).filter(|t| *t > 0);
    match crate::server::cron_preview(&cron.cron, after, until, 3) {
        Ok(times) if times.is_empty() => "none (the window has ended)".to_owned(),
        Ok(times) => times
            .into_iter()
            .map(|t| local_time(DateTime::from_timestamp(t, 0)))
            .collect::<Vec<_>>()
            .join(", "),
        Err(e) => format!("unknown ({e})"),
    }
}

fn job_details(job: &ApiJob) -> String {
    let reference = |kind: ApiResourceType| {
        job.resource_references
            .iter()
            .filter_map(|r| r.key.as_ref())
            .find(|k| k.r#type == kind)
            .map(|k| k.id.clone())
            .unwrap_or_default()
    };
    let spec = job.pipeline_spec.clone().unwrap_or_default();
    let parameters = spec
        .parameters
        .iter()
        .map(|p| format!("{}={}", p.name, p.value))
        .collect::<Vec<_>>()
        .join(", ");
    details(&[
        ("ID", job.id.clone()),
        ("Name", job.name.clone()),
        ("Description", job.description.clone()),
        ("Status", status(job).to_owned()),
        ("Trigger", trigger_text(job.trigger.as_ref())),
        ("Window", window(job.trigger.as_ref())),
        ("Next runs", next_runs(job)),
        ("Max concurrency", job.max_concurrency.to_string()),
        (
            "Catch-up",
            if job.no_catchup {
                "no (one run for missed firings)"
            } else {
                "yes"
            }
            .to_owned(),
        ),
        ("Experiment", reference(ApiResourceType::Experiment)),
        ("Pipeline", spec.pipeline_id.clone()),
        ("Version", reference(ApiResourceType::PipelineVersion)),
        ("Parameters", parameters),
        ("Created", local_time(job.created_at)),
        ("Updated", local_time(job.updated_at)),
        ("Error", job.error.clone()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_read_well() {
        let periodic = ApiTrigger {
            periodic_schedule: Some(ApiPeriodicSchedule {
                interval_second: 3600,
                ..ApiPeriodicSchedule::default()
            }),
            ..ApiTrigger::default()
        };
        assert_eq!(trigger_text(Some(&periodic)), "every 1h");
        assert_eq!(window(Some(&periodic)), "");
        let cron = ApiTrigger {
            cron_schedule: Some(ApiCronSchedule {
                cron: "0 0 * * * *".into(),
                ..ApiCronSchedule::default()
            }),
            ..ApiTrigger::default()
        };
        assert_eq!(trigger_text(Some(&cron)), "cron 0 0 * * * * (UTC)");
        let zoned = ApiTrigger {
            cron_schedule: Some(ApiCronSchedule {
                cron: "CRON_TZ=Europe/Paris 0 3 * * *".into(),
                ..ApiCronSchedule::default()
            }),
            ..ApiTrigger::default()
        };
        assert_eq!(trigger_text(Some(&zoned)), "cron 0 3 * * * (Europe/Paris)");
    }

    #[test]
    fn times_must_be_rfc3339() {
        assert!(rfc3339("2026-01-02T03:00:00Z").is_ok());
        assert!(rfc3339("2026-01-02 03:00").is_err());
    }
}
