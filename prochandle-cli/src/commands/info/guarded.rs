//! macOS and FreeBSD: a process is a guarded PID here, and the library
//! reads nothing more about it than whether it still runs; `info` says
//! that much, and how the process is held.

use prochandle::Process;
use serde_json::{json, Value};

use super::row;
use crate::output::{self, Action};
use crate::target::Target;

pub struct Described {
    pid: u32,
    /// `None` while it runs; how it ended, where that can be known.
    ended: Option<String>,
}

pub fn describe(target: &Target) -> Result<Described, String> {
    let process: Process = target.open(Action::Info)?;
    let ended = match process.try_wait() {
        Ok(Some(state)) => Some(output::status_text(&state)),
        Ok(None) => None,
        Err(err) => return Err(output::describe(target, Action::Info, &err)),
    };
    Ok(Described {
        pid: process.pid(),
        ended,
    })
}

impl Described {
    fn state(&self) -> String {
        super::state_text(self.ended.as_deref())
    }

    pub fn to_json(&self, target: &Target) -> Value {
        json!({
            "target": target.to_string(),
            "pid": self.pid,
            "state": self.state(),
            "handle_mode": "guarded PID",
        })
    }

    pub fn print(&self, target: &Target) {
        row("target", target);
        row("pid", self.pid);
        row("state", self.state());
        row("handle", "guarded PID");
    }
}
