//! Pipelines and versions: atomic creation, unique names, cascades, default version.

use super::fixtures::{pipeline, query, version};
use super::harness::TestDb;
use crate::list::Resource;
use crate::store::StoreError;

on_both_backends!(
    migrations_are_idempotent,
    create_pipeline_is_atomic,
    delete_pipeline_cascades,
    default_version_follows_deletes,
);

async fn migrations_are_idempotent(db: &TestDb) {
    let (p, _) = db
        .store
        .create_pipeline(&pipeline("kept"), Some(&version("v1")))
        .await
        .expect("create");
    // Opening again runs the migrator again: nothing to do, data intact.
    let again = db.reopen().await;
    let third = db.reopen().await;
    assert_eq!(again.get_pipeline(&p.id).await.expect("get"), p);
    assert_eq!(third.get_pipeline(&p.id).await.expect("get"), p);
}

async fn create_pipeline_is_atomic(db: &TestDb) {
    let s = &db.store;
    db.set_now(50);
    let (p, v) = s
        .create_pipeline(&pipeline("p"), Some(&version("v1")))
        .await
        .expect("create");
    let v = v.expect("first version");
    assert_eq!(p.default_version_id.as_deref(), Some(v.id.as_str()));
    assert_eq!((p.created_at, v.created_at), (50, 50));
    assert_eq!(s.get_pipeline(&p.id).await.expect("get"), p);
    assert_eq!(s.get_version(&v.id).await.expect("get version"), v);
    assert_eq!(s.get_pipeline_by_name("", "p").await.expect("by name"), p);

    // Same name in the same namespace: AlreadyExists, and no second version either.
    let dup = s
        .create_pipeline(&pipeline("p"), Some(&version("v2")))
        .await;
    assert!(
        matches!(&dup, Err(StoreError::AlreadyExists { kind: "pipeline", name }) if name == "p"),
        "{dup:?}"
    );
    let all = s
        .list_pipelines(&query(Resource::Pipelines, 10), None)
        .await
        .expect("list");
    assert_eq!(all.total_size, 1);
    let versions = s
        .list_versions(&query(Resource::PipelineVersions, 10), &p.id)
        .await
        .expect("list versions");
    assert_eq!(versions.items, vec![v.clone()]);

    // The same name in another namespace is fine.
    let mut other_ns = pipeline("p");
    other_ns.namespace = "team-a".into();
    s.create_pipeline(&other_ns, None)
        .await
        .expect("other namespace");

    // The version insert fails after the pipeline insert: the pipeline is rolled back.
    let bad = s
        .create_pipeline(&pipeline("half"), Some(&version("")))
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))), "{bad:?}");
    assert!(matches!(
        s.get_pipeline_by_name("", "half").await,
        Err(StoreError::NotFound { .. })
    ));
    s.create_pipeline(&pipeline("half"), Some(&version("v1")))
        .await
        .expect("name is free after rollback");

    // Duplicate version name within a pipeline.
    let dup_version = s.add_version(&p.id, &version("v1"), true).await;
    assert!(
        matches!(
            &dup_version,
            Err(StoreError::AlreadyExists {
                kind: "pipeline version",
                ..
            })
        ),
        "{dup_version:?}"
    );
    assert_eq!(
        s.get_pipeline(&p.id).await.expect("get").default_version_id,
        Some(v.id.clone())
    );
    let missing = s.add_version("nope", &version("v9"), false).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
}

async fn delete_pipeline_cascades(db: &TestDb) {
    let s = &db.store;
    let (p, v1) = s
        .create_pipeline(&pipeline("p"), Some(&version("v1")))
        .await
        .expect("create");
    let v1 = v1.expect("v1");
    let v2 = s
        .add_version(&p.id, &version("v2"), false)
        .await
        .expect("v2");
    let (other, _) = s
        .create_pipeline(&pipeline("other"), Some(&version("v1")))
        .await
        .expect("other");

    let refused = s.delete_pipeline(&p.id, false).await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
    s.get_pipeline(&p.id).await.expect("still there");

    s.delete_pipeline(&p.id, true).await.expect("delete");
    for id in [&v1.id, &v2.id] {
        assert!(matches!(
            s.get_version(id).await,
            Err(StoreError::NotFound {
                kind: "pipeline version",
                ..
            })
        ));
    }
    let left = s
        .list_versions(&query(Resource::PipelineVersions, 10), &p.id)
        .await
        .expect("list");
    assert_eq!(left.total_size, 0);
    assert!(matches!(
        s.delete_pipeline(&p.id, true).await,
        Err(StoreError::NotFound {
            kind: "pipeline",
            ..
        })
    ));
    // The other pipeline and its version are untouched.
    let other_versions = s
        .list_versions(&query(Resource::PipelineVersions, 10), &other.id)
        .await
        .expect("list");
    assert_eq!(other_versions.total_size, 1);

    // Without versions, a non-cascading delete works.
    let (empty, _) = s
        .create_pipeline(&pipeline("empty"), None)
        .await
        .expect("create");
    s.delete_pipeline(&empty.id, false)
        .await
        .expect("delete empty");
}

async fn default_version_follows_deletes(db: &TestDb) {
    let s = &db.store;
    db.set_now(10);
    let (p, v1) = s
        .create_pipeline(&pipeline("p"), Some(&version("v1")))
        .await
        .expect("create");
    let v1 = v1.expect("v1");
    db.set_now(20);
    let v2 = s
        .add_version(&p.id, &version("v2"), false)
        .await
        .expect("v2");
    let v3 = s
        .add_version(&p.id, &version("v3"), false)
        .await
        .expect("v3");
    db.set_now(5);
    let v0 = s
        .add_version(&p.id, &version("v0"), true)
        .await
        .expect("v0");
    let default = |id: &str| Some(id.to_string());
    assert_eq!(
        s.get_pipeline(&p.id).await.expect("get").default_version_id,
        default(&v0.id)
    );

    s.set_default_version(&p.id, &v1.id)
        .await
        .expect("set default");
    assert_eq!(
        s.get_pipeline(&p.id).await.expect("get").default_version_id,
        default(&v1.id)
    );

    // Deleting a non-default version leaves the default alone.
    s.delete_version(&v0.id).await.expect("delete v0");
    assert_eq!(
        s.get_pipeline(&p.id).await.expect("get").default_version_id,
        default(&v1.id)
    );

    // Deleting the default picks the newest remaining: v2 and v3 tie on created_at, the
    // larger id wins.
    s.delete_version(&v1.id).await.expect("delete v1");
    let newest = if v2.id > v3.id { &v2 } else { &v3 };
    let older = if v2.id > v3.id { &v3 } else { &v2 };
    assert_eq!(
        s.get_pipeline(&p.id).await.expect("get").default_version_id,
        default(&newest.id)
    );
    s.delete_version(&newest.id).await.expect("delete newest");
    assert_eq!(
        s.get_pipeline(&p.id).await.expect("get").default_version_id,
        default(&older.id)
    );
    s.delete_version(&older.id).await.expect("delete last");
    assert_eq!(
        s.get_pipeline(&p.id).await.expect("get").default_version_id,
        None
    );

    // A version of another pipeline cannot become the default.
    let (q, qv) = s
        .create_pipeline(&pipeline("q"), Some(&version("v1")))
        .await
        .expect("q");
    let qv = qv.expect("qv");
    let wrong = s.set_default_version(&p.id, &qv.id).await;
    assert!(matches!(wrong, Err(StoreError::Invalid(_))), "{wrong:?}");
    let missing = s.set_default_version(&q.id, "nope").await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
    assert!(matches!(
        s.delete_version("nope").await,
        Err(StoreError::NotFound { .. })
    ));
}
