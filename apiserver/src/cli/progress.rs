//! Progress while a run goes on: a live tree on a terminal, plain lines otherwise.
//!
//! A terminal gets an indicatif spinner whose message is the node tree, redrawn at most
//! on every tick of the caller's ticker (~10 a second) and only when something changed or
//! a second passed (durations). Anything else (a pipe, a file, CI) gets one line per
//! node phase change with no escape codes, so logs stay readable and greppable.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use chrono::Utc;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kfp::argo::{NodePhase, WorkflowStatus};

use super::tree;

/// Most lines of the live tree; a terminal scrolls badly when a redraw is taller than it.
const LIVE_LINES: usize = 40;

/// The stream progress goes to: stdout for the table output, stderr when stdout is kept
/// for a JSON/YAML document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn is_terminal(self) -> bool {
        match self {
            Stream::Stdout => std::io::stdout().is_terminal(),
            Stream::Stderr => std::io::stderr().is_terminal(),
        }
    }

    /// Write one line; a closed pipe must not stop the run, so errors are ignored.
    fn line(self, text: &str) {
        let _ = match self {
            Stream::Stdout => writeln!(std::io::stdout().lock(), "{text}"),
            Stream::Stderr => writeln!(std::io::stderr().lock(), "{text}"),
        };
    }
}

/// The progress view of one run.
#[derive(Debug)]
pub enum Progress {
    Live(Live),
    Plain(Plain),
}

/// The spinner with the node tree.
#[derive(Debug)]
pub struct Live {
    bar: ProgressBar,
    header: String,
    dirty: bool,
    drawn: Option<Instant>,
}

/// One line per phase change.
#[derive(Debug)]
pub struct Plain {
    stream: Stream,
    seen: HashMap<String, NodePhase>,
}

impl Progress {
    /// Live on a terminal, plain lines otherwise.
    pub fn new(stream: Stream, run_name: &str) -> Self {
        if !stream.is_terminal() {
            return Progress::Plain(Plain {
                stream,
                seen: HashMap::new(),
            });
        }
        let target = match stream {
            Stream::Stdout => ProgressDrawTarget::stdout(),
            Stream::Stderr => ProgressDrawTarget::stderr(),
        };
        let bar = ProgressBar::with_draw_target(None, target);
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
            bar.set_style(style);
        }
        let header = format!("running {run_name} (Ctrl-C to stop)");
        bar.set_message(header.clone());
        Progress::Live(Live {
            bar,
            header,
            dirty: true,
            drawn: None,
        })
    }

    /// The status changed.
    pub fn changed(&mut self, status: &WorkflowStatus) {
        match self {
            Progress::Live(live) => live.dirty = true,
            Progress::Plain(plain) => plain.print_changes(status),
        }
    }

    /// A tick of the caller's ticker: the live view redraws if needed and spins.
    pub fn tick(&mut self, status: &WorkflowStatus) {
        if let Progress::Live(live) = self {
            let stale = live
                .drawn
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
            if live.dirty || stale {
                let rows = tree::rows(status);
                let tree = tree::render(&rows, Utc::now(), Some(LIVE_LINES));
                live.bar
                    .set_message(format!("{}\n{}", live.header, tree.trim_end()));
                live.dirty = false;
                live.drawn = Some(Instant::now());
            }
            live.bar.tick();
        }
    }

    /// A message for the user (such as "stopping"), kept apart from the progress lines.
    pub fn note(&self, text: &str) {
        match self {
            Progress::Live(live) => live.bar.println(text),
            Progress::Plain(_) => Stream::Stderr.line(text),
        }
    }

    /// The run ended: clear the live view (the final table replaces it), or print the
    /// last changes.
    pub fn finish(self, status: &WorkflowStatus) {
        match self {
            Progress::Live(live) => live.bar.finish_and_clear(),
            Progress::Plain(mut plain) => plain.print_changes(status),
        }
    }
}

impl Plain {
    /// `HH:MM:SS  <path>  <phase> [message]` for every node new or changed since the
    /// last call (a watch channel keeps only the latest status, so a very short phase
    /// may be skipped).
    fn print_changes(&mut self, status: &WorkflowStatus) {
        let time = chrono::Local::now().format("%H:%M:%S").to_string();
        for row in tree::rows(status) {
            let phase = row.node.phase;
            if self.seen.insert(row.node.id.clone(), phase) == Some(phase) {
                continue;
            }
            let mut line = format!("{time}  {}  {phase}", row.path);
            if let Some(message) = row.node.message.as_deref().filter(|m| !m.is_empty()) {
                line.push(' ');
                line.push_str(message);
            }
            self.stream.line(&line);
        }
    }
}
