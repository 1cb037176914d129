//! Handing a descriptor to a child under a number of the caller's choice.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Arranges for `command`'s child to have `fd` as descriptor `number`,
/// without close-on-exec. The `Command` keeps `fd` (closed when the
/// `Command` is dropped).
pub(crate) fn pass_fd(command: &mut Command, fd: OwnedFd, number: RawFd) -> io::Result<()> {
    let fd = reserve(fd, number)?;
    // SAFETY: runs in the child between fork and exec; dup2 and fcntl are
    // async-signal-safe, and nothing is allocated. The closure owns `fd`,
    // so the descriptor is open until the `Command` is dropped.
    unsafe {
        command.pre_exec(move || {
            let raw = fd.as_raw_fd();
            let rc = if raw == number {
                // Already in place: only let it survive exec.
                libc::fcntl(raw, libc::F_SETFD, 0)
            } else {
                // dup2 leaves the new descriptor without close-on-exec.
                libc::dup2(raw, number)
            };
            if rc < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(())
}

/// Moves `fd` to descriptor `number` in this process (close-on-exec) if
/// that slot is free, so that nothing std opens for the spawn (its exec
/// status pipe) can take the number the child needs. `F_DUPFD_CLOEXEC`
/// takes the lowest free number from `number` on, atomically: a
/// descriptor another thread opened meanwhile is never replaced. If
/// `number` was taken, the copy is dropped and `fd` kept as it is.
fn reserve(fd: OwnedFd, number: RawFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() == number {
        return Ok(fd);
    }
    // SAFETY: F_DUPFD_CLOEXEC on a descriptor we own makes a new one and
    // touches no other.
    let copy = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, number) };
    if copy < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor that nothing else owns.
    let copy = unsafe { OwnedFd::from_raw_fd(copy) };
    Ok(if copy.as_raw_fd() == number { copy } else { fd })
}
