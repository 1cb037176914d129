//! `prochandle init`: PID 1 for containers, the job of tini, dumb-init
//! and catatonit, done with handles.
//!
//! As PID 1 of a PID namespace it reaps every orphan the kernel
//! re-parents to it, whoever started it; anywhere else it makes itself the
//! child subreaper first, so the orphans of CMD's tree come to it instead.
//! Signals are received through the library's [`Relay`] (blocked, read
//! from a signalfd): the kernel drops a signal sent to a namespace's init
//! only when it has the default action and is not blocked, so TERM and INT
//! reach `init` as they reach any process, and are passed on to CMD (or
//! with `--group`, CMD's whole process group). `SIGCHLD` is in the relay's
//! set too: each one reaps every exited child but CMD, whose status is
//! collected through its handle. When CMD ends, what is left of the tree
//! is sent TERM, given `--grace`, then KILL, and reaped; then `init` exits
//! with CMD's status (128+N for signal N, as tini).

mod leftovers;

use std::time::Instant;

use prochandle::linux::ProcessExt as _;
use prochandle::relay::{Event, Relay};
use prochandle::{Process, Signal};

use super::spawn;
use crate::cli::InitArgs;
use crate::exit_codes;
use crate::output;

/// What is passed on to CMD: the signals a container runtime or a user
/// sends (tini passes on all but the synchronous ones and TTIN/TTOU).
const FORWARDED: [Signal; 8] = [
    Signal::TERM,
    Signal::INT,
    Signal::HUP,
    Signal::QUIT,
    Signal::USR1,
    Signal::USR2,
    Signal::ALRM,
    Signal::WINCH,
];

pub fn run(args: InitArgs) -> u8 {
    if let Err(message) = prepare() {
        output::error(format!("init: {message}"));
        return exit_codes::CANNOT_PREPARE;
    }
    let mut wanted = FORWARDED.to_vec();
    wanted.push(Signal::CHLD);
    let relay = match Relay::open(&wanted) {
        Ok(relay) => relay,
        Err(err) => {
            output::error(format!("init: cannot receive signals: {err}"));
            return exit_codes::CANNOT_PREPARE;
        }
    };
    let mut command = spawn::command(&args.command);
    relay.restore_in_child(&mut command);
    if args.group {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
    }
    let process = match spawn::spawn(&mut command, "init", |_| None) {
        Ok(process) => process,
        Err(code) => return code,
    };
    let watched = supervise(&args, &relay, &process);
    let state = process.wait();
    leftovers::end(args.grace, args.verbose);
    if let Err(err) = watched {
        output::error(format!("init: watching the command failed: {err}"));
        return exit_codes::CANNOT_PREPARE;
    }
    match state {
        Ok(state) => {
            let code = spawn::pass_through(&state);
            if args.remap_exit.contains(&code) {
                exit_codes::SUCCESS
            } else {
                code
            }
        }
        Err(err) => {
            output::error(format!("init: waiting for the command failed: {err}"));
            exit_codes::CANNOT_PREPARE
        }
    }
}

/// A restored `SIGCHLD` (so exited children wait to be reaped), and
/// outside PID 1, the subreaper flag.
fn prepare() -> Result<(), String> {
    prochandle::linux::reset_ignored_sigchld()
        .map_err(|err| format!("cannot restore SIGCHLD: {err}"))?;
    if std::process::id() != 1 {
        prochandle::linux::become_subreaper()
            .map_err(|err| format!("cannot become the subreaper: {err}"))?;
    }
    Ok(())
}

/// Passes signals on and reaps orphans until CMD exits; does not reap CMD.
fn supervise(args: &InitArgs, relay: &Relay, process: &Process) -> prochandle::Result<()> {
    let mut kill_after = args.kill_after.filter(|d| !d.is_zero());
    let mut kill_at: Option<Instant> = None;
    loop {
        match relay.wait(process, kill_at)? {
            Event::Exited => return Ok(()),
            Event::Signal(Signal::CHLD) => reap_orphans(process, args.verbose),
            Event::Signal(signal) => {
                forward(process, signal, args)?;
                if let Some(delay) = kill_after.take() {
                    kill_at = Instant::now().checked_add(delay);
                }
            }
            Event::TimedOut => {
                kill_at = None;
                forward(process, Signal::KILL, args)?;
            }
        }
    }
}

fn reap_orphans(process: &Process, verbose: bool) {
    match prochandle::linux::reap_exited_children(Some(process)) {
        Ok(0) => {}
        Ok(count) if verbose => output::error(format!("init: reaped {count} orphan(s)")),
        Ok(_) => {}
        Err(err) => output::error(format!("init: reaping orphans failed: {err}")),
    }
}

/// Sends `signal` to CMD, or to its process group with `--group`. A CMD
/// that exited meanwhile is no error.
fn forward(process: &Process, signal: Signal, args: &InitArgs) -> prochandle::Result<()> {
    if args.verbose {
        let whom = if args.group { "group" } else { "command" };
        output::error(format!("init: passing signal {signal} to the {whom}"));
    }
    let sent = if args.group {
        process.signal_process_group(signal)
    } else {
        process.signal(signal)
    };
    match sent {
        Err(err) if !err.is_done() => Err(err),
        _ => Ok(()),
    }
}
