//! The watcher's backend where no event mechanism is wired up yet (every OS
//! but Linux, for now): nothing can be registered, so every process is
//! re-checked on the backoff schedule, and `wait` is a sleep that `wake`
//! can cut short. Correct everywhere, but it polls: see the module docs for
//! the cost.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::process::BorrowedProcessHandle;

pub(super) struct Poller {
    woken: Mutex<bool>,
    bell: Condvar,
}

impl Poller {
    pub(super) fn new() -> Result<Poller> {
        Ok(Poller {
            woken: Mutex::new(false),
            bell: Condvar::new(),
        })
    }

    pub(super) fn supports(_handle: BorrowedProcessHandle<'_>) -> bool {
        false
    }

    pub(super) fn register(&self, _handle: BorrowedProcessHandle<'_>, _token: u64) -> Result<()> {
        Err(Error::unsupported(
            "watch",
            "no event backend on this OS: processes are polled",
        ))
    }

    pub(super) fn rearm(&self, handle: BorrowedProcessHandle<'_>, token: u64) -> Result<()> {
        self.register(handle, token)
    }

    pub(super) fn deregister(&self, _handle: BorrowedProcessHandle<'_>) {}

    pub(super) fn wait(&self, timeout: Option<Duration>, _ready: &mut Vec<u64>) -> Result<()> {
        let mut woken = self.woken.lock().unwrap_or_else(|e| e.into_inner());
        if !*woken {
            let timeout = timeout.unwrap_or(Duration::from_secs(24 * 3600));
            woken = self
                .bell
                .wait_timeout(woken, timeout)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *woken = false;
        Ok(())
    }

    pub(super) fn wake(&self) {
        *self.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.bell.notify_all();
    }
}
