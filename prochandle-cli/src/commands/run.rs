//! `prochandle run`: timeout(1) through handles. Runs CMD holding its
//! handle, and its whole tree in a scope (see `containment.rs`); at the
//! timeout, and whenever prochandle receives a signal timeout(1) forwards,
//! signals CMD and every member of its tree, each through a handle; when
//! CMD ends, kills what is left of the tree before reaping CMD. `--time` reports CPU times and peak memory,
//! like `/usr/bin/time`.
//!
//! The rules are GNU timeout's: a received `SIGALRM` is the timeout; the
//! first signal sent (the timeout's or a forwarded one) starts the
//! `--kill-after` delay, after which `SIGKILL` counts as the timeout
//! running out; 124 after a timeout unless `--preserve-status`; 137 when
//! `SIGKILL` ended CMD after a timeout, even with `--preserve-status`.

use std::ffi::OsString;
use std::time::{Duration, Instant};

use prochandle::relay::Relay;
use prochandle::{Process, ProcessState, ScopeCommand, Signal};

use super::{run_stats, spawn};

mod leaks;
mod pidfile;
mod report;
mod watch;

use crate::cli::{Leaks, RunArgs};
use crate::containment::Containment;
use crate::exit_codes;
use crate::output::{self, Exit};
use pidfile::Pidfile;

/// One `run` (or `timeout` personality) ready to go: the command line
/// checked, nothing started yet.
#[derive(Debug)]
pub struct Job {
    /// CMD and its arguments; never empty.
    pub command: Vec<OsString>,
    /// `None`: no timeout.
    pub timeout: Option<Duration>,
    /// `None` or zero: no `SIGKILL` after the first signal.
    pub kill_after: Option<Duration>,
    pub signal: Signal,
    pub preserve_status: bool,
    pub foreground: bool,
    pub child_only: bool,
    pub guardian: bool,
    pub verbose: bool,
    pub time: bool,
    /// `--stats`, `--json` and the limits.
    pub control: crate::tree_control::TreeControlArgs,
    pub voice: Voice,
    /// `--pidfile`: where CMD's identity is written while it runs.
    pub pidfile: Option<std::path::PathBuf>,
    /// `--leaks`: what becomes of the tree left when CMD exits.
    pub leaks: Leaks,
    /// `--report`: where the snapshot at the timeout goes.
    pub report: Option<report::ReportPlan>,
}

/// Whose words `run` speaks: its own, or timeout(1)'s (which scripts
/// read: `sending signal TERM to command 'sleep'`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Voice {
    Native,
    Timeout,
}

impl Voice {
    /// What this voice's messages begin with (after the program name).
    fn prefix(self) -> &'static str {
        match self {
            Voice::Native => "run: ",
            Voice::Timeout => "",
        }
    }
}

pub fn run(args: RunArgs) -> u8 {
    let plan = match args.split() {
        Ok(plan) => plan,
        Err(message) => {
            output::error(format!("run: {message}"));
            return exit_codes::USAGE;
        }
    };
    if args.control.json && !args.control.stats && !args.report && args.report_file.is_none() {
        output::error("run: --json is the form of --stats and --report: give one of them");
        return exit_codes::USAGE;
    }
    execute(&Job {
        command: plan.command,
        timeout: plan.timeout,
        kill_after: args.kill_after,
        signal: args.signal,
        preserve_status: args.preserve_status,
        foreground: args.foreground,
        child_only: args.child_only,
        // On by default: the tree dies with `run`, SIGKILL included.
        guardian: !args.no_guardian,
        verbose: args.verbose,
        time: args.time,
        control: args.control.clone(),
        voice: Voice::Native,
        pidfile: args.pidfile,
        leaks: args.leaks,
        report: (args.report || args.report_file.is_some()).then_some(report::ReportPlan {
            file: args.report_file,
            json: args.control.json,
        }),
    })
}

/// Runs CMD, held, until it ends; returns the exit status.
pub fn execute(job: &Job) -> u8 {
    let say = job.voice.prefix();
    let Prepared {
        containment,
        relay,
        mut pidfile,
    } = match prepare(job) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let started = Instant::now();
    let process = match start(job, &containment, &relay) {
        Ok(process) => process,
        Err(code) => return code,
    };
    if let Some(Err(message)) = pidfile.as_mut().map(|file| file.write(&process)) {
        output::error(format!("{say}{message}"));
    }
    let watched = watch::watch(job, &process, &containment, relay, started);
    // CMD has exited (or could not be watched) and is not reaped yet, so
    // its group ID is still its own: end the rest of the tree, then reap.
    if let Err(err) = &watched.result {
        output::error(format!("{say}watching the command failed: {err}"));
        let _ = containment.signal(&process, Signal::KILL);
    }
    if let Err(err) = containment.finish() {
        output::error(format!("{say}ending the command's tree failed: {err}"));
    }
    if let Some(file) = &pidfile {
        file.remove();
    }
    let state = match process
        .wait()
        .map_err(|err| err.to_string())
        .and_then(|reaped| containment.command_state(reaped))
    {
        Ok(state) => state,
        Err(err) => {
            output::error(format!("{say}waiting for the command failed: {err}"));
            return exit_codes::CANNOT_PREPARE;
        }
    };
    if watched.result.is_err() {
        return exit_codes::CANNOT_PREPARE;
    }
    if job.time {
        print_times(&state, started.elapsed());
    }
    if job.control.stats {
        run_stats::print(&containment, started.elapsed(), job.control.json);
    }
    leaks::status(
        job.leaks,
        watched.leaked,
        exit_status(&state, watched.timed_out, job.preserve_status),
    )
}

/// What `run` holds before CMD starts.
struct Prepared {
    containment: Containment,
    relay: Relay,
    pidfile: Option<Pidfile>,
}

/// Everything that can fail before CMD starts, in the order timeout(1)
/// would meet it; a failure is said here and is prochandle's (125).
fn prepare(job: &Job) -> Result<Prepared, u8> {
    let say = job.voice.prefix();
    let fail = |what: &str, err: &dyn std::fmt::Display| {
        output::error(format!("{say}{what}{err}"));
        exit_codes::CANNOT_PREPARE
    };
    // Started with SIGCHLD ignored, CMD would be reaped by the kernel the
    // moment it exits; timeout(1) restores the default, and so does run.
    #[cfg(target_os = "linux")]
    prochandle::linux::reset_ignored_sigchld()
        .map_err(|err| fail("cannot restore SIGCHLD: ", &err))?;
    let containment =
        containment_for(job).map_err(|err| fail("cannot hold the command's tree: ", &err))?;
    containment
        .limit(&job.control.limits())
        .map_err(|err| fail("cannot limit the command's tree: ", &err))?;
    // Received before CMD starts: a signal that comes at any moment from
    // here on is read and forwarded, never lost and never fatal to us.
    let mut wanted = FORWARDED.to_vec();
    wanted.push(job.signal);
    // Also SIGPIPE, as coreutils 9.9's timeout: a `-v` line written to a
    // closed stderr must not kill us (the write fails instead); a SIGPIPE
    // sent to us is passed on like the other signals.
    #[cfg(unix)]
    wanted.push(Signal::PIPE);
    let relay = Relay::open(&wanted).map_err(|err| fail("cannot receive signals: ", &err))?;
    let pidfile = job
        .pidfile
        .as_deref()
        .map(Pidfile::claim)
        .transpose()
        .map_err(|message| fail("", &message))?;
    Ok(Prepared {
        containment,
        relay,
        pidfile,
    })
}

/// Starts CMD held as `containment` says, with the signal state from
/// before the relay. Where a scope can start it (a tree in a scope, and
/// `--child-only` on Linux), it does, with its own spawn (on Linux
/// `clone3`, straight into the cgroup for a tree), without the `fork`
/// that std's `Command` needs for its pre-exec hooks; a CMD that must
/// keep an ignored `SIGPIPE` goes through std, which alone keeps it.
fn start(job: &Job, containment: &Containment, relay: &Relay) -> Result<Process, u8> {
    let name = match job.voice {
        Voice::Native => "run",
        Voice::Timeout => "",
    };
    let cannot_run = |program: &str, err: &std::io::Error| match job.voice {
        Voice::Native => format!("run: cannot run {program:?}: {err}"),
        Voice::Timeout => timeout_failure(program, err),
    };
    #[cfg(target_os = "linux")]
    let keep_sigpipe = prochandle::linux::sigpipe_ignored_at_start();
    #[cfg(not(target_os = "linux"))]
    let keep_sigpipe = false;
    if !keep_sigpipe {
        let mut command = ScopeCommand::new(&job.command[0]);
        command.args(&job.command[1..]);
        relay.restore_in_scope_command(&mut command);
        if let Some(spawned) = containment.spawn_command(&command) {
            let program = job.command[0].to_string_lossy();
            return spawned
                .map_err(|err| spawn::failed(&err, &program, cannot_run, out_of_resources));
        }
    }
    let mut command = spawn::command(&job.command);
    relay.restore_in_child(&mut command);
    // A caller's ignored SIGPIPE stays ignored for CMD, as across exec
    // (coreutils 9.9's timeout does the same; 9.1's reset it).
    #[cfg(target_os = "linux")]
    if keep_sigpipe {
        use prochandle::linux::CommandExt as _;
        command.keep_sigpipe_ignored();
    }
    containment.spawn(&mut command, name, cannot_run, out_of_resources)
}

/// timeout(1)'s line for a CMD that could not be started.
fn timeout_failure(program: &str, err: &std::io::Error) -> String {
    format!(
        "failed to run command {}: {}",
        output::quoted(program),
        output::os_message(err)
    )
}

/// `--foreground` as timeout(1) has it (CMD in our group, signalled
/// alone), `--child-only`, or by default CMD's whole tree.
fn containment_for(job: &Job) -> prochandle::Result<Containment> {
    Ok(if job.foreground {
        // timeout(1) arms its signal in the foreground too (coreutils 9.10+).
        let death_signal = (job.voice == Voice::Timeout).then_some(job.signal);
        Containment::ChildOnly {
            own_group: false,
            death_signal,
        }
    } else if job.child_only {
        Containment::ChildOnly {
            own_group: true,
            death_signal: None,
        }
    } else {
        // timeout(1) arms its timeout signal; run keeps the scope's KILL.
        let death = match job.voice {
            Voice::Native => Signal::KILL,
            Voice::Timeout => job.signal,
        };
        Containment::tree(job.guardian, death)?
    })
}

/// The signals timeout(1) forwards to its command (TERM, INT, HUP, QUIT;
/// ALRM, which it takes as "the timeout ran out"), and USR1 and USR2, which
/// timeout(1) leaves to kill itself but `run` forwards too. On Windows the
/// console's events arrive as INT (Ctrl-C), QUIT (Ctrl-Break), HUP (the
/// console closes) and TERM (log-off, shut-down).
const FORWARDED: [Signal; 7] = [
    Signal::TERM,
    Signal::INT,
    Signal::HUP,
    Signal::QUIT,
    Signal::ALRM,
    Signal::USR1,
    Signal::USR2,
];

/// A spawn that failed for want of descriptors or processes is
/// prochandle's failure (125, as timeout(1) when `fork` fails), not CMD's.
fn out_of_resources(err: &std::io::Error) -> Option<String> {
    #[cfg(unix)]
    let exhausted = [libc::EMFILE, libc::ENFILE, libc::EAGAIN];
    #[cfg(windows)]
    let exhausted = {
        use windows_sys::Win32::Foundation::{
            ERROR_NOT_ENOUGH_MEMORY, ERROR_NO_SYSTEM_RESOURCES, ERROR_OUTOFMEMORY,
        };
        [
            ERROR_NOT_ENOUGH_MEMORY,
            ERROR_OUTOFMEMORY,
            ERROR_NO_SYSTEM_RESOURCES,
        ]
        .map(|code| code as i32)
    };
    let errno = err.raw_os_error()?;
    exhausted
        .contains(&errno)
        .then(|| format!("run: cannot start the command: {err}"))
}

/// timeout(1)'s status: CMD's (128+N for signal N), or 124 after a
/// timeout unless `--preserve-status`; a `SIGKILL` after a timeout always
/// shows as 137, so that a forced kill can be told apart.
fn exit_status(state: &ProcessState, timed_out: bool, preserve_status: bool) -> u8 {
    let mut preserve = preserve_status;
    let code = match Exit::of(state) {
        Exit::Exited(code) => (code & 0xff) as u8,
        Exit::Killed {
            signal,
            core_dumped,
        } => {
            if core_dumped {
                output::error("run: the command dumped core");
            }
            if timed_out && signal == Signal::KILL {
                preserve = true;
            }
            exit_codes::for_signal(signal)
        }
        Exit::Unknown(_) => exit_codes::STATUS_UNKNOWN,
    };
    if timed_out && !preserve {
        exit_codes::TIMEOUT
    } else {
        code
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
