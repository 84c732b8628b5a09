//! `kfp server --demo`, the README's quick start, as a user runs it: the real binary builds
//! the samples, serves, uploads every sample through its own API and runs each once in
//! experiment "Samples". Every run succeeds except `resource`, whose Kubernetes resource
//! step needs the Kubernetes backend and says so; a restart on the same data dir uploads
//! and runs nothing twice.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{ServerProcess, logs_of};
use kfp::build::{BuildOptions, build_pipeline_binary};
use serde_json::{Value, json};

/// How long the server may take to listen: it builds the samples first, and other builds
/// may hold cargo's lock.
const BUILD_PATIENCE: Duration = Duration::from_secs(30 * 60);
/// How long the uploads and all the runs may take.
const RUN_PATIENCE: Duration = Duration::from_secs(10 * 60);

/// The line `--demo` prints once every sample is uploaded and submitted.
const READY: &str = "What to try next";
/// The line it prints when it could not set the samples up.
const BROKEN: &str = "cannot set up the samples";

/// The samples' pipeline binary, built.
fn samples_binary(workspace: &Path) -> PathBuf {
    build_pipeline_binary(&BuildOptions {
        package: "samples".to_owned(),
        bin: Some("pipelines".to_owned()),
        manifest_path: Some(workspace.join("Cargo.toml")),
        release: false,
    })
    .expect("the samples build")
}

/// The sample pipelines, as the samples' own binary lists them.
fn sample_names(workspace: &Path) -> Vec<String> {
    let exe = samples_binary(workspace);
    let out = Command::new(&exe)
        .arg("list")
        .output()
        .expect("pipelines list runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn start_demo(workspace: &Path, data: &Path, logs: &Path) -> ServerProcess {
    let args: [&OsStr; 5] = [
        OsStr::new("--demo"),
        OsStr::new("--listen"),
        OsStr::new("127.0.0.1:0"),
        OsStr::new("--data-dir"),
        data.as_os_str(),
    ];
    ServerProcess::start_logged(&args, workspace, logs, BUILD_PATIENCE)
}

/// Wait until the demo says it is done (every sample uploaded and submitted).
fn wait_until_seeded(server: &mut ServerProcess, logs: &Path) {
    let started = Instant::now();
    loop {
        let stdout = std::fs::read_to_string(logs.join("stdout")).unwrap_or_default();
        let stderr = std::fs::read_to_string(logs.join("stderr")).unwrap_or_default();
        if stdout.contains(READY) {
            assert!(!stderr.contains(BROKEN), "{}", logs_of(logs));
            return;
        }
        assert!(!stderr.contains(BROKEN), "{}", logs_of(logs));
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("kfp server ended ({status}):\n{}", logs_of(logs));
        }
        assert!(
            started.elapsed() < RUN_PATIENCE,
            "the demo did not finish within {RUN_PATIENCE:?}:\n{}",
            logs_of(logs)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn get(server: &ServerProcess, path: &str) -> Value {
    let (code, body) = server.http("GET", path, None);
    assert_eq!(code, 200, "GET {path}: {body}");
    body
}

fn items(value: &Value, key: &str) -> Vec<Value> {
    value[key].as_array().cloned().unwrap_or_default()
}

/// Pipeline name → ID.
fn pipelines(server: &ServerProcess) -> BTreeMap<String, String> {
    let listed = get(server, "/apis/v1beta1/pipelines?page_size=200");
    items(&listed, "pipelines")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_owned(),
                p["id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The IDs of the experiments named Samples.
fn samples_experiments(server: &ServerProcess) -> Vec<String> {
    let listed = get(server, "/apis/v1beta1/experiments?page_size=200");
    items(&listed, "experiments")
        .iter()
        .filter(|e| e["name"] == "Samples")
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect()
}

fn runs_in(server: &ServerProcess, experiment: &str) -> Vec<Value> {
    let listed = get(
        server,
        &format!(
            "/apis/v1beta1/runs?resource_reference_key.type=EXPERIMENT&resource_reference_key.id={experiment}&page_size=200"
        ),
    );
    items(&listed, "runs")
}

/// Wait until every run of the experiment has finished; returns them.
fn finished_runs(server: &ServerProcess, experiment: &str, logs: &Path) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let runs = runs_in(server, experiment);
        let finished = |r: &Value| {
            matches!(
                r["status"].as_str(),
                Some("Succeeded" | "Failed" | "Error" | "Skipped")
            )
        };
        if runs.iter().all(finished) {
            return runs;
        }
        assert!(
            started.elapsed() < RUN_PATIENCE,
            "runs still going after {RUN_PATIENCE:?}: {runs:#?}\n{}",
            logs_of(logs)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn the_demo_uploads_and_runs_every_sample_once() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds this crate");
    let names = sample_names(workspace);
    assert!(names.len() > 5, "{names:?}");
    assert!(names.iter().any(|n| n == "resource"), "{names:?}");
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");

    // First start: everything is uploaded and run.
    let logs = dir.path().join("logs-1");
    let mut server = start_demo(workspace, &data, &logs);
    wait_until_seeded(&mut server, &logs);
    let uploaded = pipelines(&server);
    for name in &names {
        assert!(
            uploaded.contains_key(name),
            "pipeline {name} not listed: {uploaded:?}\n{}",
            logs_of(&logs)
        );
    }
    let experiments = samples_experiments(&server);
    assert_eq!(experiments.len(), 1, "{experiments:?}");
    let experiment = &experiments[0];
    let runs = finished_runs(&server, experiment, &logs);
    assert_eq!(runs.len(), names.len(), "{runs:#?}");
    let stdout = std::fs::read_to_string(logs.join("stdout")).unwrap_or_default();
    for name in &names {
        let pipeline = &uploaded[name];
        let of_sample: Vec<&Value> = runs
            .iter()
            .filter(|r| r["pipeline_spec"]["pipeline_id"] == pipeline.as_str())
            .collect();
        assert_eq!(of_sample.len(), 1, "runs of {name}: {of_sample:#?}");
        let run = of_sample[0];
        let id = run["id"].as_str().expect("run id");
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(name.as_str()) && l.contains(pipeline) && l.contains(id)),
            "no line for {name} with its pipeline and run IDs:\n{stdout}"
        );
        let detail = get(&server, &format!("/apis/v1beta1/runs/{id}"));
        let status = run["status"].as_str().unwrap_or_default();
        if name == "resource" {
            // Argo's phase for a step that could not run is Error; either way not a success.
            assert!(
                matches!(status, "Failed" | "Error"),
                "resource: {status}: {detail}"
            );
            let manifest = detail["pipeline_runtime"]["workflow_manifest"]
                .as_str()
                .unwrap_or_default();
            let error = run["error"].as_str().unwrap_or_default();
            assert!(
                manifest.contains("Kubernetes") || error.contains("Kubernetes"),
                "resource failed without saying it needs Kubernetes: {detail}"
            );
        } else {
            assert_eq!(status, "Succeeded", "{name}: {detail}\n{}", logs_of(&logs));
        }
    }
    assert!(
        stdout.contains("kfp run list --experiment Samples"),
        "{stdout}"
    );
    server.stop();

    // Restart on the same data dir: nothing is uploaded or run twice.
    let logs = dir.path().join("logs-2");
    let mut server = start_demo(workspace, &data, &logs);
    wait_until_seeded(&mut server, &logs);
    assert_eq!(pipelines(&server), uploaded);
    assert_eq!(samples_experiments(&server), experiments);
    let again = runs_in(&server, experiment);
    let ids = |runs: &[Value]| {
        let mut ids: Vec<String> = runs
            .iter()
            .filter_map(|r| r["id"].as_str().map(str::to_owned))
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&again), ids(&runs), "{}", logs_of(&logs));
    let stdout = std::fs::read_to_string(logs.join("stdout")).unwrap_or_default();
    for name in &names {
        assert!(
            stdout.lines().any(|l| l.contains(name.as_str())
                && l.contains("already uploaded")
                && l.contains("already run")),
            "{name} not reported as already there:\n{stdout}"
        );
    }
    server.stop();
}

#[test]
fn rust_function_steps_of_server_runs_call_the_function_binary() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds this crate");
    let exe = samples_binary(workspace);
    let dir = tempfile::tempdir().expect("temp dir");
    let compiled = dir.path().join("rust_functions.yaml");
    let status = Command::new(&exe)
        .args(["compile", "--pipeline", "rust_functions", "--output"])
        .arg(&compiled)
        .status()
        .expect("pipelines compile runs");
    assert!(status.success());
    let manifest = std::fs::read_to_string(&compiled).expect("compiled workflow");
    let logs = dir.path().join("logs");
    let data = dir.path().join("data");
    let args: [&OsStr; 6] = [
        OsStr::new("--function-binary"),
        exe.as_os_str(),
        OsStr::new("--listen"),
        OsStr::new("127.0.0.1:0"),
        OsStr::new("--data-dir"),
        data.as_os_str(),
    ];
    let mut server = ServerProcess::start_logged(&args, workspace, &logs, BUILD_PATIENCE);
    let (code, created) = server.http(
        "POST",
        "/apis/v1beta1/runs",
        Some(&json!({"name": "functions", "pipeline_spec": {"workflow_manifest": manifest}})),
    );
    assert_eq!(code, 200, "{created}");
    let id = created["run"]["id"].as_str().expect("run id").to_owned();
    let started = Instant::now();
    let detail = loop {
        let detail = get(&server, &format!("/apis/v1beta1/runs/{id}"));
        let status = detail["run"]["status"].as_str().unwrap_or_default();
        if matches!(status, "Succeeded" | "Failed" | "Error") {
            break detail;
        }
        assert!(started.elapsed() < RUN_PATIENCE, "{detail}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        detail["run"]["status"],
        "Succeeded",
        "{detail}\n{}",
        logs_of(&logs)
    );
    server.stop();
}
