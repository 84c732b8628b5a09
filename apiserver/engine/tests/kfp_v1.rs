//! Workflows compiled by the KFP v1 Python SDK (1.8.22, checked in under
//! compiler/tests/data/workflows/kfp-v1 with their sources) run unchanged.

use kfp::argo::{NodePhase, WorkflowPhase, WorkflowStatus};
use kfp_engine::{Engine, EngineConfig, RunOptions};

async fn run(file: &str, parameters: &[(&str, &str)]) -> WorkflowStatus {
    let path = format!(
        "{}/../../compiler/tests/data/workflows/kfp-v1/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("test data is readable");
    let workflow = Engine::load_yaml(&text, file).unwrap_or_else(|e| panic!("{e}"));
    let root = tempfile::tempdir().expect("temp dir");
    let engine = Engine::new(EngineConfig::new(root.path()));
    let options = RunOptions {
        parameters: parameters
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..RunOptions::default()
    };
    engine
        .start(workflow, options)
        .unwrap_or_else(|e| panic!("{e}"))
        .wait()
        .await
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_passing() {
    let status = run("data_passing.yaml", &[]).await;
    assert_eq!(
        status.phase,
        WorkflowPhase::Succeeded,
        "{}",
        describe(&status)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn condition() {
    let status = run("condition.yaml", &[]).await;
    assert_eq!(
        status.phase,
        WorkflowPhase::Succeeded,
        "{}",
        describe(&status)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_handler() {
    let status = run("exit_handler.yaml", &[]).await;
    println!("{}", describe(&status));
    assert!(
        status
            .nodes
            .values()
            .any(|n| n.name.ends_with(".onExit") && n.phase == NodePhase::Succeeded),
        "{}",
        describe(&status)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_for() {
    let status = run("parallel_for.yaml", &[]).await;
    assert_eq!(
        status.phase,
        WorkflowPhase::Succeeded,
        "{}",
        describe(&status)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volume_op_needs_the_cluster_backend() {
    // VolumeOp is a resource template (it creates a PersistentVolumeClaim).
    let status = run("volume_op.yaml", &[]).await;
    assert_eq!(status.phase, WorkflowPhase::Error, "{}", describe(&status));
    assert!(
        status.nodes.values().any(|n| n.phase == NodePhase::Error
            && n.message
                .as_deref()
                .is_some_and(|m| m.contains("Kubernetes backend"))),
        "{}",
        describe(&status)
    );
}
