//! Windows: the console's control events, which are what Windows has of
//! the relayed signals, and the process's exit, in one
//! `WaitForMultipleObjects`.
//!
//! Windows runs a console control handler on a thread of its own. The
//! handler only records the event in an atomic set of bits and sets an
//! event object; the wait wakes on that event or on the process handle,
//! which is signalled when the process exits. Returning `TRUE` keeps
//! Windows from ending this process at Ctrl-C and Ctrl-Break; after a
//! close, log-off or shut-down event Windows ends the process all the same
//! once the handler returns (or after its timeout).
//!
//! Ctrl-C is `SIGINT`, Ctrl-Break `SIGQUIT`, the console closing `SIGHUP`,
//! log-off and shut-down `SIGTERM`. An event whose signal was not asked
//! for goes to the next handler (the default one ends the process).

use std::io;
use std::os::windows::io::{AsRawHandle, IntoRawHandle};
use std::process::Command;
use std::sync::atomic::{AtomicIsize, AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use windows_sys::Win32::Foundation::{HANDLE, WAIT_FAILED};
use windows_sys::Win32::System::Console::{
    SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT, CTRL_C_EVENT, CTRL_LOGOFF_EVENT,
    CTRL_SHUTDOWN_EVENT,
};
use windows_sys::Win32::System::Threading::{SetEvent, WaitForMultipleObjects};

use crate::signal::Signal;
use crate::sys::windows::api::{auto_reset_event, wait_millis};
use crate::sys::Process;

/// The console events seen and not yet taken, one bit per [`EVENTS`] row.
static PENDING: AtomicU32 = AtomicU32::new(0);
/// The console events asked for, one bit per [`EVENTS`] row.
static WANTED: AtomicU32 = AtomicU32::new(0);
/// The event object the handler sets (0 until a receiver is opened).
/// Never closed: the handler may run at any moment, on its own thread,
/// for the rest of the process's life, and must never set a closed handle
/// (or a handle number reused for something else).
static WAKE: AtomicIsize = AtomicIsize::new(0);
/// Serialises the first `open`s, which create [`WAKE`] and add the handler.
static OPENING: Mutex<()> = Mutex::new(());

/// Each console event, and the signal it stands for.
const EVENTS: [(u32, Signal); 5] = [
    (CTRL_C_EVENT, Signal::INT),
    (CTRL_BREAK_EVENT, Signal::QUIT),
    (CTRL_CLOSE_EVENT, Signal::HUP),
    (CTRL_LOGOFF_EVENT, Signal::TERM),
    (CTRL_SHUTDOWN_EVENT, Signal::TERM),
];

/// Console events and a process's exit, as one wait.
pub(crate) struct Receiver(());

impl Receiver {
    /// Starts receiving the console events that stand for `signals`.
    pub(crate) fn open(signals: &[Signal]) -> io::Result<Receiver> {
        let _opening = OPENING.lock().unwrap_or_else(|e| e.into_inner());
        let bits = EVENTS
            .iter()
            .enumerate()
            .filter(|(_, (_, signal))| signals.contains(signal))
            .fold(0, |bits, (bit, _)| bits | 1 << bit);
        if WAKE.load(Ordering::SeqCst) == 0 {
            let wake = auto_reset_event()?.into_raw_handle();
            WAKE.store(wake as isize, Ordering::SeqCst);
            // SAFETY: `on_console_event` is a valid handler for the life
            // of the process; TRUE adds it.
            if unsafe { SetConsoleCtrlHandler(Some(on_console_event), 1) } == 0 {
                return Err(io::Error::last_os_error());
            }
        }
        WANTED.fetch_or(bits, Ordering::SeqCst);
        Ok(Receiver(()))
    }

    /// Nothing: a child starts with its own console handlers.
    pub(crate) fn restore(&self) -> Restore {
        Restore
    }

    /// Sleeps until `process` exits, a console event comes or `timeout`
    /// passes; the events received, as signals.
    pub(crate) fn wait(
        &self,
        process: &Process,
        timeout: Option<Duration>,
    ) -> io::Result<Vec<Signal>> {
        let mut handles: Vec<HANDLE> = vec![WAKE.load(Ordering::SeqCst) as HANDLE];
        if let Some(handle) = process.handle() {
            handles.push(handle.as_raw_handle());
        }
        // SAFETY: `handles` holds valid handles (the never-closed event,
        // and the process's, borrowed for this call) and outlives the call.
        let ret = unsafe {
            WaitForMultipleObjects(
                handles.len() as u32,
                handles.as_ptr(),
                0,
                wait_millis(timeout),
            )
        };
        if ret == WAIT_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(take_pending())
    }
}

/// The events recorded since the last call, as signals.
fn take_pending() -> Vec<Signal> {
    let taken = PENDING.swap(0, Ordering::SeqCst);
    EVENTS
        .iter()
        .enumerate()
        .filter(|(bit, _)| taken & (1 << bit) != 0)
        .map(|(_, &(_, signal))| signal)
        .collect()
}

/// The console control handler: records the event and wakes the wait.
/// Runs on a thread Windows creates; touches only atomics and `SetEvent`.
unsafe extern "system" fn on_console_event(event: u32) -> i32 {
    let Some(bit) = EVENTS.iter().position(|&(e, _)| e == event) else {
        return 0;
    };
    if WANTED.load(Ordering::SeqCst) & (1 << bit) == 0 {
        // Not asked for: the next handler (the default one ends the process).
        return 0;
    }
    PENDING.fetch_or(1 << bit, Ordering::SeqCst);
    let wake = WAKE.load(Ordering::SeqCst);
    if wake != 0 {
        // SAFETY: the event handle is never closed (see `WAKE`).
        unsafe { SetEvent(wake as HANDLE) };
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_console_event_wakes_the_wait_as_its_signal() {
        let receiver = Receiver::open(&[Signal::INT, Signal::QUIT]).unwrap();
        let mut child = Command::new("ping")
            .args(["-n", "30", "127.0.0.1"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let process = Process::from_child(&child).unwrap();
        // What Windows does on Ctrl-Break, on its own thread.
        let handled = std::thread::spawn(|| {
            // SAFETY: the handler takes any event number.
            unsafe { on_console_event(CTRL_BREAK_EVENT) }
        })
        .join()
        .unwrap();
        let received = receiver.wait(&process, Some(Duration::from_secs(30)));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(handled, 1);
        assert_eq!(received.unwrap(), vec![Signal::QUIT]);
        // Taken once: the next wait times out with nothing.
        let again = receiver.wait(&process, Some(Duration::from_millis(50)));
        assert!(again.unwrap().is_empty());
    }
}

/// Nothing to put back in a child (see [`Receiver::restore`]).
#[derive(Clone, Debug)]
pub(crate) struct Restore;

impl Restore {
    pub(crate) fn apply(&self, _command: &mut Command) {}
}
