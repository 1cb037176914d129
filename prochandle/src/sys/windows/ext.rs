//! The calls behind `prochandle::windows`' priority classes and its public
//! `JobObject` (a job of the caller's, not a `Scope`'s: that one lives in
//! `job.rs`). Each takes borrowed handles and returns the Win32 error; the
//! facade names the operation and asks for more rights where that helps.

use std::io;
use std::os::windows::io::{BorrowedHandle, FromRawHandle, OwnedHandle, RawHandle};

use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, IsProcessInJob, JobObjectExtendedLimitInformation,
    SetInformationJobObject, TerminateJobObject, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
};
use windows_sys::Win32::System::Threading::{GetPriorityClass, SetPriorityClass};

use super::api::{check, raw};

/// `GetPriorityClass`: the raw class.
pub(crate) fn priority_class(process: BorrowedHandle<'_>) -> io::Result<u32> {
    // SAFETY: a valid process handle, borrowed for the call.
    match unsafe { GetPriorityClass(raw(process)) } {
        0 => Err(io::Error::last_os_error()),
        class => Ok(class),
    }
}

/// `SetPriorityClass` with a raw class.
pub(crate) fn set_priority_class(process: BorrowedHandle<'_>, class: u32) -> io::Result<()> {
    // SAFETY: a valid process handle, borrowed for the call.
    check(unsafe { SetPriorityClass(raw(process), class) })
}

/// `AssignProcessToJobObject`.
pub(crate) fn assign_to_job(
    job: BorrowedHandle<'_>,
    process: BorrowedHandle<'_>,
) -> io::Result<()> {
    // SAFETY: both handles are valid and borrowed for the call.
    check(unsafe { AssignProcessToJobObject(raw(job), raw(process)) })
}

/// `IsProcessInJob`.
pub(crate) fn is_in_job(process: BorrowedHandle<'_>, job: BorrowedHandle<'_>) -> io::Result<bool> {
    let mut result = 0;
    // SAFETY: both handles are valid and borrowed for the call; `result`
    // is a valid out-pointer.
    check(unsafe { IsProcessInJob(raw(process), raw(job), &mut result) })?;
    Ok(result != 0)
}

/// `CreateJobObjectW`: an unnamed job with no limits, default security.
pub(crate) fn create_job() -> io::Result<OwnedHandle> {
    // SAFETY: null attributes and name: an unnamed job, default security.
    let handle = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
    if handle.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh handle that nobody else owns.
    Ok(unsafe { OwnedHandle::from_raw_handle(handle as RawHandle) })
}

/// Sets `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE` (and no other limit) on `job`.
pub(crate) fn kill_on_job_close(job: BorrowedHandle<'_>) -> io::Result<()> {
    let mut limits = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    // SAFETY: a valid job handle; `limits` is the structure this
    // information class expects, with its exact size.
    check(unsafe {
        SetInformationJobObject(
            raw(job),
            JobObjectExtendedLimitInformation,
            (&limits as *const JOBOBJECT_EXTENDED_LIMIT_INFORMATION).cast(),
            std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
        )
    })
}

/// `TerminateJobObject`.
pub(crate) fn terminate_job(job: BorrowedHandle<'_>, exit_code: u32) -> io::Result<()> {
    // SAFETY: a valid job handle, borrowed for the call.
    check(unsafe { TerminateJobObject(raw(job), exit_code) })
}
