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
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::backend::{capabilities, Backend, WaitTarget, Waited};
use super::errno::{self, Call};
use super::guarded::{self, sigchld_not_ignored};
use super::pin::{self, Pin};
use crate::backoff::{self, FIRST_PAUSE, REAP_GRACE};
use crate::capabilities::{Feature, PinMode};
use crate::error::{Error, ErrorKind, Result};
use crate::state::{ExitStatus, ProcessState, UnknownReason};
use crate::sys::timeout::remaining;

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
        match capabilities::<B>().pin_mode() {
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

    pub(crate) fn try_wait(&self) -> Result<Option<ProcessState>> {
        if let Some(state) = self.state.get() {
            return Ok(Some(*state));
        }
        match self.relation {
            Relation::Current => Ok(None),
            Relation::Child => self.reap_if_exited(),
            Relation::Other => {
                if self.exited_now()? {
                    Ok(Some(self.nonchild_state(Duration::ZERO)))
                } else {
                    Ok(None)
                }
            }
        }
    }

    /// Waits until the process exits (`Some`) or `deadline` passes
    /// (`None`); without a deadline it returns only on exit.
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> Result<Option<ProcessState>> {
        if let Some(state) = self.state.get() {
            return Ok(Some(*state));
        }
        if self.relation == Relation::Current {
            return crate::sys::self_wait::wait_for_self(deadline);
        }
        loop {
            if self.relation == Relation::Child {
                if let Some(state) = self.reap_if_exited()? {
                    return Ok(Some(state));
                }
            } else if self.exited_now()? {
                let grace = REAP_GRACE.min(remaining(deadline).unwrap_or(REAP_GRACE));
                return Ok(Some(self.nonchild_state(grace)));
            }
            if !self.block_until_exit(deadline)? {
                return Ok(None);
            }
        }
    }

    /// Sleeps until the process has (probably) exited or the deadline
    /// passes, without reaping. `false` means the deadline passed. A `true`
    /// may be spurious (readiness under ptrace): callers re-check.
    fn block_until_exit(&self, deadline: Option<Instant>) -> Result<bool> {
        if let Pin::Handle(handle) = &self.pin {
            let ready = B::poll_exit(handle, deadline).map_err(|e| Error::os("poll", e))?;
            if ready && !self.exited_now()? {
                // Readable yet not exited: don't spin on a level-triggered
                // spurious readiness.
                std::thread::sleep(SPURIOUS_READINESS_NAP);
            }
            return Ok(ready);
        }
        if self.relation == Relation::Child && deadline.is_none() {
            // Without a deadline, a child can be awaited by blocking in
            // waitid(WNOWAIT): no polling.
            return match self.peek_child_exit(true) {
                Ok(_) => Ok(true),
                Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Ok(true),
                Err(e) => Err(Error::os("waitid", e)),
            };
        }
        B::sleep_until_exit_guarded(self.pid, deadline, || self.exited_now())
    }

    /// Whether the process has exited, without reaping it: the public
    /// `has_exited`. A child is asked under the reap lock, so that a PID
    /// target cannot be reaped (and its PID reused) by another thread's
    /// wait while `waitid(WNOWAIT)` looks at it; once reaped, the stored
    /// state answers.
    pub(crate) fn has_exited(&self) -> Result<bool> {
        if self.relation == Relation::Child {
            let _lock = self.reap_lock.lock().unwrap_or_else(|e| e.into_inner());
            return self.exited_now();
        }
        self.exited_now()
    }

    /// Whether the process has exited, without reaping it.
    fn exited_now(&self) -> Result<bool> {
        if self.state.get().is_some() {
            return Ok(true);
        }
        match self.relation {
            Relation::Current => Ok(false),
            Relation::Child => match self.peek_child_exit(false) {
                Ok(exited) => Ok(exited),
                // Reaped by someone else: certainly exited.
                Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Ok(true),
                Err(e) => Err(Error::os("waitid", e)),
            },
            Relation::Other => {
                if let Pin::Handle(handle) = &self.pin {
                    let readable = B::poll_exit(handle, Some(Instant::now()))
                        .map_err(|e| Error::os("poll", e))?;
                    // Reaped (signal 0 through the handle fails): exited, even
                    // if a newcomer of the same clock tick holds the PID. Else
                    // confirm by identity below: ptrace can wake a poll early.
                    if !readable || !B::handle_alive(handle) {
                        return Ok(readable);
                    }
                }
                Ok(!pin::running_unhandled::<B>(
                    &self.pin,
                    self.pid,
                    self.start_time,
                )?)
            }
        }
    }

    fn wait_target(&self) -> WaitTarget<'_, B::Handle> {
        match &self.pin {
            Pin::Handle(handle) => WaitTarget::Handle(handle),
            _ => WaitTarget::Pid(self.pid),
        }
    }

    /// `waitid(WEXITED | WNOWAIT)`: has our child exited? Never reaps.
    fn peek_child_exit(&self, block: bool) -> io::Result<bool> {
        let flags = libc::WNOWAIT | if block { 0 } else { libc::WNOHANG };
        B::waitid(self.wait_target(), flags).map(|w| w.is_some())
    }

    /// Reaps our child if it has exited, storing its state; the one place
    /// that reaps.
    fn reap_if_exited(&self) -> Result<Option<ProcessState>> {
        let _lock = self.reap_lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = self.state.get() {
            return Ok(Some(*state));
        }
        let state = match B::waitid(self.wait_target(), libc::WNOHANG) {
            Ok(None) => return Ok(None),
            Ok(Some(Waited { status, usage })) => {
                ProcessState::new(self.pid as u32, status, Some(usage))
            }
            Err(e) if e.raw_os_error() == Some(libc::ECHILD) => {
                let status = self
                    .exit_status_from_kernel()
                    .unwrap_or(ExitStatus::Unknown(UnknownReason::ReapedElsewhere));
                ProcessState::new(self.pid as u32, status, None)
            }
            Err(e) => return Err(Error::os("waitid", e)),
        };
        let state = self.with_kernel_coredump(state);
        Ok(Some(*self.state.get_or_init(|| state)))
    }

    /// The state of a non-child that has exited. Its status is known only
    /// where the kernel records it for everyone (`PIDFD_INFO_EXIT`), and only
    /// once its parent has reaped it, so wait up to `grace` for that.
    fn nonchild_state(&self, grace: Duration) -> ProcessState {
        if !self.can_read_exit_status() {
            return self.cache_state(ExitStatus::Unknown(UnknownReason::NotOurChild));
        }
        let give_up = Instant::now() + grace;
        let found = backoff::poll_until(Some(give_up), || {
            Ok::<_, std::convert::Infallible>(self.exit_status_from_kernel())
        });
        match found {
            Ok(Some(status)) => self.cache_state(status),
            // Not cached: a later wait may still learn the status.
            Ok(None) => ProcessState::new(
                self.pid as u32,
                ExitStatus::Unknown(UnknownReason::NotReapedYet),
                None,
            ),
        }
    }

    fn cache_state(&self, status: ExitStatus) -> ProcessState {
        let state = self.with_kernel_coredump(ProcessState::new(self.pid as u32, status, None));
        *self.state.get_or_init(|| state)
    }

    /// `state` with the kernel's core dump record, for a process that died
    /// by a signal, where the kernel keeps one (`PIDFD_INFO_COREDUMP`).
    fn with_kernel_coredump(&self, state: ProcessState) -> ProcessState {
        if state.signal().is_none() || !capabilities::<B>().is_available(Feature::PidfdInfoCoredump)
        {
            return state;
        }
        let dump = self.pin.handle().and_then(B::kernel_coredump);
        state.with_coredump(dump)
    }

    fn can_read_exit_status(&self) -> bool {
        self.pin.handle().is_some() && capabilities::<B>().is_available(Feature::PidfdInfoExit)
    }

    /// The status the kernel kept at reaping time, where it keeps one.
    fn exit_status_from_kernel(&self) -> Option<ExitStatus> {
        if !self.can_read_exit_status() {
            return None;
        }
        self.pin.handle().and_then(B::kernel_exit_status)
    }
}
