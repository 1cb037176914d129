//! [`Process`]: the portable API over each platform's backend.

use std::fmt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::signal::Signal;
use crate::state::ProcessState;
use crate::sys;

/// A borrowed process handle: a pidfd (`std::os::fd::BorrowedFd`) on
/// Linux, a process `HANDLE` (`std::os::windows::io::BorrowedHandle`) on
/// Windows.
pub type BorrowedProcessHandle<'a> = sys::BorrowedHandle<'a>;

/// An owned process handle: `std::os::fd::OwnedFd` on Unix,
/// `std::os::windows::io::OwnedHandle` on Windows.
pub type OwnedProcessHandle = sys::OwnedHandle;

/// A process, held so that every operation reaches that same process and no
/// other, even after its PID has been given to someone else.
///
/// On Linux 5.4+ it holds a pidfd, on Windows a process `HANDLE`; elsewhere,
/// or where a sandbox forbids pidfds, it holds the PID plus the process's
/// start time and re-checks it before acting (the *guarded-PID mode*, best
/// effort; see the crate docs). [`has_handle`](Process::has_handle) tells
/// which.
///
/// A `Process` is `Send + Sync`: share it with `Arc` and call `signal`,
/// `wait`, `try_wait` and `with_handle` from any thread at once. It is not
/// `Clone`, because it owns its handle; dropping it closes the handle
/// exactly once and never reaps or kills the process.
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// # #[cfg(unix)] {
/// use std::process::Command;
/// use prochandle::{Process, Signal};
///
/// let child = Process::spawn(Command::new("sleep").arg("10"))?;
/// child.signal(Signal::TERM)?;
/// let state = child.wait()?;
/// assert_eq!(state.signal(), Some(Signal::TERM));
/// // It is gone: nothing is sent to whoever gets its PID next.
/// assert!(child.kill().unwrap_err().is_done());
/// # }
/// # Ok(()) }
/// ```
pub struct Process {
    inner: sys::Process,
}

impl Process {
    /// Spawns `command` and holds the new child. Go: `StartProcess`.
    ///
    /// The child's standard streams are dropped with the `Child` that
    /// `spawn` creates; to keep pipes to it, spawn it yourself and use
    /// [`from_child`](Process::from_child). If the handle cannot be opened
    /// (for example, out of descriptors) the child is killed and reaped
    /// before the error is returned, so no process is left behind.
    pub fn spawn(command: &mut Command) -> Result<Process> {
        let child = command
            .spawn()
            .map_err(|e| Error::os("spawn", e).with_detail(describe_command(command)))?;
        Process::hold_spawned(child)
    }

    /// Holds a child just spawned for us; if that fails, kills and reaps
    /// it, so that no process is left behind.
    pub(crate) fn hold_spawned(mut child: Child) -> Result<Process> {
        Process::from_child(&child).inspect_err(|_| {
            let _ = child.kill();
            let _ = child.wait();
        })
    }

    /// Holds a child spawned with [`std::process::Command`]; the caller keeps
    /// the `Child` and its stdin/stdout/stderr pipes.
    ///
    /// This is race-free: a child that has exited stays a zombie until its
    /// parent reaps it, and the kernel does not hand out its PID until then.
    /// std's `Child` reaps only in `wait`/`try_wait`, so while you hold the
    /// `Child` and have not waited on it, its PID names it. From now on,
    /// wait through the `Process` (a later `Child::wait` would find the child
    /// already reaped).
    ///
    /// Two things break that guarantee, and both are refused: `SIGCHLD` set
    /// to `SIG_IGN` (or `SA_NOCLDWAIT`), which makes the kernel reap children
    /// at once; and a child already reaped by something else in this process
    /// (a stray `waitpid(-1)`), found by asking the kernel whether it is
    /// still our child.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # #[cfg(unix)] {
    /// use std::io::Read;
    /// use std::process::{Command, Stdio};
    ///
    /// let mut child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn()?;
    /// let process = prochandle::Process::from_child(&child)?;
    /// let mut out = String::new();
    /// child.stdout.take().unwrap().read_to_string(&mut out)?;
    /// assert_eq!(out, "hi\n");
    /// assert!(process.wait()?.success());
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn from_child(child: &Child) -> Result<Process> {
        sys::Process::from_child(child).map(|inner| Process { inner })
    }

    /// Attaches to the process with this PID, whoever started it.
    /// Go: `FindProcess`.
    ///
    /// With a handle, the process is pinned from this moment on. A PID that
    /// does not exist gives an error of kind
    /// [`NotFound`](crate::ErrorKind::NotFound) (unlike Go, which returns a
    /// process that reports `Done`). If the PID is one of our own children,
    /// the `Process` may reap it in `wait`, like one from
    /// [`spawn`](Process::spawn).
    ///
    /// ```
    /// use prochandle::{ErrorKind, Process};
    ///
    /// let me = Process::open(std::process::id()).unwrap();
    /// assert_eq!(me.pid(), std::process::id());
    /// // PID 2^31-1 does not exist on any ordinary system.
    /// let err = Process::open(i32::MAX as u32).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// ```
    pub fn open(pid: u32) -> Result<Process> {
        sys::Process::open(pid).map(|inner| Process { inner })
    }

    /// This very process.
    ///
    /// ```
    /// let me = prochandle::Process::current().unwrap();
    /// assert_eq!(me.pid(), std::process::id());
    /// assert!(me.try_wait().unwrap().is_none());
    /// ```
    pub fn current() -> Result<Process> {
        sys::Process::current().map(|inner| Process { inner })
    }

    /// Takes ownership of a process handle obtained elsewhere (a pidfd from
    /// `clone3(CLONE_PIDFD)`, `SO_PEERPIDFD`, another process, or a Windows
    /// `HANDLE`).
    ///
    /// The descriptor is checked to really be a process handle; anything
    /// else gives [`InvalidInput`](crate::ErrorKind::InvalidInput), and a
    /// pidfd whose process is already reaped gives
    /// [`Done`](crate::ErrorKind::Done). The `Process` closes the handle
    /// when dropped: pass a duplicate (`try_clone`) if you keep using yours.
    pub fn from_handle(handle: OwnedProcessHandle) -> Result<Process> {
        sys::Process::from_handle(handle).map(|inner| Process { inner })
    }

    /// The process ID. It stays what it was, even after the process exits
    /// and the PID is reused: use it for messages, not to reach the process.
    pub fn pid(&self) -> u32 {
        self.inner.pid()
    }

    /// Whether this `Process` holds a handle (pidfd, HANDLE) rather than a
    /// guarded PID.
    pub fn has_handle(&self) -> bool {
        self.inner.handle().is_some()
    }

    /// Whether this process is our child (we reap it, and know its full
    /// status and resource usage).
    pub fn is_child(&self) -> bool {
        self.inner.is_child()
    }

    /// The handle, borrowed for as long as `self` is: the borrow-checked
    /// form of [`with_handle`](Process::with_handle).
    ///
    /// ```
    /// let me = prochandle::Process::current().unwrap();
    /// if let Some(handle) = me.handle() {
    ///     println!("pinned by {handle:?}");
    /// }
    /// ```
    #[inline]
    pub fn handle(&self) -> Option<BorrowedProcessHandle<'_>> {
        self.inner.handle()
    }

    /// Calls `f` once with the process handle, which stays valid (and keeps
    /// referring to this process, even after it exits) until `f` returns,
    /// and returns what `f` returns. Go: `WithHandle`.
    ///
    /// Without a handle it returns an error of kind
    /// [`NoHandle`](crate::ErrorKind::NoHandle) and never calls `f`.
    /// It allocates nothing and takes no lock.
    ///
    /// Unlike Go, the handle is still lent after `wait`: it pins the reaped
    /// process, which the kernel can still describe (`PIDFD_GET_INFO`).
    ///
    /// ```
    /// use prochandle::Process;
    ///
    /// let me = Process::current().unwrap();
    /// // The first question Go's WithHandle answers: is a handle in use?
    /// let in_use = me.with_handle(|_| ()).is_ok();
    /// assert_eq!(in_use, me.has_handle());
    /// ```
    #[inline]
    pub fn with_handle<R>(&self, f: impl FnOnce(BorrowedProcessHandle<'_>) -> R) -> Result<R> {
        match self.inner.handle() {
            Some(handle) => Ok(f(handle)),
            None => Err(Error::no_handle()),
        }
    }

    /// Sends a signal through the handle (Linux: `pidfd_send_signal`;
    /// guarded-PID mode: `kill` after the identity check). Go: `Signal`.
    ///
    /// Returns [`Done`](crate::ErrorKind::Done) if the process has exited,
    /// whether reaped or a zombie: nothing is ever sent to a process that
    /// inherited the PID. On Windows only [`Signal::KILL`] is supported.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        self.inner.signal(signal.as_raw())
    }

    /// Sends `SIGKILL` (Windows: `TerminateProcess`). Go: `Kill`.
    pub fn kill(&self) -> Result<()> {
        self.signal(Signal::KILL)
    }

    /// Waits for the process to exit. Go: `Wait`.
    ///
    /// For our child, reaps it and returns its exit status and resource
    /// usage; later calls return the same state. For any other process,
    /// waits for its exit without reaping it, and returns its status where
    /// the kernel reports it (Linux 6.15+ with a pidfd, Windows), else a
    /// status that says it is unknown and why.
    ///
    /// Sleeps in the kernel (`waitid`, `poll` on the pidfd,
    /// `WaitForSingleObject`, kqueue `NOTE_EXIT` on macOS and FreeBSD).
    /// Only the guarded-PID mode on Linux, waiting for a process that is not
    /// our child, has to poll (with backoff up to 50 ms).
    pub fn wait(&self) -> Result<ProcessState> {
        match self.inner.wait_until(None)? {
            Some(state) => Ok(state),
            None => unreachable!("a wait without deadline returns only on exit"),
        }
    }

    /// Returns the state if the process has exited, `None` if it is still
    /// running. Never blocks: a non-child that has just exited but is not
    /// yet reaped by its parent is reported at once, with
    /// [`UnknownReason::NotReapedYet`](crate::UnknownReason::NotReapedYet)
    /// where the kernel would report the status after the reaping; a later
    /// call may then learn it.
    pub fn try_wait(&self) -> Result<Option<ProcessState>> {
        self.inner.try_wait()
    }

    /// Whether the process has exited, without reaping it and without
    /// blocking.
    ///
    /// Unlike [`try_wait`](Process::try_wait), this leaves our child a
    /// zombie: its PID (and, for a group leader, its process group ID)
    /// stay its own, so the rest of its tree can still be signalled by
    /// group, and a later [`wait`](Process::wait) still returns its full
    /// status. Asked with `waitid(WNOWAIT)` for our child (through the
    /// pidfd where there is one), through the handle or the start-time
    /// check for any other process, `WaitForSingleObject` with a zero
    /// timeout on Windows. Once the process has been waited for, `true`;
    /// for [`Process::current`], always `false`.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// use std::process::Command;
    /// use std::time::Duration;
    ///
    /// let p = prochandle::Process::spawn(&mut Command::new("true"))?;
    /// while !p.has_exited()? {
    ///     std::thread::sleep(Duration::from_millis(5));
    /// }
    /// // Not reaped: the status is still there to be collected.
    /// assert!(p.wait()?.success());
    /// # }
    /// # Ok(()) }
    /// ```
    #[doc(alias = "poll")]
    #[doc(alias = "is_running")]
    #[doc(alias = "is_alive")]
    pub fn has_exited(&self) -> Result<bool> {
        self.inner.has_exited()
    }

    /// Like [`wait`](Process::wait), giving up after `timeout` with
    /// `Ok(None)`.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// use std::time::{Duration, Instant};
    /// let p = prochandle::Process::spawn(std::process::Command::new("sleep").arg("5"))?;
    /// assert!(p.wait_timeout(Duration::from_millis(10))?.is_none());
    /// p.kill()?;
    /// assert!(p.wait_timeout(Duration::from_secs(5))?.is_some());
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<Option<ProcessState>> {
        // A timeout too large to add to now is as good as none.
        self.inner.wait_until(Instant::now().checked_add(timeout))
    }

    /// Gives up the process without waiting or signalling, and closes the
    /// handle. Go: `Release`. The same as dropping it; a child that was
    /// never waited for stays a zombie until this process exits.
    pub fn release(self) {
        drop(self)
    }

    /// Takes the owned handle out, giving the `Process` back if it has none.
    pub fn into_handle(self) -> std::result::Result<OwnedProcessHandle, Process> {
        self.inner.into_handle().map_err(|inner| Process { inner })
    }

    #[allow(dead_code)]
    /// Wraps what the OS layer opened.
    pub(crate) fn from_sys(inner: sys::Process) -> Process {
        Process { inner }
    }

    /// Wraps every process the OS layer opened.
    #[cfg(target_os = "linux")]
    pub(crate) fn from_sys_all(inner: Vec<sys::Process>) -> Vec<Process> {
        inner.into_iter().map(Process::from_sys).collect()
    }

    pub(crate) fn sys(&self) -> &sys::Process {
        &self.inner
    }
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid())
            .field("handle", &self.handle())
            .field("child", &self.is_child())
            .finish()
    }
}

fn describe_command(command: &Command) -> String {
    format!("cannot start {:?}", command.get_program())
}
