//! An I/O completion port as a job object uses it: the kernel posts one
//! packet per job event (a process joined, exited, the job's last active
//! process is gone), with the job's completion key and the message number
//! in the packet's byte count. Thin wrappers, like `api.rs`.

use std::ffi::c_void;
use std::io;
use std::os::windows::io::{AsHandle, BorrowedHandle, FromRawHandle, OwnedHandle};
use std::time::Duration;

use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE, WAIT_TIMEOUT};
use windows_sys::Win32::System::JobObjects::{
    JobObjectAssociateCompletionPortInformation, SetInformationJobObject,
    JOBOBJECT_ASSOCIATE_COMPLETION_PORT,
};
use windows_sys::Win32::System::IO::{
    CreateIoCompletionPort, GetQueuedCompletionStatus, PostQueuedCompletionStatus,
};

use super::api::{check, raw, wait_millis};

/// The job's active process count dropped to zero.
pub(crate) use windows_sys::Win32::System::SystemServices::JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO;

/// One packet taken from a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Packet {
    /// The completion key: the one the job was associated with, or the one
    /// given to [`post`].
    pub key: usize,
    /// For a job: the message (`JOB_OBJECT_MSG_*`).
    pub message: u32,
}

/// A new completion port, not tied to any file. One thread dequeues.
pub(crate) fn create() -> io::Result<OwnedHandle> {
    // SAFETY: INVALID_HANDLE_VALUE with no existing port asks for a new,
    // unattached port; the result is checked for null.
    let port = unsafe { CreateIoCompletionPort(INVALID_HANDLE_VALUE, std::ptr::null_mut(), 0, 1) };
    if port.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh handle that nobody else owns.
    Ok(unsafe { OwnedHandle::from_raw_handle(port as _) })
}

/// Has the kernel post `job`'s messages to `port` under `key`, and those
/// of any job nested in it (a member may make its own).
pub(crate) fn associate(job: BorrowedHandle<'_>, port: &OwnedHandle, key: usize) -> io::Result<()> {
    set_port(job, raw(port.as_handle()), key)
}

/// Ends the association, so that a job left running after we stop reading
/// posts nothing more (Windows 8 and later; older systems, and Wine, keep
/// an association for the job's life and refuse this).
pub(crate) fn dissociate(job: BorrowedHandle<'_>) -> io::Result<()> {
    set_port(job, std::ptr::null_mut(), 0)
}

fn set_port(job: BorrowedHandle<'_>, port: HANDLE, key: usize) -> io::Result<()> {
    let info = JOBOBJECT_ASSOCIATE_COMPLETION_PORT {
        CompletionKey: key as *mut c_void,
        CompletionPort: port,
    };
    // SAFETY: a valid job handle, a valid port handle or null, and a
    // struct of the size passed.
    check(unsafe {
        SetInformationJobObject(
            raw(job),
            JobObjectAssociateCompletionPortInformation,
            (&info as *const JOBOBJECT_ASSOCIATE_COMPLETION_PORT).cast(),
            std::mem::size_of::<JOBOBJECT_ASSOCIATE_COMPLETION_PORT>() as u32,
        )
    })
}

/// Takes the next packet, waiting up to `timeout` (`None`: no limit).
/// `Ok(None)`: the time passed with no packet.
pub(crate) fn dequeue(port: &OwnedHandle, timeout: Option<Duration>) -> io::Result<Option<Packet>> {
    let millis = wait_millis(timeout);
    let (mut bytes, mut key, mut overlapped) = (0u32, 0usize, std::ptr::null_mut());
    // SAFETY: a valid port handle and three valid out-pointers. For job
    // messages the OVERLAPPED pointer carries a process ID, not memory: it
    // is never dereferenced.
    let ok = unsafe {
        GetQueuedCompletionStatus(
            raw(port.as_handle()),
            &mut bytes,
            &mut key,
            &mut overlapped,
            millis,
        )
    };
    if ok != 0 {
        return Ok(Some(Packet {
            key,
            message: bytes,
        }));
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        // No packet: a timeout leaves the OVERLAPPED pointer null.
        Some(code) if code == WAIT_TIMEOUT as i32 && overlapped.is_null() => Ok(None),
        _ => Err(e),
    }
}

/// Queues a packet of our own (`key`, `message`) on `port`.
pub(crate) fn post(port: &OwnedHandle, key: usize, message: u32) -> io::Result<()> {
    // SAFETY: a valid port handle; no OVERLAPPED.
    check(unsafe {
        PostQueuedCompletionStatus(raw(port.as_handle()), message, key, std::ptr::null())
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::process::{Child, Command, Stdio};
    use std::time::Instant;
    use windows_sys::Win32::System::JobObjects::{AssignProcessToJobObject, CreateJobObjectW};

    /// A new, empty job (no limits).
    pub(in crate::sys::windows) fn job() -> OwnedHandle {
        // SAFETY: no attributes, no name; checked for null below.
        let job = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
        assert!(!job.is_null(), "{}", io::Error::last_os_error());
        // SAFETY: a fresh handle nobody else owns.
        unsafe { OwnedHandle::from_raw_handle(job as _) }
    }

    /// A long `ping` (Wine has no `timeout.exe`), output discarded.
    pub(in crate::sys::windows) fn pinger() -> Command {
        let mut command = Command::new("ping");
        command
            .args(["-n", "300", "127.0.0.1"])
            .stdout(Stdio::null());
        command
    }

    /// A long `ping` started into `job`; the caller kills and waits for it.
    pub(in crate::sys::windows) fn member_of(job: &OwnedHandle) -> Child {
        let child = pinger().spawn().unwrap();
        // SAFETY: valid job and process handles.
        let assigned =
            unsafe { AssignProcessToJobObject(raw(job.as_handle()), raw(child.as_handle())) };
        assert_ne!(assigned, 0, "{}", io::Error::last_os_error());
        child
    }

    /// The kernel (and Wine) posts the job's emptiness to its port: the
    /// packets of a job whose one process is killed end with
    /// `JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO` under the job's key.
    #[test]
    fn a_job_port_reports_the_last_exit() {
        let job = job();
        let port = create().unwrap();
        associate(job.as_handle(), &port, 7).unwrap();
        let mut child = member_of(&job);
        child.kill().unwrap();
        child.wait().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            if let Some(packet) = dequeue(&port, Some(Duration::from_secs(1))).unwrap() {
                assert_eq!(packet.key, 7, "{packet:?}");
                seen.push(packet.message);
                if packet.message == JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO {
                    return;
                }
            }
        }
        panic!("no ACTIVE_PROCESS_ZERO; messages seen: {seen:?}");
    }

    #[test]
    fn a_posted_packet_comes_back_and_an_idle_port_times_out() {
        let port = create().unwrap();
        assert_eq!(
            dequeue(&port, Some(Duration::from_millis(1))).unwrap(),
            None
        );
        post(&port, 3, 9).unwrap();
        let packet = dequeue(&port, Some(Duration::from_secs(30))).unwrap();
        assert_eq!(packet, Some(Packet { key: 3, message: 9 }));
    }
}
