//! The watcher's poller on Windows (see `sys/poll.rs`): each process
//! `HANDLE` is registered with
//! the system thread pool (`RegisterWaitForSingleObject`, one-shot), whose
//! callback queues the token and sets one event that `next` sleeps on.
//!
//! Why this and not `WaitForMultipleObjects`: that call takes at most 64
//! handles, so watching thousands would need a thread per 63 processes
//! (plus one slot for a wake event), threads we would have to start, stop,
//! rebalance and synchronise. The thread pool already does exactly that
//! multiplexing, inside the OS: no thread per process and no polling, but
//! it is the pool that waits on our behalf, with one pool wait thread per
//! 63 handles in the classic design (and in Wine), more packed on newer
//! Windows. The thread calling `next` sleeps on one event.
//!
//! The callback runs in the pool's wait thread (`WT_EXECUTEINWAITTHREAD`):
//! it only pushes a token and sets an event, so it cannot hold up the
//! other waits of that thread, and nothing has to be dispatched to a worker.
//!
//! Lifetimes: a callback reads a heap `Context` (the token and the shared
//! queue). Every registration ends with `UnregisterWaitEx(wait,
//! INVALID_HANDLE_VALUE)`, which returns only once no callback of that
//! wait is running or can start; only then is the context freed. Should
//! that call fail, the context is leaked rather than risk a callback
//! reading freed memory. The process handle a wait watches must stay open
//! until then too: the watcher unregisters before it hands a process back,
//! and drops its poller (unregistering everything) before its processes.
//!
//! A process handle is signalled from its exit on, for good: registering
//! one that has already exited fires at once, and a signal is never
//! spurious, so no check is needed after arming.
//!
//! A scope is registered through a listener of its job's completion port
//! (`empty.rs`): an auto-reset event set at each emptiness. Its
//! pool wait is standing, not one-shot: each set wakes the wait once and
//! is consumed by it, so each emptiness queues the token once, and the
//! watcher confirms it with `Scope::is_empty`. The event stays open until
//! the wait has ended, like a process handle.

use std::collections::HashMap;
use std::ffi::c_void;
use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use windows_sys::Win32::Foundation::{
    ERROR_ACCESS_DENIED, HANDLE, INVALID_HANDLE_VALUE, WAIT_FAILED,
};
use windows_sys::Win32::System::Threading::{
    RegisterWaitForSingleObject, SetEvent, UnregisterWaitEx, WaitForSingleObject, INFINITE,
    WT_EXECUTEINWAITTHREAD, WT_EXECUTEONLYONCE,
};

use super::empty::Listener;
use crate::error::{Error, Result};
use crate::sys::poll::Target;

/// Longest single sleep, as on Linux; callers simply loop.
const MAX_SLEEP_MS: u32 = 24 * 3600 * 1000;

/// What the pool's callbacks share with `wait`.
struct Shared {
    /// Tokens whose process handle was signalled, not yet taken by `wait`.
    ready: Mutex<Vec<u64>>,
    /// An auto-reset event: set by a callback or by `wake`, slept on by
    /// `wait`. Each set wakes one sleeper.
    bell: OwnedHandle,
}

impl Shared {
    fn ring(&self) {
        // SAFETY: an event handle we own, open as long as `self`. Fails
        // only for a bad handle, which this is not.
        unsafe { SetEvent(self.bell.as_raw_handle() as HANDLE) };
    }
}

/// What one registration's callback reads.
struct Context {
    shared: Arc<Shared>,
    token: u64,
}

/// One live pool wait and the context its callback reads.
struct Registration {
    wait: HANDLE,
    context: *mut Context,
}

// SAFETY: the wait handle is a pool object usable from any thread, and the
// context is only freed (by whichever thread unregisters) once the pool
// has promised not to touch it again; `Context` itself is Send + Sync.
unsafe impl Send for Registration {}

impl Registration {
    /// Ends the wait, blocking until its callback, if running, returns;
    /// then frees the context.
    fn end(self) {
        // SAFETY: a wait handle from RegisterWaitForSingleObject, ended
        // exactly once (`self` is consumed). INVALID_HANDLE_VALUE asks the
        // call to wait for a running callback. We never call this from a
        // callback, which would deadlock.
        let ended = unsafe { UnregisterWaitEx(self.wait, INVALID_HANDLE_VALUE) } != 0;
        if ended {
            // SAFETY: from Box::into_raw in `register`; the wait is gone
            // and no callback is running, so nothing else holds it.
            drop(unsafe { Box::from_raw(self.context) });
        }
        // Else leak the context: a few bytes, never a use-after-free.
    }
}

/// What tells of a scope's emptiness: a listener of its job's port.
pub(crate) type EmptyNotifier = Listener;

/// A scope's emptiness in the pool: its listener and the pool's wait on
/// the listener's event. Dropping it ends the wait (no callback runs
/// after), then closes the listener.
pub(crate) struct ScopeWatch {
    wait: Option<Registration>,
    _listener: Listener,
}

impl Drop for ScopeWatch {
    fn drop(&mut self) {
        if let Some(wait) = self.wait.take() {
            wait.end();
        }
    }
}

pub(crate) struct Poller {
    shared: Arc<Shared>,
    waits: Mutex<HashMap<u64, Registration>>,
}

impl Poller {
    /// A process handle's signal is permanent and never spurious.
    pub(crate) const CHECK_AFTER_ARM: bool = false;

    pub(crate) fn new() -> Result<Poller> {
        let bell = crate::sys::windows::api::auto_reset_event()
            .map_err(|e| Error::os("CreateEventW", e))?;
        Ok(Poller {
            shared: Arc::new(Shared {
                ready: Mutex::new(Vec::new()),
                bell,
            }),
            waits: Mutex::new(HashMap::new()),
        })
    }

    /// Asks the pool to report `target`'s exit once, under `token`.
    /// `false`: its handle lacks `SYNCHRONIZE` (an `open` that got fewer
    /// rights), so it cannot be waited on and is polled instead.
    pub(crate) fn register(&self, target: Target<'_>, token: u64) -> Result<bool> {
        let Some(handle) = target.handle else {
            return Ok(false);
        };
        let raw = handle.as_raw_handle() as HANDLE;
        // A handle the pool cannot wait on must never reach it: a pool
        // wait thread waits on up to 63 handles in one call, and one handle
        // without SYNCHRONIZE makes that whole call fail, silencing the
        // other waits (seen under Wine; registration itself succeeds). A
        // zero-timeout wait finds out first.
        // SAFETY: a valid, borrowed handle; no timeout.
        if unsafe { WaitForSingleObject(raw, 0) } == WAIT_FAILED {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(code) if code == ERROR_ACCESS_DENIED as i32 => Ok(false),
                _ => Err(Error::os("WaitForSingleObject", e)),
            };
        }
        let Some(registration) = self.arm(raw, token, WT_EXECUTEONLYONCE)? else {
            return Ok(false);
        };
        let previous = self.lock_waits().insert(token, registration);
        if let Some(previous) = previous {
            previous.end();
        }
        Ok(true)
    }

    /// Has the pool call back with `token` when `handle` is signalled:
    /// once (`WT_EXECUTEONLYONCE`) or each time (`0`). `None`: the handle
    /// refuses to be waited on (`ERROR_ACCESS_DENIED`).
    fn arm(&self, handle: HANDLE, token: u64, once: u32) -> Result<Option<Registration>> {
        let context = Box::into_raw(Box::new(Context {
            shared: Arc::clone(&self.shared),
            token,
        }));
        let mut wait: HANDLE = std::ptr::null_mut();
        // SAFETY: `wait` is a valid out-pointer; the handle is open, and
        // stays open until the registration ends (module docs); the context
        // stays valid until then too; the callback matches
        // WAITORTIMERCALLBACK.
        let ok = unsafe {
            RegisterWaitForSingleObject(
                &mut wait,
                handle,
                Some(on_signalled),
                context as *const c_void,
                INFINITE,
                once | WT_EXECUTEINWAITTHREAD,
            )
        };
        if ok == 0 {
            let e = io::Error::last_os_error();
            // SAFETY: nothing was registered, so no callback holds it.
            drop(unsafe { Box::from_raw(context) });
            return match e.raw_os_error() {
                Some(code) if code == ERROR_ACCESS_DENIED as i32 => Ok(None),
                _ => Err(Error::os("RegisterWaitForSingleObject", e)),
            };
        }
        Ok(Some(Registration { wait, context }))
    }

    /// Registers a scope's emptiness under `token`: a listener of its
    /// job's completion port (see `sys/windows/empty.rs`), whose
    /// auto-reset event the pool waits on for good (not one-shot). Each
    /// emptiness sets the event once and each wait consumes it, so each
    /// emptiness is reported once, edge-triggered like `cgroup.events` on
    /// Linux. The caller checks the scope right after: an emptiness
    /// before the listener existed is found by that check. `None`: the job
    /// cannot be waited on, and the scope is re-checked on the backoff
    /// schedule.
    pub(crate) fn register_scope(
        &self,
        listener: EmptyNotifier,
        token: u64,
    ) -> Result<Option<ScopeWatch>> {
        let event = listener.event().as_raw_handle() as HANDLE;
        // An event we created with all rights cannot refuse the wait.
        let Some(wait) = self.arm(event, token, 0)? else {
            return Ok(None);
        };
        Ok(Some(ScopeWatch {
            wait: Some(wait),
            _listener: listener,
        }))
    }

    /// Registers a new one-shot wait in place of a spent one.
    pub(crate) fn rearm(&self, target: Target<'_>, token: u64) -> Result<bool> {
        self.deregister(target, token);
        self.register(target, token)
    }

    /// Ends `token`'s wait; once this returns, its callback is not running
    /// and never will.
    pub(crate) fn deregister(&self, _target: Target<'_>, token: u64) {
        // Not under the map's lock: ending may wait for a callback.
        let registration = self.lock_waits().remove(&token);
        if let Some(registration) = registration {
            registration.end();
        }
    }

    /// Sleeps until a callback or `wake` sets the event, or `timeout`
    /// passes; appends the signalled tokens to `ready`.
    pub(crate) fn wait(&self, timeout: Option<Duration>, ready: &mut Vec<u64>) -> Result<()> {
        let ms = timeout.map_or(MAX_SLEEP_MS, |t| {
            crate::sys::timeout::ceil_millis(t, MAX_SLEEP_MS)
        });
        // SAFETY: an event handle owned by `self.shared`.
        let woke = unsafe { WaitForSingleObject(self.shared.bell.as_raw_handle() as HANDLE, ms) };
        if woke == WAIT_FAILED {
            return Err(Error::os("WaitForSingleObject", io::Error::last_os_error()));
        }
        // Taken whatever woke us: a token queued after an earlier `wait`
        // drained the queue left the event set, and is found now.
        ready.append(&mut self.shared.ready.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(())
    }

    /// Makes a sleeping (or the next) `wait` return.
    pub(crate) fn wake(&self) {
        self.shared.ring();
    }

    fn lock_waits(&self) -> MutexGuard<'_, HashMap<u64, Registration>> {
        self.waits.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        let waits = std::mem::take(&mut *self.lock_waits());
        for (_, registration) in waits {
            registration.end();
        }
    }
}

/// The pool's callback: queue the token, ring the bell. Runs in a pool
/// wait thread; must be short and must not unwind.
unsafe extern "system" fn on_signalled(context: *mut c_void, _timed_out: bool) {
    // SAFETY: the pointer given to RegisterWaitForSingleObject; the context
    // is freed only after UnregisterWaitEx(INVALID_HANDLE_VALUE) returned,
    // which waits for this callback.
    let context = unsafe { &*(context as *const Context) };
    context
        .shared
        .ready
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(context.token);
    context.shared.ring();
}

#[cfg(test)]
mod tests {
    use super::super::empty::EmptyWatch;
    use super::super::port::tests::{job, member_of, pinger};
    use super::super::{api, Process};
    use super::*;
    use std::process::Child;
    use std::time::Instant;
    use windows_sys::Win32::System::Threading::PROCESS_QUERY_LIMITED_INFORMATION;

    /// A long `ping` and a handle of it; the test kills and waits for the
    /// child.
    fn pinger_process() -> (Child, Process) {
        let child = pinger().spawn().unwrap();
        let process = Process::from_child(&child).unwrap();
        (child, process)
    }

    fn target(p: &Process) -> Target<'_> {
        Target {
            pid: p.pid(),
            handle: p.handle(),
        }
    }

    fn end(mut child: Child) {
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Waits (bounded) until `token` shows up in the poller's reports.
    fn reported(poller: &Poller, token: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut ready = Vec::new();
        while Instant::now() < deadline && !ready.contains(&token) {
            poller
                .wait(Some(Duration::from_secs(1)), &mut ready)
                .unwrap();
        }
        ready.contains(&token)
    }

    #[test]
    fn the_pool_reports_an_exit_once_armed() {
        let poller = Poller::new().unwrap();
        let (mut child, p) = pinger_process();
        assert!(
            poller.register(target(&p), 7).unwrap(),
            "a spawned handle is armed"
        );
        let mut ready = Vec::new();
        poller
            .wait(Some(Duration::from_millis(200)), &mut ready)
            .unwrap();
        assert!(ready.is_empty(), "nothing exited: {ready:?}");
        child.kill().unwrap();
        assert!(reported(&poller, 7));
        poller.deregister(target(&p), 7);
        child.wait().unwrap();
    }

    #[test]
    fn an_exited_process_fires_at_registration_and_rearming_fires_again() {
        let poller = Poller::new().unwrap();
        let (child, p) = pinger_process();
        end(child);
        assert!(poller.register(target(&p), 1).unwrap());
        assert!(reported(&poller, 1));
        assert!(poller.rearm(target(&p), 1).unwrap());
        assert!(reported(&poller, 1));
        // Dropping the poller ends the spent wait it still holds.
    }

    #[test]
    fn wake_ends_a_wait_and_a_removed_wait_never_reports() {
        let poller = Poller::new().unwrap();
        let (child, p) = pinger_process();
        assert!(poller.register(target(&p), 3).unwrap());
        poller.deregister(target(&p), 3);
        end(child);
        poller.wake();
        let start = Instant::now();
        let mut ready = Vec::new();
        poller
            .wait(Some(Duration::from_secs(30)), &mut ready)
            .unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "wake did not wake"
        );
        poller
            .wait(Some(Duration::from_millis(300)), &mut ready)
            .unwrap();
        assert!(ready.is_empty(), "a deregistered wait reported: {ready:?}");
    }

    /// A scope is not polled here: a listener of its job's port rings the
    /// pool's wait, which reports the scope's token when the last member
    /// exits.
    #[test]
    fn a_scope_is_armed_and_reported_when_it_empties() {
        let job = Arc::new(job());
        let empty = EmptyWatch::start(&job).unwrap();
        let mut member = member_of(&job);
        let poller = Poller::new().unwrap();
        let armed = poller.register_scope(empty.listen().unwrap(), 5).unwrap();
        assert!(armed.is_some(), "the scope would be polled");
        let mut ready = Vec::new();
        poller
            .wait(Some(Duration::from_millis(200)), &mut ready)
            .unwrap();
        assert!(ready.is_empty(), "nothing exited: {ready:?}");
        member.kill().unwrap();
        assert!(reported(&poller, 5));
        drop(armed);
        member.wait().unwrap();
    }

    #[test]
    fn a_handle_without_synchronize_is_left_to_polling() {
        let (child, p) = pinger_process();
        let weak =
            api::duplicate(p.handle().unwrap(), Some(PROCESS_QUERY_LIMITED_INFORMATION)).unwrap();
        let weak = Process::from_handle(weak).unwrap();
        let poller = Poller::new().unwrap();
        assert!(
            !poller.register(target(&weak), 9).unwrap(),
            "cannot be waited on"
        );

        // The handles registered next to it are still reported.
        let (mut other_child, other) = pinger_process();
        assert!(poller.register(target(&other), 10).unwrap());
        other_child.kill().unwrap();
        assert!(reported(&poller, 10));
        poller.deregister(target(&other), 10);
        other_child.wait().unwrap();
        end(child);
    }
}
