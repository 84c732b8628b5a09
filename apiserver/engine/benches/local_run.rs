//! Wall time and memory of the local engine on 1,000 trivial tasks, against the same
//! 1,000 processes started by `xargs -P` with the same parallelism (the yardstick:
//! within 1.5x, and under 100 MB).
//!
//! `cargo bench -p kfp-engine --bench local_run` (optionally `-- <parallelism> <repeats>`);
//! files go to `$TMPDIR` (e.g. `TMPDIR=/dev/shm` to leave the disk out of it).
//! Not a test: it prints figures for the README and asserts nothing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kfp::synthetic::{Shape, pipeline};
use kfp_engine::{Engine, EngineConfig, RunOptions};

const TASKS: usize = 1000;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let parallelism: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    println!("{TASKS} tasks, parallelism {parallelism}, median of {repeats} runs");
    // Every run's files are kept until the end: deleting thousands of inodes between runs
    // makes ext4's next inode allocations slower and would blur the comparison.
    let mut keep = Vec::new();
    let baseline = median(
        (0..repeats)
            .map(|_| xargs(parallelism, &mut keep))
            .collect(),
    );
    println!("xargs -P {parallelism}: {:.2} s", baseline.as_secs_f64());
    for shape in [Shape::Fan, Shape::Random] {
        let yaml =
            kfp::compile_to_yaml(&pipeline(shape, TASKS)).expect("the synthetic pipeline compiles");
        let workflow = Engine::load_yaml(&yaml, "synthetic").expect("valid");
        reset_peak_memory();
        let times: Vec<Duration> = (0..repeats)
            .map(|_| runtime.block_on(engine_run(workflow.clone(), parallelism, &mut keep)))
            .collect();
        let time = median(times);
        println!(
            "engine, {shape} {TASKS}: {:.2} s ({:.2}x xargs), peak RSS {} MB",
            time.as_secs_f64(),
            time.as_secs_f64() / baseline.as_secs_f64(),
            peak_memory_mb()
        );
    }
}

async fn engine_run(
    workflow: kfp::argo::Workflow,
    parallelism: usize,
    keep: &mut Vec<tempfile::TempDir>,
) -> Duration {
    let root = tempfile::tempdir().expect("temp dir");
    let mut config = EngineConfig::new(root.path());
    config.max_parallel_pods = parallelism;
    let engine = Engine::new(config);
    let start = Instant::now();
    let status = engine
        .start(workflow, RunOptions::default())
        .expect("starts")
        .wait()
        .await;
    let elapsed = start.elapsed();
    assert_eq!(
        status.phase,
        kfp::argo::WorkflowPhase::Succeeded,
        "the benchmark workflow failed: {:?}",
        status.message
    );
    keep.push(root);
    elapsed
}

/// The same command as each synthetic op, 1,000 times, through `xargs -P`.
fn xargs(parallelism: usize, keep: &mut Vec<tempfile::TempDir>) -> Duration {
    let dir = tempfile::tempdir().expect("temp dir");
    let list: String = (0..TASKS)
        .map(|i| format!("{}\n", dir.path().join(format!("out-{i}")).display()))
        .collect();
    let input = dir.path().join("list");
    std::fs::write(&input, list).expect("write the list");
    let start = Instant::now();
    let status = Command::new("xargs")
        .args([
            "-P",
            &parallelism.to_string(),
            "-I{}",
            "sh",
            "-c",
            "echo \"$1\" > \"$0\"",
            "{}",
            "s",
        ])
        .stdin(std::fs::File::open(&input).expect("open the list"))
        .stdout(Stdio::null())
        .status()
        .expect("xargs runs");
    let elapsed = start.elapsed();
    assert!(status.success(), "xargs failed");
    assert!(Path::new(&dir.path().join(format!("out-{}", TASKS - 1))).exists());
    keep.push(dir);
    elapsed
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Reset the kernel's peak-RSS mark so compiling the pipeline is not counted.
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_memory_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}
