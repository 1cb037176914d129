//! What is left when CMD has ended: its descendants and the orphans
//! re-parented to `init`. Each is pinned (a handle) before it is
//! signalled; they get TERM (and CONT, so a stopped one sees it), the
//! grace period, then KILL, and are reaped. Descendants of ours are found
//! through `/proc`, so a process that double-forked away from CMD is
//! still ours: as PID 1 or the subreaper, its orphans come to us.

use std::time::{Duration, Instant};

use prochandle::linux::ProcessExt as _;
use prochandle::{Process, Signal};

use crate::output;

/// How long the last sweep waits for KILL to be reaped before giving up.
const KILL_PATIENCE: Duration = Duration::from_secs(5);

/// Ends and reaps everything below this process.
pub fn end(grace: Duration, verbose: bool) {
    let left = signal_all(&[Signal::TERM, Signal::CONT]);
    if left == 0 {
        reap_all();
        return;
    }
    if verbose {
        output::error(format!("init: {left} process(es) left; sending TERM"));
    }
    if !reaped_within(grace) {
        let killed = signal_all(&[Signal::KILL]);
        if verbose {
            output::error(format!("init: {killed} process(es) left; sending KILL"));
        }
        if !reaped_within(KILL_PATIENCE) {
            output::error("init: some processes outlived KILL (uninterruptible sleep?)");
        }
    }
}

/// Sends each signal to every descendant; returns how many there were.
fn signal_all(signals: &[Signal]) -> usize {
    let Ok(members) = Process::current().and_then(|me| me.descendants()) else {
        return 0;
    };
    for member in &members {
        for &signal in signals {
            let _ = member.signal(signal);
        }
    }
    members.len()
}

/// Reaps until no child is left or `limit` passes; whether none is left.
fn reaped_within(limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        reap_all();
        if !has_children() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn reap_all() {
    let _ = prochandle::linux::reap_exited_children(None);
}

fn has_children() -> bool {
    Process::current()
        .and_then(|me| me.children())
        .is_ok_and(|children| !children.is_empty())
}
