use kfp_engine::{Engine, EngineConfig, RunOptions};

#[tokio::test]
async fn diamond_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../compiler/tests/data/workflows/argo/dag-diamond.yaml"
    ))
    .expect("read");
    let wf = Engine::load_yaml(&text, "dag-diamond.yaml").expect("valid");
    let engine = Engine::new(EngineConfig::new(dir.path()));
    let handle = engine.start(wf, RunOptions::default()).expect("start");
    let status = handle.wait().await;
    println!("{}", serde_json::to_string_pretty(&status).expect("json"));
    assert_eq!(status.phase, kfp::argo::WorkflowPhase::Succeeded);
}
