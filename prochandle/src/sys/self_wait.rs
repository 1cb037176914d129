//! One rule for a process waiting on itself, on every platform.

use std::time::Instant;

use crate::error::{Error, Result};
use crate::state::ProcessState;

/// A process waiting for its own exit: an error without a deadline (it would
/// never return), else a sleep until the deadline that finds it alive.
pub(crate) fn wait_for_self(deadline: Option<Instant>) -> Result<Option<ProcessState>> {
    match deadline {
        None => Err(Error::invalid_input(
            "wait",
            "a process cannot wait for its own exit",
        )),
        Some(d) => {
            std::thread::sleep(super::timeout::remaining(Some(d)).unwrap_or_default());
            Ok(None)
        }
    }
}
