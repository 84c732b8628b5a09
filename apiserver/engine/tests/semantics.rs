//! Behaviour of the local engine that Argo's own examples do not exercise: deadlines,
//! retries, parallelism, suspend/resume, stop/terminate, failures, outputs, expressions,
//! shared limits, validation and substitutions (`ARGO-SEMANTICS.md` §8.2, §10–§12).
//!
//! Each test runs a small inline workflow whose containers are host commands (`sh -c`,
//! `sleep`, `echo`); images are never pulled.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kfp::argo::{NodePhase, NodeStatus, NodeType, Workflow, WorkflowPhase, WorkflowStatus};
use kfp_engine::{Engine, EngineConfig, EngineError, RunHandle, RunOptions, pod_name};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Generous bound on anything we wait for; only reached when something hangs.
const WAIT: Duration = Duration::from_secs(120);

/// An engine over a fresh temporary root (kept alive by the returned directory).
fn engine(max_parallel_pods: usize) -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary engine root");
    let mut config = EngineConfig::new(dir.path().join("engine"));
    config.max_parallel_pods = max_parallel_pods;
    config.kill_grace = Duration::from_secs(1);
    (Engine::new(config), dir)
}

fn load(yaml: &str) -> Workflow {
    Engine::load_yaml(yaml, "inline.yaml").expect("the inline workflow validates")
}

fn options(parameters: &[(&str, &str)]) -> RunOptions {
    RunOptions {
        parameters: parameters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..RunOptions::default()
    }
}

fn start(engine: &Engine, yaml: &str, parameters: &[(&str, &str)]) -> RunHandle {
    engine
        .start(load(yaml), options(parameters))
        .expect("the run starts")
}

/// Wait for the end of a run (every process reaped).
async fn finish(handle: RunHandle) -> WorkflowStatus {
    tokio::time::timeout(WAIT, handle.wait())
        .await
        .expect("the run ends in time")
}

/// A finished run, with the temporary directory (engine root, scratch files) kept alive.
struct Finished {
    status: WorkflowStatus,
    scratch: PathBuf,
    _dir: tempfile::TempDir,
}

/// Run `yaml` to the end; `parameters` may use `{scratch}` for a scratch directory.
async fn run_yaml(yaml: &str, parameters: &[(&str, &str)]) -> Finished {
    let (engine, dir) = engine(8);
    let scratch = dir.path().join("scratch");
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    let parameters: Vec<(String, String)> = parameters
        .iter()
        .map(|(k, v)| {
            (
                (*k).to_owned(),
                v.replace("{scratch}", &scratch.to_string_lossy()),
            )
        })
        .collect();
    let handle = engine
        .start(
            load(yaml),
            RunOptions {
                parameters,
                ..RunOptions::default()
            },
        )
        .expect("the run starts");
    let status = finish(handle).await;
    Finished {
        status,
        scratch,
        _dir: dir,
    }
}

/// The node named `name`, or a panic listing the nodes there are.
fn node<'a>(status: &'a WorkflowStatus, name: &str) -> &'a NodeStatus {
    status.node_named(name).unwrap_or_else(|| {
        let names: Vec<&str> = status.nodes.values().map(|n| n.name.as_str()).collect();
        panic!("no node named {name:?}; nodes: {names:?}")
    })
}

fn message(node: &NodeStatus) -> &str {
    node.message.as_deref().unwrap_or_default()
}

fn result(node: &NodeStatus) -> &str {
    node.outputs
        .as_ref()
        .and_then(|o| o.result.as_deref())
        .unwrap_or_else(|| panic!("node {} has no outputs.result", node.name))
}

fn output_parameter<'a>(node: &'a NodeStatus, name: &str) -> Option<&'a str> {
    node.outputs.as_ref().and_then(|o| o.parameter(name))
}

/// Attempts of a Retry node, in order.
fn attempts<'a>(status: &'a WorkflowStatus, retry: &str) -> Vec<&'a NodeStatus> {
    let mut found = Vec::new();
    while let Some(n) = status.node_named(&format!("{retry}({})", found.len())) {
        found.push(n);
    }
    found
}

fn assert_retried(attempt: &NodeStatus) {
    assert!(
        attempt.node_flag.as_ref().is_some_and(|f| f.retried),
        "{} is flagged retried",
        attempt.name
    );
}

/// Wait until `pred` holds for the run's status.
async fn wait_until(
    handle: &RunHandle,
    what: &str,
    pred: impl FnMut(&WorkflowStatus) -> bool,
) -> WorkflowStatus {
    let mut rx = handle.subscribe();
    let seen = tokio::time::timeout(WAIT, rx.wait_for(pred))
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
        .expect("the status channel stays open while the handle lives");
    seen.clone()
}

fn node_running(status: &WorkflowStatus, name: &str) -> bool {
    status
        .node_named(name)
        .is_some_and(|n| n.phase == NodePhase::Running)
}

/// Whether the process `pid` has exited (no `/proc` entry, or a zombie).
fn process_gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Lines of `start <id>` / `end <id>` written by concurrent tasks: the most that were
/// between their start and end at once, checking every task started once and ended once.
fn max_overlap(log: &Path, ids: &[&str]) -> usize {
    let text = std::fs::read_to_string(log).expect("the tasks wrote their log");
    let (mut open, mut max) = (Vec::<String>::new(), 0);
    let mut ended = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("start"), Some(id)) => {
                open.push(id.to_owned());
                max = max.max(open.len());
            }
            (Some("end"), Some(id)) => {
                let at = open
                    .iter()
                    .position(|o| o == id)
                    .unwrap_or_else(|| panic!("{id} ended before it started:\n{text}"));
                open.remove(at);
                ended.push(id.to_owned());
            }
            _ => panic!("unexpected line {line:?}"),
        }
    }
    assert!(open.is_empty(), "every task ended:\n{text}");
    ended.sort();
    let mut expected: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(ended, expected, "each task ran once:\n{text}");
    max
}

// ---------------------------------------------------------------------------------------
// §11.2 Deadlines
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_deadline_kills_running_pods_and_still_runs_the_exit_handler() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: deadline}
spec:
  entrypoint: main
  activeDeadlineSeconds: 1
  onExit: bye
  arguments:
    parameters: [{name: pidfile}]
  templates:
    - name: main
      dag:
        tasks:
          - {name: sleep, template: sleep}
    - name: sleep
      container:
        image: alpine:3.20
        command: [sh, -c, 'echo $$ > {{workflow.parameters.pidfile}}; sleep 30 & echo $! >> {{workflow.parameters.pidfile}}; wait']
    - name: bye
      container: {image: alpine:3.20, command: [echo, "bye {{workflow.status}}"]}
"#;
    let run = run_yaml(yaml, &[("pidfile", "{scratch}/pids")]).await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Failed);
    let sleep = node(status, "deadline.sleep");
    assert_eq!(sleep.phase, NodePhase::Failed);
    assert_eq!(message(sleep), "Step exceeded its deadline");
    let bye = node(status, "deadline.onExit");
    assert_eq!(bye.phase, NodePhase::Succeeded);
    assert_eq!(result(bye), "bye Failed");

    let pids = std::fs::read_to_string(run.scratch.join("pids")).expect("the pid file");
    let pids: Vec<&str> = pids.split_whitespace().collect();
    assert_eq!(pids.len(), 2, "the shell and its sleep wrote their pids");
    for pid in pids {
        // The shell is reaped by the engine; its orphaned `sleep` by init, shortly after.
        let gone = async {
            while !process_gone(pid) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), gone)
            .await
            .unwrap_or_else(|_| panic!("process {pid} was killed at the deadline"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_deadline_and_timeout_fail_the_node() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: tdeadline}
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - {name: deadline, template: deadline}
          - {name: timeout, template: timeout}
    - name: deadline
      activeDeadlineSeconds: "1"
      container: {image: alpine:3.20, command: [sleep, "30"]}
    - name: timeout
      timeout: "1s"
      container: {image: alpine:3.20, command: [sleep, "30"]}
"#;
    let run = run_yaml(yaml, &[]).await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Failed);
    for name in ["tdeadline.deadline", "tdeadline.timeout"] {
        let n = node(status, name);
        assert_eq!(n.node_type, NodeType::Pod);
        assert_eq!(n.phase, NodePhase::Failed, "{name}");
        assert!(
            message(n).contains("deadline"),
            "{name} names the deadline: {:?}",
            n.message
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_deadline_is_retried_on_failure() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: rdeadline}
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - {name: slow, template: slow}
    - name: slow
      activeDeadlineSeconds: "1"
      retryStrategy: {limit: "1", retryPolicy: OnFailure}
      container: {image: alpine:3.20, command: [sleep, "30"]}
"#;
    let run = run_yaml(yaml, &[]).await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Failed);
    let retry = node(status, "rdeadline.slow");
    assert_eq!(retry.node_type, NodeType::Retry);
    assert_eq!(retry.phase, NodePhase::Failed);
    assert_eq!(message(retry), "No more retries left");
    let tries = attempts(status, "rdeadline.slow");
    assert_eq!(tries.len(), 2);
    for attempt in tries {
        assert_eq!(attempt.phase, NodePhase::Failed);
        assert!(
            message(attempt).contains("deadline"),
            "{:?}",
            attempt.message
        );
        assert_retried(attempt);
    }
}

// ---------------------------------------------------------------------------------------
// §11.1 Retries
// ---------------------------------------------------------------------------------------

/// A task whose template fails until it has run three times (`{{counter}}` counts runs),
/// with `{{strategy}}` as its retry strategy.
fn flaky_workflow(name: &str, strategy: &str) -> String {
    format!(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}}}
spec:
  entrypoint: main
  arguments:
    parameters: [{{name: counter}}]
  templates:
    - name: main
      dag:
        tasks:
          - name: x
            template: flaky
            arguments: {{parameters: [{{name: counter, value: "{{{{workflow.parameters.counter}}}}"}}]}}
    - name: flaky
      inputs: {{parameters: [{{name: counter}}]}}
      retryStrategy: {strategy}
      container:
        image: alpine:3.20
        command: [sh, -c, 'f={{{{inputs.parameters.counter}}}}; n=$(cat $f 2>/dev/null || echo 0); echo $((n+1)) > $f; [ $n -ge 2 ]']
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_until_success_makes_attempt_children() {
    let yaml = flaky_workflow("retry", r#"{limit: "3"}"#);
    let run = run_yaml(&yaml, &[("counter", "{scratch}/count")]).await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Succeeded);
    let retry = node(status, "retry.x");
    assert_eq!(retry.node_type, NodeType::Retry);
    assert_eq!(retry.phase, NodePhase::Succeeded);
    let tries = attempts(status, "retry.x");
    let phases: Vec<NodePhase> = tries.iter().map(|n| n.phase).collect();
    assert_eq!(
        phases,
        [NodePhase::Failed, NodePhase::Failed, NodePhase::Succeeded]
    );
    let ids: Vec<&str> = tries.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        retry.children, ids,
        "the Retry node's children are its attempts"
    );
    for (i, attempt) in tries.iter().enumerate() {
        assert_eq!(attempt.display_name, format!("x({i})"));
        assert_eq!(attempt.node_type, NodeType::Pod);
        assert_retried(attempt);
    }
    assert!(message(tries[0]).starts_with("Error (exit code 1)"));
    let count = std::fs::read_to_string(run.scratch.join("count")).expect("counter");
    assert_eq!(count.trim(), "3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_limit_exhausted_fails_with_no_more_retries_left() {
    let yaml = flaky_workflow("limited", r#"{limit: "1"}"#);
    let run = run_yaml(&yaml, &[("counter", "{scratch}/count")]).await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Failed);
    let retry = node(status, "limited.x");
    assert_eq!(retry.phase, NodePhase::Failed);
    assert_eq!(message(retry), "No more retries left");
    let tries = attempts(status, "limited.x");
    assert_eq!(tries.len(), 2);
    assert!(tries.iter().all(|t| t.phase == NodePhase::Failed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_backoff_is_shown_on_the_retry_node() {
    let yaml = flaky_workflow(
        "backoff",
        r#"{limit: "3", backoff: {duration: "1", factor: "2"}}"#,
    );
    let (engine, dir) = engine(8);
    let counter = dir.path().join("count");
    let handle = start(
        &engine,
        &yaml,
        &[("counter", counter.to_string_lossy().as_ref())],
    );
    let seen = wait_until(&handle, "a Backoff message", |s| {
        s.node_named("backoff.x")
            .is_some_and(|n| message(n).starts_with("Backoff for "))
    })
    .await;
    assert_eq!(node(&seen, "backoff.x").phase, NodePhase::Running);
    let status = finish(handle).await;
    assert_eq!(status.phase, WorkflowPhase::Succeeded);
    let retry = node(&status, "backoff.x");
    assert_eq!(retry.phase, NodePhase::Succeeded);
    assert_eq!(retry.message, None, "the backoff message is cleared");
    assert_eq!(attempts(&status, "backoff.x").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_policy_on_error_does_not_retry_a_failed_exit() {
    let yaml = flaky_workflow("onerror", r#"{limit: "3", retryPolicy: OnError}"#);
    let run = run_yaml(&yaml, &[("counter", "{scratch}/count")]).await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Failed);
    let retry = node(status, "onerror.x");
    assert_eq!(retry.phase, NodePhase::Failed);
    let tries = attempts(status, "onerror.x");
    assert_eq!(
        tries.len(),
        1,
        "a Failed attempt is not retried under OnError"
    );
    assert!(message(retry).starts_with("Error (exit code 1)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_policy_on_error_retries_errors() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: errs}
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - {name: x, template: missing}
    - name: missing
      retryStrategy: {limit: "1", retryPolicy: OnError}
      container: {image: alpine:3.20, command: [no-such-command-xyz]}
"#;
    let run = run_yaml(yaml, &[]).await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Error);
    let retry = node(status, "errs.x");
    assert_eq!(retry.phase, NodePhase::Error);
    assert_eq!(message(retry), "No more retries left");
    let tries = attempts(status, "errs.x");
    assert_eq!(tries.len(), 2);
    assert!(tries.iter().all(|t| t.phase == NodePhase::Error));
}

// ---------------------------------------------------------------------------------------
// §11.3 Parallelism
// ---------------------------------------------------------------------------------------

/// A DAG of `ids` independent tasks, each logging `start <id>` and `end <id>`.
fn logging_dag(name: &str, spec_extra: &str, dag_extra: &str, ids: &[&str]) -> String {
    let tasks: String = ids
        .iter()
        .map(|id| {
            format!(
                "          - {{name: {id}, template: work, arguments: {{parameters: [{{name: id, value: {id}}}]}}}}\n"
            )
        })
        .collect();
    format!(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}}}
spec:
  entrypoint: main
{spec_extra}
  arguments:
    parameters: [{{name: log}}]
  templates:
    - name: main
{dag_extra}
      dag:
        tasks:
{tasks}
    - name: work
      inputs: {{parameters: [{{name: id}}]}}
      container:
        image: alpine:3.20
        command: [sh, -c, 'log={{{{workflow.parameters.log}}}}; echo "start {{{{inputs.parameters.id}}}} $(date +%s.%N)" >> $log; sleep 0.3; echo "end {{{{inputs.parameters.id}}}} $(date +%s.%N)" >> $log']
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_parallelism_one_runs_pods_one_at_a_time() {
    let ids = ["a", "b", "c", "d"];
    let yaml = logging_dag("serial", "  parallelism: 1", "", &ids);
    let run = run_yaml(&yaml, &[("log", "{scratch}/log")]).await;
    assert_eq!(run.status.phase, WorkflowPhase::Succeeded);
    let log = run.scratch.join("log");
    assert_eq!(max_overlap(&log, &ids), 1);
    let text = std::fs::read_to_string(&log).expect("log");
    let kinds: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        kinds,
        [
            "start", "end", "start", "end", "start", "end", "start", "end"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dag_parallelism_limits_active_tasks() {
    let ids = ["a", "b", "c", "d", "e", "f"];
    let yaml = logging_dag("pairs", "", "      parallelism: 2", &ids);
    let run = run_yaml(&yaml, &[("log", "{scratch}/log")]).await;
    assert_eq!(run.status.phase, WorkflowPhase::Succeeded);
    let overlap = max_overlap(&run.scratch.join("log"), &ids);
    assert!(overlap <= 2, "at most 2 tasks at once, saw {overlap}");
}

// ---------------------------------------------------------------------------------------
// §8.2 Suspend
// ---------------------------------------------------------------------------------------

fn approval_workflow(name: &str, suspend: &str, value_from: &str) -> String {
    format!(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}}}
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - {{name: approve, template: approve}}
          - name: use
            depends: approve
            template: echo
            arguments: {{parameters: [{{name: msg, value: "{{{{tasks.approve.outputs.parameters.choice}}}}"}}]}}
    - name: approve
      suspend: {suspend}
      outputs:
        parameters:
          - {{name: choice, valueFrom: {value_from}}}
    - name: echo
      inputs: {{parameters: [{{name: msg}}]}}
      container: {{image: alpine:3.20, command: [echo, "{{{{inputs.parameters.msg}}}}"]}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_waits_for_resume_with_supplied_values() {
    let yaml = approval_workflow("approval", "{}", "{supplied: {}}");
    let (engine, _dir) = engine(8);
    let handle = start(&engine, &yaml, &[]);
    let waiting = wait_until(&handle, "the Suspend node to run", |s| {
        node_running(s, "approval.approve")
    })
    .await;
    let approve = node(&waiting, "approval.approve");
    assert_eq!(approve.node_type, NodeType::Suspend);
    assert!(
        waiting.node_named("approval.use").is_none(),
        "nothing after the suspend starts before the resume"
    );
    handle.resume(None, vec![("choice".into(), "yes".into())]);
    let status = finish(handle).await;
    assert_eq!(status.phase, WorkflowPhase::Succeeded);
    let approve = node(&status, "approval.approve");
    assert_eq!(approve.phase, NodePhase::Succeeded);
    assert_eq!(output_parameter(approve, "choice"), Some("yes"));
    let used = node(&status, "approval.use");
    assert_eq!(used.phase, NodePhase::Succeeded);
    assert_eq!(result(used), "yes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_with_duration_resumes_itself_with_defaults() {
    let yaml = approval_workflow(
        "timed",
        r#"{duration: "1"}"#,
        r#"{supplied: {}, default: "later"}"#,
    );
    let run = run_yaml(&yaml, &[]).await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Succeeded);
    let approve = node(status, "timed.approve");
    assert_eq!(approve.node_type, NodeType::Suspend);
    assert_eq!(approve.phase, NodePhase::Succeeded);
    assert_eq!(output_parameter(approve, "choice"), Some("later"));
    assert_eq!(result(node(status, "timed.use")), "later");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_deadline_fails_a_waiting_suspend_node() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: waiting}
spec:
  entrypoint: main
  activeDeadlineSeconds: 1
  templates:
    - name: main
      steps:
        - - {name: approve, template: approve}
        - - {name: after, template: echo}
    - name: approve
      suspend: {}
    - name: echo
      container: {image: alpine:3.20, command: [echo, late]}
"#;
    let run = run_yaml(yaml, &[]).await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Failed);
    let approve = node(status, "waiting[0].approve");
    assert_eq!(approve.node_type, NodeType::Suspend);
    assert_eq!(approve.phase, NodePhase::Failed);
    assert_eq!(message(approve), "Step exceeded its deadline");
    assert!(status.node_named("waiting[1].after").is_none());
}

// ---------------------------------------------------------------------------------------
// Stop and terminate (§10)
// ---------------------------------------------------------------------------------------

const SLEEP_WITH_EXIT_HANDLER: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: halted}
spec:
  entrypoint: main
  onExit: bye
  templates:
    - name: main
      dag:
        tasks:
          - {name: sleep, template: sleep}
          - {name: after, template: bye, depends: sleep}
    - name: sleep
      container: {image: alpine:3.20, command: [sleep, "30"]}
    - name: bye
      container: {image: alpine:3.20, command: [echo, bye]}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_kills_running_pods_and_runs_the_exit_handler() {
    let (engine, _dir) = engine(8);
    let handle = start(&engine, SLEEP_WITH_EXIT_HANDLER, &[]);
    wait_until(&handle, "the sleep to run", |s| {
        node_running(s, "halted.sleep")
    })
    .await;
    handle.stop();
    let status = finish(handle).await;
    assert_eq!(status.phase, WorkflowPhase::Failed);
    assert_eq!(
        status.message.as_deref(),
        Some("Stopped with strategy 'Stop'")
    );
    let sleep = node(&status, "halted.sleep");
    assert_eq!(sleep.phase, NodePhase::Failed);
    assert_eq!(message(sleep), "Stopped with strategy 'Stop'");
    assert!(
        status
            .node_named("halted.after")
            .is_none_or(|n| n.phase != NodePhase::Succeeded),
        "nothing new runs after a stop"
    );
    assert_eq!(node(&status, "halted.onExit").phase, NodePhase::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_kills_running_pods_and_skips_the_exit_handler() {
    let (engine, _dir) = engine(8);
    let handle = start(&engine, SLEEP_WITH_EXIT_HANDLER, &[]);
    wait_until(&handle, "the sleep to run", |s| {
        node_running(s, "halted.sleep")
    })
    .await;
    handle.terminate();
    let status = finish(handle).await;
    assert_eq!(status.phase, WorkflowPhase::Failed);
    assert_eq!(
        status.message.as_deref(),
        Some("Stopped with strategy 'Terminate'")
    );
    assert_eq!(node(&status, "halted.sleep").phase, NodePhase::Failed);
    assert!(
        status.node_named("halted.onExit").is_none(),
        "the exit handler does not run after terminate"
    );
}

// ---------------------------------------------------------------------------------------
// §12.2 Failing pods
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_command_is_an_error_and_failing_command_is_a_failure() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: broken}
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - {name: missing, template: missing}
          - {name: boom, template: boom}
    - name: missing
      container: {image: example.com/tools:1, command: [no-such-command-xyz, --flag]}
    - name: boom
      container: {image: alpine:3.20, command: [sh, -c, 'echo boom >&2; exit 7']}
"#;
    let (engine, _dir) = engine(8);
    let handle = start(&engine, yaml, &[]);
    let log = handle.log_path(&pod_name("broken", "boom", "broken.boom"));
    let status = finish(handle).await;
    assert_eq!(status.phase, WorkflowPhase::Failed);

    let missing = node(&status, "broken.missing");
    assert_eq!(missing.phase, NodePhase::Error);
    let m = message(missing);
    assert!(m.contains("no-such-command-xyz"), "{m}");
    assert!(m.contains("does not pull the image"), "{m}");
    assert!(m.contains("example.com/tools:1"), "{m}");

    let boom = node(&status, "broken.boom");
    assert_eq!(boom.phase, NodePhase::Failed);
    let m = message(boom);
    assert!(m.starts_with("Error (exit code 7)"), "{m}");
    assert!(m.contains("boom"), "{m}");
    assert_eq!(
        boom.outputs.as_ref().and_then(|o| o.exit_code.as_deref()),
        Some("7")
    );
    let logged = std::fs::read_to_string(&log).expect("the pod's log file");
    assert!(logged.contains("boom"), "{logged}");
}

// ---------------------------------------------------------------------------------------
// §6 Outputs, §7 artifacts
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_parameters_defaults_globals_and_artifacts() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: outs}
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - {name: produce, template: produce}
          - name: consume
            depends: produce
            template: consume
            arguments:
              parameters:
                - {name: hello, value: "{{tasks.produce.outputs.parameters.hello}}"}
                - {name: global, value: "{{workflow.outputs.parameters.g}}"}
              artifacts:
                - {name: dir, from: "{{tasks.produce.outputs.artifacts.dir}}"}
                - {name: plain, from: "{{tasks.produce.outputs.artifacts.plain}}"}
    - name: produce
      container:
        image: alpine:3.20
        command: [sh, -c, 'printf "hello\n" > /tmp/hello; mkdir -p /tmp/dir; echo a > /tmp/dir/a.txt; echo b > /tmp/dir/b.txt; echo raw > /tmp/plain.txt']
      outputs:
        parameters:
          - {name: hello, globalName: g, valueFrom: {path: /tmp/hello}}
          - {name: absent, valueFrom: {path: /tmp/absent, default: fallback}}
        artifacts:
          - {name: dir, path: /tmp/dir}
          - {name: plain, path: /tmp/plain.txt, archive: {none: {}}}
          - {name: maybe, path: /tmp/maybe, optional: true}
    - name: consume
      inputs:
        parameters: [{name: hello}, {name: global}]
        artifacts:
          - {name: dir, path: /in/dir}
          - {name: plain, path: /in/plain.txt}
      container:
        image: alpine:3.20
        command: [sh, -c, 'echo "{{inputs.parameters.hello}} {{inputs.parameters.global}}"; ls /in/dir; cat /in/plain.txt']
"#;
    let run = run_yaml(yaml, &[]).await;
    let status = &run.status;
    assert_eq!(
        status.phase,
        WorkflowPhase::Succeeded,
        "{:?}",
        status.message
    );
    let produce = node(status, "outs.produce");
    assert_eq!(
        output_parameter(produce, "hello"),
        Some("hello"),
        "trailing newline stripped"
    );
    assert_eq!(output_parameter(produce, "absent"), Some("fallback"));
    let artifacts: Vec<&str> = produce
        .outputs
        .as_ref()
        .map(|o| o.artifacts.iter().map(|a| a.name.as_str()).collect())
        .unwrap_or_default();
    assert!(artifacts.contains(&"dir") && artifacts.contains(&"plain"));
    assert!(
        !artifacts.contains(&"maybe"),
        "an optional artifact that was not written is left out"
    );
    assert_eq!(
        status.outputs.as_ref().and_then(|o| o.parameter("g")),
        Some("hello"),
        "globalName lands in status.outputs"
    );
    let consume = node(status, "outs.consume");
    assert_eq!(result(consume), "hello hello\na.txt\nb.txt\nraw");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_output_file_without_default_is_an_error() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: noout}
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - {name: lazy, template: lazy}
    - name: lazy
      container: {image: alpine:3.20, command: [echo, "wrote nothing"]}
      outputs:
        parameters:
          - {name: p, valueFrom: {path: /tmp/never-written}}
"#;
    let run = run_yaml(yaml, &[]).await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Error);
    let lazy = node(status, "noout.lazy");
    assert_eq!(lazy.phase, NodePhase::Error);
    assert!(
        message(lazy).contains("/tmp/never-written"),
        "{:?}",
        lazy.message
    );
}

// ---------------------------------------------------------------------------------------
// Expressions (§3, §5.1, §11.1)
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expression_arguments_and_when() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: exprs}
spec:
  entrypoint: main
  arguments:
    # quoted: a bare `n` is the boolean false in YAML 1.1, as Kubernetes reads it
    parameters: [{name: "n", value: "3"}]
  templates:
    - name: main
      inputs: {parameters: [{name: "n"}]}
      dag:
        tasks:
          - name: double
            template: echo
            arguments: {parameters: [{name: msg, value: "{{= asInt(inputs.parameters.n) * 2 }}"}]}
          - name: three
            template: echo
            when: "{{= inputs.parameters.n == '3' }}"
            arguments: {parameters: [{name: msg, value: three}]}
          - name: four
            template: echo
            when: "{{= inputs.parameters.n == '4' }}"
            arguments: {parameters: [{name: msg, value: four}]}
    - name: echo
      inputs: {parameters: [{name: msg}]}
      container: {image: alpine:3.20, command: [echo, "{{inputs.parameters.msg}}"]}
"#;
    let run = run_yaml(yaml, &[]).await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Succeeded);
    assert_eq!(result(node(status, "exprs.double")), "6");
    let three = node(status, "exprs.three");
    assert_eq!(three.phase, NodePhase::Succeeded);
    assert_eq!(result(three), "three");
    assert_eq!(node(status, "exprs.four").phase, NodePhase::Skipped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_expression_vetoes_retrying_exit_code_two() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: veto}
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - {name: two, template: fail, arguments: {parameters: [{name: code, value: "2"}]}}
          - {name: one, template: fail, arguments: {parameters: [{name: code, value: "1"}]}}
    - name: fail
      inputs: {parameters: [{name: code}]}
      retryStrategy:
        limit: "2"
        expression: "asInt(lastRetry.exitCode) != 2"
      container: {image: alpine:3.20, command: [sh, -c, 'exit {{inputs.parameters.code}}']}
"#;
    let run = run_yaml(yaml, &[]).await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Failed);
    let two = node(status, "veto.two");
    assert_eq!(two.phase, NodePhase::Failed);
    assert_eq!(
        attempts(status, "veto.two").len(),
        1,
        "exit 2 is not retried"
    );
    assert!(
        message(two).starts_with("Error (exit code 2)"),
        "{:?}",
        two.message
    );
    let one = node(status, "veto.one");
    assert_eq!(one.phase, NodePhase::Failed);
    assert_eq!(attempts(status, "veto.one").len(), 3, "exit 1 is retried");
    assert_eq!(message(one), "No more retries left");
}

// ---------------------------------------------------------------------------------------
// Engine-wide limits
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_share_the_engine_pod_limit() {
    let (engine, dir) = engine(1);
    let log = dir.path().join("log");
    let ids = ["a", "b", "c"];
    let first = logging_dag("first", "", "", &ids);
    let second = logging_dag("second", "", "", &["d", "e", "f"]);
    let log_text = log.to_string_lossy().into_owned();
    let one = start(&engine, &first, &[("log", &log_text)]);
    let two = start(&engine, &second, &[("log", &log_text)]);
    let (one, two) = tokio::join!(finish(one), finish(two));
    assert_eq!(one.phase, WorkflowPhase::Succeeded);
    assert_eq!(two.phase, WorkflowPhase::Succeeded);
    assert_eq!(
        max_overlap(&log, &["a", "b", "c", "d", "e", "f"]),
        1,
        "one process at a time across both runs"
    );
}

// ---------------------------------------------------------------------------------------
// Refusals before anything runs
// ---------------------------------------------------------------------------------------

const WITH_ENUM: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: refuse}
spec:
  entrypoint: main
  arguments:
    parameters:
      - {name: color, value: red, enum: [red, green]}
  templates:
    - name: main
      container: {image: alpine:3.20, command: [echo, "{{workflow.parameters.color}}"]}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_workflows_and_parameters_are_refused() {
    let unknown_template = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: refuse}
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - {name: a, template: does-not-exist}
"#;
    let err = Engine::load_yaml(unknown_template, "bad.yaml").expect_err("unknown template");
    let text = err.to_string();
    assert!(matches!(err, EngineError::Invalid(_)), "{text}");
    assert!(text.contains("bad.yaml"), "{text}");
    assert!(text.contains("does-not-exist"), "{text}");
    assert!(
        text.contains("spec.templates[0](name=main).dag.tasks[0](name=a).template"),
        "{text}"
    );

    let (engine, _dir) = engine(2);
    let unknown = engine.start(load(WITH_ENUM), options(&[("colour", "red")]));
    let Err(EngineError::Parameter(m)) = unknown else {
        panic!("an unknown parameter is refused: {unknown:?}");
    };
    assert!(m.contains("colour") && m.contains("color"), "{m}");

    let outside = engine.start(load(WITH_ENUM), options(&[("color", "blue")]));
    let Err(EngineError::Parameter(m)) = outside else {
        panic!("a value outside the enum is refused: {outside:?}");
    };
    assert!(m.contains("blue") && m.contains("green"), "{m}");

    let fine = engine
        .start(load(WITH_ENUM), options(&[("color", "green")]))
        .expect("a value from the enum is accepted");
    let status = finish(fine).await;
    assert_eq!(status.phase, WorkflowPhase::Succeeded);
    assert_eq!(result(node(&status, "refuse")), "green");
}

// ---------------------------------------------------------------------------------------
// §9 Steps
// ---------------------------------------------------------------------------------------

fn two_groups(name: &str, continue_on: &str) -> String {
    format!(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}}}
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - {{name: fail, template: fail{continue_on}}}
          - {{name: ok, template: ok}}
        - - {{name: after, template: ok}}
    - name: fail
      container: {{image: alpine:3.20, command: [sh, -c, 'exit 1']}}
    - name: ok
      container: {{image: alpine:3.20, command: [echo, ok]}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_step_stops_later_groups() {
    let run = run_yaml(&two_groups("stepsfail", ""), &[]).await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Failed);
    let steps = node(status, "stepsfail");
    assert_eq!(steps.node_type, NodeType::Steps);
    assert_eq!(steps.phase, NodePhase::Failed);
    assert_eq!(node(status, "stepsfail[0]").phase, NodePhase::Failed);
    assert_eq!(node(status, "stepsfail[0].fail").phase, NodePhase::Failed);
    assert_eq!(node(status, "stepsfail[0].ok").phase, NodePhase::Succeeded);
    assert!(status.node_named("stepsfail[1]").is_none());
    assert!(status.node_named("stepsfail[1].after").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continue_on_failed_lets_later_groups_run() {
    let run = run_yaml(
        &two_groups("stepscont", ", continueOn: {failed: true}"),
        &[],
    )
    .await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Succeeded);
    assert_eq!(node(status, "stepscont[0].fail").phase, NodePhase::Failed);
    assert_eq!(node(status, "stepscont[0]").phase, NodePhase::Succeeded);
    assert_eq!(
        node(status, "stepscont[1].after").phase,
        NodePhase::Succeeded
    );
    assert_eq!(node(status, "stepscont").phase, NodePhase::Succeeded);
}

// ---------------------------------------------------------------------------------------
// §3 Substitutions
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_and_pod_variables_are_substituted() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: subst}
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - name: show
            template: show
            arguments: {parameters: [{name: a, value: "1"}, {name: b, value: two}]}
          - {name: again, template: again}
    - name: show
      inputs: {parameters: [{name: a}, {name: b}]}
      container:
        image: alpine:3.20
        command: [printf, '%s\n', "{{pod.name}}", "{{workflow.name}}", "{{node.name}}", "{{inputs.parameters}}"]
    - name: again
      retryStrategy: {limit: "2"}
      container:
        image: alpine:3.20
        command: [sh, -c, 'echo "{{retries}} {{pod.name}}"; [ {{retries}} -ge 1 ]']
"#;
    let run = run_yaml(yaml, &[]).await;
    let status = &run.status;
    assert_eq!(status.phase, WorkflowPhase::Succeeded);
    let show = result(node(status, "subst.show"));
    let lines: Vec<&str> = show.lines().collect();
    assert_eq!(lines.len(), 4, "{show}");
    assert_eq!(lines[0], pod_name("subst", "show", "subst.show"));
    assert_eq!(lines[1], "subst");
    assert_eq!(lines[2], "subst.show");
    let parameters: serde_json::Value =
        serde_json::from_str(lines[3]).expect("inputs.parameters is JSON");
    assert_eq!(
        parameters,
        serde_json::json!([{"name": "a", "value": "1"}, {"name": "b", "value": "two"}])
    );

    let tries = attempts(status, "subst.again");
    assert_eq!(tries.len(), 2);
    for (i, attempt) in tries.iter().enumerate() {
        let pod = pod_name("subst", "again", &format!("subst.again({i})"));
        assert_eq!(result(attempt), format!("{i} {pod}"));
    }
    assert_ne!(
        result(tries[0]),
        result(tries[1]),
        "each attempt has its own pod"
    );
}

/// A producer skipped by its `when`: an argument that is exactly a reference to its
/// output is dropped, so the consumer's input default applies; an output declaring
/// `valueFrom.default` resolves to that default (ARGO-SEMANTICS §3.3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_of_skipped_producers_fall_back_to_defaults() {
    let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: skipped-producer
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: produce, template: produce, when: "1 == 2"}
      - name: plain
        depends: produce
        template: consume
        arguments:
          parameters: [{name: text, value: "{{tasks.produce.outputs.parameters.plain}}"}]
      - name: defaulted
        depends: produce
        template: consume
        arguments:
          parameters: [{name: text, value: "{{tasks.produce.outputs.parameters.defaulted}}"}]
  - name: produce
    container: {image: alpine, command: [sh, -c, "echo x > /tmp/a; echo y > /tmp/b"]}
    outputs:
      parameters:
      - {name: plain, valueFrom: {path: /tmp/a}}
      - {name: defaulted, valueFrom: {path: /tmp/b, default: from-producer}}
  - name: consume
    inputs:
      parameters: [{name: text, default: from-consumer}]
    container: {image: alpine, command: [echo, "{{inputs.parameters.text}}"]}
"#;
    let finished = run_yaml(yaml, &[]).await;
    let status = &finished.status;
    assert_eq!(status.phase, WorkflowPhase::Succeeded, "{status:#?}");
    assert_eq!(
        node(status, "skipped-producer.produce").phase,
        NodePhase::Skipped
    );
    assert_eq!(
        result(node(status, "skipped-producer.plain")),
        "from-consumer"
    );
    assert_eq!(
        result(node(status, "skipped-producer.defaulted")),
        "from-producer"
    );
}
