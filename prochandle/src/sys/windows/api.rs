//! Thin, safe wrappers over the Win32 calls the backend needs. Each returns
//! the `GetLastError` code as an [`io::Error`] and does nothing else, so the
//! policy (which error means what) stays in `mod.rs`.

use std::io;
use std::os::windows::io::{AsRawHandle, BorrowedHandle, FromRawHandle, OwnedHandle};
use std::time::Duration;

use windows_sys::Win32::Foundation::{
    DuplicateHandle, DUPLICATE_SAME_ACCESS, FILETIME, HANDLE, WAIT_FAILED, WAIT_OBJECT_0,
    WAIT_TIMEOUT,
};
use windows_sys::Win32::System::ProcessStatus::{K32GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS};
use windows_sys::Win32::System::Threading::{
    CreateEventW, GetCurrentProcess, GetExitCodeProcess, GetProcessId, GetProcessTimes,
    OpenProcess, TerminateProcess, WaitForSingleObject, INFINITE,
};

pub(crate) fn raw(handle: BorrowedHandle<'_>) -> HANDLE {
    handle.as_raw_handle() as HANDLE
}

pub(crate) fn check(ok: i32) -> io::Result<()> {
    if ok != 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `OpenProcess(access, FALSE, pid)`: a new, non-inheritable handle.
pub(crate) fn open_process(pid: u32, access: u32) -> io::Result<OwnedHandle> {
    // SAFETY: plain integer arguments; the result is checked for null.
    let handle = unsafe { OpenProcess(access, 0, pid) };
    if handle.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh handle that nobody else owns.
    Ok(unsafe { OwnedHandle::from_raw_handle(handle as _) })
}

/// A real (not pseudo) handle to this process with all access.
pub(crate) fn current_process() -> io::Result<OwnedHandle> {
    // SAFETY: GetCurrentProcess returns a constant pseudo-handle, valid in
    // this process for its whole life and never closed.
    let pseudo = unsafe { BorrowedHandle::borrow_raw(GetCurrentProcess() as _) };
    duplicate(pseudo, None)
}

/// `DuplicateHandle` within this process, non-inheritable: with the same
/// rights (`None`) or asking for `Some(access)`. For process handles the
/// kernel checks the new rights against the process's security descriptor,
/// so a duplicate may have more rights than the original, or be refused.
pub(crate) fn duplicate(
    handle: BorrowedHandle<'_>,
    access: Option<u32>,
) -> io::Result<OwnedHandle> {
    let mut out: HANDLE = std::ptr::null_mut();
    let (rights, options) = match access {
        None => (0, DUPLICATE_SAME_ACCESS),
        Some(rights) => (rights, 0),
    };
    // SAFETY: the source handle is borrowed (valid for the call), the
    // pseudo-handles name this process, and `out` is a valid out-pointer.
    check(unsafe {
        let me = GetCurrentProcess();
        DuplicateHandle(me, raw(handle), me, &mut out, rights, 0, options)
    })?;
    // SAFETY: a fresh handle that nobody else owns.
    Ok(unsafe { OwnedHandle::from_raw_handle(out as _) })
}

/// `GetProcessId`: the PID of the process behind `handle`. Fails for
/// handles that are not process handles.
pub(crate) fn process_id(handle: BorrowedHandle<'_>) -> io::Result<u32> {
    // SAFETY: a borrowed, valid handle.
    match unsafe { GetProcessId(raw(handle)) } {
        0 => Err(io::Error::last_os_error()),
        pid => Ok(pid),
    }
}

/// A new event: auto-reset (each set wakes one wait), unset, unnamed and
/// not inheritable.
pub(crate) fn auto_reset_event() -> io::Result<OwnedHandle> {
    // SAFETY: no security attributes (so not inheritable), auto-reset,
    // initially unset, unnamed; the result is checked.
    let event = unsafe { CreateEventW(std::ptr::null(), 0, 0, std::ptr::null()) };
    if event.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh handle that nobody else owns.
    Ok(unsafe { OwnedHandle::from_raw_handle(event as _) })
}

/// A Windows wait's timeout in milliseconds (`None`: `INFINITE`), by the
/// crate's one rule (`sys/timeout.rs`): rounded up, kept below `INFINITE`,
/// which would mean "forever"; callers loop for longer waits.
pub(crate) fn wait_millis(timeout: Option<Duration>) -> u32 {
    timeout.map_or(INFINITE, |t| {
        crate::sys::timeout::ceil_millis(t, INFINITE - 1)
    })
}

/// `WaitForSingleObject` until the process is signalled (it has exited) or
/// `timeout` passes (`None`: no limit). Returns whether it has exited.
pub(crate) fn wait_exit(handle: BorrowedHandle<'_>, timeout: Option<Duration>) -> io::Result<bool> {
    // SAFETY: a borrowed, valid handle.
    match unsafe { WaitForSingleObject(raw(handle), wait_millis(timeout)) } {
        WAIT_OBJECT_0 => Ok(true),
        WAIT_TIMEOUT => Ok(false),
        WAIT_FAILED => Err(io::Error::last_os_error()),
        other => Err(io::Error::other(format!(
            "WaitForSingleObject returned unexpected {other:#x}"
        ))),
    }
}

/// `GetExitCodeProcess`. `STILL_ACTIVE` (259) while it runs, which a process
/// may also exit with: only trust it after [`wait_exit`] said it exited.
pub(crate) fn exit_code(handle: BorrowedHandle<'_>) -> io::Result<u32> {
    let mut code = 0u32;
    // SAFETY: a borrowed, valid handle and a valid out-pointer.
    check(unsafe { GetExitCodeProcess(raw(handle), &mut code) })?;
    Ok(code)
}

/// `TerminateProcess(handle, code)`.
pub(crate) fn terminate(handle: BorrowedHandle<'_>, code: u32) -> io::Result<()> {
    // SAFETY: a borrowed, valid handle.
    check(unsafe { TerminateProcess(raw(handle), code) })
}

/// What `GetProcessTimes` reports.
pub(crate) struct Times {
    /// 100 ns intervals since 1601-01-01 UTC.
    pub creation: u64,
    pub kernel: Duration,
    pub user: Duration,
}

fn filetime_ticks(ft: FILETIME) -> u64 {
    (u64::from(ft.dwHighDateTime) << 32) | u64::from(ft.dwLowDateTime)
}

/// A duration counted in FILETIME's 100 ns intervals.
pub(crate) fn ticks_to_duration(ticks: u64) -> Duration {
    Duration::new(ticks / 10_000_000, ((ticks % 10_000_000) * 100) as u32)
}

/// `GetProcessTimes`: creation time and CPU times (needs
/// `PROCESS_QUERY_LIMITED_INFORMATION`).
pub(crate) fn process_times(handle: BorrowedHandle<'_>) -> io::Result<Times> {
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut creation, mut exit, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: a borrowed, valid handle and four valid out-pointers.
    check(unsafe {
        GetProcessTimes(
            raw(handle),
            &mut creation,
            &mut exit,
            &mut kernel,
            &mut user,
        )
    })?;
    Ok(Times {
        creation: filetime_ticks(creation),
        kernel: ticks_to_duration(filetime_ticks(kernel)),
        user: ticks_to_duration(filetime_ticks(user)),
    })
}

/// `GetProcessMemoryInfo`.
fn memory_counters(handle: BorrowedHandle<'_>) -> io::Result<PROCESS_MEMORY_COUNTERS> {
    let mut counters = PROCESS_MEMORY_COUNTERS {
        cb: std::mem::size_of::<PROCESS_MEMORY_COUNTERS>() as u32,
        ..Default::default()
    };
    // SAFETY: a borrowed, valid handle; `counters` is a valid buffer of the
    // size passed.
    check(unsafe { K32GetProcessMemoryInfo(raw(handle), &mut counters, counters.cb) })?;
    Ok(counters)
}

/// Peak working set in bytes (`GetProcessMemoryInfo`).
pub(crate) fn peak_working_set(handle: BorrowedHandle<'_>) -> io::Result<u64> {
    Ok(memory_counters(handle)?.PeakWorkingSetSize as u64)
}

/// The working set now, in bytes (`GetProcessMemoryInfo`).
pub(crate) fn working_set(handle: BorrowedHandle<'_>) -> io::Result<u64> {
    Ok(memory_counters(handle)?.WorkingSetSize as u64)
}

/// The PIDs of the processes in a job right now (`QueryInformationJobObject`
/// with `JobObjectBasicProcessIdList`). A snapshot: a process may exit, and
/// a new one join, right after.
pub(crate) fn job_process_ids(job: BorrowedHandle<'_>) -> io::Result<Vec<u32>> {
    use windows_sys::Win32::Foundation::ERROR_MORE_DATA;
    use windows_sys::Win32::System::JobObjects::{
        JobObjectBasicProcessIdList, QueryInformationJobObject,
    };
    const MOST: usize = 1 << 20;
    // JOBOBJECT_BASIC_PROCESS_ID_LIST: two u32 counts (assigned, listed),
    // then `listed` PIDs of pointer size. A usize buffer keeps the
    // alignment right.
    let header_words = 8 / std::mem::size_of::<usize>();
    let mut capacity = 64usize;
    loop {
        let mut buf = vec![0usize; header_words + capacity];
        // SAFETY: a valid job handle and a buffer of the size passed,
        // aligned for the structure.
        let ok = unsafe {
            QueryInformationJobObject(
                raw(job),
                JobObjectBasicProcessIdList,
                buf.as_mut_ptr().cast(),
                (buf.len() * std::mem::size_of::<usize>()) as u32,
                std::ptr::null_mut(),
            )
        };
        // SAFETY: the buffer is at least 8 bytes and usize-aligned, so
        // reading two u32s from its start is in bounds and aligned.
        let (assigned, listed) = unsafe {
            let counts = buf.as_ptr().cast::<u32>();
            (*counts as usize, *counts.add(1) as usize)
        };
        let too_small = if ok == 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(ERROR_MORE_DATA as i32) {
                return Err(e);
            }
            true
        } else {
            listed < assigned
        };
        if too_small && capacity < MOST {
            capacity = (assigned.max(capacity) * 2).min(MOST);
            continue;
        }
        let pids = &buf[header_words..header_words + listed.min(capacity)];
        return Ok(pids.iter().map(|&pid| pid as u32).collect());
    }
}

/// How many processes in the job are alive right now (job accounting,
/// `ActiveProcesses`).
pub(crate) fn job_active_processes(job: BorrowedHandle<'_>) -> io::Result<u32> {
    use windows_sys::Win32::System::JobObjects::{
        JobObjectBasicAccountingInformation, QueryInformationJobObject,
        JOBOBJECT_BASIC_ACCOUNTING_INFORMATION,
    };
    // SAFETY: a plain C struct of integers: all-zero is valid.
    let mut info: JOBOBJECT_BASIC_ACCOUNTING_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: a valid job handle and a struct of the size passed.
    check(unsafe {
        QueryInformationJobObject(
            raw(job),
            JobObjectBasicAccountingInformation,
            (&mut info as *mut JOBOBJECT_BASIC_ACCOUNTING_INFORMATION).cast(),
            std::mem::size_of::<JOBOBJECT_BASIC_ACCOUNTING_INFORMATION>() as u32,
            std::ptr::null_mut(),
        )
    })?;
    Ok(info.ActiveProcesses)
}
