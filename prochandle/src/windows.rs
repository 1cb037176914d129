//! Windows-only extensions, in the manner of `std::os::windows`: priority
//! classes, job objects and creation time for a [`Process`].
//!
//! Everything goes through the process `HANDLE` the [`Process`] holds, so it
//! reaches that one process even after its PID was given to another. When
//! the held handle lacks the right an operation needs (a `Process` from
//! [`Process::open`] asks only for `SYNCHRONIZE | PROCESS_TERMINATE |
//! PROCESS_QUERY_LIMITED_INFORMATION`), the operation asks Windows for a
//! duplicate of the handle with that right; if Windows refuses, the error
//! is of kind [`PermissionDenied`](crate::ErrorKind::PermissionDenied).
//!
//! Windows keeps a PID reserved for as long as any handle to the process is
//! open, even after it exits: holding a `Process` (or a [`JobObject`] that
//! holds processes) keeps their PIDs from being reused.
//!
//! ```
//! # fn main() -> prochandle::Result<()> {
//! use prochandle::windows::{JobObject, PriorityClass, ProcessExt};
//! use prochandle::Process;
//!
//! let me = Process::current()?;
//! let class = me.priority_class()?;
//! println!("running at {class:?} priority since {:?}", me.creation_time()?);
//! let job = JobObject::kill_on_close()?;
//! // A child put into `job` (and everything it starts) dies when `job` is dropped.
//! # drop(job);
//! # Ok(()) }
//! ```

use std::ffi::OsString;
use std::io;
use std::os::windows::io::{AsHandle, AsRawHandle, BorrowedHandle, OwnedHandle, RawHandle};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER};
use windows_sys::Win32::System::Threading::{
    ABOVE_NORMAL_PRIORITY_CLASS, BELOW_NORMAL_PRIORITY_CLASS, HIGH_PRIORITY_CLASS,
    IDLE_PRIORITY_CLASS, NORMAL_PRIORITY_CLASS, PROCESS_QUERY_LIMITED_INFORMATION,
    PROCESS_SET_INFORMATION, PROCESS_SET_QUOTA, PROCESS_TERMINATE, REALTIME_PRIORITY_CLASS,
};

use crate::error::{Error, ErrorKind, Result};
use crate::process::Process;
use crate::sys;
use crate::sys::windows::{ext, query};

mod scope_command;
mod snapshot;

pub use scope_command::ScopeCommandExt;
pub use snapshot::{processes, ProcessEntry};

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::Process {}
    impl Sealed for crate::ScopeCommand {}
}

/// A process's scheduling priority class (`GetPriorityClass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PriorityClass {
    /// `IDLE_PRIORITY_CLASS`: runs only when the system is idle.
    Idle,
    /// `BELOW_NORMAL_PRIORITY_CLASS`.
    BelowNormal,
    /// `NORMAL_PRIORITY_CLASS`, the default.
    Normal,
    /// `ABOVE_NORMAL_PRIORITY_CLASS`.
    AboveNormal,
    /// `HIGH_PRIORITY_CLASS`: for time-critical work.
    High,
    /// `REALTIME_PRIORITY_CLASS`: pre-empts even OS threads. Without the
    /// `SeIncreaseBasePriorityPrivilege`, Windows silently gives `High`.
    Realtime,
}

impl PriorityClass {
    /// The Win32 constant (`NORMAL_PRIORITY_CLASS`, …).
    ///
    /// ```
    /// use prochandle::windows::PriorityClass;
    /// assert_eq!(PriorityClass::from_raw(PriorityClass::High.as_raw()), Some(PriorityClass::High));
    /// ```
    pub fn as_raw(self) -> u32 {
        match self {
            PriorityClass::Idle => IDLE_PRIORITY_CLASS,
            PriorityClass::BelowNormal => BELOW_NORMAL_PRIORITY_CLASS,
            PriorityClass::Normal => NORMAL_PRIORITY_CLASS,
            PriorityClass::AboveNormal => ABOVE_NORMAL_PRIORITY_CLASS,
            PriorityClass::High => HIGH_PRIORITY_CLASS,
            PriorityClass::Realtime => REALTIME_PRIORITY_CLASS,
        }
    }

    /// The class for a Win32 constant, `None` for anything else.
    ///
    /// ```
    /// use prochandle::windows::PriorityClass;
    /// assert_eq!(PriorityClass::from_raw(0x20), Some(PriorityClass::Normal));
    /// assert_eq!(PriorityClass::from_raw(7), None);
    /// ```
    pub fn from_raw(raw: u32) -> Option<PriorityClass> {
        Some(match raw {
            IDLE_PRIORITY_CLASS => PriorityClass::Idle,
            BELOW_NORMAL_PRIORITY_CLASS => PriorityClass::BelowNormal,
            NORMAL_PRIORITY_CLASS => PriorityClass::Normal,
            ABOVE_NORMAL_PRIORITY_CLASS => PriorityClass::AboveNormal,
            HIGH_PRIORITY_CLASS => PriorityClass::High,
            REALTIME_PRIORITY_CLASS => PriorityClass::Realtime,
            _ => return None,
        })
    }
}

/// Windows-only operations on a [`Process`]. Sealed: implemented for
/// [`Process`] only.
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// use prochandle::windows::{PriorityClass, ProcessExt};
///
/// let me = prochandle::Process::current()?;
/// let before = me.priority_class()?;
/// me.set_priority_class(PriorityClass::BelowNormal)?;
/// assert_eq!(me.priority_class()?, PriorityClass::BelowNormal);
/// me.set_priority_class(before)?;
/// # Ok(()) }
/// ```
pub trait ProcessExt: sealed::Sealed {
    /// The priority class (`GetPriorityClass`; needs
    /// `PROCESS_QUERY_LIMITED_INFORMATION`).
    fn priority_class(&self) -> Result<PriorityClass>;

    /// Sets the priority class (`SetPriorityClass`; needs
    /// `PROCESS_SET_INFORMATION`, asked for if the handle lacks it).
    fn set_priority_class(&self, class: PriorityClass) -> Result<()>;

    /// Puts the process into `job` (`AssignProcessToJobObject`; needs
    /// `PROCESS_SET_QUOTA | PROCESS_TERMINATE`). Processes it starts from
    /// then on are in the job too, unless they break away.
    fn assign_to_job(&self, job: &JobObject) -> Result<()>;

    /// Whether the process is in `job` (`IsProcessInJob`).
    fn is_in_job(&self, job: &JobObject) -> Result<bool>;

    /// When the process was created (`GetProcessTimes`), to the 100 ns
    /// tick Windows records. With the PID, it names the process uniquely
    /// for log lines and caches.
    fn creation_time(&self) -> Result<SystemTime>;

    /// The full path of the program's image, in Win32 form
    /// (`QueryFullProcessImageNameW`).
    fn image_path(&self) -> Result<PathBuf>;

    /// The command line the process was started with, as its creator
    /// passed it. A process may rewrite its own copy; this is what it
    /// holds now. Before Windows 8.1 (and in Wine 8) the error is of kind
    /// [`Unsupported`](crate::ErrorKind::Unsupported).
    fn command_line(&self) -> Result<OsString>;

    /// The PID of the process that created this one. Windows does not
    /// re-parent orphans: once the creator has exited, the PID may have
    /// been given to another process.
    fn parent_pid(&self) -> Result<u32>;

    /// The Remote Desktop Services session the process runs in (0 for
    /// services).
    fn session_id(&self) -> Result<u32>;

    /// The CPU time it has used so far, user and kernel mode together
    /// (`GetProcessTimes`).
    fn cpu_time(&self) -> Result<Duration>;

    /// Its working set now, in bytes: the memory resident for it
    /// (`GetProcessMemoryInfo`, needs `PROCESS_QUERY_LIMITED_INFORMATION`).
    fn working_set(&self) -> Result<u64>;
}

impl ProcessExt for Process {
    fn priority_class(&self) -> Result<PriorityClass> {
        const OP: &str = "GetPriorityClass";
        let raw = with_right(
            self,
            PROCESS_QUERY_LIMITED_INFORMATION,
            OP,
            ext::priority_class,
        )?;
        PriorityClass::from_raw(raw).ok_or_else(|| {
            Error::new(ErrorKind::Other, OP).with_detail(format!("unknown priority class {raw:#x}"))
        })
    }

    fn set_priority_class(&self, class: PriorityClass) -> Result<()> {
        with_right(self, PROCESS_SET_INFORMATION, "SetPriorityClass", |h| {
            ext::set_priority_class(h, class.as_raw())
        })
    }

    fn assign_to_job(&self, job: &JobObject) -> Result<()> {
        let job = job.handle.as_handle();
        with_right(
            self,
            PROCESS_SET_QUOTA | PROCESS_TERMINATE,
            "AssignProcessToJobObject",
            |h| ext::assign_to_job(job, h),
        )
    }

    fn is_in_job(&self, job: &JobObject) -> Result<bool> {
        let job = job.handle.as_handle();
        with_right(
            self,
            PROCESS_QUERY_LIMITED_INFORMATION,
            "IsProcessInJob",
            |h| ext::is_in_job(h, job),
        )
    }

    fn creation_time(&self) -> Result<SystemTime> {
        let handle = handle_of(self);
        let times =
            sys::windows::process_times(handle).map_err(|e| denied_or_os("GetProcessTimes", e))?;
        Ok(filetime_to_system_time(times.creation))
    }

    fn image_path(&self) -> Result<PathBuf> {
        const OP: &str = "QueryFullProcessImageNameW";
        with_right(
            self,
            PROCESS_QUERY_LIMITED_INFORMATION,
            OP,
            query::image_path,
        )
    }

    fn command_line(&self) -> Result<OsString> {
        const OP: &str = "NtQueryInformationProcess";
        let line = with_right(
            self,
            PROCESS_QUERY_LIMITED_INFORMATION,
            OP,
            query::command_line,
        );
        line.map_err(|err| {
            // STATUS_INVALID_INFO_CLASS and STATUS_INVALID_PARAMETER both
            // become ERROR_INVALID_PARAMETER: this Windows has no such class.
            if err.raw_os_error() == Some(ERROR_INVALID_PARAMETER as i32) {
                Error::unsupported(
                    OP,
                    "this system does not give a process's command line \
                     (ProcessCommandLineInformation: Windows 8.1 and later; not in Wine 8)",
                )
            } else {
                err
            }
        })
    }

    fn parent_pid(&self) -> Result<u32> {
        const OP: &str = "NtQueryInformationProcess";
        with_right(
            self,
            PROCESS_QUERY_LIMITED_INFORMATION,
            OP,
            query::parent_pid,
        )
    }

    fn session_id(&self) -> Result<u32> {
        // Asked by PID: the handle this `Process` holds keeps that PID
        // reserved for this process.
        query::session_id(self.pid()).map_err(|e| denied_or_os("ProcessIdToSessionId", e))
    }

    fn cpu_time(&self) -> Result<Duration> {
        let times = sys::windows::process_times(handle_of(self))
            .map_err(|e| denied_or_os("GetProcessTimes", e))?;
        Ok(times.user + times.kernel)
    }

    fn working_set(&self) -> Result<u64> {
        with_right(
            self,
            PROCESS_QUERY_LIMITED_INFORMATION,
            "GetProcessMemoryInfo",
            sys::windows::api::working_set,
        )
    }
}

/// FILETIME counts 100 ns ticks from 1601-01-01; the Unix epoch is
/// 11 644 473 600 s later.
fn filetime_to_system_time(ticks: u64) -> SystemTime {
    const UNIX_EPOCH_TICKS: u64 = 11_644_473_600 * 10_000_000;
    if ticks >= UNIX_EPOCH_TICKS {
        UNIX_EPOCH + sys::windows::ticks_to_duration(ticks - UNIX_EPOCH_TICKS)
    } else {
        UNIX_EPOCH - sys::windows::ticks_to_duration(UNIX_EPOCH_TICKS - ticks)
    }
}

fn handle_of(process: &Process) -> BorrowedHandle<'_> {
    process
        .handle()
        .expect("a Windows Process always holds a handle")
}

fn denied_or_os(op: &'static str, e: io::Error) -> Error {
    if e.raw_os_error() == Some(ERROR_ACCESS_DENIED as i32) {
        Error::os_kind(ErrorKind::PermissionDenied, op, e)
    } else {
        Error::os(op, e)
    }
}

/// Runs `f` with the process's handle; if Windows says access denied, asks
/// for a duplicate of the same handle with `right` added and runs `f` once
/// more with it. The duplicate names the same process object (no PID
/// lookup), and is closed right after.
fn with_right<T>(
    process: &Process,
    right: u32,
    op: &'static str,
    f: impl Fn(BorrowedHandle<'_>) -> io::Result<T>,
) -> Result<T> {
    let handle = handle_of(process);
    match f(handle) {
        Err(e) if e.raw_os_error() == Some(ERROR_ACCESS_DENIED as i32) => {
            let wider = sys::windows::duplicate(handle, Some(right)).map_err(|e| {
                denied_or_os(op, e).with_detail(format!(
                    "the handle lacks the right this needs ({right:#x}), and Windows refused a handle with it"
                ))
            })?;
            f(wider.as_handle()).map_err(|e| denied_or_os(op, e))
        }
        other => other.map_err(|e| denied_or_os(op, e)),
    }
}

/// A Windows job object: a group of processes that can be limited and
/// terminated together.
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// use prochandle::windows::JobObject;
///
/// let job = JobObject::new()?;
/// assert!(job.process_ids()?.is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct JobObject {
    handle: OwnedHandle,
}

impl JobObject {
    /// Creates an unnamed job object with no limits (`CreateJobObjectW`).
    pub fn new() -> Result<JobObject> {
        let handle = ext::create_job().map_err(|e| Error::os("CreateJobObjectW", e))?;
        Ok(JobObject { handle })
    }

    /// Creates a job whose processes are all terminated when its last
    /// handle closes (`JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`).
    ///
    /// Keep the `JobObject` for as long as the processes should live:
    /// when it is dropped, or when this process dies in any way, every
    /// process in the job, and every process they started, is terminated.
    /// This is how a whole process tree dies with its owner on Windows.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// let job = prochandle::windows::JobObject::kill_on_close()?;
    /// # drop(job);
    /// # Ok(()) }
    /// ```
    pub fn kill_on_close() -> Result<JobObject> {
        let job = JobObject::new()?;
        ext::kill_on_job_close(job.handle.as_handle())
            .map_err(|e| Error::os("SetInformationJobObject", e))?;
        Ok(job)
    }

    /// Takes ownership of a job object handle obtained elsewhere.
    pub fn from_handle(handle: OwnedHandle) -> JobObject {
        JobObject { handle }
    }

    /// Terminates every process in the job with `exit_code`
    /// (`TerminateJobObject`).
    pub fn terminate(&self, exit_code: u32) -> Result<()> {
        ext::terminate_job(self.handle.as_handle(), exit_code)
            .map_err(|e| denied_or_os("TerminateJobObject", e))
    }

    /// The PIDs of the processes in the job right now
    /// (`JobObjectBasicProcessIdList`). A snapshot: a process may exit, and
    /// a new one join, right after.
    pub fn process_ids(&self) -> Result<Vec<u32>> {
        sys::windows::api::job_process_ids(self.handle.as_handle())
            .map_err(|e| denied_or_os("QueryInformationJobObject", e))
    }
}

impl AsHandle for JobObject {
    fn as_handle(&self) -> BorrowedHandle<'_> {
        self.handle.as_handle()
    }
}

impl AsRawHandle for JobObject {
    fn as_raw_handle(&self) -> RawHandle {
        self.handle.as_raw_handle()
    }
}

impl From<JobObject> for OwnedHandle {
    fn from(job: JobObject) -> OwnedHandle {
        job.handle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_epochs_line_up() {
        const UNIX_EPOCH_TICKS: u64 = 116_444_736_000_000_000;
        assert_eq!(filetime_to_system_time(UNIX_EPOCH_TICKS), UNIX_EPOCH);
        assert_eq!(
            filetime_to_system_time(UNIX_EPOCH_TICKS + 15),
            UNIX_EPOCH + Duration::from_nanos(1500)
        );
        assert_eq!(
            filetime_to_system_time(UNIX_EPOCH_TICKS - 10_000_000),
            UNIX_EPOCH - Duration::from_secs(1)
        );
    }

    #[test]
    fn every_priority_class_round_trips() {
        use PriorityClass::*;
        for class in [Idle, BelowNormal, Normal, AboveNormal, High, Realtime] {
            assert_eq!(PriorityClass::from_raw(class.as_raw()), Some(class));
        }
    }
}
