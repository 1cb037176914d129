//! One member of the job, from what Windows gives about it: its parent
//! and image name from a process snapshot (Toolhelp), its creation and
//! CPU times (`GetProcessTimes`) and its working set
//! (`GetProcessMemoryInfo`), through the handle that pins it. Windows has
//! no state, wait channel or system call to show: those fields are left
//! out, and a value that could not be read is absent (`?`, JSON `null`),
//! never 0.

use std::time::SystemTime;

use prochandle::windows::ProcessExt as _;
use prochandle::Process;

pub use super::tree::render;
use super::tree::{Basics, Described};
use crate::target::Target;

/// What the report says of one member: only what every platform says.
pub struct Member(Basics);

impl Described for Member {
    fn basics(&self) -> &Basics {
        &self.0
    }
}

/// Where a member waits, read before a freeze: Windows does not say, so
/// nothing.
pub struct Waiting;

pub fn waiting(_process: &Process) -> Waiting {
    Waiting
}

impl Member {
    /// Nothing read before the freeze to keep (see [`Waiting`]).
    pub fn waits_as(&mut self, _before: &[Waiting], _frozen: bool) {}
}

/// Read through the handle, which keeps the PID from naming another
/// process, so the snapshot's line for the PID is this process's.
pub fn member(process: &Process) -> Member {
    let pid = process.pid();
    let entry = prochandle::windows::processes()
        .ok()
        .and_then(|all| all.into_iter().find(|p| p.pid == pid));
    let command = process
        .command_line()
        .ok()
        .map(|line| line.to_string_lossy().into_owned());
    Member(Basics {
        pid,
        ppid: entry.as_ref().map(|e| e.parent_pid),
        identity: Target::of_process(process).to_string(),
        age: process
            .creation_time()
            .ok()
            .and_then(|created| SystemTime::now().duration_since(created).ok()),
        cpu: process.cpu_time().ok(),
        rss_kib: process.working_set().ok().map(|bytes| bytes / 1024),
        // The command line where Windows gives it, else the image name.
        command: command
            .or_else(|| entry.map(|e| e.exe.to_string_lossy().into_owned()))
            .unwrap_or_default(),
    })
}
