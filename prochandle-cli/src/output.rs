//! What the user sees: one-line errors, exit-state text, and JSON.

use std::fmt;

use prochandle::{Error, ErrorKind, ExitStatus, ProcessState};
use serde_json::{json, Value};

use crate::target::Target;

/// What was being done to a target, for error messages and permission
/// rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Wait,
    Kill,
    Info,
    Getfd,
    Nsenter,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Wait => "wait",
            Action::Kill => "kill",
            Action::Info => "info",
            Action::Getfd => "getfd",
            Action::Nsenter => "nsenter",
        })
    }
}

/// Prints `prochandle: MESSAGE` on stderr.
pub fn error(message: impl fmt::Display) {
    eprintln!("prochandle: {message}");
}

/// One line naming the action, the target and the cause.
pub fn describe(target: &Target, action: Action, err: &Error) -> String {
    let cause = match err.kind() {
        ErrorKind::NotFound => "no such process".to_owned(),
        ErrorKind::Done => "gone: the process has already exited".to_owned(),
        ErrorKind::PermissionDenied => {
            let rule = match action {
                Action::Kill => {
                    "signalling needs the same real or effective user ID as the target, or CAP_KILL"
                }
                Action::Getfd => {
                    "taking a descriptor needs ptrace-attach rights: the same user and a dumpable \
                     target within Yama's ptrace_scope, or CAP_SYS_PTRACE"
                }
                Action::Nsenter => {
                    "joining namespaces needs CAP_SYS_ADMIN over the target's user namespace \
                     and ptrace-read rights over the target"
                }
                Action::Wait | Action::Info => {
                    "reading another user's process needs ptrace-read rights or CAP_SYS_PTRACE"
                }
            };
            // The library already states some rules; do not say them twice.
            let text = err.to_string();
            if text.contains("needs") {
                format!("permission denied: {text}")
            } else {
                format!("permission denied ({rule}): {text}")
            }
        }
        ErrorKind::Unsupported => format!("not supported by this system: {err}"),
        ErrorKind::NoHandle => format!("no process handle (guarded-PID mode): {err}"),
        _ => err.to_string(),
    };
    format!("{action} {target}: {cause}")
}

/// `exited 3`, `killed by SIGTERM`, `status unknown: ...`.
pub fn status_text(state: &ProcessState) -> String {
    state.status().to_string()
}

/// The stable JSON form of an exit (documented in docs/cli.md).
pub fn exit_json(target: &Target, state: &ProcessState) -> Value {
    let (status, code, signal, core, reason) = match state.status() {
        ExitStatus::Exited(code) => ("exited", Some(code), None, false, None),
        ExitStatus::Signaled {
            signal,
            core_dumped,
        } => ("killed", None, Some(signal.as_raw()), core_dumped, None),
        ExitStatus::Unknown(reason) => ("unknown", None, None, false, Some(reason.describe())),
        _ => ("unknown", None, None, false, None),
    };
    json!({
        "target": target.to_string(),
        "pid": target.pid(),
        "status": status,
        "code": code,
        "signal": signal,
        "signal_name": signal.and_then(|s| prochandle::Signal::from_raw(s).name()),
        "core_dumped": core,
        "reason": reason,
        "text": status_text(state),
    })
}

/// The JSON form of a target that was still running at the timeout.
pub fn running_json(target: &Target) -> Value {
    json!({
        "target": target.to_string(),
        "pid": target.pid(),
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
pub fn error_json(target: &Target, message: &str) -> Value {
    json!({
        "target": target.to_string(),
        "pid": target.pid(),
        "status": "error",
        "error": message,
    })
}

/// Prints one JSON object on its own line.
pub fn print_json(value: &Value) {
    println!("{value}");
}
