//! Linux extensions: what a pidfd can do beyond signal and wait.
//!
//! Go's `WithHandle` lends the pidfd so that callers can use it directly;
//! these are the uses worth having as safe, first-class calls, in std's
//! `std::os::linux::process` pattern: an extension trait [`ProcessExt`] for
//! [`Process`], another, [`CommandExt`], for [`Command`](std::process::Command), and a few types.
//!
//! Each feature uses the newest kernel interface it can, and otherwise
//! falls back to `/proc` with the identity re-check (the answer is read by
//! PID, then the `Process` is shown to still own that PID, so it cannot
//! describe a recycled one), or fails with
//! [`Unsupported`](crate::ErrorKind::Unsupported) naming what is missing.
//! Without pidfds (old kernels, sandboxes, `PROCHANDLE_FORCE_PID`) only the
//! fallbacks are used; in the `/proc/<pid>` directory tier their re-check
//! is exact, through the directory ([`ProcessExt::proc_dir`]).
//!
//! | feature | API | kernel | fallback |
//! | --- | --- | --- | --- |
//! | take a descriptor from a process | [`ProcessExt::get_fd`] | 5.6 (`pidfd_getfd`) | none: `Unsupported` |
//! | run a command in a process's namespaces | [`CommandExt::join_namespaces`] | 5.8 (`setns(pidfd)`) | `/proc/<pid>/ns/*` + re-check |
//! | open one namespace | [`ProcessExt::open_namespace`] | 6.11 (`PIDFD_GET_*_NAMESPACE`) | `/proc/<pid>/ns/*` + re-check |
//! | pid, ppid, uids, gids, cgroup | [`ProcessExt::info`] | 6.13 (`PIDFD_GET_INFO`) | `/proc/<pid>/{stat,status}` + re-check |
//! | command line, exe, start, state, threads | [`ProcessExt::info`] | any (`/proc`) | re-checked after reading |
//! | a name for the whole boot | [`ProcessExt::identity`], [`ProcessId`] | 6.9 (pidfs inode); reopen by handle 6.14 | PID + start time + boot ID |
//! | the peer of a Unix socket | [`peer_process`] | 6.5 (`SO_PEERPIDFD`) | `SO_PEERCRED` + credential and PID check |
//! | children, descendants | [`ProcessExt::children`], [`ProcessExt::descendants`] | any (`/proc`) | each verified to still be a child |
//! | thread handles, thread signals | [`ProcessExt::thread`], [`ProcessExt::signal_thread`] | 6.9 (`PIDFD_THREAD`) | `tgkill` after the PID guard; `thread` is `Unsupported` |
//! | signal a process group | [`ProcessExt::signal_process_group`] | 6.9 (`PIDFD_SIGNAL_PROCESS_GROUP`) | `kill(-pgid)` after the PID guard |

mod command;
mod identity;
mod keeper;
mod namespaces;
mod thread;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

use crate::error::Result;
use crate::signal::Signal;
use crate::sys::linux as imp;
use crate::Process;

pub use crate::sys::linux::info::{Ids, InfoSource, ProcessInfo};
pub use identity::ProcessId;
pub use keeper::Keeper;
pub use namespaces::Namespaces;
pub use thread::Thread;

pub use command::CommandExt;

mod private {
    pub trait Sealed {}
    impl Sealed for crate::Process {}
    impl Sealed for std::process::Command {}
}

/// Linux-only operations on a [`Process`]. Sealed: implemented for
/// `Process` only.
pub trait ProcessExt: private::Sealed {
    /// Duplicates descriptor `target_fd` of the process into this one
    /// (`pidfd_getfd(2)`, Linux 5.6), close-on-exec, like `dup` across
    /// processes: both then share one open file description.
    ///
    /// Needs ptrace-attach rights over the process: the same user and a
    /// dumpable target (not setuid or `PR_SET_DUMPABLE` 0), as Yama's
    /// `ptrace_scope` allows, or `CAP_SYS_PTRACE`; otherwise
    /// [`PermissionDenied`](crate::ErrorKind::PermissionDenied). A
    /// descriptor that is not open is
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput), an exited process
    /// [`Done`](crate::ErrorKind::Done), and without a pidfd it is
    /// [`Unsupported`](crate::ErrorKind::Unsupported) (there is no fallback).
    ///
    /// ```
    /// use std::process::{Command, Stdio};
    /// use prochandle::linux::ProcessExt;
    /// use prochandle::Process;
    ///
    /// let child = Process::spawn(Command::new("sleep").arg("10").stdout(Stdio::null()))?;
    /// match child.get_fd(1) {
    ///     Ok(stdout) => println!("the child's stdout is {stdout:?}"),
    ///     Err(e) => println!("cannot take it: {e}"),
    /// }
    /// child.kill()?;
    /// child.wait()?;
    /// # Ok::<(), prochandle::Error>(())
    /// ```
    fn get_fd(&self, target_fd: RawFd) -> Result<OwnedFd>;

    /// Opens one namespace of the process as a descriptor (for `setns(2)`,
    /// or to compare with `fstat`): `PIDFD_GET_*_NAMESPACE` (Linux 6.11),
    /// else `/proc/<pid>/ns/<name>`, re-checked to have been this
    /// process's.
    ///
    /// `namespace` must name exactly one kind
    /// ([`InvalidInput`](crate::ErrorKind::InvalidInput) otherwise). Needs
    /// ptrace-read rights over the process.
    ///
    /// ```
    /// use prochandle::linux::{Namespaces, ProcessExt};
    /// use prochandle::Process;
    ///
    /// let me = Process::current()?;
    /// let net = me.open_namespace(Namespaces::NET)?;
    /// println!("our network namespace: {net:?}");
    /// # Ok::<(), prochandle::Error>(())
    /// ```
    fn open_namespace(&self, namespace: Namespaces) -> Result<OwnedFd>;

    /// Who the process is: pid, parent, user and group IDs, cgroup; and
    /// from `/proc`, its command line, executable, start time, state and
    /// thread count.
    ///
    /// Through `PIDFD_GET_INFO` (Linux 6.13) where available, trusting only
    /// the fields the kernel marks as filled; else `/proc`. Everything read
    /// from `/proc` is followed by the identity re-check, so the answer
    /// never describes a process that took over the PID:
    /// [`Done`](crate::ErrorKind::Done) if the process was reaped.
    ///
    /// ```
    /// use prochandle::linux::ProcessExt;
    /// use prochandle::Process;
    ///
    /// let info = Process::current()?.info()?;
    /// assert_eq!(info.pid, std::process::id());
    /// assert_eq!(info.uids.real, rustix::process::getuid().as_raw());
    /// println!("{:?} in {:?}", info.exe, info.cgroup_path);
    /// # Ok::<(), prochandle::Error>(())
    /// ```
    fn info(&self) -> Result<ProcessInfo>;

    /// A [`ProcessId`] naming this process for the whole boot.
    ///
    /// ```
    /// use prochandle::linux::ProcessExt;
    /// use prochandle::Process;
    ///
    /// let me = Process::current()?;
    /// assert_eq!(me.identity()?, Process::current()?.identity()?);
    /// # Ok::<(), prochandle::Error>(())
    /// ```
    fn identity(&self) -> Result<ProcessId>;

    /// The children of the process, from `/proc/<pid>/task/*/children`
    /// (or a scan of `/proc` where the kernel lacks that file), each opened
    /// and then verified to still be a child of this process. Children
    /// that exit meanwhile are left out.
    ///
    /// ```
    /// use prochandle::linux::ProcessExt;
    /// use prochandle::Process;
    ///
    /// let child = Process::spawn(std::process::Command::new("sleep").arg("10"))?;
    /// let mine = Process::current()?.children()?;
    /// assert!(mine.iter().any(|p| p.pid() == child.pid()));
    /// child.kill()?;
    /// child.wait()?;
    /// # Ok::<(), prochandle::Error>(())
    /// ```
    fn children(&self) -> Result<Vec<Process>>;

    /// Every descendant (children, their children, ...), breadth first,
    /// each verified as in [`children`](ProcessExt::children).
    ///
    /// ```
    /// use prochandle::linux::ProcessExt;
    /// use prochandle::Process;
    ///
    /// let all = Process::current()?.descendants()?;
    /// println!("{} descendants", all.len());
    /// # Ok::<(), prochandle::Error>(())
    /// ```
    fn descendants(&self) -> Result<Vec<Process>>;

    /// A handle to thread `tid` of this process (`PIDFD_THREAD`, Linux
    /// 6.9): [`NotFound`](crate::ErrorKind::NotFound) if there is no such
    /// thread in this process, [`Unsupported`](crate::ErrorKind::Unsupported)
    /// without thread pidfds. See [`Thread`].
    fn thread(&self, tid: u32) -> Result<Thread>;

    /// Sends `signal` to thread `tid` of this process only: through a
    /// thread pidfd (Linux 6.9), else with `tgkill` after the PID guard.
    ///
    /// ```
    /// use prochandle::linux::ProcessExt;
    /// use prochandle::{Process, Signal};
    ///
    /// let me = Process::current()?;
    /// let tid = rustix::thread::gettid().as_raw_nonzero().get() as u32;
    /// me.signal_thread(tid, Signal::from_raw(0))?;
    /// # Ok::<(), prochandle::Error>(())
    /// ```
    fn signal_thread(&self, tid: u32, signal: Signal) -> Result<()>;

    /// Sends `signal` to the process group this process leads (the group
    /// whose ID is its PID, such as a child spawned with
    /// `process_group(0)`): `PIDFD_SIGNAL_PROCESS_GROUP` (Linux 6.9), else
    /// `kill(-pgid)` after the PID guard.
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) if the process leads
    /// no group.
    ///
    /// ```
    /// use std::os::unix::process::CommandExt as _;
    /// use prochandle::linux::ProcessExt;
    /// use prochandle::{Process, Signal};
    ///
    /// let leader = Process::spawn(std::process::Command::new("sleep").arg("10").process_group(0))?;
    /// leader.signal_process_group(Signal::TERM)?;
    /// assert_eq!(leader.wait()?.signal(), Some(Signal::TERM));
    /// # Ok::<(), prochandle::Error>(())
    /// ```
    fn signal_process_group(&self, signal: Signal) -> Result<()>;

    /// Sends `signal` with a value, as `sigqueue(3)` does: the receiver
    /// finds `value` in `si_value` (and `si_code` `SI_QUEUE`) if it handles
    /// the signal with `SA_SIGINFO`. Through the pidfd (or `/proc`
    /// directory) that pins the process, so a recycled PID is never hit;
    /// by PID after the guard otherwise. Real-time signals queue one per
    /// send, each with its value.
    ///
    /// ```
    /// use prochandle::linux::ProcessExt;
    /// use prochandle::{Process, Signal};
    ///
    /// let child = Process::spawn(std::process::Command::new("sleep").arg("10"))?;
    /// child.signal_with_value(Signal::TERM, 42)?;
    /// assert_eq!(child.wait()?.signal(), Some(Signal::TERM));
    /// # Ok::<(), prochandle::Error>(())
    /// ```
    fn signal_with_value(&self, signal: Signal, value: i32) -> Result<()>;

    /// The `/proc/<pid>` directory descriptor that pins the process in the
    /// middle tier ([`PinMode::ProcDir`](crate::PinMode::ProcDir)), lent
    /// for the life of the borrow; `None` in the other tiers.
    ///
    /// It is not a pidfd ([`with_handle`](Process::with_handle) still says
    /// `NoHandle`), but the kernel ties it to the process, not the number:
    /// `openat(dir, "status")` reads this process's file or fails once it
    /// is reaped, and `pidfd_send_signal(2)` (Linux 5.1) accepts it.
    ///
    /// ```
    /// use prochandle::linux::ProcessExt;
    /// use prochandle::{capabilities, PinMode, Process};
    ///
    /// let me = Process::current()?;
    /// assert_eq!(
    ///     me.proc_dir().is_some(),
    ///     capabilities().pin_mode() == PinMode::ProcDir
    /// );
    /// # Ok::<(), prochandle::Error>(())
    /// ```
    fn proc_dir(&self) -> Option<BorrowedFd<'_>>;
}

impl ProcessExt for Process {
    fn get_fd(&self, target_fd: RawFd) -> Result<OwnedFd> {
        imp::getfd::get_fd(self.sys(), target_fd)
    }

    fn open_namespace(&self, namespace: Namespaces) -> Result<OwnedFd> {
        imp::namespaces::open_namespace(self.sys(), namespace.bits())
    }

    fn info(&self) -> Result<ProcessInfo> {
        imp::info::info(self.sys())
    }

    fn identity(&self) -> Result<ProcessId> {
        imp::identity::identity(self.sys()).map(ProcessId::from_sys)
    }

    fn children(&self) -> Result<Vec<Process>> {
        imp::tree::children(self.sys()).map(Process::from_sys_all)
    }

    fn descendants(&self) -> Result<Vec<Process>> {
        imp::tree::descendants(self.sys()).map(Process::from_sys_all)
    }

    fn thread(&self, tid: u32) -> Result<Thread> {
        imp::thread::open_thread(self.sys(), tid).map(Thread::from_sys)
    }

    fn signal_thread(&self, tid: u32, signal: Signal) -> Result<()> {
        imp::thread::signal_thread(self.sys(), tid, signal.as_raw())
    }

    fn signal_process_group(&self, signal: Signal) -> Result<()> {
        imp::thread::signal_process_group(self.sys(), signal.as_raw())
    }

    fn signal_with_value(&self, signal: Signal, value: i32) -> Result<()> {
        imp::queue::signal_with_value(self.sys(), signal.as_raw(), value)
    }

    fn proc_dir(&self) -> Option<BorrowedFd<'_>> {
        self.sys().proc_dir()
    }
}

/// The process at the other end of a connected Unix socket, for daemons
/// that authorise their clients.
///
/// With `SO_PEERPIDFD` (Linux 6.5) the kernel hands out a pidfd for the
/// process that connected: no PID is involved. Otherwise `SO_PEERCRED`
/// gives its PID, which is opened and checked against the socket's user and
/// group and the PID guard: best effort, as any PID. A peer that has exited
/// gives [`Done`](crate::ErrorKind::Done).
///
/// The answer is the process that called `connect` (or `socketpair`), even
/// if it has passed the socket on since.
///
/// ```
/// use std::os::unix::net::UnixStream;
///
/// let (a, _b) = UnixStream::pair()?;
/// let peer = prochandle::linux::peer_process(&a)?;
/// assert_eq!(peer.pid(), std::process::id());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn peer_process(stream: &UnixStream) -> Result<Process> {
    imp::peer::peer_process(stream.as_fd()).map(Process::from_sys)
}

/// The user ID of the user named `name` in the user database
/// (`getpwnam_r`: `/etc/passwd`, or whatever NSS is configured with);
/// `Ok(None)` when there is no such user.
///
/// ```
/// assert_eq!(prochandle::linux::user_id("root")?, Some(0));
/// assert_eq!(prochandle::linux::user_id("no such user")?, None);
/// # Ok::<(), prochandle::Error>(())
/// ```
#[doc(alias = "getpwnam")]
#[doc(alias = "uid")]
pub fn user_id(name: &str) -> Result<Option<u32>> {
    imp::users::uid_by_name(name).map_err(|e| crate::Error::os("getpwnam_r", e))
}

/// Opens `/dev/null` on each of the standard descriptors 0, 1 and 2 that
/// this process was started without, as std does before `main`. For a
/// program whose entry point is C's `main` (`#![no_main]`, which skips
/// std's start-up): call it first, before anything opens a descriptor,
/// or the first one opened takes the place of a closed standard stream
/// (a pidfd as standard output, a pipe as a child's input).
///
/// The descriptors it opens are not close-on-exec: they are the
/// process's standard streams, which children inherit.
///
/// ```
/// // Under the test runner all three are open: nothing to do.
/// prochandle::linux::open_closed_standard_streams()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn open_closed_standard_streams() -> std::io::Result<()> {
    imp::std_streams::open_closed()
}

/// Whether `SIGPIPE` was ignored when this program started (read before
/// `main`, before the Rust runtime ignores it for itself): what a caller
/// such as a shell's `trap '' PIPE` asked of the program and of what it
/// runs.
///
/// ```
/// // cargo's test runner does not ignore it.
/// assert!(!prochandle::linux::sigpipe_ignored_at_start());
/// ```
pub fn sigpipe_ignored_at_start() -> bool {
    imp::inherited::ignored_at_start()
}

/// Puts `SIGCHLD` back to its default action if this process was started
/// with it ignored (`SIG_IGN` or `SA_NOCLDWAIT`, as `trap '' CHLD` in a
/// shell leaves it): with it ignored the kernel reaps children the moment
/// they exit, so their PIDs may be reused before anyone looks, and the
/// library refuses to hold them. Call it at the start of a program that
/// runs commands (as timeout(1) does), before any thread starts. No
/// handler is installed. Returns whether it was ignored.
///
/// ```
/// // Not ignored under cargo's test runner: nothing to do.
/// assert!(!prochandle::linux::reset_ignored_sigchld()?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn reset_ignored_sigchld() -> std::io::Result<bool> {
    imp::inherited::reset_ignored_sigchld()
}

/// Makes this process the child subreaper (`PR_SET_CHILD_SUBREAPER`,
/// Linux 3.4; no privilege needed): from now on an orphaned descendant is
/// re-parented to this process instead of to init, and it is this
/// process's job to reap it (see [`reap_exited_children`]). The flag is
/// process-wide and kept until exit; it is what `tini -s` sets.
///
/// ```no_run
/// prochandle::linux::become_subreaper()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn become_subreaper() -> std::io::Result<()> {
    imp::subreaper::enable()
}

/// Reaps every exited child of this process except `keep`, and returns
/// how many: the orphans an init or a subreaper inherits. `keep`, the
/// child whose status its owner will collect, is never reaped here (it is
/// looked at without being reaped, `WNOWAIT`); while it is an unreaped
/// zombie, children that exited after it may wait for the next call after
/// it is reaped.
///
/// Only for a process that holds no other child it means to wait for
/// itself (an init): any other exited child is reaped and its status lost.
///
/// ```
/// use prochandle::Process;
///
/// let kept = Process::spawn(&mut std::process::Command::new("true"))?;
/// while !kept.has_exited()? {
///     std::thread::sleep(std::time::Duration::from_millis(10));
/// }
/// // The kept child is left for its owner, whose status it still has.
/// assert_eq!(prochandle::linux::reap_exited_children(Some(&kept))?, 0);
/// assert!(kept.wait()?.success());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn reap_exited_children(keep: Option<&Process>) -> std::io::Result<usize> {
    let mut reaped = 0;
    while let Some(pid) = imp::orphans::exited_child()? {
        if keep.is_some_and(|keep| keep.pid() == pid) {
            break;
        }
        imp::orphans::reap(pid)?;
        reaped += 1;
    }
    Ok(reaped)
}
