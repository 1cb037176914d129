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

use std::io;
use std::os::unix::process::CommandExt as _;
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
    pub fn tree(guardian: bool) -> prochandle::Result<Containment> {
        ScopeOptions::new()
            .allow_subreaper(true)
            .guardian(guardian)
            .create()
            .map(|scope| Containment::Tree(Box::new(scope)))
    }

    /// Starts `command` held this way.
    pub fn spawn(&self, command: &mut Command) -> io::Result<Child> {
        match self {
            Containment::Tree(scope) => scope.spawn_child(command).map_err(spawn_error),
            Containment::ChildOnly { own_group: true } => command.process_group(0).spawn(),
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

/// The OS error behind a failed spawn into a scope, so that `run` tells
/// "not found" (127) from "not executable" (126) from "out of resources"
/// (125) as it does for a plain spawn.
fn spawn_error(err: prochandle::Error) -> io::Error {
    match err.raw_os_error() {
        Some(errno) => io::Error::from_raw_os_error(errno),
        None => io::Error::other(err),
    }
}
