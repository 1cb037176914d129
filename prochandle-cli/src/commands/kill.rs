//! `prochandle kill`: signals through the handle; with `--timeout`, waits
//! for the targets to exit and escalates with `--then`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use prochandle::{Process, Signal};

use super::wait::{wait_error, Reporter};
use super::waiting::{out_of_descriptors, DescriptorReserve, Next, Waiter};
use crate::cli::KillArgs;
use crate::duration;
use crate::exit_codes;
use crate::output::{self, Action};
use crate::target::Target;

pub fn run(args: KillArgs) -> u8 {
    let Some(timeout) = args.timeout else {
        // Nothing to wait for: each process is let go once signalled.
        return outcome(signal_all(&args, |_, _| {}));
    };
    // Every signalled target is held (one descriptor each) until it exits:
    // lift the soft descriptor limit so that thousands fit.
    let _ = prochandle::raise_fd_limit();
    let mut waiter = match Waiter::new() {
        Ok(waiter) => waiter,
        Err(err) => {
            output::error(format!("kill: cannot start watching: {err}"));
            return exit_codes::FAILURE;
        }
    };
    let mut running = BTreeSet::new();
    let failed = signal_all(&args, |index, process| {
        running.insert(index);
        waiter.add(index, process);
    });
    wait_and_escalate(&args, timeout, waiter, running, failed)
}

/// Opens and signals every target, handing each signalled process to
/// `keep`; true if some target failed.
fn signal_all(args: &KillArgs, mut keep: impl FnMut(usize, Process)) -> bool {
    let mut failed = false;
    let mut opened = 0;
    let reserve = DescriptorReserve::hold();
    for (index, target) in args.targets.iter().enumerate() {
        // The process is opened (pinned by its pidfd, or its identity
        // checked) before anything is sent: a recycled PID is never hit.
        let process = match target.open_counted(Action::Kill) {
            Ok(process) => {
                opened += 1;
                process
            }
            Err(failure) => {
                failed = true;
                if let Some(errno) = failure.out_of_descriptors {
                    // The rest would fail the same way: say it once, signal
                    // no more, and wait for those already signalled.
                    let total = args.targets.len();
                    output::error(format!(
                        "{}; the last {} were not signalled",
                        out_of_descriptors("kill", opened, total, errno),
                        total - index
                    ));
                    break;
                }
                output::error(failure.message);
                continue;
            }
        };
        match process.signal(args.signal) {
            Ok(()) => keep(index, process),
            Err(err) => {
                failed = true;
                output::error(output::describe(target, Action::Kill, &err));
            }
        }
    }
    reserve.release();
    failed
}

/// Waits up to `timeout` for the `running` targets, then signals the
/// survivors with `--then` and waits again; 124 if some still run.
fn wait_and_escalate(
    args: &KillArgs,
    timeout: Duration,
    mut waiter: Waiter,
    mut running: BTreeSet<usize>,
    mut failed: bool,
) -> u8 {
    failed |= collect_exits(&mut waiter, &mut running, &args.targets, timeout);
    if let Some(then) = args.then.filter(|_| !running.is_empty()) {
        for &index in &running {
            escalate(&args.targets[index], &waiter, index, then);
        }
        failed |= collect_exits(&mut waiter, &mut running, &args.targets, timeout);
    }
    if running.is_empty() {
        return outcome(failed);
    }
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
    exit_codes::TIMEOUT
}

/// 1 if some target failed, else 0.
fn outcome(failed: bool) -> u8 {
    if failed {
        exit_codes::FAILURE
    } else {
        exit_codes::SUCCESS
    }
}

/// Sends the escalation signal; a process that exited meanwhile is fine
/// (its exit is about to be reported), anything else is said.
fn escalate(target: &Target, waiter: &Waiter, index: usize, signal: Signal) {
    match waiter.with_process(index, |process| process.signal(signal)) {
        None | Some(Ok(())) => {}
        Some(Err(err)) if err.is_done() => {}
        Some(Err(err)) => output::error(output::describe(target, Action::Kill, &err)),
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
            Next::Failed(err) => {
                failed = true;
                output::error(format!("kill: {err}"));
            }
            Next::TimedOut | Next::AllDone => return failed,
        }
    }
}
