//! The one errno → [`ErrorKind`] table of the Unix backends.
//!
//! The same errno means different things to different calls (`ESRCH` from
//! `pidfd_open` is "no such process", from `pidfd_send_signal` "it has
//! exited", from a `/proc` read "it has gone"), so the table is keyed by
//! what the call was about ([`Call`]) as well as by the errno. Every Unix
//! call site maps its errors here; none keeps a mapping of its own.

use std::io;

use crate::error::{Error, ErrorKind};
use crate::fd_limit::{is_out_of_descriptors, out_of_descriptors};

/// What the failing call was about. (The `/proc`, socket, namespace and
/// epoll calls are Linux's; elsewhere only the core calls exist.)
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) enum Call {
    /// Opening (or reading the identity of) the process with this PID.
    Open(i32),
    /// Sending a signal to a process or thread.
    Signal,
    /// Reading `/proc/<pid>/…` of a process held by this PID.
    ReadProc(u32),
    /// Asking a Unix socket about its peer.
    PeerSocket,
    /// Opening or joining a namespace of the process with this PID.
    Namespace(u32),
    /// Making a descriptor (an epoll instance, an eventfd, a duplicate).
    NewDescriptor,
    /// Adding a descriptor to an epoll instance.
    EpollAdd,
    /// Asking a descriptor which process it is a pidfd of
    /// (`PIDFD_GET_INFO`).
    PidfdOf,
    /// Signalling thread `tid` of process `pid`, which (`owner_here`) still
    /// holds its PID: then `ESRCH` is about the thread, not the process.
    Thread {
        tid: i32,
        pid: u32,
        owner_here: bool,
    },
    /// Taking descriptor `fd` out of process `pid` (`pidfd_getfd`), which
    /// has `exited` or not: a zombie has closed every descriptor.
    TakeFd { fd: i32, pid: u32, exited: bool },
}

/// Classifies `e`, returned by `op`, in the light of `call`.
pub(crate) fn os_error(call: Call, op: &'static str, e: io::Error) -> Error {
    use ErrorKind::*;
    if is_out_of_descriptors(&e) {
        return out_of_descriptors(op, e);
    }
    let Some(errno) = e.raw_os_error() else {
        return Error::os(op, e);
    };
    let (kind, detail): (ErrorKind, String) = match (call, errno) {
        // ENOENT: no /proc/<pid> entry (the middle tier's open), or
        // pidfd_open of a PID that names no thread-group leader (a thread
        // ID is told apart before this).
        (Call::Open(pid), libc::ESRCH | libc::ENOENT) => return Error::not_found(op, pid.into()),
        // pidfd_open answers EINVAL for a process in the middle of exiting
        // (its thread group already gone, the PID not yet freed: systemd
        // #36982). Thread IDs, the other EINVAL, are told apart before this.
        (Call::Open(pid), libc::EINVAL) => (
            NotFound,
            format!("process {pid} is exiting: it is gone for all that can be done with it"),
        ),
        (
            Call::Thread {
                tid,
                pid,
                owner_here: true,
            },
            libc::ESRCH,
        ) => (NotFound, format!("no thread {tid} in process {pid}")),
        (Call::Thread { pid, .. }, libc::ESRCH) => (Done, format!("process {pid} is gone")),
        (Call::Signal, libc::ESRCH) => (Done, "the process has exited".into()),
        (Call::Signal | Call::Thread { .. }, libc::EINVAL) => (
            InvalidInput,
            "not a valid signal number on this system".into(),
        ),
        (Call::Signal | Call::Thread { .. }, libc::EPERM) => (
            PermissionDenied,
            "no permission to signal this process (different user?)".into(),
        ),
        (Call::ReadProc(pid), libc::ENOENT | libc::ESRCH) => {
            (Done, format!("process {pid} is gone"))
        }
        (Call::ReadProc(pid) | Call::Namespace(pid), libc::EACCES | libc::EPERM) => (
            PermissionDenied,
            format!("no permission to read /proc/{pid} (another user's process?)"),
        ),
        (Call::Namespace(pid), libc::ESRCH | libc::ENOENT) => (
            Done,
            format!("process {pid} has exited and left its namespaces"),
        ),
        (Call::Namespace(_), libc::EOPNOTSUPP) => {
            (Unsupported, "this kernel lacks that namespace type".into())
        }
        _ => match descriptor_meaning(call, errno) {
            Some(meaning) => meaning,
            None => return Error::os(op, e),
        },
    };
    Error::os_kind(kind, op, e).with_detail(detail)
}

/// The part of the table about calls on a descriptor the caller passed in
/// or made: a socket, an epoll instance, a pidfd.
fn descriptor_meaning(call: Call, errno: i32) -> Option<(ErrorKind, String)> {
    use ErrorKind::*;
    Some(match (call, errno) {
        (Call::PeerSocket, libc::ENOTSOCK) => {
            (InvalidInput, "the descriptor is not a socket".into())
        }
        (Call::PeerSocket, libc::ENOPROTOOPT) => (InvalidInput, "not a Unix domain socket".into()),
        (Call::PeerSocket, libc::ENOTCONN) => (InvalidInput, "the socket is not connected".into()),
        (Call::PeerSocket, libc::ESRCH) => (Done, "the peer process has exited".into()),
        (Call::EpollAdd, libc::ENOSPC) => (
            Other,
            "the per-user limit on epoll watches is reached \
             (/proc/sys/fs/epoll/max_user_watches)"
                .into(),
        ),
        (Call::PidfdOf, libc::ESRCH) => {
            (Done, "the pidfd's process has already been reaped".into())
        }
        (Call::PidfdOf, libc::ENOTTY | libc::EINVAL) => {
            (InvalidInput, "the descriptor is not a pidfd".into())
        }
        (
            Call::TakeFd {
                pid, exited: true, ..
            },
            libc::EBADF,
        )
        | (Call::TakeFd { pid, .. }, libc::ESRCH) => (Done, format!("process {pid} has exited")),
        (Call::TakeFd { fd, pid, .. }, libc::EBADF) => (
            InvalidInput,
            format!("descriptor {fd} is not open in process {pid}"),
        ),
        (Call::TakeFd { pid, .. }, libc::EPERM) => (
            PermissionDenied,
            format!(
                "taking a descriptor needs ptrace-attach rights over process {pid}: the same \
                 user and a dumpable target (not setuid, no PR_SET_DUMPABLE 0), within \
                 Yama's ptrace_scope, or CAP_SYS_PTRACE"
            ),
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errno(call: Call, code: i32) -> ErrorKind {
        os_error(call, "op", io::Error::from_raw_os_error(code)).kind()
    }

    #[test]
    fn one_errno_means_what_the_call_makes_of_it() {
        assert_eq!(errno(Call::Open(7), libc::ESRCH), ErrorKind::NotFound);
        assert_eq!(errno(Call::Open(7), libc::EINVAL), ErrorKind::NotFound);
        assert_eq!(errno(Call::Signal, libc::ESRCH), ErrorKind::Done);
        assert_eq!(errno(Call::ReadProc(7), libc::ESRCH), ErrorKind::Done);
        assert_eq!(errno(Call::ReadProc(7), libc::ENOENT), ErrorKind::Done);
        assert_eq!(
            errno(Call::Signal, libc::EPERM),
            ErrorKind::PermissionDenied
        );
        assert_eq!(errno(Call::Signal, libc::EINVAL), ErrorKind::InvalidInput);
        assert_eq!(
            errno(Call::PeerSocket, libc::ENOTSOCK),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            errno(Call::Namespace(7), libc::EOPNOTSUPP),
            ErrorKind::Unsupported
        );
        assert_eq!(errno(Call::Signal, libc::EIO), ErrorKind::Other);
        let thread = |owner_here| Call::Thread {
            tid: 8,
            pid: 7,
            owner_here,
        };
        assert_eq!(errno(thread(true), libc::ESRCH), ErrorKind::NotFound);
        assert_eq!(errno(thread(false), libc::ESRCH), ErrorKind::Done);
        assert_eq!(
            errno(thread(true), libc::EPERM),
            ErrorKind::PermissionDenied
        );
        assert_eq!(errno(Call::PidfdOf, libc::ESRCH), ErrorKind::Done);
        assert_eq!(errno(Call::PidfdOf, libc::ENOTTY), ErrorKind::InvalidInput);
        let take = |exited| Call::TakeFd {
            fd: 3,
            pid: 7,
            exited,
        };
        assert_eq!(errno(take(true), libc::EBADF), ErrorKind::Done);
        assert_eq!(errno(take(false), libc::EBADF), ErrorKind::InvalidInput);
        assert_eq!(errno(take(false), libc::ESRCH), ErrorKind::Done);
        assert_eq!(errno(take(false), libc::EPERM), ErrorKind::PermissionDenied);
        assert_eq!(
            errno(Call::NewDescriptor, libc::EINVAL),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn out_of_descriptors_is_said_for_every_call() {
        let err = os_error(
            Call::Open(7),
            "pidfd_open",
            io::Error::from_raw_os_error(libc::EMFILE),
        );
        assert_eq!(err.raw_os_error(), Some(libc::EMFILE));
        assert!(err.to_string().contains("descriptor"), "{err}");
    }
}
