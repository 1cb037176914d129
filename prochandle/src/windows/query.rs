//! What Windows can say about a process through its handle: the image
//! path, the command line, the parent's PID and the session. Each call
//! names the process by the handle (or by a PID that the handle keeps
//! reserved), so the answer is about the process the handle pins.

use std::ffi::OsString;
use std::io;
use std::os::windows::ffi::OsStringExt;
use std::path::PathBuf;

use windows_sys::Wdk::System::Threading::{
    NtQueryInformationProcess, ProcessBasicInformation, ProcessCommandLineInformation,
};
use windows_sys::Win32::Foundation::{ERROR_INVALID_PARAMETER, HANDLE, UNICODE_STRING};
use windows_sys::Win32::System::RemoteDesktop::ProcessIdToSessionId;
use windows_sys::Win32::System::Threading::{
    QueryFullProcessImageNameW, PROCESS_NAME_WIN32, PROCESS_QUERY_LIMITED_INFORMATION,
};

use super::{denied_or_os, with_right};
use crate::error::{Error, Result};
use crate::process::Process;

/// `STATUS_INFO_LENGTH_MISMATCH`: the buffer was too small; the needed
/// size is in the returned length.
const INFO_LENGTH_MISMATCH: i32 = 0xC000_0004_u32 as i32;

/// The longest path `QueryFullProcessImageNameW` is asked for, in UTF-16
/// units (the NT limit of 32 767, plus the terminator).
const MAX_PATH_UNITS: usize = 32_768;

/// `PROCESS_BASIC_INFORMATION`, as `NtQueryInformationProcess` fills it.
#[repr(C)]
struct BasicInformation {
    exit_status: i32,
    peb: *mut core::ffi::c_void,
    affinity_mask: usize,
    base_priority: i32,
    unique_process_id: usize,
    inherited_from_unique_process_id: usize,
}

/// `QueryFullProcessImageNameW`, in the Win32 path form.
pub(super) fn image_path(process: &Process) -> Result<PathBuf> {
    const OP: &str = "QueryFullProcessImageNameW";
    with_right(process, PROCESS_QUERY_LIMITED_INFORMATION, OP, |h| {
        let mut buffer = vec![0u16; MAX_PATH_UNITS];
        let mut len = buffer.len() as u32;
        // SAFETY: a valid process handle, borrowed for the call; `buffer`
        // holds `len` units and `len` is a valid in/out pointer.
        let ok = unsafe {
            QueryFullProcessImageNameW(h, PROCESS_NAME_WIN32, buffer.as_mut_ptr(), &mut len)
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        buffer.truncate(len as usize);
        Ok(PathBuf::from(OsString::from_wide(&buffer)))
    })
}

/// The command line the process was started with, as its creator passed
/// it (`ProcessCommandLineInformation`, Windows 8.1 and later).
pub(super) fn command_line(process: &Process) -> Result<OsString> {
    const OP: &str = "NtQueryInformationProcess";
    let line = with_right(process, PROCESS_QUERY_LIMITED_INFORMATION, OP, |h| {
        let bytes = query_variable(h, ProcessCommandLineInformation)?;
        // The buffer starts with a UNICODE_STRING whose text follows it
        // in the same buffer.
        if bytes.len() < std::mem::size_of::<UNICODE_STRING>() {
            return Err(io::Error::from(io::ErrorKind::InvalidData));
        }
        // SAFETY: the buffer holds at least one UNICODE_STRING, written by
        // the kernel; read unaligned since a Vec<u8> promises no alignment.
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
    });
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

/// The PID of the process that created this one. Windows does not
/// re-parent: once the parent has exited, that PID may name another
/// process, or none.
pub(super) fn parent_pid(process: &Process) -> Result<u32> {
    const OP: &str = "NtQueryInformationProcess";
    with_right(process, PROCESS_QUERY_LIMITED_INFORMATION, OP, |h| {
        let mut info = std::mem::MaybeUninit::<BasicInformation>::zeroed();
        let size = std::mem::size_of::<BasicInformation>() as u32;
        let mut returned = 0u32;
        // SAFETY: a valid process handle; `info` holds `size` bytes;
        // `returned` is a valid out-pointer.
        let status = unsafe {
            NtQueryInformationProcess(
                h,
                ProcessBasicInformation,
                info.as_mut_ptr().cast(),
                size,
                &mut returned,
            )
        };
        if status < 0 {
            return Err(ntstatus_error(status));
        }
        // SAFETY: zero-initialised, then filled in by the call.
        let info = unsafe { info.assume_init() };
        Ok(info.inherited_from_unique_process_id as u32)
    })
}

/// The Terminal Services session the process runs in. Asked by PID: the
/// handle the `Process` holds keeps that PID reserved for this process.
pub(super) fn session_id(process: &Process) -> Result<u32> {
    let mut session = 0u32;
    // SAFETY: `session` is a valid out-pointer.
    if unsafe { ProcessIdToSessionId(process.pid(), &mut session) } == 0 {
        return Err(denied_or_os(
            "ProcessIdToSessionId",
            io::Error::last_os_error(),
        ));
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
        if status == INFO_LENGTH_MISMATCH {
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
fn ntstatus_error(status: i32) -> io::Error {
    use windows_sys::Win32::Foundation::RtlNtStatusToDosError;
    // SAFETY: a pure translation of a status code.
    let code = unsafe { RtlNtStatusToDosError(status) };
    io::Error::from_raw_os_error(code as i32)
}
