//! The official KFP 1.8 Python SDK (`kfp.Client`, kfp==1.8.22) drives our server through
//! its core flows (tests/kfp_sdk/client_flow.py). The virtualenv is made once under
//! cargo's target directory. Without python3 the test says so and does not pass silently:
//! it prints a SKIPPED line, and fails when `KFP_REQUIRE_PYTHON=1` (CI sets it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::ServerProcess;

const PIPELINE: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: sdk-hello-
spec:
  entrypoint: main
  arguments:
    parameters:
    - {name: who, value: world}
  templates:
  - name: main
    dag:
      tasks:
      - name: greet
        template: echo
        arguments:
          parameters: [{name: text, value: "hello {{workflow.parameters.who}}"}]
  - name: echo
    inputs:
      parameters: [{name: text}]
    container:
      image: alpine:3.20
      command: [echo, "{{inputs.parameters.text}}"]
"#;

/// A virtualenv with kfp==1.8.22, made on first use; `None` (with the reason) without
/// python3 or pip.
fn sdk_python() -> Result<PathBuf, String> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kfp-1.8.22-venv");
    let python = venv.join("bin").join("python");
    let ready = Command::new(&python)
        .args([
            "-c",
            "import kfp, sys; sys.exit(kfp.__version__ != '1.8.22')",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if ready {
        return Ok(python);
    }
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .map_err(|e| format!("python3 is not available: {e}"))?;
    if !made.success() {
        return Err("python3 -m venv failed".into());
    }
    let installed = Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "kfp==1.8.22"])
        .status()
        .map_err(|e| format!("pip is not available: {e}"))?;
    if !installed.success() {
        return Err("pip install kfp==1.8.22 failed".into());
    }
    Ok(python)
}

#[test]
fn kfp_client_1_8_works_against_the_server() {
    let python = match sdk_python() {
        Ok(python) => python,
        Err(reason) => {
            let line = format!("SKIPPED (kfp SDK): {reason}");
            assert!(std::env::var_os("KFP_REQUIRE_PYTHON").is_none(), "{line}");
            // libtest hides the output of passing tests; stderr of the process is not.
            eprintln!("{line}");
            return;
        }
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let pipeline = dir.path().join("hello.yaml");
    std::fs::write(&pipeline, PIPELINE).expect("write the pipeline");
    let mut server = ServerProcess::start(&dir.path().join("data"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kfp_sdk/client_flow.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(server.url())
        .arg(&pipeline)
        .env("HOME", dir.path())
        .output()
        .expect("the SDK script runs");
    server.stop();
    assert!(
        output.status.success(),
        "kfp.Client failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
