//! Windows: a `Process` is an owned process `HANDLE`.
//!
//! # What the kernel guarantees
//!
//! A process object lives as long as any handle to it is open, and Windows
//! does not hand its PID to a new process until the object is gone. So
//! while we hold the handle, the PID and every call through the handle name
//! this one process, before and after it exits. There is no reaping: any
//! holder of a handle with `SYNCHRONIZE` can wait for the exit, and any
//! holder with `PROCESS_QUERY_LIMITED_INFORMATION` can read the exit code
//! and CPU times, whether or not it started the process. Nothing here needs
//! a lock: the state is computed the same by every thread and stored once.
//!
//! # Rights
//!
//! Handles from [`Process::from_child`] and [`Process::current`] carry all
//! rights. [`Process::open`] asks for `SYNCHRONIZE | PROCESS_TERMINATE |
//! PROCESS_QUERY_LIMITED_INFORMATION`; if that is refused, it retries with
//! fewer rights and records what it got, so that an operation needing a
//! missing right fails with `PermissionDenied` naming that right.

pub(crate) mod api;
mod console_group;
pub(crate) mod empty;
pub(crate) mod ext;
pub(crate) mod job;
mod job_control;
pub(crate) mod poller;
mod port;
mod probe;
pub(crate) mod query;
pub(crate) mod toolhelp;

use std::io;
use std::os::windows::io::AsHandle;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER, STILL_ACTIVE};
use windows_sys::Win32::System::Threading::{
    PROCESS_ALL_ACCESS, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE, PROCESS_TERMINATE,
};

use crate::capabilities::Capabilities;
use crate::error::{Error, ErrorKind, Result};
use crate::state::{ExitStatus, ProcessState, ResourceUsage};

pub(crate) use api::{duplicate, process_times, ticks_to_duration};

/// What this system offers, probed once and cached.
pub(crate) fn capabilities() -> &'static Capabilities {
    static CAPS: OnceLock<Capabilities> = OnceLock::new();
    CAPS.get_or_init(probe::probe)
}

/// The owned handle type on Windows.
pub(crate) type OwnedHandle = std::os::windows::io::OwnedHandle;
/// The borrowed handle type on Windows.
pub(crate) type BorrowedHandle<'a> = std::os::windows::io::BorrowedHandle<'a>;

/// The exit code `kill` gives the process: 1, as Go's `Process.Kill` and
/// std's `Child::kill` do, so that code checking for it sees the same
/// value whichever of the three ended the process. Windows has no "killed
/// by a signal" status; the code is all a waiter sees.
pub(crate) const KILL_EXIT_CODE: u32 = 1;

/// `Signal::KILL` in the portable numbering; `0` is the existence check.
pub(crate) const SIGKILL: i32 = 9;

/// The rights [`Process::open`] asks for, most first; each later set drops
/// what a protected or foreign process is most likely to refuse.
const OPEN_RIGHTS: [u32; 4] = [
    PROCESS_SYNCHRONIZE | PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION,
    PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION,
    PROCESS_QUERY_LIMITED_INFORMATION,
    PROCESS_SYNCHRONIZE,
];

#[derive(Debug)]
pub(crate) struct Process {
    pid: u32,
    handle: OwnedHandle,
    /// The rights we asked for and got. Handles from `from_handle` are
    /// assumed to have all rights; the OS still checks each call.
    rights: u32,
    /// Whether we created it (`from_child`). Purely informational here:
    /// Windows treats every holder of a handle alike.
    child: bool,
    current: bool,
    state: OnceLock<ProcessState>,
}

impl Process {
    fn new(pid: u32, handle: OwnedHandle, rights: u32, child: bool, current: bool) -> Self {
        Process {
            pid,
            handle,
            rights,
            child,
            current,
            state: OnceLock::new(),
        }
    }

    pub(crate) fn open(pid: u32) -> Result<Self> {
        const OP: &str = "OpenProcess";
        if pid == 0 {
            return Err(Error::invalid_input(
                OP,
                "PID 0 is the System Idle Process, which cannot be opened",
            ));
        }
        if pid == std::process::id() {
            return Self::current();
        }
        let mut denied = None;
        for rights in OPEN_RIGHTS {
            match api::open_process(pid, rights) {
                Ok(handle) => return Ok(Self::new(pid, handle, rights, false, false)),
                Err(e) if e.raw_os_error() == Some(ERROR_ACCESS_DENIED as i32) => {
                    denied = Some(e);
                }
                // Windows answers an unknown PID with ERROR_INVALID_PARAMETER.
                Err(e) if e.raw_os_error() == Some(ERROR_INVALID_PARAMETER as i32) => {
                    return Err(Error::not_found(OP, pid.into()));
                }
                Err(e) => return Err(Error::os(OP, e)),
            }
        }
        let e = denied.unwrap_or_else(|| io::Error::from(io::ErrorKind::PermissionDenied));
        Err(
            Error::os_kind(ErrorKind::PermissionDenied, OP, e).with_detail(format!(
                "no access to PID {pid}, not even SYNCHRONIZE or PROCESS_QUERY_LIMITED_INFORMATION"
            )),
        )
    }

    pub(crate) fn current() -> Result<Self> {
        let handle = api::current_process().map_err(|e| Error::os("DuplicateHandle", e))?;
        Ok(Self::new(
            std::process::id(),
            handle,
            PROCESS_ALL_ACCESS,
            false,
            true,
        ))
    }

    /// Duplicates the `Child`'s own handle: the same process object, which
    /// the `Child` keeps alive until we hold ours, so no PID lookup (and no
    /// window for PID reuse) is involved.
    pub(crate) fn from_child(child: &std::process::Child) -> Result<Self> {
        let handle =
            api::duplicate(child.as_handle(), None).map_err(|e| Error::os("DuplicateHandle", e))?;
        Ok(Self::new(
            child.id(),
            handle,
            PROCESS_ALL_ACCESS,
            true,
            false,
        ))
    }

    pub(crate) fn from_handle(handle: OwnedHandle) -> Result<Self> {
        let pid = api::process_id(handle.as_handle()).map_err(|e| {
            Error::os_kind(ErrorKind::InvalidInput, "GetProcessId", e)
                .with_detail("the handle is not a process handle (or lacks query rights)")
        })?;
        let current = pid == std::process::id();
        Ok(Self::new(pid, handle, PROCESS_ALL_ACCESS, false, current))
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    #[inline]
    pub(crate) fn handle(&self) -> Option<BorrowedHandle<'_>> {
        Some(self.handle.as_handle())
    }

    pub(crate) fn into_handle(self) -> std::result::Result<OwnedHandle, Self> {
        Ok(self.handle)
    }

    pub(crate) fn is_child(&self) -> bool {
        self.child
    }

    /// Fails early, and clearly, when `open` could not get `right`.
    fn require(&self, right: u32, name: &str, op: &'static str) -> Result<()> {
        if self.rights & right == right {
            Ok(())
        } else {
            Err(
                Error::new(ErrorKind::PermissionDenied, op).with_detail(format!(
                    "the handle lacks {name}: OpenProcess was refused it for PID {}",
                    self.pid
                )),
            )
        }
    }

    /// `Signal::KILL` terminates with [`KILL_EXIT_CODE`]; `0` checks that
    /// the process still runs; anything else is unsupported (as in Go).
    pub(crate) fn signal(&self, sig: i32) -> Result<()> {
        const OP: &str = "TerminateProcess";
        // A handle from `from_handle` may hold PROCESS_TERMINATE alone: then
        // the check cannot be made, and TerminateProcess decides.
        match self.exited_now(OP) {
            Ok(true) => return Err(Error::done(OP)),
            Ok(false) => {}
            Err(e) if e.kind() == ErrorKind::PermissionDenied && sig == SIGKILL => {}
            Err(e) => return Err(e),
        }
        match sig {
            0 => Ok(()),
            SIGKILL => {
                self.require(PROCESS_TERMINATE, "PROCESS_TERMINATE", OP)?;
                match api::terminate(self.handle.as_handle(), KILL_EXIT_CODE) {
                    Ok(()) => Ok(()),
                    // TerminateProcess on a process that has just exited
                    // also fails with ERROR_ACCESS_DENIED: tell them apart.
                    Err(e) if e.raw_os_error() == Some(ERROR_ACCESS_DENIED as i32) => {
                        if self.exited_now(OP).unwrap_or(false) {
                            Err(Error::done(OP))
                        } else {
                            Err(Error::os_kind(ErrorKind::PermissionDenied, OP, e)
                                .with_detail("no right to terminate this process"))
                        }
                    }
                    Err(e) => Err(Error::os(OP, e)),
                }
            }
            other => Err(Error::unsupported(
                "signal",
                format!(
                    "Windows cannot deliver signal {other}: only Signal::KILL \
                     (TerminateProcess) and 0 (existence check) are supported"
                ),
            )),
        }
    }

    /// Whether the process has exited, without blocking. Uses the wait if
    /// we have `SYNCHRONIZE`, else the exit code (a process that exits with
    /// 259, `STILL_ACTIVE`, then looks alive: Windows offers no better).
    fn exited_now(&self, op: &'static str) -> Result<bool> {
        if self.state.get().is_some() {
            return Ok(true);
        }
        if self.current {
            return Ok(false);
        }
        if self.rights & PROCESS_SYNCHRONIZE != 0 {
            return api::wait_exit(self.handle.as_handle(), Some(Duration::ZERO))
                .map_err(|e| wait_error(op, e));
        }
        api::exit_code(self.handle.as_handle())
            .map(|code| code != STILL_ACTIVE as u32)
            .map_err(|e| wait_error("GetExitCodeProcess", e))
    }

    /// Whether the process has exited: its handle is signalled (a wait of
    /// 0 ms), or it has an exit code. Windows reaps nothing: the handle
    /// keeps the exit code until it is closed.
    pub(crate) fn has_exited(&self) -> Result<bool> {
        self.exited_now("WaitForSingleObject")
    }

    pub(crate) fn try_wait(&self) -> Result<Option<ProcessState>> {
        if let Some(state) = self.state.get() {
            return Ok(Some(*state));
        }
        if self.current {
            return Ok(None);
        }
        self.wait_until(Some(Instant::now()))
    }

    /// Waits until the process exits (`Some`) or `deadline` passes
    /// (`None`); without a deadline it returns only on exit.
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> Result<Option<ProcessState>> {
        const OP: &str = "WaitForSingleObject";
        if let Some(state) = self.state.get() {
            return Ok(Some(*state));
        }
        if self.current {
            return super::self_wait::wait_for_self(deadline);
        }
        self.require(PROCESS_SYNCHRONIZE, "SYNCHRONIZE", OP)?;
        loop {
            let left = crate::sys::timeout::remaining(deadline);
            let exited =
                api::wait_exit(self.handle.as_handle(), left).map_err(|e| wait_error(OP, e))?;
            if exited {
                return self.exited_state().map(Some);
            }
            // A wait longer than WaitForSingleObject's ~49.7 days comes back
            // early: go round again until the deadline really passed.
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
        }
    }

    /// Exit code and CPU times of a process known to have exited, stored
    /// once: every thread computes the same values, the first one wins.
    fn exited_state(&self) -> Result<ProcessState> {
        if let Some(state) = self.state.get() {
            return Ok(*state);
        }
        const OP: &str = "GetExitCodeProcess";
        self.require(
            PROCESS_QUERY_LIMITED_INFORMATION,
            "PROCESS_QUERY_LIMITED_INFORMATION (the exit code cannot be read)",
            OP,
        )?;
        let handle = self.handle.as_handle();
        let code = api::exit_code(handle).map_err(|e| wait_error(OP, e))?;
        let usage = api::process_times(handle).ok().map(|t| ResourceUsage {
            user_time: t.user,
            system_time: t.kernel,
            max_rss_bytes: api::peak_working_set(handle).ok(),
        });
        // Windows exit codes are 32-bit unsigned (NTSTATUS values such as
        // 0xC0000005 included); keep the bits.
        let state = ProcessState::new(self.pid, ExitStatus::Exited(code as i32), usage);
        Ok(*self.state.get_or_init(|| state))
    }
}

fn wait_error(op: &'static str, e: io::Error) -> Error {
    if e.raw_os_error() == Some(ERROR_ACCESS_DENIED as i32) {
        Error::os_kind(ErrorKind::PermissionDenied, op, e)
            .with_detail("the handle lacks the right this needs")
    } else {
        Error::os(op, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `open` does after a refusal: keep the reduced rights and say,
    /// per operation, which one is missing. Wine grants every right, so the
    /// refusal itself cannot be shown; the bookkeeping can.
    #[test]
    fn reduced_rights_give_permission_denied_naming_the_right() {
        let mut child = std::process::Command::new("ping")
            .args(["-n", "30", "127.0.0.1"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        let open_with = |rights| {
            let handle = api::open_process(pid, rights).unwrap();
            Process::new(pid, handle, rights, false, false)
        };

        let no_terminate = open_with(OPEN_RIGHTS[1]);
        let err = no_terminate.signal(SIGKILL).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert!(err.to_string().contains("PROCESS_TERMINATE"), "{err}");

        let no_synchronize = open_with(OPEN_RIGHTS[2]);
        let err = no_synchronize.wait_until(Some(Instant::now())).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert!(err.to_string().contains("SYNCHRONIZE"), "{err}");
        // Liveness still works through the exit code.
        assert!(no_synchronize.signal(0).is_ok());

        let no_query = open_with(OPEN_RIGHTS[3]);
        child.kill().unwrap();
        child.wait().unwrap();
        let err = no_query.wait_until(None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert!(err.to_string().contains("exit code"), "{err}");
    }
}
