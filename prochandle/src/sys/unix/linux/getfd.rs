//! `pidfd_getfd(2)` (Linux 5.6): duplicate a descriptor out of another
//! process.

use std::os::fd::{OwnedFd, RawFd};

use std::os::fd::BorrowedFd;
use std::time::Instant;

use rustix::process::{pidfd_getfd, PidfdGetfdFlags};

use super::capabilities;
use super::Process;
use crate::capabilities::Feature;
use crate::error::{Error, ErrorKind, Result};

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
        let e = std::io::Error::from(errno);
        let pid = process.pid();
        match errno {
            // A zombie has closed all its descriptors: say it is gone.
            rustix::io::Errno::BADF if exited(pidfd) => Error::os_kind(ErrorKind::Done, OP, e)
                .with_detail(format!("process {pid} has exited")),
            rustix::io::Errno::BADF => Error::os_kind(ErrorKind::InvalidInput, OP, e).with_detail(
                format!("descriptor {target_fd} is not open in process {pid}"),
            ),
            rustix::io::Errno::PERM => Error::os_kind(ErrorKind::PermissionDenied, OP, e)
                .with_detail(format!(
                    "taking a descriptor needs ptrace-attach rights over process {pid}: the same \
                     user and a dumpable target (not setuid, no PR_SET_DUMPABLE 0), within \
                     Yama's ptrace_scope, or CAP_SYS_PTRACE"
                )),
            rustix::io::Errno::SRCH => Error::os_kind(ErrorKind::Done, OP, e)
                .with_detail(format!("process {pid} has exited")),
            _ => Error::os(OP, e),
        }
    })
}

/// A pidfd polls readable once its process has exited.
fn exited(pidfd: BorrowedFd<'_>) -> bool {
    super::poll_pidfd(pidfd, Some(Instant::now())).unwrap_or(false)
}
