//! The pidfd an async runtime's reactor registers for an exit future
//! (`asyncio`): the process's own descriptor, lent by number, or a
//! duplicate of it.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// The pidfd handed to the reactor: the `Process`'s own, or a duplicate
/// when the reactor already has that one.
// `pub` only because the sealed `asyncio::Reactor` names it; not reachable
// from outside the crate.
pub enum Pidfd {
    /// The process's own pidfd, by number. It stays open as long as the
    /// future that registered it: the future keeps the `Process` (borrowed
    /// or shared) and drops its registration first, and a `Process` never
    /// closes its pidfd while it is borrowed.
    Borrowed(RawFd),
    /// A duplicate, closed when the registration is dropped.
    Owned(OwnedFd),
}

impl AsRawFd for Pidfd {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Pidfd::Borrowed(fd) => *fd,
            Pidfd::Owned(fd) => fd.as_raw_fd(),
        }
    }
}

impl AsFd for Pidfd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            // SAFETY: the descriptor is open for as long as this `Pidfd`
            // exists (see `Pidfd::Borrowed`), which covers the borrow.
            Pidfd::Borrowed(fd) => unsafe { BorrowedFd::borrow_raw(*fd) },
            Pidfd::Owned(fd) => fd.as_fd(),
        }
    }
}
