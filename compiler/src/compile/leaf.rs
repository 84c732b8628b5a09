//! Leaf templates: one component, resolved for the inputs a task supplies.

use std::collections::{BTreeMap, BTreeSet};

use super::names::param_name;
use crate::argo::{
    self, Artifact, Inputs, Outputs, Parameter, RawArtifact, ResourceRequirements, Template,
    TemplateMetadata, ValueFrom,
};
use crate::component::{
    CmdArg, Component, ContainerImpl, Implementation, Passing, Predicate, ResourceImpl, TaskConfig,
    TypeSpec,
};

/// KFP v1 annotation carrying the component's spec (read by KFP's UI and metadata writer).
pub const COMPONENT_SPEC_ANNOTATION: &str = "pipelines.kubeflow.org/component_spec";
/// KFP v1 label saying whether a step may be served from the cache.
pub const CACHE_LABEL: &str = "pipelines.kubeflow.org/enable_caching";
/// KFP v1 annotation limiting how old a cached result may be (`P0D` disables reuse).
pub const CACHE_STALENESS_ANNOTATION: &str = "pipelines.kubeflow.org/max_cache_staleness";
/// KFP v1 annotation with a task's human-friendly name.
pub const DISPLAY_NAME_ANNOTATION: &str = "pipelines.kubeflow.org/task_display_name";

/// How an output's consumers read it: as a value (an Argo parameter), as a file (an
/// artifact), or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Needs {
    pub value: bool,
    pub file: bool,
}

impl Needs {
    pub const VALUE: Self = Self {
        value: true,
        file: false,
    };
    pub const FILE: Self = Self {
        value: false,
        file: true,
    };
}

/// How a task's inputs appear in its leaf template.
#[derive(Debug, Default)]
pub struct InputUse {
    /// Input name -> Argo parameter name, for inputs read as values.
    pub values: BTreeMap<String, String>,
    /// Input name -> Argo artifact name, for inputs read as files.
    pub paths: BTreeMap<String, String>,
}

/// The Argo name of every input and output of a component (sanitised, unique).
fn argo_names<'a>(names: impl Iterator<Item = &'a str>) -> BTreeMap<String, String> {
    let mut used = super::names::NameSet::default();
    names
        .map(|n| (n.to_owned(), used.unique(&param_name(n))))
        .collect()
}

/// Where a file output is written inside the container (KFP v1's layout).
pub fn output_file(argo_name: &str) -> String {
    format!("/tmp/outputs/{argo_name}/data")
}

/// Where a file input is placed inside the container (KFP v1's layout).
pub fn input_file(argo_name: &str) -> String {
    format!("/tmp/inputs/{argo_name}/data")
}

/// Build the leaf template of `component` for a task that supplies `supplied` inputs,
/// `decided` holding the constants given to its
/// [`condition_inputs`](crate::component::ComponentSpec::condition_inputs).
/// Errors are messages naming the input/output at fault.
pub fn leaf_template(
    component: &Component,
    overrides: &TaskConfig,
    supplied: &BTreeSet<String>,
    decided: &BTreeMap<String, String>,
    outputs_needs: &[Needs],
    display_name: Option<&str>,
) -> Result<(Template, InputUse), Vec<String>> {
    let spec = &component.spec;
    let config = component.config.merged_with(overrides);
    let mut errors: Vec<String> = config.misuses.clone();
    let present: BTreeSet<&str> = spec
        .inputs
        .iter()
        .filter(|i| supplied.contains(&i.name) || i.default.is_some())
        .map(|i| i.name.as_str())
        .collect();
    let input_names = argo_names(spec.inputs.iter().map(|i| i.name.as_str()));
    let output_names = argo_names(spec.outputs.iter().map(|o| o.name.as_str()));

    let mut usage = InputUse::default();
    let mut written: BTreeMap<String, String> = BTreeMap::new();
    let mut template = Template::default();

    match &spec.implementation {
        Implementation::Container(c) => {
            let mut ctx = Resolver {
                component,
                supplied,
                decided,
                present: &present,
                input_names: &input_names,
                output_names: &output_names,
                usage: &mut usage,
                written: &mut written,
                errors: &mut errors,
            };
            let command = ctx.resolve_list(&c.command);
            let args = ctx.resolve_list(&c.args);
            for (output, path) in &c.file_outputs {
                match output_names.get(output) {
                    Some(_) => {
                        written.insert(output.clone(), path.clone());
                    }
                    None => errors.push(format!(
                        "fileOutputs names {output:?}, which is not an output"
                    )),
                }
            }
            template.container = Some(container(c, command, args, &config));
        }
        Implementation::Resource(r) => {
            for input in &spec.inputs {
                if present.contains(input.name.as_str()) {
                    usage
                        .values
                        .insert(input.name.clone(), input_names[&input.name].clone());
                }
            }
            template.resource = Some(resource(r));
        }
        Implementation::Graph(_) => errors.push(format!(
            "graph component {:?} reached the compiler as a container: add its tasks with \
             `Pipeline::task`, which runs a graph component as a sub-pipeline",
            spec.name
        )),
    }

    // Inputs: values as parameters, files as artifacts, with the component's defaults.
    for input in &spec.inputs {
        let default = input
            .default
            .clone()
            .filter(|_| !supplied.contains(&input.name));
        if let Some(name) = usage.values.get(&input.name) {
            template.inputs.parameters.push(Parameter {
                name: name.clone(),
                default: default.clone(),
                ..Parameter::default()
            });
        }
        if let Some(name) = usage.paths.get(&input.name) {
            template.inputs.artifacts.push(Artifact {
                name: name.clone(),
                path: Some(input_file(name)),
                raw: default.map(|data| RawArtifact { data }),
                ..Artifact::default()
            });
        }
    }

    // Outputs: parameter types are read back as parameters, everything else is stored.
    for (index, output) in spec.outputs.iter().enumerate() {
        let name = &output_names[&output.name];
        if let Implementation::Resource(r) = &spec.implementation {
            if let Some(path) = r.output_json_paths.get(&output.name) {
                template.outputs.parameters.push(Parameter {
                    name: name.clone(),
                    value_from: Some(Box::new(ValueFrom {
                        json_path: Some(path.clone()),
                        ..ValueFrom::default()
                    })),
                    ..Parameter::default()
                });
            } else {
                errors.push(format!(
                    "output {:?} of a resource component needs a JSONPath (`output_json_path`)",
                    output.name
                ));
            }
            continue;
        }
        let Some(path) = written.get(&output.name) else {
            errors.push(format!(
                "output {:?} is never written: put `output_path({:?})` on the command line or \
                 declare it with `file_output`",
                output.name, output.name
            ));
            continue;
        };
        let needs = outputs_needs.get(index).copied().unwrap_or_else(|| {
            match TypeSpec::passing(output.type_spec.as_ref()) {
                Passing::Parameter => Needs::VALUE,
                Passing::Artifact => Needs::FILE,
            }
        });
        if needs.value {
            template.outputs.parameters.push(Parameter {
                name: name.clone(),
                value_from: Some(Box::new(ValueFrom {
                    path: Some(path.clone()),
                    ..ValueFrom::default()
                })),
                ..Parameter::default()
            });
        }
        if needs.file {
            template.outputs.artifacts.push(Artifact {
                name: name.clone(),
                path: Some(path.clone()),
                ..Artifact::default()
            });
        }
    }

    apply_pod_settings(&mut template, &config);
    template.metadata = metadata(component, &config, display_name);
    if errors.is_empty() {
        Ok((template, usage))
    } else {
        Err(errors)
    }
}

struct Resolver<'a> {
    component: &'a Component,
    supplied: &'a BTreeSet<String>,
    decided: &'a BTreeMap<String, String>,
    present: &'a BTreeSet<&'a str>,
    input_names: &'a BTreeMap<String, String>,
    output_names: &'a BTreeMap<String, String>,
    usage: &'a mut InputUse,
    written: &'a mut BTreeMap<String, String>,
    errors: &'a mut Vec<String>,
}

impl Resolver<'_> {
    fn resolve_list(&mut self, args: &[CmdArg]) -> Vec<String> {
        let mut out = Vec::with_capacity(args.len());
        for arg in args {
            self.resolve_into(arg, &mut out);
        }
        out
    }

    /// Expand one placeholder; `If` may expand to several arguments or none.
    fn resolve_into(&mut self, arg: &CmdArg, out: &mut Vec<String>) {
        match arg {
            CmdArg::If { branch } => {
                let chosen = match self.predicate(&branch.cond) {
                    Some(true) => &branch.then,
                    Some(false) => &branch.otherwise,
                    None => return,
                };
                for a in chosen {
                    self.resolve_into(a, out);
                }
            }
            other => {
                if let Some(text) = self.resolve_one(other) {
                    out.push(text);
                }
            }
        }
    }

    /// A single argument's text; `None` drops it (an optional input the task omits).
    fn resolve_one(&mut self, arg: &CmdArg) -> Option<String> {
        match arg {
            CmdArg::Literal(text) => Some(text.clone()),
            CmdArg::InputValue { input } => {
                let name = self.input(input)?;
                self.usage.values.insert(input.clone(), name.clone());
                Some(format!("{{{{inputs.parameters.{name}}}}}"))
            }
            CmdArg::InputPath { input } => {
                let name = self.input(input)?;
                self.usage.paths.insert(input.clone(), name.clone());
                Some(input_file(&name))
            }
            CmdArg::OutputPath { output } => match self.output_names.get(output) {
                Some(name) => {
                    let path = output_file(name);
                    self.written.insert(output.clone(), path.clone());
                    Some(path)
                }
                None => {
                    self.errors.push(format!(
                        "`outputPath: {output}` names no output of component {:?}",
                        self.component.spec.name
                    ));
                    None
                }
            },
            CmdArg::Concat { concat } => {
                let mut joined = String::new();
                for part in concat {
                    let mut pieces = Vec::new();
                    self.resolve_into(part, &mut pieces);
                    pieces.iter().for_each(|p| joined.push_str(p));
                }
                Some(joined)
            }
            CmdArg::If { .. } => {
                let mut pieces = Vec::new();
                self.resolve_into(arg, &mut pieces);
                Some(pieces.concat())
            }
            CmdArg::Invalid(message) => {
                self.errors.push(message.clone());
                None
            }
        }
    }

    /// The Argo name of a present input; `None` if the task omits it (or it is unknown).
    fn input(&mut self, input: &str) -> Option<String> {
        match self.input_names.get(input) {
            None => {
                self.errors.push(format!(
                    "a placeholder names {input:?}, which is not an input of component {:?}",
                    self.component.spec.name
                ));
                None
            }
            Some(name) if self.present.contains(input) => Some(name.clone()),
            Some(_) => None,
        }
    }

    fn predicate(&mut self, cond: &Predicate) -> Option<bool> {
        match cond {
            Predicate::IsPresent { input } => {
                if !self.input_names.contains_key(input) {
                    self.errors
                        .push(format!("`isPresent: {input}` names no input"));
                    return None;
                }
                Some(self.present.contains(input.as_str()))
            }
            Predicate::Constant(b) => Some(*b),
            Predicate::ConstantText(t) => Some(t.trim().eq_ignore_ascii_case("true")),
            Predicate::InputValue { input } => {
                // The branch is chosen when compiling: from a constant the task gives,
                // else from the input's default.
                if let Some(value) = self.decided.get(input) {
                    return Some(value.trim().eq_ignore_ascii_case("true"));
                }
                if self.supplied.contains(input) {
                    self.errors.push(format!(
                        "input {input:?} decides which arguments the command line has \
                         (`if: {{cond: {{inputValue: {input}}}}}`), so its value must be known \
                         when compiling: pass a constant, not a parameter or task output"
                    ));
                    return None;
                }
                match self
                    .component
                    .spec
                    .input(input)
                    .and_then(|i| i.default.as_deref())
                {
                    Some(d) => Some(d.trim().eq_ignore_ascii_case("true")),
                    None => {
                        self.errors.push(format!(
                            "`if: {{cond: {{inputValue: {input}}}}}` needs the value when \
                             compiling; pass a constant or give the input a default"
                        ));
                        None
                    }
                }
            }
        }
    }
}

fn container(
    c: &ContainerImpl,
    command: Vec<String>,
    args: Vec<String>,
    config: &TaskConfig,
) -> argo::Container {
    let mut env: Vec<argo::EnvVar> = c
        .env
        .iter()
        .map(|(k, v)| argo::EnvVar {
            name: k.clone(),
            value: Some(v.clone()),
            value_from: None,
        })
        .collect();
    for var in &config.env {
        env.retain(|e| e.name != var.name);
        env.push(var.clone());
    }
    argo::Container {
        name: None,
        image: c.image.clone(),
        command,
        args,
        working_dir: None,
        env,
        resources: ResourceRequirements {
            requests: config.requests.clone(),
            limits: config.limits.clone(),
        },
        volume_mounts: config.volume_mounts.clone(),
        image_pull_policy: config.image_pull_policy.map(|p| p.as_str().to_owned()),
        extra: BTreeMap::new(),
    }
}

fn resource(r: &ResourceImpl) -> argo::ResourceTemplate {
    argo::ResourceTemplate {
        action: r.action.clone(),
        manifest: Some(r.manifest.clone()),
        success_condition: r.success_condition.clone(),
        failure_condition: r.failure_condition.clone(),
        set_owner_reference: r.set_owner_reference,
        merge_strategy: r.merge_strategy.clone(),
        flags: Vec::new(),
    }
}

fn apply_pod_settings(template: &mut Template, config: &TaskConfig) {
    template.volumes = config.volumes.iter().map(|v| v.0.clone()).collect();
    template.node_selector = config.node_selector.clone();
    template.tolerations = config.tolerations.clone();
    template.affinity = config.affinity.clone();
    template.retry_strategy = config.retry.as_ref().map(|r| r.to_argo());
    template.active_deadline_seconds = config.timeout.map(|t| t.as_secs().to_string());
    template.sidecars = config.sidecars.clone();
}

fn metadata(
    component: &Component,
    config: &TaskConfig,
    display_name: Option<&str>,
) -> TemplateMetadata {
    let mut meta = TemplateMetadata {
        labels: component.spec.metadata.labels.clone(),
        annotations: component.spec.metadata.annotations.clone(),
    };
    meta.labels.extend(config.labels.clone());
    meta.annotations.extend(config.annotations.clone());
    if let Some(enabled) = config.caching {
        meta.labels.insert(CACHE_LABEL.into(), enabled.to_string());
        if !enabled {
            meta.annotations
                .insert(CACHE_STALENESS_ANNOTATION.into(), "P0D".into());
        }
    }
    if let Some(name) = display_name {
        meta.annotations
            .insert(DISPLAY_NAME_ANNOTATION.into(), name.to_owned());
    }
    if matches!(component.spec.implementation, Implementation::Container(_))
        && let Ok(spec) = serde_json::to_string(&component.spec)
    {
        meta.annotations
            .insert(COMPONENT_SPEC_ANNOTATION.into(), spec);
    }
    meta
}

/// Inputs/outputs declared on a DAG template for values crossing its boundary.
pub fn dag_io(params: &[String], artifacts: &[String]) -> Inputs {
    Inputs {
        parameters: params
            .iter()
            .map(|n| Parameter {
                name: n.clone(),
                ..Parameter::default()
            })
            .collect(),
        artifacts: artifacts
            .iter()
            .map(|n| Artifact {
                name: n.clone(),
                ..Artifact::default()
            })
            .collect(),
    }
}

/// Outputs of a DAG template, each forwarded from a task inside it.
pub fn dag_outputs(params: &[(String, String)], artifacts: &[(String, String)]) -> Outputs {
    Outputs {
        parameters: params
            .iter()
            .map(|(name, from)| Parameter {
                name: name.clone(),
                value_from: Some(Box::new(ValueFrom {
                    parameter: Some(from.clone()),
                    ..ValueFrom::default()
                })),
                ..Parameter::default()
            })
            .collect(),
        artifacts: artifacts
            .iter()
            .map(|(name, from)| Artifact {
                name: name.clone(),
                from: Some(from.clone()),
                ..Artifact::default()
            })
            .collect(),
    }
}
