//! Helpers shared by the end-to-end tests: the binary, processes that are
//! always killed and reaped, and the root/CI rule.

#![allow(dead_code)]

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

/// `prochandle` as built by cargo for this test run. The environment
/// (including `PROCHANDLE_FORCE_PID`) is inherited.
pub fn prochandle() -> Command {
    Command::cargo_bin("prochandle").expect("the prochandle binary is built")
}

/// Runs `prochandle ARGS` to completion.
pub fn run(args: &[&str]) -> Output {
    prochandle().args(args).output().expect("run prochandle")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that stderr is exactly one line starting `prochandle: ` and
/// containing every piece, and returns it.
pub fn one_error_line(output: &Output, pieces: &[&str]) -> String {
    let text = stderr(output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "expected one error line, got {text:?}");
    let line = lines[0];
    assert!(line.starts_with("prochandle: "), "{line}");
    for piece in pieces {
        assert!(line.contains(piece), "{line:?} lacks {piece:?}");
    }
    assert!(!line.contains("Error {"), "debug output leaked: {line}");
    assert!(!line.contains("panicked"), "panic: {line}");
    line.to_owned()
}

pub fn code(output: &Output) -> i32 {
    output.status.code().expect("prochandle exited normally")
}

/// Whether the suite runs under CI, where missing requirements fail.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// True if we may go on; false (after saying why) if the test should be
/// skipped. Under CI=true a missing requirement fails instead.
pub fn require(condition: bool, what: &str) -> bool {
    if condition {
        return true;
    }
    if ci() {
        panic!("requirement missing under CI: {what}");
    }
    eprintln!("skipped: {what}");
    false
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Whether the handle mode is on for this run (it is off with
/// PROCHANDLE_FORCE_PID=1, for the CLI too, which inherits the variable).
pub fn handles() -> bool {
    prochandle::capabilities().handles()
}

/// A child of the test process that is killed and reaped when dropped.
pub struct Proc(pub Child);

impl Proc {
    pub fn spawn(command: &mut Command) -> Proc {
        let child = command.spawn().expect("spawn test process");
        Proc(child)
    }

    /// `sh -c SCRIPT`, waiting until it has exec'd past the fork (its
    /// `/proc/PID/exe` no longer names the test binary).
    pub fn sh(script: &str) -> Proc {
        let p = Proc::spawn(Command::new("sh").args(["-c", script]).stdin(Stdio::null()));
        p.settle();
        p
    }

    /// A shell that ignores SIGTERM, returned once the kernel shows the
    /// signal as ignored (`SigIgn` in `/proc/PID/status`).
    pub fn ignoring_term() -> Proc {
        let p = Proc::sh("trap '' TERM; while :; do sleep 0.05; done");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let status =
                std::fs::read_to_string(format!("/proc/{}/status", p.pid())).unwrap_or_default();
            let ignored = status
                .lines()
                .find_map(|l| l.strip_prefix("SigIgn:"))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
                .unwrap_or(0);
            if ignored & (1 << (15 - 1)) != 0 {
                return p;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!("the shell never ignored SIGTERM");
    }

    /// `sleep SECONDS`.
    pub fn sleep(seconds: &str) -> Proc {
        let p = Proc::spawn(Command::new("sleep").arg(seconds).stdin(Stdio::null()));
        p.settle();
        p
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    pub fn pid_arg(&self) -> String {
        self.0.id().to_string()
    }

    /// Waits until the child runs its own program, so that what the CLI
    /// reads about it is not the test binary's pre-exec copy.
    pub fn settle(&self) {
        let me = std::fs::read_link("/proc/self/exe").ok();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let exe = std::fs::read_link(format!("/proc/{}/exe", self.pid())).ok();
            if exe.is_some() && exe != me {
                return;
            }
            // A program that already exited has no exe link left to read.
            let stat =
                std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
            if stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Whether it is still running (not exited); does not reap.
    pub fn alive(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }

    /// Reaps it and returns the raw status.
    pub fn reap(&mut self) -> std::process::ExitStatus {
        self.0.wait().expect("wait for test process")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A PID that exists on no ordinary system.
pub const NO_SUCH_PID: &str = "2147483647";

/// Reads a child's stdout to the end.
pub fn read_all(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut text).expect("read stdout");
    }
    text
}
