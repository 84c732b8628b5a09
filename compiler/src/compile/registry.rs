//! The workflow-wide list of templates: unique names, and one template per distinct
//! component use (identical leaf templates are shared by every task that needs them).

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use super::error::Problem;
use super::graph::GraphCompiler;
use super::names::NameSet;
use crate::argo::Template;
use crate::dsl::{Pipeline, PipelineId};

#[derive(Debug)]
pub(crate) struct Registry {
    pub(crate) templates: Vec<Template>,
    names: NameSet,
    leaf_by_content: HashMap<String, String>,
    sub_pipelines: HashMap<PipelineId, String>,
    pub(crate) problems: Vec<Problem>,
    pub(crate) on_exit: Option<String>,
    max_tasks: usize,
}

impl Registry {
    pub(crate) fn new(max_tasks: usize) -> Self {
        Self {
            templates: Vec::new(),
            names: NameSet::default(),
            leaf_by_content: HashMap::default(),
            sub_pipelines: HashMap::default(),
            problems: Vec::new(),
            on_exit: None,
            max_tasks,
        }
    }

    pub(crate) fn problem(&mut self, task: Option<String>, field: Option<String>, message: String) {
        let problem = Problem {
            task,
            field,
            message,
        };
        if !self.problems.contains(&problem) {
            self.problems.push(problem);
        }
    }

    pub(crate) fn unique_template(&mut self, base: &str) -> String {
        self.names.unique(base)
    }

    pub(crate) fn push(&mut self, template: Template) {
        self.templates.push(template);
    }

    /// The name of a leaf template with this content, adding it if it is new.
    pub(crate) fn leaf(&mut self, mut template: Template, base: &str) -> String {
        // The content (without a name) identifies the template; JSON is a cheap, exact key.
        let key = serde_json::to_string(&template).unwrap_or_default();
        if let Some(name) = self.leaf_by_content.get(&key) {
            return name.clone();
        }
        let name = self.names.unique(base);
        template.name.clone_from(&name);
        self.templates.push(template);
        self.leaf_by_content.insert(key, name.clone());
        name
    }

    /// The DAG template of a pipeline used as a task, compiling it on first use.
    pub(crate) fn sub_pipeline(&mut self, pipeline: &Arc<Pipeline>) -> String {
        if let Some(name) = self.sub_pipelines.get(&pipeline.id) {
            return name.clone();
        }
        let pipeline = Arc::clone(pipeline);
        let max = self.max_tasks;
        let name = GraphCompiler::new(self, &pipeline, false, max).compile();
        self.sub_pipelines.insert(pipeline.id, name.clone());
        name
    }
}
