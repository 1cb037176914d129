//! [`Reaped`]: the one guard that ends what a test started.
//!
//! It owns a process (a `prochandle::Process`, a `std::process::Child`, or
//! anything else that implements [`Reap`]) and, when dropped, kills it and
//! waits until it is gone. Dropping happens on every way out of a test, a
//! failed assertion (a panic) included, so no run leaves processes behind.

use std::ops::{Deref, DerefMut};
use std::process::{Child, Command, Stdio};

use prochandle::Process;

use crate::commands::{sleeper, PATIENCE};

/// What [`Reaped`] can end.
///
/// Ending is split in two steps so that a group ([`Vec`]) is killed at once
/// and then waited for, instead of one member at a time.
pub trait Reap {
    /// Kills it if it still runs. Errors (it is gone already) are ignored.
    fn stop(&mut self);
    /// Waits until it is gone: reaped if it is our child, exited otherwise.
    fn reap(&mut self);
}

impl Reap for Process {
    fn stop(&mut self) {
        // Refused with `Done` once it has exited: a handle (or guarded PID)
        // never reaches another process that got its PID.
        let _ = self.kill();
    }

    fn reap(&mut self) {
        let _ = self.wait_timeout(PATIENCE);
    }
}

impl Reap for Child {
    fn stop(&mut self) {
        // std signals the bare PID: only while it is still this child's.
        // `try_wait` answers `None` only for a child nobody has reaped
        // (std remembers its own reaping; anybody else's gives ECHILD),
        // and until we reap it, its PID stays its own.
        if let Ok(None) = self.try_wait() {
            let _ = self.kill();
        }
    }

    fn reap(&mut self) {
        // Never signals; gives the remembered status (or ECHILD) if it is
        // reaped already.
        let _ = self.wait();
    }
}

/// Whether `child` has not been reaped yet (running, or a zombie), asked
/// with `WNOWAIT`, which reaps nothing. A zombie leader keeps its group ID
/// reserved, so its group may still be signalled.
#[cfg(unix)]
fn still_ours(child: &Child) -> bool {
    // SAFETY: siginfo_t is plain data; all zeroes is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
    // SAFETY: waitid writes only into `info`, which outlives the call.
    let ret = unsafe { libc::waitid(libc::P_PID, child.id() as libc::id_t, &mut info, flags) };
    ret == 0
}

impl<T: Reap> Reap for Vec<T> {
    fn stop(&mut self) {
        // The last added first: they are usually the deepest processes.
        self.iter_mut().rev().for_each(Reap::stop);
    }

    fn reap(&mut self) {
        self.iter_mut().rev().for_each(Reap::reap);
    }
}

/// Holds something a test started and, on drop (also when the test
/// panics), kills it and waits until it is gone.
///
/// It dereferences to what it holds, so a `Reaped<Process>` is used like
/// the `Process`.
///
/// ```
/// use prochandle_test_support::Reaped;
///
/// let sleeper = Reaped::sleeping(30);
/// assert!(sleeper.try_wait()?.is_none(), "still running");
/// // Killed and reaped here, as it would be by a panic above.
/// drop(sleeper);
/// # Ok::<(), prochandle::Error>(())
/// ```
pub struct Reaped<P: Reap> {
    /// `None` only once handed back by [`Reaped::into_inner`].
    inner: Option<P>,
    /// Run before `stop`: kills the process group the process leads.
    group: Option<fn(&mut P)>,
}

impl<P: Reap> Reaped<P> {
    /// Guards `inner`.
    pub fn new(inner: P) -> Self {
        Reaped {
            inner: Some(inner),
            group: None,
        }
    }

    /// Hands back what it holds, no longer guarded (for a test that gives
    /// the process to something that takes ownership, such as a watcher).
    pub fn into_inner(mut self) -> P {
        self.inner.take().expect("guarded until now")
    }
}

impl Reaped<Process> {
    /// Starts `cmd` (stdin from `/dev/null`) as a guarded `Process`.
    pub fn spawn(mut cmd: Command) -> Self {
        cmd.stdin(Stdio::null());
        Reaped::new(Process::spawn(&mut cmd).expect("spawn"))
    }

    /// A guarded [`sleeper`] of `secs` seconds.
    pub fn sleeping(secs: u32) -> Self {
        Reaped::spawn(sleeper(secs))
    }
}

impl Reaped<Child> {
    /// Starts `command` as a guarded child.
    pub fn child(command: &mut Command) -> Self {
        Reaped::new(command.spawn().expect("spawn test process"))
    }
}

/// A process that may lead a process group, which [`Reaped::leading_group`]
/// kills as a whole.
pub trait KillGroup: Reap {
    /// Kills the group it leads, unless it is reaped already (its group ID
    /// could then be someone else's).
    fn kill_group(&mut self);
}

#[cfg(target_os = "linux")]
impl KillGroup for Process {
    fn kill_group(&mut self) {
        use prochandle::linux::ProcessExt;
        // Refused (Done) once the leader is reaped.
        let _ = self.signal_process_group(prochandle::Signal::KILL);
    }
}

#[cfg(unix)]
impl KillGroup for Child {
    fn kill_group(&mut self) {
        // Asked before anything reaps the leader: the guard does that only
        // after this, and a test that waits for a group leader itself
        // guards it with `Reaped::new`.
        if still_ours(self) {
            // SAFETY: kill takes two integers. The leader is not reaped, so
            // its group ID cannot have been reused: this reaches its group
            // only.
            unsafe { libc::kill(-(self.id() as libc::pid_t), libc::SIGKILL) };
        }
    }
}

impl<P: KillGroup> Reaped<P> {
    /// Guards `leader`, which leads its own process group: on drop the
    /// whole group is killed first, so that what it started goes too.
    pub fn leading_group(leader: P) -> Self {
        Reaped {
            inner: Some(leader),
            group: Some(P::kill_group),
        }
    }
}

impl<P: Reap> Deref for Reaped<P> {
    type Target = P;

    fn deref(&self) -> &P {
        self.inner.as_ref().expect("guarded until dropped")
    }
}

impl<P: Reap> DerefMut for Reaped<P> {
    fn deref_mut(&mut self) -> &mut P {
        self.inner.as_mut().expect("guarded until dropped")
    }
}

impl<P: Reap> Drop for Reaped<P> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.as_mut() else {
            return;
        };
        if let Some(kill_group) = self.group {
            kill_group(inner);
        }
        inner.stop();
        inner.reap();
    }
}
