//! Experiments (default, archive cascade) and the run lifecycle.

use super::fixtures::{job, query, run};
use super::harness::TestDb;
use crate::list::{Op, Predicate, Resource, Value};
use crate::store::{
    DEFAULT_EXPERIMENT, RunScope, RunStatusUpdate, StorageState, StoreError, Trigger,
};

on_both_backends!(
    experiments_are_unique_per_namespace,
    archive_experiment_cascades,
    run_lifecycle,
    delete_experiment_cascades,
    concurrent_writers_all_succeed,
);

async fn experiments_are_unique_per_namespace(db: &TestDb) {
    let s = &db.store;
    let e = s.create_experiment("e", "first", "").await.expect("create");
    assert_eq!(s.get_experiment(&e.id).await.expect("get"), e);
    assert_eq!(e.storage_state, StorageState::Available);
    let dup = s.create_experiment("e", "again", "").await;
    assert!(
        matches!(&dup, Err(StoreError::AlreadyExists { kind: "experiment", name }) if name == "e"),
        "{dup:?}"
    );
    s.create_experiment("e", "", "team-a")
        .await
        .expect("other namespace");

    let d1 = s.default_experiment("").await.expect("default");
    let d2 = s.default_experiment("").await.expect("default again");
    assert_eq!(d1, d2);
    assert_eq!(d1.name, DEFAULT_EXPERIMENT);
    let d3 = s.default_experiment("team-a").await.expect("team default");
    assert_ne!(d1.id, d3.id);
    let listed = s
        .list_experiments(&query(Resource::Experiments, 50), Some(""))
        .await
        .expect("list");
    assert_eq!(listed.total_size, 2);
    assert!(matches!(
        s.get_experiment("nope").await,
        Err(StoreError::NotFound {
            kind: "experiment",
            ..
        })
    ));
}

async fn archive_experiment_cascades(db: &TestDb) {
    let s = &db.store;
    let e = s.create_experiment("e", "", "").await.expect("e");
    let other = s.create_experiment("other", "", "").await.expect("other");
    let r1 = s.create_run(&run(&e.id, "r1")).await.expect("r1").run;
    let r2 = s.create_run(&run(&e.id, "r2")).await.expect("r2").run;
    let keep = s
        .create_run(&run(&other.id, "keep"))
        .await
        .expect("keep")
        .run;
    let j = s
        .create_job(&job(&e.id, "j", Trigger::Interval(60)))
        .await
        .expect("job");
    let other_job = s
        .create_job(&job(&other.id, "oj", Trigger::Interval(60)))
        .await
        .expect("other job");

    s.archive_experiment(&e.id).await.expect("archive");
    let state = |id: &str| {
        let id = id.to_string();
        async move { s.get_run(&id).await.expect("run").run.storage_state }
    };
    assert_eq!(
        s.get_experiment(&e.id).await.expect("e").storage_state,
        StorageState::Archived
    );
    assert_eq!(state(&r1.id).await, StorageState::Archived);
    assert_eq!(state(&r2.id).await, StorageState::Archived);
    assert_eq!(state(&keep.id).await, StorageState::Available);
    assert!(!s.get_job(&j.id).await.expect("job").enabled);
    assert!(s.get_job(&other_job.id).await.expect("other job").enabled);

    // The UI's "active runs" filter.
    let mut active = query(Resource::Runs, 10);
    active.predicates.push(Predicate {
        column: "storage_state",
        op: Op::NotEquals,
        value: Value::Text("ARCHIVED".into()),
    });
    let page = s
        .list_runs(&active, RunScope::default())
        .await
        .expect("list");
    assert_eq!(
        page.items.iter().map(|r| &r.id).collect::<Vec<_>>(),
        vec![&keep.id]
    );

    s.unarchive_experiment(&e.id).await.expect("unarchive");
    assert_eq!(
        s.get_experiment(&e.id).await.expect("e").storage_state,
        StorageState::Available
    );
    assert_eq!(state(&r1.id).await, StorageState::Archived);
    assert!(!s.get_job(&j.id).await.expect("job").enabled);
    assert!(matches!(
        s.archive_experiment("nope").await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn run_lifecycle(db: &TestDb) {
    let s = &db.store;
    let mut ns_exp = s.create_experiment("e", "", "team-a").await.expect("e");
    assert_eq!(ns_exp.last_run_created_at, 0);
    db.set_now(2_000);
    let mut new = run(&ns_exp.id, "r");
    new.pipeline_id = Some("p".into());
    new.job_id = Some(String::new());
    let created = s.create_run(&new).await.expect("create run");
    let r = &created.run;
    assert_eq!(
        (r.created_at, r.scheduled_at, r.finished_at),
        (2_000, 2_000, 0)
    );
    assert_eq!(r.status, "");
    assert_eq!(r.namespace, "team-a", "copied from the experiment");
    assert_eq!(r.job_id, None);
    assert_eq!(created.workflow_status, None);
    assert_eq!(s.get_run(&r.id).await.expect("get"), created);
    ns_exp.last_run_created_at = 2_000;
    assert_eq!(s.get_experiment(&ns_exp.id).await.expect("e"), ns_exp);

    let missing_exp = s.create_run(&run("nope", "x")).await;
    assert!(
        matches!(
            missing_exp,
            Err(StoreError::NotFound {
                kind: "experiment",
                ..
            })
        ),
        "{missing_exp:?}"
    );

    assert_eq!(s.unfinished_runs().await.expect("unfinished").len(), 1);
    let running = RunStatusUpdate {
        status: "Running".into(),
        finished_at: None,
        workflow_status: Some(r#"{"phase":"Running"}"#.into()),
        error: None,
    };
    s.update_run_status(&r.id, &running).await.expect("running");
    // A status-only update keeps the last workflow status.
    let phase_only = RunStatusUpdate {
        status: "Running".into(),
        ..RunStatusUpdate::default()
    };
    s.update_run_status(&r.id, &phase_only)
        .await
        .expect("phase only");
    let got = s.get_run(&r.id).await.expect("get");
    assert_eq!(got.run.status, "Running");
    assert_eq!(
        got.workflow_status.as_deref(),
        Some(r#"{"phase":"Running"}"#)
    );
    let unfinished = s.unfinished_runs().await.expect("unfinished");
    assert_eq!(unfinished, vec![got.run.clone()]);

    let failed = RunStatusUpdate {
        status: "Failed".into(),
        finished_at: Some(2_100),
        workflow_status: Some(r#"{"phase":"Failed"}"#.into()),
        error: Some("step x failed".into()),
    };
    s.update_run_status(&r.id, &failed).await.expect("failed");
    let got = s.get_run(&r.id).await.expect("get");
    assert_eq!(
        (
            got.run.status.as_str(),
            got.run.finished_at,
            got.run.error.as_str()
        ),
        ("Failed", 2_100, "step x failed")
    );
    assert!(s.unfinished_runs().await.expect("unfinished").is_empty());
    assert!(matches!(
        s.update_run_status("nope", &failed).await,
        Err(StoreError::NotFound { kind: "run", .. })
    ));

    s.archive_run(&r.id).await.expect("archive");
    assert_eq!(
        s.get_run(&r.id).await.expect("get").run.storage_state,
        StorageState::Archived
    );
    s.unarchive_run(&r.id).await.expect("unarchive");
    assert_eq!(
        s.get_run(&r.id).await.expect("get").run.storage_state,
        StorageState::Available
    );
    s.delete_run(&r.id).await.expect("delete");
    assert!(matches!(
        s.get_run(&r.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.delete_run(&r.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.archive_run(&r.id).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn delete_experiment_cascades(db: &TestDb) {
    let s = &db.store;
    let e = s.create_experiment("e", "", "").await.expect("e");
    let r = s.create_run(&run(&e.id, "r")).await.expect("run").run;
    let legacy = s.create_run(&run(&e.id, "legacy")).await.expect("run").run;
    // A run stored before `workflow_name` existed: its name is read from its manifest.
    sqlx::query("UPDATE runs SET workflow_name = '' WHERE id = $1")
        .bind(legacy.id.clone())
        .execute(&s.pool)
        .await
        .expect("clear the name");
    let j = s
        .create_job(&job(&e.id, "j", Trigger::Cron("0 * * * * *".into())))
        .await
        .expect("job");
    let mut names = s.delete_experiment(&e.id).await.expect("delete");
    names.sort();
    assert_eq!(
        names,
        ["legacy", "r"],
        "the workflow names of the deleted runs"
    );
    assert!(matches!(
        s.get_run(&r.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.get_job(&j.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.delete_experiment(&e.id).await,
        Err(StoreError::NotFound { .. })
    ));
}

/// Many tasks writing at once: SQLite must queue them (BEGIN IMMEDIATE + busy timeout)
/// rather than fail with "database is locked".
async fn concurrent_writers_all_succeed(db: &TestDb) {
    let e = db.store.create_experiment("e", "", "").await.expect("e");
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = db.store.clone();
        let experiment_id = e.id.clone();
        tasks.push(tokio::spawn(async move {
            let r = s
                .create_run(&run(&experiment_id, &format!("r{i}")))
                .await?
                .run;
            let update = RunStatusUpdate {
                status: "Running".into(),
                ..RunStatusUpdate::default()
            };
            s.update_run_status(&r.id, &update).await?;
            s.report_metrics(
                &r.id,
                &[crate::store::NewMetric {
                    node_id: "n".into(),
                    name: "m".into(),
                    number_value: f64::from(i),
                    format: "RAW".into(),
                }],
            )
            .await?;
            Ok::<_, StoreError>(r.id)
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.expect("task").expect("writes succeed"));
    }
    let scope = RunScope {
        experiment_id: Some(&e.id),
        ..RunScope::default()
    };
    let page = db
        .store
        .list_runs(&query(Resource::Runs, 100), scope)
        .await
        .expect("list");
    assert_eq!(page.total_size, 40);
    assert_eq!(
        db.store.metrics_of_runs(&ids).await.expect("metrics").len(),
        40
    );
    assert_eq!(
        db.store.unfinished_runs().await.expect("unfinished").len(),
        40
    );
}
