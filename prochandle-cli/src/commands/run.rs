//! `prochandle run`: runs CMD holding its handle; on timeout signals it
//! through that handle, like `timeout(1)` but without PID races; `--time`
//! reports its CPU times and peak memory, like `/usr/bin/time`.

use std::time::{Duration, Instant};

use prochandle::{Process, ProcessState, Signal};

use super::spawn;
use crate::cli::RunArgs;
use crate::exit_codes;
use crate::output;

pub fn run(args: RunArgs) -> u8 {
    let mut command = spawn::command(&args.command);
    let started = Instant::now();
    let process = match spawn::spawn(&mut command, "run", |_| None) {
        Ok(process) => process,
        Err(code) => return code,
    };
    let outcome = match args.timeout {
        None => process.wait().map(|state| (state, Ending::Normal)),
        Some(timeout) => wait_with_timeout(&process, timeout, args.signal, args.kill_after),
    };
    let (state, ending) = match outcome {
        Ok(outcome) => outcome,
        Err(err) => {
            output::error(format!("run: waiting for the command failed: {err}"));
            // Never leave it behind.
            let _ = process.kill();
            let _ = process.wait();
            return exit_codes::CANNOT_PREPARE;
        }
    };
    if args.time {
        print_times(&state, started.elapsed());
    }
    match ending {
        Ending::Normal => spawn::pass_through(&state),
        Ending::TimedOut => exit_codes::TIMEOUT,
        Ending::Killed => exit_codes::for_signal(Signal::KILL),
    }
}

/// How the command ended, for the exit status.
enum Ending {
    /// By itself.
    Normal,
    /// After the timeout signal (124, as `timeout(1)`).
    TimedOut,
    /// After `SIGKILL` at `--kill-after` (137, as `timeout(1)`).
    Killed,
}

fn wait_with_timeout(
    process: &Process,
    timeout: Duration,
    signal: Signal,
    kill_after: Option<Duration>,
) -> prochandle::Result<(ProcessState, Ending)> {
    if let Some(state) = process.wait_timeout(timeout)? {
        return Ok((state, Ending::Normal));
    }
    // Through the handle: if it exited this very moment, nothing is sent
    // to anyone (`Done`) and it counts as having finished by itself.
    match process.signal(signal) {
        Ok(()) => {}
        Err(err) if err.is_done() => return Ok((process.wait()?, Ending::Normal)),
        Err(err) => return Err(err),
    }
    let Some(grace) = kill_after else {
        return Ok((process.wait()?, Ending::TimedOut));
    };
    if let Some(state) = process.wait_timeout(grace)? {
        return Ok((state, Ending::TimedOut));
    }
    match process.kill() {
        Ok(()) => Ok((process.wait()?, Ending::Killed)),
        Err(err) if err.is_done() => Ok((process.wait()?, Ending::TimedOut)),
        Err(err) => Err(err),
    }
}

/// One line on stderr: wall-clock, user and system CPU time, peak RSS.
fn print_times(state: &ProcessState, real: Duration) {
    let secs = |d: Option<Duration>| {
        d.map(|d| format!("{:.3}s", d.as_secs_f64()))
            .unwrap_or_else(|| "?".to_owned())
    };
    let rss = state
        .max_rss_bytes()
        .map(|b| format!("{}KiB", b / 1024))
        .unwrap_or_else(|| "?".to_owned());
    eprintln!(
        "real {:.3}s user {} sys {} maxrss {rss} ({})",
        real.as_secs_f64(),
        secs(state.user_time()),
        secs(state.system_time()),
        state.status()
    );
}
