//! Exit notification for many processes at once, from one thread.
//!
//! A [`Watcher`] holds any number of [`Process`]es (our children or
//! anyone's) and reports each one's exit as it happens, with the
//! [`ProcessState`](crate::ProcessState) the system can give: for our children the full status
//! and resource usage (the watcher reaps them), for other processes the
//! status the kernel records for everyone on Linux 6.15+
//! (`PIDFD_INFO_EXIT`), once their parent has reaped them.
//!
//! ```
//! # fn main() -> prochandle::Result<()> {
//! # #[cfg(unix)] {
//! use std::process::{Command, Stdio};
//! use std::time::Duration;
//! use prochandle::{Process, Watcher};
//!
//! let watcher = Watcher::new()?;
//! let fast = watcher.add(Process::spawn(Command::new("true").arg("fast"))?)?;
//! // `cat` ends when its input closes: after `true`, however loaded the machine.
//! let mut cat = Command::new("cat").stdin(Stdio::piped()).spawn().expect("spawn cat");
//! let slow = watcher.add(Process::from_child(&cat)?)?;
//!
//! let first = watcher.next(Some(Duration::from_secs(10)))?.expect("an exit");
//! assert_eq!(first.token, fast);
//! assert!(first.state.success());
//! drop(cat.stdin.take());
//! let second = watcher.next(None)?.expect("an exit");
//! assert_eq!(second.token, slow);
//! // Nothing left: `next` returns at once.
//! assert!(watcher.next(None)?.is_none());
//! # }
//! # Ok(()) }
//! ```
//!
//! # How it waits
//!
//! | platform | mechanism | cost while nothing exits |
//! | --- | --- | --- |
//! | Linux, process with a pidfd | one `epoll` instance, one one-shot registration per pidfd, an eventfd to wake a sleeping `next` | none: the thread sleeps in `epoll_wait` |
//! | Windows | one one-shot `RegisterWaitForSingleObject` per process `HANDLE`; the callback queues the token and sets one event that `next` sleeps on | none in our threads. No thread per process, but the OS thread pool waits on our behalf (Wine: one pool wait thread per 63 handles) |
//! | macOS, FreeBSD | one kqueue, one one-shot `EVFILT_PROC`/`NOTE_EXIT` filter per PID (checked with [`Process::try_wait`] right after arming, since a filter watches a PID, not a process), `EVFILT_USER` to wake `next` | none: the thread sleeps in `kevent` |
//! | process without a handle on Linux (guarded-PID mode, `PROCHANDLE_FORCE_PID=1`), or a Windows handle without `SYNCHRONIZE` | re-checked with [`Process::try_wait`] on a backoff schedule: after 1 ms, doubling up to 50 ms (the crate's one backoff policy) | per process, about twenty checks a second (a `waitid(WNOHANG)` for a child, a `/proc/<pid>/stat` read for others, a few microseconds each); exits are seen up to 50 ms late |
//!
//! The Linux backend uses rustix's `epoll` directly rather than `mio` or
//! `polling`: rustix is already the crate's one Linux dependency, a pidfd
//! needs nothing but `EPOLLIN`, and the watcher relies on `EPOLLONESHOT`,
//! which those crates hide. One-shot registrations mean that each readiness
//! is delivered to exactly one caller of [`next`](Watcher::next), even when
//! several threads call it.
//!
//! A pidfd's readiness can be spurious (under ptrace, tokio#7144), so every
//! readiness is confirmed with [`Process::try_wait`] before it is reported.
//! A process found still running is re-checked on the backoff schedule and
//! its registration re-armed once a check finds it alive: spurious wake-ups
//! can never turn into a busy loop.
//!
//! On Windows, `WaitForMultipleObjects` takes at most 64 handles, so one
//! thread cannot wait on thousands by itself. Rather than run a thread of
//! our own per 63 processes, the watcher hands each handle to the system
//! thread pool, which does that multiplexing inside the OS (Wine: one wait
//! thread per 63 registered handles; how far newer Windows versions pack
//! them is not documented). The callback runs in the pool's wait thread,
//! only queues the token and sets one event; removal waits, with
//! `UnregisterWaitEx(INVALID_HANDLE_VALUE)`, until no callback can run, so
//! removing and dropping are safe at any time.
//!
//! On macOS and FreeBSD a [`Process`] is a guarded PID, and a kqueue filter
//! watches a PID: the watcher arms the filter first and checks the process
//! with [`Process::try_wait`] after, so an exit (or a PID reuse) before the
//! filter existed is found by the check, and any later exit by the filter.
//! This backend is compiled and linted for both systems but not run in CI.
//!
//! On Windows, a handle that cannot be waited on (an
//! [`open`](Process::open) refused `SYNCHRONIZE`) is polled rather than
//! handed to the pool: a pool wait thread waits on its 63 handles in one
//! call, and one such handle would make that call fail for all of them.
//!
//! # Scopes
//!
//! [`Watcher::add_scope`] watches a [`Scope`](crate::Scope) for its last
//! member's exit, next to the processes; [`Watcher::next_notice`] reports
//! both. Linux cgroup modes: a `cgroup.events` descriptor of the watcher's
//! own in the epoll (`EPOLLPRI`, edge-triggered); Windows: an auto-reset
//! event of the watcher's own, set from the job's completion port at each
//! emptiness, in a standing thread-pool wait; other modes: the backoff
//! schedule re-checks [`Scope::is_empty`](crate::Scope::is_empty).
//!
//! # Descriptors
//!
//! On Linux, each process with a pidfd holds one descriptor, and the watcher holds two
//! more (the epoll instance and an eventfd to wake a sleeping
//! [`next`](Watcher::next)). The usual soft `RLIMIT_NOFILE` of 1024 runs out
//! quickly: opening a [`Process`] then fails with an error that names the
//! limit, never a fallback to polling. On Unix, call `raise_fd_limit`
//! first to lift the soft limit to the hard one.
//!
//! # Threads
//!
//! Every method takes `&self`, and a `Watcher` is `Send + Sync`: one thread
//! can sleep in [`next`](Watcher::next) while others [`add`](Watcher::add)
//! and [`remove`](Watcher::remove). Removing and dropping are safe at any
//! time; an exit found for a process that is removed meanwhile is never
//! reported.

mod add_error;
mod checks;
mod event;
mod registry;
mod scopes;

use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::backoff::Backoff;
use crate::error::{Error, Result};
use crate::process::Process;
use crate::sys::{timeout, Poller, Target};
pub use add_error::AddError;
pub use event::{Event, Notice, ScopeEvent, Token};
use registry::{Entry, Registry, Watch};

/// Watches many processes for exit, from one thread and without polling
/// (see the [module docs](crate::watch) for the mechanism per platform and
/// its cost).
///
/// The watcher owns what it watches: [`add`](Watcher::add) takes a
/// [`Process`], which keeps its handle (and so the process's identity)
/// alive while registered; [`next`](Watcher::next) and
/// [`remove`](Watcher::remove) hand it back.
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// # #[cfg(unix)] {
/// use std::process::Command;
/// use std::time::Duration;
/// use prochandle::{Process, Watcher};
///
/// let watcher = Watcher::new()?;
/// let token = watcher.add(Process::spawn(Command::new("sleep").arg("30"))?)?;
/// assert!(watcher.try_next()?.is_none());
/// watcher.with_process(token, |p| p.kill()).unwrap()?;
/// let event = watcher.next(Some(Duration::from_secs(10)))?.unwrap();
/// assert_eq!(event.state.signal(), Some(prochandle::Signal::KILL));
/// # }
/// # Ok(()) }
/// ```
pub struct Watcher {
    // Declared first, so dropped first: on Windows the pool's waits must
    // end before the process handles they wait on (in the registry) close.
    poller: Poller,
    registry: Mutex<Registry>,
    /// Whether exits of non-children are held back for their status (see
    /// [`Watcher::await_exit_status`]).
    await_status: bool,
}

impl Watcher {
    /// A new, empty watcher (Linux: an epoll instance and an eventfd, both
    /// close-on-exec; Windows: one event; macOS, FreeBSD: one kqueue).
    ///
    /// ```
    /// let watcher = prochandle::Watcher::new().unwrap();
    /// assert_eq!(watcher.len(), 0);
    /// ```
    pub fn new() -> Result<Watcher> {
        Ok(Watcher {
            poller: Poller::new()?,
            registry: Mutex::new(Registry::default()),
            await_status: false,
        })
    }

    /// Sets whether the exit of a process that is not our child, seen
    /// before its parent reaped it, is held back until the kernel has its
    /// status (Linux 6.15+ records it for everyone once the parent reaps),
    /// for up to 250 ms: the grace [`Process::wait`] gives too. Off by
    /// default: such an exit is reported at once, with the status
    /// [`Unknown(NotReapedYet)`](crate::UnknownReason::NotReapedYet).
    ///
    /// While one exit is held back, the others are reported as they come.
    /// An exit is never reported as a timeout: [`next`](Watcher::next)
    /// returns the held-back exit even if its timeout passes meanwhile (at
    /// most 250 ms late). [`try_next`](Watcher::try_next) never waits for
    /// it, and returns it once settled. A held-back process still counts in
    /// [`len`](Watcher::len) and can be [`remove`](Watcher::remove)d.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// use std::time::Duration;
    /// use prochandle::{Process, Watcher};
    ///
    /// let watcher = Watcher::new()?.await_exit_status(true);
    /// let child = Process::spawn(&mut std::process::Command::new("true"))?;
    /// watcher.add(child)?;
    /// let event = watcher.next(Some(Duration::from_secs(10)))?.unwrap();
    /// assert!(event.state.success()); // our child: reaped, status known
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn await_exit_status(mut self, on: bool) -> Watcher {
        self.await_status = on;
        self
    }

    /// Registers `process` and returns its token. Its exit, past or
    /// future, will be reported once by [`next`](Watcher::next).
    ///
    /// Fails (handing the process back) for this very process, which cannot
    /// watch its own exit, and when the system refuses the registration
    /// (epoll's per-user watch limit, a failed `RegisterWaitForSingleObject`
    /// or `kevent`).
    pub fn add(&self, process: Process) -> Result<Token, AddError> {
        if process.pid() == std::process::id() {
            let error = Error::invalid_input("watch", "a process cannot watch its own exit");
            return Err(AddError(Box::new((error, process))));
        }
        let mut registry = self.lock();
        let token = registry.allocate_token();
        let armed = match self.poller.register(target(&process), token) {
            Ok(armed) => armed,
            Err(error) => return Err(AddError(Box::new((error, process)))),
        };
        let watch = if armed {
            Watch::Armed {
                spurious: Backoff::new(),
            }
        } else {
            Watch::Recheck {
                due: Instant::now(),
                backoff: Backoff::new(),
                registered: false,
            }
        };
        registry.insert(token, Entry { process, watch });
        if armed && Poller::CHECK_AFTER_ARM {
            self.check_after_arm(&mut registry, token);
        }
        let found = registry.has_found();
        drop(registry);
        if !armed || found {
            // A sleeping `next` computed its timeout without this process,
            // or an exit is waiting to be handed out.
            self.poller.wake();
        }
        Ok(Token(token))
    }

    /// Unregisters a process and hands it back, whether or not it has
    /// exited meanwhile (an exit found but not yet returned by
    /// [`next`](Watcher::next) is withdrawn too). `None` if the token is not
    /// registered (already reported, removed, or from another watcher).
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// let watcher = prochandle::Watcher::new()?;
    /// let p = prochandle::Process::spawn(std::process::Command::new("sleep").arg("30"))?;
    /// let token = watcher.add(p)?;
    /// let p = watcher.remove(token).unwrap();
    /// assert!(watcher.remove(token).is_none());
    /// p.kill()?;
    /// p.wait()?;
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn remove(&self, token: Token) -> Option<Process> {
        let mut registry = self.lock();
        let process = match registry.take(token.0) {
            Some(entry) => {
                if entry.registered() {
                    self.poller.deregister(target(&entry.process), token.0);
                }
                Some(entry.process)
            }
            None => registry.take_found(token.0),
        };
        let now_empty = registry.process_len() == 0;
        drop(registry);
        if process.is_some() && now_empty {
            // A `next(None)` asleep on an empty watcher should return.
            self.poller.wake();
        }
        process
    }

    /// Calls `f` with a registered process (to signal it, say) and returns
    /// its result; `None` if the token is not registered.
    ///
    /// `f` runs with the watcher locked: calling the watcher's methods from
    /// it deadlocks.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// let watcher = prochandle::Watcher::new()?;
    /// let p = prochandle::Process::spawn(std::process::Command::new("sleep").arg("30"))?;
    /// let pid = p.pid();
    /// let token = watcher.add(p)?;
    /// assert_eq!(watcher.with_process(token, |p| p.pid()), Some(pid));
    /// watcher.with_process(token, |p| p.kill()).unwrap()?;
    /// assert_eq!(watcher.next(None)?.unwrap().token, token);
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn with_process<R>(&self, token: Token, f: impl FnOnce(&Process) -> R) -> Option<R> {
        let registry = self.lock();
        registry.get(token.0).map(|entry| f(&entry.process))
    }

    /// How many processes and scopes are registered, counting exits and
    /// emptinesses found but not yet returned.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is registered (and nothing is waiting to be
    /// returned).
    ///
    /// ```
    /// assert!(prochandle::Watcher::new().unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the next exit without sleeping: `None` if no registered
    /// process has exited.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// let watcher = prochandle::Watcher::new()?;
    /// watcher.add(prochandle::Process::spawn(std::process::Command::new("sleep").arg("30"))?)?;
    /// assert!(watcher.try_next()?.is_none());
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn try_next(&self) -> Result<Option<Event>> {
        let found = self.next_until(Some(Instant::now()), false, false)?;
        Ok(found.and_then(Notice::into_exit))
    }

    /// Sleeps until a registered process exits and returns its [`Event`],
    /// or returns `None` once `timeout` passes (`None`: no limit) or at
    /// once if nothing is registered, so that
    /// `while let Some(event) = watcher.next(None)?` ends when every exit
    /// has been reported.
    ///
    /// Reports process exits only: a registered [`Scope`](crate::Scope)'s
    /// emptiness waits for [`next_notice`](Watcher::next_notice), and
    /// scopes do not keep `next` from returning `None` at once.
    ///
    /// Each exit is reported once, to one caller. An error means one
    /// process could not be checked (a failed `waitid`, say); it stays
    /// registered and is checked again later, and the other processes are
    /// unaffected.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// use std::process::Command;
    /// use std::time::Duration;
    /// use prochandle::{Process, Watcher};
    ///
    /// let watcher = Watcher::new()?;
    /// for code in 0..3 {
    ///     let cmd = format!("exit {code}");
    ///     watcher.add(Process::spawn(Command::new("sh").args(["-c", &cmd]))?)?;
    /// }
    /// let mut codes = Vec::new();
    /// while let Some(event) = watcher.next(Some(Duration::from_secs(10)))? {
    ///     codes.push(event.state.exit_code().unwrap());
    /// }
    /// codes.sort();
    /// assert_eq!(codes, [0, 1, 2]);
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn next(&self, timeout: Option<Duration>) -> Result<Option<Event>> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let found = self.next_until(deadline, true, false)?;
        Ok(found.and_then(Notice::into_exit))
    }

    /// [`next`](Watcher::next) with a deadline; `finish_settling`: whether
    /// exits held back for their status extend it; `scopes`: whether scope
    /// notices are wanted too (else they stay queued).
    fn next_until(
        &self,
        deadline: Option<Instant>,
        finish_settling: bool,
        scopes: bool,
    ) -> Result<Option<Notice>> {
        let mut ready = Vec::new();
        loop {
            let (sleep, deadline) = {
                let mut registry = self.lock();
                self.run_due_checks(&mut registry);
                if let Some(found) = self.pop_found(&mut registry, scopes) {
                    return found.map(Some);
                }
                if registry.len_for(scopes) == 0 {
                    // The kernel wakes one sleeper per wake-up: pass it on
                    // to the next thread asleep here, which has nothing to
                    // wait for either.
                    self.poller.wake();
                    return Ok(None);
                }
                // An exit already seen is reported, not timed out: the
                // deadline waits for those held back for their status.
                let deadline = match registry.settled_by().filter(|_| finish_settling) {
                    Some(settled) => deadline.map(|d| d.max(settled)),
                    None => deadline,
                };
                (sleep_time(&mut registry, deadline), deadline)
            };
            ready.clear();
            self.poller.wait(sleep, &mut ready)?;
            let mut registry = self.lock();
            for &token in &ready {
                self.on_ready(&mut registry, token);
            }
            if let Some(found) = self.pop_found(&mut registry, scopes) {
                return found.map(Some);
            }
            let held_back = finish_settling && registry.settled_by().is_some();
            if deadline.is_some_and(|d| Instant::now() >= d) && !held_back {
                return Ok(None);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        // A panic elsewhere cannot leave the registry half-updated in a way
        // that matters: keep going.
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What the poller registers for `process`: its PID and its handle.
fn target(process: &Process) -> Target<'_> {
    Target {
        pid: process.pid(),
        handle: process.handle(),
    }
}

/// How long `next` may sleep: until `deadline` or the next due check,
/// whichever comes first (`None`: no limit).
fn sleep_time(registry: &mut Registry, deadline: Option<Instant>) -> Option<Duration> {
    let until_deadline = timeout::remaining(deadline);
    let until_check = timeout::remaining(registry.next_due());
    match (until_deadline, until_check) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl fmt::Debug for Watcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watcher").field("len", &self.len()).finish()
    }
}
