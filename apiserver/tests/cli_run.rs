//! `kfp run` as a user runs it: the real binary, a fresh `--root` per test, and stdout
//! captured (so never a terminal: progress comes as plain lines).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// `kfp run --root <root>`.
fn kfp_run(root: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kfp"));
    command.arg("run").arg("--root").arg(root);
    command
}

/// Write `yaml` as `<dir>/<name>` and return its path.
fn workflow(dir: &Path, name: &str, yaml: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, yaml).expect("write the workflow");
    path
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Everything the process printed, for assertion messages.
fn both(output: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status,
        stdout(output),
        stderr(output)
    )
}

/// A DAG of two `echo` tasks, the second after the first.
const TWO_ECHOES: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: two-echoes-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: greeting
      value: hello
  templates:
  - name: main
    dag:
      tasks:
      - name: first
        template: echo
        arguments:
          parameters: [{name: text, value: "{{workflow.parameters.greeting}} one"}]
      - name: second
        dependencies: [first]
        template: echo
        arguments:
          parameters: [{name: text, value: two}]
  - name: echo
    inputs:
      parameters: [{name: text}]
    container:
      image: alpine:3.20
      command: [echo, "{{inputs.parameters.text}}"]
"#;

/// One task succeeds, one exits 3.
const FAILING: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: failing-
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: fine
        template: sh
        arguments: {parameters: [{name: script, value: "echo all good"}]}
      - name: broken
        template: sh
        arguments: {parameters: [{name: script, value: "echo about to fail; exit 3"}]}
  - name: sh
    inputs:
      parameters: [{name: script}]
    container:
      image: alpine:3.20
      command: [sh, -c, "{{inputs.parameters.script}}"]
"#;

/// The second task calls a template that does not exist.
const UNKNOWN_TEMPLATE: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: bad-
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: first
        template: echo
      - name: second
        template: nope
  - name: echo
    container:
      image: alpine:3.20
      command: [echo, hi]
"#;

#[test]
fn a_succeeding_workflow_exits_0_and_says_where_the_logs_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = workflow(dir.path(), "ok.yaml", TWO_ECHOES);
    let root = dir.path().join("root");
    let output = kfp_run(&root)
        .arg(&file)
        .args(["--name", "echoes", "-p", "greeting=bonjour"])
        .output()
        .expect("kfp runs");
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let out = stdout(&output);
    assert!(out.contains("Workflow echoes Succeeded in "), "{out}");
    let nodes = root.join("runs").join("echoes").join("nodes");
    assert!(
        out.contains(&format!(
            "Logs: {}",
            nodes.join("<pod>").join("main.log").display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "Artifacts: {}",
            root.join("artifacts").join("echoes").display()
        )),
        "{out}"
    );
    // The logs are where it says, and the parameter reached the task.
    let logs: Vec<String> = std::fs::read_dir(&nodes)
        .expect("nodes directory")
        .map(|e| e.expect("entry").path().join("main.log"))
        .filter_map(|log| std::fs::read_to_string(log).ok())
        .collect();
    assert!(logs.iter().any(|l| l.contains("bonjour one")), "{logs:?}");
}

#[test]
fn a_failing_task_exits_1_and_names_the_node_and_its_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = workflow(dir.path(), "fail.yaml", FAILING);
    let root = dir.path().join("root");
    let output = kfp_run(&root).arg(&file).output().expect("kfp runs");
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let out = stdout(&output);
    assert!(out.contains("Failed:\n  broken  Failed  "), "{out}");
    assert!(out.contains("exit code 3"), "{out}");
    let log = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("log: "))
        .unwrap_or_else(|| panic!("no log line in\n{out}"));
    assert!(
        log.starts_with(&root.join("runs").display().to_string()),
        "{log}"
    );
    assert!(log.ends_with("main.log"), "{log}");
    let text = std::fs::read_to_string(log).expect("the named log exists");
    assert!(text.contains("about to fail"), "{text}");
}

#[test]
fn json_output_is_the_status_document_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = workflow(dir.path(), "ok.yaml", TWO_ECHOES);
    let output = kfp_run(&dir.path().join("root"))
        .arg(&file)
        .args(["--output", "json"])
        .output()
        .expect("kfp runs");
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let doc: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["status"]["phase"], "Succeeded", "{doc}");
    let name = doc["metadata"]["name"].as_str().expect("metadata.name");
    assert!(name.starts_with("two-echoes-"), "{name}");
    let nodes = doc["status"]["nodes"].as_object().expect("status.nodes");
    assert_eq!(nodes.len(), 3, "{doc}");
}

#[test]
fn yaml_output_is_the_status_document_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = workflow(dir.path(), "fail.yaml", FAILING);
    let output = kfp_run(&dir.path().join("root"))
        .arg(&file)
        .args(["-o", "yaml"])
        .output()
        .expect("kfp runs");
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    let out = stdout(&output);
    assert!(out.starts_with("metadata:\n  name: failing-"), "{out}");
    assert!(out.contains("\nstatus:\n  phase: Failed\n"), "{out}");
}

#[test]
fn an_invalid_workflow_exits_2_naming_file_and_field_and_runs_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = workflow(dir.path(), "bad.yaml", UNKNOWN_TEMPLATE);
    let root = dir.path().join("root");
    let output = kfp_run(&root).arg(&file).output().expect("kfp runs");
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    let err = stderr(&output);
    assert!(err.contains("bad.yaml"), "{err}");
    assert!(err.contains("dag.tasks[1](name=second).template"), "{err}");
    assert!(err.contains("nope"), "{err}");
    assert!(!root.join("runs").exists(), "a run directory was created");
    assert!(stdout(&output).is_empty(), "{}", both(&output));
}

#[test]
fn an_unknown_parameter_exits_2_listing_the_declared_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = workflow(dir.path(), "ok.yaml", TWO_ECHOES);
    let root = dir.path().join("root");
    let output = kfp_run(&root)
        .arg(&file)
        .args(["-p", "greting=hi"])
        .output()
        .expect("kfp runs");
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    let err = stderr(&output);
    assert!(err.contains("greting") && err.contains("greeting"), "{err}");
    let runs = root.join("runs");
    assert!(
        !runs.exists() || std::fs::read_dir(&runs).expect("runs").next().is_none(),
        "a run directory was created"
    );
}

#[test]
fn without_a_terminal_progress_is_plain_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = workflow(dir.path(), "ok.yaml", TWO_ECHOES);
    let output = kfp_run(&dir.path().join("root"))
        .arg(&file)
        .output()
        .expect("kfp runs");
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let out = stdout(&output);
    assert!(!out.contains('\x1b'), "escape codes in {out:?}");
    // `HH:MM:SS  <path>  <phase>`, one per change.
    let progress = |path: &str, phase: &str| {
        out.lines().any(|line| {
            let (time, rest) = line.split_at_checked(8).unwrap_or(("", ""));
            time.len() == 8
                && time.chars().filter(|c| *c == ':').count() == 2
                && rest == format!("  {path}  {phase}")
        })
    };
    assert!(progress("first", "Succeeded"), "{out}");
    assert!(progress("second", "Running"), "{out}");
    assert!(progress("second", "Succeeded"), "{out}");
}

#[test]
fn a_pipeline_crate_runs_with_its_rust_functions() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds this crate");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let output = kfp_run(&root)
        .current_dir(workspace)
        .args(["--package", "samples", "--bin", "pipelines"])
        .args([
            "--pipeline",
            "rust-functions",
            "-p",
            "rows=150",
            "-o",
            "json",
        ])
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .output()
        .expect("kfp runs");
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert!(root.join("compiled/samples-rust-functions.yaml").is_file());
    let doc: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    // `summarize` is a Rust function: only the built binary can have produced this.
    let summary = doc["status"]["nodes"]
        .as_object()
        .expect("status.nodes")
        .values()
        .find(|n| n["displayName"] == "summarize")
        .and_then(|n| n["outputs"]["parameters"].as_array())
        .and_then(|ps| ps.iter().find(|p| p["name"] == "output"))
        .and_then(|p| p["value"].as_str())
        .map(str::to_owned);
    assert_eq!(
        summary.as_deref(),
        Some("150 rows (120 to train), columns id, value"),
        "{doc}"
    );
}

/// Processes running `sleep <duration>` (read from /proc).
fn sleeping(duration: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
                args.len() >= 2 && args[0].ends_with(b"sleep") && args[1] == duration.as_bytes()
            })
        })
        .collect()
}

#[test]
fn ctrl_c_stops_the_run_and_leaves_no_process_behind() {
    // A duration no other test uses, to recognise this run's `sleep`.
    let duration = format!("30.{}", std::process::id());
    let dir = tempfile::tempdir().expect("tempdir");
    let file = workflow(
        dir.path(),
        "sleep.yaml",
        &format!(
            r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: sleepy-
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: alpine:3.20
      command: [sleep, "{duration}"]
"#
        ),
    );
    let mut child = kfp_run(&dir.path().join("root"))
        .arg(&file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kfp starts");
    let patience = Duration::from_secs(120);
    let started = Instant::now();
    while sleeping(&duration).is_empty() {
        assert!(
            child.try_wait().expect("poll kfp").is_none(),
            "kfp ended before the sleep started"
        );
        assert!(started.elapsed() < patience, "the sleep never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let stopped = Instant::now();
    while child.try_wait().expect("poll kfp").is_none() {
        if stopped.elapsed() > patience {
            let _ = child.kill();
            panic!("kfp did not end after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("kfp output");
    assert!(!output.status.success(), "{}", both(&output));
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert!(
        stderr(&output).contains("stopping (Ctrl-C again to terminate)"),
        "{}",
        both(&output)
    );
    assert_eq!(sleeping(&duration), Vec::<u32>::new(), "a sleep survived");
}

/// Waits for approval, then echoes the supplied choice.
const APPROVAL: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: approval-
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: approve
        template: approve
      - name: deploy
        depends: approve
        template: echo
        arguments:
          parameters: [{name: text, value: "chose {{tasks.approve.outputs.parameters.choice}}"}]
  - name: approve
    suspend: {}
    outputs:
      parameters:
      - name: choice
        valueFrom: {supplied: {}}
  - name: echo
    inputs:
      parameters: [{name: text}]
    container:
      image: alpine:3.20
      command: [echo, "{{inputs.parameters.text}}"]
"#;

#[test]
fn a_line_on_stdin_resumes_a_suspended_node_with_supplied_values() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = workflow(dir.path(), "approval.yaml", APPROVAL);
    let mut child = kfp_run(&dir.path().join("root"))
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kfp starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // A watchdog, so a missing hint fails the test instead of hanging it.
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(120));
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
    });
    // Notes (such as the hint) go to stderr when stdout is not a terminal.
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    // The hint appears once the node waits; then one typed line resumes it.
    for line in lines.by_ref() {
        let line = line.expect("utf-8 output");
        seen.push(line.clone());
        if line.contains("approve is suspended") {
            writeln!(stdin, "choice=blue").expect("type a line");
            break;
        }
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("kfp ends");
    let all = format!("{}\n{}", seen.join("\n"), rest.join("\n"));
    assert!(status.success(), "{all}");
    let root = dir.path().join("root").join("runs");
    let logs: String = walk(&root)
        .into_iter()
        .filter(|p| p.ends_with("main.log"))
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    assert!(logs.contains("chose blue"), "{all}\nlogs: {logs}");
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
