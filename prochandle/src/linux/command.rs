//! [`CommandExt`]: what a Linux child is set up with between `fork` and
//! `exec`.

use std::os::fd::{OwnedFd, RawFd};
use std::process::Command;

use super::{private, Namespaces};
use crate::error::Result;
use crate::signal::Signal;
use crate::sys::linux as imp;
use crate::Process;

/// Linux-only settings of a [`Command`]. Sealed: implemented for `Command`
/// only.
pub trait CommandExt: private::Sealed {
    /// Makes the command run in the given namespaces of `process`.
    ///
    /// The join happens in the child, after `fork` and before `exec`: the
    /// kernel lets only a single-threaded process enter a mount or user
    /// namespace, and joining in the caller would move it (and everything
    /// it does later) too. With a pidfd and Linux 5.8+ the child calls
    /// `setns(pidfd, flags)` once, which joins every namespace atomically
    /// at spawn time. Otherwise the `/proc/<pid>/ns/*` files are opened
    /// now, the PID guard is re-checked (so they are this process's), and
    /// the child joins them one by one (user namespace first).
    ///
    /// Things to know:
    /// - [`Namespaces::PID`] places the command's *children* in the PID
    ///   namespace, not the command itself (as `setns(2)` does; `nsenter`
    ///   forks for this).
    /// - [`Namespaces::MOUNT`] sets the working directory to the root of the
    ///   new mount namespace: `current_dir` is applied before the join.
    /// - `uid`/`gid` settings of the `Command` are applied before the join,
    ///   and joining needs `CAP_SYS_ADMIN` (over the target's user
    ///   namespace): `spawn` then fails with `PermissionDenied`.
    /// - Joining one's own user namespace is skipped (the kernel refuses it).
    /// - If the process has exited by spawn time, `spawn` fails (`ESRCH`).
    ///
    /// Errors here (rather than from `spawn`): the process has exited
    /// ([`Done`](crate::ErrorKind::Done)), its `/proc` files cannot be
    /// opened, or an unknown flag.
    ///
    /// ```no_run
    /// use std::process::Command;
    /// use prochandle::linux::{CommandExt, Namespaces};
    /// use prochandle::Process;
    ///
    /// let container = Process::open(4242)?;
    /// let out = Command::new("ip")
    ///     .arg("addr")
    ///     .join_namespaces(&container, Namespaces::NET | Namespaces::UTS)?
    ///     .output()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn join_namespaces(
        &mut self,
        process: &Process,
        namespaces: Namespaces,
    ) -> Result<&mut Command>;

    /// Gives the child `fd` as its descriptor `number` (inherited across
    /// `exec`, unlike every descriptor this crate opens). The `Command`
    /// owns `fd` until it is dropped; drop it after `spawn` so that only
    /// the child keeps the descriptor.
    ///
    /// `fd` is moved to `number` in this process already, close-on-exec,
    /// when that number is free, so that nothing opened for the spawn
    /// itself can take it; the child then only clears close-on-exec.
    /// Otherwise the child `dup2`s it into place just before `exec`. For 0,
    /// 1 and 2, std's `stdin`/`stdout`/`stderr` say the same more plainly
    /// (and win: they are applied earlier).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::Read;
    /// use std::os::unix::net::UnixStream;
    /// use std::process::Command;
    /// use prochandle::linux::CommandExt;
    ///
    /// let (mut ours, theirs) = UnixStream::pair()?;
    /// let mut command = Command::new("sh");
    /// command.args(["-c", "echo hello >&7"]).pass_fd(theirs.into(), 7)?;
    /// let status = command.status()?;
    /// drop(command); // our copy of their end: now only EOF is left
    /// let mut said = String::new();
    /// ours.read_to_string(&mut said)?;
    /// assert!(status.success());
    /// assert_eq!(said, "hello\n");
    /// # Ok(()) }
    /// ```
    fn pass_fd(&mut self, fd: OwnedFd, number: RawFd) -> Result<&mut Command>;

    /// Makes the command start with `SIGPIPE` ignored. std's children
    /// start with it at its default action (the Rust runtime ignores it in
    /// the parent and std undoes that); a wrapper whose own caller ignored
    /// it (see [`sigpipe_ignored_at_start`](super::sigpipe_ignored_at_start)) passes that on this way, as
    /// `execve` would have.
    ///
    /// ```
    /// use std::process::Command;
    /// use prochandle::linux::CommandExt;
    ///
    /// let out = Command::new("grep")
    ///     .args(["SigIgn", "/proc/self/status"])
    ///     .keep_sigpipe_ignored()
    ///     .output()?;
    /// let mask = String::from_utf8_lossy(&out.stdout);
    /// let mask = u64::from_str_radix(mask.trim_start_matches("SigIgn:").trim(), 16)?;
    /// // SIGPIPE is signal 13: bit 12 of the mask.
    /// assert_ne!(mask & (1 << 12), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn keep_sigpipe_ignored(&mut self) -> &mut Command;

    /// Arms the child's parent-death signal (`PR_SET_PDEATHSIG`): the
    /// kernel sends it `signal` when the thread that spawned it ends (a
    /// thread, not the process: spawn from a thread that lives as long as
    /// the command should be held). timeout(1) arms its timeout signal so,
    /// that a killed timeout does not leave its command running untimed.
    ///
    /// Should this process already be gone when the child arms it (it is
    /// then some other process's child, and the signal would never come),
    /// `spawn` fails with `ESRCH` instead of running the command. Signal 0
    /// arms nothing. The setting survives `exec` but not a set-user-ID
    /// one (the kernel clears it).
    ///
    /// ```
    /// use std::process::Command;
    /// use prochandle::linux::CommandExt;
    /// use prochandle::Signal;
    ///
    /// let status = Command::new("true").parent_death_signal(Signal::TERM).status()?;
    /// assert!(status.success());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn parent_death_signal(&mut self, signal: Signal) -> &mut Command;
}

impl CommandExt for Command {
    fn keep_sigpipe_ignored(&mut self) -> &mut Command {
        imp::inherited::keep_ignored(self);
        self
    }

    fn join_namespaces(
        &mut self,
        process: &Process,
        namespaces: Namespaces,
    ) -> Result<&mut Command> {
        imp::namespaces::join_in_child(self, process.sys(), namespaces.bits())?;
        Ok(self)
    }

    fn pass_fd(&mut self, fd: OwnedFd, number: RawFd) -> Result<&mut Command> {
        if number < 0 {
            return Err(crate::Error::invalid_input(
                "pass_fd",
                format!("{number} is not a descriptor number"),
            ));
        }
        imp::pass_fd::pass_fd(self, fd, number).map_err(|e| crate::Error::os("fcntl", e))?;
        Ok(self)
    }

    fn parent_death_signal(&mut self, signal: Signal) -> &mut Command {
        imp::inherited::die_with_parent(self, signal.as_raw());
        self
    }
}
