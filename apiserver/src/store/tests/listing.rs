//! Keyset pagination, filters and counts over ~120 runs, checked against the same
//! selection and order computed in Rust.

use std::collections::HashSet;

use super::fixtures::{pipeline, query, run, version};
use super::harness::TestDb;
use crate::list::{Kind, ListQuery, Op, Page, Predicate, Resource, Sort, Value};
use crate::store::{RunRow, RunScope, StorageState, Store, StoreError};

on_both_backends!(
    runs_page_without_gaps,
    filters_match_rust,
    bad_queries_are_invalid,
    other_resources_page,
);

const STATUSES: [&str; 5] = ["Running", "Succeeded", "Failed", "", "Error"];

/// 120 runs in experiment A (created_at ties in groups of 4, some archived, some with LIKE
/// wildcards in the description) and 10 in experiment B.
async fn seed(db: &TestDb) -> (String, String, Vec<RunRow>) {
    let s = &db.store;
    let a = s.create_experiment("a", "", "").await.expect("a").id;
    let b = s.create_experiment("b", "", "").await.expect("b").id;
    let mut all = Vec::new();
    for i in 0..130_i64 {
        db.set_now(5_000 + i / 4);
        let (exp, name) = if i < 120 {
            (&a, format!("run-{i:03}"))
        } else {
            (&b, format!("other-{i:03}"))
        };
        let mut new = run(exp, &name);
        new.description = if i % 10 == 0 {
            "50%_off".into()
        } else {
            "500 off".into()
        };
        let r = s.create_run(&new).await.expect("create run").run;
        if let Some(status) = STATUSES.get((i % 5) as usize).filter(|s| !s.is_empty()) {
            s.update_run_status(
                &r.id,
                &crate::store::RunStatusUpdate {
                    status: (*status).to_string(),
                    ..Default::default()
                },
            )
            .await
            .expect("status");
        }
        if i % 6 == 0 {
            s.archive_run(&r.id).await.expect("archive");
        }
        all.push(s.get_run(&r.id).await.expect("reload").run);
    }
    (a, b, all)
}

/// Follows `next` until the last page; checks page sizes and that total_size never changes.
async fn collect(s: &Store, first: &ListQuery, scope: RunScope<'_>) -> (Vec<RunRow>, i64) {
    let mut query = first.clone();
    let mut items = Vec::new();
    let mut total = None;
    for _ in 0..1_000 {
        let page: Page<RunRow> = s.list_runs(&query, scope).await.expect("list page");
        assert!(page.items.len() <= query.page_size as usize);
        assert_eq!(*total.get_or_insert(page.total_size), page.total_size);
        let last_page = page.next.is_none();
        if !last_page {
            assert_eq!(
                page.items.len(),
                query.page_size as usize,
                "short page mid-list"
            );
        }
        items.extend(page.items);
        match page.next {
            Some(cursor) => query.after = Some(cursor),
            None => return (items, total.unwrap_or_default()),
        }
    }
    panic!("pagination did not end");
}

fn ids(rows: &[RunRow]) -> Vec<&str> {
    rows.iter().map(|r| r.id.as_str()).collect()
}

/// Rows of `all` passing `keep`, ordered like the store orders them.
fn expected(all: &[RunRow], keep: impl Fn(&RunRow) -> bool, sort: Sort) -> Vec<RunRow> {
    let mut rows: Vec<RunRow> = all.iter().filter(|r| keep(r)).cloned().collect();
    rows.sort_by(|x, y| {
        let by_column = match sort.column {
            "created_at" => x.created_at.cmp(&y.created_at),
            "name" => x.name.cmp(&y.name),
            other => panic!("no Rust order for {other}"),
        };
        let order = by_column.then_with(|| x.id.cmp(&y.id));
        if sort.desc { order.reverse() } else { order }
    });
    rows
}

fn sorted(column: &'static str, kind: Kind, desc: bool) -> Sort {
    Sort { column, kind, desc }
}

async fn runs_page_without_gaps(db: &TestDb) {
    let (a, _, all) = seed(db).await;
    let in_a = |r: &RunRow| r.experiment_id == a;
    let scope = RunScope {
        experiment_id: Some(&a),
        ..RunScope::default()
    };
    for (page_size, desc) in [
        (7, false),
        (11, true),
        (1, false),
        (120, true),
        (200, false),
    ] {
        let mut q = query(Resource::Runs, page_size);
        q.sort.desc = desc;
        let (got, total) = collect(&db.store, &q, scope).await;
        let want = expected(&all, in_a, q.sort);
        assert_eq!(total, 120);
        assert_eq!(ids(&got), ids(&want), "page size {page_size}, desc {desc}");
        let unique: HashSet<&str> = ids(&got).into_iter().collect();
        assert_eq!(unique.len(), 120, "no duplicates");
    }
    // created_at really has ties, so the id tie-break was exercised.
    let mut stamps: Vec<i64> = all.iter().map(|r| r.created_at).collect();
    stamps.dedup();
    assert!(stamps.len() < all.len());

    // Unscoped: both experiments.
    let (got, total) = collect(&db.store, &query(Resource::Runs, 13), RunScope::default()).await;
    assert_eq!((got.len(), total), (130, 130));
}

async fn filters_match_rust(db: &TestDb) {
    let (a, b, all) = seed(db).await;
    let s = &db.store;
    let scope_a = RunScope {
        experiment_id: Some(&a),
        ..RunScope::default()
    };
    let pred = |column: &'static str, op: Op, value: Value| Predicate { column, op, value };
    let check = |predicates: Vec<Predicate>,
                 sort: Sort,
                 page_size: u32,
                 keep: Box<dyn Fn(&RunRow) -> bool>| {
        let all = &all;
        let a = &a;
        async move {
            let q = ListQuery {
                predicates,
                sort,
                page_size,
                after: None,
                known_total: None,
            };
            let (got, total) = collect(s, &q, scope_a).await;
            let want = expected(all, |r| r.experiment_id == *a && keep(r), sort);
            assert_eq!(ids(&got), ids(&want), "{q:?}");
            assert_eq!(total, want.len() as i64, "{q:?}");
            want.len()
        }
    };
    let by_created = sorted("created_at", Kind::Timestamp, false);

    // IN over status, sorted by name descending.
    let n = check(
        vec![pred(
            "status",
            Op::In,
            Value::Texts(vec!["Running".into(), "Failed".into()]),
        )],
        sorted("name", Kind::Text, true),
        9,
        Box::new(|r| r.status == "Running" || r.status == "Failed"),
    )
    .await;
    assert_eq!(n, 48);
    // Empty IN matches nothing.
    let n = check(
        vec![pred("status", Op::In, Value::Texts(vec![]))],
        by_created,
        5,
        Box::new(|_| false),
    )
    .await;
    assert_eq!(n, 0);
    // IS_SUBSTRING takes % and _ literally...
    let n = check(
        vec![pred(
            "description",
            Op::IsSubstring,
            Value::Text("0%_".into()),
        )],
        by_created,
        4,
        Box::new(|r| r.description.contains("0%_")),
    )
    .await;
    assert_eq!(n, 12);
    // ...and ignores case, like KFP on MySQL.
    let n = check(
        vec![pred("name", Op::IsSubstring, Value::Text("RUN-01".into()))],
        by_created,
        3,
        Box::new(|r| r.name.starts_with("run-01")),
    )
    .await;
    assert_eq!(n, 10);
    // The UI's active/archived split.
    let active = check(
        vec![pred(
            "storage_state",
            Op::NotEquals,
            Value::Text("ARCHIVED".into()),
        )],
        by_created,
        25,
        Box::new(|r| r.storage_state != StorageState::Archived),
    )
    .await;
    let archived = check(
        vec![pred(
            "storage_state",
            Op::Equals,
            Value::Text("ARCHIVED".into()),
        )],
        by_created,
        25,
        Box::new(|r| r.storage_state == StorageState::Archived),
    )
    .await;
    assert_eq!((active, archived), (100, 20));
    // A time window, descending, AND-ed with a status.
    let n = check(
        vec![
            pred("created_at", Op::GreaterThan, Value::Int(5_005)),
            pred("created_at", Op::LessThanEquals, Value::Int(5_020)),
            pred("status", Op::NotEquals, Value::Text(String::new())),
        ],
        sorted("created_at", Kind::Timestamp, true),
        6,
        Box::new(|r| r.created_at > 5_005 && r.created_at <= 5_020 && !r.status.is_empty()),
    )
    .await;
    assert!(n > 0);
    // An id lookup by IN (how the UI fetches a set of runs).
    let some: Vec<String> = all.iter().step_by(17).map(|r| r.id.clone()).collect();
    let wanted: HashSet<String> = some.iter().cloned().collect();
    let n = check(
        vec![pred("id", Op::In, Value::Texts(some))],
        by_created,
        2,
        Box::new(move |r| wanted.contains(&r.id)),
    )
    .await;
    assert!(n > 0);

    // Scopes combine with filters; B's runs are never in A's lists.
    let q = ListQuery {
        predicates: vec![pred("name", Op::IsSubstring, Value::Text("other".into()))],
        ..query(Resource::Runs, 50)
    };
    let in_a = s.list_runs(&q, scope_a).await.expect("list");
    assert_eq!(in_a.total_size, 0);
    let scope_b = RunScope {
        experiment_id: Some(&b),
        ..RunScope::default()
    };
    assert_eq!(s.list_runs(&q, scope_b).await.expect("list").total_size, 10);
    let ns = RunScope {
        namespace: Some("nobody"),
        ..RunScope::default()
    };
    assert_eq!(s.list_runs(&q, ns).await.expect("list").total_size, 0);
}

async fn bad_queries_are_invalid(db: &TestDb) {
    let s = &db.store;
    let mut q = query(Resource::Runs, 0);
    let invalid = |r: Result<Page<RunRow>, StoreError>| matches!(r, Err(StoreError::Invalid(_)));
    assert!(invalid(s.list_runs(&q, RunScope::default()).await));
    q.page_size = 201;
    assert!(invalid(s.list_runs(&q, RunScope::default()).await));
    q.page_size = 10;
    q.sort.column = "workflow_manifest";
    assert!(invalid(s.list_runs(&q, RunScope::default()).await));
    let mut q = query(Resource::Runs, 10);
    q.predicates.push(Predicate {
        column: "finished_at",
        op: Op::IsSubstring,
        value: Value::Text("1".into()),
    });
    assert!(invalid(s.list_runs(&q, RunScope::default()).await));
    let mut q = query(Resource::Runs, 10);
    q.after = Some(crate::list::Cursor {
        sort_value: crate::list::CursorValue::Text("x".into()),
        id: "y".into(),
    });
    assert!(invalid(s.list_runs(&q, RunScope::default()).await));
}

async fn other_resources_page(db: &TestDb) {
    let s = &db.store;
    let mut pipeline_ids = Vec::new();
    for i in 0..9_i64 {
        db.set_now(100 + i / 3);
        let (p, _) = s
            .create_pipeline(&pipeline(&format!("p{i}")), Some(&version("v")))
            .await
            .expect("pipeline");
        pipeline_ids.push(p.id);
        s.create_experiment(&format!("e{i}"), "", "")
            .await
            .expect("experiment");
    }
    let by_name_desc = ListQuery {
        sort: sorted("name", Kind::Text, true),
        ..query(Resource::Pipelines, 4)
    };
    let mut names = Vec::new();
    let mut q = by_name_desc.clone();
    loop {
        let page = s.list_pipelines(&q, Some("")).await.expect("pipelines");
        assert_eq!(page.total_size, 9);
        names.extend(page.items.into_iter().map(|p| p.name));
        match page.next {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    let want: Vec<String> = (0..9).rev().map(|i| format!("p{i}")).collect();
    assert_eq!(names, want);

    let mut q = query(Resource::Experiments, 2);
    let mut seen = 0;
    loop {
        let page = s.list_experiments(&q, None).await.expect("experiments");
        seen += page.items.len();
        match page.next {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, 9);
    let versions = s
        .list_versions(&query(Resource::PipelineVersions, 5), &pipeline_ids[0])
        .await
        .expect("versions");
    assert_eq!((versions.items.len(), versions.total_size), (1, 1));
    assert_eq!(versions.items[0].name, "v");
}
