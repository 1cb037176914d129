//! The seam between the Unix state machine and each Unix OS.
//!
//! [`Backend`] lists everything the state machine in `process.rs` asks of
//! an OS, and nothing else: the compiler checks each backend (`linux/`,
//! `bsd/`) against it, so a backend cannot drift by a misspelt name or a
//! missing function. A new Unix OS is one more `impl Backend`; a new
//! kernel feature that changes how a process is pinned or awaited is a new
//! trait item (or a new [`Backend::Handle`]), never a `cfg` in the state
//! machine.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::OnceLock;
use std::time::Instant;

use super::guarded;
use crate::backoff;
use crate::capabilities::{Capabilities, PinMode};
use crate::error::Result;
use crate::state::{Coredump, ExitStatus, ResourceUsage};

/// What a Unix OS gives the state machine.
pub(crate) trait Backend {
    /// What pins one process for good: a pidfd on Linux. On an OS without
    /// process handles this is [`NoHandle`], which has no values, so every
    /// handle path is dead code the compiler can prove unreachable.
    type Handle: AsFd + Into<OwnedFd> + fmt::Debug + Send + Sync + 'static;

    /// The middle tier's pin, for where handles are refused: a
    /// `/proc/<pid>` directory descriptor on Linux, which stops answering
    /// once its process is reaped. [`NoHandle`] where the OS has none.
    type ProcDir: AsFd + fmt::Debug + Send + Sync + 'static;

    /// Probes what this system offers (run once, cached by `sys`).
    fn probe() -> Capabilities;

    /// The probe's report, probed on the first call and then cached for
    /// the life of the process. There is one OS backend per build, so one
    /// cache; the scripted backend of the unit tests answers with its own
    /// report instead, and must not fill the OS backend's cache.
    fn capabilities() -> &'static Capabilities {
        static CAPS: OnceLock<Capabilities> = OnceLock::new();
        CAPS.get_or_init(Self::probe)
    }

    /// The tier every `Process` of this run uses. A backend may answer
    /// from a quick check of the calls a handle rests on (the same checks
    /// the full probe makes), so that a command that only spawns and waits
    /// (`run`) does not pay for probing features it never uses.
    fn pin_mode() -> PinMode {
        Self::capabilities().pin_mode()
    }

    /// Opens a handle on `pid`. Called only when the probe says handles
    /// work.
    fn open_handle(pid: i32) -> io::Result<Self::Handle>;

    /// Takes over a handle from the caller: the PID it names, with the
    /// handle typed for this backend. Errors say why it cannot be used.
    fn adopt_handle(fd: OwnedFd) -> Result<(i32, Self::Handle)>;

    /// Opens the middle tier's pin on `pid`, refusing a thread ID. Called
    /// only when the probe says the tier works.
    fn open_proc_dir(pid: i32) -> Result<Self::ProcDir>;

    /// The identity facts read through `dir`: `Ok(None)` once its process
    /// has been reaped (never another process's facts).
    fn proc_dir_stat(dir: &Self::ProcDir) -> io::Result<Option<Stat>>;

    /// Sends `sig` through `dir` (`pidfd_send_signal`): to exactly that
    /// process or nobody. Called only when the probe says it works.
    fn proc_dir_signal(dir: &Self::ProcDir, sig: i32) -> io::Result<()>;

    /// Refuses `pid` with `InvalidInput` if it names a thread of another
    /// process rather than a process; `Ok` when it cannot tell.
    fn refuse_thread(pid: i32) -> Result<()>;

    /// `kill(2)`: the signal by PID, for the tiers whose pin cannot carry
    /// it. Reaches whoever holds `pid` now.
    fn kill(pid: i32, sig: i32) -> io::Result<()> {
        guarded::kill(pid, sig)
    }

    /// Whether the handle's process has not been reaped yet (signal 0).
    fn handle_alive(handle: &Self::Handle) -> bool;

    /// Sends `sig` through the handle: to exactly that process or nobody.
    fn send_signal(handle: &Self::Handle, sig: i32) -> io::Result<()>;

    /// Sleeps until the handle reports an exit or `deadline` passes;
    /// `Ok(true)` on readiness (which may be spurious under ptrace).
    fn poll_exit(handle: &Self::Handle, deadline: Option<Instant>) -> io::Result<bool>;

    /// The exit status the kernel keeps for any process after its reaping,
    /// where it does (`PIDFD_INFO_EXIT`).
    fn kernel_exit_status(handle: &Self::Handle) -> Option<ExitStatus>;

    /// What the kernel recorded about a core dump of the handle's process,
    /// where it does (`PIDFD_INFO_COREDUMP`).
    fn kernel_coredump(handle: &Self::Handle) -> Option<Coredump>;

    /// The identity facts of `pid`: `Ok(None)` when no such process exists.
    /// An error means the facts could not be read, never "it exited".
    fn stat(pid: i32) -> io::Result<Option<Stat>>;

    /// `waitid(WEXITED | flags)` on our child `target`: `Ok(None)` when
    /// `WNOHANG` was given and it has not exited. Reaps unless `flags` has
    /// `WNOWAIT`.
    fn waitid(
        target: WaitTarget<'_, Self::Handle>,
        flags: libc::c_int,
    ) -> io::Result<Option<Waited>>;

    /// Sleeps until `exited_now` says yes or `deadline` passes, for a
    /// process held without a handle; `Ok(false)` means the deadline
    /// passed. Backends that can sleep in the kernel (kqueue) do;
    /// others poll with the crate's one backoff.
    fn sleep_until_exit_guarded(
        pid: i32,
        deadline: Option<Instant>,
        exited_now: impl Fn() -> Result<bool>,
    ) -> Result<bool> {
        let _ = pid;
        poll_until_exit(deadline, exited_now)
    }
}

/// The handle type of an OS that has none: it cannot be constructed.
#[derive(Debug)]
pub(crate) enum NoHandle {}

impl AsFd for NoHandle {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match *self {}
    }
}

impl From<NoHandle> for OwnedFd {
    fn from(never: NoHandle) -> OwnedFd {
        match never {}
    }
}

/// The facts that identify a process in the guarded-PID mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    /// Start time in the OS's unit (clock ticks since boot on Linux,
    /// microseconds since the epoch on the BSDs): with the PID, the
    /// identity of the process.
    pub start_time: u64,
    /// Whether it has exited and is only a zombie (or is being reaped).
    pub exited: bool,
}

/// Whom a `waitid` call is about.
pub(crate) enum WaitTarget<'a, H> {
    /// A process handle (exact).
    Handle(&'a H),
    /// A PID: exact for an unreaped child of ours, which keeps its PID.
    Pid(i32),
}

impl<H> Clone for WaitTarget<'_, H> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<H> Copy for WaitTarget<'_, H> {}

/// What a successful wait saw.
pub(crate) struct Waited {
    pub status: ExitStatus,
    pub usage: ResourceUsage,
}

/// The probe's report for backend `B` ([`Backend::capabilities`]).
pub(crate) fn capabilities<B: Backend>() -> &'static Capabilities {
    B::capabilities()
}

/// The wait of last resort, for a process we hold no handle to and cannot
/// block on: re-check `exited_now` on the crate's backoff until it says
/// yes (`Ok(true)`) or `deadline` passes (`Ok(false)`).
pub(crate) fn poll_until_exit(
    deadline: Option<Instant>,
    exited_now: impl Fn() -> Result<bool>,
) -> Result<bool> {
    backoff::poll_until(deadline, || Ok(exited_now()?.then_some(()))).map(|o| o.is_some())
}
