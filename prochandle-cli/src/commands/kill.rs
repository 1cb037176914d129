//! `prochandle kill`: kill(1) and pkill through handles. Signals each
//! target (or each match, pinned before it was matched again), optionally
//! its whole tree or one thread; with `--timeout`, waits for the targets to
//! exit and escalates with `--then`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use prochandle::{Process, Signal};

use super::choose;
use super::progress::Progress;
use super::sending::{report_failure, report_signalled, Send};
use super::signal_list;
use super::wait::{wait_error, Reporter};
use super::waiting::{out_of_descriptors, DescriptorReserve, Next, Waiter};
#[cfg(target_os = "linux")]
use super::{threads, tree_stop, tree_sweep};
use crate::cli::{check_signal_here, KillArgs};
use crate::duration;
use crate::exit_codes;
use crate::output::{self, Action};
use crate::target::Target;

/// `kill` checked and ready to run: nothing opened or sent yet.
#[derive(Debug)]
pub enum Plan {
    /// `-l [N]`.
    List(Option<String>),
    /// `-L`.
    Table,
    /// Send a signal.
    Send(Send),
}

/// Checks the command line without touching any process.
pub fn plan(args: KillArgs) -> Result<Plan, String> {
    if let Some(which) = args.list {
        return Ok(Plan::List(which.or(args.targets.first().cloned())));
    }
    if args.table {
        return Ok(Plan::Table);
    }
    if args.thread && (args.timeout.is_some() || args.matching) {
        return Err("--thread signals threads once: no --timeout or --match with it".to_owned());
    }
    let selection = choose::plan(args.matching, &args.select, &args.targets)?;
    let signal = match args.signal.or(args.number) {
        Some(signal) => signal,
        None => crate::cli::DEFAULT_SIGNAL
            .parse()
            .map_err(|e| format!("{e}"))?,
    };
    check_signal_here(signal)?;
    if let Some(then) = args.then {
        check_signal_here(then)?;
    }
    Ok(Plan::Send(Send {
        signal,
        selection,
        timeout: args.timeout,
        then: args.then,
        json: args.json,
        tree: args.tree,
        thread: args.thread,
        quiet: args.quiet,
        report: args.report,
    }))
}

pub fn run(plan: Plan) -> u8 {
    match plan {
        Plan::List(which) => signal_list::list(which.as_deref()),
        Plan::Table => signal_list::table(),
        #[cfg(target_os = "linux")]
        Plan::Send(send) if send.thread => threads::run(&send),
        Plan::Send(send) => run_send(&send),
    }
}

/// The processes signalled so far, named, and the outcome.
struct Sent {
    targets: Vec<Target>,
    /// With `--timeout`: those still being waited for, by index.
    running: BTreeSet<usize>,
    waiter: Option<Waiter>,
    failed: bool,
}

impl Sent {
    /// Keeps a signalled process: waited for with `--timeout`, else let go.
    fn keep(&mut self, target: Target, process: Process) {
        let index = self.targets.len();
        self.targets.push(target);
        if let Some(waiter) = self.waiter.as_mut() {
            self.running.insert(index);
            waiter.add(index, process);
        }
    }
}

fn run_send(send: &Send) -> u8 {
    #[cfg(target_os = "linux")]
    if let Some(code) = tree_stop::run(send) {
        return code;
    }
    let mut sent = Sent {
        targets: Vec::new(),
        running: BTreeSet::new(),
        waiter: None,
        failed: false,
    };
    if send.timeout.is_some() {
        // Every signalled target is held (one descriptor each) until it
        // exits: lift the soft descriptor limit so that thousands fit.
        #[cfg(unix)]
        let _ = prochandle::raise_fd_limit();
        match Waiter::new() {
            Ok(waiter) => sent.waiter = Some(waiter),
            Err(err) => {
                output::error(format!("kill: cannot start watching: {err}"));
                return exit_codes::FAILURE;
            }
        }
    }
    signal_all(send, &mut sent);
    if send.selection.is_match() && sent.targets.is_empty() && !sent.failed {
        // pkill: nothing matched (or all were gone before the signal).
        return exit_codes::FAILURE;
    }
    match (send.timeout, sent.waiter.take()) {
        (Some(timeout), Some(waiter)) => wait_and_escalate(send, timeout, waiter, sent),
        _ => outcome(sent.failed),
    }
}

/// Opens and signals every target, keeping each signalled process.
fn signal_all(send: &Send, sent: &mut Sent) {
    let mut opened = 0;
    let reserve = DescriptorReserve::hold();
    for (index, (target, result)) in send.selection.open(Action::Kill).enumerate() {
        // The process is opened (pinned by its pidfd, or its identity
        // checked) before anything is sent: a recycled PID is never hit.
        let process = match result {
            Ok(process) => {
                opened += 1;
                process
            }
            Err(failure) => {
                sent.failed = true;
                if let Some(errno) = failure.out_of_descriptors {
                    // The rest would fail the same way: say it once, signal
                    // no more, and wait for those already signalled.
                    let total = send.selection.given().max(index + 1);
                    output::error(format!(
                        "{}; the last {} were not signalled",
                        out_of_descriptors("kill", opened, total, errno),
                        total - index
                    ));
                    break;
                }
                report_failure(send, &target, &failure.message);
                continue;
            }
        };
        #[cfg(target_os = "linux")]
        if send.tree {
            let mut kept = Vec::new();
            sent.failed |= tree_sweep::signal_tree(send, target, process, &mut |t, p| {
                kept.push((t, p));
            });
            for (t, p) in kept {
                sent.keep(t, p);
            }
            continue;
        }
        if let Some(process) = signal_one(send, &target, process) {
            sent.keep(target, process);
        } else {
            sent.failed = true;
        }
    }
    reserve.release();
}

/// Sends the signal to one pinned process and reports it; the process
/// back if it was sent. A process gone since the match is reported as
/// gone, and nothing else is reached: the handle names it alone.
pub fn signal_one(send: &Send, target: &Target, process: Process) -> Option<Process> {
    match process.signal(send.signal) {
        Ok(()) => {
            report_signalled(send, target, process.pid());
            Some(process)
        }
        Err(err) => {
            report_failure(send, target, &output::describe(target, Action::Kill, &err));
            None
        }
    }
}

/// Waits up to `timeout` for the running targets, then signals the
/// survivors with `--then` and waits again; 124 if some still run.
fn wait_and_escalate(send: &Send, timeout: Duration, mut waiter: Waiter, mut sent: Sent) -> u8 {
    let report = Reporter { json: send.json };
    let mut progress = Progress::new(!send.json && !send.quiet);
    let started = Instant::now();
    let mut collect = |waiter: &mut Waiter, sent: &mut Sent| {
        let deadline = duration::deadline(Instant::now(), timeout);
        sent.failed |= collect_exits(waiter, sent, &report, &mut progress, deadline, started);
    };
    collect(&mut waiter, &mut sent);
    if let Some(then) = send.then.filter(|_| !sent.running.is_empty()) {
        for &index in &sent.running {
            escalate(&sent.targets[index], &waiter, index, then);
        }
        collect(&mut waiter, &mut sent);
    }
    if sent.running.is_empty() {
        return outcome(sent.failed);
    }
    let names: Vec<String> = sent
        .running
        .iter()
        .map(|&i| sent.targets[i].to_string())
        .collect();
    let waited = match send.then {
        Some(then) => format!(
            "{} after {} and {} after {then}",
            duration::format(timeout),
            send.signal,
            duration::format(timeout)
        ),
        None => format!("{} after {}", duration::format(timeout), send.signal),
    };
    output::error(format!(
        "kill: timed out: still running {waited}: {}",
        names.join(", ")
    ));
    if send.json {
        for &index in &sent.running {
            output::print_json(&output::running_json(&sent.targets[index]));
        }
    }
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

/// Reports exits until all are in or `deadline` passes (`None`: a
/// deadline too far to represent, so none); true if waiting for one of
/// them failed.
fn collect_exits(
    waiter: &mut Waiter,
    sent: &mut Sent,
    report: &Reporter,
    progress: &mut Progress,
    deadline: Option<Instant>,
    started: Instant,
) -> bool {
    let mut failed = false;
    loop {
        match waiter.next(progress.wake(deadline)) {
            Next::Exit(index, result) => {
                progress.clear();
                sent.running.remove(&index);
                let target = &sent.targets[index];
                match result {
                    Ok(state) => report.exit(target, &state),
                    Err(err) => {
                        failed = true;
                        output::error(wait_error(target, &err));
                    }
                }
            }
            Next::Failed(err) => {
                progress.clear();
                failed = true;
                output::error(format!("kill: {err}"));
            }
            Next::TimedOut if deadline.is_none_or(|d| Instant::now() < d) => {
                progress.draw(&sent.targets, &sent.running, started.elapsed());
            }
            Next::TimedOut | Next::AllDone => {
                progress.clear();
                return failed;
            }
        }
    }
}
