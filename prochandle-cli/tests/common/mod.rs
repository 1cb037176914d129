//! Helpers of the end-to-end tests only: running the `prochandle` binary
//! and reading what it said. What every suite uses (guarded processes, the
//! CI rule) comes from `prochandle-test-support`.

#![allow(dead_code)]

use std::io::Read;
use std::process::{Child, Command, Output};

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

/// Reads a child's stdout to the end.
pub fn read_all(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut text).expect("read stdout");
    }
    text
}

/// The two supervisors the `run` tests compare: GNU `timeout` and
/// `prochandle run`, given the same arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Timeout,
    Prochandle,
}

impl Tool {
    /// Both, GNU first. Requires GNU `timeout` (fails under `CI=true`
    /// without it); empty if it is missing locally.
    pub fn both() -> Vec<Tool> {
        let gnu = Command::new("timeout")
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success());
        if prochandle_test_support::require(gnu, "GNU timeout (coreutils)") {
            vec![Tool::Timeout, Tool::Prochandle]
        } else {
            Vec::new()
        }
    }

    /// `timeout ARGS` or `prochandle run ARGS`.
    pub fn command(self, args: &[&str]) -> Command {
        let mut command = match self {
            Tool::Timeout => Command::new("timeout"),
            Tool::Prochandle => {
                let mut command = prochandle();
                command.arg("run");
                command
            }
        };
        command.args(args);
        command
    }
}

/// What a script run in a PID namespace of its own printed.
pub struct Recycled {
    /// Everything it printed on stdout.
    pub text: String,
    stderr: String,
}

impl Recycled {
    /// The value of the `NAME=VALUE` word `name` it printed.
    pub fn field(&self, name: &str) -> String {
        self.text
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {:?}; stderr {}", self.text, self.stderr))
            .to_owned()
    }
}

/// Runs `script` (with `$P` the prochandle binary) under `sh` in a new PID
/// namespace with its own `/proc`, where PIDs are few and recycled soon, and
/// asserts that it printed `old=PID new=PID` with the same PID. `None`
/// without root and unshare(1) (a failure under `CI=true`).
pub fn recycled_in_pid_namespace(script: &str) -> Option<Recycled> {
    let usable = prochandle_test_support::is_root()
        && Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "true"])
            .status()
            .is_ok_and(|s| s.success());
    if !prochandle_test_support::require(usable, "needs root and unshare(1) for a PID namespace") {
        return None;
    }
    let out = Command::new("unshare")
        .args([
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child",
            "sh",
            "-c",
            script,
        ])
        .env("P", assert_cmd::cargo::cargo_bin("prochandle"))
        .output()
        .unwrap();
    let recycled = Recycled {
        text: stdout(&out),
        stderr: stderr(&out),
    };
    assert_eq!(
        recycled.field("old"),
        recycled.field("new"),
        "the PID was not recycled: {}",
        recycled.text
    );
    Some(recycled)
}
