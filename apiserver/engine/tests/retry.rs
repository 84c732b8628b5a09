//! Retrying a finished run (`RunOptions::retry_of`, as `argo retry` and KFP's "retry run"):
//! what succeeded keeps its status and outputs without running again, what failed runs
//! again under the same workflow name, and the exit handler runs again.
//!
//! Each workflow counts its executions in files of a scratch directory outside the run's
//! directory, and fails a task until the test creates a marker file. Timestamps have
//! second precision, so the tests wait over a second before retrying: a node that ran
//! again would get a later `startedAt`.

use std::path::PathBuf;
use std::time::Duration;

use kfp::argo::{NodePhase, NodeStatus, NodeType, WorkflowPhase, WorkflowStatus};
use kfp_engine::{Engine, EngineConfig, EngineError, RetryError, RunOptions, pod_name};

/// Generous bound on a run; only reached when something hangs.
const WAIT: Duration = Duration::from_secs(120);

/// An engine over a temporary root, with a scratch directory for the workflows' counters.
struct Env {
    engine: Engine,
    scratch: PathBuf,
    _dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary engine root");
        let mut config = EngineConfig::new(dir.path().join("engine"));
        config.max_parallel_pods = 4;
        config.kill_grace = Duration::from_secs(1);
        let scratch = dir.path().join("scratch");
        std::fs::create_dir_all(&scratch).expect("scratch directory");
        Env {
            engine: Engine::new(config),
            scratch,
            _dir: dir,
        }
    }

    fn options(&self, retry_of: Option<WorkflowStatus>) -> RunOptions {
        RunOptions {
            parameters: vec![(
                "scratch".to_owned(),
                self.scratch.to_string_lossy().into_owned(),
            )],
            retry_of,
            ..RunOptions::default()
        }
    }

    /// Run `yaml` to the end with `options`; returns the run's name and final status.
    async fn run_with(&self, yaml: &str, options: RunOptions) -> (String, WorkflowStatus) {
        let workflow = Engine::load_yaml(yaml, "inline.yaml").expect("the workflow validates");
        let handle = self
            .engine
            .start(workflow, options)
            .expect("the run starts");
        let name = handle.name().to_owned();
        let status = tokio::time::timeout(WAIT, handle.wait())
            .await
            .expect("the run ends in time");
        (name, status)
    }

    async fn run(&self, yaml: &str, retry_of: Option<WorkflowStatus>) -> (String, WorkflowStatus) {
        self.run_with(yaml, self.options(retry_of)).await
    }

    /// Lines in a scratch file (0 when it does not exist).
    fn lines(&self, file: &str) -> Vec<String> {
        std::fs::read_to_string(self.scratch.join(file))
            .map(|t| t.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    fn count(&self, file: &str) -> usize {
        self.lines(file).len()
    }

    /// Let the tasks that wait for the marker succeed.
    fn mark(&self) {
        std::fs::write(self.scratch.join("marker"), "").expect("marker written");
    }

    fn run_dir(&self, name: &str) -> PathBuf {
        self.engine.config().root.join("runs").join(name)
    }
}

/// Past the second of the previous run's timestamps.
async fn next_second() {
    tokio::time::sleep(Duration::from_millis(1100)).await;
}

fn node<'a>(status: &'a WorkflowStatus, name: &str) -> &'a NodeStatus {
    status.node_named(name).unwrap_or_else(|| {
        let names: Vec<&str> = status.nodes.values().map(|n| n.name.as_str()).collect();
        panic!("no node named {name:?}; nodes: {names:?}")
    })
}

fn phase(status: &WorkflowStatus, name: &str) -> NodePhase {
    node(status, name).phase
}

/// A node kept from the previous run: the same status, except the edges this run draws.
fn assert_kept(before: &WorkflowStatus, after: &WorkflowStatus, name: &str) {
    let (old, new) = (node(before, name), node(after, name));
    assert_eq!(new.phase, NodePhase::Succeeded, "{name} succeeded");
    assert_eq!(new.started_at, old.started_at, "{name} keeps its startedAt");
    assert_eq!(
        new.finished_at, old.finished_at,
        "{name} keeps its finishedAt"
    );
    assert_eq!(new.outputs, old.outputs, "{name} keeps its outputs");
    assert_eq!(new.message, old.message, "{name} keeps its message");
}

/// A node that ran again: it started after the previous run's node.
fn assert_reran(before: &WorkflowStatus, after: &WorkflowStatus, name: &str) {
    let (old, new) = (node(before, name), node(after, name));
    assert!(
        new.started_at > old.started_at,
        "{name} ran again: startedAt {:?} then {:?}",
        old.started_at,
        new.started_at
    );
}

const DAG: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: retry-dag-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: scratch
  templates:
  - name: main
    dag:
      tasks:
      - name: A
        template: produce
      - name: B
        template: flaky
        depends: A
      - name: C
        template: consume
        depends: B
        arguments:
          parameters:
          - name: word
            value: "{{tasks.A.outputs.parameters.word}}"
          artifacts:
          - name: data
            from: "{{tasks.A.outputs.artifacts.data}}"
  - name: produce
    container:
      image: alpine
      command: [sh, -c]
      args:
      - |
        echo a ran
        echo run >> {{workflow.parameters.scratch}}/a
        echo hello > /out/word
        echo payload > /out/data
    outputs:
      parameters:
      - name: word
        globalName: word
        valueFrom: {path: /out/word}
      artifacts:
      - name: data
        path: /out/data
  - name: flaky
    container:
      image: alpine
      command: [sh, -c]
      args:
      - |
        echo run >> {{workflow.parameters.scratch}}/b
        if [ -f leftover ]; then echo stale >> {{workflow.parameters.scratch}}/b-stale; fi
        touch leftover
        test -f {{workflow.parameters.scratch}}/marker
  - name: consume
    inputs:
      parameters:
      - name: word
      artifacts:
      - name: data
        path: /in/data
    container:
      image: alpine
      command: [sh, -c]
      args:
      - |
        echo run >> {{workflow.parameters.scratch}}/c
        echo "{{inputs.parameters.word}}" > {{workflow.parameters.scratch}}/c-saw
        cat /in/data >> {{workflow.parameters.scratch}}/c-saw
"#;

#[tokio::test]
async fn dag_retry_runs_only_what_failed() {
    let env = Env::new();
    let (name, first) = env.run(DAG, None).await;
    assert_eq!(first.phase, WorkflowPhase::Failed);
    assert_eq!(phase(&first, &format!("{name}.A")), NodePhase::Succeeded);
    assert_eq!(phase(&first, &format!("{name}.B")), NodePhase::Failed);
    assert_eq!(phase(&first, &format!("{name}.C")), NodePhase::Omitted);
    assert_eq!((env.count("a"), env.count("b"), env.count("c")), (1, 1, 0));

    env.mark();
    next_second().await;
    let (again, second) = env.run(DAG, Some(first.clone())).await;

    assert_eq!(again, name, "a retry keeps the workflow's name");
    assert_eq!(second.phase, WorkflowPhase::Succeeded, "{second:#?}");
    assert_eq!(env.count("a"), 1, "A did not run again");
    assert_eq!((env.count("b"), env.count("c")), (2, 1), "B and C ran");
    assert_eq!(
        env.lines("c-saw"),
        ["hello", "payload"],
        "C saw A's outputs"
    );
    let a = format!("{name}.A");
    assert_kept(&first, &second, &a);
    assert_eq!(node(&second, &a).id, node(&first, &a).id);
    assert_reran(&first, &second, &format!("{name}.B"));
    assert_eq!(phase(&second, &format!("{name}.C")), NodePhase::Succeeded);
    assert!(second.started_at > first.started_at, "the run starts now");
    // The root ran again (something below it failed); A's outputs still reach the globals.
    assert_reran(&first, &second, &name);
    assert_eq!(
        second.outputs.as_ref().and_then(|o| o.parameter("word")),
        Some("hello")
    );
    // A's edge to B is drawn again, and its log is the first run's.
    let b_id = node(&second, &format!("{name}.B")).id.clone();
    assert_eq!(node(&second, &a).children, [b_id]);
    let a_pod = pod_name(&name, "produce", &a);
    let log = std::fs::read_to_string(
        env.run_dir(&name)
            .join("nodes")
            .join(a_pod)
            .join("main.log"),
    )
    .expect("A's log is kept");
    assert_eq!(log.trim(), "a ran");
    // B's directory was cleared before it ran again.
    assert_eq!(env.count("b-stale"), 0, "B started from an empty directory");
    assert_eq!(
        second
            .nodes
            .values()
            .filter(|n| n.phase.is_failure())
            .count(),
        0
    );
}

const LOOP: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: retry-loop
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: scratch
  templates:
  - name: main
    dag:
      tasks:
      - name: each
        template: work
        withItems: [a, b, c]
        arguments:
          parameters:
          - name: item
            value: "{{item}}"
      - name: gather
        template: gather
        depends: each
        arguments:
          parameters:
          - name: all
            value: "{{tasks.each.outputs.parameters.out}}"
  - name: work
    inputs:
      parameters:
      - name: item
    container:
      image: alpine
      command: [sh, -c]
      args:
      - |
        echo run >> {{workflow.parameters.scratch}}/count-{{inputs.parameters.item}}
        if [ {{inputs.parameters.item}} = b ]; then test -f {{workflow.parameters.scratch}}/marker || exit 1; fi
        echo out-{{inputs.parameters.item}} > /out/v
    outputs:
      parameters:
      - name: out
        valueFrom: {path: /out/v}
  - name: gather
    inputs:
      parameters:
      - name: all
    container:
      image: alpine
      command: [sh, -c]
      args: ["echo '{{inputs.parameters.all}}' > {{workflow.parameters.scratch}}/gathered"]
"#;

#[tokio::test]
async fn loop_retry_reruns_only_the_failed_iteration() {
    let env = Env::new();
    let (name, first) = env.run(LOOP, None).await;
    assert_eq!(first.phase, WorkflowPhase::Failed);
    assert_eq!(phase(&first, "retry-loop.each(1:b)"), NodePhase::Failed);
    assert_eq!(phase(&first, "retry-loop.gather"), NodePhase::Omitted);

    env.mark();
    next_second().await;
    let (again, second) = env.run(LOOP, Some(first.clone())).await;
    assert_eq!(again, name);
    assert_eq!(second.phase, WorkflowPhase::Succeeded, "{second:#?}");
    assert_eq!(
        (
            env.count("count-a"),
            env.count("count-b"),
            env.count("count-c")
        ),
        (1, 2, 1),
        "only b ran again"
    );
    assert_kept(&first, &second, "retry-loop.each(0:a)");
    assert_kept(&first, &second, "retry-loop.each(2:c)");
    assert_reran(&first, &second, "retry-loop.each(1:b)");
    let group = node(&second, "retry-loop.each");
    assert_eq!(group.node_type, NodeType::TaskGroup);
    assert_eq!(group.phase, NodePhase::Succeeded);
    assert_eq!(
        group.children.len(),
        3,
        "the group has its three iterations"
    );
    // The aggregation sees the kept iterations' outputs as if they had just run.
    assert_eq!(
        env.lines("gathered"),
        [r#"["out-a","out-b","out-c"]"#],
        "gather saw every iteration's output"
    );
}

const STEPS: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: retry-steps-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: scratch
  templates:
  - name: main
    steps:
    - - name: A
        template: say
      - name: pause
        template: pause
    - - name: B
        template: flaky
    - - name: C
        template: echo
        arguments:
          parameters:
          - name: heard
            value: "{{steps.A.outputs.result}}"
  - name: say
    container:
      image: alpine
      command: [sh, -c]
      args: ["echo run >> {{workflow.parameters.scratch}}/a; echo from-a"]
  - name: pause
    suspend:
      duration: "0"
  - name: flaky
    container:
      image: alpine
      command: [sh, -c]
      args: ["echo run >> {{workflow.parameters.scratch}}/b; test -f {{workflow.parameters.scratch}}/marker"]
  - name: echo
    inputs:
      parameters:
      - name: heard
    container:
      image: alpine
      command: [sh, -c]
      args: ["echo '{{inputs.parameters.heard}}' > {{workflow.parameters.scratch}}/c-heard"]
"#;

#[tokio::test]
async fn steps_retry_keeps_succeeded_groups() {
    let env = Env::new();
    let (name, first) = env.run(STEPS, None).await;
    assert_eq!(first.phase, WorkflowPhase::Failed);
    assert_eq!(phase(&first, &format!("{name}[1].B")), NodePhase::Failed);
    assert!(first.node_named(&format!("{name}[2]")).is_none());

    env.mark();
    next_second().await;
    let (again, second) = env.run(STEPS, Some(first.clone())).await;
    assert_eq!(again, name);
    assert_eq!(second.phase, WorkflowPhase::Succeeded, "{second:#?}");
    assert_eq!((env.count("a"), env.count("b")), (1, 2));
    assert_eq!(env.lines("c-heard"), ["from-a"], "C heard A's result");
    assert_kept(&first, &second, &format!("{name}[0].A"));
    assert_kept(&first, &second, &format!("{name}[0].pause"));
    assert_eq!(
        node(&second, &format!("{name}[0].pause")).node_type,
        NodeType::Suspend
    );
    // The first group succeeded with nothing failed below it: it keeps its status, while
    // the group that failed and the steps node above it run again.
    assert_kept(&first, &second, &format!("{name}[0]"));
    assert_reran(&first, &second, &format!("{name}[1]"));
    assert_reran(&first, &second, &name);
    let group = node(&second, &format!("{name}[0]"));
    assert_eq!(group.children.len(), 2, "the kept group has its two steps");
}

const RETRIED: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: retry-strategy-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: scratch
  templates:
  - name: main
    dag:
      tasks:
      - name: R
        template: second-time-lucky
      - name: B
        template: flaky
        depends: R
  - name: second-time-lucky
    retryStrategy:
      limit: "2"
    container:
      image: alpine
      command: [sh, -c]
      args:
      - |
        echo run >> {{workflow.parameters.scratch}}/r
        [ "$(wc -l < {{workflow.parameters.scratch}}/r)" -ge 2 ]
  - name: flaky
    container:
      image: alpine
      command: [sh, -c]
      args: ["echo run >> {{workflow.parameters.scratch}}/b; test -f {{workflow.parameters.scratch}}/marker"]
"#;

#[tokio::test]
async fn retry_node_resumes_at_its_succeeded_attempt() {
    let env = Env::new();
    let (name, first) = env.run(RETRIED, None).await;
    let r = format!("{name}.R");
    assert_eq!(first.phase, WorkflowPhase::Failed);
    assert_eq!(phase(&first, &r), NodePhase::Succeeded);
    assert_eq!(phase(&first, &format!("{r}(0)")), NodePhase::Failed);
    assert_eq!(phase(&first, &format!("{r}(1)")), NodePhase::Succeeded);
    assert_eq!(env.count("r"), 2);

    env.mark();
    next_second().await;
    let (_, second) = env.run(RETRIED, Some(first.clone())).await;
    assert_eq!(second.phase, WorkflowPhase::Succeeded, "{second:#?}");
    assert_eq!(env.count("r"), 2, "no attempt of R ran again");
    assert_eq!(env.count("b"), 2);
    assert_kept(&first, &second, &format!("{r}(1)"));
    let retry = node(&second, &r);
    assert_eq!(retry.node_type, NodeType::Retry);
    assert_eq!(retry.phase, NodePhase::Succeeded);
    // As `argo retry`, the failed attempt is dropped (it is what made R run again).
    assert!(second.node_named(&format!("{r}(0)")).is_none());
    assert_eq!(
        retry.children,
        [node(&second, &format!("{r}(1)")).id.clone()]
    );
}

const EXIT: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: retry-exit
spec:
  entrypoint: main
  onExit: report
  arguments:
    parameters:
    - name: scratch
  templates:
  - name: main
    dag:
      tasks:
      - name: A
        template: ok
      - name: B
        template: flaky
        depends: A
  - name: ok
    container:
      image: alpine
      command: [sh, -c]
      args: ["echo run >> {{workflow.parameters.scratch}}/a"]
  - name: flaky
    container:
      image: alpine
      command: [sh, -c]
      args: ["test -f {{workflow.parameters.scratch}}/marker"]
  - name: report
    container:
      image: alpine
      command: [sh, -c]
      args: ["echo {{workflow.status}} >> {{workflow.parameters.scratch}}/exit"]
"#;

#[tokio::test]
async fn exit_handler_runs_again() {
    let env = Env::new();
    let (_, first) = env.run(EXIT, None).await;
    assert_eq!(first.phase, WorkflowPhase::Failed);
    assert_eq!(phase(&first, "retry-exit.onExit"), NodePhase::Succeeded);
    assert_eq!(env.lines("exit"), ["Failed"]);

    env.mark();
    next_second().await;
    let (_, second) = env.run(EXIT, Some(first.clone())).await;
    assert_eq!(second.phase, WorkflowPhase::Succeeded, "{second:#?}");
    assert_eq!(env.lines("exit"), ["Failed", "Succeeded"]);
    assert_reran(&first, &second, "retry-exit.onExit");
    assert_eq!(phase(&second, "retry-exit.onExit"), NodePhase::Succeeded);
    assert_eq!(env.count("a"), 1);
}

const ONE: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: retry-one-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: scratch
  templates:
  - name: main
    container:
      image: alpine
      command: [sh, -c]
      args: ["echo run >> {{workflow.parameters.scratch}}/a"]
"#;

#[tokio::test]
async fn retry_without_nodes_is_a_fresh_run_in_the_same_directory() {
    let env = Env::new();
    let named = |retry_of: Option<WorkflowStatus>| RunOptions {
        name: Some("taken".to_owned()),
        ..env.options(retry_of)
    };
    let (_, first) = env.run_with(ONE, named(None)).await;
    assert_eq!(first.phase, WorkflowPhase::Succeeded);
    assert_eq!(env.count("a"), 1);

    // Without retry_of, a taken name is refused as before.
    let workflow = Engine::load_yaml(ONE, "inline.yaml").expect("the workflow validates");
    assert!(matches!(
        env.engine.start(workflow, named(None)),
        Err(EngineError::Exists(..))
    ));

    // A previous status without nodes (the run never started a node): everything runs.
    let nothing = WorkflowStatus {
        phase: WorkflowPhase::Error,
        message: Some("never started".to_owned()),
        ..WorkflowStatus::default()
    };
    let (name, second) = env.run_with(ONE, named(Some(nothing))).await;
    assert_eq!(name, "taken");
    assert_eq!(second.phase, WorkflowPhase::Succeeded, "{second:#?}");
    assert_eq!(second.message, None);
    assert_eq!(env.count("a"), 2, "the pod ran again");
    assert_eq!(phase(&second, "taken"), NodePhase::Succeeded);
}

#[tokio::test]
async fn refuses_what_cannot_be_retried() {
    let env = Env::new();
    let load = || Engine::load_yaml(ONE, "inline.yaml").expect("the workflow validates");

    // generateName only and nothing recorded: there is no name to retry under.
    let err = env
        .engine
        .start(load(), env.options(Some(WorkflowStatus::default())))
        .expect_err("no name to retry under");
    assert!(
        matches!(err, EngineError::Retry(RetryError::NoName)),
        "{err}"
    );

    // A run still going, or one that succeeded, is not retried (as `argo retry`).
    let (name, done) = env.run(ONE, None).await;
    assert_eq!(done.phase, WorkflowPhase::Succeeded);
    let err = env
        .engine
        .start(load(), env.options(Some(done.clone())))
        .expect_err("a succeeded run is not retried");
    assert!(
        matches!(
            err,
            EngineError::Retry(RetryError::NotRetryable(WorkflowPhase::Succeeded))
        ),
        "{err}"
    );
    let mut running = done.clone();
    running.phase = WorkflowPhase::Running;
    assert!(matches!(
        env.engine.start(load(), env.options(Some(running))),
        Err(EngineError::Retry(RetryError::NotRetryable(
            WorkflowPhase::Running
        )))
    ));

    // Another run's status under a different name would mix two runs' nodes and files.
    let mut failed = done;
    failed.phase = WorkflowPhase::Failed;
    let other = RunOptions {
        name: Some(format!("{name}-other")),
        ..env.options(Some(failed))
    };
    let err = env
        .engine
        .start(load(), other)
        .expect_err("another run's status");
    assert!(
        matches!(err, EngineError::Retry(RetryError::OtherRun { .. })),
        "{err}"
    );
    assert!(!env.run_dir(&format!("{name}-other")).exists());
    assert_eq!(env.count("a"), 1, "nothing ran for the refused retries");
}
