//! `total_size` of run lists read from the kept counts (the experiments' `available_runs`
//! and `archived_runs`): exact after every kind of write, equal to a COUNT(*) of the same
//! selection, also under concurrent writers and after the migration backfills the counts
//! of runs stored before it.

use std::collections::BTreeMap;

use sqlx::{AssertSqlSafe, Row};

use super::fixtures::{query, run};
use super::harness::TestDb;
use crate::list::{Op, Predicate, Resource, Value};
use crate::store::{RunScope, Store, StoreError};

on_both_backends!(
    totals_follow_every_write,
    totals_exact_under_concurrent_writers,
    experiment_writes_race_run_writes,
    migration_backfills_counts,
);

/// A run as the test expects it to be stored.
#[derive(Debug, Clone)]
struct Expected {
    id: String,
    name: String,
    experiment_id: String,
    namespace: String,
    archived: bool,
}

/// The runs the test believes exist, changed alongside each store call.
#[derive(Debug, Default)]
struct Model {
    runs: Vec<Expected>,
}

impl Model {
    fn add(&mut self, row: &crate::store::RunRow) {
        self.runs.push(Expected {
            id: row.id.clone(),
            name: row.name.clone(),
            experiment_id: row.experiment_id.clone(),
            namespace: row.namespace.clone(),
            archived: false,
        });
    }

    fn set_archived(&mut self, id: &str, archived: bool) {
        for r in self.runs.iter_mut().filter(|r| r.id == id) {
            r.archived = archived;
        }
    }

    fn archive_experiment(&mut self, experiment_id: &str) {
        for r in self.runs.iter_mut() {
            if r.experiment_id == experiment_id {
                r.archived = true;
            }
        }
    }

    fn remove(&mut self, id: &str) {
        self.runs.retain(|r| r.id != id);
    }

    fn remove_experiment(&mut self, experiment_id: &str) {
        self.runs.retain(|r| r.experiment_id != experiment_id);
    }

    fn of(&self, experiment_id: &str) -> Vec<Expected> {
        self.runs
            .iter()
            .filter(|r| r.experiment_id == experiment_id)
            .cloned()
            .collect()
    }
}

/// One list selection: its scope and filter, and the same selection in Rust.
struct Case {
    label: &'static str,
    experiment_id: Option<String>,
    namespace: Option<String>,
    job_id: Option<String>,
    predicates: Vec<Predicate>,
    keep: Box<dyn Fn(&Expected) -> bool>,
}

fn eq(column: &'static str, value: &str) -> Predicate {
    Predicate {
        column,
        op: Op::Equals,
        value: Value::Text(value.to_string()),
    }
}

/// Selections the counts answer (scope and filter on experiment, namespace and storage
/// state only) and some that count runs (any other column).
fn cases(a: &str, b: &str) -> Vec<Case> {
    let (a, b) = (a.to_string(), b.to_string());
    let (a1, a2, a3, b1) = (a.clone(), a.clone(), a.clone(), b.clone());
    let (ab_a, ab_b) = (a.clone(), b.clone());
    vec![
        Case {
            label: "all runs",
            experiment_id: None,
            namespace: None,
            job_id: None,
            predicates: vec![],
            keep: Box::new(|_| true),
        },
        Case {
            label: "experiment a",
            experiment_id: Some(a.clone()),
            namespace: None,
            job_id: None,
            predicates: vec![],
            keep: Box::new(move |r| r.experiment_id == a1),
        },
        Case {
            label: "experiment a, available",
            experiment_id: Some(a.clone()),
            namespace: None,
            job_id: None,
            predicates: vec![eq("storage_state", "AVAILABLE")],
            keep: Box::new(move |r| r.experiment_id == a2 && !r.archived),
        },
        Case {
            label: "experiment b, archived",
            experiment_id: Some(b.clone()),
            namespace: None,
            job_id: None,
            predicates: vec![eq("storage_state", "ARCHIVED")],
            keep: Box::new(move |r| r.experiment_id == b1 && r.archived),
        },
        Case {
            label: "filter experiment_id = b (no scope)",
            experiment_id: None,
            namespace: None,
            job_id: None,
            predicates: vec![eq("experiment_id", &b)],
            keep: {
                let b = b.clone();
                Box::new(move |r| r.experiment_id == b)
            },
        },
        Case {
            label: "storage_state != ARCHIVED",
            experiment_id: None,
            namespace: None,
            job_id: None,
            predicates: vec![Predicate {
                column: "storage_state",
                op: Op::NotEquals,
                value: Value::Text("ARCHIVED".into()),
            }],
            keep: Box::new(|r| !r.archived),
        },
        Case {
            label: "archived anywhere",
            experiment_id: None,
            namespace: None,
            job_id: None,
            predicates: vec![eq("storage_state", "ARCHIVED")],
            keep: Box::new(|r| r.archived),
        },
        Case {
            label: "experiment_id IN (a, b)",
            experiment_id: None,
            namespace: None,
            job_id: None,
            predicates: vec![Predicate {
                column: "experiment_id",
                op: Op::In,
                value: Value::Texts(vec![a.clone(), b.clone()]),
            }],
            keep: Box::new(move |r| r.experiment_id == ab_a || r.experiment_id == ab_b),
        },
        Case {
            label: "namespace team",
            experiment_id: None,
            namespace: Some("team".into()),
            job_id: None,
            predicates: vec![],
            keep: Box::new(|r| r.namespace == "team"),
        },
        Case {
            label: "namespace '', available",
            experiment_id: None,
            namespace: Some(String::new()),
            job_id: None,
            predicates: vec![eq("storage_state", "AVAILABLE")],
            keep: Box::new(|r| r.namespace.is_empty() && !r.archived),
        },
        // These name other columns: COUNT(*) over the runs.
        Case {
            label: "experiment a, name contains 1 (counted)",
            experiment_id: Some(a.clone()),
            namespace: None,
            job_id: None,
            predicates: vec![Predicate {
                column: "name",
                op: Op::IsSubstring,
                value: Value::Text("1".into()),
            }],
            keep: Box::new(move |r| r.experiment_id == a3 && r.name.contains('1')),
        },
        Case {
            label: "job '' scope, archived (counted)",
            experiment_id: None,
            namespace: None,
            job_id: Some(String::new()),
            predicates: vec![eq("storage_state", "ARCHIVED")],
            keep: Box::new(|r| r.archived),
        },
    ]
}

/// `total_size` of a first page.
async fn total(s: &Store, case: &Case, extra: Option<Predicate>) -> i64 {
    let mut q = query(Resource::Runs, 1);
    q.predicates = case.predicates.clone();
    q.predicates.extend(extra);
    let scope = RunScope {
        experiment_id: case.experiment_id.as_deref(),
        namespace: case.namespace.as_deref(),
        job_id: case.job_id.as_deref(),
        pipeline_version_id: None,
    };
    s.list_runs(&q, scope).await.expect("list runs").total_size
}

/// Every case's `total_size` equals the model's count and a COUNT(*) of the same
/// selection (the case plus an always-true filter on a column the counts do not have);
/// and the kept counts equal the runs grouped and counted.
async fn check(db: &TestDb, model: &Model, a: &str, b: &str, step: &str) {
    for case in cases(a, b) {
        let expected = model.runs.iter().filter(|r| (case.keep)(r)).count() as i64;
        let listed = total(&db.store, &case, None).await;
        let always_true = Predicate {
            column: "created_at",
            op: Op::GreaterThanEquals,
            value: Value::Int(0),
        };
        let counted = total(&db.store, &case, Some(always_true)).await;
        assert_eq!(
            (listed, counted),
            (expected, expected),
            "{} after {step}: (total_size, COUNT(*)) vs the expected count, {}",
            case.label,
            db.label
        );
    }
    assert_counts_match_runs(db, step).await;
}

/// The experiments' counts (zeros aside) are the runs grouped by experiment, storage state
/// and namespace (the experiment's, on both sides).
async fn assert_counts_match_runs(db: &TestDb, step: &str) {
    let read = |sql: &'static str| async move {
        sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&db.store.pool)
            .await
            .expect("read counts")
            .iter()
            .map(|row| {
                let key: (String, String, String) = (
                    row.try_get("experiment_id").expect("experiment_id"),
                    row.try_get("storage_state").expect("storage_state"),
                    row.try_get("namespace").expect("namespace"),
                );
                (key, row.try_get::<i64, _>("n").expect("n"))
            })
            .filter(|(_, n)| *n != 0)
            .collect::<BTreeMap<_, _>>()
    };
    let kept = read(
        "SELECT id AS experiment_id, 'AVAILABLE' AS storage_state, namespace, \
         available_runs AS n FROM experiments \
         UNION ALL SELECT id, 'ARCHIVED', namespace, archived_runs FROM experiments",
    )
    .await;
    let counted = read(
        "SELECT experiment_id, storage_state, namespace, COUNT(*) AS n FROM runs \
         GROUP BY experiment_id, storage_state, namespace",
    )
    .await;
    assert_eq!(
        kept, counted,
        "kept counts vs runs after {step} on {}",
        db.label
    );
}

async fn totals_follow_every_write(db: &TestDb) {
    let s = &db.store;
    let a = s.create_experiment("a", "", "").await.expect("a").id;
    let b = s.create_experiment("b", "", "team").await.expect("b").id;
    let mut m = Model::default();
    check(db, &m, &a, &b, "no runs").await;

    for i in 0..12 {
        let r = s
            .create_run(&run(&a, &format!("a-{i}")))
            .await
            .expect("run");
        m.add(&r.run);
    }
    for i in 0..5 {
        let r = s
            .create_run(&run(&b, &format!("b-{i}")))
            .await
            .expect("run");
        m.add(&r.run);
    }
    check(db, &m, &a, &b, "create").await;

    let in_a = m.of(&a);
    let in_b = m.of(&b);
    for r in [&in_a[0], &in_a[1], &in_a[2], &in_b[0]] {
        s.archive_run(&r.id).await.expect("archive");
        m.set_archived(&r.id, true);
    }
    check(db, &m, &a, &b, "archive").await;

    // Archiving an archived run, or unarchiving an available one, changes nothing.
    s.archive_run(&in_a[0].id).await.expect("archive again");
    s.unarchive_run(&in_a[5].id)
        .await
        .expect("unarchive available");
    check(db, &m, &a, &b, "archive and unarchive that change nothing").await;

    s.unarchive_run(&in_a[1].id).await.expect("unarchive");
    m.set_archived(&in_a[1].id, false);
    check(db, &m, &a, &b, "unarchive").await;

    // One archived and one available run go.
    s.delete_run(&in_a[0].id).await.expect("delete archived");
    m.remove(&in_a[0].id);
    s.delete_run(&in_b[1].id).await.expect("delete available");
    m.remove(&in_b[1].id);
    check(db, &m, &a, &b, "delete").await;

    // Failed calls change nothing.
    for result in [
        s.delete_run(&in_a[0].id).await,
        s.archive_run("no-such-run").await,
        s.unarchive_run("no-such-run").await,
        s.archive_experiment("no-such-experiment").await,
        s.delete_experiment("no-such-experiment").await.map(drop),
    ] {
        assert!(
            matches!(result, Err(StoreError::NotFound { .. })),
            "{result:?}"
        );
    }
    assert!(s.create_run(&run("no-such-experiment", "x")).await.is_err());
    check(db, &m, &a, &b, "calls that fail").await;

    s.archive_experiment(&b).await.expect("archive experiment");
    m.archive_experiment(&b);
    check(db, &m, &a, &b, "archive experiment").await;

    // A run created in an archived experiment is available; unarchiving the experiment
    // leaves its runs archived.
    let late = s.create_run(&run(&b, "b-late")).await.expect("late run");
    m.add(&late.run);
    s.unarchive_experiment(&b)
        .await
        .expect("unarchive experiment");
    check(
        db,
        &m,
        &a,
        &b,
        "create in archived experiment, unarchive it",
    )
    .await;

    s.archive_experiment(&b)
        .await
        .expect("archive experiment again");
    m.archive_experiment(&b);
    check(db, &m, &a, &b, "archive experiment again").await;

    s.delete_experiment(&b).await.expect("delete experiment");
    m.remove_experiment(&b);
    check(db, &m, &a, &b, "delete experiment").await;
    // A new experiment with the deleted one's runs gone, and the first one's runs all gone.
    let c = s.create_experiment("c", "", "team").await.expect("c").id;
    let r = s.create_run(&run(&c, "c-0")).await.expect("run");
    m.add(&r.run);
    for r in m.of(&a) {
        s.delete_run(&r.id).await.expect("delete");
        m.remove(&r.id);
    }
    check(db, &m, &a, &c, "delete every run of a").await;
}

/// Tasks creating, archiving, unarchiving and deleting runs (some the same runs), one
/// archiving and unarchiving the experiments meanwhile, others writing runs of a third
/// experiment while it is deleted: every call succeeds (no deadlock on PostgreSQL; a run
/// deleted twice is not found once; writes to the deleted experiment may fail, but not by
/// deadlock) and the counts end exact.
async fn totals_exact_under_concurrent_writers(db: &TestDb) {
    let a = db.store.create_experiment("a", "", "").await.expect("a").id;
    let b = db
        .store
        .create_experiment("b", "", "team")
        .await
        .expect("b")
        .id;
    let mut shared = Vec::new();
    for i in 0..8 {
        let experiment = if i % 2 == 0 { &a } else { &b };
        let r = db
            .store
            .create_run(&run(experiment, &format!("shared-{i}")))
            .await
            .expect("run");
        shared.push(r.run.id);
    }
    let mut tasks = Vec::new();
    for t in 0..8_usize {
        let s = db.store.clone();
        let (a, b) = (a.clone(), b.clone());
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..6_usize {
                let experiment = if (t + i) % 3 == 0 { &b } else { &a };
                let own = s
                    .create_run(&run(experiment, &format!("t{t}-{i}")))
                    .await?
                    .run
                    .id;
                s.archive_run(&own).await?;
                if i % 2 == 0 {
                    s.unarchive_run(&own).await?;
                }
                if i % 3 == 0 {
                    s.delete_run(&own).await?;
                }
                // Runs every task toggles and tries to delete.
                let other = &shared[(t + i) % shared.len()];
                let toggled = if (t + i) % 2 == 0 {
                    s.archive_run(other).await
                } else {
                    s.unarchive_run(other).await
                };
                let deleted = if i == 5 {
                    s.delete_run(other).await
                } else {
                    Ok(())
                };
                for result in [toggled, deleted] {
                    match result {
                        Ok(()) | Err(StoreError::NotFound { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Ok::<_, StoreError>(())
        }));
    }
    let doomed = db
        .store
        .create_experiment("doomed", "", "")
        .await
        .expect("c")
        .id;
    let mut doomed_runs = Vec::new();
    for i in 0..6 {
        let r = db.store.create_run(&run(&doomed, &format!("d{i}"))).await;
        doomed_runs.push(r.expect("run").run.id);
    }
    for t in 0..3_usize {
        let s = db.store.clone();
        let doomed = doomed.clone();
        let doomed_runs = doomed_runs.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..4_usize {
                let r = &doomed_runs[(t + i) % doomed_runs.len()];
                let results = [
                    s.create_run(&run(&doomed, &format!("d{t}-{i}")))
                        .await
                        .map(|_| ()),
                    s.archive_run(r).await,
                    s.unarchive_run(r).await,
                    if i == 3 {
                        s.delete_run(r).await
                    } else {
                        Ok(())
                    },
                ];
                for result in results {
                    // The experiment going away may make any of them fail, but not a
                    // deadlock.
                    if let Err(e) = result
                        && e.to_string().contains("deadlock")
                    {
                        return Err(e);
                    }
                }
            }
            Ok(())
        }));
    }
    {
        let s = db.store.clone();
        tasks.push(tokio::spawn(async move {
            tokio::task::yield_now().await;
            s.delete_experiment(&doomed).await.map(drop)
        }));
    }
    {
        let s = db.store.clone();
        let (a, b) = (a.clone(), b.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..3 {
                s.archive_experiment(&b).await?;
                s.archive_experiment(&a).await?;
                s.unarchive_experiment(&a).await?;
            }
            Ok(())
        }));
    }
    for task in tasks {
        task.await.expect("task").expect("writes succeed");
    }

    // The model is what the database holds now; the totals must agree with it.
    let mut m = Model::default();
    for row in sqlx::query("SELECT id, name, experiment_id, namespace, storage_state FROM runs")
        .fetch_all(&db.store.pool)
        .await
        .expect("runs")
    {
        m.runs.push(Expected {
            id: row.try_get("id").expect("id"),
            name: row.try_get("name").expect("name"),
            experiment_id: row.try_get("experiment_id").expect("experiment_id"),
            namespace: row.try_get("namespace").expect("namespace"),
            archived: row.try_get::<String, _>("storage_state").expect("state") == "ARCHIVED",
        });
    }
    assert!(m.runs.len() > 8, "{} runs left", m.runs.len());
    assert!(
        m.runs
            .iter()
            .all(|r| r.experiment_id == a || r.experiment_id == b),
        "runs of the deleted experiment left"
    );
    check(db, &m, &a, &b, "concurrent writers").await;
}

/// Rounds of an experiment deleted, or archived, while its runs are archived, unarchived
/// and deleted: a run write locks the run and then the experiment row (its counts), so the
/// experiment-wide writes must lock the runs first too, or PostgreSQL finds a deadlock.
async fn experiment_writes_race_run_writes(db: &TestDb) {
    for round in 0..8 {
        let e = db
            .store
            .create_experiment(&format!("e{round}"), "", "")
            .await
            .expect("e")
            .id;
        let mut runs = Vec::new();
        for i in 0..8 {
            let r = db.store.create_run(&run(&e, &format!("r{i}"))).await;
            runs.push(r.expect("run").run.id);
        }
        // Half the runs archived, so unarchiving has something to do.
        for r in runs.iter().step_by(2) {
            db.store.archive_run(r).await.expect("archive");
        }
        let mut tasks = Vec::new();
        for (i, r) in runs.into_iter().enumerate() {
            let s = db.store.clone();
            tasks.push(tokio::spawn(async move {
                match i % 3 {
                    0 => s.archive_run(&r).await,
                    1 => s.unarchive_run(&r).await,
                    _ => s.delete_run(&r).await,
                }
            }));
        }
        let s = db.store.clone();
        let experiment = e.clone();
        tasks.push(tokio::spawn(async move {
            if round % 2 == 0 {
                s.delete_experiment(&experiment).await.map(drop)
            } else {
                s.archive_experiment(&experiment).await
            }
        }));
        for task in tasks {
            match task.await.expect("task") {
                Ok(()) | Err(StoreError::NotFound { .. }) => {}
                Err(e) => panic!("round {round} on {}: {e}", db.label),
            }
        }
    }
    assert_counts_match_runs(db, "experiment writes racing run writes").await;
}

/// Runs stored before the counts existed are counted when the migration adds them.
async fn migration_backfills_counts(db: &TestDb) {
    let s = &db.store;
    let a = s.create_experiment("a", "", "").await.expect("a").id;
    let b = s.create_experiment("b", "", "team").await.expect("b").id;
    let mut m = Model::default();
    for i in 0..9 {
        let experiment = if i % 3 == 0 { &b } else { &a };
        let r = s
            .create_run(&run(experiment, &format!("r{i}")))
            .await
            .expect("run");
        m.add(&r.run);
    }
    for r in m.runs.clone().iter().step_by(2) {
        s.archive_run(&r.id).await.expect("archive");
        m.set_archived(&r.id, true);
    }
    // Back to the schema before the migration: no columns, migration not applied.
    for sql in [
        "ALTER TABLE experiments DROP COLUMN available_runs",
        "ALTER TABLE experiments DROP COLUMN archived_runs",
        "DELETE FROM _sqlx_migrations WHERE version = 20260301000000",
    ] {
        sqlx::query(sql).execute(&s.pool).await.expect(sql);
    }
    // Opening a store runs the pending migration.
    let migrated = db.reopen().await;
    for case in cases(&a, &b) {
        let expected = m.runs.iter().filter(|r| (case.keep)(r)).count() as i64;
        assert_eq!(
            total(&migrated, &case, None).await,
            expected,
            "{} after the backfill on {}",
            case.label,
            db.label
        );
    }
    migrated.close().await;
    assert_counts_match_runs(db, "the backfill").await;
}
