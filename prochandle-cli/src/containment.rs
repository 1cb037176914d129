//! How `run` holds CMD's process tree: how CMD is started, what a signal
//! reaches, and what is cleaned up when CMD ends.
//!
//! By default the tree is a library [`Scope`] in a cgroup where this user
//! may make one, with the scope's guardian, which kills the cgroup should
//! `run` be killed. On Linux without a writable cgroup, CMD is spawned
//! under a keeper ([`Keeper`](prochandle::linux::Keeper)): a child of
//! `run` that is the tree's subreaper and CMD's parent, so that every
//! descendant, `setsid` escapers included, stays below it, and that ends
//! the tree when `run` goes, however `run` goes (should the keeper be the
//! one killed, `run`, the subreaper above it, ends the tree: `kept.rs`).
//! Without the guardian (`--no-guardian`, the `timeout` personality)
//! `run` is the subreaper itself, as a scope, else a process group holds
//! the tree. Every descendant stays in it, through
//! `setsid` and double forks where the mechanism holds them, and nothing
//! of it outlives `run`. `--child-only` and `--foreground` hold CMD alone.
//! `run` only calls `spawn`, `signal`, `leftovers`, `finish` and
//! `command_state`, so a new way of holding a tree is one more variant
//! here.
//!
//! The scope is the best the platform has: on Windows a job object (that
//! also ends the tree should prochandle itself be killed), on macOS and
//! FreeBSD a process group (which `setsid` escapes). Windows has no
//! signals: whatever `run` sends there ends the tree, as
//! `TerminateJobObject` (exit status 1).

use std::io;
use std::process::{Child, Command};

use prochandle::{
    Process, ProcessState, Scope, ScopeCommand, ScopeLimits, ScopeOptions, ScopeStats, Signal,
};

use crate::commands::spawn;

#[cfg(target_os = "linux")]
mod kept;

/// What `run` holds besides CMD itself.
pub enum Containment {
    /// CMD and every descendant, in a [`Scope`]: signals go to every live
    /// member, and whatever is left when CMD ends is killed.
    Tree(Box<Scope>),
    /// CMD and every descendant under a keeper (Linux, no cgroup), which
    /// holds them until `run` finishes; signals go through it.
    #[cfg(target_os = "linux")]
    Kept(kept::Kept),
    /// CMD alone: `--child-only` (in a group of its own, so that a
    /// terminal's signals reach it only through `run`) or `--foreground`
    /// (in prochandle's group, as `timeout --foreground` leaves it), with
    /// the signal CMD gets should prochandle die first (Linux), if any.
    ChildOnly {
        own_group: bool,
        // Read on Linux only: elsewhere there is no parent-death signal.
        #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
        death_signal: Option<Signal>,
    },
}

impl Containment {
    /// The whole tree, in the best scope this system and user allow; with
    /// `guardian`, the tree also dies should prochandle itself be killed
    /// (`SIGKILL`) before it could end it: the cgroup's guardian, or
    /// without a cgroup the keeper.
    ///
    /// Should prochandle die without a chance to clean up, CMD gets
    /// `death_signal` (Linux: `PR_SET_PDEATHSIG`; `KILL` for `run`, the
    /// timeout signal for the `timeout` personality, as GNU's arms it).
    pub fn tree(guardian: bool, death_signal: Signal) -> prochandle::Result<Containment> {
        let options = ScopeOptions::new()
            .guardian(guardian)
            .death_signal(Some(death_signal));
        #[cfg(target_os = "linux")]
        if guardian {
            // Without a cgroup (a process group was all that was left), the
            // keeper; nothing is spawned into the probe.
            let scope = options.create()?;
            if scope.mechanism().cgroup_path().is_some() {
                return Ok(Containment::Tree(Box::new(scope)));
            }
            return Ok(Containment::Kept(kept::Kept::default()));
        }
        options
            .allow_subreaper(true)
            .create()
            .map(|scope| Containment::Tree(Box::new(scope)))
    }

    /// Starts `command` held this way and returns CMD, which `run`
    /// watches (under a keeper, pinned: not `run`'s child). On failure
    /// says why (see [`spawn::failed`]: `name`
    /// begins the lines, `cannot_run` words the one for a CMD that could
    /// not start) and returns the exit code.
    pub fn spawn(
        &self,
        command: &mut Command,
        name: &str,
        cannot_run: impl Fn(&str, &io::Error) -> String,
        setup_error: impl Fn(&io::Error) -> Option<String>,
    ) -> Result<Process, u8> {
        #[cfg(target_os = "linux")]
        if let Containment::Kept(kept) = self {
            let program = command.get_program().to_string_lossy().into_owned();
            return kept.spawn(command).map_err(|refused| match refused {
                kept::Refused::Spawn(err) => {
                    spawn::failed(&spawn_error(err), &program, cannot_run, setup_error)
                }
                kept::Refused::Subreaper(err) => {
                    let say = spawn::said_by(name);
                    crate::output::error(format!("{say}cannot become the tree's subreaper: {err}"));
                    crate::exit_codes::CANNOT_PREPARE
                }
                kept::Refused::KeeperLost(err) => {
                    let say = spawn::said_by(name);
                    crate::output::error(format!("{say}cannot run {program:?}: {err}"));
                    crate::exit_codes::CANNOT_PREPARE
                }
            });
        }
        spawn::spawn_saying(command, name, cannot_run, setup_error, |command| {
            self.spawn_child(command)
        })
    }

    /// Starts `command` by a scope's own spawn (on Linux `clone3`, into
    /// the cgroup for a tree) and returns CMD; `None` where only std's
    /// `Command` starts CMD as it is held (the keeper, `--foreground`,
    /// `--child-only` off Linux).
    pub fn spawn_command(&self, command: &ScopeCommand) -> Option<io::Result<Process>> {
        match self {
            Containment::Tree(scope) => Some(scope.spawn_command(command).map_err(spawn_error)),
            #[cfg(target_os = "linux")]
            Containment::ChildOnly {
                own_group: true, ..
            } => {
                // CMD alone in a group of its own: a process-group scope
                // that holds nothing once CMD is started (no kill on drop,
                // no death signal) starts it in a new group without a fork.
                let alone = ScopeOptions::new()
                    .mechanism(prochandle::MechanismKind::ProcessGroup)
                    .kill_on_drop(false)
                    .death_signal(None)
                    .create()
                    .and_then(|scope| scope.spawn_command(command));
                Some(alone.map_err(spawn_error))
            }
            _ => None,
        }
    }

    fn spawn_child(&self, command: &mut Command) -> io::Result<Child> {
        match self {
            Containment::Tree(scope) => scope.spawn_child(command).map_err(spawn_error),
            Containment::ChildOnly {
                own_group: true, ..
            } => own_group(command).spawn(),
            #[cfg(target_os = "linux")]
            Containment::ChildOnly {
                own_group: false,
                death_signal,
            } => {
                use prochandle::linux::CommandExt as _;
                if let Some(signal) = *death_signal {
                    command.parent_death_signal(signal);
                }
                command.spawn()
            }
            #[cfg(target_os = "linux")]
            Containment::Kept(_) => command.spawn(),
            #[cfg(not(target_os = "linux"))]
            Containment::ChildOnly {
                own_group: false, ..
            } => command.spawn(),
        }
    }

    /// CMD's end, once `process` (what [`spawn`](Containment::spawn)
    /// returned) has been waited for with `reaped`: the same, or what the
    /// keeper reports (it reaped CMD).
    pub fn command_state(&self, reaped: ProcessState) -> Result<ProcessState, String> {
        match self {
            #[cfg(target_os = "linux")]
            Containment::Kept(kept) => kept.command_state(reaped),
            _ => Ok(reaped),
        }
    }

    /// Sends `signal` to CMD, then to the rest of what is held, each
    /// through a handle, and like timeout(1) follows any signal but `KILL`
    /// and `CONT` with `CONT`, so that a stopped process sees it. A CMD
    /// that is already gone is not an error.
    ///
    /// Called only before CMD is reaped, so that CMD's handle still names
    /// it and the tree's members are told apart from strangers.
    pub fn signal(&self, process: &Process, signal: Signal) -> prochandle::Result<()> {
        // Windows can only end a process; `run` refuses any other
        // `--signal` there, and a console event ends the tree.
        #[cfg(windows)]
        let signal = {
            let _ = signal;
            Signal::KILL
        };
        self.send(process, signal)?;
        if signal != Signal::KILL && signal != Signal::CONT {
            self.send(process, Signal::CONT)?;
        }
        Ok(())
    }

    fn send(&self, process: &Process, signal: Signal) -> prochandle::Result<()> {
        #[cfg(target_os = "linux")]
        if let Containment::Kept(kept) = self {
            // CMD and the tree are the keeper's to signal.
            return kept.signal(signal);
        }
        match process.signal(signal) {
            Ok(()) => {}
            Err(err) if err.is_done() => {}
            Err(err) => return Err(err),
        }
        match self {
            // Every member, each pinned before it is signalled; one that
            // exits meanwhile is no error.
            Containment::Tree(scope) => match scope.signal(signal) {
                Err(err) if !err.is_done() => Err(err),
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// The members still alive besides CMD (none when CMD alone is held);
    /// called before CMD is reaped.
    pub fn leftovers(&self, process: &Process) -> Vec<Process> {
        #[cfg(target_os = "linux")]
        if let Containment::Kept(kept) = self {
            return kept.leftovers(process);
        }
        let Containment::Tree(scope) = self else {
            return Vec::new();
        };
        let members = scope.members().unwrap_or_default();
        members
            .into_iter()
            .filter(|member| member.pid() != process.pid())
            .filter(|member| !member.has_exited().unwrap_or(true))
            .collect()
    }

    /// What freezes the whole tree at once (for the report); else why
    /// nothing does.
    pub fn tree_scope(&self) -> Result<Freezer<'_>, &'static str> {
        match self {
            Containment::Tree(scope) => Ok(Freezer::Scope(scope)),
            #[cfg(target_os = "linux")]
            Containment::Kept(kept) => Ok(Freezer::Keeper(kept)),
            Containment::ChildOnly { .. } => Err("the command is held alone"),
        }
    }

    /// After CMD exited, before it is reaped: kills whatever is left (the
    /// keeper's way: it kills the tree, reaps CMD and exits).
    pub fn finish(&self) -> prochandle::Result<()> {
        match self {
            Containment::Tree(scope) => scope.kill(),
            #[cfg(target_os = "linux")]
            Containment::Kept(kept) => {
                kept.finish();
                Ok(())
            }
            Containment::ChildOnly { .. } => Ok(()),
        }
    }
}

/// Beyond holding: limits and accounting, for the whole tree only.
impl Containment {
    /// Applies `limits` before CMD starts; an error (naming what is
    /// missing) where the tree's mechanism cannot enforce them.
    pub fn limit(&self, limits: &ScopeLimits) -> Result<(), String> {
        if limits.is_empty() {
            return Ok(());
        }
        match self {
            Containment::Tree(scope) => scope.set_limits(limits).map_err(|e| e.to_string()),
            #[cfg(target_os = "linux")]
            Containment::Kept(_) => Err(KEPT.to_owned()),
            Containment::ChildOnly { .. } => Ok(()),
        }
    }

    /// The whole tree's accounting and the mechanism that kept it; `None`
    /// when CMD is held alone.
    pub fn stats(&self) -> Option<Result<(ScopeStats, String), String>> {
        match self {
            Containment::Tree(scope) => Some(
                scope
                    .stats()
                    .map(|s| (s, scope.mechanism().kind().to_string()))
                    .map_err(|e| e.to_string()),
            ),
            #[cfg(target_os = "linux")]
            Containment::Kept(_) => Some(Err(KEPT.to_owned())),
            Containment::ChildOnly { .. } => None,
        }
    }
}

/// What freezes a whole tree: its scope, or its keeper (which freezes
/// its own subreaper scope, by `SIGSTOP` sweeps).
#[derive(Clone, Copy)]
pub enum Freezer<'a> {
    Scope(&'a Scope),
    #[cfg(target_os = "linux")]
    Keeper(&'a kept::Kept),
}

impl Freezer<'_> {
    /// The mechanism that holds, and so freezes, the tree.
    pub fn kind(&self) -> prochandle::MechanismKind {
        match self {
            Freezer::Scope(scope) => scope.mechanism().kind(),
            #[cfg(target_os = "linux")]
            Freezer::Keeper(_) => prochandle::MechanismKind::Subreaper,
        }
    }

    /// See [`Scope::freeze_within`].
    pub fn freeze_within(&self, limit: std::time::Duration) -> prochandle::Result<bool> {
        match self {
            Freezer::Scope(scope) => scope.freeze_within(limit),
            #[cfg(target_os = "linux")]
            Freezer::Keeper(kept) => kept.freeze_within(limit),
        }
    }

    /// See [`Scope::thaw`].
    pub fn thaw(&self) -> prochandle::Result<()> {
        match self {
            Freezer::Scope(scope) => scope.thaw(),
            #[cfg(target_os = "linux")]
            Freezer::Keeper(kept) => kept.thaw(),
        }
    }
}

/// Why the keeper's tree has no limits or accounting here.
#[cfg(target_os = "linux")]
const KEPT: &str = "the tree is held by a keeper process (no writable cgroup): limits and \
    statistics need a cgroup scope (root, or a delegated cgroup); --no-guardian makes run \
    the subreaper, which accounts for the tree but cannot limit it";

/// CMD in a process group of its own, so that the terminal's signals
/// (Ctrl-C) reach it only through `run`.
#[cfg(unix)]
fn own_group(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt as _;
    command.process_group(0)
}

/// CMD in a console process group of its own: the console's Ctrl-C is
/// not delivered to it (Ctrl-Break is), so it reaches CMD through `run`.
#[cfg(windows)]
fn own_group(command: &mut Command) -> &mut Command {
    use std::os::windows::process::CommandExt as _;
    use windows_sys::Win32::System::Threading::CREATE_NEW_PROCESS_GROUP;
    command.creation_flags(CREATE_NEW_PROCESS_GROUP)
}

/// The OS error behind a failed spawn into a scope, so that `run` tells
/// "not found" (127) from "not executable" (126) from "out of resources"
/// (125) as it does for a plain spawn.
fn spawn_error(err: prochandle::Error) -> io::Error {
    if let Some(errno) = err.raw_os_error() {
        return io::Error::from_raw_os_error(errno);
    }
    // std's own refusals carry a kind and no OS error (on Windows, "program
    // not found" when the program is nowhere on the path).
    let kind = std::error::Error::source(&err)
        .and_then(|source| source.downcast_ref::<io::Error>())
        .map_or(io::ErrorKind::Other, io::Error::kind);
    io::Error::new(kind, err)
}
