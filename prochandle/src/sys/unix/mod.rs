//! Unix: one process state machine (`process.rs`) over an explicit seam
//! (`backend.rs`), implemented once per OS: `linux/` (pidfds, `/proc`) and
//! `bsd/` (macOS and FreeBSD: guarded PIDs, kqueue).
//!
//! The shared pieces beside the state machine: `guarded.rs` (the PID
//! mode's identity checks) and `errno.rs` (the one errno table). Scopes:
//! `pgroup.rs`, the process group every Unix has; Linux chooses among its
//! mechanisms in `linux/scope/`, macOS and FreeBSD take the group.
//! The state machine's unit tests (`process_tests.rs`) run it over a
//! scripted OS (`fake_backend.rs`).

mod backend;
#[cfg(any(target_os = "macos", target_os = "freebsd"))]
pub(crate) mod bsd;
mod cvt;
pub(crate) mod disposition;
pub(crate) mod errno;
#[cfg(test)]
mod fake_backend;
mod guarded;
#[cfg(target_os = "linux")]
pub(crate) mod linux;
pub(crate) mod pgroup;
mod pin;
mod process;
#[cfg(test)]
mod process_tests;
#[cfg(any(feature = "tokio", feature = "async-io"))]
pub(crate) mod reactor_fd;
pub(crate) mod rlimit;
mod wait_status;

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "freebsd")))]
compile_error!("prochandle supports Linux, macOS, FreeBSD and Windows");

use std::os::fd::{BorrowedFd, OwnedFd};

#[cfg(any(target_os = "macos", target_os = "freebsd"))]
pub(crate) use bsd::poller::{EmptyNotifier, Poller, ScopeWatch};
#[cfg(any(target_os = "macos", target_os = "freebsd"))]
pub(crate) use bsd::{capabilities, new_scope, Process};
#[cfg(target_os = "linux")]
pub(crate) use linux::poller::{EmptyNotifier, Poller, ScopeWatch};
#[cfg(target_os = "linux")]
pub(crate) use linux::{capabilities, scope::new_scope, Process};

/// The owned handle type on Unix.
pub(crate) type OwnedHandle = OwnedFd;
/// The borrowed handle type on Unix.
pub(crate) type BorrowedHandle<'a> = BorrowedFd<'a>;
