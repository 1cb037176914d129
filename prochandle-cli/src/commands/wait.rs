//! `prochandle wait`: waits for processes to exit, one line per exit.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use prochandle::ProcessState;

use super::choose::{self, Selection};
use super::progress::Progress;
use super::waiting::{out_of_descriptors, DescriptorReserve, Next, WaitError, Waiter};
use crate::cli::WaitArgs;
use crate::duration;
use crate::exit_codes;
use crate::output::{self, Action};
use crate::target::Target;

/// `wait` checked and ready to run: nothing opened yet.
#[derive(Debug)]
pub struct Plan {
    selection: Selection,
    timeout: Option<Duration>,
    any: bool,
    json: bool,
    exit_status: bool,
    quiet: bool,
}

/// Checks the command line without touching any process.
pub fn plan(args: WaitArgs) -> Result<Plan, String> {
    let selection = choose::plan(args.matching, &args.select.select(), &args.targets)?;
    if args.exit_status && (selection.is_match() || selection.given() != 1) {
        return Err("wait: --exit-status needs exactly one TARGET".to_owned());
    }
    Ok(Plan {
        selection,
        timeout: args.timeout,
        any: args.any,
        json: args.json,
        exit_status: args.exit_status,
        quiet: args.quiet,
    })
}

pub fn run(args: Plan) -> u8 {
    // Each target holds a descriptor while waited for: lift the soft limit
    // (often 1024) to the hard one so that thousands fit. Should this fail,
    // running out is still reported clearly below.
    #[cfg(unix)]
    let _ = prochandle::raise_fd_limit();
    let started = Instant::now();
    let report = Reporter { json: args.json };
    let mut waiter = match Waiter::new() {
        Ok(waiter) => waiter,
        Err(err) => {
            output::error(format!("wait: cannot start watching: {err}"));
            return exit_codes::FAILURE;
        }
    };
    let opened = match open_targets(&args, &report, &mut waiter) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    if opened.running.is_empty() {
        return exit_codes::FAILURE;
    }
    let outcome = await_exits(&args, &report, &mut waiter, opened, started);
    if outcome.timed_out {
        return exit_codes::TIMEOUT;
    }
    if outcome.failed {
        return exit_codes::FAILURE;
    }
    match (args.exit_status, outcome.last) {
        (true, Some(state)) => super::spawn::pass_through(&state),
        _ => exit_codes::SUCCESS,
    }
}

/// The targets being waited for, by index, and whether opening one failed.
struct Opened {
    targets: Vec<Target>,
    running: BTreeSet<usize>,
    failed: bool,
}

/// Opens every target and hands it to the waiter. Running out of
/// descriptors stops the command: `Err` with its exit code.
fn open_targets(args: &Plan, report: &Reporter, waiter: &mut Waiter) -> Result<Opened, u8> {
    let mut opened = Opened {
        targets: Vec::new(),
        running: BTreeSet::new(),
        failed: false,
    };
    let reserve = DescriptorReserve::hold();
    for (index, (target, result)) in args.selection.open(Action::Wait).enumerate() {
        opened.targets.push(target.clone());
        match result {
            Ok(process) => {
                opened.running.insert(index);
                waiter.add(index, process);
            }
            Err(failure) => match failure.out_of_descriptors {
                Some(errno) => {
                    let total = args.selection.given();
                    let message = out_of_descriptors("wait", opened.running.len(), total, errno);
                    // Off Linux there is no other selection than TARGETs.
                    #[cfg_attr(not(target_os = "linux"), allow(irrefutable_let_patterns))]
                    if let Selection::Targets(all) = &args.selection {
                        report.not_opened(&all[index..], &message);
                    } else {
                        report.not_opened(std::slice::from_ref(&target), &message);
                    }
                    return Err(exit_codes::FAILURE);
                }
                None => {
                    opened.failed = true;
                    report.failure(&target, &failure.message);
                }
            },
        }
    }
    reserve.release();
    Ok(opened)
}

/// How waiting ended.
struct Outcome {
    failed: bool,
    timed_out: bool,
    /// The last exit reported.
    last: Option<ProcessState>,
}

/// Reports exits as they come, until all are in, `--any` is satisfied or
/// the deadline passes.
fn await_exits(
    args: &Plan,
    report: &Reporter,
    waiter: &mut Waiter,
    Opened {
        targets,
        mut running,
        failed,
    }: Opened,
    started: Instant,
) -> Outcome {
    // A deadline too far to represent is no deadline.
    let deadline = args
        .timeout
        .and_then(|timeout| duration::deadline(started, timeout));
    let mut progress = Progress::new(!args.json && !args.quiet);
    let mut outcome = Outcome {
        failed,
        timed_out: false,
        last: None,
    };
    loop {
        // On a terminal, wake every tick to redraw the live line;
        // otherwise sleep until an exit or the deadline.
        match waiter.next(progress.wake(deadline)) {
            Next::Exit(index, result) => {
                progress.clear();
                running.remove(&index);
                if outcome.take(args, report, &targets[index], result) {
                    break;
                }
            }
            Next::Failed(err) => {
                progress.clear();
                outcome.failed = true;
                output::error(format!("wait: {err}"));
            }
            Next::TimedOut if deadline.is_some_and(|d| Instant::now() >= d) => {
                progress.clear();
                report.timed_out(&targets, &running, args.timeout.unwrap_or_default());
                outcome.timed_out = true;
                return outcome;
            }
            Next::TimedOut => progress.draw(&targets, &running, started.elapsed()),
            Next::AllDone => break,
        }
    }
    progress.clear();
    outcome
}

impl Outcome {
    /// Reports one exit (or failure to wait) of `target`; whether it ends
    /// the wait (`--any`).
    fn take(
        &mut self,
        args: &Plan,
        report: &Reporter,
        target: &Target,
        result: Result<ProcessState, WaitError>,
    ) -> bool {
        match result {
            Ok(state) => {
                report.exit(target, &state);
                self.last = Some(state);
                args.any
            }
            Err(err) => {
                self.failed = true;
                report.failure(target, &wait_error(target, &err));
                false
            }
        }
    }
}

pub fn wait_error(target: &Target, err: &WaitError) -> String {
    match err {
        WaitError::Wait(err) => output::describe(target, Action::Wait, err),
        WaitError::NotWatched(err) => format!("wait {target}: cannot watch it: {err}"),
    }
}

/// Prints exits, failures and timeouts as text or JSON lines.
pub struct Reporter {
    pub json: bool,
}

impl Reporter {
    pub fn exit(&self, target: &Target, state: &ProcessState) {
        if self.json {
            output::print_json(&output::exit_json(target, state));
        } else {
            output::line(format_args!("{target}: {}", output::status_text(state)));
            if let Some(dump) = state.coredump() {
                output::line(format_args!("{target}: core {dump}"));
            }
        }
    }

    pub fn failure(&self, target: &Target, message: &str) {
        output::error(message);
        if self.json {
            output::print_json(&output::error_json(target, message));
        }
    }

    /// Running out of descriptors stops the command: `message` once, and
    /// in JSON an error object for each target not opened.
    pub fn not_opened(&self, targets: &[Target], message: &str) {
        output::error(message);
        if self.json {
            for target in targets {
                output::print_json(&output::error_json(target, message));
            }
        }
    }

    pub fn timed_out(&self, targets: &[Target], running: &BTreeSet<usize>, after: Duration) {
        let names: Vec<String> = running.iter().map(|&i| targets[i].to_string()).collect();
        output::error(format!(
            "wait: timed out after {}; still running: {}",
            duration::format(after),
            names.join(", ")
        ));
        if self.json {
            for &index in running {
                output::print_json(&output::running_json(&targets[index]));
            }
        }
    }
}
