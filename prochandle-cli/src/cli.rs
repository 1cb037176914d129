//! The command line, as clap sees it.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use prochandle::Signal;

use crate::duration;
use crate::exit_codes;
use crate::target::Target;

const ABOUT: &str = "Race-free process handling: every TARGET is held by a pidfd \
(or a guarded PID where the kernel has none) from the moment it is opened, so \
a recycled PID is never signalled, waited for or entered by mistake.";

const TARGETS: &str = "\
TARGET is a PID, or an identity PID:INODE (as util-linux kill and systemd print it) \
or PID@TICKS:BOOT-ID; an identity that no longer names the same process is reported \
as gone and never acted on.";

/// The `prochandle` command line.
#[derive(Parser, Debug)]
#[command(name = "prochandle", version, about = ABOUT, after_help = exit_codes::HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// What this system gives: each handle feature, whether it works, and
    /// why not; the kernel release.
    #[command(after_help = exit_codes::HELP)]
    Check {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Waits for all (or the first) targets to exit; one line per exit.
    #[command(after_help = target_help())]
    Wait(WaitArgs),
    /// Signals targets through their handles; with --timeout, waits and
    /// escalates.
    #[command(after_help = target_help())]
    Kill(KillArgs),
    /// Identity, parent, uids/gids, cgroup, command line, executable, start
    /// time, state and handle mode of each target.
    #[command(after_help = target_help())]
    Info {
        /// One JSON object per target, one per line.
        #[arg(long)]
        json: bool,
        /// Processes to describe.
        #[arg(required = true, value_name = "TARGET", value_parser = parse_target)]
        targets: Vec<Target>,
    },
    /// Duplicates TARGET's descriptor FD (pidfd_getfd) and runs CMD with it.
    #[command(after_help = target_help())]
    Getfd(GetfdArgs),
    /// Runs CMD in TARGET's namespaces, joined atomically through its pidfd.
    #[command(after_help = target_help())]
    Nsenter(NsenterArgs),
    /// Runs CMD holding its handle; kills it on timeout like timeout(1).
    #[command(after_help = exit_codes::HELP)]
    Run(RunArgs),
    /// Prints shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Writes the manual pages (prochandle.1 and one per subcommand) into
    /// DIR, e.g. /usr/local/share/man/man1.
    Manpages {
        /// The directory to write the pages into (created if missing).
        dir: std::path::PathBuf,
    },
}

/// The target forms, then the exit codes, for commands that take targets.
fn target_help() -> String {
    format!("{TARGETS}\n\n{}", exit_codes::HELP)
}

#[derive(Args, Debug)]
pub struct WaitArgs {
    /// Give up after DUR (500ms, 2s, 1.5m, 1h; a bare number is seconds); exit 124.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Return when the first target exits.
    #[arg(long)]
    pub any: bool,
    /// One JSON object per target, one per line.
    #[arg(long)]
    pub json: bool,
    /// With one target: exit with its exit code (128+N if killed by signal N, 255 if unknown).
    #[arg(long)]
    pub exit_status: bool,
    /// Processes to wait for.
    #[arg(required = true, value_name = "TARGET", value_parser = parse_target)]
    pub targets: Vec<Target>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// The signal: a name (TERM, SIGKILL, hup) or a number; 0 only checks.
    #[arg(short, long, value_name = "SIG", default_value = "TERM", value_parser = parse_signal)]
    pub signal: Signal,
    /// Wait up to DUR for the targets to exit; exit 124 if some are still running.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// After --timeout, send this signal to the survivors and wait DUR again.
    #[arg(long, value_name = "SIG", requires = "timeout", value_parser = parse_signal)]
    pub then: Option<Signal>,
    /// Processes to signal.
    #[arg(required = true, value_name = "TARGET", value_parser = parse_target)]
    pub targets: Vec<Target>,
}

#[derive(Args, Debug)]
pub struct GetfdArgs {
    /// The process to take the descriptor from.
    #[arg(value_name = "TARGET", value_parser = parse_target)]
    pub target: Target,
    /// The descriptor number in TARGET.
    #[arg(value_name = "FD")]
    pub fd: i32,
    /// Give it to CMD as descriptor N (default 0, its stdin).
    #[arg(long = "as", value_name = "N", default_value_t = 0)]
    pub as_fd: i32,
    /// The command to run, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Args, Debug)]
pub struct NsenterArgs {
    /// The process whose namespaces to join.
    #[arg(value_name = "TARGET", value_parser = parse_target)]
    pub target: Target,
    /// Mount namespace.
    #[arg(long)]
    pub mount: bool,
    /// Network namespace.
    #[arg(long)]
    pub net: bool,
    /// Host and domain name.
    #[arg(long)]
    pub uts: bool,
    /// System V IPC and POSIX message queues.
    #[arg(long)]
    pub ipc: bool,
    /// PID namespace (applies to CMD's children, as with setns(2)).
    #[arg(long)]
    pub pid: bool,
    /// User namespace.
    #[arg(long)]
    pub user: bool,
    /// Cgroup namespace.
    #[arg(long)]
    pub cgroup: bool,
    /// Time namespace.
    #[arg(long)]
    pub time: bool,
    /// Every namespace (joining our own user namespace is skipped).
    #[arg(long)]
    pub all: bool,
    /// The command to run, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Send --signal to CMD after DUR; exit 124.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// After the timeout signal, send SIGKILL if CMD is still running after DUR.
    #[arg(long, value_name = "DUR", requires = "timeout", value_parser = parse_duration)]
    pub kill_after: Option<Duration>,
    /// The signal sent at the timeout.
    #[arg(short, long, value_name = "SIG", default_value = "TERM", value_parser = parse_signal)]
    pub signal: Signal,
    /// Print CPU times and peak memory on stderr, like /usr/bin/time.
    #[arg(long)]
    pub time: bool,
    /// The command to run, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

fn parse_target(text: &str) -> Result<Target, String> {
    text.parse()
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    duration::parse(text)
}

fn parse_signal(text: &str) -> Result<Signal, String> {
    text.parse::<Signal>().map_err(|e| e.to_string())
}
