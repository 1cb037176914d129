//! The Toolhelp snapshots: every thread, or every process, of the system
//! at one moment (`CreateToolhelp32Snapshot`). One walk serves both: the
//! freeze and the resume of a suspended child need the threads of some
//! processes, a job's report and its stop need each process's parent and
//! image name.
//!
//! A snapshot names processes and threads by ID only, and says nothing
//! after it was taken: a caller acts on an ID through a handle it opens
//! (and checks), or keeps it for display.

use std::ffi::OsString;
use std::io;
use std::os::windows::ffi::OsStringExt;
use std::os::windows::io::{AsHandle, FromRawHandle, OwnedHandle};

use windows_sys::core::BOOL;
use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, Process32FirstW, Process32NextW, Thread32First, Thread32Next,
    PROCESSENTRY32W, TH32CS_SNAPPROCESS, TH32CS_SNAPTHREAD, THREADENTRY32,
};
use windows_sys::Win32::System::Threading::{OpenThread, THREAD_SUSPEND_RESUME};

use super::api::raw;

/// One process as a snapshot saw it.
#[derive(Debug, Clone)]
pub(crate) struct ProcessEntry {
    pub pid: u32,
    /// The creator's PID when the process was created; Windows does not
    /// re-parent, so that PID may since name another process.
    pub parent_pid: u32,
    /// The image's file name (no directory).
    pub exe: OsString,
}

/// Walks one snapshot of kind `flags`: `first` and `next` fill `entry`,
/// `visit` sees each entry.
fn walk<E>(
    flags: u32,
    mut entry: E,
    first: unsafe extern "system" fn(HANDLE, *mut E) -> BOOL,
    next: unsafe extern "system" fn(HANDLE, *mut E) -> BOOL,
    mut visit: impl FnMut(&E),
) -> io::Result<()> {
    // SAFETY: flags and PID 0 (all processes); the result is checked.
    let snapshot = unsafe { CreateToolhelp32Snapshot(flags, 0) };
    if snapshot == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh handle nobody else owns; closed when dropped.
    let snapshot = unsafe { OwnedHandle::from_raw_handle(snapshot as _) };
    // SAFETY: a valid snapshot handle of the kind `first` reads, and an
    // entry of the type it fills, with its size field set by the caller.
    let mut more = unsafe { first(raw(snapshot.as_handle()), &mut entry) } != 0;
    while more {
        visit(&entry);
        // SAFETY: as for `first`.
        more = unsafe { next(raw(snapshot.as_handle()), &mut entry) } != 0;
    }
    Ok(())
}

/// The IDs of the threads of the processes `pids`.
pub(crate) fn threads_of(pids: &[u32]) -> io::Result<Vec<u32>> {
    let entry = THREADENTRY32 {
        dwSize: std::mem::size_of::<THREADENTRY32>() as u32,
        ..Default::default()
    };
    let mut out = Vec::new();
    walk(TH32CS_SNAPTHREAD, entry, Thread32First, Thread32Next, |e| {
        if pids.contains(&e.th32OwnerProcessID) {
            out.push(e.th32ThreadID);
        }
    })?;
    Ok(out)
}

/// Every process on the system.
pub(crate) fn processes() -> io::Result<Vec<ProcessEntry>> {
    let entry = PROCESSENTRY32W {
        dwSize: std::mem::size_of::<PROCESSENTRY32W>() as u32,
        ..Default::default()
    };
    let mut out = Vec::new();
    walk(
        TH32CS_SNAPPROCESS,
        entry,
        Process32FirstW,
        Process32NextW,
        |e| {
            let len = e.szExeFile.iter().position(|&c| c == 0).unwrap_or(260);
            out.push(ProcessEntry {
                pid: e.th32ProcessID,
                parent_pid: e.th32ParentProcessID,
                exe: OsString::from_wide(&e.szExeFile[..len]),
            });
        },
    )?;
    Ok(out)
}

/// A handle to thread `tid` that may suspend and resume it; `None` if
/// the thread has exited (or is not ours to touch).
pub(crate) fn open_thread(tid: u32) -> Option<OwnedHandle> {
    // SAFETY: access flags and a thread ID; checked for null.
    let thread = unsafe { OpenThread(THREAD_SUSPEND_RESUME, 0, tid) };
    // SAFETY: a fresh handle nobody else owns.
    (!thread.is_null()).then(|| unsafe { OwnedHandle::from_raw_handle(thread as _) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_sees_this_process_its_child_and_its_threads() {
        let me = std::process::id();
        let mut child = std::process::Command::new("ping")
            .args(["-n", "30", "127.0.0.1"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let all = processes();
        child.kill().unwrap();
        child.wait().unwrap();
        let all = all.unwrap();
        let mine = all.iter().find(|p| p.pid == me).expect("this process");
        let exe = std::env::current_exe().unwrap();
        assert_eq!(Some(mine.exe.as_os_str()), exe.file_name(), "{mine:?}");
        let theirs = all.iter().find(|p| p.pid == child.id()).expect("the child");
        assert_eq!(theirs.parent_pid, me, "{theirs:?}");
        assert!(theirs
            .exe
            .to_string_lossy()
            .to_ascii_lowercase()
            .starts_with("ping"));
        assert!(!threads_of(&[me]).unwrap().is_empty());
        assert!(threads_of(&[]).unwrap().is_empty());
    }
}
