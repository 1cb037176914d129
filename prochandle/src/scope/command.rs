//! [`ScopeCommand`]: a command the scope spawns itself, so that on Linux
//! the child can start inside the container with no `fork` (see
//! [`Scope::spawn_command`](super::Scope::spawn_command)).
//!
//! Why not std's `Command`: its standard streams, `env_clear`, user and
//! group, process group and pre-exec hooks cannot be read back from it,
//! so a spawn of our own could only ignore them, silently. This builder
//! has only what every spawn path honours.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::sys::scope::{Spec, Stdio};

/// Where a standard stream of a [`ScopeCommand`]'s child comes from.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use prochandle::ChildStdio;
/// let (reader, writer) = std::io::pipe()?;
/// let stdout = ChildStdio::from(writer); // the child writes into the pipe
/// # drop((reader, stdout));
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub enum ChildStdio {
    /// This process's own (the default).
    #[default]
    Inherit,
    /// The null device.
    Null,
    /// This descriptor (a file, a pipe end, a socket); the command keeps
    /// it, the child gets a copy.
    #[cfg(unix)]
    Fd(std::os::fd::OwnedFd),
    /// This handle (a file, a pipe end); the command keeps it, the child
    /// gets a copy.
    #[cfg(windows)]
    Handle(std::os::windows::io::OwnedHandle),
}

macro_rules! stdio_from {
    ($($t:ty),*) => {$(
        impl From<$t> for ChildStdio {
            fn from(v: $t) -> ChildStdio {
                #[cfg(unix)]
                {
                    ChildStdio::Fd(v.into())
                }
                #[cfg(windows)]
                {
                    ChildStdio::Handle(v.into())
                }
            }
        }
    )*};
}
stdio_from!(std::fs::File, std::io::PipeReader, std::io::PipeWriter);

/// A command for [`Scope::spawn_command`](super::Scope::spawn_command):
/// program, arguments, environment, working directory and standard
/// streams, every one of them honoured on every spawn path.
///
/// On Linux (kernel 5.7+, x86-64 and aarch64) the scope spawns it with
/// `clone3(CLONE_VM | CLONE_VFORK)`, in the cgroup modes with
/// `CLONE_INTO_CGROUP`: the child starts in the cgroup and shares this
/// process's memory until it execs, which costs about what a plain
/// `Command::spawn` does. Elsewhere it becomes a std `Command` and goes
/// the way of [`Scope::spawn`](super::Scope::spawn).
///
/// The program is looked up in `PATH` as `execvp` does (the child's `PATH`
/// if this command sets one, as std does), and is the child's `argv[0]`.
/// The child starts with every signal unblocked and `SIGPIPE` at its
/// default action (or, after
/// [`Relay::restore_in_scope_command`](crate::relay::Relay::restore_in_scope_command),
/// with the signal state from before the relay).
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// # #[cfg(unix)] {
/// use prochandle::{ChildStdio, Scope, ScopeCommand};
///
/// let scope = Scope::new()?;
/// let mut command = ScopeCommand::new("sh");
/// command.args(["-c", "exit 3"]).env("GREETING", "hi").stdout(ChildStdio::Null);
/// let child = scope.spawn_command(&command)?;
/// assert_eq!(child.wait()?.exit_code(), Some(3));
/// # }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ScopeCommand {
    program: OsString,
    args: Vec<OsString>,
    env_clear: bool,
    env: BTreeMap<OsString, Option<OsString>>,
    cwd: Option<PathBuf>,
    stdio: [ChildStdio; 3],
    /// A relay's signal state to give back to the child.
    restore: Option<crate::sys::relay::Restore>,
    /// Start the child as the leader of a new console process group
    /// (`prochandle::windows::ScopeCommandExt`).
    #[cfg(windows)]
    pub(crate) console_group: bool,
}

impl ScopeCommand {
    /// A command that runs `program` with no arguments, this process's
    /// environment and working directory, and its standard streams.
    pub fn new(program: impl AsRef<OsStr>) -> ScopeCommand {
        ScopeCommand {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env_clear: false,
            env: BTreeMap::new(),
            cwd: None,
            stdio: Default::default(),
            restore: None,
            #[cfg(windows)]
            console_group: false,
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut ScopeCommand {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut ScopeCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut ScopeCommand {
        self.env
            .insert(key.as_ref().to_owned(), Some(value.as_ref().to_owned()));
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut ScopeCommand {
        self.env.insert(key.as_ref().to_owned(), None);
        self
    }

    /// Starts the child from an empty environment (variables set after
    /// this are kept; those set before are dropped).
    pub fn env_clear(&mut self) -> &mut ScopeCommand {
        self.env_clear = true;
        self.env.clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut ScopeCommand {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    /// The child's standard input.
    pub fn stdin(&mut self, stdio: impl Into<ChildStdio>) -> &mut ScopeCommand {
        self.stdio[0] = stdio.into();
        self
    }

    /// The child's standard output.
    pub fn stdout(&mut self, stdio: impl Into<ChildStdio>) -> &mut ScopeCommand {
        self.stdio[1] = stdio.into();
        self
    }

    /// The child's standard error.
    pub fn stderr(&mut self, stdio: impl Into<ChildStdio>) -> &mut ScopeCommand {
        self.stdio[2] = stdio.into();
        self
    }

    /// The program.
    pub fn get_program(&self) -> &OsStr {
        &self.program
    }

    /// Gives the child back a relay's signal state (see
    /// [`Relay::restore_in_scope_command`](crate::relay::Relay::restore_in_scope_command)).
    pub(crate) fn restore_signals(&mut self, restore: crate::sys::relay::Restore) {
        self.restore = Some(restore);
    }

    /// The same command as a std `Command`, for the other spawn paths.
    pub(crate) fn to_std(&self) -> std::io::Result<Command> {
        self.spec().std_command()
    }

    /// The command as a mechanism's own spawn reads it
    /// (`ScopeMechanism::spawn_direct`).
    pub(crate) fn spec(&self) -> Spec<'_> {
        fn stdio(s: &ChildStdio) -> Stdio<'_> {
            match s {
                ChildStdio::Inherit => Stdio::Inherit,
                ChildStdio::Null => Stdio::Null,
                #[cfg(unix)]
                ChildStdio::Fd(fd) => Stdio::Given(std::os::fd::AsFd::as_fd(fd)),
                #[cfg(windows)]
                ChildStdio::Handle(h) => Stdio::Given(std::os::windows::io::AsHandle::as_handle(h)),
            }
        }
        Spec {
            program: &self.program,
            args: &self.args,
            env_clear: self.env_clear,
            env: &self.env,
            cwd: self.cwd.as_deref(),
            stdio: self.stdio.each_ref().map(stdio),
            death_signal: None,
            restore: self.restore.as_ref(),
            #[cfg(windows)]
            console_group: self.console_group,
        }
    }
}
