//! Build a pipeline crate with cargo and ask its binary for the workflow.
//!
//! A pipeline crate's binary ends in `kfp::main!(..)`, so compiling it to a workflow is two
//! steps: `cargo build` to get the binary, then `<binary> compile --output FILE`. Both
//! `dsl-compile --package` and `kfp run --package` do it, and `kfp run` keeps the binary
//! too: its Rust-function components call it. Only std and cargo's JSON messages are
//! used, so the light `kfp` crate gains no dependency.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What to build: `cargo build -p <package> [--bin <bin>] [--manifest-path ..] [--release]`.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The cargo package holding the pipeline binary.
    pub package: String,
    /// The binary of the package, when it has several.
    pub bin: Option<String>,
    /// The Cargo.toml of the workspace or package (default: cargo finds it from the
    /// current directory).
    pub manifest_path: Option<PathBuf>,
    /// Build in release mode.
    pub release: bool,
}

/// Why a pipeline crate could not be built or compiled. Cargo's and the binary's own
/// messages go to stderr as they happen, so these only say which step failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot run cargo: {0}")]
    Cargo(#[source] std::io::Error),
    #[error("building package {package:?} failed (cargo's messages are above)")]
    BuildFailed { package: String },
    #[error("package {package:?} has no binary to run")]
    NoBinary { package: String },
    #[error("package {package:?} has no binary {bin:?}")]
    UnknownBinary { package: String, bin: String },
    #[error("package {package:?} has several binaries ({}); choose one with --bin", .names.join(", "))]
    SeveralBinaries { package: String, names: Vec<String> },
    #[error("cannot run {}: {source}", .exe.display())]
    Run {
        exe: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} could not compile the pipeline (its messages are above)", .exe.display())]
    Compile { exe: PathBuf },
}

/// Build the package with cargo (diagnostics rendered on stderr) and return the path of
/// its pipeline binary, found from cargo's JSON messages rather than guessed from the
/// target directory layout.
pub fn build_pipeline_binary(options: &BuildOptions) -> Result<PathBuf, BuildError> {
    let package = options.package.as_str();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(&cargo);
    build.args([
        "build",
        "--message-format=json-render-diagnostics",
        "-p",
        package,
    ]);
    if let Some(bin) = &options.bin {
        build.args(["--bin", bin]);
    } else {
        build.arg("--bins");
    }
    if let Some(manifest) = &options.manifest_path {
        build.arg("--manifest-path").arg(manifest);
    }
    if options.release {
        build.arg("--release");
    }
    build.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let out = build.output().map_err(BuildError::Cargo)?;
    if !out.status.success() {
        return Err(BuildError::BuildFailed {
            package: package.to_owned(),
        });
    }
    let bins = executables(&String::from_utf8_lossy(&out.stdout), package);
    match (bins.as_slice(), &options.bin) {
        ([], _) => Err(BuildError::NoBinary {
            package: package.to_owned(),
        }),
        ([(_, exe)], _) => Ok(exe.clone()),
        (many, Some(bin)) => many
            .iter()
            .find(|(name, _)| name == bin)
            .map(|(_, exe)| exe.clone())
            .ok_or_else(|| BuildError::UnknownBinary {
                package: package.to_owned(),
                bin: bin.clone(),
            }),
        (many, None) => Err(BuildError::SeveralBinaries {
            package: package.to_owned(),
            names: many.iter().map(|(n, _)| n.clone()).collect(),
        }),
    }
}

/// Let the pipeline binary `exe` write the workflow of `pipeline` (the only one when
/// `None`) to `output`; the binary validates it before writing.
pub fn compile_pipeline(
    exe: &Path,
    pipeline: Option<&str>,
    output: &Path,
) -> Result<(), BuildError> {
    let mut run = Command::new(exe);
    run.arg("compile").arg("--output").arg(output);
    if let Some(p) = pipeline {
        run.args(["--pipeline", p]);
    }
    let status = run.status().map_err(|source| BuildError::Run {
        exe: exe.to_owned(),
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(BuildError::Compile {
            exe: exe.to_owned(),
        })
    }
}

/// `(target name, executable)` of every binary of `package` in cargo's JSON messages.
fn executables(messages: &str, package: &str) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for line in messages.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(exe) = msg["executable"].as_str() else {
            continue;
        };
        let is_bin = msg["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "bin"));
        let in_package = msg["package_id"].as_str().is_some_and(|id| {
            id.contains(&format!("#{package}@"))
                || id.contains(&format!("/{package}#"))
                || id.starts_with(&format!("{package} "))
        });
        if is_bin && in_package {
            let name = msg["target"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            out.push((name, PathBuf::from(exe)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_binaries_of_the_package_only() {
        let messages = [
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/samples#0.1.0","target":{"kind":["bin"],"name":"pipelines"},"executable":"/t/debug/pipelines"}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/samples#0.1.0","target":{"kind":["lib"],"name":"samples"},"executable":null}"#,
            r#"{"reason":"compiler-artifact","package_id":"registry+https://x#other@1.0.0","target":{"kind":["bin"],"name":"other"},"executable":"/t/debug/other"}"#,
            r#"{"reason":"build-finished","success":true}"#,
            "not json",
        ]
        .join("\n");
        assert_eq!(
            executables(&messages, "samples"),
            vec![("pipelines".to_owned(), PathBuf::from("/t/debug/pipelines"))]
        );
    }
}
