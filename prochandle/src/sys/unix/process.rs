//! The Unix process state machine, one for every Unix OS, over the
//! [`Backend`] seam, in the best of three tiers ([`Pin`]) the backend and
//! the probe allow: a handle (Linux pidfds); a `/proc/<pid>` directory
//! (Linux without usable pidfds), exact for identity and, with
//! `pidfd_send_signal`, for signals; a guarded PID otherwise.
//!
//! # Who may reap, and when
//!
//! Only our own children are ever reaped, and only under `reap_lock`, and
//! the result is stored once in `state`. Every waiter first blocks without
//! reaping (`waitid(WNOWAIT)` or a poll on the handle), then takes the lock
//! and reaps with `WNOHANG`: two waiters can never both reap, and the
//! loser finds the state already stored.
//!
//! In the guarded-PID mode `signal` takes the same lock and checks that the
//! child is not yet reaped before calling `kill`. An unreaped child keeps
//! its PID (a zombie holds it), so under the lock the PID cannot have been
//! handed to someone else: the race of Go's #67642 cannot happen. For a
//! process that is not our child the PID mode can only compare start times
//! before each signal; that check narrows the window to the few
//! microseconds between check and `kill`, but cannot close it (and two
//! processes started in one clock tick look alike to it). The directory
//! tier makes the check exact; the window between check and `kill`
//! remains where `pidfd_send_signal` does not take the directory.

use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::backend::{capabilities, Backend};
use super::errno::{self, Call};
use super::guarded::{self, sigchld_not_ignored};
use super::pin::{self, Pin};
use crate::backoff::FIRST_PAUSE;
use crate::capabilities::{Feature, PinMode};
use crate::error::{Error, ErrorKind, Result};
use crate::state::ProcessState;

mod wait;

/// How the process relates to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    /// Our child: we may reap it, and only we know its full status.
    Child,
    /// Any other process.
    Other,
    /// This very process.
    Current,
}

/// How long to pause after a handle polled readable for a process that has
/// not exited (spurious readiness under ptrace): enough not to spin on a
/// level-triggered poll, short against any real exit.
const SPURIOUS_READINESS_NAP: Duration = FIRST_PAUSE.saturating_mul(5);

/// A process on Unix, in whichever mode the backend `B` and the probe
/// allow: pinned by a handle, or a guarded PID.
pub(crate) struct Process<B: Backend> {
    pid: i32,
    /// What pins the process, in the tier the system allows. Never replaced
    /// or taken while `&self` exists, so borrowing it needs no lock.
    pin: Pin<B::Handle, B::ProcDir>,
    /// Start time at attach, the identity check of the PID mode (and the
    /// re-check after a handle reports readiness).
    start_time: Option<u64>,
    relation: Relation,
    reap_lock: Mutex<()>,
    state: OnceLock<ProcessState>,
}

impl<B: Backend> fmt::Debug for Process<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid)
            .field("pin", &self.pin)
            .field("start_time", &self.start_time)
            .field("relation", &self.relation)
            .field("state", &self.state.get())
            .finish()
    }
}

fn validate_pid(op: &'static str, pid: u32) -> Result<i32> {
    match i32::try_from(pid) {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(Error::invalid_input(
            op,
            format!("{pid} is not a process ID (must be 1..=2^31-1)"),
        )),
    }
}

impl<B: Backend> Process<B> {
    pub(crate) fn open(pid: u32) -> Result<Self> {
        let pid = validate_pid("open", pid)?;
        if pid as u32 == std::process::id() {
            return Self::current();
        }
        Self::attach(pid, Relation::Other)
    }

    pub(crate) fn current() -> Result<Self> {
        Self::attach(std::process::id() as i32, Relation::Current)
    }

    pub(crate) fn from_child(child: &std::process::Child) -> Result<Self> {
        Self::from_child_pid(child.id() as i32)
    }

    /// Holds our unreaped child `pid` (spawned by std or by the scope's
    /// own spawn).
    pub(crate) fn from_child_pid(pid: i32) -> Result<Self> {
        sigchld_not_ignored()?;
        let process = Self::attach(pid, Relation::Child)?;
        // The child is unreaped (std never reaps behind our back), so its PID
        // still names it. If something else in this process reaped it, the
        // PID may already belong to a stranger: refuse rather than guess.
        match process.peek_child_exit(false) {
            Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Err(Error::os_kind(
                ErrorKind::Done,
                "waitid",
                e,
            )
            .with_detail(
                "the child was already reaped elsewhere (a waitpid(-1)?), its PID may be reused",
            )),
            Err(e) => Err(Error::os("waitid", e)),
            Ok(_) => Ok(process),
        }
    }

    pub(crate) fn from_handle(fd: OwnedFd) -> Result<Self> {
        let (pid, handle) = B::adopt_handle(fd)?;
        let relation = if pid as u32 == std::process::id() {
            Relation::Current
        } else {
            Relation::Other
        };
        Ok(Self::assemble(pid, Pin::Handle(handle), None, relation))
    }

    /// Opens `pid` in the tier the system supports and works out whether it
    /// is our child.
    fn attach(pid: i32, relation: Relation) -> Result<Self> {
        match B::pin_mode() {
            PinMode::Handle => {
                let handle = B::open_handle(pid).map_err(|e| {
                    // pidfd_open refuses a thread ID with EINVAL on older
                    // kernels (which also means "in the middle of
                    // exiting") and ENOENT on newer ones (6.18 here): say
                    // which it is before the errno table says "gone".
                    if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOENT)) {
                        if let Err(thread) = B::refuse_thread(pid) {
                            return thread;
                        }
                    }
                    errno::os_error(Call::Open(pid), "pidfd_open", e)
                })?;
                Ok(Self::assemble(pid, Pin::Handle(handle), None, relation))
            }
            PinMode::ProcDir => {
                let (dir, start) = pin::open_dir::<B>(pid)?;
                Ok(Self::assemble(
                    pid,
                    Pin::ProcDir(dir),
                    Some(start),
                    relation,
                ))
            }
            _ => {
                if relation == Relation::Other {
                    B::refuse_thread(pid)?;
                }
                let start = guarded::start_time::<B>("open", pid)?;
                Ok(Self::assemble(pid, Pin::Pid, Some(start), relation))
            }
        }
    }

    /// Builds the `Process` once the process is pinned (handle, directory)
    /// or its start time recorded (PID mode), and works out whether it is
    /// our child.
    fn assemble(
        pid: i32,
        pin: Pin<B::Handle, B::ProcDir>,
        start_time: Option<u64>,
        relation: Relation,
    ) -> Self {
        let mut process = Process {
            pid,
            pin,
            start_time,
            relation,
            reap_lock: Mutex::new(()),
            state: OnceLock::new(),
        };
        if relation == Relation::Other
            && process.peek_child_exit(false).is_ok()
            && process.dir_still_pinned()
        {
            // `open(pid)` of one of our own children (Go's FindProcess does
            // the same): we may reap it.
            process.relation = Relation::Child;
        }
        if process.relation != Relation::Child {
            if let Pin::Handle(handle) = &process.pin {
                // Non-children need the start time to confirm an exit that
                // the handle reports (children are asked with waitid). Read
                // it only now that the handle pins the process, then make
                // sure it was not reaped meanwhile: the PID, and so its
                // facts, could already be someone else's.
                let start = B::stat(pid).ok().flatten().map(|s| s.start_time);
                process.start_time = start.filter(|_| B::handle_alive(handle));
            }
        }
        process
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid as u32
    }

    /// In the directory tier, whether the directory's process still holds
    /// the PID (so a PID answer given meanwhile was about it); `true` in the
    /// other tiers, whose pins are checked elsewhere.
    fn dir_still_pinned(&self) -> bool {
        match &self.pin {
            Pin::ProcDir(dir) => matches!(B::proc_dir_stat(dir), Ok(Some(_))),
            _ => true,
        }
    }

    #[inline]
    pub(crate) fn handle(&self) -> Option<BorrowedFd<'_>> {
        self.pin.handle().map(AsFd::as_fd)
    }

    /// The `/proc/<pid>` directory descriptor, in the middle tier.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn proc_dir(&self) -> Option<BorrowedFd<'_>> {
        self.pin.proc_dir()
    }

    pub(crate) fn into_handle(mut self) -> std::result::Result<OwnedFd, Self> {
        match std::mem::replace(&mut self.pin, Pin::Pid) {
            Pin::Handle(handle) => Ok(handle.into()),
            other => {
                self.pin = other;
                Err(self)
            }
        }
    }

    pub(crate) fn is_child(&self) -> bool {
        self.relation == Relation::Child
    }

    /// The start time read when this `Process` was attached; `None` if the
    /// process was already reaped by then. The identity the Linux
    /// extensions re-check after reading `/proc`.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn start_time(&self) -> Option<u64> {
        self.start_time
    }

    pub(crate) fn signal(&self, sig: i32) -> Result<()> {
        const OP: &str = "signal";
        if self.state.get().is_some() {
            return Err(Error::done(OP));
        }
        // A zombie would accept the signal and ignore it; say Done, as for
        // a reaped one. Exit between this check and the send is harmless:
        // the pin still names the same (dead) process.
        let exact = match &self.pin {
            Pin::Handle(_) => true,
            Pin::ProcDir(_) => capabilities::<B>().is_available(Feature::ProcDirSignal),
            Pin::Pid => false,
        };
        if !exact {
            return self.signal_guarded(sig);
        }
        if self.relation != Relation::Current && self.exited_now()? {
            return Err(Error::done(OP));
        }
        let sent = match &self.pin {
            Pin::Handle(handle) => B::send_signal(handle, sig),
            Pin::ProcDir(dir) => B::proc_dir_signal(dir, sig),
            Pin::Pid => return self.signal_guarded(sig),
        };
        sent.map_err(|e| errno::os_error(Call::Signal, "pidfd_send_signal", e))
    }

    /// The signal by PID: under the reap lock for children (so the PID
    /// cannot be reaped and reused meanwhile), after the identity check of
    /// the tier for everyone (exact through a directory, by start time for
    /// a bare PID).
    fn signal_guarded(&self, sig: i32) -> Result<()> {
        const OP: &str = "kill";
        let _lock = self.reap_lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.state.get().is_some() {
            return Err(Error::done(OP));
        }
        if self.relation != Relation::Current
            && !pin::running_unhandled::<B>(&self.pin, self.pid, self.start_time)?
        {
            return Err(Error::done(OP));
        }
        B::kill(self.pid, sig).map_err(|e| errno::os_error(Call::Signal, OP, e))
    }
}
