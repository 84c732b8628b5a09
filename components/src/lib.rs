//! Reusable components, as KFP v1 `component.yaml` files in this directory, embedded in the
//! crate so a pipeline can use them without file paths:
//!
//! ```
//! let download = kfp_components::download_file()?;
//! let mut p = kfp::dsl::Pipeline::new("fetch");
//! p.task(download.task().arg("Url", "https://example.com/data.csv"));
//! # kfp::compile(&p).map(|_| ()).map_err(|e| e.to_string())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same files load unchanged in KFP's Python SDK (`kfp.components.load_component_from_file`).

use kfp::component::{Component, LoadError};

/// Every component of the library: its directory name and its `component.yaml`.
pub const ALL: &[(&str, &str)] = &[
    (
        "run-shell-script",
        include_str!("../run-shell-script/component.yaml"),
    ),
    (
        "run-python-script",
        include_str!("../run-python-script/component.yaml"),
    ),
    (
        "download-file",
        include_str!("../download-file/component.yaml"),
    ),
    (
        "copy-artifact",
        include_str!("../copy-artifact/component.yaml"),
    ),
    (
        "list-artifact",
        include_str!("../list-artifact/component.yaml"),
    ),
    (
        "select-json-field",
        include_str!("../select-json-field/component.yaml"),
    ),
];

/// Why a library component could not be had.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no component {name:?} in the library; it has: {}", names().join(", "))]
    Unknown { name: String },
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// The names of the library's components.
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|(name, _)| *name).collect()
}

/// A library component by its directory name (`"download-file"`).
pub fn load(name: &str) -> Result<Component, Error> {
    let (_, text) = ALL
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| Error::Unknown {
            name: name.to_owned(),
        })?;
    Ok(Component::from_yaml_str(
        text,
        &format!("components/{name}/component.yaml"),
    )?)
}

/// Run a shell script (`$OUTPUT` is its output file, `$INPUT` an optional input).
pub fn run_shell_script() -> Result<Component, Error> {
    load("run-shell-script")
}

/// Run a Python program (`output_path`, `input_path`, `argument` in scope).
pub fn run_python_script() -> Result<Component, Error> {
    load("run-python-script")
}

/// Download a file over HTTP(S) into an artifact.
pub fn download_file() -> Result<Component, Error> {
    load("download-file")
}

/// Copy a file or directory artifact.
pub fn copy_artifact() -> Result<Component, Error> {
    load("copy-artifact")
}

/// List (and count) the files of an artifact.
pub fn list_artifact() -> Result<Component, Error> {
    load("list-artifact")
}

/// Select a field of a JSON document by a dotted path.
pub fn select_json_field() -> Result<Component, Error> {
    load("select-json-field")
}
