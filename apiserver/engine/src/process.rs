//! Runs one workflow container as a host process.
//!
//! Argo runs every step in a pod, and a pod's container is a whole process tree that lives
//! and dies as a unit: when its main process exits the container is torn down with everything
//! it left behind, and when the pod is deleted (terminate, `activeDeadlineSeconds`) the kubelet
//! sends SIGTERM, waits the grace period, then sends SIGKILL to the container.
//!
//! The local engine has no pods, so each container becomes a host process started in its
//! **own process group**, and every kill targets the group, the way the kubelet kills a
//! container:
//!
//! - when the main process exits, the group gets SIGKILL, so `sh -c 'sleep 100 &'` leaves
//!   nothing running and nothing holding the output pipes open;
//! - when the caller's `stop` future resolves, the group gets SIGTERM, then SIGKILL after
//!   [`ProcessSpec::grace`];
//! - when the [`run`] future is dropped half-way, a guard SIGKILLs the group.
//!
//! A process that moves itself to another group or session (`setsid`, daemons) escapes, as
//! it would not in a container; [`run`] stops waiting for its output pipes after a bounded
//! delay rather than hanging.
//!
//! stdout and stderr are read concurrently on the calling task (no thread per process) and
//! written, in arrival order, to one log file through one buffered writer. The last
//! [`RESULT_LIMIT`] bytes of stdout are kept for Argo's `outputs.result`.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::future::Future;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::fs::File;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::process::Command;
use tokio::time::Instant;

/// How many trailing bytes of stdout are kept for `outputs.result`.
pub const RESULT_LIMIT: usize = 256 * 1024;

/// How many trailing bytes of the combined stdout + stderr are kept for error messages.
pub const LOG_TAIL_LIMIT: usize = 4 * 1024;

/// How long to keep reading the pipes after the group was killed. They close at once unless
/// a process escaped the group (`setsid`) and still holds them.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// Size of each pipe read (a Linux pipe holds 64 KiB).
const READ_CHUNK: usize = 16 * 1024;

/// Capacity of the log file's buffered writer.
const LOG_BUFFER: usize = 32 * 1024;

/// What to run and where its output goes.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    /// Program to execute; a name without `/` is looked up on `PATH` (the child's `PATH` if
    /// `env` sets one).
    pub program: String,
    /// Arguments, not including the program name.
    pub args: Vec<String>,
    /// Variables to set, applied after the inherited ones (later entries win).
    pub env: Vec<(String, String)>,
    /// `true`: start from the engine's environment; `false`: only `env` plus the engine's
    /// `PATH` and `HOME`.
    pub inherit_env: bool,
    /// Working directory; empty means the engine's own.
    pub cwd: PathBuf,
    /// Combined stdout + stderr log, created (with its parent directories) or truncated.
    pub log_path: PathBuf,
    /// Time between SIGTERM and SIGKILL when the run is stopped.
    pub grace: Duration,
}

/// How the main process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exited with this status code.
    Code(i32),
    /// Killed by this signal number.
    Signal(i32),
}

impl Exit {
    /// The status a shell would report: the code, or `128 + signal`.
    pub fn code(self) -> i32 {
        match self {
            Exit::Code(code) => code,
            Exit::Signal(signal) => 128 + signal,
        }
    }

    fn from_status(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(signal)) => Exit::Signal(signal),
            // `wait` only reports terminated processes, which have one or the other.
            (None, None) => Exit::Code(-1),
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exit::Code(code) => write!(f, "exit code {code}"),
            Exit::Signal(signal) => match Signal::try_from(signal) {
                Ok(name) => write!(f, "killed by signal {signal} ({name})"),
                Err(_) => write!(f, "killed by signal {signal}"),
            },
        }
    }
}

/// The result of a run that got as far as starting the program.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How the main process ended.
    pub exit: Exit,
    /// The `stop` future resolved before the process exited, so it was terminated.
    pub stopped: bool,
    /// The last [`RESULT_LIMIT`] bytes of stdout, lossy UTF-8, cut at a char boundary.
    pub stdout: String,
    /// The last [`LOG_TAIL_LIMIT`] bytes of stdout and stderr as they arrived.
    pub log_tail: String,
    /// Process id of the main process, also the id of its process group.
    pub pid: u32,
}

impl Outcome {
    /// Exited with code 0 on its own (a stopped run is never a success, as in Argo).
    pub fn success(&self) -> bool {
        !self.stopped && self.exit == Exit::Code(0)
    }

    /// The status a shell would report: the code, or `128 + signal`.
    pub fn exit_code(&self) -> i32 {
        self.exit.code()
    }
}

/// Why a process could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program does not exist (or is not on `PATH`).
    #[error(
        "command '{program}' not found on this machine: install it or add its directory to PATH"
    )]
    NotFound {
        /// The program as given.
        program: String,
    },
    /// The program exists but may not be executed.
    #[error(
        "command '{program}' cannot be executed: permission denied (is it a directory, or missing the executable bit?)"
    )]
    PermissionDenied {
        /// The program as given.
        program: String,
    },
    /// Any other failure to start the program.
    #[error("cannot start command '{program}'")]
    Spawn {
        /// The program as given.
        program: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The log file could not be created or written.
    #[error("cannot create or write the log file {}", path.display())]
    Log {
        /// The log file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Waiting for the process failed.
    #[error("lost track of command '{program}' while waiting for it to exit")]
    Wait {
        /// The program as given.
        program: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// Run to completion or until `stop` resolves.
///
/// When the main process exits, its whole process group is killed and the output pipes are
/// drained. If `stop` resolves first, the group gets SIGTERM, then SIGKILL after
/// [`ProcessSpec::grace`], and the outcome has `stopped` set. Dropping the returned future
/// SIGKILLs the group. A log file that cannot be written is reported as
/// [`ProcessError::Log`] once the process has ended.
pub async fn run(
    spec: &ProcessSpec,
    stop: impl Future<Output = ()>,
) -> Result<Outcome, ProcessError> {
    let log = open_log(&spec.log_path).await?;
    let mut child = spawn(spec)?;
    let Some(pid) = child.id() else {
        return Err(ProcessError::Wait {
            program: spec.program.clone(),
            source: io::Error::other("the process was reaped before its id was read"),
        });
    };
    // From here on, any early return or drop of this future kills the group.
    let mut group = GroupGuard::new(pid);

    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let mut out_buf = vec![0; READ_CHUNK];
    let mut err_buf = vec![0; READ_CHUNK];
    let mut sink = Sink::new(log);

    let mut stop = pin!(stop);
    let mut timer = pin!(tokio::time::sleep(Duration::ZERO));
    let mut timer_for = Timer::Off;
    let mut status: Option<ExitStatus> = None;
    let mut stopped = false;

    let status = loop {
        if let (Some(status), None, None) = (status, &stdout, &stderr) {
            break status;
        }
        tokio::select! {
            waited = child.wait(), if status.is_none() => {
                let exited = waited.map_err(|source| ProcessError::Wait {
                    program: spec.program.clone(),
                    source,
                })?;
                // The container dies with its main process: take the leftovers with it, which
                // also closes the pipes they inherited.
                group.kill_and_disarm();
                status = Some(exited);
                timer.as_mut().reset(Instant::now() + DRAIN_LIMIT);
                timer_for = Timer::Drain;
            }
            () = stop.as_mut(), if status.is_none() && !stopped => {
                stopped = true;
                group.signal(Signal::SIGTERM);
                timer.as_mut().reset(Instant::now() + spec.grace);
                timer_for = Timer::Kill;
            }
            () = timer.as_mut(), if timer_for != Timer::Off => match (timer_for, status) {
                (Timer::Drain, Some(status)) => break status,
                _ => {
                    group.signal(Signal::SIGKILL);
                    timer_for = Timer::Off;
                }
            },
            read = read_some(&mut stdout, &mut out_buf), if stdout.is_some() => match read {
                Ok(n) if n > 0 => sink.stdout(out_buf.get(..n).unwrap_or_default()).await,
                _ => stdout = None,
            },
            read = read_some(&mut stderr, &mut err_buf), if stderr.is_some() => match read {
                Ok(n) if n > 0 => sink.stderr(err_buf.get(..n).unwrap_or_default()).await,
                _ => stderr = None,
            },
        }
    };

    let (stdout, log_tail) = sink.finish().await.map_err(|source| ProcessError::Log {
        path: spec.log_path.clone(),
        source,
    })?;
    Ok(Outcome {
        exit: Exit::from_status(status),
        stopped,
        stdout,
        log_tail,
        pid,
    })
}

/// What the shared timer is counting down to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    Off,
    /// End of the grace period after SIGTERM.
    Kill,
    /// Give up on pipes held open by a process outside the group.
    Drain,
}

/// Starts the program. A bare name is looked up on `PATH` here first: with an absolute path std
/// can start the child with `posix_spawn` (vfork) rather than fork + one `execve` per `PATH`
/// entry, which matters when the engine runs thousands of short steps. Any failure with the
/// looked-up path is retried with the bare name, so errors are exactly `Command`'s.
fn spawn(spec: &ProcessSpec) -> Result<tokio::process::Child, ProcessError> {
    if let Some(resolved) = resolve_on_path(spec)
        && let Ok(child) = command(spec, &resolved).spawn()
    {
        return Ok(child);
    }
    command(spec, Path::new(&spec.program))
        .spawn()
        .map_err(|source| spawn_error(spec, source))
}

/// The first executable `PATH` entry for a bare program name, searching the `PATH` the child
/// will get (as `execvp` and `Command` do). `None` for names with a `/`, or when `PATH` has
/// relative entries (those depend on the child's working directory).
fn resolve_on_path(spec: &ProcessSpec) -> Option<PathBuf> {
    if spec.program.is_empty() || spec.program.contains('/') {
        return None;
    }
    let search = match spec.env.iter().rev().find(|(key, _)| key == "PATH") {
        Some((_, value)) => OsString::from(value),
        None => std::env::var_os("PATH")?,
    };
    let dirs: Vec<PathBuf> = std::env::split_paths(&search).collect();
    if dirs.iter().any(|dir| !dir.is_absolute()) {
        return None;
    }
    dirs.into_iter()
        .map(|dir| dir.join(&spec.program))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}

fn command(spec: &ProcessSpec, program: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.arg0(&spec.program)
        .args(&spec.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if !spec.inherit_env {
        cmd.env_clear();
        for key in ["PATH", "HOME"] {
            if let Some(value) = std::env::var_os(key) {
                cmd.env(key, value);
            }
        }
    }
    cmd.envs(spec.env.iter().map(|(key, value)| (key, value)));
    if !spec.cwd.as_os_str().is_empty() {
        cmd.current_dir(&spec.cwd);
    }
    cmd
}

/// Turns a spawn failure into the error a user can act on. `ENOENT` also comes from a
/// missing working directory or `#!` interpreter, which are not "command not found".
fn spawn_error(spec: &ProcessSpec, source: io::Error) -> ProcessError {
    let program = spec.program.clone();
    match source.kind() {
        io::ErrorKind::NotFound if !spec.cwd.as_os_str().is_empty() && !spec.cwd.is_dir() => {
            ProcessError::Spawn {
                program,
                source: io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("working directory {} does not exist", spec.cwd.display()),
                ),
            }
        }
        io::ErrorKind::NotFound if program.contains('/') && spec.cwd.join(&program).is_file() => {
            ProcessError::Spawn {
                program,
                source: io::Error::new(
                    io::ErrorKind::NotFound,
                    "the file exists but the interpreter on its #! line was not found",
                ),
            }
        }
        io::ErrorKind::NotFound => ProcessError::NotFound { program },
        io::ErrorKind::PermissionDenied => ProcessError::PermissionDenied { program },
        _ => ProcessError::Spawn { program, source },
    }
}

/// Creates the log file and its parents in one trip to the blocking pool.
async fn open_log(path: &Path) -> Result<BufWriter<File>, ProcessError> {
    let owned = path.to_path_buf();
    let opened = tokio::task::spawn_blocking(move || {
        if let Some(parent) = owned.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::File::create(&owned)
    })
    .await
    .unwrap_or_else(|join| Err(io::Error::other(join)));
    match opened {
        Ok(file) => Ok(BufWriter::with_capacity(LOG_BUFFER, File::from_std(file))),
        Err(source) => Err(ProcessError::Log {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Reads from a pipe that may already be closed (then never completes).
async fn read_some<R: AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    buf: &mut [u8],
) -> io::Result<usize> {
    match pipe {
        Some(pipe) => pipe.read(buf).await,
        None => std::future::pending().await,
    }
}

/// SIGKILLs the process group on drop unless the main process was reaped (after which the
/// group was already killed and its id may be reused).
#[derive(Debug)]
struct GroupGuard {
    pgid: Pid,
    armed: bool,
}

impl GroupGuard {
    fn new(pid: u32) -> Self {
        Self {
            pgid: Pid::from_raw(pid.cast_signed()),
            armed: true,
        }
    }

    /// Signals the group; errors (ESRCH: nobody left) are ignored.
    fn signal(&self, signal: Signal) {
        if self.armed {
            let _ = killpg(self.pgid, signal);
        }
    }

    fn kill_and_disarm(&mut self) {
        self.signal(Signal::SIGKILL);
        self.armed = false;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.signal(Signal::SIGKILL);
    }
}

/// Where output goes: the log file, the stdout tail, and the combined tail.
#[derive(Debug)]
struct Sink {
    log: BufWriter<File>,
    /// First write error; later output is no longer written.
    log_error: Option<io::Error>,
    stdout: Tail,
    combined: Tail,
}

impl Sink {
    fn new(log: BufWriter<File>) -> Self {
        Self {
            log,
            log_error: None,
            stdout: Tail::new(RESULT_LIMIT),
            combined: Tail::new(LOG_TAIL_LIMIT),
        }
    }

    async fn stdout(&mut self, chunk: &[u8]) {
        self.stdout.push(chunk);
        self.stderr(chunk).await;
    }

    async fn stderr(&mut self, chunk: &[u8]) {
        self.combined.push(chunk);
        if self.log_error.is_none()
            && let Err(error) = self.log.write_all(chunk).await
        {
            self.log_error = Some(error);
        }
    }

    /// Flushes the log and returns `(stdout, log_tail)`.
    async fn finish(mut self) -> io::Result<(String, String)> {
        if let Some(error) = self.log_error {
            return Err(error);
        }
        self.log.flush().await?;
        Ok((self.stdout.into_string(), self.combined.into_string()))
    }
}

/// The last `limit` bytes of a stream.
#[derive(Debug)]
struct Tail {
    buf: VecDeque<u8>,
    limit: usize,
    /// Bytes were dropped from the front, so it may start inside a character.
    cut: bool,
}

impl Tail {
    fn new(limit: usize) -> Self {
        Self {
            buf: VecDeque::new(),
            limit,
            cut: false,
        }
    }

    fn push(&mut self, chunk: &[u8]) {
        if chunk.len() >= self.limit {
            self.cut |= chunk.len() > self.limit || !self.buf.is_empty();
            self.buf.clear();
            self.buf.extend(chunk.split_at(chunk.len() - self.limit).1);
            return;
        }
        let excess = (self.buf.len() + chunk.len()).saturating_sub(self.limit);
        if excess > 0 {
            self.buf.drain(..excess);
            self.cut = true;
        }
        self.buf.extend(chunk);
    }

    fn into_string(self) -> String {
        let mut bytes = Vec::from(self.buf);
        if self.cut {
            // Skip the continuation bytes of a character whose start was dropped.
            let partial = bytes
                .iter()
                .take(3)
                .take_while(|&&byte| byte & 0xC0 == 0x80)
                .count();
            bytes.drain(..partial);
        }
        String::from_utf8(bytes)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Instant as StdInstant;
    use tempfile::TempDir;

    fn spec(dir: &TempDir, program: &str, args: &[&str]) -> ProcessSpec {
        ProcessSpec {
            program: program.to_owned(),
            args: args.iter().map(|&arg| arg.to_owned()).collect(),
            env: Vec::new(),
            inherit_env: true,
            cwd: dir.path().to_path_buf(),
            log_path: dir.path().join("logs").join("main.log"),
            grace: Duration::from_millis(200),
        }
    }

    fn sh_spec(dir: &TempDir, script: &str) -> ProcessSpec {
        spec(dir, "sh", &["-c", script])
    }

    async fn sh(dir: &TempDir, script: &str) -> Outcome {
        run(&sh_spec(dir, script), std::future::pending())
            .await
            .unwrap()
    }

    /// `kill -0` succeeds and the process is not a zombie waiting for a parent to reap it.
    fn alive(pid: i32) -> bool {
        if nix::sys::signal::kill(Pid::from_raw(pid), None).is_err() {
            return false;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next());
        !matches!(state, None | Some('Z' | 'X'))
    }

    async fn dies_soon(pid: i32) -> bool {
        for _ in 0..150 {
            if !alive(pid) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    async fn read_pid(path: &Path) -> i32 {
        for _ in 0..250 {
            if let Ok(text) = std::fs::read_to_string(path)
                && let Ok(pid) = text.trim().parse()
            {
                return pid;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{} was never written", path.display());
    }

    #[tokio::test]
    async fn exit_codes() {
        let dir = TempDir::new().unwrap();
        let ok = sh(&dir, "exit 0").await;
        assert_eq!(ok.exit, Exit::Code(0));
        assert!(ok.success());
        assert!(!ok.stopped);
        assert!(ok.pid > 0);

        let three = sh(&dir, "exit 3").await;
        assert_eq!(three.exit, Exit::Code(3));
        assert_eq!(three.exit_code(), 3);
        assert!(!three.success());
    }

    #[tokio::test]
    async fn signal_exit() {
        let dir = TempDir::new().unwrap();
        let outcome = sh(&dir, "kill -TERM $$").await;
        assert_eq!(outcome.exit, Exit::Signal(15));
        assert_eq!(outcome.exit_code(), 143);
        assert!(!outcome.success());
        assert_eq!(outcome.exit.to_string(), "killed by signal 15 (SIGTERM)");
        assert_eq!(Exit::Code(2).to_string(), "exit code 2");
    }

    #[tokio::test]
    async fn stdout_captured_with_trailing_content() {
        let dir = TempDir::new().unwrap();
        let outcome = sh(&dir, "printf 'first\\nlast line\\n\\n  '; echo oops >&2").await;
        assert_eq!(outcome.stdout, "first\nlast line\n\n  ");
        assert!(outcome.log_tail.contains("oops"));
    }

    #[tokio::test]
    async fn stdin_is_null() {
        let dir = TempDir::new().unwrap();
        let outcome = run(&spec(&dir, "cat", &[]), std::future::pending())
            .await
            .unwrap();
        assert!(outcome.success());
        assert_eq!(outcome.stdout, "");
    }

    #[tokio::test]
    async fn log_interleaves_both_streams() {
        let dir = TempDir::new().unwrap();
        let spec = sh_spec(
            &dir,
            "echo out1; sleep 0.1; echo err1 >&2; sleep 0.1; echo out2; sleep 0.1; echo err2 >&2",
        );
        let outcome = run(&spec, std::future::pending()).await.unwrap();
        let log = std::fs::read_to_string(&spec.log_path).unwrap();
        assert_eq!(log, "out1\nerr1\nout2\nerr2\n");
        assert_eq!(outcome.log_tail, log);
        assert_eq!(outcome.stdout, "out1\nout2\n");
    }

    #[tokio::test]
    async fn large_output_keeps_last_256k_of_stdout() {
        let dir = TempDir::new().unwrap();
        // 3 MB of stdout, some stderr, then a marker at the very end.
        let spec = sh_spec(
            &dir,
            "yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ | head -n 50000; \
             echo noise >&2; echo END-MARKER",
        );
        let outcome = run(&spec, std::future::pending()).await.unwrap();
        assert!(outcome.success());
        assert_eq!(outcome.stdout.len(), RESULT_LIMIT);
        assert!(outcome.stdout.ends_with("XYZ\nEND-MARKER\n"));
        assert!(!outcome.stdout.contains("noise"));
        // Arrival order between the two pipes is up to the reader: stdout may still have a
        // backlog when `noise` arrives on stderr.
        assert_eq!(outcome.log_tail.len(), LOG_TAIL_LIMIT);
        assert!(outcome.log_tail.contains("END-MARKER\n"));
        let log = std::fs::read_to_string(&spec.log_path).unwrap();
        assert_eq!(log.len(), 50_000 * 63 + "noise\nEND-MARKER\n".len());
        assert!(log.contains("noise\n"));
    }

    #[test]
    fn tail_cuts_at_char_boundary() {
        let mut tail = Tail::new(8);
        tail.push("ab".as_bytes());
        tail.push("€€€".as_bytes()); // 9 bytes: keeps the last 8, mid-character
        assert_eq!(tail.into_string(), "€€");

        let mut tail = Tail::new(5);
        for byte in "x€yz".bytes() {
            tail.push(&[byte]);
        }
        assert_eq!(tail.into_string(), "€yz");

        let mut tail = Tail::new(4);
        tail.push(b"abcd");
        assert!(!tail.cut);
        assert_eq!(tail.into_string(), "abcd");

        let mut tail = Tail::new(4);
        tail.push(&[b'a', 0xff, b'b']);
        assert_eq!(tail.into_string(), "a\u{fffd}b");
    }

    #[tokio::test]
    async fn missing_program_is_not_found() {
        let dir = TempDir::new().unwrap();
        let error = run(
            &spec(&dir, "kfp-surely-not-installed-cowsay", &[]),
            std::future::pending(),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&error, ProcessError::NotFound { program } if program == "kfp-surely-not-installed-cowsay")
        );
        assert!(error.to_string().contains("not found on this machine"));

        let error = run(
            &spec(&dir, "/no/such/dir/tool", &[]),
            std::future::pending(),
        )
        .await
        .unwrap_err();
        assert!(matches!(error, ProcessError::NotFound { .. }));
    }

    #[tokio::test]
    async fn non_executable_is_permission_denied() {
        let dir = TempDir::new().unwrap();
        let script = dir.path().join("script.sh");
        std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = run(
            &spec(&dir, script.to_str().unwrap(), &[]),
            std::future::pending(),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(error, ProcessError::PermissionDenied { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("permission denied"));
    }

    #[tokio::test]
    async fn missing_interpreter_or_cwd_is_not_command_not_found() {
        let dir = TempDir::new().unwrap();
        let script = dir.path().join("script");
        std::fs::write(&script, "#!/no/such/interpreter\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let error = run(
            &spec(&dir, script.to_str().unwrap(), &[]),
            std::future::pending(),
        )
        .await
        .unwrap_err();
        assert!(matches!(error, ProcessError::Spawn { .. }), "{error:?}");

        let mut spec = spec(&dir, "true", &[]);
        spec.cwd = dir.path().join("missing");
        let error = run(&spec, std::future::pending()).await.unwrap_err();
        let ProcessError::Spawn { source, .. } = error else {
            panic!("{error:?}")
        };
        assert!(source.to_string().contains("working directory"));
    }

    #[tokio::test]
    async fn log_errors() {
        let dir = TempDir::new().unwrap();
        // Parents are created.
        let mut nested = spec(&dir, "true", &[]);
        nested.log_path = dir.path().join("a/b/c/log.txt");
        run(&nested, std::future::pending()).await.unwrap();
        assert!(nested.log_path.is_file());

        // A directory in the way: the error names the path, and nothing is started.
        let marker = dir.path().join("ran");
        let mut blocked = sh_spec(&dir, &format!("touch {}", marker.display()));
        blocked.log_path = dir.path().to_path_buf();
        let error = run(&blocked, std::future::pending()).await.unwrap_err();
        assert!(matches!(&error, ProcessError::Log { path, .. } if path == dir.path()));
        assert!(error.to_string().contains("log file"));
        assert!(!marker.exists());
    }

    #[tokio::test]
    async fn stop_terminates_quickly() {
        let dir = TempDir::new().unwrap();
        let mut spec = spec(&dir, "sleep", &["60"]);
        spec.grace = Duration::from_secs(10);
        let started = StdInstant::now();
        let outcome = run(&spec, tokio::time::sleep(Duration::from_millis(100)))
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(outcome.stopped);
        assert!(!outcome.success());
        assert_eq!(outcome.exit, Exit::Signal(15));
    }

    #[tokio::test]
    async fn sigterm_ignored_is_killed_after_grace() {
        let dir = TempDir::new().unwrap();
        let started = StdInstant::now();
        let outcome = run(
            &sh_spec(&dir, "trap '' TERM; sleep 60"),
            tokio::time::sleep(Duration::from_millis(100)),
        )
        .await
        .unwrap();
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
        assert!(outcome.stopped);
        assert_eq!(outcome.exit, Exit::Signal(9));
        assert_eq!(outcome.exit_code(), 137);
    }

    #[tokio::test]
    async fn stop_after_exit_changes_nothing() {
        let dir = TempDir::new().unwrap();
        let outcome = run(
            &sh_spec(&dir, "echo done"),
            tokio::time::sleep(Duration::from_secs(5)),
        )
        .await
        .unwrap();
        assert!(!outcome.stopped);
        assert!(outcome.success());
    }

    #[tokio::test]
    async fn background_child_neither_survives_nor_blocks() {
        let dir = TempDir::new().unwrap();
        let pid_file = dir.path().join("bg.pid");
        let started = StdInstant::now();
        let outcome = sh(
            &dir,
            &format!("sleep 60 & echo $! > {}; echo started", pid_file.display()),
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(outcome.success());
        assert_eq!(outcome.stdout, "started\n");
        let pid = read_pid(&pid_file).await;
        assert!(dies_soon(pid).await, "background sleep {pid} survived");
    }

    #[tokio::test]
    async fn process_escaping_the_group_does_not_block_forever() {
        if !Path::new("/usr/bin/setsid").exists() {
            return;
        }
        let dir = TempDir::new().unwrap();
        let pid_file = dir.path().join("escaped.pid");
        let started = StdInstant::now();
        // `setsid` leaves the group and keeps the stdout pipe open.
        let outcome = sh(
            &dir,
            &format!(
                "setsid sleep 30 & echo $! > {}; sleep 0.3; echo hi",
                pid_file.display()
            ),
        )
        .await;
        let elapsed = started.elapsed();
        let pid = read_pid(&pid_file).await;
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
        assert!(elapsed >= DRAIN_LIMIT, "{elapsed:?}");
        assert!(
            elapsed < DRAIN_LIMIT + Duration::from_secs(3),
            "{elapsed:?}"
        );
        assert!(outcome.success());
        assert_eq!(outcome.stdout, "hi\n");
    }

    #[tokio::test]
    async fn dropping_run_kills_the_group() {
        let dir = TempDir::new().unwrap();
        let pid_file = dir.path().join("bg.pid");
        let spec = sh_spec(
            &dir,
            &format!("sleep 60 & echo $! > {}; wait", pid_file.display()),
        );
        let pid_file_seen = async {
            read_pid(&pid_file).await;
        };
        tokio::select! {
            result = run(&spec, std::future::pending()) => panic!("finished: {result:?}"),
            () = pid_file_seen => {}
        }
        // The run future is dropped here.
        let pid = read_pid(&pid_file).await;
        assert!(dies_soon(pid).await, "background sleep {pid} survived");
    }

    #[tokio::test]
    async fn env_and_cwd_applied() {
        let dir = TempDir::new().unwrap();
        let mut spec = sh_spec(&dir, "echo \"$GREETING $HOME\"; pwd -P");
        spec.env = vec![
            ("GREETING".into(), "hello".into()),
            ("HOME".into(), "/custom/home".into()),
        ];
        let outcome = run(&spec, std::future::pending()).await.unwrap();
        let cwd = dir.path().canonicalize().unwrap();
        assert_eq!(
            outcome.stdout,
            format!("hello /custom/home\n{}\n", cwd.display())
        );
    }

    #[tokio::test]
    async fn path_lookup_uses_the_childs_path_and_keeps_argv0() {
        let dir = TempDir::new().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let tool = bin.join("kfp-test-tool");
        std::fs::write(&tool, "#!/bin/sh\necho \"$0 ran with $1\"\n").unwrap();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();

        let mut spec = spec(&dir, "kfp-test-tool", &["x"]);
        spec.inherit_env = false;
        spec.env = vec![("PATH".into(), format!("{}:/usr/bin:/bin", bin.display()))];
        assert_eq!(resolve_on_path(&spec), Some(tool.clone()));
        let outcome = run(&spec, std::future::pending()).await.unwrap();
        assert_eq!(outcome.stdout, format!("{} ran with x\n", tool.display()));

        // argv[0] stays the name as given.
        let outcome = sh(&dir, "echo $0").await;
        assert_eq!(outcome.stdout, "sh\n");

        // Relative PATH entries are left to Command, which resolves them in the child.
        spec.env = vec![("PATH".into(), "bin:/usr/bin:/bin".into())];
        assert_eq!(resolve_on_path(&spec), None);
        let outcome = run(&spec, std::future::pending()).await.unwrap();
        assert_eq!(outcome.stdout, "bin/kfp-test-tool ran with x\n");
    }

    #[tokio::test]
    async fn inherit_env_true_keeps_engine_environment() {
        let dir = TempDir::new().unwrap();
        let mut spec = spec(&dir, "env", &[]);
        spec.env = vec![("KFP_TEST_VAR".into(), "1".into())];
        let outcome = run(&spec, std::future::pending()).await.unwrap();
        let keys: Vec<&str> = outcome
            .stdout
            .lines()
            .filter_map(|line| line.split_once('=').map(|(key, _)| key))
            .collect();
        assert!(keys.contains(&"KFP_TEST_VAR"));
        for (key, _) in std::env::vars() {
            assert!(keys.contains(&key.as_str()), "{key} not inherited");
        }
    }

    #[tokio::test]
    async fn inherit_env_false_passes_only_given_vars_path_and_home() {
        let dir = TempDir::new().unwrap();
        let mut spec = spec(&dir, "env", &[]);
        spec.inherit_env = false;
        spec.env = vec![("KFP_TEST_VAR".into(), "a=b".into())];
        let outcome = run(&spec, std::future::pending()).await.unwrap();
        let mut expected = vec!["KFP_TEST_VAR=a=b".to_owned()];
        for key in ["PATH", "HOME"] {
            if let Ok(value) = std::env::var(key) {
                expected.push(format!("{key}={value}"));
            }
        }
        let mut lines: Vec<String> = outcome.stdout.lines().map(str::to_owned).collect();
        lines.sort();
        expected.sort();
        assert_eq!(lines, expected);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_concurrent_runs() {
        let dir = std::sync::Arc::new(TempDir::new().unwrap());
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..200 {
            let dir = dir.clone();
            tasks.spawn(async move {
                let mut spec = spec(&dir, "echo", &[&i.to_string()]);
                spec.log_path = dir.path().join(format!("logs/{i}.log"));
                let outcome = run(&spec, std::future::pending()).await.unwrap();
                assert!(outcome.success());
                assert_eq!(outcome.stdout, format!("{i}\n"));
                assert_eq!(
                    std::fs::read_to_string(&spec.log_path).unwrap(),
                    format!("{i}\n")
                );
            });
        }
        while let Some(joined) = tasks.join_next().await {
            joined.unwrap();
        }
    }

    #[test]
    fn run_future_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let spec = ProcessSpec {
            program: "true".into(),
            args: Vec::new(),
            env: Vec::new(),
            inherit_env: true,
            cwd: PathBuf::new(),
            log_path: PathBuf::from("unused.log"),
            grace: Duration::ZERO,
        };
        let future = run(&spec, std::future::pending());
        assert_send(&future);
    }
}
