//! Argo's own example workflows (v4.1.2, unchanged, in `compiler/tests/data/workflows/argo/`)
//! run by the local engine, checked against what Argo documents for them
//! (`ARGO-SEMANTICS.md` §4–§7, §10–§12).
//!
//! Images are not pulled: commands run on the host. Tools an image would have and the host
//! lacks (`cowsay`) are shims put first on the `PATH` of every process.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use kfp::argo::{NodePhase, NodeStatus, NodeType, WorkflowPhase, WorkflowStatus};
use kfp_engine::{Engine, EngineConfig, RunOptions, node_id, pod_name};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Where the examples are kept.
fn example_path(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../compiler/tests/data/workflows/argo")
        .join(file)
}

/// A finished run of one example, with the engine root kept alive for its logs and artifacts.
struct Finished {
    status: WorkflowStatus,
    /// The workflow's name (`generateName` + 5 characters): the root node's name and ID.
    wf: String,
    root: PathBuf,
    run_dir: PathBuf,
    _dir: tempfile::TempDir,
}

/// Load, validate and run `file` with `parameters`, waiting for the end.
async fn run_example(file: &str, parameters: &[(&str, &str)]) -> Finished {
    let text = std::fs::read_to_string(example_path(file)).expect("the example is readable");
    let workflow = Engine::load_yaml(&text, file).expect("Argo's example validates");
    let dir = tempfile::tempdir().expect("a temporary engine root");
    let shims = dir.path().join("shims");
    write_shims(&shims);
    let mut config = EngineConfig::new(dir.path().join("engine"));
    // Every example's fan-out runs at once, as pods would on a cluster.
    config.max_parallel_pods = 16;
    let path = std::env::var("PATH").expect("PATH is set");
    config
        .env
        .push(("PATH".into(), format!("{}:{path}", shims.display())));
    let root = config.root.clone();
    let engine = Engine::new(config);
    let options = RunOptions {
        parameters: parameters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..RunOptions::default()
    };
    let handle = engine.start(workflow, options).expect("the run starts");
    let run_dir = handle.run_dir().to_owned();
    let wf = handle.name().to_owned();
    let status = handle.wait().await;
    let finished = Finished {
        status,
        wf,
        root,
        run_dir,
        _dir: dir,
    };
    // Shown by the test harness when a test fails.
    println!("status of {file}:\n{}", finished.dump());
    finished
}

/// Tools of the examples' images: `cowsay` (`argoproj/argosay`) and `python`
/// (`python:alpine`, where it is Python 3; hosts often only have `python3`).
fn write_shims(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).expect("shim directory");
    let shims = [
        (
            "cowsay",
            "#!/bin/sh\necho \" _____\"\necho \"< $* >\"\necho \" -----\"\n",
        ),
        ("python", "#!/bin/sh\nexec python3 \"$@\"\n"),
    ];
    for (name, script) in shims {
        let path = dir.join(name);
        std::fs::write(&path, script).expect("write a shim");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("make a shim executable");
    }
}

fn is_hooked(n: &NodeStatus) -> bool {
    n.node_flag.as_ref().is_some_and(|f| f.hooked)
}

fn is_retried(n: &NodeStatus) -> bool {
    n.node_flag.as_ref().is_some_and(|f| f.retried)
}

impl Finished {
    /// The full name of a node given relative to the root: `""` is the root, `".A"` a DAG
    /// task, `"[0].step"` a step.
    fn full(&self, relative: &str) -> String {
        format!("{}{relative}", self.wf)
    }

    /// The node named `relative` (see [`Finished::full`]).
    fn node(&self, relative: &str) -> &NodeStatus {
        let name = self.full(relative);
        self.status
            .node_named(&name)
            .unwrap_or_else(|| panic!("no node '{name}' in\n{}", self.dump()))
    }

    fn has_node(&self, relative: &str) -> bool {
        self.status.node_named(&self.full(relative)).is_some()
    }

    /// Names of the nodes `relative` has edges to, relative to the root.
    fn children(&self, relative: &str) -> BTreeSet<String> {
        self.node(relative)
            .children
            .iter()
            .map(|id| self.relative_name(id))
            .collect()
    }

    fn relative_name(&self, id: &str) -> String {
        let node = self
            .status
            .nodes
            .get(id)
            .unwrap_or_else(|| panic!("edge to unknown node ID '{id}' in\n{}", self.dump()));
        node.name
            .strip_prefix(&self.wf)
            .unwrap_or(&node.name)
            .to_owned()
    }

    /// The log of the pod behind node `relative` (`nodes/<pod name>/main.log`).
    fn log(&self, relative: &str) -> String {
        let node = self.node(relative);
        let template = node.template_name.as_deref().unwrap_or_default();
        let pod = pod_name(&self.wf, template, &node.name);
        let path = self.run_dir.join("nodes").join(&pod).join("main.log");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("log of '{}' at {}: {e}", node.name, path.display()))
    }

    /// Assert phase and type of node `relative`.
    fn assert_node(&self, relative: &str, node_type: NodeType, phase: NodePhase) -> &NodeStatus {
        let node = self.node(relative);
        assert_eq!(
            (node.node_type, node.phase),
            (node_type, phase),
            "type and phase of '{}' (message {:?})",
            node.name,
            node.message
        );
        node
    }

    /// Every node's ID follows Argo's formula and its parent edges point at real nodes.
    fn assert_ids_and_edges(&self) {
        for (id, node) in &self.status.nodes {
            assert_eq!(*id, node.id, "node keyed by its own ID");
            assert_eq!(*id, node_id(&self.wf, &node.name), "ID of '{}'", node.name);
            for child in &node.children {
                assert!(
                    self.status.nodes.contains_key(child),
                    "'{}' has an edge to unknown node {child}",
                    node.name
                );
            }
            if let Some(boundary) = &node.boundary_id {
                assert!(
                    self.status.nodes.contains_key(boundary),
                    "'{}' has unknown boundary {boundary}",
                    node.name
                );
            }
        }
    }

    /// How many pods left a log (`nodes/<pod>/main.log`).
    fn pod_logs(&self) -> usize {
        match std::fs::read_dir(self.run_dir.join("nodes")) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .filter(|e| e.path().join("main.log").is_file())
                .count(),
            Err(_) => 0,
        }
    }

    fn dump(&self) -> String {
        serde_json::to_string_pretty(&self.status).unwrap_or_else(|e| format!("<status: {e}>"))
    }
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn input<'a>(node: &'a NodeStatus, name: &str) -> Option<&'a str> {
    node.inputs
        .as_ref()?
        .parameters
        .iter()
        .find(|p| p.name == name)?
        .value
        .as_deref()
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dag_diamond_runs_each_task_once_and_draws_the_diamond() {
    let run = run_example("dag-diamond.yaml", &[]).await;
    assert_eq!(run.status.phase, WorkflowPhase::Succeeded, "{}", run.dump());
    assert!(run.wf.starts_with("dag-diamond-") && run.wf.len() == "dag-diamond-".len() + 5);
    run.assert_ids_and_edges();

    let root = run.assert_node("", NodeType::Dag, NodePhase::Succeeded);
    assert_eq!(root.id, run.wf, "the root node's ID is the workflow name");
    assert_eq!(root.template_name.as_deref(), Some("diamond"));
    assert_eq!(run.status.nodes.len(), 5, "the DAG and its four tasks");
    for task in ["A", "B", "C", "D"] {
        let node = run.assert_node(&format!(".{task}"), NodeType::Pod, NodePhase::Succeeded);
        assert_eq!(node.display_name, task);
        assert_eq!(node.boundary_id.as_deref(), Some(root.id.as_str()));
        assert_eq!(node.template_name.as_deref(), Some("echo"));
        assert_eq!(input(node, "message"), Some(task));
        assert_eq!(run.log(&format!(".{task}")).trim_end(), task);
    }
    assert_eq!(
        run.node(".A").id,
        format!("{}-{}", run.wf, kfp_engine::fnv32a(&run.full(".A")))
    );

    // §12.4: the DAG points at its root task; each task at the tasks depending on it.
    assert_eq!(run.children(""), set(&[".A"]));
    assert_eq!(run.children(".A"), set(&[".B", ".C"]));
    assert_eq!(run.children(".B"), set(&[".D"]));
    assert_eq!(run.children(".C"), set(&[".D"]));
    assert_eq!(run.children(".D"), set(&[]));
    assert_eq!(root.outbound_nodes, vec![run.node(".D").id.clone()]);
    assert_eq!(
        run.status.progress.as_deref(),
        Some("4/4"),
        "completed pods/all pods"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dag_enhanced_depends_runs_or_omits_each_task_by_its_expression() {
    let run = run_example("dag-enhanced-depends.yaml", &[]).await;
    run.assert_ids_and_edges();
    // C fails, but both targets (should-execute-1 and -3) completed Succeeded.
    assert_eq!(run.status.phase, WorkflowPhase::Succeeded, "{}", run.dump());
    run.assert_node("", NodeType::Dag, NodePhase::Succeeded);

    run.assert_node(".A", NodeType::Pod, NodePhase::Succeeded);
    run.assert_node(".B", NodeType::Pod, NodePhase::Succeeded);
    let c = run.assert_node(".C", NodeType::Pod, NodePhase::Failed);
    assert_eq!(c.message.as_deref(), Some("Error (exit code 1)"));
    // A && (C.Succeeded || C.Failed)
    run.assert_node(".should-execute-1", NodeType::Pod, NodePhase::Succeeded);
    // B || C
    run.assert_node(".should-execute-2", NodeType::Pod, NodePhase::Succeeded);
    // B && C: a bare C does not accept Failed.
    let omitted = run.assert_node(".should-not-execute", NodeType::Skipped, NodePhase::Omitted);
    assert_eq!(
        omitted.message.as_deref(),
        Some("omitted: depends condition not met")
    );
    // should-execute-2.Succeeded || should-not-execute
    run.assert_node(".should-execute-3", NodeType::Pod, NodePhase::Succeeded);

    // The omitted node is linked like any other (§12.4).
    assert!(run.children(".B").contains(".should-not-execute"));
    assert!(run.children(".C").contains(".should-not-execute"));
    assert_eq!(
        run.children(".should-not-execute"),
        set(&[".should-execute-3"])
    );
    assert_eq!(run.children(""), set(&[".A"]));
    assert_eq!(run.children(".A"), set(&[".B", ".C", ".should-execute-1"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditionals_run_every_step_when_true_and_skip_them_when_false() {
    let steps = [
        "print-hello-govaluate",
        "print-hello-expr",
        "print-hello-expr-json",
    ];

    let run = run_example("conditionals.yaml", &[("should-print", "true")]).await;
    assert_eq!(run.status.phase, WorkflowPhase::Succeeded, "{}", run.dump());
    run.assert_ids_and_edges();
    run.assert_node("", NodeType::Steps, NodePhase::Succeeded);
    run.assert_node("[0]", NodeType::StepGroup, NodePhase::Succeeded);
    for step in steps {
        let relative = format!("[0].{step}");
        run.assert_node(&relative, NodeType::Pod, NodePhase::Succeeded);
        assert!(
            run.log(&relative).contains("< hello >"),
            "cowsay ran for {step}"
        );
    }

    let run = run_example("conditionals.yaml", &[("should-print", "false")]).await;
    assert_eq!(run.status.phase, WorkflowPhase::Succeeded, "{}", run.dump());
    run.assert_ids_and_edges();
    run.assert_node("", NodeType::Steps, NodePhase::Succeeded);
    let expected_when = [
        // govaluate: the tag is substituted into the expression text.
        "false == true",
        // expr tags: the whole `when` is one expression tag, replaced by its result.
        "false",
        "false",
    ];
    for (step, when) in steps.into_iter().zip(expected_when) {
        let node = run.assert_node(
            &format!("[0].{step}"),
            NodeType::Skipped,
            NodePhase::Skipped,
        );
        assert_eq!(
            node.message.as_deref(),
            Some(format!("when '{when}' evaluated false").as_str()),
            "message of {step}"
        );
    }
    assert_eq!(run.pod_logs(), 0, "no process ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loops_dag_expands_items_under_a_task_group() {
    let run = run_example("loops-dag.yaml", &[]).await;
    assert_eq!(run.status.phase, WorkflowPhase::Succeeded, "{}", run.dump());
    run.assert_ids_and_edges();
    let root = run.assert_node("", NodeType::Dag, NodePhase::Succeeded);

    let group = run.assert_node(".B", NodeType::TaskGroup, NodePhase::Succeeded);
    assert_eq!(group.display_name, "B");
    assert_eq!(group.boundary_id.as_deref(), Some(root.id.as_str()));
    let items = [".B(0:foo)", ".B(1:bar)", ".B(2:baz)"];
    assert_eq!(run.children(".B"), set(&items));
    for (item, word) in items.into_iter().zip(["foo", "bar", "baz"]) {
        let node = run.assert_node(item, NodeType::Pod, NodePhase::Succeeded);
        assert_eq!(format!(".{}", node.display_name), item);
        assert_eq!(node.boundary_id.as_deref(), Some(root.id.as_str()));
        assert_eq!(input(node, "message"), Some(word));
        assert_eq!(run.log(item).trim_end(), word);
        // C depends on B: every item is an outbound node of the group.
        assert_eq!(run.children(item), set(&[".C"]));
    }
    assert_eq!(run.children(".A"), set(&[".B"]));
    run.assert_node(".C", NodeType::Pod, NodePhase::Succeeded);
    assert_eq!(run.status.nodes.len(), 7, "DAG, A, B, its 3 items and C");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loops_param_result_expands_with_param_over_the_generators_stdout() {
    let run = run_example("loops-param-result.yaml", &[]).await;
    assert_eq!(run.status.phase, WorkflowPhase::Succeeded, "{}", run.dump());
    run.assert_ids_and_edges();
    run.assert_node("", NodeType::Steps, NodePhase::Succeeded);

    let generate = run.assert_node("[0].generate", NodeType::Pod, NodePhase::Succeeded);
    let result = generate
        .outputs
        .as_ref()
        .and_then(|o| o.result.as_deref())
        .expect("the script's stdout is its result");
    let numbers: Vec<u32> = serde_json::from_str(result).expect("the result is a JSON list");
    assert_eq!(numbers, (20..=30).collect::<Vec<_>>());

    // Steps loops have no TaskGroup: the items hang off the step group.
    let group = run.assert_node("[1]", NodeType::StepGroup, NodePhase::Succeeded);
    let items: Vec<String> = numbers
        .iter()
        .enumerate()
        .map(|(i, n)| format!("[1].sleep({i}:{n})"))
        .collect();
    let item_refs: Vec<&str> = items.iter().map(String::as_str).collect();
    assert_eq!(run.children("[1]"), set(&item_refs));
    assert!(
        !run.has_node("[1].sleep"),
        "no node for the unexpanded step"
    );
    for (item, n) in items.iter().zip(&numbers) {
        let node = run.assert_node(item, NodeType::Pod, NodePhase::Succeeded);
        assert_eq!(node.boundary_id.as_deref(), Some(run.wf.as_str()));
        assert_eq!(input(node, "seconds"), Some(n.to_string().as_str()));
        assert_eq!(
            run.log(item),
            format!("sleeping for {n} seconds\ndone\n"),
            "log of {item}"
        );
    }
    assert_eq!(group.boundary_id.as_deref(), Some(run.wf.as_str()));
    assert_eq!(run.children("[0].generate"), set(&["[1]"]));
    let mut outbound = run.node("").outbound_nodes.clone();
    outbound.sort();
    let mut item_ids: Vec<String> = items.iter().map(|i| run.node(i).id.clone()).collect();
    item_ids.sort();
    assert_eq!(
        outbound, item_ids,
        "the items are the steps' outbound nodes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_aggregation_dag_aggregates_loop_outputs_for_consumers() {
    let run = run_example("parameter-aggregation-dag.yaml", &[]).await;
    assert_eq!(run.status.phase, WorkflowPhase::Succeeded, "{}", run.dump());
    run.assert_ids_and_edges();

    run.assert_node(".odd-or-even", NodeType::TaskGroup, NodePhase::Succeeded);
    for (i, n) in [1, 2, 3, 4].into_iter().enumerate() {
        let node = run.assert_node(
            &format!(".odd-or-even({i}:{n})"),
            NodeType::Pod,
            NodePhase::Succeeded,
        );
        let outputs = node.outputs.as_ref().expect("outputs of odd-or-even");
        assert_eq!(outputs.parameter("num"), Some(n.to_string().as_str()));
        let evenness = if n % 2 == 0 { "even" } else { "odd" };
        assert_eq!(outputs.parameter("evenness"), Some(evenness));
    }

    // §5.3: values that are not JSON objects/lists aggregate as a list of strings.
    let nums = run.assert_node(".print-nums", NodeType::Pod, NodePhase::Succeeded);
    assert_eq!(input(nums, "message"), Some(r#"["1","2","3","4"]"#));
    assert_eq!(run.log(".print-nums").trim_end(), r#"["1","2","3","4"]"#);
    let evenness = run.assert_node(".print-evenness", NodeType::Pod, NodePhase::Succeeded);
    assert_eq!(
        input(evenness, "message"),
        Some(r#"["odd","even","odd","even"]"#)
    );

    // withParam over `outputs.parameters`: one map per iteration, named by sorted entries.
    run.assert_node(".divide-by-2", NodeType::TaskGroup, NodePhase::Succeeded);
    for (i, n) in [1, 2, 3, 4].into_iter().enumerate() {
        let evenness = if n % 2 == 0 { "even" } else { "odd" };
        let item = format!(".divide-by-2({i}:evenness:{evenness},num:{n})");
        if n % 2 == 0 {
            let node = run.assert_node(&item, NodeType::Pod, NodePhase::Succeeded);
            assert_eq!(input(node, "num"), Some(n.to_string().as_str()));
            let result = node.outputs.as_ref().and_then(|o| o.result.as_deref());
            assert_eq!(result, Some((n / 2).to_string().as_str()));
        } else {
            let node = run.assert_node(&item, NodeType::Skipped, NodePhase::Skipped);
            assert_eq!(
                node.message.as_deref(),
                Some("when 'odd == even' evaluated false")
            );
        }
        // Skipped items are outbound nodes of the group like the others (§12.4).
        assert_eq!(run.children(&item), set(&[".print"]));
    }

    // The results of the Succeeded iterations only, parsed as JSON: [1, 2].
    run.assert_node(".print", NodeType::TaskGroup, NodePhase::Succeeded);
    assert_eq!(run.children(".print"), set(&[".print(0:1)", ".print(1:2)"]));
    for (item, n) in [(".print(0:1)", "1"), (".print(1:2)", "2")] {
        let node = run.assert_node(item, NodeType::Pod, NodePhase::Succeeded);
        assert_eq!(input(node, "message"), Some(n));
        assert_eq!(run.log(item).trim_end(), n);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_handlers_run_after_a_failure_and_see_its_status_and_failures() {
    let run = run_example("exit-handlers.yaml", &[]).await;
    run.assert_ids_and_edges();
    assert_eq!(run.status.phase, WorkflowPhase::Failed, "{}", run.dump());
    let root = run.assert_node("", NodeType::Pod, NodePhase::Failed);
    let message = root.message.as_deref().unwrap_or_default();
    assert!(
        message.starts_with("Error (exit code 1)"),
        "root message: {message}"
    );
    assert_eq!(
        run.status.message, root.message,
        "the workflow reports the root's message"
    );
    assert_eq!(root.template_name.as_deref(), Some("intentional-fail"));
    assert_eq!(run.log(""), "intentional failure\n");

    let handler = run.assert_node(".onExit", NodeType::Steps, NodePhase::Succeeded);
    assert!(is_hooked(handler), "the exit handler is flagged hooked");
    assert_eq!(
        handler.boundary_id, None,
        "the exit handler has no boundary"
    );
    assert_eq!(handler.template_name.as_deref(), Some("exit-handler"));

    // `{{workflow.status}}` is Failed: cry, not celebrate.
    run.assert_node(".onExit[0].notify", NodeType::Pod, NodePhase::Succeeded);
    let celebrate = run.assert_node(
        ".onExit[0].celebrate",
        NodeType::Skipped,
        NodePhase::Skipped,
    );
    assert_eq!(
        celebrate.message.as_deref(),
        Some("when 'Failed == Succeeded' evaluated false")
    );
    run.assert_node(".onExit[0].cry", NodeType::Pod, NodePhase::Succeeded);
    assert_eq!(run.log(".onExit[0].cry"), "boohoo!\n");

    // `echo send e-mail: {{workflow.name}} {{workflow.status}} {{workflow.duration}}. Failed
    // steps {{workflow.failures}}` through `sh -c`.
    let log = run.log(".onExit[0].notify");
    let rest = log
        .trim_end()
        .strip_prefix(&format!("send e-mail: {} Failed ", run.wf))
        .unwrap_or_else(|| panic!("notify log starts with the name and status: {log}"));
    let (duration, failures) = rest
        .split_once(". Failed steps ")
        .unwrap_or_else(|| panic!("notify log names the failed steps: {log}"));
    let seconds: f64 = duration
        .parse()
        .expect("workflow.duration is seconds as a float");
    assert!(seconds >= 0.0);
    // One entry, for the root. The shell removed the JSON's double quotes (see the report:
    // Argo substitutes the list Go-quoted, so its log shows the JSON itself); the fields'
    // values survive either way.
    assert!(
        failures.starts_with("[{") && failures.ends_with("}]"),
        "failures: {failures}"
    );
    assert_eq!(
        failures.matches("displayName").count(),
        1,
        "only the root failed: {failures}"
    );
    for value in [
        run.wf.as_str(),
        message,
        "intentional-fail",
        "Failed",
        root.finished_at.as_deref().unwrap_or("finishedAt"),
    ] {
        assert!(
            failures.contains(value),
            "failures mention {value:?}: {failures}"
        );
    }

    // The workflow's exit handler hangs off no node.
    assert!(root.children.is_empty(), "no edge to the exit handler");
    assert_eq!(run.children(".onExit"), set(&[".onExit[0]"]));
    assert_eq!(
        run.children(".onExit[0]"),
        set(&[
            ".onExit[0].notify",
            ".onExit[0].celebrate",
            ".onExit[0].cry"
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_backoff_retries_failed_attempts_under_a_retry_node() {
    let run = run_example("retry-backoff.yaml", &[]).await;
    run.assert_ids_and_edges();
    let root = run.node("");
    assert_eq!(root.node_type, NodeType::Retry);
    assert_eq!(root.id, run.wf);

    // Attempts `<wf>(0)`, `<wf>(1)`, ... in order, each flagged retried.
    let attempts: Vec<&NodeStatus> = (0..)
        .map_while(|i| run.status.node_named(&run.full(&format!("({i})"))))
        .collect();
    assert!(!attempts.is_empty(), "at least one attempt: {}", run.dump());
    assert!(attempts.len() <= 11, "limit 10: at most 11 attempts");
    assert_eq!(
        run.status.nodes.len(),
        attempts.len() + 1,
        "the Retry node and its attempts"
    );
    let attempt_ids: Vec<String> = attempts.iter().map(|a| a.id.clone()).collect();
    assert_eq!(root.children, attempt_ids, "Retry → its attempts, in order");
    for (i, attempt) in attempts.iter().enumerate() {
        assert_eq!(attempt.node_type, NodeType::Pod);
        assert_eq!(attempt.display_name, format!("{}({i})", run.wf));
        assert!(is_retried(attempt), "attempt {i} flagged retried");
        let log_dir =
            run.run_dir
                .join("nodes")
                .join(pod_name(&run.wf, "retry-backoff", &attempt.name));
        assert!(
            log_dir.join("main.log").exists(),
            "attempt {i} ran as its own pod"
        );
    }
    let (last, earlier) = attempts.split_last().expect("at least one attempt");
    for attempt in earlier {
        assert_eq!(
            attempt.phase,
            NodePhase::Failed,
            "only failures are retried"
        );
        assert_eq!(attempt.message.as_deref(), Some("Error (exit code 1)"));
    }

    // Whatever the dice said, the Retry node and the workflow agree with the last attempt.
    assert_eq!(root.phase, last.phase);
    match last.phase {
        NodePhase::Succeeded => {
            assert_eq!(run.status.phase, WorkflowPhase::Succeeded);
            assert_eq!(
                root.outputs.as_ref().and_then(|o| o.exit_code.as_deref()),
                Some("0")
            );
        }
        NodePhase::Failed => {
            assert_eq!(run.status.phase, WorkflowPhase::Failed);
            let message = root.message.as_deref().unwrap_or_default();
            assert!(
                [
                    "No more retries left",
                    "Backoff would exceed max duration limit",
                    "Max duration limit exceeded"
                ]
                .contains(&message),
                "why the retries stopped: {message}"
            );
        }
        other => panic!("unexpected last attempt phase {other}: {}", run.dump()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artifact_passing_hands_the_stored_tarball_to_the_consumer() {
    let run = run_example("artifact-passing.yaml", &[]).await;
    assert_eq!(run.status.phase, WorkflowPhase::Succeeded, "{}", run.dump());
    run.assert_ids_and_edges();

    let producer = run.assert_node("[0].generate-artifact", NodeType::Pod, NodePhase::Succeeded);
    let artifact = producer
        .outputs
        .as_ref()
        .and_then(|o| o.artifacts.iter().find(|a| a.name == "hello-art"))
        .unwrap_or_else(|| panic!("producer reports hello-art: {}", run.dump()));
    let key = artifact
        .s3
        .as_ref()
        .and_then(|s| s.key.as_deref())
        .expect("the artifact's store key");
    // §7: `<workflow>/<pod>/<artifact>.tgz`.
    let pod = pod_name(&run.wf, "hello-world-to-file", &producer.name);
    assert_eq!(key, format!("{}/{pod}/hello-art.tgz", run.wf));
    assert!(
        run.root.join("artifacts").join(key).is_file(),
        "{key} is stored under the engine's artifacts/"
    );
    assert_eq!(run.log("[0].generate-artifact"), "hello world\n");

    let consumer = run.assert_node("[1].consume-artifact", NodeType::Pod, NodePhase::Succeeded);
    let given = consumer
        .inputs
        .as_ref()
        .and_then(|i| i.artifacts.iter().find(|a| a.name == "message"))
        .expect("the consumer's input artifact");
    assert_eq!(given.s3.as_ref().and_then(|s| s.key.as_deref()), Some(key));
    assert!(run.log("[1].consume-artifact").contains("hello world"));

    // §12.4: steps node → [0] → its step → [1] → its step.
    assert_eq!(run.children(""), set(&["[0]"]));
    assert_eq!(run.children("[0]"), set(&["[0].generate-artifact"]));
    assert_eq!(run.children("[0].generate-artifact"), set(&["[1]"]));
    assert_eq!(run.children("[1]"), set(&["[1].consume-artifact"]));
    assert_eq!(run.node("").outbound_nodes, vec![consumer.id.clone()]);
    for group in ["[0]", "[1]"] {
        assert_eq!(
            run.node(group).template_name,
            None,
            "step groups name no template"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k8s_wait_wf_errors_its_resource_node_pointing_at_the_kubernetes_backend() {
    let run = run_example("k8s-wait-wf.yaml", &[]).await;
    run.assert_ids_and_edges();
    let create = run.assert_node("[0].create-wf", NodeType::Pod, NodePhase::Error);
    let message = create.message.as_deref().unwrap_or_default();
    assert!(message.contains("Kubernetes backend"), "message: {message}");
    assert!(create.children.is_empty());

    // §9 (Argo's executeSteps): an errored step fails its group and the steps template,
    // both Failed, and nothing after the group starts.
    let group = run.assert_node("[0]", NodeType::StepGroup, NodePhase::Failed);
    let group_message = group.message.as_deref().unwrap_or_default();
    assert!(
        group_message.starts_with(&format!("child '{}' failed", create.id)),
        "group message: {group_message}"
    );
    let root = run.assert_node("", NodeType::Steps, NodePhase::Failed);
    assert_eq!(root.message, group.message);
    assert_eq!(run.status.phase, WorkflowPhase::Failed);
    assert_eq!(run.status.message, root.message);
    assert!(!run.has_node("[1]"), "the steps stop at the failed group");
    assert!(!run.has_node("[1].wait-wf"));
}
