//! Loading KFP v1 `component.yaml` files, and writing them.
//!
//! A file goes through four steps, and the first that fails reports every problem it
//! found, each with the file, the line and column, the field and what was expected:
//!
//! 1. YAML parsing (saphyr), which records where every node is;
//! 2. deserializing into the typed model ([`ComponentSpec`]), whose hand-written
//!    deserializers name a wrong placeholder, argument or type precisely;
//! 3. the published KFP v1 JSON schema, widened to what KFP 1.8's loader accepts (see
//!    `load/schema.rs`);
//! 4. what neither can see: names a placeholder or graph refers to must exist, inputs
//!    and outputs are unique, graph tasks form no cycle, and every `componentRef` is
//!    resolved (see [`ComponentLoader`]).
//!
//! KFP 1.8 fields the model has no place for are accepted and dropped: `version` of a
//! component and `annotations` of an input or output (nothing in KFP v1 reads them).

mod check;
mod error;
#[cfg(feature = "http")]
mod http;
mod save;
mod schema;
mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::{Issue, LoadError, Position, SaveError};
use yaml::{Document, Seg, render_path};

use super::{Component, ComponentRef, ComponentSpec, Implementation};
use crate::component::de::did_you_mean;

/// Nested component references deeper than this are reported (and cycles caught).
const MAX_DEPTH: usize = 16;

/// Loads components and resolves the `componentRef`s of graph components.
///
/// A `componentRef` is resolved, in this order, from:
///
/// 1. its inline `spec`;
/// 2. its `url`: `http(s)://` needs the `http` feature (without it, a clear error); a
///    URL without a scheme is a path relative to the referring file (or URL);
/// 3. its `name`: a component registered with [`ComponentLoader::with_component`],
///    else a file next to the referring file or in a [`ComponentLoader::search_dir`]:
///    `NAME` if it ends in `.yaml`/`.yml`, else `NAME.yaml`, `NAME/component.yaml`, and
///    the same with the name in snake_case and kebab-case (`Train model` ->
///    `train_model.yaml`, `train-model/component.yaml`, ...).
///
/// `digest` and `tag` alone cannot be resolved (there is no component store); they are
/// kept as written.
#[derive(Debug, Clone, Default)]
pub struct ComponentLoader {
    components: BTreeMap<String, ComponentSpec>,
    search_dirs: Vec<PathBuf>,
}

/// Where relative references of a component are looked up.
#[derive(Debug, Clone)]
enum Base {
    None,
    Dir(PathBuf),
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    Url(String),
}

impl ComponentLoader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Resolve `componentRef: {name: <component's name>}` to `component`.
    pub fn with_component(mut self, component: &Component) -> Self {
        self.components
            .insert(component.spec.name.clone(), component.spec.clone());
        self
    }

    /// Also look for components referenced by name in `dir`.
    pub fn search_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.search_dirs.push(dir.into());
        self
    }

    /// Load a component from YAML text; `source_name` names it in errors. Names are
    /// looked up only among registered components and search directories.
    pub fn load_str(&self, text: &str, source_name: &str) -> Result<Component, LoadError> {
        self.load_text(text, source_name, &Base::None, &mut Vec::new())
    }

    /// Load a component file; names in it are also looked up next to it.
    pub fn load_file(&self, path: impl AsRef<Path>) -> Result<Component, LoadError> {
        self.load_path(path.as_ref(), &mut Vec::new())
    }

    /// Load a component from an `http://` or `https://` URL.
    #[cfg(feature = "http")]
    pub fn load_url(&self, url: &str) -> Result<Component, LoadError> {
        self.load_from_url(url, &mut Vec::new())
    }

    fn load_path(&self, path: &Path, chain: &mut Vec<String>) -> Result<Component, LoadError> {
        let source_name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| LoadError::Read {
            source_name: source_name.clone(),
            error,
        })?;
        let key = path
            .canonicalize()
            .map_or_else(|_| source_name.clone(), |p| p.display().to_string());
        let base = Base::Dir(
            path.parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        );
        self.enter(key, source_name.clone(), chain, |this, chain| {
            this.load_text(&text, &source_name, &base, chain)
        })
    }

    #[cfg(feature = "http")]
    fn load_from_url(&self, url: &str, chain: &mut Vec<String>) -> Result<Component, LoadError> {
        let text = http::fetch(url).map_err(|message| LoadError::Fetch {
            url: url.to_owned(),
            message,
        })?;
        let base = Base::Url(url.to_owned());
        self.enter(url.to_owned(), url.to_owned(), chain, |this, chain| {
            this.load_text(&text, url, &base, chain)
        })
    }

    /// Runs `load` with `key` on the chain of components being loaded, refusing cycles.
    fn enter(
        &self,
        key: String,
        source_name: String,
        chain: &mut Vec<String>,
        load: impl FnOnce(&Self, &mut Vec<String>) -> Result<Component, LoadError>,
    ) -> Result<Component, LoadError> {
        if chain.contains(&key) || chain.len() >= MAX_DEPTH {
            let mut shown = chain.clone();
            shown.push(key);
            return Err(LoadError::Invalid {
                source_name,
                issues: vec![Issue::at(
                    "",
                    format!(
                        "componentRef cycle (or nesting deeper than {MAX_DEPTH}): {}",
                        shown.join(" -> ")
                    ),
                )],
            });
        }
        chain.push(key);
        let result = load(self, chain);
        chain.pop();
        result
    }

    fn load_text(
        &self,
        text: &str,
        source_name: &str,
        base: &Base,
        chain: &mut Vec<String>,
    ) -> Result<Component, LoadError> {
        let invalid = |issues: Vec<Issue>| LoadError::Invalid {
            source_name: source_name.to_owned(),
            issues,
        };
        let doc = yaml::parse(text).map_err(|issue| invalid(vec![issue]))?;
        let mut spec = typed(&doc).map_err(|issue| invalid(vec![issue]))?;
        let schema_issues = schema::check(&doc);
        if !schema_issues.is_empty() {
            return Err(invalid(schema_issues));
        }
        let mut found = Vec::new();
        self.finish(&mut spec, &mut Vec::new(), base, chain, &mut found);
        if !found.is_empty() {
            let issues = found
                .into_iter()
                .map(|(path, message)| Issue {
                    position: doc.key_position(&path).or_else(|| doc.position(&path)),
                    path: render_path(&path),
                    message,
                })
                .collect();
            return Err(invalid(issues));
        }
        if spec.name.is_empty() {
            spec.name = default_name(source_name);
        }
        Ok(Component::from_spec(spec))
    }

    /// Resolves the references of `spec` (at `at` in its document) and checks it.
    fn finish(
        &self,
        spec: &mut ComponentSpec,
        at: &mut Vec<Seg>,
        base: &Base,
        chain: &mut Vec<String>,
        issues: &mut Vec<(Vec<Seg>, String)>,
    ) {
        if let Implementation::Graph(graph) = &mut spec.implementation {
            for (id, task) in &mut graph.tasks {
                let depth = at.len();
                at.extend([
                    Seg::Key("implementation".into()),
                    Seg::Key("graph".into()),
                    Seg::Key("tasks".into()),
                    Seg::Key(id.clone()),
                    Seg::Key("componentRef".into()),
                ]);
                self.resolve(&mut task.component_ref, at, base, chain, issues);
                at.truncate(depth);
            }
        }
        check::check_spec(spec, at, issues);
    }

    fn resolve(
        &self,
        r: &mut ComponentRef,
        at: &mut Vec<Seg>,
        base: &Base,
        chain: &mut Vec<String>,
        issues: &mut Vec<(Vec<Seg>, String)>,
    ) {
        if let Some(spec) = &mut r.spec {
            at.push(Seg::Key("spec".into()));
            self.finish(spec, at, base, chain, issues);
            at.pop();
            if spec.name.is_empty() {
                spec.name = r.name.clone().unwrap_or_else(|| "component".into());
            }
            return;
        }
        let loaded = if let Some(url) = &r.url {
            at.push(Seg::Key("url".into()));
            let result = self
                .load_ref_url(url, base, chain)
                .map_err(|e| format!("cannot load {url:?}: {e}"));
            Some(result)
        } else if let Some(name) = &r.name {
            at.push(Seg::Key("name".into()));
            Some(self.load_ref_name(name, base, chain))
        } else {
            None
        };
        match loaded {
            Some(Ok(component)) => {
                at.pop();
                r.spec = Some(Box::new(component.spec));
            }
            Some(Err(message)) => {
                issues.push((at.clone(), message));
                at.pop();
            }
            None => issues.push((
                at.clone(),
                "cannot resolve a componentRef without spec, url or name (digest and tag \
                 need a component store, which this loader does not have)"
                    .into(),
            )),
        }
    }

    /// `componentRef.url`: a URL, or a path relative to the referring file.
    fn load_ref_url(
        &self,
        url: &str,
        base: &Base,
        chain: &mut Vec<String>,
    ) -> Result<Component, LoadError> {
        let has_scheme = url.contains("://");
        if url.starts_with("http://") || url.starts_with("https://") {
            return self.fetch_url(url, chain);
        }
        if has_scheme {
            return Err(LoadError::Fetch {
                url: url.to_owned(),
                message: "only http://, https:// and relative paths are supported".into(),
            });
        }
        match base {
            Base::Dir(dir) => self.load_path(&dir.join(url), chain),
            Base::Url(from) => {
                let joined = match from.rfind('/') {
                    Some(i) => format!("{}/{url}", &from[..i]),
                    None => url.to_owned(),
                };
                self.fetch_url(&joined, chain)
            }
            Base::None => self.load_path(Path::new(url), chain),
        }
    }

    #[cfg(feature = "http")]
    fn fetch_url(&self, url: &str, chain: &mut Vec<String>) -> Result<Component, LoadError> {
        self.load_from_url(url, chain)
    }

    #[cfg(not(feature = "http"))]
    fn fetch_url(&self, url: &str, _chain: &mut Vec<String>) -> Result<Component, LoadError> {
        Err(LoadError::Fetch {
            url: url.to_owned(),
            message: "loading components from URLs needs the `http` feature of the kfp crate \
                      (build with `--features http`), or download the file and refer to it by \
                      path"
                .into(),
        })
    }

    /// `componentRef.name`: a registered component, or a file found by its name.
    fn load_ref_name(
        &self,
        name: &str,
        base: &Base,
        chain: &mut Vec<String>,
    ) -> Result<Component, String> {
        if let Some(spec) = self.components.get(name) {
            return Ok(Component::from_spec(spec.clone()));
        }
        let mut dirs: Vec<&Path> = Vec::new();
        if let Base::Dir(dir) = base {
            dirs.push(dir);
        }
        dirs.extend(self.search_dirs.iter().map(PathBuf::as_path));
        let candidates = file_candidates(name);
        for dir in &dirs {
            for candidate in &candidates {
                let path = dir.join(candidate);
                if path.is_file() {
                    return self
                        .load_path(&path, chain)
                        .map_err(|e| format!("cannot load {}: {e}", path.display()));
                }
            }
        }
        let registered: Vec<&str> = self.components.keys().map(String::as_str).collect();
        let mut message =
            format!("unknown component {name:?}: no component is registered under this name");
        if dirs.is_empty() {
            message.push_str(" and there is no directory to look in (load the graph from a file, or add a search directory)");
        } else {
            message.push_str(&format!(
                " and none of {} exists in {}",
                candidates.join(", "),
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        message.push_str(&did_you_mean(name, &registered));
        Err(message)
    }
}

/// File names a component called `name` may be stored under.
fn file_candidates(name: &str) -> Vec<String> {
    if name.ends_with(".yaml") || name.ends_with(".yml") {
        return vec![name.to_owned()];
    }
    let slug = |sep: char| {
        let mut out = String::new();
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.is_empty() && !out.ends_with(sep) {
                out.push(sep);
            }
        }
        out.trim_end_matches(sep).to_owned()
    };
    let mut out: Vec<String> = Vec::new();
    for stem in [name.to_owned(), slug('_'), slug('-')] {
        if stem.is_empty() {
            continue;
        }
        for candidate in [format!("{stem}.yaml"), format!("{stem}/component.yaml")] {
            if !out.contains(&candidate) {
                out.push(candidate);
            }
        }
    }
    out
}

/// The name of a nameless component: its file name without the extension.
fn default_name(source_name: &str) -> String {
    let file = source_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(source_name);
    let stem = file
        .strip_suffix(".yaml")
        .or_else(|| file.strip_suffix(".yml"))
        .unwrap_or(file);
    let stem = if stem == "component" {
        // `train/component.yaml` is named after its directory.
        source_name
            .rsplit(['/', '\\'])
            .nth(1)
            .unwrap_or("component")
    } else {
        stem
    };
    if stem.is_empty() {
        "component".into()
    } else {
        stem.to_owned()
    }
}

/// Step 2: the typed model, with the field path and position of the first error.
fn typed(doc: &Document) -> Result<ComponentSpec, Issue> {
    if !doc.value.is_object() {
        return Err(Issue {
            position: doc.position(&[]),
            path: String::new(),
            message: format!(
                "a component must be a map with name, inputs, outputs and implementation, \
                 not {}",
                kind_of(&doc.value)
            ),
        });
    }
    let value = without_dropped_fields(&doc.value);
    serde_path_to_error::deserialize::<_, ComponentSpec>(&value).map_err(|e| {
        let mut path: Vec<Seg> = e
            .path()
            .iter()
            .map_while(|seg| match seg {
                serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
                serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
                serde_path_to_error::Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
                serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        let message = e.inner().to_string();
        // An unknown field is reported on its map, at the key itself.
        let mut position = None;
        if message.starts_with("unknown field")
            && let Some(Seg::Key(_)) = path.last()
        {
            position = doc.key_position(&path);
            path.pop();
        }
        Issue {
            position: position.or_else(|| doc.position(&path)),
            path: render_path(&path),
            message: explain(&message),
        }
    })
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "an empty document",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a map",
    }
}

/// The fields KFP 1.8 writes that the model does not keep (see the module docs).
fn without_dropped_fields(value: &serde_json::Value) -> serde_json::Value {
    let mut value = value.clone();
    if let Some(root) = value.as_object_mut() {
        if root
            .get("version")
            .is_some_and(serde_json::Value::is_string)
        {
            root.remove("version");
        }
        for list in ["inputs", "outputs"] {
            if let Some(items) = root.get_mut(list).and_then(serde_json::Value::as_array_mut) {
                for item in items
                    .iter_mut()
                    .filter_map(serde_json::Value::as_object_mut)
                {
                    if item
                        .get("annotations")
                        .is_some_and(serde_json::Value::is_object)
                    {
                        item.remove("annotations");
                    }
                }
            }
        }
    }
    value
}

/// serde's message, with a suggestion for a misspelled field or variant.
fn explain(message: &str) -> String {
    for prefix in ["unknown field `", "unknown variant `"] {
        let Some(rest) = message.strip_prefix(prefix) else {
            continue;
        };
        let Some((got, tail)) = rest.split_once('`') else {
            continue;
        };
        let known: Vec<&str> = tail
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, s)| s)
            .collect();
        return format!("{message}{}", did_you_mean(got, &known));
    }
    message.to_owned()
}

impl Component {
    /// Load a component from `component.yaml` text; `source_name` names it in errors.
    ///
    /// A loaded component is used like one declared in Rust, whether it runs a container
    /// or a graph of other components:
    ///
    /// ```
    /// use kfp::prelude::*;
    ///
    /// let echo = Component::from_yaml_str(
    ///     r#"
    /// name: Echo
    /// inputs: [{name: message, type: String}]
    /// implementation:
    ///   container:
    ///     image: alpine:3.20
    ///     command: [echo, {inputValue: message}]
    /// "#,
    ///     "echo.yaml",
    /// )?;
    /// let mut p = Pipeline::new("hello");
    /// p.task(echo.task().arg("message", "hi"));
    /// kfp::compile(&p)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_yaml_str(text: &str, source_name: &str) -> Result<Component, LoadError> {
        ComponentLoader::new().load_str(text, source_name)
    }

    /// Load a `component.yaml` file (graph components may refer to files next to it).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Component, LoadError> {
        ComponentLoader::new().load_file(path)
    }

    /// Load a component from an `http://` or `https://` URL.
    #[cfg(feature = "http")]
    pub fn from_url(url: &str) -> Result<Component, LoadError> {
        ComponentLoader::new().load_url(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_files() {
        assert_eq!(
            file_candidates("Train model"),
            vec![
                "Train model.yaml",
                "Train model/component.yaml",
                "train_model.yaml",
                "train_model/component.yaml",
                "train-model.yaml",
                "train-model/component.yaml"
            ]
        );
        assert_eq!(file_candidates("x/y.yaml"), vec!["x/y.yaml"]);
    }

    #[test]
    fn nameless_components_are_named_after_their_file() {
        assert_eq!(default_name("dir/train.yaml"), "train");
        assert_eq!(default_name("dir/train/component.yaml"), "train");
        assert_eq!(default_name("inline"), "inline");
    }

    #[test]
    fn misspelled_fields_get_a_suggestion() {
        assert_eq!(
            explain("unknown field `imag`, expected one of `image`, `command`"),
            "unknown field `imag`, expected one of `image`, `command` (did you mean image?)"
        );
    }
}
