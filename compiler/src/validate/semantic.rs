//! Check 3: Argo's structural rules (ARGO-SEMANTICS.md §13 and the sections it cites):
//! identity of the object, names, one body per template, template references,
//! loops, arguments and required inputs, leaf-only/dag-only fields and the CRD limits.
//! DAG graph rules (depends, cycles, targets) live in [`super::dag`].

use super::Issues;
use super::Limits;
use super::model::{Kind, Model, Tmpl, bodies, field, is_set, list, obj_field, str_field};
use super::path::Loc;
use super::schema;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Longest template, step or task name Argo accepts.
const MAX_FIELD_NAME: usize = 128;
/// Longest `metadata.name` Argo accepts.
const MAX_WORKFLOW_NAME: usize = 63;
/// Longest `metadata.generateName` (5 random characters are appended).
const MAX_GENERATE_NAME: usize = 58;

/// Keys that give an artifact its content.
const ARTIFACT_SOURCES: [&str; 12] = [
    "from",
    "fromExpression",
    "raw",
    "http",
    "s3",
    "git",
    "gcs",
    "azure",
    "hdfs",
    "oss",
    "artifactory",
    "plugin",
];

/// Runs every structural check.
pub(crate) fn check(m: &Model<'_>, limits: &Limits, issues: &mut Issues) {
    identity(m.root, issues);
    let Some(spec) = m.spec else { return };
    let spec_l = Loc::ROOT.key("spec");
    workflow_spec(m, spec, &spec_l, issues);

    let tl = spec_l.key("templates");
    if m.templates.len() > limits.max_templates {
        issues.push(
            &tl,
            format!(
                "{} templates exceed the limit of {} templates per workflow \
                 (Workflow CRD limit); move templates into a WorkflowTemplate",
                m.templates.len(),
                limits.max_templates
            ),
        );
    }
    for (i, tv) in m.templates_v.iter().enumerate() {
        let Some(t) = m.templates[i] else { continue };
        let l = tl.index(i, tv);
        if let Some(name) = t.name
            && let Some(&first) = m.by_name.get(name).filter(|&&f| f != i)
        {
            issues.push(
                &l.key("name"),
                format!("duplicate template name `{name}` (also spec.templates[{first}])"),
            );
        }
        template(spec, t, &l, limits, issues, m);
    }
}

/// `apiVersion`, `kind`, `metadata.name`/`generateName`.
fn identity(root: &Value, issues: &mut Issues) {
    let Some(obj) = root.as_object() else { return };
    if field(obj, "apiVersion").is_none() {
        issues.push(
            &Loc::ROOT.key("apiVersion"),
            "missing: must be `argoproj.io/v1alpha1`",
        );
    }
    if field(obj, "kind").is_none() {
        issues.push(&Loc::ROOT.key("kind"), "missing: must be `Workflow`");
    }
    let ml = Loc::ROOT.key("metadata");
    // A missing or ill-typed `metadata` is reported by the schema.
    let Some(meta) = obj_field(obj, "metadata") else {
        return;
    };
    let name = str_field(meta, "name").filter(|s| !s.is_empty());
    let generate = str_field(meta, "generateName").filter(|s| !s.is_empty());
    if let Some(name) = name {
        if name.len() > MAX_WORKFLOW_NAME {
            issues.push(
                &ml.key("name"),
                format!(
                    "`{name}` is {} characters long; at most {MAX_WORKFLOW_NAME} are allowed",
                    name.len()
                ),
            );
        }
        if !is_dns_subdomain(name) {
            issues.push(
                &ml.key("name"),
                format!(
                    "`{name}` is not a DNS-1123 name: use lower-case letters, digits, `-` \
                     and `.`, starting and ending with a letter or digit"
                ),
            );
        }
    }
    if let Some(g) = generate {
        if g.len() > MAX_GENERATE_NAME {
            issues.push(
                &ml.key("generateName"),
                format!(
                    "`{g}` is {} characters long; at most {MAX_GENERATE_NAME} are allowed",
                    g.len()
                ),
            );
        }
        let masked = match g.strip_suffix('-') {
            Some(head) => format!("{head}a"),
            None => g.to_string(),
        };
        if !is_dns_subdomain(&masked) {
            issues.push(
                &ml.key("generateName"),
                format!(
                    "`{g}` is not a valid DNS-1123 name prefix: use lower-case letters, \
                     digits, `-` and `.`, starting with a letter or digit"
                ),
            );
        }
    }
    if name.is_none() && generate.is_none() {
        issues.push(&ml, "neither `name` nor `generateName` is set");
    }
}

/// A Kubernetes DNS-1123 subdomain (without its length limit).
fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

/// Template, step and task names: `[a-zA-Z0-9][-a-zA-Z0-9]*`, at most 128 characters.
fn field_name_problem(name: &str) -> Option<String> {
    let ok_chars = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !ok_chars {
        return Some(format!(
            "`{name}` is not a valid name: use letters, digits and `-`, starting with a \
             letter or digit"
        ));
    }
    if name.len() > MAX_FIELD_NAME {
        return Some(format!(
            "`{name}` is {} characters long; at most {MAX_FIELD_NAME} are allowed",
            name.len()
        ));
    }
    None
}

/// Parameter and artifact names: `[-a-zA-Z0-9_]+`.
fn param_name_problem(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (!ok).then(|| {
        format!("`{name}` is not a valid parameter/artifact name: use letters, digits, `-` and `_`")
    })
}

/// Checks `name` of every element of a `{name, ...}` list: present, well-formed, unique.
fn check_names(items: &[Value], loc: &Loc<'_>, params: bool, what: &str, issues: &mut Issues) {
    // Lists are usually short: index names only when a linear scan would be slow.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let indexed = items.len() > 16;
    for (i, v) in items.iter().enumerate() {
        let Some(obj) = v.as_object() else { continue };
        let il = loc.index(i, v);
        match str_field(obj, "name") {
            // A missing `name` is a schema error (`required`).
            None => {}
            Some("") => issues.push(&il, format!("{what} has an empty `name`")),
            Some(name) => {
                let problem = if params {
                    param_name_problem(name)
                } else {
                    field_name_problem(name)
                };
                if let Some(p) = problem {
                    issues.push(&il.key("name"), p);
                }
                let first = if indexed {
                    let f = *seen.entry(name).or_insert(i);
                    (f != i).then_some(f)
                } else {
                    items[..i].iter().position(|o| {
                        o.as_object().and_then(|o| str_field(o, "name")) == Some(name)
                    })
                };
                if let Some(first) = first {
                    issues.push(
                        &il.key("name"),
                        format!("duplicate {what} name `{name}` (also [{first}])"),
                    );
                }
            }
        }
    }
}

/// Text of a Go `AnyString` (string, number or boolean).
fn any_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `spec`-level rules: entrypoint, exit handler, hooks, arguments.
fn workflow_spec(m: &Model<'_>, spec: &Map<String, Value>, sl: &Loc<'_>, issues: &mut Issues) {
    let wt_ref = spec
        .get("workflowTemplateRef")
        .is_some_and(|v| !v.is_null());
    if wt_ref && !m.templates.is_empty() {
        issues.push(
            &sl.key("templates"),
            "a workflow with `workflowTemplateRef` may not define its own templates",
        );
    }
    // Templates live in the referenced WorkflowTemplate: nothing below can be checked.
    let can_resolve = !(wt_ref && m.templates.is_empty());

    let args = obj_field(spec, "arguments");
    let al = sl.key("arguments");
    if let Some(args) = args {
        check_names(
            list(args, "parameters"),
            &al.key("parameters"),
            true,
            "parameter",
            issues,
        );
        check_names(
            list(args, "artifacts"),
            &al.key("artifacts"),
            true,
            "artifact",
            issues,
        );
        let pl = al.key("parameters");
        for (i, pv) in list(args, "parameters").iter().enumerate() {
            let Some(p) = pv.as_object() else { continue };
            let (Some(value), Some(options)) = (
                field(p, "value").and_then(any_string),
                field(p, "enum").and_then(Value::as_array),
            ) else {
                continue;
            };
            if !options.iter().filter_map(any_string).any(|o| o == value) {
                issues.push(
                    &pl.index(i, pv).key("value"),
                    format!("`{value}` is not one of the parameter's `enum` values"),
                );
            }
        }
    }
    let spec_args: Vec<&Map<String, Value>> = args.into_iter().collect();

    match str_field(spec, "entrypoint").filter(|s| !s.is_empty()) {
        None if !wt_ref => issues.push(&sl.key("entrypoint"), "required: name the template to run"),
        None => {}
        Some(name) if can_resolve => match m.template(name) {
            None => issues.push(
                &sl.key("entrypoint"),
                format!("`{name}` is not a template of spec.templates"),
            ),
            Some(t) => required_inputs(m, t, &spec_args, &al, "the entrypoint", issues),
        },
        Some(_) => {}
    }
    if let Some(name) = str_field(spec, "onExit").filter(|s| !s.is_empty())
        && can_resolve
    {
        match m.template(name) {
            None => issues.push(
                &sl.key("onExit"),
                format!("`{name}` is not a template of spec.templates"),
            ),
            Some(t) => required_inputs(m, t, &spec_args, &al, "the exit handler", issues),
        }
    }
    if let Some(hooks) = obj_field(spec, "hooks") {
        let hl = sl.key("hooks");
        for (name, hook) in hooks {
            let Some(hook) = hook.as_object() else {
                continue;
            };
            let l = hl.key(name);
            let mut provided = spec_args.clone();
            provided.extend(obj_field(hook, "arguments"));
            hook_rules(m, name, hook, &l, can_resolve, &provided, issues);
        }
    }
}

/// A lifecycle hook (workflow, step or task level).
fn hook_rules(
    m: &Model<'_>,
    name: &str,
    hook: &Map<String, Value>,
    l: &Loc<'_>,
    can_resolve: bool,
    provided: &[&Map<String, Value>],
    issues: &mut Issues,
) {
    if name != "exit" && str_field(hook, "expression").is_none_or(str::is_empty) {
        issues.push(
            &l.key("expression"),
            format!("hook `{name}` needs an `expression` (only the `exit` hook may omit it)"),
        );
    }
    if can_resolve {
        invocation_target(m, hook, l, "hook", provided, issues);
    }
}

/// `template`/`templateRef`/`inline` of a step, task or hook: exactly one, existing,
/// and given every input it requires.
fn invocation_target(
    m: &Model<'_>,
    call: &Map<String, Value>,
    l: &Loc<'_>,
    who: &str,
    provided: &[&Map<String, Value>],
    issues: &mut Issues,
) {
    let template = str_field(call, "template").filter(|s| !s.is_empty());
    let has_ref = is_set(call, "templateRef");
    let inline = obj_field(call, "inline");
    let count =
        usize::from(template.is_some()) + usize::from(has_ref) + usize::from(inline.is_some());
    let this = match who {
        "task" => "this task",
        "step" => "this step",
        _ => "this hook",
    };
    if count == 0 {
        issues.push(
            l,
            format!("{who} names no template: set `template`, `templateRef` or `inline`"),
        );
    } else if count > 1 {
        issues.push(
            l,
            format!("{who} sets more than one of `template`, `templateRef` and `inline`"),
        );
    }
    if let Some(name) = template {
        match m.template(name) {
            None => issues.push(
                &l.key("template"),
                format!("template `{name}` is not defined in spec.templates"),
            ),
            Some(t) => required_inputs(m, t, provided, &l.key("arguments"), this, issues),
        }
    }
    if has_ref {
        let r = obj_field(call, "templateRef");
        for key in ["name", "template"] {
            if r.and_then(|r| str_field(r, key)).is_none_or(str::is_empty) {
                issues.push(
                    &l.key("templateRef"),
                    format!("`templateRef.{key}` is required"),
                );
            }
        }
    }
    if let Some(inline) = inline {
        let t = Tmpl::new(inline);
        required_inputs(m, t, provided, &l.key("arguments"), this, issues);
        let n = bodies(inline).len();
        if n != 1 {
            issues.push(&l.key("inline"), body_count_message(n));
        }
    }
}

/// Reports inputs of `callee` that have no default and that none of `provided`
/// (argument objects) supplies.
fn required_inputs(
    m: &Model<'_>,
    callee: Tmpl<'_>,
    provided: &[&Map<String, Value>],
    l: &Loc<'_>,
    who: &str,
    issues: &mut Issues,
) {
    let supplied = |kind: &str, name: &str| {
        provided
            .iter()
            .any(|a| m.find_named(list(a, kind), name).is_some())
    };
    for p in callee.input_params().iter().filter_map(Value::as_object) {
        let Some(name) = str_field(p, "name") else {
            continue;
        };
        let has_own = ["value", "default", "valueFrom"]
            .iter()
            .any(|k| is_set(p, k));
        if !has_own && !supplied("parameters", name) {
            issues.push(
                l,
                format!(
                    "template `{}` requires input parameter `{name}`, which {who} does not supply",
                    callee.label()
                ),
            );
        }
    }
    for a in callee.input_artifacts().iter().filter_map(Value::as_object) {
        let Some(name) = str_field(a, "name") else {
            continue;
        };
        let has_own = ARTIFACT_SOURCES.iter().any(|k| is_set(a, k));
        let optional = field(a, "optional")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !has_own && !optional && !supplied("artifacts", name) {
            issues.push(
                l,
                format!(
                    "template `{}` requires input artifact `{name}`, which {who} does not supply",
                    callee.label()
                ),
            );
        }
    }
}

fn body_count_message(n: usize) -> String {
    let all = Kind::ALL.map(Kind::key).join(", ");
    if n == 0 {
        format!("template has no body: set exactly one of {all}")
    } else {
        format!("template sets {n} bodies; exactly one of {all} is allowed")
    }
}

/// Rules for one template of `spec.templates`.
fn template(
    spec: &Map<String, Value>,
    t: Tmpl<'_>,
    l: &Loc<'_>,
    limits: &Limits,
    issues: &mut Issues,
    m: &Model<'_>,
) {
    let obj = t.obj;
    match t.name {
        None | Some("") => issues.push(l, "template has no `name`"),
        Some(name) => {
            if let Some(p) = field_name_problem(name) {
                issues.push(&l.key("name"), p);
            }
        }
    }
    let present = bodies(obj);
    if present.len() != 1 {
        let mut msg = body_count_message(present.len());
        if present.len() > 1 {
            let names: Vec<&str> = present.iter().map(|k| k.key()).collect();
            msg = format!("{msg} (found {})", names.join(", "));
        }
        issues.push(l, msg);
    }
    let kind = t.kind;

    // Inputs and outputs.
    let il = l.key("inputs");
    let ol = l.key("outputs");
    let in_params = t.input_params();
    check_names(
        in_params,
        &il.key("parameters"),
        true,
        "input parameter",
        issues,
    );
    if in_params.len() > limits.max_input_parameters {
        issues.push(
            &il.key("parameters"),
            format!(
                "{} input parameters exceed the limit of {} per template (Workflow CRD limit)",
                in_params.len(),
                limits.max_input_parameters
            ),
        );
    }
    check_names(
        t.input_artifacts(),
        &il.key("artifacts"),
        true,
        "input artifact",
        issues,
    );
    check_names(
        t.output_params(),
        &ol.key("parameters"),
        true,
        "output parameter",
        issues,
    );
    check_names(
        t.output_artifacts(),
        &ol.key("artifacts"),
        true,
        "output artifact",
        issues,
    );
    let non_leaf = kind.is_some_and(|k| !k.is_leaf());
    let ial = il.key("artifacts");
    for (i, a) in t.input_artifacts().iter().enumerate() {
        let Some(ao) = a.as_object() else { continue };
        if non_leaf && field(ao, "path").is_some() {
            issues.push(
                &ial.index(i, a).key("path"),
                "`path` is only valid on artifacts of leaf templates (container, script, ...)",
            );
        }
        if field(ao, "from").is_some() {
            issues.push(
                &ial.index(i, a).key("from"),
                "`from` is not valid in inputs; pass it as an argument",
            );
        }
    }
    let oal = ol.key("artifacts");
    for (i, a) in t.output_artifacts().iter().enumerate() {
        if non_leaf && a.get("path").is_some() {
            issues.push(
                &oal.index(i, a).key("path"),
                "`path` is only valid on artifacts of leaf templates; use `from` in dag/steps outputs",
            );
        }
    }
    let opl = ol.key("parameters");
    for (i, p) in t.output_params().iter().enumerate() {
        let Some(po) = p.as_object() else { continue };
        output_param(kind, po, &opl.index(i, p), issues);
    }

    // Fields restricted by body kind (§11).
    if let Some(k) = kind {
        if is_set(obj, "timeout") && !k.is_leaf() {
            issues.push(
                &l.key("timeout"),
                format!(
                    "`timeout` is only valid on leaf templates, not on a {} template",
                    k.key()
                ),
            );
        }
        if matches!(k, Kind::Dag | Kind::Steps)
            && obj
                .get("activeDeadlineSeconds")
                .is_some_and(|v| !v.is_null())
        {
            issues.push(
                &l.key("activeDeadlineSeconds"),
                format!(
                    "`activeDeadlineSeconds` is only valid on leaf templates, not on a {} template",
                    k.key()
                ),
            );
        }
        if !matches!(k, Kind::Dag | Kind::Steps) && is_set(obj, "parallelism") {
            issues.push(
                &l.key("parallelism"),
                format!(
                    "`parallelism` is only valid on dag and steps templates, not on a {} template",
                    k.key()
                ),
            );
        }
        // A missing image is a schema error; an empty one is not, but Argo rejects it
        // unless `spec.templateDefaults` supplies one.
        if matches!(k, Kind::Container | Kind::Script)
            && obj_field(obj, k.key()).and_then(|b| str_field(b, "image")) == Some("")
            && !schema::image_defaulted(spec, k.key())
        {
            issues.push(
                &l.key(k.key()).key("image"),
                "must not be empty: name the container image to run",
            );
        }
    }
    if let Some(timeout) = str_field(obj, "timeout")
        && timeout.trim().parse::<i64>().is_ok()
    {
        issues.push(
            &l.key("timeout"),
            format!("`{timeout}` needs a unit, e.g. \"{timeout}s\""),
        );
    }
    if let Some(ads) = field(obj, "activeDeadlineSeconds") {
        let negative = ads.as_i64().is_some_and(|n| n < 0)
            || ads
                .as_str()
                .and_then(|s| s.parse::<i64>().ok())
                .is_some_and(|n| n < 0);
        if negative {
            issues.push(
                &l.key("activeDeadlineSeconds"),
                "must be a positive integer",
            );
        }
    }
    if let Some(policy) = obj_field(obj, "retryStrategy").and_then(|r| str_field(r, "retryPolicy"))
        && !matches!(
            policy,
            "" | "Always" | "OnFailure" | "OnError" | "OnTransientError"
        )
    {
        issues.push(
            &l.key("retryStrategy").key("retryPolicy"),
            format!("`{policy}` is not one of Always, OnFailure, OnError, OnTransientError"),
        );
    }

    match kind {
        Some(Kind::Dag) => {
            if let Some(dag) = obj_field(obj, "dag") {
                dag_tasks(m, dag, &l.key("dag"), limits, issues);
            }
        }
        Some(Kind::Steps) => steps(m, obj, &l.key("steps"), issues),
        _ => {}
    }
}

/// An output parameter: exactly one source, of the kind the template supports.
fn output_param(kind: Option<Kind>, p: &Map<String, Value>, l: &Loc<'_>, issues: &mut Issues) {
    let has_value = is_set(p, "value");
    let value_from = obj_field(p, "valueFrom");
    match (has_value, value_from) {
        (true, Some(_)) => {
            issues.push(
                l,
                "output parameter has both `value` and `valueFrom`; choose one",
            );
            return;
        }
        (false, None) => {
            issues.push(l, "output parameter has neither `value` nor `valueFrom`");
            return;
        }
        (true, None) => return,
        (false, Some(_)) => {}
    }
    let Some(vf) = value_from else { return };
    let set = |k: &str| {
        field(vf, k).is_some_and(|v| v.as_str().is_none_or(|s| !s.is_empty()) && !v.is_null())
    };
    let sources: Vec<&str> = [
        "path",
        "jqFilter",
        "jsonPath",
        "parameter",
        "expression",
        "supplied",
        "configMapKeyRef",
        "event",
    ]
    .into_iter()
    .filter(|k| set(k))
    .collect();
    let vl = l.key("valueFrom");
    if sources.len() > 1 {
        issues.push(
            &vl,
            format!(
                "`valueFrom` sets several sources ({}); choose one",
                sources.join(", ")
            ),
        );
        return;
    }
    let need: Option<(&[&str], &str)> = match kind {
        Some(Kind::Container | Kind::Script | Kind::ContainerSet) => Some((&["path"], "`path`")),
        Some(Kind::Resource) => Some((&["jqFilter", "jsonPath"], "`jsonPath` or `jqFilter`")),
        Some(Kind::Dag | Kind::Steps) => {
            Some((&["parameter", "expression"], "`parameter` or `expression`"))
        }
        _ => None,
    };
    if let (Some((keys, text)), Some(k)) = (need, kind)
        && !keys.iter().any(|key| sources.contains(key))
    {
        issues.push(
            &vl,
            format!("{text} must be set for an output of a {} template", k.key()),
        );
    }
}

/// Per-task rules of a DAG template (graph rules are in [`super::dag`]).
fn dag_tasks(
    m: &Model<'_>,
    dag: &Map<String, Value>,
    l: &Loc<'_>,
    limits: &Limits,
    issues: &mut Issues,
) {
    let tasks = list(dag, "tasks");
    let tl = l.key("tasks");
    // A missing `tasks` is a schema error; an empty list is Argo's.
    if field(dag, "tasks").is_some_and(Value::is_array) && tasks.is_empty() {
        issues.push(&tl, "a DAG needs at least one task");
    }
    if tasks.len() > limits.max_dag_tasks {
        issues.push(
            &tl,
            format!(
                "{} tasks exceed the limit of {} tasks per DAG template (Workflow CRD limit); \
                 split the DAG into nested DAG templates",
                tasks.len(),
                limits.max_dag_tasks
            ),
        );
    }
    check_names(tasks, &tl, false, "task", issues);
    for (i, tv) in tasks.iter().enumerate() {
        let Some(task) = tv.as_object() else { continue };
        invocation(m, task, &tl.index(i, tv), "task", issues);
    }
}

/// Per-step rules of a steps template; step names are unique across all groups.
fn steps(m: &Model<'_>, obj: &Map<String, Value>, l: &Loc<'_>, issues: &mut Issues) {
    let mut seen: HashMap<&str, (usize, usize)> = HashMap::new();
    for (g, gv) in list(obj, "steps").iter().enumerate() {
        let Some(group) = gv.as_array() else { continue };
        let gl = l.index(g, gv);
        for (j, sv) in group.iter().enumerate() {
            let Some(step) = sv.as_object() else { continue };
            let sl = gl.index(j, sv);
            match str_field(step, "name") {
                None | Some("") => issues.push(&sl, "step has no `name`"),
                Some(name) => {
                    if let Some(p) = field_name_problem(name) {
                        issues.push(&sl.key("name"), p);
                    }
                    if let Some((g0, j0)) = seen.insert(name, (g, j)) {
                        issues.push(
                            &sl.key("name"),
                            format!("duplicate step name `{name}` (also steps[{g0}][{j0}])"),
                        );
                    }
                }
            }
            invocation(m, step, &sl, "step", issues);
        }
    }
}

/// Rules shared by steps and tasks: target template, loops, arguments, hooks.
fn invocation(
    m: &Model<'_>,
    call: &Map<String, Value>,
    l: &Loc<'_>,
    who: &str,
    issues: &mut Issues,
) {
    let args = obj_field(call, "arguments");
    let provided: Vec<&Map<String, Value>> = args.into_iter().collect();
    invocation_target(m, call, l, who, &provided, issues);

    let loops: Vec<&str> = ["withItems", "withParam", "withSequence"]
        .into_iter()
        .filter(|k| is_set(call, k))
        .collect();
    if loops.len() > 1 {
        issues.push(
            &l.key(loops[1]),
            format!(
                "only one of withItems, withParam and withSequence may be set (found {})",
                loops.join(", ")
            ),
        );
    }
    if let Some(seq) = obj_field(call, "withSequence")
        && field(seq, "count").is_some()
        && field(seq, "end").is_some()
    {
        issues.push(
            &l.key("withSequence"),
            "only one of `count` and `end` may be set",
        );
    }

    if let Some(args) = args {
        let al = l.key("arguments");
        let pl = al.key("parameters");
        check_names(
            list(args, "parameters"),
            &pl,
            true,
            "argument parameter",
            issues,
        );
        for (i, p) in list(args, "parameters").iter().enumerate() {
            let Some(po) = p.as_object() else { continue };
            let has = ["value", "valueFrom"].iter().any(|k| is_set(po, k));
            if !has {
                issues.push(
                    &pl.index(i, p),
                    "argument parameter has neither `value` nor `valueFrom`",
                );
            }
        }
        let artl = al.key("artifacts");
        check_names(
            list(args, "artifacts"),
            &artl,
            true,
            "argument artifact",
            issues,
        );
        for (i, a) in list(args, "artifacts").iter().enumerate() {
            let Some(ao) = a.as_object() else { continue };
            let has = ARTIFACT_SOURCES.iter().any(|k| is_set(ao, k));
            if !has {
                issues.push(
                    &artl.index(i, a),
                    "argument artifact has no `from`, `fromExpression` or location",
                );
            }
            if field(ao, "from").is_some() && field(ao, "fromExpression").is_some() {
                issues.push(
                    &artl.index(i, a),
                    "argument artifact sets both `from` and `fromExpression`",
                );
            }
        }
    }

    if let Some(name) = str_field(call, "onExit").filter(|s| !s.is_empty())
        && m.template(name).is_none()
    {
        issues.push(
            &l.key("onExit"),
            format!("template `{name}` is not defined in spec.templates"),
        );
    }
    if let Some(hooks) = obj_field(call, "hooks") {
        let hl = l.key("hooks");
        for (name, hook) in hooks {
            let Some(hook) = hook.as_object() else {
                continue;
            };
            let provided: Vec<&Map<String, Value>> =
                obj_field(hook, "arguments").into_iter().collect();
            hook_rules(m, name, hook, &hl.key(name), true, &provided, issues);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(field_name_problem("train-2").is_none());
        assert!(field_name_problem("A").is_none());
        assert!(field_name_problem("-a").is_some());
        assert!(field_name_problem("a_b").is_some());
        assert!(field_name_problem(&"a".repeat(129)).is_some());
        assert!(param_name_problem("a_b-1").is_none());
        assert!(param_name_problem("a.b").is_some());
        assert!(is_dns_subdomain("my-wf.x1"));
        assert!(!is_dns_subdomain("My-wf"));
        assert!(!is_dns_subdomain("a-"));
        assert!(!is_dns_subdomain("a..b"));
    }
}
