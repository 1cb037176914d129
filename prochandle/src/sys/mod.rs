//! One backend per platform, all with the same inner API: a `Process`
//! type with `open`, `current`, `from_child`, `from_handle`, `pid`,
//! `handle`, `into_handle`, `signal`, `try_wait`, `wait`, `wait_timeout`,
//! plus `probe()` for the capability report.

#[cfg(unix)]
pub(crate) mod unix;
#[cfg(unix)]
pub(crate) use unix::*;
#[cfg(target_os = "linux")]
pub(crate) use unix::linux;

#[cfg(windows)]
pub(crate) mod windows;
#[cfg(windows)]
pub(crate) use windows::*;

/// A process waiting for its own exit: an error without a deadline (it would
/// never return), else a sleep until the deadline that finds it alive. The
/// same rule on every platform.
pub(crate) fn wait_for_self(
    deadline: Option<std::time::Instant>,
) -> crate::Result<Option<crate::ProcessState>> {
    match deadline {
        None => Err(crate::Error::invalid_input(
            "wait",
            "a process cannot wait for its own exit",
        )),
        Some(d) => {
            std::thread::sleep(d.saturating_duration_since(std::time::Instant::now()));
            Ok(None)
        }
    }
}
