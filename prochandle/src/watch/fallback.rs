//! The watcher's backend where no event mechanism is wired up (any OS but
//! Linux, Windows, macOS and FreeBSD; the core supports no other today, so
//! this is a template for a port more than live code): nothing can be registered, so every process is
//! re-checked on the backoff schedule, and `wait` is a sleep that `wake`
//! can cut short. Correct everywhere, but it polls: see the module docs for
//! the cost.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::error::Result;
use crate::process::Process;

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

    /// Nothing is ever armed here, so there is nothing to check after.
    pub(super) const CHECK_AFTER_ARM: bool = false;

    /// Always `false`: nothing can be armed, the process is polled.
    pub(super) fn register(&self, _process: &Process, _token: u64) -> Result<bool> {
        Ok(false)
    }

    pub(super) fn rearm(&self, _process: &Process, _token: u64) -> Result<bool> {
        Ok(false)
    }

    pub(super) fn deregister(&self, _process: &Process, _token: u64) {}

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
