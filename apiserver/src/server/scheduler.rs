//! The scheduler of recurring runs: every [`TICK`] it asks the store for the jobs that may
//! fire ([`crate::store::Store::due_jobs`]), works out which firings are due, claims each
//! one atomically ([`crate::store::Store::claim_job_firing`]) and starts its run.
//!
//! Rules (KFP's ScheduledWorkflow, with the surprises of KFP-PAIN §13 made explicit):
//! - A schedule counts from the job's last firing, else its start time, else its creation.
//!   A periodic job fires at `base + k * interval`; a cron job at each time the expression
//!   matches strictly after the base, evaluated in the job's timezone (`''` = UTC).
//! - Cron expressions have 6 fields (seconds first, as KFP) or 5 (standard cron; seconds
//!   become 0), or 7 (a trailing year). Day-of-week numbers are 0-6 with Sunday 0 (7 is
//!   Sunday too), as in KFP's robfig/cron; `@yearly`, `@monthly`, `@weekly`, `@daily`,
//!   `@midnight`, `@hourly` are accepted.
//! - Without `no_catchup` every missed firing gets its run, oldest first (at most
//!   [`MAX_FIRINGS_PER_TICK`] per tick, so a long outage is caught up over several ticks).
//!   With `no_catchup` only the latest missed firing runs.
//! - At most `max_concurrency` runs of a job are unfinished at once; a firing that would
//!   exceed it waits (it is not dropped) until a run finishes.
//! - Nothing fires after `end_time`.
//! - A run that cannot start (its experiment or pipeline is gone, the backend refuses it)
//!   consumes its firing; the error is logged and the schedule goes on.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::Shared;
use super::runs::{StartRun, start_run};
use crate::store::{JobRow, StoreError};

/// How often the scheduler looks for due jobs.
pub const TICK: Duration = Duration::from_secs(1);

/// At most this many runs are started per tick (all jobs together).
pub const MAX_FIRINGS_PER_TICK: usize = 100;

/// Start the scheduler loop.
pub fn spawn(state: Shared) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            interval.tick().await;
            if let Err(e) = tick(&state, Utc::now()).await {
                eprintln!("scheduler: cannot read the recurring runs: {e}");
            }
        }
    })
}

/// One pass of the scheduler as if the time were `now`: starts the runs of every firing due
/// at `now` and returns how many were started. Tests call it with chosen times.
pub async fn tick(state: &Shared, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let now_secs = now.timestamp();
    let mut started = 0;
    for job in state.store.due_jobs(now_secs).await? {
        if started >= MAX_FIRINGS_PER_TICK {
            break;
        }
        match fire_job(state, &job, now_secs, MAX_FIRINGS_PER_TICK - started).await {
            Ok(n) => started += n,
            Err(e) => eprintln!("scheduler: job {} ({}): {e}", job.id, job.name),
        }
    }
    Ok(started)
}

/// Starts the due firings of one job (at most `budget`); returns how many runs started.
async fn fire_job(
    state: &Shared,
    job: &JobRow,
    now: i64,
    budget: usize,
) -> Result<usize, StoreError> {
    let schedule = match JobSchedule::of(job) {
        Ok(schedule) => schedule,
        Err(e) => {
            // Refused at creation, so only a database edited by hand gets here.
            eprintln!("scheduler: job {} has a bad schedule: {e}", job.id);
            return Ok(0);
        }
    };
    let limit = job.end_time.map_or(now, |end| end.min(now));
    let base = schedule_base(job);
    let firings = if job.no_catchup {
        schedule.latest_between(base, limit).into_iter().collect()
    } else {
        schedule.between(base, limit, budget)
    };
    if firings.is_empty() {
        return Ok(0);
    }
    let mut active = state.store.active_runs_of_job(&job.id).await?;
    let mut started = 0;
    for at in firings {
        if active >= job.max_concurrency.max(1) {
            break;
        }
        if !state.store.claim_job_firing(&job.id, at).await? {
            // Another scheduler fired it, or the job was just disabled.
            break;
        }
        match start_run(state, job_run(job, at)).await {
            Ok(_) => {
                started += 1;
                active += 1;
            }
            Err(e) => eprintln!(
                "scheduler: job {} ({}): the run for {} did not start: {}",
                job.id,
                job.name,
                format_time(at),
                e
            ),
        }
    }
    Ok(started)
}

/// The run a job starts for the firing at `at`.
fn job_run(job: &JobRow, at: i64) -> StartRun {
    let parameters = job
        .parameters
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|p| {
                    Some((
                        p["name"].as_str()?.to_owned(),
                        p["value"].as_str().unwrap_or_default().to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    StartRun {
        name: run_name(&job.name, at),
        description: job.description.clone(),
        manifest: job.workflow_manifest.clone(),
        pipeline_id: job.pipeline_id.clone(),
        pipeline_version_id: job.pipeline_version_id.clone(),
        experiment_id: Some(job.experiment_id.clone()),
        parameters,
        service_account: job.service_account.clone(),
        job_id: Some(job.id.clone()),
        scheduled_at: Some(at),
    }
}

/// `<job name>-<fire time, UTC, %Y%m%d%H%M%S>`.
pub(crate) fn run_name(job_name: &str, at: i64) -> String {
    let stamp = DateTime::from_timestamp(at, 0)
        .map(|t| t.format("%Y%m%d%H%M%S").to_string())
        .unwrap_or_else(|| at.to_string());
    format!("{job_name}-{stamp}")
}

fn format_time(at: i64) -> String {
    DateTime::from_timestamp(at, 0).map_or_else(|| at.to_string(), |t| t.to_rfc3339())
}

/// What the schedule counts from: the last firing, else the start time, else creation.
fn schedule_base(job: &JobRow) -> i64 {
    job.last_scheduled_at
        .or(job.start_time)
        .unwrap_or(job.created_at)
}

/// A job's trigger, ready to compute firing times.
#[derive(Debug, Clone)]
pub(crate) enum JobSchedule {
    Cron(Box<cron::Schedule>, Tz),
    /// Every this many seconds.
    Every(i64),
}

impl JobSchedule {
    /// The schedule of a stored job.
    pub(crate) fn of(job: &JobRow) -> Result<JobSchedule, String> {
        match (&job.cron, job.interval_seconds) {
            (Some(cron), _) => Ok(JobSchedule::Cron(
                Box::new(compile_cron(cron)?),
                parse_timezone(&job.timezone)?,
            )),
            (None, Some(seconds)) if seconds > 0 => Ok(JobSchedule::Every(seconds)),
            _ => Err("neither a cron expression nor a positive interval".to_owned()),
        }
    }

    /// The first firing strictly after `after`.
    pub(crate) fn next_after(&self, after: i64) -> Option<i64> {
        match self {
            JobSchedule::Every(seconds) => after.checked_add(*seconds),
            JobSchedule::Cron(schedule, tz) => {
                let after = tz.timestamp_opt(after, 0).single()?;
                schedule.after(&after).next().map(|t| t.timestamp())
            }
        }
    }

    /// The firings in `(base, limit]`, oldest first, at most `max`.
    fn between(&self, base: i64, limit: i64, max: usize) -> Vec<i64> {
        let mut firings = Vec::new();
        let mut cursor = base;
        while firings.len() < max {
            match self.next_after(cursor) {
                Some(at) if at <= limit => {
                    firings.push(at);
                    cursor = at;
                }
                _ => break,
            }
        }
        firings
    }

    /// The latest firing in `(base, limit]`, found without walking every missed one.
    fn latest_between(&self, base: i64, limit: i64) -> Option<i64> {
        let latest = match self {
            JobSchedule::Every(seconds) => {
                let periods = limit.checked_sub(base)?.checked_div(*seconds)?;
                base.checked_add(periods.checked_mul(*seconds)?)?
            }
            JobSchedule::Cron(schedule, tz) => {
                let before = tz.timestamp_opt(limit.checked_add(1)?, 0).single()?;
                schedule.after(&before).next_back()?.timestamp()
            }
        };
        (latest > base && latest <= limit).then_some(latest)
    }
}

/// Splits robfig/cron's timezone prefix (`CRON_TZ=Europe/Paris 0 3 * * *`, or `TZ=`) from
/// a cron expression: KFP's scheduler reads cron with robfig/cron, so this is how a KFP
/// client gives a recurring run its timezone through the v1 API, which has no field for it.
pub(crate) fn split_cron_timezone(expression: &str) -> (Option<&str>, &str) {
    let expression = expression.trim();
    for prefix in ["CRON_TZ=", "TZ="] {
        if let Some(rest) = expression.strip_prefix(prefix) {
            let (zone, cron) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            return (Some(zone), cron.trim());
        }
    }
    (None, expression)
}

/// The next `count` firings of a cron (with its optional `CRON_TZ=` prefix) strictly after
/// `after` and not past `until`, as Unix seconds: what `kfp recurring-run` previews, with
/// the scheduler's own parsing.
pub(crate) fn cron_preview(
    expression: &str,
    after: i64,
    until: Option<i64>,
    count: usize,
) -> Result<Vec<i64>, String> {
    let (zone, cron) = split_cron_timezone(expression);
    let schedule = JobSchedule::Cron(
        Box::new(compile_cron(cron)?),
        parse_timezone(zone.unwrap_or_default())?,
    );
    Ok(schedule.between(after, until.unwrap_or(i64::MAX), count))
}

/// An IANA timezone name (`''` is UTC).
pub(crate) fn parse_timezone(name: &str) -> Result<Tz, String> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(Tz::UTC);
    }
    Tz::from_str(name).map_err(|_| {
        format!("unknown timezone '{name}' (give an IANA name such as UTC or Europe/Paris)")
    })
}

/// Parses a cron expression as KFP's scheduler reads it (6 fields, seconds first), also
/// accepting standard 5-field cron (seconds 0), a 7th year field and the `@daily`-style
/// shorthands. The error says what is wrong, for `trigger.cron_schedule.cron: ...`.
pub(crate) fn compile_cron(expression: &str) -> Result<cron::Schedule, String> {
    let expression = expression.trim();
    if expression.is_empty() {
        return Err("empty; give a cron expression such as '0 0 * * * *' (seconds first)".into());
    }
    let normalized = if let Some(shorthand) = expression.strip_prefix('@') {
        match shorthand.to_ascii_lowercase().as_str() {
            "yearly" | "annually" => "0 0 0 1 1 *".to_owned(),
            "monthly" => "0 0 0 1 * *".to_owned(),
            "weekly" => "0 0 0 * * SUN".to_owned(),
            "daily" | "midnight" => "0 0 0 * * *".to_owned(),
            "hourly" => "0 0 * * * *".to_owned(),
            other if other.starts_with("every") => {
                return Err(format!(
                    "'{expression}' is not supported; use periodic_schedule.interval_second for \
                     a fixed interval"
                ));
            }
            _ => {
                return Err(format!(
                    "unknown shorthand '{expression}' (known: @yearly, @annually, @monthly, \
                     @weekly, @daily, @midnight, @hourly)"
                ));
            }
        }
    } else {
        let mut fields: Vec<String> = expression.split_whitespace().map(str::to_owned).collect();
        match fields.len() {
            5 => fields.insert(0, "0".to_owned()),
            6 | 7 => {}
            n => {
                return Err(format!(
                    "'{expression}' has {n} field(s); expected 6 (second minute hour \
                     day-of-month month day-of-week, as KFP) or 5 (standard cron, minute first)"
                ));
            }
        }
        fields[5] = day_of_week_field(&fields[5])?;
        fields.join(" ")
    };
    cron::Schedule::from_str(&normalized)
        .map_err(|e| format!("'{expression}' is not a valid cron expression: {e}"))
}

/// [`compile_cron`], also refusing an expression with no firing after now (such as
/// February 30th, or a year field in the past): what a new job must pass.
pub(crate) fn parse_cron(expression: &str) -> Result<cron::Schedule, String> {
    let schedule = compile_cron(expression)?;
    if schedule.after(&Utc::now()).next().is_none() {
        return Err(format!("'{}' never fires", expression.trim()));
    }
    Ok(schedule)
}

/// Day-of-week numbers from cron's 0-7 (Sunday 0 or 7) to the cron crate's 1-7 (Sunday 1).
/// Names (`MON-FRI`), `*` and `?` pass through.
fn day_of_week_field(field: &str) -> Result<String, String> {
    let bad = |part: &str| {
        format!("day-of-week '{part}': numbers are 0-7 (Sunday is 0 or 7), or use names (SUN-SAT)")
    };
    let number = |text: &str| -> Option<Result<u32, String>> {
        text.chars().all(|c| c.is_ascii_digit()).then(|| {
            text.parse::<u32>()
                .ok()
                .filter(|n| *n <= 7)
                .ok_or_else(|| bad(text))
        })
    };
    let mut parts = Vec::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (part, None),
        };
        let step = step.map(|s| format!("/{s}")).unwrap_or_default();
        let translated = match range.split_once('-') {
            Some((from, to)) => match (number(from), number(to)) {
                (Some(from), Some(to)) => {
                    let (from, to) = (from?, to?);
                    if from == 7 || from > to {
                        return Err(bad(part));
                    }
                    if to == 7 && from > 0 && step.is_empty() {
                        // Sunday as 7 ends the range: it is the crate's 1.
                        format!("{}-7,1", from + 1)
                    } else {
                        format!("{}-{}{step}", from + 1, to.min(6) + 1)
                    }
                }
                (None, None) => part.to_owned(),
                _ => return Err(bad(part)),
            },
            None => match number(range) {
                Some(n) => format!("{}{step}", n? % 7 + 1),
                None => part.to_owned(),
            },
        };
        parts.push(translated);
    }
    Ok(parts.join(","))
}

/// The scheduler driven by [`tick`] with chosen times, on a backend whose runs stay
/// Running until the test finishes them.
#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use kfp::argo::{WorkflowPhase, WorkflowStatus};
    use serde_json::{Value, json};
    use tokio::sync::watch;
    use tower::ServiceExt;

    use super::*;
    use crate::server::{AppState, Backend, BackendError, Submission, router};
    use crate::store::Store;

    /// Runs stay Running until [`HeldBackend::finish_all`]; workflows named `refuse-*` are
    /// refused.
    #[derive(Debug, Default)]
    struct HeldBackend {
        running: Mutex<Vec<watch::Sender<WorkflowStatus>>>,
    }

    impl HeldBackend {
        fn finish_all(&self) {
            let senders = std::mem::take(
                &mut *self
                    .running
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            for sender in senders {
                let _ = sender.send(WorkflowStatus {
                    phase: WorkflowPhase::Succeeded,
                    ..WorkflowStatus::default()
                });
            }
        }
    }

    impl Backend for HeldBackend {
        fn name(&self) -> &'static str {
            "held"
        }
        fn submit(
            &self,
            submission: Submission,
        ) -> Result<watch::Receiver<WorkflowStatus>, BackendError> {
            let name = submission.workflow.metadata.name.unwrap_or_default();
            if name.starts_with("refuse-") {
                return Err(BackendError::Rejected(format!("{name}: refused")));
            }
            let (sender, receiver) = watch::channel(WorkflowStatus {
                phase: WorkflowPhase::Running,
                ..WorkflowStatus::default()
            });
            self.running
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(sender);
            Ok(receiver)
        }
        fn terminate(&self, _run_name: &str) -> Result<(), BackendError> {
            Ok(())
        }
        fn log_path(&self, _run_name: &str, _pod_name: &str) -> std::path::PathBuf {
            std::path::PathBuf::new()
        }
        fn finished(&self, _run_name: &str) {}

        fn artifact_path(&self, _key: &str) -> Option<std::path::PathBuf> {
            None
        }

        fn purge(&self, _run_name: &str) -> Result<(), BackendError> {
            Ok(())
        }
    }

    struct Harness {
        state: Shared,
        backend: Arc<HeldBackend>,
        _dir: tempfile::TempDir,
    }

    async fn harness() -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("kfp.db").display());
        let store = Store::open(&url).await.expect("store opens");
        let backend = Arc::new(HeldBackend::default());
        let state = Arc::new(AppState {
            store,
            backend: backend.clone(),
            max_upload_bytes: 1 << 20,
        });
        Harness {
            state,
            backend,
            _dir: dir,
        }
    }

    async fn call(
        h: &Harness,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let request = Request::builder().method(method).uri(uri);
        let request = match body {
            Some(b) => request
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => request.body(Body::empty()),
        }
        .expect("a request");
        let response = router(h.state.clone())
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    const ECHO: &str = r#"{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow",
     "metadata":{"generateName":"echo-"},
     "spec":{"entrypoint":"main","arguments":{"parameters":[{"name":"who","value":"world"}]},
      "templates":[{"name":"main","container":{"image":"alpine","command":["echo","hi"]}}]}}"#;

    /// 2090-01-01T00:00:00Z: far enough ahead that the real clock never interferes.
    const T0: i64 = 3_786_912_000;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).expect("a valid time")
    }

    fn rfc(secs: i64) -> String {
        at(secs).to_rfc3339()
    }

    /// Creates a job from `trigger` and extra fields; returns its ID.
    async fn create(h: &Harness, name: &str, trigger: Value, extra: Value) -> String {
        let mut body = json!({
            "name": name,
            "enabled": true,
            "max_concurrency": "10",
            "pipeline_spec": {"workflow_manifest": ECHO,
                              "parameters": [{"name": "who", "value": "cron"}]},
            "trigger": trigger,
        });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                body.insert(k.clone(), v.clone());
            }
        }
        let (code, job) = call(h, "POST", "/apis/v1beta1/jobs", Some(body)).await;
        assert_eq!(code, StatusCode::OK, "{job}");
        job["id"].as_str().expect("a job id").to_owned()
    }

    fn every(seconds: i64, end: Option<i64>) -> Value {
        let mut periodic = json!({"start_time": rfc(T0), "interval_second": seconds.to_string()});
        if let Some(end) = end {
            periodic["end_time"] = json!(rfc(end));
        }
        json!({"periodic_schedule": periodic})
    }

    /// The runs of a job (via the API's JOB scope), by scheduled time.
    async fn runs_of(h: &Harness, job: &str) -> Vec<Value> {
        let (code, list) = call(
            h,
            "GET",
            &format!(
                "/apis/v1beta1/runs?resource_reference_key.type=JOB&resource_reference_key.id={job}&page_size=200&sort_by=scheduled_at"
            ),
            None,
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{list}");
        list["runs"].as_array().cloned().unwrap_or_default()
    }

    fn scheduled(runs: &[Value]) -> Vec<String> {
        runs.iter()
            .map(|r| r["scheduled_at"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    async fn tick_at(h: &Harness, secs: i64) -> usize {
        tick(&h.state, at(secs)).await.expect("the tick runs")
    }

    /// Finish every running run and wait until the store has seen it.
    async fn finish_runs(h: &Harness, job: &str) {
        h.backend.finish_all();
        for _ in 0..500 {
            let active = h
                .state
                .store
                .active_runs_of_job(job)
                .await
                .expect("a count");
            if active == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the runs of {job} did not finish");
    }

    #[tokio::test]
    async fn a_periodic_job_fires_on_time_with_a_job_reference_and_only_once() {
        let h = harness().await;
        let job = create(&h, "hourly", every(60, None), json!({})).await;
        assert_eq!(tick_at(&h, T0 + 59).await, 0);
        assert_eq!(tick_at(&h, T0 + 60).await, 1);
        assert_eq!(tick_at(&h, T0 + 60).await, 0, "a firing happens once");
        assert_eq!(tick_at(&h, T0 + 61).await, 0);
        let runs = runs_of(&h, &job).await;
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert_eq!(runs[0]["name"], "hourly-20900101000100");
        assert_eq!(runs[0]["scheduled_at"], "2090-01-01T00:01:00Z");
        assert_eq!(runs[0]["pipeline_spec"]["parameters"][0]["value"], "cron");
        let detail = h
            .state
            .store
            .get_run(runs[0]["id"].as_str().expect("a run id"))
            .await
            .expect("the run is stored");
        assert_eq!(detail.run.job_id.as_deref(), Some(job.as_str()));
        assert_eq!(tick_at(&h, T0 + 120).await, 1);
        assert_eq!(runs_of(&h, &job).await.len(), 2);
    }

    #[tokio::test]
    async fn catch_up_fires_each_missed_time_once() {
        let h = harness().await;
        let job = create(&h, "catchup", every(60, None), json!({})).await;
        assert_eq!(tick_at(&h, T0 + 330).await, 5);
        assert_eq!(tick_at(&h, T0 + 330).await, 0);
        let runs = runs_of(&h, &job).await;
        assert_eq!(
            scheduled(&runs),
            (1..=5)
                .map(|k| rfc(T0 + 60 * k).replace("+00:00", "Z"))
                .collect::<Vec<_>>()
        );
    }

    #[tokio::test]
    async fn catch_up_goes_on_over_ticks_as_runs_finish() {
        let h = harness().await;
        let job = create(&h, "burst", every(1, None), json!({})).await;
        // Keep the runs from counting against max_concurrency: finish them as they come.
        assert_eq!(tick_at(&h, T0 + 1000).await, 10);
        finish_runs(&h, &job).await;
        let mut total = 10;
        while total < 150 {
            let n = tick_at(&h, T0 + 1000).await;
            assert!(n <= MAX_FIRINGS_PER_TICK);
            assert_eq!(n, 10, "max_concurrency 10 limits each tick");
            finish_runs(&h, &job).await;
            total += n;
        }
        assert_eq!(runs_of(&h, &job).await.len(), 150);
    }

    #[tokio::test]
    async fn no_catchup_fires_only_the_latest_missed_time() {
        let h = harness().await;
        let job = create(&h, "latest", every(60, None), json!({"no_catchup": true})).await;
        let day = 86_400;
        assert_eq!(tick_at(&h, T0 + day + 30).await, 1);
        assert_eq!(tick_at(&h, T0 + day + 59).await, 0);
        assert_eq!(tick_at(&h, T0 + day + 60).await, 1);
        let runs = runs_of(&h, &job).await;
        assert_eq!(
            scheduled(&runs),
            vec![
                "2090-01-02T00:00:00Z".to_owned(),
                "2090-01-02T00:01:00Z".to_owned()
            ]
        );
    }

    #[tokio::test]
    async fn no_catchup_cron_fires_only_the_latest_missed_time() {
        let h = harness().await;
        let trigger = json!({"cron_schedule": {"start_time": rfc(T0), "cron": "0 0 * * * *"}});
        let job = create(&h, "cron-latest", trigger, json!({"no_catchup": true})).await;
        assert_eq!(tick_at(&h, T0 + 30 * 86_400 + 1800).await, 1);
        assert_eq!(
            scheduled(&runs_of(&h, &job).await),
            vec!["2090-01-31T00:00:00Z".to_owned()]
        );
    }

    #[tokio::test]
    async fn max_concurrency_holds_firings_until_runs_finish() {
        let h = harness().await;
        let job = create(&h, "two", every(60, None), json!({"max_concurrency": "2"})).await;
        assert_eq!(tick_at(&h, T0 + 600).await, 2);
        assert_eq!(tick_at(&h, T0 + 600).await, 0, "two runs are still running");
        assert_eq!(
            h.state
                .store
                .active_runs_of_job(&job)
                .await
                .expect("a count"),
            2
        );
        finish_runs(&h, &job).await;
        assert_eq!(tick_at(&h, T0 + 600).await, 2, "the held firings come next");
        let runs = runs_of(&h, &job).await;
        assert_eq!(
            scheduled(&runs),
            (1..=4)
                .map(|k| rfc(T0 + 60 * k).replace("+00:00", "Z"))
                .collect::<Vec<_>>()
        );
    }

    #[tokio::test]
    async fn a_disabled_job_never_fires() {
        let h = harness().await;
        let off = create(&h, "off", every(60, None), json!({"enabled": false})).await;
        let paused = create(&h, "paused", every(60, None), json!({})).await;
        let (code, _) = call(
            &h,
            "POST",
            &format!("/apis/v1beta1/jobs/{paused}/disable"),
            None,
        )
        .await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(tick_at(&h, T0 + 3600).await, 0);
        assert!(runs_of(&h, &off).await.is_empty());
        assert!(runs_of(&h, &paused).await.is_empty());
        let (code, _) = call(
            &h,
            "POST",
            &format!("/apis/v1beta1/jobs/{paused}/enable"),
            None,
        )
        .await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(tick_at(&h, T0 + 60).await, 1, "enabled again, it fires");
    }

    #[tokio::test]
    async fn re_enabling_does_not_catch_up_the_disabled_time() {
        let h = harness().await;
        let now = Utc::now().timestamp();
        let trigger = json!({"periodic_schedule": {"start_time": rfc(now - 3600),
                                                   "interval_second": "60"}});
        let job = create(&h, "resumed", trigger, json!({"enabled": false})).await;
        let (code, _) = call(
            &h,
            "POST",
            &format!("/apis/v1beta1/jobs/{job}/enable"),
            None,
        )
        .await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(
            tick_at(&h, now + 30).await,
            0,
            "the hour it was disabled is skipped"
        );
        let fired = tick_at(&h, now + 200).await;
        assert!((1..=3).contains(&fired), "{fired}");
    }

    #[tokio::test]
    async fn nothing_fires_after_end_time() {
        let h = harness().await;
        let job = create(&h, "ending", every(60, Some(T0 + 150)), json!({})).await;
        assert_eq!(tick_at(&h, T0 + 130).await, 2);
        assert_eq!(tick_at(&h, T0 + 200).await, 0);
        assert_eq!(tick_at(&h, T0 + 10_000).await, 0);
        let trigger = json!({"cron_schedule": {"start_time": rfc(T0), "end_time": rfc(T0 + 150),
                                               "cron": "0 * * * * *"}});
        let cron_job = create(&h, "cron-ending", trigger, json!({})).await;
        assert_eq!(tick_at(&h, T0 + 149).await, 2);
        assert_eq!(tick_at(&h, T0 + 181).await, 0);
        assert_eq!(runs_of(&h, &job).await.len(), 2);
        assert_eq!(runs_of(&h, &cron_job).await.len(), 2);
    }

    #[tokio::test]
    async fn six_and_five_field_cron_fire_at_the_same_times() {
        let h = harness().await;
        let six = json!({"cron_schedule": {"start_time": rfc(T0), "cron": "0 */5 * * * *"}});
        let five = json!({"cron_schedule": {"start_time": rfc(T0), "cron": "*/5 * * * *"}});
        let six = create(&h, "six", six, json!({})).await;
        let five = create(&h, "five", five, json!({})).await;
        assert_eq!(tick_at(&h, T0 + 299).await, 0);
        assert_eq!(tick_at(&h, T0 + 300).await, 2);
        assert_eq!(tick_at(&h, T0 + 900).await, 4);
        for job in [six, five] {
            assert_eq!(
                scheduled(&runs_of(&h, &job).await),
                vec![
                    "2090-01-01T00:05:00Z".to_owned(),
                    "2090-01-01T00:10:00Z".to_owned(),
                    "2090-01-01T00:15:00Z".to_owned()
                ]
            );
        }
    }

    #[tokio::test]
    async fn a_run_that_cannot_start_consumes_its_firing_and_other_jobs_go_on() {
        let h = harness().await;
        let refused = ECHO.replace("\"echo-\"", "\"refuse-\"");
        let doomed = create(
            &h,
            "doomed",
            every(60, None),
            json!({"pipeline_spec": {"workflow_manifest": refused}}),
        )
        .await;
        let fine = create(&h, "fine", every(60, None), json!({})).await;
        assert_eq!(tick_at(&h, T0 + 60).await, 1);
        assert_eq!(
            tick_at(&h, T0 + 60).await,
            0,
            "the refused firing is not retried"
        );
        assert!(runs_of(&h, &doomed).await.is_empty());
        assert_eq!(runs_of(&h, &fine).await.len(), 1);
        assert_eq!(tick_at(&h, T0 + 120).await, 1);
    }

    #[tokio::test]
    async fn at_most_max_firings_start_per_tick() {
        let h = harness().await;
        let mut jobs = Vec::new();
        for i in 0..11 {
            jobs.push(create(&h, &format!("burst-{i}"), every(1, None), json!({})).await);
        }
        assert_eq!(tick_at(&h, T0 + 1000).await, MAX_FIRINGS_PER_TICK);
        let mut counts = Vec::new();
        for job in &jobs {
            counts.push(runs_of(&h, job).await.len());
        }
        counts.sort_unstable();
        assert_eq!(counts, [0, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10]);
    }

    fn cron_times(expression: &str, tz: &str, from: i64, n: usize) -> Vec<String> {
        let schedule = JobSchedule::Cron(
            Box::new(parse_cron(expression).expect("a valid cron")),
            parse_timezone(tz).expect("a timezone"),
        );
        schedule
            .between(from, i64::MAX, n)
            .into_iter()
            .map(|t| at(t).format("%Y-%m-%d %a %H:%M:%S").to_string())
            .collect()
    }

    #[test]
    fn cron_day_of_week_counts_from_sunday_zero() {
        // 2090-01-01 is a Sunday.
        assert_eq!(
            cron_times("0 0 12 * * 0", "", T0, 2),
            ["2090-01-01 Sun 12:00:00", "2090-01-08 Sun 12:00:00"]
        );
        assert_eq!(
            cron_times("0 0 12 * * 7", "", T0, 1),
            ["2090-01-01 Sun 12:00:00"]
        );
        assert_eq!(
            cron_times("0 12 * * 1-5", "", T0, 5),
            [
                "2090-01-02 Mon 12:00:00",
                "2090-01-03 Tue 12:00:00",
                "2090-01-04 Wed 12:00:00",
                "2090-01-05 Thu 12:00:00",
                "2090-01-06 Fri 12:00:00"
            ]
        );
        assert_eq!(
            cron_times("0 12 * * 5-7", "", T0, 3),
            [
                "2090-01-01 Sun 12:00:00",
                "2090-01-06 Fri 12:00:00",
                "2090-01-07 Sat 12:00:00"
            ]
        );
        assert_eq!(
            cron_times("0 0 * * MON,WED", "", T0, 2),
            ["2090-01-02 Mon 00:00:00", "2090-01-04 Wed 00:00:00"]
        );
        assert_eq!(cron_times("@daily", "", T0, 1), ["2090-01-02 Mon 00:00:00"]);
    }

    #[test]
    fn a_timezone_prefix_is_split_from_the_cron() {
        assert_eq!(
            split_cron_timezone("CRON_TZ=Europe/Paris 0 3 * * *"),
            (Some("Europe/Paris"), "0 3 * * *")
        );
        assert_eq!(
            split_cron_timezone(" TZ=UTC  @daily"),
            (Some("UTC"), "@daily")
        );
        assert_eq!(split_cron_timezone("0 3 * * *"), (None, "0 3 * * *"));
        assert_eq!(split_cron_timezone("CRON_TZ=UTC"), (Some("UTC"), ""));
    }

    #[test]
    fn preview_lists_the_next_firings_in_the_timezone() {
        // 2026-01-01T00:00:00Z; 09:00 in Tokyo is 00:00 UTC.
        let t0 = 1_767_225_600;
        let next = cron_preview("CRON_TZ=Asia/Tokyo 0 9 * * *", t0, None, 2).expect("valid");
        assert_eq!(next, [t0 + 86_400, t0 + 2 * 86_400]);
        let bounded = cron_preview("0 9 * * *", t0, Some(t0 + 86_400), 5).expect("valid");
        assert_eq!(bounded, [t0 + 9 * 3600]);
        assert!(cron_preview("CRON_TZ=Nowhere/Else 0 9 * * *", t0, None, 1).is_err());
    }

    #[test]
    fn cron_is_evaluated_in_the_job_timezone() {
        // 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer.
        assert_eq!(
            cron_times("0 0 9 * * *", "Europe/Paris", T0, 1),
            ["2090-01-01 Sun 08:00:00"]
        );
        let july = T0 + 181 * 86_400;
        assert_eq!(
            cron_times("0 0 9 * * *", "Europe/Paris", july, 1),
            ["2090-07-01 Sat 07:00:00"]
        );
        assert!(parse_timezone("Mars/Olympus").is_err());
        assert_eq!(parse_timezone(" ").expect("UTC"), Tz::UTC);
    }

    #[test]
    fn bad_cron_expressions_say_what_is_wrong() {
        for (expression, expected) in [
            ("", "empty"),
            ("* * *", "3 field(s)"),
            ("0 0 0 0 0 0 0 0", "8 field(s)"),
            ("61 * * * * *", "not a valid cron expression"),
            ("0 0 25 * * *", "not a valid cron expression"),
            ("0 0 0 * * 8", "day-of-week '8'"),
            ("0 0 0 * * 6-2", "day-of-week '6-2'"),
            ("@every 1h", "periodic_schedule.interval_second"),
            ("@sometimes", "unknown shorthand"),
            ("0 0 0 30 2 *", "never fires"),
        ] {
            let error = parse_cron(expression).expect_err(expression);
            assert!(error.contains(expected), "{expression}: {error}");
        }
    }

    #[test]
    fn the_latest_firing_is_found_without_walking_the_gap() {
        let every_second = JobSchedule::Cron(
            Box::new(parse_cron("* * * * * *").expect("a valid cron")),
            Tz::UTC,
        );
        let year = 365 * 86_400;
        assert_eq!(every_second.latest_between(T0, T0 + year), Some(T0 + year));
        assert_eq!(every_second.latest_between(T0, T0), None);
        let interval = JobSchedule::Every(60);
        assert_eq!(interval.latest_between(T0, T0 + 59), None);
        assert_eq!(interval.latest_between(T0, T0 + 3599), Some(T0 + 3540));
        assert_eq!(run_name("nightly", T0 + 3661), "nightly-20900101010101");
    }
}
