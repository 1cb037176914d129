//! What the user sees: one-line errors, exit-state text, and JSON.
//!
//! The bottom layer of the CLI: it imports nothing of this crate. What a
//! line is about comes in as a [`Subject`] (a `Target` in practice), and
//! every choice is made on the library's [`ErrorKind`], operation and OS
//! error, never on the wording of its messages.

use std::fmt;
use std::io::Write;

use prochandle::{Error, ErrorKind, ExitStatus, ProcessState, Signal};
use serde_json::{json, Value};

/// What was being done to a target, for error messages and permission
/// rules.
/// (`Tree`, `Getfd` and `Nsenter` are Linux's.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub enum Action {
    Wait,
    Kill,
    Info,
    Tree,
    Getfd,
    Nsenter,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Wait => "wait",
            Action::Kill => "kill",
            Action::Info => "info",
            Action::Tree => "tree",
            Action::Getfd => "getfd",
            Action::Nsenter => "nsenter",
        })
    }
}

impl Action {
    /// What the kernel demands before it lets this action through, for
    /// "permission denied" messages.
    pub fn permission_rule(self) -> &'static str {
        match self {
            Action::Kill => {
                "signalling needs the same real or effective user ID as the target, or CAP_KILL"
            }
            Action::Getfd => {
                "taking a descriptor needs ptrace-attach rights: the same user and a dumpable \
                 target (not setuid, no PR_SET_DUMPABLE 0) within Yama's ptrace_scope, \
                 or CAP_SYS_PTRACE"
            }
            Action::Nsenter => {
                "joining namespaces needs CAP_SYS_ADMIN over the target's user namespace \
                 and ptrace-read rights over the target"
            }
            Action::Wait | Action::Info | Action::Tree => {
                "reading another user's process needs ptrace-read rights or CAP_SYS_PTRACE"
            }
        }
    }
}

/// What a message or JSON object is about: shown as the user wrote it,
/// with the PID it names.
pub trait Subject: fmt::Display {
    /// The process ID.
    fn pid(&self) -> u32;
}

/// The name messages begin with: `prochandle`, or the tool a
/// personality stands in for (`timeout`, `kill`...), as scripts read it.
static PROGRAM: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Makes messages begin with `name:` instead of `prochandle:`; set once,
/// before anything is printed.
pub fn set_program(name: &'static str) {
    let _ = PROGRAM.set(name);
}

/// The name messages begin with.
pub fn program() -> &'static str {
    PROGRAM.get().copied().unwrap_or("prochandle")
}

/// Prints `prochandle: MESSAGE` on stderr (or the personality's name). A
/// stderr that cannot be written to is ignored: the message has nowhere
/// else to go.
pub fn error(message: impl fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{}: {message}", program());
}

/// `text` quoted as GNU tools quote names in messages: `‘text’` under a
/// UTF-8 locale, `'text'` otherwise (what scripts compare against).
pub fn quoted(text: &str) -> String {
    if utf8_locale() {
        format!("\u{2018}{text}\u{2019}")
    } else {
        format!("'{text}'")
    }
}

/// Whether messages are in a UTF-8 locale: the first of `LC_ALL`,
/// `LC_MESSAGES`, `LANG` that is set and not empty names one.
fn utf8_locale() -> bool {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .is_some_and(|value| {
            let value = value.to_ascii_lowercase();
            value.contains("utf-8") || value.contains("utf8")
        })
}

/// The C library's text for an OS error (`No such file or directory`),
/// without Rust's ` (os error 2)`.
pub fn os_message(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Prints one line on stdout; the one way the commands print.
///
/// A reader that went away ends the process as it ends C tools: `main`
/// restores `SIGPIPE` to its default, so the write that finds the pipe
/// closed kills the process quietly (the shell reports 141, as for
/// `seq 100000 | head -1`). Should `SIGPIPE` be blocked all the same, the
/// `EPIPE` is handled here the same way: exit at once, silently, with
/// 141. Any other write error (a full disk, `> /dev/full`) is said once
/// and ends the command with status 1, as coreutils' "write error".
pub fn line(text: impl fmt::Display) {
    if let Err(err) = writeln!(std::io::stdout().lock(), "{text}") {
        write_failed(&err);
    }
}

/// Ends the process after stdout failed: see [`line()`].
fn write_failed(err: &std::io::Error) -> ! {
    if err.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(BROKEN_PIPE_STATUS);
    }
    error(format!("write error: {err}"));
    std::process::exit(1);
}

/// What a shell shows for a command killed by `SIGPIPE` (128 + 13).
pub const BROKEN_PIPE_STATUS: i32 = 141;

/// One line naming the action, the target and the cause.
pub fn describe(subject: &impl fmt::Display, action: Action, err: &Error) -> String {
    let cause = match err.kind() {
        ErrorKind::NotFound => "no such process".to_owned(),
        ErrorKind::Done => "gone: the process has already exited".to_owned(),
        ErrorKind::PermissionDenied => match std::error::Error::source(err) {
            // The rule is the action's; from the library only the step
            // that was refused and the OS's word for it.
            Some(os) => denied(action, err.operation(), os),
            None => format!("permission denied ({}): {err}", action.permission_rule()),
        },
        ErrorKind::Unsupported => format!("not supported by this system: {err}"),
        ErrorKind::NoHandle => format!("no process handle (guarded-PID mode): {err}"),
        _ => err.to_string(),
    };
    format!("{action} {subject}: {cause}")
}

/// `permission denied (RULE): OPERATION: OS ERROR`, the cause of a
/// refused `action`.
pub fn denied(action: Action, operation: &str, os_error: impl fmt::Display) -> String {
    format!(
        "permission denied ({}): {operation}: {os_error}",
        action.permission_rule()
    )
}

/// How a process ended, taken apart into plain values. The one place that
/// reads an [`ExitStatus`]'s fields: text, JSON and exit codes are made
/// from this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Exited(i32),
    /// A signal ended it.
    Killed { signal: Signal, core_dumped: bool },
    /// It exited; its status is unknown, for this reason if one is given.
    Unknown(Option<&'static str>),
}

impl Exit {
    /// How the process behind `state` ended.
    pub fn of(state: &ProcessState) -> Exit {
        match state.status() {
            ExitStatus::Exited(code) => Exit::Exited(code),
            ExitStatus::Signaled {
                signal,
                core_dumped,
            } => Exit::Killed {
                signal,
                core_dumped,
            },
            ExitStatus::Unknown(reason) => Exit::Unknown(Some(reason.describe())),
            _ => Exit::Unknown(None),
        }
    }
}

/// `exited 3`, `killed by SIGTERM`, `status unknown: ...`.
pub fn status_text(state: &ProcessState) -> String {
    state.status().to_string()
}

/// The stable JSON form of an exit (documented in docs/cli.md).
pub fn exit_json(subject: &impl Subject, state: &ProcessState) -> Value {
    let (status, code, signal, core, reason) = match Exit::of(state) {
        Exit::Exited(code) => ("exited", Some(code), None, false, None),
        Exit::Killed {
            signal,
            core_dumped,
        } => ("killed", None, Some(signal), core_dumped, None),
        Exit::Unknown(reason) => ("unknown", None, None, false, reason),
    };
    json!({
        "target": subject.to_string(),
        "pid": subject.pid(),
        "status": status,
        "code": code,
        "signal": signal.map(Signal::as_raw),
        "signal_name": signal.and_then(|s| s.bare_name()).map(|bare| format!("SIG{bare}")),
        "core_dumped": core,
        "coredump": state.coredump().map(|d| coredump_json(&d)),
        "reason": reason,
        "text": status_text(state),
    })
}

/// The kernel's core dump record (Linux 6.16+), as JSON.
pub fn coredump_json(dump: &prochandle::Coredump) -> Value {
    json!({
        "dumped": dump.dumped,
        "skipped": dump.skipped,
        "owner": dump.owner.map(prochandle::CoredumpOwner::name),
    })
}

/// The JSON form of a target that was still running at the timeout.
pub fn running_json(subject: &impl Subject) -> Value {
    json!({
        "target": subject.to_string(),
        "pid": subject.pid(),
        "status": "running",
        "code": null,
        "signal": null,
        "signal_name": null,
        "core_dumped": false,
        "reason": null,
        "text": "still running",
    })
}

/// The JSON form of a target that could not be handled.
pub fn error_json(subject: &impl Subject, message: &str) -> Value {
    json!({
        "target": subject.to_string(),
        "pid": subject.pid(),
        "status": "error",
        "error": message,
    })
}

/// Prints one JSON object on its own line.
pub fn print_json(value: &Value) {
    line(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_come_from_the_kind() {
        let gone = describe(&"42", Action::Wait, &Error::done("waitid"));
        assert_eq!(gone, "wait 42: gone: the process has already exited");
        let refused = denied(
            Action::Kill,
            "kill",
            std::io::Error::from_raw_os_error(libc::EPERM),
        );
        assert!(refused.starts_with("permission denied (signalling needs"));
        assert!(refused.contains("CAP_KILL): kill: "), "{refused}");
        assert!(refused.ends_with("(os error 1)"), "{refused}");
    }

    #[test]
    #[cfg(unix)]
    fn a_signalled_exit_is_taken_apart() {
        let mut command = std::process::Command::new("sh");
        command.args(["-c", "kill -TERM $$"]);
        let state = prochandle::Process::spawn(&mut command)
            .and_then(|process| process.wait())
            .unwrap();
        assert_eq!(
            Exit::of(&state),
            Exit::Killed {
                signal: Signal::TERM,
                core_dumped: false
            }
        );
    }
}
