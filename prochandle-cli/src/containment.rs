//! How `run` holds CMD's process tree: how CMD is started, what a signal
//! reaches, and what is cleaned up when CMD ends.
//!
//! By default the tree is a library [`Scope`]: a cgroup where this user
//! may make one, else (the tool owns its process, so it may opt in) this
//! process as child subreaper, else a process group. Every descendant
//! stays in it, through `setsid` and double forks where the mechanism
//! holds them, and nothing of it outlives `run`. `--child-only` and
//! `--foreground` hold CMD alone. `run` only calls `spawn`, `signal` and
//! `finish`, so a new way of holding a tree is one more variant here.
//!
//! The scope is the best the platform has: on Windows a job object (that
//! also ends the tree should prochandle itself be killed), on macOS and
//! FreeBSD a process group (which `setsid` escapes). Windows has no
//! signals: whatever `run` sends there ends the tree, as
//! `TerminateJobObject` (exit status 1).

use std::io;
use std::process::{Child, Command};

use prochandle::{Process, Scope, ScopeOptions, Signal};

/// What `run` holds besides CMD itself.
pub enum Containment {
    /// CMD and every descendant, in a [`Scope`]: signals go to every live
    /// member, and whatever is left when CMD ends is killed.
    Tree(Box<Scope>),
    /// CMD alone: `--child-only` (in a group of its own, so that a
    /// terminal's signals reach it only through `run`) or `--foreground`
    /// (in prochandle's group, as `timeout --foreground` leaves it).
    ChildOnly { own_group: bool },
}

impl Containment {
    /// The whole tree, in the best scope this system and user allow; with
    /// `guardian`, a helper process kills the tree should prochandle itself
    /// be killed (`SIGKILL`) before it could.
    ///
    /// Should prochandle die without a chance to clean up, CMD gets
    /// `death_signal` (Linux: `PR_SET_PDEATHSIG`; `KILL` for `run`, the
    /// timeout signal for the `timeout` personality, as GNU's arms it).
    pub fn tree(guardian: bool, death_signal: Signal) -> prochandle::Result<Containment> {
        ScopeOptions::new()
            .allow_subreaper(true)
            .guardian(guardian)
            .death_signal(Some(death_signal))
            .create()
            .map(|scope| Containment::Tree(Box::new(scope)))
    }

    /// Starts `command` held this way.
    pub fn spawn(&self, command: &mut Command) -> io::Result<Child> {
        match self {
            Containment::Tree(scope) => scope.spawn_child(command).map_err(spawn_error),
            Containment::ChildOnly { own_group: true } => own_group(command).spawn(),
            Containment::ChildOnly { own_group: false } => command.spawn(),
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
            Containment::ChildOnly { .. } => Ok(()),
        }
    }

    /// After CMD exited, before it is reaped: kills whatever is left.
    pub fn finish(&self) -> prochandle::Result<()> {
        match self {
            Containment::Tree(scope) => scope.kill(),
            Containment::ChildOnly { .. } => Ok(()),
        }
    }
}

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
