//! `dsl-compile` as a user runs it.

use std::path::Path;
use std::process::Command;

fn dsl_compile() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dsl-compile"))
}

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
}

#[test]
fn compiles_a_pipeline_crate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("hello.yaml");
    let result = dsl_compile()
        .current_dir(workspace())
        .args([
            "--package",
            "samples",
            "--bin",
            "pipelines",
            "--pipeline",
            "hello_world",
            "--output",
        ])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let yaml = std::fs::read_to_string(&out).expect("written");
    assert!(yaml.contains("kind: Workflow"));
    // And what it wrote validates.
    let check = dsl_compile()
        .arg("--validate")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn compiles_a_kfp_main_binary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("hello.yaml");
    let result = dsl_compile()
        .current_dir(workspace())
        .args(["--package", "samples", "--bin", "hello", "--output"])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let yaml = std::fs::read_to_string(&out).expect("written");
    assert!(yaml.contains("generateName: hello-macros-"), "{yaml}");
}

#[test]
fn a_missing_package_or_pipeline_fails_clearly_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("x.yaml");
    let result = dsl_compile()
        .current_dir(workspace())
        .args([
            "--package",
            "samples",
            "--bin",
            "pipelines",
            "--pipeline",
            "nope",
            "--output",
        ])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(!result.status.success());
    assert!(String::from_utf8_lossy(&result.stderr).contains("nope"));
    assert!(!out.exists());

    let result = dsl_compile()
        .current_dir(workspace())
        .args(["--package", "no-such-crate-here", "--output"])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(!result.status.success());
    assert!(!out.exists());
}

#[test]
fn validates_files_and_names_the_broken_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.yaml");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &good,
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: ok-}\n\
         spec:\n  entrypoint: main\n  templates:\n  - name: main\n    container: {image: alpine, command: [echo]}\n",
    )
    .expect("write");
    std::fs::write(
        &bad,
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: bad-}\n\
         spec:\n  entrypoint: missing\n  templates:\n  - name: main\n    container: {image: alpine}\n",
    )
    .expect("write");
    let ok = dsl_compile()
        .arg("--validate")
        .arg(&good)
        .output()
        .expect("runs");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let result = dsl_compile()
        .arg("--validate")
        .arg(&good)
        .arg(&bad)
        .output()
        .expect("runs");
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("bad.yaml"), "{stderr}");
    assert!(stderr.contains("missing"), "{stderr}");
}

#[test]
fn no_arguments_is_a_usage_error() {
    let result = dsl_compile().output().expect("runs");
    assert_eq!(result.status.code(), Some(2));
}
