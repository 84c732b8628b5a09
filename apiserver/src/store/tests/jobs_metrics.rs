//! Metrics reporting (duplicates per metric) and recurring runs (enable/disable, due, claim).

use super::fixtures::{job, query, run};
use super::harness::TestDb;
use crate::list::Resource;
use crate::store::{JobScope, MetricStatus, NewMetric, StoreError, Trigger};

on_both_backends!(metrics_report_duplicates, jobs_schedule);

fn metric(node_id: &str, name: &str, value: f64) -> NewMetric {
    NewMetric {
        node_id: node_id.to_string(),
        name: name.to_string(),
        number_value: value,
        format: "RAW".to_string(),
    }
}

async fn metrics_report_duplicates(db: &TestDb) {
    let s = &db.store;
    let e = s.create_experiment("e", "", "").await.expect("e");
    let r = s.create_run(&run(&e.id, "r")).await.expect("run").run;
    let other = s.create_run(&run(&e.id, "other")).await.expect("run").run;

    let first = s
        .report_metrics(
            &r.id,
            &[
                metric("n1", "accuracy", 0.75),
                metric("n2", "accuracy", 0.5),
                metric("n1", "accuracy", 0.9),
            ],
        )
        .await
        .expect("report");
    let statuses: Vec<MetricStatus> = first.iter().map(|o| o.status).collect();
    assert_eq!(
        statuses,
        vec![
            MetricStatus::Ok,
            MetricStatus::Ok,
            MetricStatus::DuplicateReporting
        ]
    );
    let again = s
        .report_metrics(
            &r.id,
            &[metric("n1", "accuracy", 1.0), metric("n1", "loss", 0.25)],
        )
        .await
        .expect("report again");
    assert_eq!(again[0].status, MetricStatus::DuplicateReporting);
    assert_eq!(
        (again[1].name.as_str(), again[1].status),
        ("loss", MetricStatus::Ok)
    );
    s.report_metrics(&other.id, &[metric("n1", "accuracy", 0.1)])
        .await
        .expect("same metric, other run");

    let stored = s
        .metrics_of_runs(std::slice::from_ref(&r.id))
        .await
        .expect("metrics");
    let summary: Vec<(&str, &str, f64)> = stored
        .iter()
        .map(|m| (m.node_id.as_str(), m.name.as_str(), m.number_value))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("n1", "accuracy", 0.75),
            ("n1", "loss", 0.25),
            ("n2", "accuracy", 0.5)
        ]
    );
    let both = s
        .metrics_of_runs(&[r.id.clone(), other.id.clone()])
        .await
        .expect("metrics");
    assert_eq!(both.len(), 4);
    assert!(s.metrics_of_runs(&[]).await.expect("none").is_empty());

    let missing = s.report_metrics("nope", &[metric("n", "m", 1.0)]).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { kind: "run", .. })),
        "{missing:?}"
    );
    // Metrics go with their run.
    s.delete_run(&r.id).await.expect("delete run");
    assert!(
        s.metrics_of_runs(std::slice::from_ref(&r.id))
            .await
            .expect("metrics")
            .is_empty()
    );
}

async fn jobs_schedule(db: &TestDb) {
    let s = &db.store;
    let e = s.create_experiment("e", "", "team-a").await.expect("e");
    db.set_now(1_000);
    let every_minute = s
        .create_job(&job(&e.id, "interval", Trigger::Interval(60)))
        .await
        .expect("interval job");
    assert_eq!(every_minute.namespace, "team-a");
    assert!(every_minute.enabled);
    assert_eq!(
        s.get_job(&every_minute.id).await.expect("get"),
        every_minute
    );
    let cron = s
        .create_job(&job(&e.id, "cron", Trigger::Cron("0 */5 * * * *".into())))
        .await
        .expect("cron job");
    let mut later = job(&e.id, "later", Trigger::Interval(10));
    later.start_time = Some(5_000);
    let later = s.create_job(&later).await.expect("later job");
    let mut ended = job(&e.id, "ended", Trigger::Interval(10));
    ended.end_time = Some(1_010);
    s.create_job(&ended).await.expect("ended job");
    let mut off = job(&e.id, "off", Trigger::Interval(10));
    off.enabled = false;
    let off = s.create_job(&off).await.expect("disabled job");

    let bad = s.create_job(&job(&e.id, "bad", Trigger::Interval(0))).await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))), "{bad:?}");
    let missing = s.create_job(&job("nope", "x", Trigger::Interval(5))).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );

    let due = |now: i64| async move {
        let mut names: Vec<String> = s
            .due_jobs(now)
            .await
            .expect("due")
            .into_iter()
            .map(|j| j.name)
            .collect();
        names.sort();
        names
    };
    // Cron jobs are always candidates; interval jobs after a full period.
    assert_eq!(due(1_030).await, vec!["cron"]);
    assert_eq!(due(1_060).await, vec!["cron", "interval"]);

    // A firing is claimed once.
    assert!(
        s.claim_job_firing(&every_minute.id, 1_060)
            .await
            .expect("claim")
    );
    assert!(
        !s.claim_job_firing(&every_minute.id, 1_060)
            .await
            .expect("reclaim")
    );
    assert_eq!(
        s.get_job(&every_minute.id)
            .await
            .expect("get")
            .last_scheduled_at,
        Some(1_060)
    );
    assert_eq!(due(1_100).await, vec!["cron"]);
    assert_eq!(due(1_120).await, vec!["cron", "interval"]);
    assert_eq!(due(5_010).await, vec!["cron", "interval", "later"]);

    // Disable / enable.
    db.set_now(1_200);
    s.disable_job(&every_minute.id).await.expect("disable");
    let disabled = s.get_job(&every_minute.id).await.expect("get");
    assert!(!disabled.enabled);
    assert_eq!(disabled.updated_at, 1_200);
    assert!(
        !s.claim_job_firing(&every_minute.id, 1_300)
            .await
            .expect("claim disabled")
    );
    assert_eq!(due(1_300).await, vec!["cron"]);
    s.enable_job(&off.id).await.expect("enable");
    assert_eq!(due(1_300).await, vec!["cron", "off"]);
    assert!(matches!(
        s.enable_job("nope").await,
        Err(StoreError::NotFound { .. })
    ));

    // Runs spawned by a job count against its concurrency until they finish.
    let mut spawned = run(&e.id, "spawned");
    spawned.job_id = Some(cron.id.clone());
    let spawned = s.create_run(&spawned).await.expect("run").run;
    assert_eq!(spawned.job_id.as_deref(), Some(cron.id.as_str()));
    assert_eq!(s.active_runs_of_job(&cron.id).await.expect("active"), 1);
    s.update_run_status(
        &spawned.id,
        &crate::store::RunStatusUpdate {
            status: "Succeeded".into(),
            finished_at: Some(1_400),
            ..Default::default()
        },
    )
    .await
    .expect("finish");
    assert_eq!(s.active_runs_of_job(&cron.id).await.expect("active"), 0);

    let page = s
        .list_jobs(
            &query(Resource::Jobs, 2),
            JobScope {
                experiment_id: Some(&e.id),
                namespace: None,
            },
        )
        .await
        .expect("list jobs");
    assert_eq!(page.total_size, 5);
    assert_eq!(page.items.len(), 2);
    assert!(page.next.is_some());

    s.delete_job(&later.id).await.expect("delete");
    assert!(matches!(
        s.get_job(&later.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.delete_job(&later.id).await,
        Err(StoreError::NotFound { .. })
    ));
    // The runs a job made outlive it.
    s.delete_job(&cron.id).await.expect("delete cron");
    s.get_run(&spawned.id).await.expect("run kept");
}
