//! `kill --tree --timeout DUR` (without `--then`): the library's graceful
//! stop, where a cgroup scope can take the tree in.
//!
//! Each target is adopted into a new cgroup (the PID written, then
//! confirmed through the handle), then its children, sweep after sweep,
//! until a sweep finds none outside: from then on nothing the tree forks
//! is outside. `Scope::stop` then sends the signal while the cgroup is
//! frozen (no member forks past it), waits up to DUR for the tree to
//! end, and kills the rest. With `--report`, one line per member says how
//! it ended (`--json`: one object each).
//!
//! Where no cgroup scope can be made (an unprivileged user), `kill` goes
//! its old way (`tree_sweep.rs`): signal, wait, 124 if some still run.

use std::collections::HashSet;

use prochandle::linux::ProcessExt;
use prochandle::{Ending, MechanismKind, Process, Scope, StopReport};
use serde_json::json;

use super::sending::{report_failure, Send};
use crate::exit_codes;
use crate::output::{self, Action};

/// At most this many sweeps for children outside the scope.
const MAX_SWEEPS: usize = 100;

/// Stops the targets' trees gracefully; `None` when this is not a
/// graceful stop or no cgroup scope can be made here.
pub fn run(send: &Send) -> Option<u8> {
    let timeout = send.timeout.filter(|_| send.tree && send.then.is_none())?;
    let scope = Scope::new().ok()?;
    let cgroup = matches!(
        scope.mechanism().kind(),
        MechanismKind::Cgroup | MechanismKind::CgroupFreeze
    );
    if !cgroup {
        return None;
    }
    let mut failed = false;
    let mut adopted = 0;
    for (target, result) in send.selection.open(Action::Kill) {
        let adopting = result.map_err(|f| f.message).and_then(|p| {
            adopt_tree(&scope, &p).map_err(|e| output::describe(&target, Action::Kill, &e))
        });
        match adopting {
            Ok(()) => adopted += 1,
            Err(message) => {
                failed = true;
                report_failure(send, &target, &message);
            }
        }
    }
    if send.selection.is_match() && adopted == 0 && !failed {
        return Some(exit_codes::FAILURE);
    }
    match scope.stop(send.signal, timeout) {
        Ok(report) => print(send, &report),
        Err(err) => {
            output::error(format!("kill: stopping the tree failed: {err}"));
            failed = true;
        }
    }
    Some(if failed {
        exit_codes::FAILURE
    } else {
        exit_codes::SUCCESS
    })
}

/// Moves `root` into `scope`, then every child of a member that is still
/// outside, until a sweep finds none.
fn adopt_tree(scope: &Scope, root: &Process) -> prochandle::Result<()> {
    scope.adopt(root)?;
    for _ in 0..MAX_SWEEPS {
        let members = scope.members()?;
        let inside: HashSet<u32> = members.iter().map(Process::pid).collect();
        let mut outside = 0;
        for member in &members {
            for child in member.children().unwrap_or_default() {
                if inside.contains(&child.pid()) {
                    continue;
                }
                outside += 1;
                match scope.adopt(&child) {
                    Err(e) if !e.is_done() => return Err(e),
                    _ => {}
                }
            }
        }
        if outside == 0 {
            return Ok(());
        }
    }
    output::error("kill --tree: still finding new children after 100 sweeps; stopping those found");
    Ok(())
}

/// With `--report`: how each member ended.
fn print(send: &Send, report: &StopReport) {
    if !send.report {
        return;
    }
    for member in &report.members {
        let status = match member.ending {
            Ending::Signal => "exited",
            Ending::Killed => "killed",
            _ => "gone",
        };
        let name = member.name.as_deref().unwrap_or("?");
        if send.json {
            output::print_json(&json!({
                "pid": member.pid,
                "name": member.name,
                "status": status,
                "signal_name": send.signal.to_string(),
                "reached": member.reached,
            }));
        } else {
            output::line(format!(
                "{} {name}: {}",
                member.pid,
                describe(member.ending, send)
            ));
        }
    }
}

fn describe(ending: Ending, send: &Send) -> String {
    match ending {
        Ending::Signal => format!("ended after {}", send.signal),
        Ending::Killed => "killed (SIGKILL) after the timeout".to_owned(),
        _ => "already gone".to_owned(),
    }
}
