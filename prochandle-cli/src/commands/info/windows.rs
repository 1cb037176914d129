//! Windows: what Windows tells through the process handle: the image
//! path, the command line (where the system gives it), the creator's PID,
//! the session, the creation time and whether it has exited.

use std::time::{SystemTime, UNIX_EPOCH};

use prochandle::windows::ProcessExt;
use prochandle::{ErrorKind, Process};
use serde_json::{json, Value};

use super::row;
use crate::output::{self, Action};
use crate::target::Target;

pub struct Described {
    pid: u32,
    ppid: Option<u32>,
    session: Option<u32>,
    exe: Option<String>,
    command_line: Option<String>,
    started: Option<SystemTime>,
    /// `None` while it runs; the exit code once it has exited.
    exit_code: Option<String>,
}

pub fn describe(target: &Target) -> Result<Described, String> {
    let process: Process = target.open(Action::Info)?;
    // Access denied on the image path means the rest is closed too (a
    // protected process): say so once rather than print dashes.
    let exe = match process.image_path() {
        Ok(path) => Some(path.display().to_string()),
        Err(err) if err.kind() == ErrorKind::PermissionDenied => {
            return Err(output::describe(target, Action::Info, &err))
        }
        Err(_) => None,
    };
    let exit_code = match process.try_wait() {
        Ok(Some(state)) => Some(output::status_text(&state)),
        _ => None,
    };
    Ok(Described {
        pid: process.pid(),
        ppid: process.parent_pid().ok(),
        session: process.session_id().ok(),
        exe,
        command_line: process
            .command_line()
            .ok()
            .map(|line| line.to_string_lossy().into_owned()),
        started: process.creation_time().ok(),
        exit_code,
    })
}

impl Described {
    fn start_unix(&self) -> Option<f64> {
        self.started
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs_f64())
    }

    fn state(&self) -> String {
        super::state_text(self.exit_code.as_deref())
    }

    pub fn to_json(&self, target: &Target) -> Value {
        json!({
            "target": target.to_string(),
            "pid": self.pid,
            "ppid": self.ppid,
            "session": self.session,
            "command_line": self.command_line,
            "exe": self.exe,
            "start_unix_s": self.start_unix(),
            "state": self.state(),
            "handle_mode": "process handle",
        })
    }

    pub fn print(&self, target: &Target) {
        let none = || "-".to_owned();
        let show = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_else(none);
        row("target", target);
        row("pid", self.pid);
        // Windows does not re-parent: the creator may be gone.
        row("ppid", show(self.ppid) + " (creator; may have exited)");
        row("session", show(self.session));
        row("cmdline", self.command_line.clone().unwrap_or_else(none));
        row("exe", self.exe.clone().unwrap_or_else(none));
        let started = self
            .start_unix()
            .map(|s| format!("unix time {}", s as u64))
            .unwrap_or_else(none);
        row("started", started);
        row("state", self.state());
        row("handle", "process handle");
    }
}
