//! Store tests. Every case runs on SQLite and on PostgreSQL (see [`harness`]).

/// For each named `async fn NAME(db: &TestDb)` in the calling module, a `#[tokio::test]`
/// `both::NAME` that runs it once per available backend.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod both {
            $(
                #[tokio::test]
                async fn $name() {
                    for db in crate::store::tests::harness::backends().await {
                        eprintln!("{} on {}", stringify!($name), db.label);
                        super::$name(&db).await;
                    }
                }
            )+
        }
    };
}

mod counts;
mod fixtures;
mod harness;
mod jobs_metrics;
mod listing;
mod pipelines;
mod runs_experiments;
