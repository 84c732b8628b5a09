//! Compile-time pass: give Rust-function tasks the image and binary their pipeline sets.
//!
//! A function's component is built before the pipeline it ends up in is known, so it
//! carries its own (or the default) image and binary; the pipeline's
//! [`PipelineSettings::function_image`](crate::dsl::PipelineSettings::function_image) and
//! `function_binary` replace them when the workflow is compiled, except where the
//! component pinned its own ([`PINNED_ANNOTATION`]). A sub-pipeline inherits the settings
//! of the pipeline it runs in unless it sets its own. Also reported here: two different
//! functions under one name, which the binary could not tell apart.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::{PINNED_ANNOTATION, RUST_FUNCTION_ANNOTATION};
use crate::component::{CmdArg, Component, Implementation, InputSpec, OutputSpec};
use crate::dsl::{Op, Pipeline};

#[derive(Clone, Copy, Default)]
struct Settings<'a> {
    image: Option<&'a str>,
    binary: Option<&'a str>,
}

type Ports = (Vec<InputSpec>, Vec<OutputSpec>);

#[derive(Default)]
struct Pass {
    /// Function name -> its inputs and outputs, as first seen.
    seen: BTreeMap<String, Ports>,
    conflicts: Vec<String>,
}

/// `pipeline` with its Rust-function tasks' images resolved (borrowed when nothing
/// changes, which is the case for pipelines without such tasks or settings).
pub(crate) fn resolve_function_images(pipeline: &Pipeline) -> Cow<'_, Pipeline> {
    let mut pass = Pass::default();
    let resolved = pass.pipeline(pipeline, Settings::default());
    if pass.conflicts.is_empty() {
        return resolved.map_or(Cow::Borrowed(pipeline), Cow::Owned);
    }
    let mut out = resolved.unwrap_or_else(|| pipeline.clone());
    out.errors.append(&mut pass.conflicts);
    Cow::Owned(out)
}

impl Pass {
    fn pipeline<'a>(&mut self, p: &'a Pipeline, outer: Settings<'a>) -> Option<Pipeline> {
        let here = Settings {
            image: p.settings.function_image.as_deref().or(outer.image),
            binary: p.settings.function_binary.as_deref().or(outer.binary),
        };
        // Tasks sharing a component (or sub-pipeline) keep sharing the resolved one.
        let mut done: BTreeMap<usize, Option<Op>> = BTreeMap::new();
        let mut changes: Vec<(usize, Op)> = Vec::new();
        for (i, node) in p.tasks.iter().enumerate() {
            let key = match &node.spec.op {
                Op::Component(c) => Arc::as_ptr(c) as usize,
                Op::Pipeline(s) => Arc::as_ptr(s) as usize,
            };
            let new = match done.get(&key) {
                Some(new) => new.clone(),
                None => {
                    let new = match &node.spec.op {
                        Op::Component(c) => self.component(c, here).map(Op::Component),
                        Op::Pipeline(sub) => {
                            self.pipeline(sub, here).map(|s| Op::Pipeline(Arc::new(s)))
                        }
                    };
                    done.insert(key, new.clone());
                    new
                }
            };
            if let Some(op) = new {
                changes.push((i, op));
            }
        }
        if changes.is_empty() {
            return None;
        }
        let mut out = p.clone();
        for (i, op) in changes {
            out.tasks[i].spec.op = op;
        }
        Some(out)
    }

    fn component(&mut self, c: &Arc<Component>, settings: Settings<'_>) -> Option<Arc<Component>> {
        let annotations = &c.spec.metadata.annotations;
        let name = annotations.get(RUST_FUNCTION_ANNOTATION)?;
        let ports = (c.spec.inputs.clone(), c.spec.outputs.clone());
        match self.seen.get(name) {
            None => {
                self.seen.insert(name.clone(), ports);
            }
            Some(first) if *first != ports => {
                let message = format!(
                    "two different Rust functions are named `{name}`: the pipeline binary \
                     could not tell them apart; give one another name with \
                     `#[component(name = \"...\")]`"
                );
                if !self.conflicts.contains(&message) {
                    self.conflicts.push(message);
                }
            }
            Some(_) => {}
        }
        let pinned = annotations
            .get(PINNED_ANNOTATION)
            .map(String::as_str)
            .unwrap_or_default();
        let pinned = |what: &str| pinned.split(',').any(|p| p.trim() == what);
        let Implementation::Container(imp) = &c.spec.implementation else {
            return None;
        };
        let image = settings
            .image
            .filter(|i| !pinned("image") && *i != imp.image);
        let binary = settings.binary.filter(|b| {
            !pinned("binary") && imp.command.first() != Some(&CmdArg::Literal((*b).to_owned()))
        });
        if image.is_none() && binary.is_none() {
            return None;
        }
        let mut new = Component::clone(c);
        if let Implementation::Container(imp) = &mut new.spec.implementation {
            if let Some(image) = image {
                image.clone_into(&mut imp.image);
            }
            if let (Some(binary), Some(first)) = (binary, imp.command.first_mut()) {
                *first = CmdArg::Literal(binary.to_owned());
            }
        }
        Some(Arc::new(new))
    }
}
