//! `kill --tree`: a target and every descendant, each pinned before it is
//! signalled.
//!
//! The first sweep pins the target and all its descendants before any of
//! them is signalled, so that none is reparented away (and lost) by a
//! parent dying first. Later sweeps look again under every process held,
//! for children started meanwhile, until a sweep finds none new. A process
//! is known by its identity (PID and pidfs inode, or PID and start time),
//! so a newcomer on a recycled PID counts as new.
//!
//! What this cannot catch: a process whose parent dies and is reaped
//! between two sweeps is reparented (to init or a subreaper) and is no
//! longer a descendant. Containing a tree for good takes a cgroup or a
//! subreaper.

use std::collections::HashSet;

use prochandle::linux::ProcessExt;
use prochandle::Process;

use super::sending::{report_failure, report_signalled, Send};
use crate::output::{self, Action};
use crate::target::Target;

/// At most this many sweeps: a tree that keeps forking faster than it is
/// signalled is said to be so rather than chased forever.
const MAX_SWEEPS: usize = 100;

/// Signals `root` and its descendants. Each signalled process goes to
/// `keep`; true if some could not be signalled (a descendant that exited
/// before its turn is not a failure).
pub fn signal_tree(
    send: &Send,
    root_target: Target,
    root: Process,
    keep: &mut dyn FnMut(Target, Process),
) -> bool {
    let mut seen = HashSet::new();
    seen.insert(key(&root));
    let mut pending = vec![(root_target, root)];
    // Pin the whole tree before the first signal.
    let first = new_descendants(&pending, &mut seen);
    pending.extend(first);
    let mut held: Vec<(Target, Process)> = Vec::new();
    let mut failed = false;
    let mut sweeps = 0;
    while !pending.is_empty() {
        for (target, process) in pending.drain(..) {
            let is_root = held.is_empty() && !failed && sweeps == 0;
            match process.signal(send.signal) {
                Ok(()) => {
                    report_signalled(send, &target, process.pid());
                    held.push((target, process));
                }
                Err(err) if err.is_done() && !is_root => {}
                Err(err) => {
                    failed = true;
                    report_failure(
                        send,
                        &target,
                        &output::describe(&target, Action::Kill, &err),
                    );
                }
            }
        }
        sweeps += 1;
        if sweeps == MAX_SWEEPS {
            failed = true;
            output::error("kill --tree: still finding new descendants after 100 sweeps; stopped");
            break;
        }
        pending = new_descendants(&held, &mut seen);
    }
    for (target, process) in held {
        keep(target, process);
    }
    failed
}

/// The descendants of the `held` processes not seen before, pinned.
fn new_descendants(
    held: &[(Target, Process)],
    seen: &mut HashSet<String>,
) -> Vec<(Target, Process)> {
    let mut found = Vec::new();
    for (_, process) in held {
        for child in process.descendants().unwrap_or_default() {
            if seen.insert(key(&child)) {
                found.push((Target::of_process(&child), child));
            }
        }
    }
    found
}

/// What tells two processes apart across PID reuse.
fn key(process: &Process) -> String {
    match process.identity() {
        Ok(id) => id.to_string(),
        Err(_) => process.pid().to_string(),
    }
}
