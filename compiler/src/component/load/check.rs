//! Step 4 of loading: what the model and the schema cannot see.
//!
//! KFP's own loader refuses the same things: a placeholder or `fileOutputs` entry naming
//! an input or output that does not exist, duplicate input or output names, and in a
//! graph an argument for an input the task's component does not have, a reference to a
//! missing graph input, task or task output, and tasks that depend on each other in a
//! cycle.

use std::collections::BTreeSet;

use super::yaml::Seg;
use crate::component::de::did_you_mean;
use crate::component::{
    CmdArg, ComponentSpec, GraphArgument, GraphImpl, GraphOrderError, GraphPredicate,
    Implementation, Predicate, task_order,
};

type Found = Vec<(Vec<Seg>, String)>;

/// Checks `spec`, located at `at` in its document.
pub(crate) fn check_spec(spec: &ComponentSpec, at: &[Seg], out: &mut Found) {
    let inputs: Vec<&str> = spec.inputs.iter().map(|i| i.name.as_str()).collect();
    let outputs: Vec<&str> = spec.outputs.iter().map(|o| o.name.as_str()).collect();
    unique(&inputs, "inputs", "input", at, out);
    unique(&outputs, "outputs", "output", at, out);
    let ctx = Ctx {
        inputs: &inputs,
        outputs: &outputs,
    };
    match &spec.implementation {
        Implementation::Container(c) => {
            for (field, list) in [("command", &c.command), ("args", &c.args)] {
                for (i, arg) in list.iter().enumerate() {
                    let mut path = at.to_vec();
                    path.extend([
                        Seg::Key("implementation".into()),
                        Seg::Key("container".into()),
                        Seg::Key(field.into()),
                        Seg::Index(i),
                    ]);
                    ctx.arg(arg, &mut path, out);
                }
            }
            for name in c.file_outputs.keys() {
                if !outputs.contains(&name.as_str()) {
                    let mut path = at.to_vec();
                    path.extend([
                        Seg::Key("implementation".into()),
                        Seg::Key("container".into()),
                        Seg::Key("fileOutputs".into()),
                        Seg::Key(name.clone()),
                    ]);
                    out.push((path, ctx.no_output(name)));
                }
            }
        }
        Implementation::Graph(graph) => check_graph(spec, graph, &ctx, at, out),
        Implementation::Resource(_) => {}
    }
}

fn unique(names: &[&str], field: &str, what: &str, at: &[Seg], out: &mut Found) {
    let mut seen = BTreeSet::new();
    for (i, name) in names.iter().enumerate() {
        if !seen.insert(*name) {
            let mut path = at.to_vec();
            path.extend([
                Seg::Key(field.into()),
                Seg::Index(i),
                Seg::Key("name".into()),
            ]);
            out.push((path, format!("there are two {what}s named {name:?}")));
        }
    }
}

struct Ctx<'a> {
    inputs: &'a [&'a str],
    outputs: &'a [&'a str],
}

impl Ctx<'_> {
    fn no_input(&self, name: &str) -> String {
        format!(
            "there is no input {name:?}; the inputs are: {}{}",
            list(self.inputs),
            did_you_mean(name, self.inputs)
        )
    }

    fn no_output(&self, name: &str) -> String {
        format!(
            "there is no output {name:?}; the outputs are: {}{}",
            list(self.outputs),
            did_you_mean(name, self.outputs)
        )
    }

    fn input(&self, name: &str, path: &[Seg], out: &mut Found) {
        if !self.inputs.contains(&name) {
            out.push((path.to_vec(), self.no_input(name)));
        }
    }

    fn arg(&self, arg: &CmdArg, path: &mut Vec<Seg>, out: &mut Found) {
        match arg {
            CmdArg::Literal(_) | CmdArg::Invalid(_) => {}
            CmdArg::InputValue { input } | CmdArg::InputPath { input } => {
                self.input(input, path, out)
            }
            CmdArg::OutputPath { output } => {
                if !self.outputs.contains(&output.as_str()) {
                    out.push((path.clone(), self.no_output(output)));
                }
            }
            CmdArg::Concat { concat } => {
                for (i, part) in concat.iter().enumerate() {
                    path.extend([Seg::Key("concat".into()), Seg::Index(i)]);
                    self.arg(part, path, out);
                    path.truncate(path.len() - 2);
                }
            }
            CmdArg::If { branch } => {
                path.extend([Seg::Key("if".into()), Seg::Key("cond".into())]);
                match &branch.cond {
                    Predicate::IsPresent { input } | Predicate::InputValue { input } => {
                        self.input(input, path, out)
                    }
                    Predicate::Constant(_) | Predicate::ConstantText(_) => {}
                }
                path.pop();
                for (key, list) in [("then", &branch.then), ("else", &branch.otherwise)] {
                    for (i, part) in list.iter().enumerate() {
                        path.extend([Seg::Key(key.into()), Seg::Index(i)]);
                        self.arg(part, path, out);
                        path.truncate(path.len() - 2);
                    }
                }
                path.pop();
            }
        }
    }
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join(", ")
    }
}

fn check_graph(
    spec: &ComponentSpec,
    graph: &GraphImpl,
    ctx: &Ctx<'_>,
    at: &[Seg],
    out: &mut Found,
) {
    let graph_path = |rest: &[Seg]| {
        let mut path = at.to_vec();
        path.extend([Seg::Key("implementation".into()), Seg::Key("graph".into())]);
        path.extend_from_slice(rest);
        path
    };
    let task_ids: Vec<&str> = graph.tasks.keys().map(String::as_str).collect();
    // An argument: graph inputs must exist, task outputs must exist on that task.
    let check_arg = |arg: &GraphArgument, path: Vec<Seg>, out: &mut Found| match arg {
        GraphArgument::Constant(_) => {}
        GraphArgument::GraphInput(r) => {
            if !ctx.inputs.contains(&r.input_name.as_str()) {
                out.push((path, ctx.no_input(&r.input_name)));
            }
        }
        GraphArgument::TaskOutput(r) => match graph.tasks.get(&r.task_id) {
            None => out.push((
                path,
                format!(
                    "there is no task {:?}; the tasks are: {}{}",
                    r.task_id,
                    list(&task_ids),
                    did_you_mean(&r.task_id, &task_ids)
                ),
            )),
            Some(task) => {
                if let Some(child) = &task.component_ref.spec
                    && child.output(&r.output_name).is_none()
                {
                    let outputs: Vec<&str> =
                        child.outputs.iter().map(|o| o.name.as_str()).collect();
                    out.push((
                        path,
                        format!(
                            "task {:?} ({}) has no output {:?}; its outputs are: {}{}",
                            r.task_id,
                            child.name,
                            r.output_name,
                            list(&outputs),
                            did_you_mean(&r.output_name, &outputs)
                        ),
                    ));
                }
            }
        },
    };
    for (id, task) in &graph.tasks {
        let task_path = [Seg::Key("tasks".into()), Seg::Key(id.clone())];
        for (input, arg) in &task.arguments {
            let mut rest = task_path.to_vec();
            rest.extend([Seg::Key("arguments".into()), Seg::Key(input.clone())]);
            if let Some(child) = &task.component_ref.spec
                && child.input(input).is_none()
            {
                let inputs: Vec<&str> = child.inputs.iter().map(|i| i.name.as_str()).collect();
                out.push((
                    graph_path(&rest),
                    format!(
                        "component {:?} has no input {input:?}; its inputs are: {}{}",
                        child.name,
                        list(&inputs),
                        did_you_mean(input, &inputs)
                    ),
                ));
            }
            check_arg(arg, graph_path(&rest), out);
        }
        if let Some(pred) = &task.is_enabled {
            let mut rest = task_path.to_vec();
            rest.push(Seg::Key("isEnabled".into()));
            let mut args = Vec::new();
            predicate_args(pred, &mut args);
            for arg in args {
                check_arg(arg, graph_path(&rest), out);
            }
        }
    }
    for (name, arg) in &graph.output_values {
        let path = graph_path(&[Seg::Key("outputValues".into()), Seg::Key(name.clone())]);
        if spec.output(name).is_none() {
            out.push((path.clone(), ctx.no_output(name)));
        }
        if let GraphArgument::Constant(_) = arg {
            out.push((
                path.clone(),
                "an output value must be {taskOutput: ..} or {graphInput: ..}, not a constant"
                    .into(),
            ));
        }
        check_arg(arg, path, out);
    }
    for output in &spec.outputs {
        if !graph.output_values.contains_key(&output.name) {
            out.push((
                graph_path(&[Seg::Key("outputValues".into())]),
                format!(
                    "output {:?} is declared but no outputValues entry says where it comes from",
                    output.name
                ),
            ));
        }
    }
    // Unknown tasks were reported above; only cycles are new here.
    if let Err(e @ GraphOrderError::Cycle(_)) = task_order(graph) {
        out.push((graph_path(&[Seg::Key("tasks".into())]), e.to_string()));
    }
}

fn predicate_args<'a>(pred: &'a GraphPredicate, out: &mut Vec<&'a GraphArgument>) {
    match pred {
        GraphPredicate::Compare { lhs, rhs, .. } => {
            out.push(lhs);
            out.push(rhs);
        }
        GraphPredicate::And(a, b) | GraphPredicate::Or(a, b) => {
            predicate_args(a, out);
            predicate_args(b, out);
        }
        GraphPredicate::Not(a) => predicate_args(a, out),
        GraphPredicate::Value(a) => out.push(a),
    }
}
