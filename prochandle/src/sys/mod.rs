//! The OS layer: one backend per platform, each giving the portable layer
//! the same things: a `Process` (`open`, `current`, `from_child`,
//! `from_handle`, `pid`, `handle`, `into_handle`, `is_child`, `signal`,
//! `try_wait`, `wait_until`), the handle types, and `capabilities()`, the
//! probe's cached report. Nothing here imports the portable layer above.

pub(crate) mod container;
pub(crate) mod self_wait;
#[cfg(unix)]
pub(crate) mod unix;
#[cfg(windows)]
pub(crate) mod windows;

#[cfg(unix)]
pub(crate) use unix::container::Container;
#[cfg(target_os = "linux")]
pub(crate) use unix::linux;
#[cfg(unix)]
pub(crate) use unix::{capabilities, BorrowedHandle, OwnedHandle, Process};
#[cfg(windows)]
pub(crate) use windows::job::Container;
#[cfg(windows)]
pub(crate) use windows::{capabilities, BorrowedHandle, OwnedHandle, Process};
