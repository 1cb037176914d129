//! Asking the system what it lets the crate do: the probe, run once per
//! process. (The report's types are in `capabilities.rs`, below the OS layer
//! that fills them in.)
//!
//! The probe runs lazily on first use (any `Process` constructor, or
//! [`capabilities()`]), caches its answer for the life of the process and
//! creates no child processes. On Linux it checks each pidfd feature
//! separately, so that a kernel or sandbox that lacks one of them loses only
//! that one.

use crate::capabilities::Capabilities;
use crate::sys;

/// The probe's report for this process: probed on the first call, then
/// cached.
///
/// ```
/// let caps = prochandle::capabilities();
/// println!("{}: handles {}", caps.platform(), caps.handles());
/// ```
pub fn capabilities() -> &'static Capabilities {
    sys::capabilities()
}

/// Whether a process handle (pidfd, HANDLE) is in use, answered without
/// creating a `Process`: the first question Go's `WithHandle` answers.
///
/// ```
/// println!("process handles in use: {}", prochandle::handles_available());
/// ```
pub fn handles_available() -> bool {
    capabilities().handles()
}
