use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::de::{opt_scalar_text, opt_type_spec, text_map};
use super::{CmdArg, GraphImpl, KfpType, Predicate, TaskConfig, TypeSpec, Usage};

/// A component: a KFP v1 `ComponentSpec` plus the Kubernetes settings of its tasks.
///
/// Load one from a `component.yaml` with [`Component::from_file`] or
/// [`Component::from_yaml_str`], write one with [`Component::to_yaml`].
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub spec: ComponentSpec,
    pub config: TaskConfig,
}

/// KFP v1 `ComponentSpec` (the content of a `component.yaml`).
///
/// Unknown fields are errors (a misspelled `fileOutput:` would otherwise be dropped
/// silently); the loader reports them with their place in the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSpec {
    /// Optional in KFP; the loader names a nameless component after its file.
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "ComponentMetadata::is_empty")]
    pub metadata: ComponentMetadata,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<InputSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<OutputSpec>,
    pub implementation: Implementation,
}

/// Annotations and labels of a component.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentMetadata {
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub annotations: BTreeMap<String, String>,
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub labels: BTreeMap<String, String>,
}

impl ComponentMetadata {
    pub fn is_empty(&self) -> bool {
        self.annotations.is_empty() && self.labels.is_empty()
    }
}

/// An input of a component.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    pub name: String,
    #[serde(
        default,
        rename = "type",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_type_spec"
    )]
    pub type_spec: Option<TypeSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// KFP accepts a number or boolean here too; it is kept as text.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_scalar_text"
    )]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// An output of a component.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub name: String,
    #[serde(
        default,
        rename = "type",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_type_spec"
    )]
    pub type_spec: Option<TypeSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// How a component runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Implementation {
    Container(ContainerImpl),
    /// Acts on a Kubernetes object (not part of KFP's `component.yaml`).
    Resource(ResourceImpl),
    /// Other components wired together (`implementation.graph`); a task of it runs as a
    /// sub-pipeline (see [`crate::component::graph_pipeline`]).
    Graph(GraphImpl),
}

impl Default for Implementation {
    fn default() -> Self {
        Self::Container(ContainerImpl::default())
    }
}

/// `implementation.container`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerImpl {
    pub image: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<CmdArg>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<CmdArg>,
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub env: BTreeMap<String, String>,
    /// Outputs the program writes to fixed paths of its own choosing.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "text_map"
    )]
    pub file_outputs: BTreeMap<String, String>,
}

/// A Kubernetes action (`kubectl create/apply/delete`) with conditions to wait for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceImpl {
    pub action: String,
    /// The manifest, as YAML or JSON text; `{{inputs.parameters.<input>}}` tags are filled in.
    pub manifest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_owner_reference: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_strategy: Option<String>,
    /// Output name to the JSONPath (kubectl syntax) read from the object.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub output_json_paths: BTreeMap<String, String>,
}

/// What a resource task does with its manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceAction {
    Create,
    Apply,
    Delete,
    Replace,
    Patch,
    Get,
}

impl ResourceAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Apply => "apply",
            Self::Delete => "delete",
            Self::Replace => "replace",
            Self::Patch => "patch",
            Self::Get => "get",
        }
    }
}

impl InputSpec {
    /// An input of the given KFP type.
    pub fn new(name: impl Into<String>, type_spec: Option<TypeSpec>) -> Self {
        Self {
            name: name.into(),
            type_spec,
            ..<Self as Default>::default()
        }
    }
    /// An input typed after a Rust type.
    pub fn of<T: KfpType>(name: impl Into<String>) -> Self {
        Self::new(name, Some(T::type_spec()))
    }
    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Some(TypeSpec::string()))
    }
    pub fn integer(name: impl Into<String>) -> Self {
        Self::new(name, Some(TypeSpec::integer()))
    }
    pub fn float(name: impl Into<String>) -> Self {
        Self::new(name, Some(TypeSpec::float()))
    }
    pub fn boolean(name: impl Into<String>) -> Self {
        Self::new(name, Some(TypeSpec::boolean()))
    }
    pub fn json_array(name: impl Into<String>) -> Self {
        Self::new(name, Some(TypeSpec::json_array()))
    }
    pub fn json_object(name: impl Into<String>) -> Self {
        Self::new(name, Some(TypeSpec::json_object()))
    }
    /// A file input of some artifact type (`Dataset`, `Model`, `CSV`, ...).
    pub fn artifact(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        Self::new(name, Some(TypeSpec::Name(type_name.into())))
    }
    pub fn default(mut self, value: impl ToString) -> Self {
        self.default = Some(value.to_string());
        self
    }
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
}

impl OutputSpec {
    pub fn new(name: impl Into<String>, type_spec: Option<TypeSpec>) -> Self {
        Self {
            name: name.into(),
            type_spec,
            description: None,
        }
    }
    pub fn of<T: KfpType>(name: impl Into<String>) -> Self {
        Self::new(name, Some(T::type_spec()))
    }
    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Some(TypeSpec::string()))
    }
    pub fn integer(name: impl Into<String>) -> Self {
        Self::new(name, Some(TypeSpec::integer()))
    }
    pub fn float(name: impl Into<String>) -> Self {
        Self::new(name, Some(TypeSpec::float()))
    }
    pub fn boolean(name: impl Into<String>) -> Self {
        Self::new(name, Some(TypeSpec::boolean()))
    }
    pub fn json_array(name: impl Into<String>) -> Self {
        Self::new(name, Some(TypeSpec::json_array()))
    }
    pub fn json_object(name: impl Into<String>) -> Self {
        Self::new(name, Some(TypeSpec::json_object()))
    }
    pub fn artifact(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        Self::new(name, Some(TypeSpec::Name(type_name.into())))
    }
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
}

impl ComponentSpec {
    pub fn input(&self, name: &str) -> Option<&InputSpec> {
        self.inputs.iter().find(|i| i.name == name)
    }
    pub fn output(&self, name: &str) -> Option<&OutputSpec> {
        self.outputs.iter().find(|o| o.name == name)
    }

    /// The inputs whose value decides an `if` placeholder (`cond: {inputValue: x}`). The
    /// branch is chosen when compiling, as KFP v1 does, so a task must give them a
    /// constant (or leave them to their default).
    pub fn condition_inputs(&self) -> BTreeSet<&str> {
        fn walk<'a>(arg: &'a CmdArg, out: &mut BTreeSet<&'a str>) {
            match arg {
                CmdArg::If { branch } => {
                    if let Predicate::InputValue { input } = &branch.cond {
                        out.insert(input);
                    }
                    branch
                        .then
                        .iter()
                        .chain(&branch.otherwise)
                        .for_each(|a| walk(a, out));
                }
                CmdArg::Concat { concat } => concat.iter().for_each(|a| walk(a, out)),
                _ => {}
            }
        }
        let mut out = BTreeSet::new();
        if let Implementation::Container(c) = &self.implementation {
            c.command
                .iter()
                .chain(&c.args)
                .for_each(|a| walk(a, &mut out));
        }
        out
    }

    /// Every placeholder of the command line, in order.
    pub fn visit_usages(&self, mut f: impl FnMut(Usage<'_>)) {
        if let Implementation::Container(c) = &self.implementation {
            for arg in c.command.iter().chain(&c.args) {
                arg.visit(&mut f);
            }
        }
    }
}

impl Component {
    /// Start a container component: `Component::container("train", "python:3.12")`.
    pub fn container(name: impl Into<String>, image: impl Into<String>) -> Self {
        Self {
            spec: ComponentSpec {
                name: name.into(),
                implementation: Implementation::Container(ContainerImpl {
                    image: image.into(),
                    ..ContainerImpl::default()
                }),
                ..ComponentSpec::default()
            },
            config: TaskConfig::default(),
        }
    }

    /// Start a resource component acting on a Kubernetes manifest.
    pub fn resource(
        name: impl Into<String>,
        action: ResourceAction,
        manifest: impl Into<String>,
    ) -> Self {
        Self {
            spec: ComponentSpec {
                name: name.into(),
                implementation: Implementation::Resource(ResourceImpl {
                    action: action.as_str().into(),
                    manifest: manifest.into(),
                    ..ResourceImpl::default()
                }),
                ..ComponentSpec::default()
            },
            config: TaskConfig::default(),
        }
    }

    /// Wrap a spec loaded from elsewhere (e.g. a `component.yaml`).
    pub fn from_spec(spec: ComponentSpec) -> Self {
        Self {
            spec,
            config: TaskConfig::default(),
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.spec.description = Some(text.into());
        self
    }
    pub fn input(mut self, input: InputSpec) -> Self {
        self.spec.inputs.push(input);
        self
    }
    pub fn output(mut self, output: OutputSpec) -> Self {
        self.spec.outputs.push(output);
        self
    }
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.spec
            .metadata
            .annotations
            .insert(key.into(), value.into());
        self
    }
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.spec.metadata.labels.insert(key.into(), value.into());
        self
    }

    fn container_impl(&mut self) -> Option<&mut ContainerImpl> {
        match &mut self.spec.implementation {
            Implementation::Container(c) => Some(c),
            Implementation::Resource(_) | Implementation::Graph(_) => None,
        }
    }

    fn resource_impl(&mut self) -> Option<&mut ResourceImpl> {
        match &mut self.spec.implementation {
            Implementation::Resource(r) => Some(r),
            Implementation::Container(_) | Implementation::Graph(_) => None,
        }
    }

    /// The program to run (replaces the image's entrypoint).
    pub fn command(mut self, parts: impl IntoIterator<Item = impl Into<CmdArg>>) -> Self {
        match self.container_impl() {
            Some(c) => c.command = parts.into_iter().map(Into::into).collect(),
            None => self
                .config
                .misuse("command", "only a container component has a command"),
        }
        self
    }
    /// Arguments of the program.
    pub fn args(mut self, parts: impl IntoIterator<Item = impl Into<CmdArg>>) -> Self {
        match self.container_impl() {
            Some(c) => c.args.extend(parts.into_iter().map(Into::into)),
            None => self
                .config
                .misuse("args", "only a container component has arguments"),
        }
        self
    }
    /// One more argument.
    pub fn arg(self, part: impl Into<CmdArg>) -> Self {
        self.args([part.into()])
    }
    /// An output the program writes to a fixed path of its own (`fileOutputs`).
    pub fn file_output(mut self, output: impl Into<String>, path: impl Into<String>) -> Self {
        match self.container_impl() {
            Some(c) => {
                c.file_outputs.insert(output.into(), path.into());
            }
            None => self
                .config
                .misuse("file_output", "only a container component has file outputs"),
        }
        self
    }
    /// The image to run, replacing the one given at construction.
    pub fn image(mut self, image: impl Into<String>) -> Self {
        match self.container_impl() {
            Some(c) => c.image = image.into(),
            None => self
                .config
                .misuse("image", "only a container component has an image"),
        }
        self
    }
    /// Resource components: done when this label-selector-style condition holds on the object.
    pub fn success_condition(mut self, condition: impl Into<String>) -> Self {
        match self.resource_impl() {
            Some(r) => r.success_condition = Some(condition.into()),
            None => self
                .config
                .misuse("success_condition", "only resource components wait"),
        }
        self
    }
    /// Resource components: failed when this condition holds on the object.
    pub fn failure_condition(mut self, condition: impl Into<String>) -> Self {
        match self.resource_impl() {
            Some(r) => r.failure_condition = Some(condition.into()),
            None => self
                .config
                .misuse("failure_condition", "only resource components wait"),
        }
        self
    }
    /// Resource components: make the object owned by the workflow (deleted with it).
    pub fn set_owner_reference(mut self, on: bool) -> Self {
        match self.resource_impl() {
            Some(r) => r.set_owner_reference = Some(on),
            None => self.config.misuse(
                "set_owner_reference",
                "only resource components own objects",
            ),
        }
        self
    }
    /// Resource components: patch strategy (`strategic`, `merge`, `json`).
    pub fn merge_strategy(mut self, strategy: impl Into<String>) -> Self {
        match self.resource_impl() {
            Some(r) => r.merge_strategy = Some(strategy.into()),
            None => self
                .config
                .misuse("merge_strategy", "only resource components patch"),
        }
        self
    }
    /// Resource components: an output read from the object with a kubectl JSONPath.
    pub fn output_json_path(
        mut self,
        output: impl Into<String>,
        json_path: impl Into<String>,
    ) -> Self {
        let output = output.into();
        match self.resource_impl() {
            Some(r) => {
                r.output_json_paths.insert(output.clone(), json_path.into());
                self.spec.outputs.push(OutputSpec::string(output));
            }
            None => self
                .config
                .misuse("output_json_path", "only resource components read objects"),
        }
        self
    }
}
