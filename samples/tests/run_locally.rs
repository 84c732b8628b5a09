//! Every sample runs on the local engine and ends as designed: all succeed except
//! `resource`, whose Kubernetes resource step needs the cluster backend and says so.
//! Rust-function components run through this package's `pipelines` binary, as `kfp run
//! --package samples --bin pipelines` does.

use std::path::PathBuf;

use kfp::argo::{NodePhase, WorkflowPhase, WorkflowStatus};
use kfp_engine::{Engine, EngineConfig, RunOptions};

async fn run_sample(name: &str) -> (WorkflowStatus, tempfile::TempDir) {
    let build = samples::all()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| b)
        .unwrap_or_else(|| panic!("no sample {name}"));
    let yaml = kfp::compile_to_yaml(&build()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let workflow = Engine::load_yaml(&yaml, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let root = tempfile::tempdir().expect("temp dir");
    let mut config = EngineConfig::new(root.path());
    // The settings sample reads a Secret and a ConfigMap; locally their values come from
    // the engine's environment.
    config.env.push(("API_TOKEN".into(), "local-token".into()));
    config.env.push(("EXPERIMENT".into(), "local".into()));
    let engine = Engine::new(config);
    let options = RunOptions {
        function_binary: Some(PathBuf::from(env!("CARGO_BIN_EXE_pipelines"))),
        ..RunOptions::default()
    };
    let handle = engine
        .start(workflow, options)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    (handle.wait().await, root)
}

fn describe(status: &WorkflowStatus) -> String {
    let mut lines = vec![format!("workflow {:?} {:?}", status.phase, status.message)];
    for n in status.nodes.values() {
        lines.push(format!(
            "  {} [{}] {} {}",
            n.name,
            n.node_type,
            n.phase,
            n.message.clone().unwrap_or_default()
        ));
    }
    lines.join("\n")
}

macro_rules! succeeds {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (status, _root) = run_sample(stringify!($name)).await;
            assert_eq!(status.phase, WorkflowPhase::Succeeded, "{}", describe(&status));
        }
    )*};
}

succeeds!(
    hello_world,
    data_passing,
    flip_coin,
    loops,
    exit_handler,
    sub_pipeline,
    settings,
    better_than_kfp,
    hello_macros,
    rust_functions,
    mixed_components,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_needs_the_cluster_backend() {
    let (status, _root) = run_sample("resource").await;
    assert_eq!(status.phase, WorkflowPhase::Error, "{}", describe(&status));
    let failed: Vec<_> = status
        .nodes
        .values()
        .filter(|n| {
            n.phase == NodePhase::Error
                && n.message
                    .as_deref()
                    .is_some_and(|m| m.contains("Kubernetes backend"))
        })
        .collect();
    assert!(!failed.is_empty(), "{}", describe(&status));
}
