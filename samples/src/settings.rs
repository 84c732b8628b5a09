//! Kubernetes settings of tasks and of the whole run.
//!
//! The `train` component carries defaults every task of it gets (CPU/memory requests and
//! limits, an environment variable); the task adds or overrides the rest: a GPU, variables
//! from a Secret and a ConfigMap, a node selector and a toleration for GPU nodes, a PVC
//! mounted at `/mnt/data`, retries with exponential backoff, a timeout, caching off, pod
//! labels and annotations, the image pull policy, and a Redis sidecar the training script
//! uses as a cache.
//!
//! The pipeline sets workflow-wide limits: at most 4 pods at once, a 2-hour deadline, the
//! finished workflow deleted after a day, its service account and image pull secret.

use std::time::Duration;

use kfp::argo::Container;
use kfp::prelude::*;

/// Trains from the data on `/mnt/data`; requests 1 CPU / 2 GiB, limited to 2 CPU / 4 GiB.
pub fn train() -> Component {
    Component::container("train", "python:3.12-slim")
        .description("Train on the mounted data set (simulated)")
        .input(InputSpec::integer("epochs"))
        .output(OutputSpec::float("loss"))
        .command([
            "python3",
            "-c",
            r#"import os, sys
epochs, out = int(sys.argv[1]), sys.argv[2]
data = os.environ.get("DATA_DIR", "/mnt/data")
print(f"training for {epochs} epochs on {data}")
print(f"cache at {os.environ.get('REDIS_HOST', '(none)')}, log level {os.environ.get('LOG_LEVEL', 'info')}")
print("credentials present:", bool(os.environ.get("API_TOKEN")))
loss = round(1.0 / (1 + epochs), 4)
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    f.write(str(loss))
"#,
        ])
        .args([input_value("epochs"), output_path("loss")])
        .cpu_request("1")
        .memory_request("2Gi")
        .cpu_limit("2")
        .memory_limit("4Gi")
        .env("DATA_DIR", "/mnt/data")
}

/// A Redis container beside the main one, reachable on `localhost:6379`.
pub fn redis_sidecar() -> Container {
    Container {
        name: Some("cache".into()),
        image: "redis:7-alpine".into(),
        command: vec!["redis-server".into(), "--save".into(), String::new()],
        ..Container::default()
    }
}

/// `settings(epochs = 10)`: one heavily configured task.
pub fn pipeline() -> Pipeline {
    let mut p =
        Pipeline::new("settings").description("Every Kubernetes setting of a task and of a run");
    p.settings_mut()
        .parallelism(4)
        .timeout(Duration::from_secs(2 * 60 * 60))
        .ttl_after_finished(Duration::from_secs(24 * 60 * 60))
        .service_account("pipeline-runner")
        .image_pull_secret("registry-credentials");
    // Not yet: `.pod_gc(PodGcStrategy::OnPodSuccess)` is emitted as `spec.podGc` instead of
    // Argo's `spec.podGC`, and validation (rightly) rejects the workflow.
    let epochs = p.param_with_default::<i64>("epochs", 10);

    let gpu_nodes = Toleration {
        key: Some("nvidia.com/gpu".into()),
        operator: Some("Exists".into()),
        effect: Some("NoSchedule".into()),
        ..Toleration::default()
    };
    p.task(
        train()
            .task()
            .arg("epochs", &epochs)
            .memory_limit("8Gi") // overrides the component's 4Gi
            .gpu_limit(1)
            .env("LOG_LEVEL", "debug")
            .env("REDIS_HOST", "localhost")
            .env_from_secret("API_TOKEN", "training-secrets", "api-token")
            .env_from_config_map("EXPERIMENT", "training-config", "experiment")
            .node_selector("cloud.google.com/gke-accelerator", "nvidia-tesla-t4")
            .toleration(gpu_nodes)
            .volume(Volume::pvc("data", "training-data"), "/mnt/data")
            .retry(Retry::new(3).policy(RetryPolicy::OnFailure).backoff(
                Duration::from_secs(30),
                2,
                Some(Duration::from_secs(600)),
            ))
            .timeout(Duration::from_secs(60 * 60))
            .caching(false)
            .pod_label("team", "ml-platform")
            .pod_annotation("example.com/cost-center", "research")
            .image_pull_policy(PullPolicy::IfNotPresent)
            .sidecar(redis_sidecar())
            .display_name("Train on GPU"),
    );
    p
}
