//! One backend per platform, all with the same inner API: a `Process`
//! type with `open`, `current`, `from_child`, `from_handle`, `pid`,
//! `handle`, `into_handle`, `signal`, `try_wait`, `wait`, `wait_timeout`,
//! plus `probe()` for the capability report.

#[cfg(target_os = "linux")]
pub(crate) mod linux;
#[cfg(unix)]
pub(crate) mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(windows)]
pub(crate) mod windows;
#[cfg(windows)]
pub(crate) use windows::*;
