//! Helpers of the end-to-end tests only: running the `prochandle` binary
//! and reading what it said. What every suite uses (guarded processes, the
//! CI rule) comes from `prochandle-test-support`.

#![allow(dead_code)]

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};

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

/// `setpriv` to the user `nobody`: a [`run_as`] prefix (needs root).
pub const NOBODY: [&str; 4] = [
    "setpriv",
    "--reuid=nobody",
    "--regid=nogroup",
    "--clear-groups",
];

/// `setpriv` to the user `nobody`, the program to run still to be added
/// (needs root).
pub fn as_nobody() -> Command {
    let mut setpriv = Command::new(NOBODY[0]);
    setpriv.args(&NOBODY[1..]);
    setpriv
}

/// Runs `prochandle ARGS` behind `prefix` (a command that runs the rest,
/// such as [`NOBODY`]; none if empty), stdin closed, to completion.
pub fn run_as(prefix: &[&str], args: &[&str]) -> Output {
    let mut command = Command::new(prefix.first().copied().unwrap_or("env"));
    command
        .args(prefix.iter().skip(1))
        .arg(prochandle().get_program())
        .args(args)
        .stdin(Stdio::null());
    command.output().expect("run prochandle")
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

/// `prochandle as NAME ARGS`: a personality, with messages in the C
/// locale (GNU quotes names as 'NAME' there).
pub fn persona(name: &str, args: &[&str]) -> Command {
    let mut command = prochandle();
    command.args(["as", name]).args(args).env("LC_ALL", "C");
    command
}

/// The installed tool `name` (`/usr/bin/timeout`, procps' `kill`...)
/// with `args`, if it is installed: the differential tests compare with
/// it where it is, and check our own expectations everywhere.
pub fn real(name: &str, args: &[&str]) -> Option<Command> {
    let path = ["/usr/bin", "/bin"]
        .iter()
        .map(|dir| std::path::Path::new(dir).join(name))
        .find(|path| path.is_file())?;
    if name == "kill" {
        // Only procps' kill(1) is the reference here.
        let version = Command::new(&path).arg("-V").output().ok()?;
        if !String::from_utf8_lossy(&version.stdout).contains("procps") {
            return None;
        }
    }
    // By name, as scripts call it: its messages begin with the name typed.
    let _ = path;
    let mut command = Command::new(name);
    command.args(args).env("LC_ALL", "C");
    Some(command)
}

/// Runs ours, and the real tool where it is installed: their outputs.
pub fn both(name: &str, args: &[&str]) -> Vec<(&'static str, Output)> {
    let mut outputs = vec![("ours", persona(name, args).output().expect("run ours"))];
    if let Some(mut real) = real(name, args) {
        outputs.push(("real", real.output().expect("run the real tool")));
    }
    outputs
}

/// The environment variable that makes a test binary a receiver of
/// queued signals (see [`receiver`]).
pub const RECEIVER: &str = "PROCHANDLE_TEST_RECEIVER";

#[cfg(target_os = "linux")]
/// The first line of each test that uses [`receiver`]: nothing in the test
/// itself; in the copy [`receiver`] starts (`RECEIVER` set), records
/// `SIGUSR1`'s siginfo, says `ready`, then prints `SIG N code=C value=V`
/// and exits.
pub fn receive_queued() {
    use std::io::Write;
    if std::env::var_os(RECEIVER).is_none() {
        return;
    }
    prochandle_test_support::signals::record_queued(libc::SIGUSR1);
    println!("ready");
    let _ = std::io::stdout().flush();
    let got = prochandle_test_support::signals::queued_within(std::time::Duration::from_secs(20));
    if let Some((sig, code, value)) = got {
        println!("SIG {sig} code={code} value={value}");
    }
    let _ = std::io::stdout().flush();
    std::process::exit(0);
}

#[cfg(target_os = "linux")]
/// This test binary, re-run for exactly `test` (the caller) as a receiver
/// (its argv holds `marker`, for pkill -f, as a filter that matches no
/// test); returned once it handles `SIGUSR1`, with its stdout.
pub fn receiver(
    test: &str,
    marker: &str,
) -> (
    prochandle_test_support::Reaped<Child>,
    std::io::BufReader<std::process::ChildStdout>,
) {
    use std::io::BufRead;
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = prochandle_test_support::Reaped::child(
        Command::new(exe)
            .args([test, "--exact", "--nocapture", "--test-threads=1", marker])
            .env(RECEIVER, "1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped()),
    );
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();
    while lines.read_line(&mut line).expect("read the receiver") > 0 {
        if line.trim_end().ends_with("ready") {
            return (child, lines);
        }
        line.clear();
    }
    panic!("the receiver never got ready");
}

#[cfg(target_os = "linux")]
/// What the receiver reported: `SIG N code=C value=V`.
pub fn received(lines: &mut std::io::BufReader<std::process::ChildStdout>) -> String {
    use std::io::BufRead;
    let mut line = String::new();
    while lines.read_line(&mut line).expect("read the receiver") > 0 {
        if line.starts_with("SIG ") {
            return line.trim().to_owned();
        }
        line.clear();
    }
    String::new()
}
