//! The process at the other end of a Unix socket.
//!
//! `SO_PEERPIDFD` (Linux 6.5) hands out a pidfd for the peer as it was at
//! `connect`/`socketpair` time: no PID is involved. Before that, and in the
//! guarded-PID mode, `SO_PEERCRED` gives the peer's PID, user and group;
//! the process is opened by that PID and its credentials are compared with
//! the socket's, which catches most but not all PID reuse (best effort).

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::super::errno::{self, Call};
use super::capabilities;
use super::info::parse_status_ids;
use super::Process;
use crate::error::{Error, ErrorKind, Result};

pub(crate) fn peer_process(socket: BorrowedFd<'_>) -> Result<Process> {
    if capabilities().handles() {
        match peer_pidfd(socket) {
            Ok(fd) => {
                return Process::from_handle(fd).map_err(|e| match e.kind() {
                    ErrorKind::Done => Error::new(ErrorKind::Done, "getsockopt(SO_PEERPIDFD)")
                        .with_detail("the peer process has exited and been reaped"),
                    _ => e,
                })
            }
            // Before 6.5 the option is unknown: fall back to SO_PEERCRED.
            Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {}
            Err(e) => return Err(sockopt_error("getsockopt(SO_PEERPIDFD)", e)),
        }
    }
    let cred = peer_cred(socket).map_err(|e| sockopt_error("getsockopt(SO_PEERCRED)", e))?;
    if cred.pid <= 0 {
        return Err(
            Error::new(ErrorKind::NotFound, "getsockopt(SO_PEERCRED)").with_detail(
                "the socket has no peer process (not connected, or in another PID namespace)",
            ),
        );
    }
    let process = Process::open(cred.pid as u32).map_err(|e| match e.kind() {
        ErrorKind::NotFound => Error::new(ErrorKind::Done, "getsockopt(SO_PEERCRED)")
            .with_detail(format!("the peer process {} is gone", cred.pid)),
        _ => e,
    })?;
    // A process that took over the PID is unlikely to also have the
    // peer's user and group; and after opening, the PID is pinned (or
    // guarded), so this check cannot itself be raced.
    let status = std::fs::read_to_string(format!("/proc/{}/status", cred.pid));
    if let Some((uids, gids)) = status.ok().as_deref().and_then(parse_status_ids) {
        if uids.effective != cred.uid || gids.effective != cred.gid {
            return Err(
                Error::new(ErrorKind::Done, "getsockopt(SO_PEERCRED)").with_detail(format!(
                    "PID {} now belongs to a process with other credentials: the peer is gone",
                    cred.pid
                )),
            );
        }
    }
    super::recheck::still_owns_pid(&process, "getsockopt(SO_PEERCRED)")?;
    Ok(process)
}

fn sockopt_error(op: &'static str, e: io::Error) -> Error {
    errno::os_error(Call::PeerSocket, op, e)
}

/// `getsockopt(SOL_SOCKET, SO_PEERPIDFD)`: a new pidfd, which the kernel
/// creates close-on-exec.
fn peer_pidfd(socket: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let mut fd: libc::c_int = -1;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `fd`, an int.
    let ret = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            // 77 in `asm-generic/socket.h`, but sparc numbers it apart.
            libc::SO_PEERPIDFD,
            (&mut fd as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    if fd < 0 || len as usize != size_of::<libc::c_int>() {
        return Err(io::Error::from_raw_os_error(libc::ENOPROTOOPT));
    }
    // SAFETY: a new descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `getsockopt(SOL_SOCKET, SO_PEERCRED)`. Not rustix's `socket_peercred`:
/// its `UCred` holds the PID as a non-zero `Pid`, but the kernel reports 0
/// for a peer outside our PID namespace and for a socket without a peer,
/// the very cases `peer_process` must tell apart.
fn peer_cred(socket: BorrowedFd<'_>) -> io::Result<libc::ucred> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `cred`, a plain
    // struct of integers that any bit pattern initialises validly.
    let ret = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(cred)
}
