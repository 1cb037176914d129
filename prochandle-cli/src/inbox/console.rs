//! Windows: the console's control events, which are what Windows has of
//! the signals `run` forwards, and CMD's exit, in one
//! `WaitForMultipleObjects`.
//!
//! Windows runs a console control handler on a thread of its own. The
//! handler only records the event in an atomic set of bits and sets an
//! event object; the wait wakes on that event or on CMD's process handle,
//! which is signalled when CMD exits. Returning `TRUE` keeps Windows from
//! ending prochandle at Ctrl-C and Ctrl-Break; after a close, log-off or
//! shut-down event Windows ends the process all the same, and the job
//! object holding CMD's tree (killed when its last handle closes) takes
//! the tree with it.

use std::io;
use std::os::windows::io::AsRawHandle;
use std::process::Command;
use std::sync::atomic::{AtomicIsize, AtomicU32, Ordering};
use std::time::Duration;

use prochandle::{Process, Signal};
use windows_sys::Win32::Foundation::{HANDLE, WAIT_FAILED};
use windows_sys::Win32::System::Console::{
    SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT, CTRL_C_EVENT, CTRL_LOGOFF_EVENT,
    CTRL_SHUTDOWN_EVENT,
};
use windows_sys::Win32::System::Threading::{
    CreateEventW, SetEvent, WaitForMultipleObjects, INFINITE,
};

/// The console events seen and not yet taken, one bit per [`EVENTS`] row.
static PENDING: AtomicU32 = AtomicU32::new(0);
/// The event object the handler sets (0 until an [`Inbox`] is opened).
static WAKE: AtomicIsize = AtomicIsize::new(0);

/// Each console event, and the signal it stands for.
const EVENTS: [(u32, Signal); 5] = [
    (CTRL_C_EVENT, Signal::INT),
    (CTRL_BREAK_EVENT, Signal::QUIT),
    (CTRL_CLOSE_EVENT, Signal::HUP),
    (CTRL_LOGOFF_EVENT, Signal::TERM),
    (CTRL_SHUTDOWN_EVENT, Signal::TERM),
];

/// Console events and CMD's exit, as one wait.
pub struct Inbox {
    /// Never closed: the handler may run at any moment, on its own
    /// thread, for the rest of the process's life, and must never set a
    /// closed handle (or a handle number reused for something else).
    wake: HANDLE,
}

impl Inbox {
    /// Starts receiving the console's events. `run` opens one inbox per
    /// process; `signals` has no meaning here (Windows chooses the events).
    pub fn open(_signals: &[Signal]) -> io::Result<Inbox> {
        // SAFETY: no security attributes, auto-reset, not set, no name;
        // the result is checked.
        let raw = unsafe { CreateEventW(std::ptr::null(), 0, 0, std::ptr::null()) };
        if raw.is_null() {
            return Err(io::Error::last_os_error());
        }
        WAKE.store(raw as isize, Ordering::SeqCst);
        // SAFETY: `on_console_event` is a valid handler for the life of
        // the process; TRUE adds it.
        if unsafe { SetConsoleCtrlHandler(Some(on_console_event), 1) } == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Inbox { wake: raw })
    }

    /// Nothing to do: a child starts with its own console handlers.
    pub fn prepare_child(&self, _command: &mut Command) {}

    /// Waits until CMD exits, a console event comes or `timeout` passes;
    /// the events received, as signals (none after an exit or a timeout).
    pub fn wait(&self, process: &Process, timeout: Option<Duration>) -> io::Result<Vec<Signal>> {
        let mut handles: Vec<HANDLE> = vec![self.wake];
        if let Some(handle) = process.handle() {
            handles.push(handle.as_raw_handle());
        }
        let millis = timeout.map_or(INFINITE, |t| {
            // Rounded up, so that a wait never ends before its deadline.
            t.as_nanos()
                .div_ceil(1_000_000)
                .min(u128::from(INFINITE - 1)) as u32
        });
        // SAFETY: `handles` holds valid handles (ours, and the process's,
        // borrowed for this call) and outlives the call.
        let ret =
            unsafe { WaitForMultipleObjects(handles.len() as u32, handles.as_ptr(), 0, millis) };
        if ret == WAIT_FAILED {
            return Err(io::Error::last_os_error());
        }
        let taken = PENDING.swap(0, Ordering::SeqCst);
        Ok(EVENTS
            .iter()
            .enumerate()
            .filter(|(bit, _)| taken & (1 << bit) != 0)
            .map(|(_, &(_, signal))| signal)
            .collect())
    }
}

/// The console control handler: records the event and wakes the wait.
/// Runs on a thread Windows creates; touches only atomics and `SetEvent`.
unsafe extern "system" fn on_console_event(event: u32) -> i32 {
    let Some(bit) = EVENTS.iter().position(|&(e, _)| e == event) else {
        // Not ours: the next handler (the default one ends the process).
        return 0;
    };
    PENDING.fetch_or(1 << bit, Ordering::SeqCst);
    let wake = WAKE.load(Ordering::SeqCst);
    if wake != 0 {
        // SAFETY: the event handle is never closed (see `Inbox::wake`).
        unsafe { SetEvent(wake as HANDLE) };
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_console_event_wakes_the_wait_as_its_signal() {
        let inbox = Inbox::open(&[]).unwrap();
        let mut child = std::process::Command::new("ping")
            .args(["-n", "30", "127.0.0.1"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let process = Process::from_child(&child).unwrap();
        // What Windows does on Ctrl-Break, on its own thread.
        std::thread::spawn(|| {
            // SAFETY: the handler takes any event number.
            unsafe { on_console_event(CTRL_BREAK_EVENT) }
        })
        .join()
        .unwrap();
        let received = inbox.wait(&process, Some(Duration::from_secs(30)));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(received.unwrap(), vec![Signal::QUIT]);
        // Taken once: the next wait times out with nothing.
        let again = inbox.wait(&process, Some(Duration::from_millis(50)));
        assert!(again.unwrap().is_empty());
    }
}
