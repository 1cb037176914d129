//! `prochandle kill`: signals through the handle; with `--timeout`, waits
//! for the targets to exit and escalates with `--then`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prochandle::{Process, Signal};

use super::wait::{wait_error, Reporter};
use super::waiting::{Next, Waiter};
use crate::cli::KillArgs;
use crate::duration;
use crate::exit_codes;
use crate::output::{self, Action};
use crate::target::Target;

pub fn run(args: KillArgs) -> u8 {
    let mut failed = false;
    let mut signalled = BTreeMap::new();
    for (index, target) in args.targets.iter().enumerate() {
        // The process is opened (pinned by its pidfd, or its identity
        // checked) before anything is sent: a recycled PID is never hit.
        let process = match target.open(Action::Kill) {
            Ok(process) => process,
            Err(message) => {
                failed = true;
                output::error(message);
                continue;
            }
        };
        match process.signal(args.signal) {
            Ok(()) => {
                signalled.insert(index, Arc::new(process));
            }
            Err(err) => {
                failed = true;
                output::error(output::describe(target, Action::Kill, &err));
            }
        }
    }
    let Some(timeout) = args.timeout else {
        return if failed {
            exit_codes::FAILURE
        } else {
            exit_codes::SUCCESS
        };
    };

    let mut running: BTreeSet<usize> = signalled.keys().copied().collect();
    let mut waiter = Waiter::start(signalled.iter().map(|(i, p)| (*i, Arc::clone(p))));
    failed |= collect_exits(&mut waiter, &mut running, &args.targets, timeout);
    if let Some(then) = args.then.filter(|_| !running.is_empty()) {
        for &index in &running {
            escalate(&args.targets[index], &signalled[&index], then);
        }
        failed |= collect_exits(&mut waiter, &mut running, &args.targets, timeout);
    }
    if !running.is_empty() {
        let names: Vec<String> = running
            .iter()
            .map(|&i| args.targets[i].to_string())
            .collect();
        let waited = match args.then {
            Some(then) => format!(
                "{} after {} and {} after {then}",
                duration::format(timeout),
                args.signal,
                duration::format(timeout)
            ),
            None => format!("{} after {}", duration::format(timeout), args.signal),
        };
        output::error(format!(
            "kill: timed out: still running {waited}: {}",
            names.join(", ")
        ));
        return exit_codes::TIMEOUT;
    }
    if failed {
        exit_codes::FAILURE
    } else {
        exit_codes::SUCCESS
    }
}

/// Sends the escalation signal; a process that exited meanwhile is fine
/// (its exit is about to be reported), anything else is said.
fn escalate(target: &Target, process: &Process, signal: Signal) {
    match process.signal(signal) {
        Ok(()) => {}
        Err(err) if err.is_done() => {}
        Err(err) => output::error(output::describe(target, Action::Kill, &err)),
    }
}

/// Reports exits until all are in or `timeout` passes; true if waiting for
/// one of them failed.
fn collect_exits(
    waiter: &mut Waiter,
    running: &mut BTreeSet<usize>,
    targets: &[Target],
    timeout: Duration,
) -> bool {
    let report = Reporter { json: false };
    let deadline = Instant::now() + timeout;
    let mut failed = false;
    loop {
        match waiter.next(Some(deadline)) {
            Next::Exit(index, result) => {
                running.remove(&index);
                match result {
                    Ok(state) => report.exit(&targets[index], &state),
                    Err(err) => {
                        failed = true;
                        output::error(wait_error(&targets[index], &err));
                    }
                }
            }
            Next::TimedOut | Next::AllDone => return failed,
        }
    }
}
