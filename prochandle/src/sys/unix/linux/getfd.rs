//! `pidfd_getfd(2)` (Linux 5.6): duplicate a descriptor out of another
//! process.

use std::os::fd::{OwnedFd, RawFd};

use std::os::fd::BorrowedFd;
use std::time::Instant;

use rustix::process::{pidfd_getfd, PidfdGetfdFlags};

use super::super::errno::{self, Call};
use super::capabilities;
use super::Process;
use crate::capabilities::Feature;
use crate::error::{Error, Result};

const OP: &str = "pidfd_getfd";

/// Duplicates `target_fd` of `process` into this process. The kernel always
/// sets `O_CLOEXEC` on the copy.
pub(crate) fn get_fd(process: &Process, target_fd: RawFd) -> Result<OwnedFd> {
    let Some(pidfd) = process.handle() else {
        return Err(Error::unsupported(
            OP,
            "needs a pidfd and pidfd_getfd (Linux 5.6+); this process is tracked by a guarded PID",
        ));
    };
    if !capabilities().is_available(Feature::PidfdGetfd) {
        return Err(Error::unsupported(
            OP,
            "pidfd_getfd is unavailable (needs Linux 5.6+)",
        ));
    }
    if target_fd < 0 {
        return Err(Error::invalid_input(
            OP,
            format!("{target_fd} is not a file descriptor number"),
        ));
    }
    pidfd_getfd(pidfd, target_fd, PidfdGetfdFlags::empty()).map_err(|errno| {
        let call = Call::TakeFd {
            fd: target_fd,
            pid: process.pid(),
            exited: exited(pidfd),
        };
        errno::os_error(call, OP, errno.into())
    })
}

/// A pidfd polls readable once its process has exited.
fn exited(pidfd: BorrowedFd<'_>) -> bool {
    super::poll_pidfd(pidfd, Some(Instant::now())).unwrap_or(false)
}
