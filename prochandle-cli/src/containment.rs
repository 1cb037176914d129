//! How `run` holds CMD's process tree: what it reaches when it signals,
//! and what it cleans up when CMD ends.
//!
//! The seam for whole-tree containment: a library type that holds every
//! descendant (a cgroup, a subreaper, a job object) becomes one more
//! variant here, `Scope`, that spawns CMD into the scope in `prepare`
//! (or replaces the spawn), signals every member in `signal`, and kills
//! the scope in `finish`. `run` itself only calls these three, so the
//! variant is the whole change, plus the flag that picks it.

use std::os::unix::process::CommandExt as _;
use std::process::Command;

use prochandle::linux::ProcessExt;
use prochandle::{Process, Signal};

/// What `run` holds besides CMD itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Containment {
    /// CMD leads a new process group, which everything it starts joins
    /// unless it moves out (`setsid`, `setpgid`): signals go to the group,
    /// and whatever is left of it is killed when CMD ends.
    ProcessGroup,
    /// CMD alone: `--child-only` (in a group of its own, so that a
    /// terminal's signals reach it only through `run`) or `--foreground`
    /// (in prochandle's group, as `timeout --foreground` leaves it).
    ChildOnly { own_group: bool },
}

impl Containment {
    /// Sets up `command` before it is spawned.
    pub fn prepare(self, command: &mut Command) {
        match self {
            Containment::ProcessGroup | Containment::ChildOnly { own_group: true } => {
                command.process_group(0);
            }
            Containment::ChildOnly { own_group: false } => {}
        }
    }

    /// Sends `signal` to CMD, then (with a group) to its group, each
    /// through CMD's handle, and like timeout(1) follows any signal but
    /// `KILL` and `CONT` with `CONT`, so that a stopped process sees it.
    /// A CMD that is already gone is not an error.
    ///
    /// Called only before CMD is reaped: a zombie leader keeps its group
    /// ID, so the group reached is CMD's own.
    pub fn signal(self, process: &Process, signal: Signal) -> prochandle::Result<()> {
        match process.signal(signal) {
            Ok(()) => {}
            Err(err) if err.is_done() => {}
            Err(err) => return Err(err),
        }
        let group = self == Containment::ProcessGroup;
        // The group may be empty but for a zombie leader: nothing to do.
        if group {
            let _ = process.signal_process_group(signal);
        }
        if signal != Signal::KILL && signal != Signal::CONT {
            let _ = process.signal(Signal::CONT);
            if group {
                let _ = process.signal_process_group(Signal::CONT);
            }
        }
        Ok(())
    }

    /// After CMD exited, before it is reaped: kills whatever is left of
    /// its group. Members that left the group (`setsid`) are out of reach
    /// of a process group; whole-tree containment is the `Scope` above.
    pub fn finish(self, process: &Process) {
        if self == Containment::ProcessGroup {
            // SIGKILL cannot be caught: once it is queued, no member runs
            // any more of its own code. Refused if the group is empty.
            let _ = process.signal_process_group(Signal::KILL);
        }
    }
}
