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
or PID@TICKS:BOOT-ID (Linux), or @FILE: the PID or identity in FILE (a pidfile, as \
`run --pidfile` writes); an identity that no longer names the same process is \
reported as gone and never acted on.";

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
    /// Waits for all (or the first) targets to exit; one line per exit
    /// (pidwait with --match).
    #[command(after_help = wait_help())]
    Wait(WaitArgs),
    /// Signals targets through their handles, as kill(1) (pkill with
    /// --match); with --timeout, waits and escalates.
    #[command(after_help = kill_help())]
    Kill(KillArgs),
    /// Lists the processes that match, as pgrep, each by its identity.
    #[command(after_help = list_help())]
    List(ListArgs),
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
    /// Runs CMD holding its handle, like timeout(1): signals it and its
    /// whole tree (setsid daemons included) at the timeout, forwards TERM,
    /// INT, HUP, QUIT, ALRM, USR1 and USR2, and kills what is left of the
    /// tree when it ends.
    #[command(
        override_usage = RUN_USAGE,
        after_help = run_help()
    )]
    Run(RunArgs),
    /// PID 1 for containers (as tini): runs CMD, passes signals on to it,
    /// reaps every orphan, and exits with CMD's status once what is left
    /// of the tree is ended; outside PID 1, as the tree's subreaper.
    #[command(after_help = init_help())]
    Init(InitArgs),
    /// The live descendants of TARGET, as an indented tree: PID, identity,
    /// command line.
    #[command(after_help = target_help())]
    Tree {
        /// One JSON object per process, one per line, root first.
        #[arg(long)]
        json: bool,
        /// The root of the tree.
        #[arg(value_name = "TARGET", value_parser = parse_target)]
        target: Target,
    },
    /// Prints shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Makes DIR/timeout, kill, pgrep, pkill and pidwait symbolic links to
    /// this binary: run under those names it takes their command lines.
    InstallLinks {
        /// The directory for the links (created if missing), e.g.
        /// /usr/local/bin.
        dir: std::path::PathBuf,
        /// Replace files already there.
        #[arg(long)]
        force: bool,
    },
    /// Writes the manual pages (prochandle.1 and one per subcommand) into
    /// DIR, e.g. /usr/local/share/man/man1.
    Manpages {
        /// The directory to write the pages into (created if missing).
        dir: std::path::PathBuf,
    },
}

/// The signal `kill` sends and `run` sends at the timeout unless told
/// otherwise: TERM, as kill(1) and timeout(1); on Windows, which can only
/// end a process, KILL.
#[cfg(unix)]
pub const DEFAULT_SIGNAL: &str = "TERM";
#[cfg(windows)]
pub const DEFAULT_SIGNAL: &str = "KILL";

/// Refuses, on Windows, a signal other than KILL (and 0, which only
/// checks): Windows has no signals, and the library ends a process or
/// nothing.
pub fn check_signal_here(signal: Signal) -> Result<(), String> {
    if cfg!(windows) && signal != Signal::KILL && signal.as_raw() != 0 {
        return Err(format!(
            "signal {signal}: Windows has no signals; only KILL (which ends the process) and 0 (a check)"
        ));
    }
    Ok(())
}

const RUN_USAGE: &str = "\
prochandle run [OPTIONS] DURATION CMD [ARG]...
       prochandle run [OPTIONS] [--timeout DUR] -- CMD [ARG]...";

const RUN_FORMS: &str = "\
As timeout(1): `prochandle run -s INT -k 5 10 make` is `timeout -s INT -k 5 10 make`.
Before `--`, the first word is DURATION unless --timeout is given; what follows is CMD,
whose own options (and a later `--`) are left alone, as timeout(1) leaves them. DURATION is a number of seconds with an optional unit
(500ms, 2s, 1.5m, 1h, 1d); 0 disables the timeout.

CMD and everything it starts are held in a scope: on Linux a cgroup where one can be
made, else a keeper process that is their subreaper (prochandle itself with
--no-guardian), else a process group; on Windows a job object
(Ctrl-C, Ctrl-Break and closing the console end the whole tree, and so does prochandle's
own death); on macOS and FreeBSD a process group, which setsid escapes. The timeout
signal and every forwarded signal reach every member, and when CMD ends (or is killed)
whatever is left of the tree is killed. --child-only signals CMD alone and leaves the
rest. Windows has no signals: there the timeout ends the tree (--signal KILL only).";

const INIT_NOTES: &str = "\
As PID 1 of a PID namespace (a container; unshare --pid --fork) every orphan is re-parented to \
init and reaped; anywhere else init makes itself the child subreaper (tini -s), so the orphans \
of CMD's tree come to it. TERM, INT, HUP, QUIT, USR1, USR2, ALRM and WINCH sent to init are \
passed on to CMD (or with -g its process group): init receives them although the kernel \
protects PID 1 from their default actions. When CMD ends, what is left gets TERM, --grace, then \
KILL, and is reaped; init exits with CMD's status, 128+N if signal N killed it. Linux only.";

/// `init`'s notes, then the exit codes.
fn init_help() -> String {
    format!("{INIT_NOTES}\n\n{}", exit_codes::HELP)
}

/// `run`'s forms, then the exit codes.
fn run_help() -> String {
    format!("{RUN_FORMS}\n\n{}", exit_codes::HELP)
}

/// The target forms, then the exit codes, for commands that take targets.
fn target_help() -> String {
    format!("{TARGETS}\n\n{}", exit_codes::HELP)
}

const MATCHING: &str = "\
With --match, the one positional argument is a PATTERN (a regex, as pgrep's) \
matched against the process name, or with -f the full command line. Each \
candidate is pinned by a handle, then read and matched again, before it is \
signalled or waited for: a PID recycled in between is never reached. \
Exit 1 when nothing matched, as pkill/pgrep/pidwait.";

fn kill_help() -> String {
    format!(
        "kill(1) forms: kill -9 PID, kill -KILL PID, kill -SIGKILL PID, kill -s KILL PID, \
kill -n 9 PID, kill -RTMIN+1 PID, kill -l [N|NAME], kill -L.\n\
pkill forms: kill --match [-f] [-x] [-i] [-u USER] [-U USER] [-P PPID] [--newest|-o] PATTERN.\n\
On Windows, which has no signals, only KILL (the default there) and 0 are sent; --match, \
--tree and --thread need Linux.\n\n\
{MATCHING}\n\n{}",
        target_help()
    )
}

fn wait_help() -> String {
    format!(
        "pidwait forms: wait --match [-f] [-x] [-i] [-u USER] [-U USER] [-P PPID] [-n|-o] PATTERN.\n\n\
{MATCHING}\n\n{}",
        target_help()
    )
}

fn list_help() -> String {
    format!(
        "pgrep forms: list [-f] [-x] [-i] [-u USER] [-U USER] [-P PPID] [-n|-o] [PATTERN].\n\
Prints IDENTITY NAME per line (with -f the command line); an identity is a TARGET for \
the other commands.\n\n{MATCHING}\n\n{}",
        exit_codes::HELP
    )
}

/// pgrep's selection options, shared by kill, wait and list.
#[derive(Args, Debug, Clone, Default)]
pub struct MatchArgs {
    /// Match against the full command line, not only the name (pgrep -f).
    #[arg(short = 'f', long)]
    pub full: bool,
    /// The pattern must match the whole name (or command line) (pgrep -x).
    #[arg(short = 'x', long)]
    pub exact: bool,
    /// Match case-insensitively (pgrep -i).
    #[arg(short = 'i', long)]
    pub ignore_case: bool,
    /// Only processes whose effective user is one of these (names or IDs).
    #[arg(short = 'u', long, value_name = "USER,...", value_delimiter = ',')]
    pub euid: Vec<String>,
    /// Only processes whose real user is one of these (names or IDs).
    #[arg(short = 'U', long, value_name = "USER,...", value_delimiter = ',')]
    pub uid: Vec<String>,
    /// Only children of these parents.
    #[arg(short = 'P', long, value_name = "PPID,...", value_delimiter = ',')]
    pub parent: Vec<u32>,
    /// Only the most recently started match.
    #[arg(long)]
    pub newest: bool,
    /// Only the least recently started match.
    #[arg(short = 'o', long)]
    pub oldest: bool,
}

/// pgrep's selection options and pgrep's `-n` for --newest, as wait and
/// list take them (kill's `-n` is the signal's number, as in the shells).
#[derive(Args, Debug)]
pub struct PgrepArgs {
    /// Only the most recently started match (same as --newest).
    #[arg(short = 'n', hide = true)]
    newest_short: bool,
    #[command(flatten)]
    select: MatchArgs,
}

impl PgrepArgs {
    /// The selection, `-n` read as --newest.
    pub fn select(&self) -> MatchArgs {
        MatchArgs {
            newest: self.select.newest || self.newest_short,
            ..self.select.clone()
        }
    }
}

#[derive(Args, Debug)]
pub struct WaitArgs {
    /// Give up after DUR (500ms, 2s, 1.5m, 1h; a bare number is seconds); exit 124.
    #[arg(long, value_name = "DUR", value_parser = duration::parse)]
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
    /// No progress line on the terminal.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Select by PATTERN and the options below instead of TARGETs (pidwait).
    #[arg(short = 'm', long = "match")]
    pub matching: bool,
    #[command(flatten)]
    pub select: PgrepArgs,
    /// Processes to wait for (with --match: one PATTERN).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Accepted for symmetry with kill and wait: list always matches.
    #[arg(short = 'm', long = "match")]
    pub matching: bool,
    #[command(flatten)]
    pub select: PgrepArgs,
    /// One JSON object per process, one per line.
    #[arg(long)]
    pub json: bool,
    /// Print the count of matches only (pgrep -c).
    #[arg(short = 'c', long)]
    pub count: bool,
    /// The regex to match.
    #[arg(value_name = "PATTERN")]
    pub pattern: Option<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// The signal: a name (TERM, SIGKILL, hup, RTMIN+1) or a number; 0 only
    /// checks. Also written -SIG or -NUM (kill -9, kill -KILL).
    #[arg(short, long, value_name = "SIG", value_parser = parse_signal, conflicts_with = "number")]
    pub signal: Option<Signal>,
    /// The signal by number (as the shells' kill -n).
    #[arg(short = 'n', long = "number", value_name = "NUM", value_parser = parse_signal_number)]
    pub number: Option<Signal>,
    /// List signal names; with N (a number, or an exit status 128+N) or a
    /// name, convert it to the other form.
    #[arg(short = 'l', long, value_name = "N", num_args = 0..=1, conflicts_with = "table")]
    pub list: Option<Option<String>>,
    /// List signal numbers and names as a table.
    #[arg(short = 'L', long)]
    pub table: bool,
    /// Wait up to DUR for the targets to exit; exit 124 if some are still running.
    #[arg(long, value_name = "DUR", value_parser = duration::parse)]
    pub timeout: Option<Duration>,
    /// After --timeout, send this signal to the survivors and wait DUR again.
    #[arg(long, value_name = "SIG", requires = "timeout", value_parser = parse_signal)]
    pub then: Option<Signal>,
    /// One JSON object per target signalled (and per exit with --timeout).
    #[arg(long)]
    pub json: bool,
    /// Each TARGET is a thread ID: signal that thread alone, through a
    /// thread handle.
    #[arg(long, conflicts_with_all = ["tree", "matching"])]
    pub thread: bool,
    /// Signal each target and every descendant, each pinned before it is
    /// signalled, sweeping until no new one appears.
    #[arg(long)]
    pub tree: bool,
    /// --tree --timeout (no --then) as a graceful stop: how each member ended.
    #[arg(long, requires_all = ["tree", "timeout"])]
    pub report: bool,
    /// No progress line on the terminal while --timeout waits.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Select by PATTERN and the options below instead of TARGETs (pkill).
    #[arg(short = 'm', long = "match")]
    pub matching: bool,
    #[command(flatten)]
    pub select: MatchArgs,
    /// Processes to signal (with --match: one PATTERN).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
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

/// `init`'s command line: tini's options where they fit.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// Pass signals on to CMD's whole process group (CMD gets a group of
    /// its own), not CMD alone (tini -g).
    #[arg(short = 'g', long)]
    pub group: bool,
    /// Accepted for tini's -s: init is the subreaper whenever it is not
    /// PID 1.
    #[arg(short = 's', long)]
    pub subreaper: bool,
    /// Exit 0 when CMD exits with CODE (tini -e); may be repeated.
    #[arg(short = 'e', long = "remap-exit", value_name = "CODE")]
    pub remap_exit: Vec<u8>,
    /// Send KILL to CMD DUR after the first signal passed on to it (for a
    /// CMD that ignores TERM); 0 disables it.
    #[arg(short = 'k', long, value_name = "DUR", value_parser = duration::parse)]
    pub kill_after: Option<Duration>,
    /// When CMD has ended, how long what is left of its tree has between
    /// TERM and KILL.
    #[arg(long, value_name = "DUR", default_value = "2s", value_parser = duration::parse)]
    pub grace: Duration,
    /// Say on stderr each signal passed on, orphans reaped, and what is
    /// ended after CMD.
    #[arg(short, long)]
    pub verbose: bool,
    /// The command to run, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

/// `run`'s command line: timeout(1)'s options, then either timeout(1)'s
/// `DURATION COMMAND [ARG]...` or `[--timeout DUR] -- COMMAND [ARG]...`.
///
/// Before `--`, the first word is DURATION unless `--timeout` is given;
/// the rest, and everything after `--`, is the command. Once the first
/// word is taken, nothing after it is read as an option of prochandle's
/// (as timeout(1) stops at its first operand), so `prochandle run 10 ls
/// -l` passes `-l` to `ls`. See [`RunArgs::split`].
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Send --signal to CMD after DUR; exit 124 (the DURATION operand,
    /// as an option). 0 disables the timeout, as in timeout(1).
    #[arg(long, value_name = "DUR", value_parser = duration::parse)]
    pub timeout: Option<Duration>,
    /// Also send SIGKILL if CMD is still running DUR after the first signal
    /// (timeout's or a forwarded one); 0 disables it.
    #[arg(short = 'k', long, value_name = "DUR", value_parser = duration::parse)]
    pub kill_after: Option<Duration>,
    /// The signal sent at the timeout: a name (TERM, SIGKILL, hup) or a
    /// number (Windows: KILL only).
    #[arg(short, long, value_name = "SIG", default_value = DEFAULT_SIGNAL, value_parser = parse_signal)]
    pub signal: Signal,
    /// Exit with CMD's status even when the timeout ran out (not 124).
    #[arg(long)]
    pub preserve_status: bool,
    /// Leave CMD in prochandle's process group, so that it may read from
    /// the terminal and get its signals (Ctrl-C); signals then reach CMD
    /// only, not its children, and nothing is killed after CMD exits.
    #[arg(long)]
    pub foreground: bool,
    /// Signal CMD only, not its descendants, and leave them running after
    /// it exits (by default CMD's whole tree is held: a cgroup where one
    /// can be made, else a keeper process or prochandle as their
    /// subreaper, else a process group; CMD still gets its own group
    /// unless --foreground).
    #[arg(long)]
    pub child_only: bool,
    /// Insist on what is the default on Linux: should prochandle itself be
    /// killed (SIGKILL) before it can clean up, CMD's whole tree dies too
    /// (a small helper process kills the cgroup, or, without one, a keeper
    /// that is the tree's subreaper ends it; on Windows the job object does
    /// this anyway). Refused where the system cannot promise it.
    #[arg(long, conflicts_with_all = ["child_only", "foreground", "no_guardian"])]
    pub guardian: bool,
    /// Do without that protection: the tree then outlives a prochandle
    /// killed with SIGKILL (it saves a fork, and, without a cgroup, keeps
    /// prochandle itself the tree's subreaper and CMD's parent).
    #[arg(long)]
    pub no_guardian: bool,
    /// Say on stderr each signal sent to CMD.
    #[arg(short, long)]
    pub verbose: bool,
    /// Print CMD's own CPU times and peak memory on stderr, like /usr/bin/time.
    #[arg(long)]
    pub time: bool,
    #[command(flatten)]
    pub control: crate::tree_control::TreeControlArgs,
    /// Write CMD's identity (Linux: PID:INODE; elsewhere its PID) to FILE
    /// while it runs, atomically; removed when CMD ends. A FILE that names
    /// a live process is not overwritten (exit 125). Stop CMD with
    /// `prochandle kill @FILE`.
    #[arg(long, value_name = "FILE")]
    pub pidfile: Option<std::path::PathBuf>,
    /// What to do with members of CMD's tree left when CMD exits: kill
    /// them (the default), report them on stderr then kill them, fail (as
    /// report; exit 122 if CMD succeeded), or wait for the whole tree, the
    /// timeout covering all of it.
    #[arg(long, value_name = "MODE", value_enum, default_value_t = Leaks::Kill)]
    pub leaks: Leaks,
    /// At the timeout, before any signal, describe every member of CMD's
    /// tree on stderr: identity, parent, state, wchan, system call, age,
    /// CPU time, resident memory, command line, as an indented tree. The
    /// tree is frozen for it where it can be (cgroup freezer, SIGSTOP
    /// sweeps; 200 ms at most), then thawed before the signal.
    #[arg(long)]
    pub report: bool,
    /// Write the --report snapshot to FILE instead of stderr (implies
    /// --report).
    #[arg(long, value_name = "FILE")]
    pub report_file: Option<std::path::PathBuf>,
    /// DURATION (unless --timeout is given), then CMD and its arguments.
    #[arg(
        value_name = "DURATION CMD",
        num_args = 1..,
        allow_hyphen_values = true
    )]
    pub words: Vec<std::ffi::OsString>,
    /// CMD and its arguments, after `--`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

/// `run --leaks`: what becomes of the tree's members left when CMD exits.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leaks {
    /// Kill them silently.
    Kill,
    /// Name each on stderr, then kill them.
    Report,
    /// As report; exit 122 if CMD itself succeeded.
    Fail,
    /// Wait for the whole tree to end.
    Wait,
}

/// What `run` was asked to do, once the operands are taken apart.
#[derive(Debug, PartialEq)]
pub struct RunPlan {
    /// `None`: no timeout (none given, or 0).
    pub timeout: Option<Duration>,
    /// The command and its arguments; never empty.
    pub command: Vec<std::ffi::OsString>,
}

impl RunArgs {
    /// Takes DURATION and CMD out of the operands; the error is one line.
    pub fn split(&self) -> Result<RunPlan, String> {
        let mut words = self.words.iter();
        let timeout = match self.timeout {
            Some(timeout) => Some(timeout),
            None => match words.next() {
                Some(word) => Some(duration::parse(&word.to_string_lossy())?),
                None => None,
            },
        };
        check_signal_here(self.signal)?;
        if self.kill_after.is_some() && timeout.is_none() {
            return Err(
                "--kill-after needs a timeout: DURATION or --timeout (0 for none)".to_owned(),
            );
        }
        let command: Vec<_> = words.chain(&self.command).cloned().collect();
        if command.is_empty() {
            return Err(
                "the following required arguments were not provided: CMD \
                 (prochandle run [OPTIONS] DURATION CMD [ARG]..., or [--timeout DUR] -- CMD [ARG]...)"
                    .to_owned(),
            );
        }
        Ok(RunPlan {
            // 0 disables the timeout, as in timeout(1).
            timeout: timeout.filter(|t| !t.is_zero()),
            command,
        })
    }
}

fn parse_signal_number(text: &str) -> Result<Signal, String> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad signal number {text:?}"));
    }
    parse_signal(text)
}

fn parse_target(text: &str) -> Result<Target, String> {
    text.parse()
}

fn parse_signal(text: &str) -> Result<Signal, String> {
    text.parse::<Signal>().map_err(|e| e.to_string())
}
