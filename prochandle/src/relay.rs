//! Receiving signals for a child: what a wrapper (timeout(1), a build tool,
//! a process manager) needs to pass Ctrl-C and friends on to the program
//! it runs, without a signal handler of its own and without losing one.
//!
//! A [`Relay`] is opened before the child is started. From then on every
//! signal of its set that reaches this process is neither lost nor fatal:
//! it waits to be taken by [`Relay::wait`], which sleeps until one of
//! three things happens: a signal of the set arrives, the child exits, or
//! a deadline passes. The child gets back the signal state this process
//! had before the relay was opened through [`Relay::restore_in_child`].
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # #[cfg(unix)] {
//! use std::process::Command;
//! use std::time::{Duration, Instant};
//! use prochandle::relay::{Event, Relay};
//! use prochandle::{Process, Signal};
//!
//! // First thing in main, before any thread is started.
//! let relay = Relay::open(&[Signal::INT, Signal::TERM, Signal::HUP])?;
//! let mut command = Command::new("sleep");
//! command.arg("30");
//! relay.restore_in_child(&mut command);
//! let child = Process::spawn(&mut command)?;
//!
//! // Someone presses Ctrl-C (here: we send it ourselves).
//! Process::current()?.signal(Signal::INT)?;
//!
//! let deadline = Instant::now() + Duration::from_secs(60);
//! loop {
//!     match relay.wait(&child, Some(deadline))? {
//!         Event::Signal(signal) => match child.signal(signal) {
//!             Err(err) if err.is_done() => {} // it exited meanwhile
//!             sent => sent?,
//!         },
//!         Event::Exited => break,
//!         Event::TimedOut => child.kill()?,
//!     }
//! }
//! // `Exited` does not reap: the status is still there to collect.
//! let state = child.wait()?;
//! assert_eq!(state.signal(), Some(Signal::INT));
//! # }
//! # Ok(()) }
//! ```
//!
//! # What it guarantees
//!
//! - **Nothing lost, nothing fatal.** From [`Relay::open`] on, a signal of
//!   the set neither ends this process nor runs its old handler; `wait`
//!   reports it, oldest first. As in the kernel, several deliveries of one
//!   standard signal before a `wait` may merge into one.
//! - **No handler code.** On Linux the set is blocked and read from a
//!   `signalfd`; on macOS and FreeBSD each signal gets a handler that does
//!   nothing and a kqueue `EVFILT_SIGNAL` filter records it. No global
//!   `SIGCHLD` handler is installed: the child's exit is seen through its
//!   pidfd, a kqueue `NOTE_EXIT` filter or the process handle (Windows);
//!   on Linux without pidfds through a blocked `SIGCHLD` read from the
//!   same `signalfd`, and a re-check every 50 ms.
//! - **The exit is not reaped.** [`Event::Exited`] leaves the child a
//!   zombie, like [`Process::has_exited`]: its PID and process group stay
//!   its own until [`Process::wait`], so what is left of its tree can still
//!   be signalled.
//! - **The child starts as this process did.** [`Relay::restore_in_child`]
//!   makes a std [`Command`] child put back the signal mask (Linux) or the
//!   actions (macOS, FreeBSD: an ignored signal stays ignored) this
//!   process had before `open`, just before it `exec`s.
//!
//! # Limits
//!
//! - On Linux a signal mask belongs to a thread, and a signal sent to the
//!   process goes to any thread that does not block it. Open the relay in
//!   the main thread before other threads start (they inherit the mask),
//!   or block the set in every thread.
//! - The relay lasts for the rest of the process's life: dropping it does
//!   not unblock the set (that would deliver whatever is still pending).
//!   Open one per process.
//! - [`Relay::restore_in_child`] works through std's `Command::pre_exec`;
//!   use it with [`Process::spawn`], [`Command::spawn`] or
//!   [`Scope::spawn_child`](crate::Scope::spawn_child);
//!   [`Relay::restore_in_scope_command`] does the same for
//!   [`Scope::spawn_command`](crate::Scope::spawn_command).
//! - Windows has no signals to block: the console's control events stand
//!   in for them. Ctrl-C is [`Signal::INT`], Ctrl-Break [`Signal::QUIT`],
//!   the console closing [`Signal::HUP`], log-off and shut-down
//!   [`Signal::TERM`]; an event whose signal is not in the set goes on to
//!   the next handler (by default, the end of the process). After a close,
//!   log-off or shut-down event Windows ends this process shortly after
//!   anyway.

use std::collections::VecDeque;
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::process::Process;
use crate::scope::ScopeCommand;
use crate::signal::Signal;
use crate::sys;

/// What [`Relay::wait`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// A signal of the relay's set arrived (on Windows, the console event
    /// that stands for it).
    Signal(Signal),
    /// The child has exited; it is not reaped yet.
    Exited,
    /// The deadline passed first.
    TimedOut,
}

/// A set of signals received for a child, and the child's exit, in one
/// wait. See the [module docs](self) for what it guarantees.
#[doc(alias = "signal_forwarding")]
#[doc(alias = "forward_signals")]
#[doc(alias = "ctrl_c")]
#[doc(alias = "ctrlc")]
#[doc(alias = "signalfd")]
pub struct Relay {
    receiver: sys::relay::Receiver,
    /// Signals taken from the OS and not yet returned by `wait`.
    pending: Mutex<VecDeque<Signal>>,
}

impl Relay {
    /// Starts receiving `signals`: from now on each one that reaches this
    /// process waits for [`wait`](Relay::wait) and does nothing else.
    /// `KILL` and `STOP` cannot be received and are left out.
    pub fn open(signals: &[Signal]) -> Result<Relay> {
        let receiver = sys::relay::Receiver::open(signals).map_err(|e| Error::os("relay", e))?;
        Ok(Relay {
            receiver,
            pending: Mutex::new(VecDeque::new()),
        })
    }

    /// Makes a child spawned from `command` start with the signal state
    /// this process had before [`open`](Relay::open), put back just before
    /// it `exec`s (nothing to do on Windows).
    pub fn restore_in_child(&self, command: &mut Command) {
        self.receiver.restore().apply(command);
    }

    /// The same for a [`ScopeCommand`]: its child gets back the signal
    /// state this process had before [`open`](Relay::open), on every spawn
    /// path (on Linux the scope's `clone3` child sets the mask itself, so
    /// no `fork` is needed for it).
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// use prochandle::relay::Relay;
    /// use prochandle::{Scope, ScopeCommand, Signal};
    ///
    /// let relay = Relay::open(&[Signal::TERM])?;
    /// let mut command = ScopeCommand::new("true");
    /// relay.restore_in_scope_command(&mut command);
    /// // A scope kills what is left in it when it drops: keep it until
    /// // the child is waited for.
    /// let scope = Scope::new()?;
    /// let child = scope.spawn_command(&command)?;
    /// assert!(child.wait()?.success());
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn restore_in_scope_command(&self, command: &mut ScopeCommand) {
        command.restore_signals(self.receiver.restore());
    }

    /// Sleeps until a signal of the set arrives, `child` exits or
    /// `deadline` passes (`None`: no deadline). A signal received before
    /// the exit is returned first; after [`Event::Exited`] the child is
    /// still unreaped. `child` may be any process: its exit is seen at
    /// once through its handle (a pidfd, a Windows `HANDLE`) or a kqueue
    /// filter, and otherwise within 50 ms.
    pub fn wait(&self, child: &Process, deadline: Option<Instant>) -> Result<Event> {
        loop {
            if let Some(signal) = self.take_pending() {
                return Ok(Event::Signal(signal));
            }
            if child.has_exited()? {
                return Ok(Event::Exited);
            }
            let timeout = match deadline {
                Some(deadline) => match crate::backoff::time_left(deadline) {
                    Some(left) => Some(left),
                    None => return Ok(Event::TimedOut),
                },
                None => None,
            };
            let received = self
                .receiver
                .wait(child.sys(), timeout)
                .map_err(|e| Error::os("relay wait", e))?;
            self.lock().extend(received);
        }
    }

    fn take_pending(&self) -> Option<Signal> {
        self.lock().pop_front()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Signal>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("pending", &*self.lock())
            .finish_non_exhaustive()
    }
}

// A relay is shared by reference (or `Arc`) with whichever thread waits.
const _: () = {
    const fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Relay>();
};
