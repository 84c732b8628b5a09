//! Test harnesses: a `kfp server` process on a free port (here), and the router in
//! process ([`app`]).

#![allow(dead_code)] // Each test binary uses its own part of this module.

pub mod app;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// A running `kfp server`; stopped with SIGINT when dropped.
pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
}

impl ServerProcess {
    /// Start `kfp server --data-dir <data_dir>` on a port the system picks and wait until it
    /// says where it listens. (Picking a free port first and passing it would race with
    /// the other tests' servers: two could be given the same port.) Its output goes to
    /// `<data_dir>.logs/`.
    pub fn start(data_dir: &Path) -> ServerProcess {
        let logs = data_dir.with_extension("logs");
        let dir = data_dir.parent().unwrap_or(data_dir);
        ServerProcess::start_logged(
            &[
                "--listen".as_ref(),
                "127.0.0.1:0".as_ref(),
                "--data-dir".as_ref(),
                data_dir.as_os_str(),
            ],
            dir,
            &logs,
            Duration::from_secs(60),
        )
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One HTTP/1.1 request; the status code and the body as JSON (Null if not JSON).
    pub fn http(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let payload = body.map(Value::to_string).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{payload}",
            payload.len()
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("receive");
        let code = response
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        (code, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    /// SIGINT, then wait for the process to end (it must within 10 s).
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        for _ in 0..400 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = self.child.kill();
        panic!("kfp server did not stop on SIGINT");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl ServerProcess {
    /// Start `kfp server <args>` (which should listen on port 0), its stdout and stderr
    /// written to `<logs>/stdout` and `<logs>/stderr`, in `dir`; wait up to `patience`
    /// until it says where it listens (`--demo` builds the samples first, which can take
    /// minutes when another build holds cargo's lock). Panics with its output if it ends
    /// or never listens.
    pub fn start_logged(
        args: &[&std::ffi::OsStr],
        dir: &Path,
        logs: &Path,
        patience: Duration,
    ) -> ServerProcess {
        std::fs::create_dir_all(logs).expect("log dir");
        let stdout = std::fs::File::create(logs.join("stdout")).expect("stdout log");
        let stderr = std::fs::File::create(logs.join("stderr")).expect("stderr log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_kfp"))
            .arg("server")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("kfp server starts");
        let started = std::time::Instant::now();
        while started.elapsed() < patience {
            let text = std::fs::read_to_string(logs.join("stderr")).unwrap_or_default();
            let port = text
                .lines()
                .filter_map(|l| l.split_once("listening on http://"))
                .filter_map(|(_, rest)| rest.split_whitespace().next())
                .filter_map(|address| address.rsplit_once(':'))
                .find_map(|(_, port)| port.parse::<u16>().ok());
            if let Some(port) = port {
                return ServerProcess { child, port };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "kfp server ended ({status}) before listening:\n{}",
                    logs_of(logs)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "kfp server did not listen within {patience:?}:\n{}",
            logs_of(logs)
        );
    }
}

/// The stdout and stderr a [`ServerProcess::start_logged`] server wrote so far.
pub fn logs_of(logs: &Path) -> String {
    let read = |name: &str| std::fs::read_to_string(logs.join(name)).unwrap_or_default();
    format!(
        "--- stdout\n{}--- stderr\n{}",
        read("stdout"),
        read("stderr")
    )
}
