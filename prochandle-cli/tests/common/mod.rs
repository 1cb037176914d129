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
