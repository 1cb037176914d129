//! The Unix process state machine, shared by the pidfd mode (Linux) and the
//! guarded-PID mode (Linux without pidfds, and the other Unixes).
//!
//! # Who may reap, and when
//!
//! Only our own children are ever reaped, and only under `reap_lock`, and
//! the result is stored once in `state`. Every waiter first blocks without
//! reaping (`waitid(WNOWAIT)` or `poll` on the pidfd), then takes the lock
//! and reaps with `WNOHANG`: two waiters can never both reap, and the
//! loser finds the state already stored.
//!
//! In the guarded-PID mode `signal` takes the same lock and checks that the
//! child is not yet reaped before calling `kill`. An unreaped child keeps
//! its PID (a zombie holds it), so under the lock the PID cannot have been
//! handed to someone else: the race of Go's #67642 cannot happen. For a
//! process that is not our child the PID mode can only compare start times
//! before each signal; that check narrows the window to the few
//! microseconds between check and `kill`, but cannot close it.

#[cfg(not(target_os = "linux"))]
mod bsd;
#[cfg(target_os = "linux")]
pub(crate) mod linux;

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

#[cfg(target_os = "linux")]
use linux as os;
#[cfg(not(target_os = "linux"))]
use bsd as os;

#[cfg(target_os = "linux")]
use linux::syscalls::{self, WaitTarget, Waited};
#[cfg(not(target_os = "linux"))]
use bsd::{WaitTarget, Waited};

use crate::capabilities::{capabilities, Feature};
use crate::error::{Error, ErrorKind, Result};
use crate::state::{ExitStatus, ProcessState, UnknownReason};

pub(crate) use os::probe;

/// The owned handle type on Unix.
pub(crate) type OwnedHandle = OwnedFd;
/// The borrowed handle type on Unix.
pub(crate) type BorrowedHandle<'a> = BorrowedFd<'a>;

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

#[derive(Debug)]
pub(crate) struct Process {
    pid: i32,
    /// The pidfd, when the system gives them. Never replaced or taken while
    /// `&self` exists, so borrowing it needs no lock.
    pidfd: Option<OwnedFd>,
    /// Start time at attach, the identity check of the PID mode (and the
    /// re-check after a pidfd reports readiness).
    start_time: Option<u64>,
    relation: Relation,
    reap_lock: Mutex<()>,
    state: OnceLock<ProcessState>,
}

/// Backoff bounds for the waits that can only poll (guarded-PID mode with a
/// deadline, or a non-child without a pidfd).
const POLL_MIN: Duration = Duration::from_millis(1);
const POLL_MAX: Duration = Duration::from_millis(50);

/// How long a non-child's exit status is awaited after it exits, for its
/// parent to reap it (Linux records the status only then).
const REAP_GRACE: Duration = Duration::from_millis(250);

fn use_pidfds() -> bool {
    capabilities().handles()
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

impl Process {
    pub(crate) fn open(pid: u32) -> Result<Self> {
        let pid = validate_pid("open", pid)?;
        if pid as u32 == std::process::id() {
            return Self::current();
        }
        Self::attach(pid, Relation::Other, "pidfd_open")
    }

    pub(crate) fn current() -> Result<Self> {
        let pid = std::process::id() as i32;
        Self::attach(pid, Relation::Current, "pidfd_open")
    }

    pub(crate) fn from_child(child: &std::process::Child) -> Result<Self> {
        sigchld_not_ignored()?;
        let pid = child.id() as i32;
        let process = Self::attach(pid, Relation::Child, "pidfd_open")?;
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

    /// Opens `pid` in the mode the system supports and works out whether it
    /// is our child.
    fn attach(pid: i32, relation: Relation, op: &'static str) -> Result<Self> {
        if use_pidfds() {
            #[cfg(target_os = "linux")]
            {
                let fd = os::pidfd_open(pid).map_err(|e| open_error(op, pid, e))?;
                return Ok(Self::assemble(pid, Some(fd), None, relation));
            }
        }
        let start = guarded_start_time(op, pid)?;
        Ok(Self::assemble(pid, None, Some(start), relation))
    }

    /// Builds the `Process` once the process is pinned (pidfd) or its start
    /// time recorded (PID mode), and works out whether it is our child.
    fn assemble(
        pid: i32,
        pidfd: Option<OwnedFd>,
        start_time: Option<u64>,
        relation: Relation,
    ) -> Self {
        let mut process = Process {
            pid,
            pidfd,
            start_time,
            relation,
            reap_lock: Mutex::new(()),
            state: OnceLock::new(),
        };
        if relation == Relation::Other && process.peek_child_exit(false).is_ok() {
            // `open(pid)` of one of our own children (Go's FindProcess does
            // the same): we may reap it.
            process.relation = Relation::Child;
        }
        #[cfg(target_os = "linux")]
        if process.relation != Relation::Child {
            if let Some(fd) = &process.pidfd {
                // Non-children need the start time to confirm an exit that
                // the pidfd reports (children are asked with waitid). Read it
                // only now that the pidfd pins the process, then make sure it
                // was not reaped meanwhile: the PID, and so the /proc entry,
                // could already be someone else's.
                let start = os::start_time(pid);
                let alive = syscalls::pidfd_exists(fd.as_fd(), 0);
                process.start_time = if alive { start } else { None };
            }
        }
        process
    }

    #[cfg(target_os = "linux")]
    pub(crate) fn from_handle(fd: OwnedFd) -> Result<Self> {
        use syscalls::{pidfd_get_info, PIDFD_INFO_PID};
        const OP: &str = "from_handle";
        // A descriptor that is not open came from a caller's bug. Say so, and
        // forget it rather than close it: by the time we would, the number
        // may name another file of this process (and std aborts on closing
        // a closed `OwnedFd` in debug builds).
        // SAFETY: F_GETFD only reads the descriptor flags.
        if unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&fd), libc::F_GETFD) } == -1 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EBADF) {
                std::mem::forget(fd);
                return Err(
                    Error::os_kind(ErrorKind::InvalidInput, "fcntl(F_GETFD)", err)
                        .with_detail("the descriptor handed to from_handle is not open"),
                );
            }
        }
        if !use_pidfds() {
            return Err(Error::unsupported(
                OP,
                "pidfds are not usable here (old kernel, sandbox, or PROCHANDLE_FORCE_PID=1)",
            ));
        }
        let pid = if capabilities().is_available(Feature::PidfdGetInfo) {
            match pidfd_get_info(fd.as_fd(), PIDFD_INFO_PID) {
                Ok(info) => info.pid as i32,
                Err(e) => {
                    return Err(match e.raw_os_error() {
                        Some(libc::ESRCH) => {
                            Error::os_kind(ErrorKind::Done, "ioctl(PIDFD_GET_INFO)", e)
                                .with_detail("the pidfd's process has already been reaped")
                        }
                        Some(libc::ENOTTY) | Some(libc::EINVAL) => {
                            Error::os_kind(ErrorKind::InvalidInput, "ioctl(PIDFD_GET_INFO)", e)
                                .with_detail("the descriptor is not a pidfd")
                        }
                        _ => Error::os("ioctl(PIDFD_GET_INFO)", e),
                    })
                }
            }
        } else {
            match os::fdinfo_pid(fd.as_fd()).map_err(|e| Error::os("read fdinfo", e))? {
                None => return Err(Error::invalid_input(OP, "the descriptor is not a pidfd")),
                Some(-1) => {
                    return Err(Error::new(ErrorKind::Done, OP)
                        .with_detail("the pidfd's process has already been reaped"))
                }
                Some(0) => {
                    return Err(Error::unsupported(
                        OP,
                        "the pidfd's process is in a PID namespace this process cannot see",
                    ))
                }
                Some(pid) => pid,
            }
        };
        if pid == 0 {
            return Err(Error::unsupported(
                OP,
                "the pidfd's process is in a PID namespace this process cannot see",
            ));
        }
        let relation = if pid as u32 == std::process::id() {
            Relation::Current
        } else {
            Relation::Other
        };
        Ok(Self::assemble(pid, Some(fd), None, relation))
    }

    #[cfg(not(target_os = "linux"))]
    pub(crate) fn from_handle(fd: OwnedFd) -> Result<Self> {
        drop(fd);
        Err(Error::unsupported(
            "from_handle",
            "this OS has no process handles",
        ))
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid as u32
    }

    #[inline]
    pub(crate) fn handle(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(AsFd::as_fd)
    }

    pub(crate) fn into_handle(mut self) -> std::result::Result<OwnedFd, Self> {
        match self.pidfd.take() {
            Some(fd) => Ok(fd),
            None => Err(self),
        }
    }

    pub(crate) fn is_child(&self) -> bool {
        self.relation == Relation::Child
    }

    /// The start time (clock ticks since boot) read when this `Process` was
    /// attached; `None` if the process was already reaped by then. The
    /// identity the Linux extensions re-check after reading `/proc`.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn start_time(&self) -> Option<u64> {
        self.start_time
    }

    pub(crate) fn signal(&self, sig: i32) -> Result<()> {
        const OP: &str = "signal";
        if self.state.get().is_some() {
            return Err(Error::done(OP));
        }
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.pidfd {
            // A zombie would accept the signal and ignore it; say Done, as
            // for a reaped one. Exit between this check and the send is
            // harmless: the pidfd still names the same (dead) process.
            if self.relation != Relation::Current && self.exited_now()? {
                return Err(Error::done(OP));
            }
            return syscalls::pidfd_send_signal(fd.as_fd(), sig, 0)
                .map_err(|e| signal_error("pidfd_send_signal", e));
        }
        self.signal_guarded(sig)
    }

    /// The guarded-PID signal: under the reap lock for children (so the PID
    /// cannot be reaped and reused meanwhile), after a start-time check for
    /// everyone.
    fn signal_guarded(&self, sig: i32) -> Result<()> {
        const OP: &str = "kill";
        let _lock = self.reap_lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.state.get().is_some() {
            return Err(Error::done(OP));
        }
        if self.relation != Relation::Current {
            let same = match self.start_time {
                Some(start) => still_same(self.pid, start)?,
                None => false,
            };
            if !same {
                return Err(Error::done(OP));
            }
        }
        // SAFETY: kill takes two integers and touches no memory.
        let ret = unsafe { libc::kill(self.pid, sig) };
        if ret == 0 {
            Ok(())
        } else {
            Err(signal_error(OP, io::Error::last_os_error()))
        }
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
            return super::wait_for_self(deadline);
        }
        loop {
            if self.relation == Relation::Child {
                if let Some(state) = self.reap_if_exited()? {
                    return Ok(Some(state));
                }
            } else if self.exited_now()? {
                let grace = REAP_GRACE.min(
                    deadline.map_or(REAP_GRACE, |d| d.saturating_duration_since(Instant::now())),
                );
                return Ok(Some(self.nonchild_state(grace)));
            }
            if !self.block_until_exit(deadline)? {
                return Ok(None);
            }
        }
    }

    /// Sleeps until the process has (probably) exited or the deadline
    /// passes, without reaping. `false` means the deadline passed. A `true`
    /// may be spurious (pidfd readiness under ptrace): callers re-check.
    fn block_until_exit(&self, deadline: Option<Instant>) -> Result<bool> {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.pidfd {
            let ready = os::poll_pidfd(fd.as_fd(), deadline).map_err(|e| Error::os("poll", e))?;
            if ready && !self.exited_now()? {
                // Readable yet not exited: don't spin on a level-triggered
                // spurious readiness.
                std::thread::sleep(POLL_MIN * 5);
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
        os::block_until_exit_guarded(self.pid, self.start_time, deadline, || self.exited_now())
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
                #[cfg(target_os = "linux")]
                if let Some(fd) = &self.pidfd {
                    let readable = os::poll_pidfd(fd.as_fd(), Some(Instant::now()))
                        .map_err(|e| Error::os("poll", e))?;
                    if !readable {
                        return Ok(false);
                    }
                    // Confirm through the identity check: readiness can be
                    // spurious under ptrace. Once reaped the PID may be
                    // reused, but then the start time differs.
                    return Ok(match self.start_time {
                        Some(start) => !still_same(self.pid, start)?,
                        None => true,
                    });
                }
                Ok(match self.start_time {
                    Some(start) => !still_same(self.pid, start)?,
                    None => true,
                })
            }
        }
    }

    fn wait_target(&self) -> WaitTarget<'_> {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.pidfd {
            return WaitTarget::PidFd(fd.as_fd());
        }
        WaitTarget::Pid(self.pid)
    }

    /// `waitid(WEXITED | WNOWAIT)`: has our child exited? Never reaps.
    fn peek_child_exit(&self, block: bool) -> io::Result<bool> {
        let flags = libc::WNOWAIT | if block { 0 } else { libc::WNOHANG };
        os::waitid(self.wait_target(), flags).map(|w| w.is_some())
    }

    /// Reaps our child if it has exited, storing its state; the one place
    /// that reaps.
    fn reap_if_exited(&self) -> Result<Option<ProcessState>> {
        let _lock = self.reap_lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = self.state.get() {
            return Ok(Some(*state));
        }
        let state = match os::waitid(self.wait_target(), libc::WNOHANG) {
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
        Ok(Some(*self.state.get_or_init(|| state)))
    }

    /// The state of a non-child that has exited. Its status is known only
    /// where the kernel records it for everyone (`PIDFD_INFO_EXIT`), and only
    /// once its parent has reaped it, so wait up to `grace` for that.
    fn nonchild_state(&self, grace: Duration) -> ProcessState {
        let give_up = Instant::now() + grace;
        let mut pause = POLL_MIN;
        let status = loop {
            if !self.can_read_exit_status() {
                break ExitStatus::Unknown(UnknownReason::NotOurChild);
            }
            if let Some(status) = self.exit_status_from_kernel() {
                break status;
            }
            let now = Instant::now();
            if now >= give_up {
                // Not cached: a later wait may still learn the status.
                return ProcessState::new(
                    self.pid as u32,
                    ExitStatus::Unknown(UnknownReason::NotReapedYet),
                    None,
                );
            }
            std::thread::sleep(pause.min(give_up - now));
            pause = (pause * 2).min(POLL_MAX);
        };
        *self
            .state
            .get_or_init(|| ProcessState::new(self.pid as u32, status, None))
    }

    fn can_read_exit_status(&self) -> bool {
        self.pidfd.is_some() && capabilities().is_available(Feature::PidfdInfoExit)
    }

    /// `PIDFD_INFO_EXIT`: the status the kernel kept at reaping time.
    fn exit_status_from_kernel(&self) -> Option<ExitStatus> {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.pidfd {
            if capabilities().is_available(Feature::PidfdInfoExit) {
                let info = syscalls::pidfd_get_info(fd.as_fd(), syscalls::PIDFD_INFO_EXIT).ok()?;
                return syscalls::exit_status_from_info(&info);
            }
        }
        None
    }
}

/// The start time that guards a PID, read when attaching without a pidfd.
/// Only a missing process is `NotFound`: failing to read `/proc` (out of
/// descriptors, say) must not pass for "no such process".
fn guarded_start_time(op: &'static str, pid: i32) -> Result<u64> {
    #[cfg(target_os = "linux")]
    {
        match linux::procfs::read_stat(pid) {
            Ok(stat) => Ok(stat.start_time),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::not_found(op, pid.into())),
            Err(e) => Err(open_error("read /proc/<pid>/stat", pid, e)),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        os::start_time(pid).ok_or_else(|| Error::not_found(op, pid.into()))
    }
}

/// The identity check of the guarded-PID mode: is `pid` still the process
/// that started at `start`, and not a zombie? An unreadable `/proc` is an
/// error, never "it exited": that would make `signal` say `Done` and a wait
/// report an exit for a process that is alive.
fn still_same(pid: i32, start: u64) -> Result<bool> {
    #[cfg(target_os = "linux")]
    {
        match linux::procfs::read_stat(pid) {
            Ok(stat) => Ok(stat.start_time == start && !matches!(stat.state, b'Z' | b'X' | b'x')),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(open_error("read /proc/<pid>/stat", pid, e)),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        Ok(os::alive_as(pid, start))
    }
}

#[cfg(target_os = "linux")]
fn open_error(op: &'static str, pid: i32, e: io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ESRCH) => Error::not_found(op, pid.into()),
        Some(libc::EMFILE) | Some(libc::ENFILE) => crate::fd_limit::out_of_descriptors(op, e),
        _ => Error::os(op, e),
    }
}

fn signal_error(op: &'static str, e: io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ESRCH) => Error::os_kind(ErrorKind::Done, op, e),
        Some(libc::EINVAL) => Error::os_kind(ErrorKind::InvalidInput, op, e)
            .with_detail("not a valid signal number on this system"),
        Some(libc::EPERM) => Error::os_kind(ErrorKind::PermissionDenied, op, e)
            .with_detail("no permission to signal this process (different user?)"),
        _ => Error::os(op, e),
    }
}

/// With `SIGCHLD` set to `SIG_IGN`, or `SA_NOCLDWAIT`, the kernel reaps
/// children the moment they exit, and their PIDs are free for reuse at once:
/// no handle opened from a PID afterwards can be trusted to name our child.
fn sigchld_not_ignored() -> Result<()> {
    let mut old = std::mem::MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only reads the current disposition into the
    // zeroed buffer.
    let ret = unsafe { libc::sigaction(libc::SIGCHLD, std::ptr::null(), old.as_mut_ptr()) };
    if ret != 0 {
        return Err(Error::os("sigaction", io::Error::last_os_error()));
    }
    // SAFETY: zeroed, and filled by the kernel on success.
    let old = unsafe { old.assume_init() };
    if old.sa_sigaction == libc::SIG_IGN || old.sa_flags & libc::SA_NOCLDWAIT != 0 {
        return Err(Error::unsupported(
            "from_child",
            "SIGCHLD is ignored (SIG_IGN or SA_NOCLDWAIT): the kernel reaps children at once, \
             so a child's PID may already belong to another process",
        ));
    }
    Ok(())
}

/// Re-checks `exited_now` with exponential backoff (1 ms doubling to 50 ms)
/// until it says yes or `deadline` passes: the wait of last resort, for a
/// process we hold no handle to and cannot block on.
pub(crate) fn poll_with_backoff(
    deadline: Option<Instant>,
    exited_now: impl Fn() -> Result<bool>,
) -> Result<bool> {
    let mut pause = POLL_MIN;
    loop {
        if exited_now()? {
            return Ok(true);
        }
        let now = Instant::now();
        let nap = match deadline {
            Some(d) if now >= d => return Ok(false),
            Some(d) => pause.min(d - now),
            None => pause,
        };
        std::thread::sleep(nap);
        pause = (pause * 2).min(POLL_MAX);
    }
}
