//! What Windows can say about a process through its handle: the image
//! path, the command line, the parent's PID and the session (the calls
//! behind `prochandle::windows::ProcessExt`). Each call names the process
//! by the handle (or by a PID that the handle keeps reserved), so the
//! answer is about the process the handle pins. Failures come back as the
//! Win32 error; the facade names the operation and retries with more
//! rights where that helps.

use std::ffi::OsString;
use std::io;
use std::os::windows::ffi::OsStringExt;
use std::os::windows::io::BorrowedHandle;
use std::path::PathBuf;

use windows_sys::Wdk::System::Threading::{
    NtQueryInformationProcess, ProcessBasicInformation, ProcessCommandLineInformation,
};
use windows_sys::Win32::Foundation::{
    RtlNtStatusToDosError, HANDLE, NTSTATUS, STATUS_INFO_LENGTH_MISMATCH, UNICODE_STRING,
};
use windows_sys::Win32::System::RemoteDesktop::ProcessIdToSessionId;
use windows_sys::Win32::System::Threading::{
    QueryFullProcessImageNameW, PROCESS_BASIC_INFORMATION, PROCESS_NAME_WIN32,
};

use super::api::raw;

/// The longest path `QueryFullProcessImageNameW` is asked for, in UTF-16
/// units (the NT limit of 32 767, plus the terminator).
const MAX_PATH_UNITS: usize = 32_768;

/// `QueryFullProcessImageNameW`, in the Win32 path form.
pub(crate) fn image_path(process: BorrowedHandle<'_>) -> io::Result<PathBuf> {
    let mut buffer = vec![0u16; MAX_PATH_UNITS];
    let mut len = buffer.len() as u32;
    // SAFETY: a valid process handle, borrowed for the call; `buffer`
    // holds `len` units and `len` is a valid in/out pointer.
    let ok = unsafe {
        QueryFullProcessImageNameW(
            raw(process),
            PROCESS_NAME_WIN32,
            buffer.as_mut_ptr(),
            &mut len,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    buffer.truncate(len as usize);
    Ok(PathBuf::from(OsString::from_wide(&buffer)))
}

/// The command line the process was started with, as its creator passed
/// it (`ProcessCommandLineInformation`, Windows 8.1 and later; older
/// systems fail with `ERROR_INVALID_PARAMETER`).
pub(crate) fn command_line(process: BorrowedHandle<'_>) -> io::Result<OsString> {
    let bytes = query_variable(raw(process), ProcessCommandLineInformation)?;
    // The buffer starts with a UNICODE_STRING whose text follows it in the
    // same buffer.
    if bytes.len() < std::mem::size_of::<UNICODE_STRING>() {
        return Err(io::Error::from(io::ErrorKind::InvalidData));
    }
    // SAFETY: the buffer holds at least one UNICODE_STRING, written by the
    // kernel; read unaligned since a Vec<u8> promises no alignment.
    let text: UNICODE_STRING = unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast()) };
    let start = text.Buffer as usize;
    let base = bytes.as_ptr() as usize;
    let units = usize::from(text.Length) / 2;
    if start < base || start + units * 2 > base + bytes.len() {
        return Err(io::Error::from(io::ErrorKind::InvalidData));
    }
    let wide: Vec<u16> = bytes[start - base..start - base + units * 2]
        .chunks_exact(2)
        .map(|pair| u16::from_ne_bytes([pair[0], pair[1]]))
        .collect();
    Ok(OsString::from_wide(&wide))
}

/// The PID of the process that created this one
/// (`ProcessBasicInformation`).
pub(crate) fn parent_pid(process: BorrowedHandle<'_>) -> io::Result<u32> {
    let mut info = std::mem::MaybeUninit::<PROCESS_BASIC_INFORMATION>::zeroed();
    let size = std::mem::size_of::<PROCESS_BASIC_INFORMATION>() as u32;
    let mut returned = 0u32;
    // SAFETY: a valid process handle; `info` holds `size` bytes;
    // `returned` is a valid out-pointer.
    let status = unsafe {
        NtQueryInformationProcess(
            raw(process),
            ProcessBasicInformation,
            info.as_mut_ptr().cast(),
            size,
            &mut returned,
        )
    };
    if status < 0 {
        return Err(ntstatus_error(status));
    }
    // SAFETY: zero-initialised (valid for this plain C structure), then
    // filled in by the call.
    let info = unsafe { info.assume_init() };
    Ok(info.InheritedFromUniqueProcessId as u32)
}

/// The Remote Desktop Services session of the process `pid`. Asked by
/// PID: the caller holds a handle that keeps that PID reserved.
pub(crate) fn session_id(pid: u32) -> io::Result<u32> {
    let mut session = 0u32;
    // SAFETY: `session` is a valid out-pointer.
    if unsafe { ProcessIdToSessionId(pid, &mut session) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(session)
}

/// A variable-length `NtQueryInformationProcess` answer, grown until it
/// fits.
fn query_variable(handle: HANDLE, class: i32) -> io::Result<Vec<u8>> {
    let mut size = 512u32;
    for _ in 0..8 {
        let mut buffer = vec![0u8; size as usize];
        let mut needed = 0u32;
        // SAFETY: a valid process handle; `buffer` holds `size` bytes;
        // `needed` is a valid out-pointer.
        let status = unsafe {
            NtQueryInformationProcess(handle, class, buffer.as_mut_ptr().cast(), size, &mut needed)
        };
        if status == STATUS_INFO_LENGTH_MISMATCH {
            size = needed.max(size.saturating_mul(2));
            continue;
        }
        if status < 0 {
            return Err(ntstatus_error(status));
        }
        buffer.truncate(needed.min(size) as usize);
        return Ok(buffer);
    }
    Err(io::Error::from(io::ErrorKind::OutOfMemory))
}

/// An NTSTATUS failure as an `io::Error` (its Win32 error code where
/// there is one).
fn ntstatus_error(status: NTSTATUS) -> io::Error {
    // SAFETY: a pure translation of a status code.
    let code = unsafe { RtlNtStatusToDosError(status) };
    io::Error::from_raw_os_error(code as i32)
}
