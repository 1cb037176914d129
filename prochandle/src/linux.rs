//! Linux extensions: what a pidfd can do beyond signal and wait.
//!
//! Go's `WithHandle` lends the pidfd so that callers can use it directly;
//! these are the uses worth having as safe, first-class calls, in std's
//! `std::os::linux::process` pattern: an extension trait [`ProcessExt`] for
//! [`Process`], another, [`CommandExt`], for [`Command`], and a few types.
//!
//! Each feature uses the newest kernel interface it can, and otherwise
//! falls back to `/proc` with the identity re-check (the answer is read by
//! PID, then the `Process` is shown to still own that PID, so it cannot
//! describe a recycled one), or fails with
//! [`Unsupported`](crate::ErrorKind::Unsupported) naming what is missing.
//! In the guarded-PID mode (no pidfds, or `PROCHANDLE_FORCE_PID=1`) only the
//! fallbacks are used.
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

use std::ffi::OsString;
use std::fmt;
use std::hash::Hash;
use std::ops::{BitAnd, BitOr, BitOrAssign};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::signal::Signal;
use crate::sys::linux as imp;
use crate::Process;

mod private {
    pub trait Sealed {}
    impl Sealed for crate::Process {}
    impl Sealed for std::process::Command {}
}

/// A set of namespace kinds, as the `CLONE_NEW*` flags of `setns(2)`.
///
/// ```
/// use prochandle::linux::Namespaces;
///
/// let ns = Namespaces::NET | Namespaces::UTS;
/// assert!(ns.contains(Namespaces::UTS));
/// assert!(!ns.contains(Namespaces::MOUNT));
/// assert_eq!(format!("{ns:?}"), "Namespaces(uts | net)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Namespaces(libc::c_int);

impl Namespaces {
    /// Mount namespace (`CLONE_NEWNS`, `/proc/<pid>/ns/mnt`).
    pub const MOUNT: Namespaces = Namespaces(libc::CLONE_NEWNS);
    /// Network namespace (`CLONE_NEWNET`).
    pub const NET: Namespaces = Namespaces(libc::CLONE_NEWNET);
    /// Host and domain name (`CLONE_NEWUTS`).
    pub const UTS: Namespaces = Namespaces(libc::CLONE_NEWUTS);
    /// System V IPC and POSIX message queues (`CLONE_NEWIPC`).
    pub const IPC: Namespaces = Namespaces(libc::CLONE_NEWIPC);
    /// PID namespace (`CLONE_NEWPID`). Joining it places the *children* of
    /// the joining process in it, not the process itself (see
    /// [`CommandExt::join_namespaces`]).
    pub const PID: Namespaces = Namespaces(libc::CLONE_NEWPID);
    /// User namespace (`CLONE_NEWUSER`).
    pub const USER: Namespaces = Namespaces(libc::CLONE_NEWUSER);
    /// Cgroup namespace (`CLONE_NEWCGROUP`).
    pub const CGROUP: Namespaces = Namespaces(libc::CLONE_NEWCGROUP);
    /// Time namespace (`CLONE_NEWTIME`, Linux 5.6).
    pub const TIME: Namespaces = Namespaces(libc::CLONE_NEWTIME);

    /// No namespace.
    pub const fn empty() -> Namespaces {
        Namespaces(0)
    }

    /// Every namespace kind.
    pub const fn all() -> Namespaces {
        Namespaces(imp::namespaces::ALL_FLAGS)
    }

    /// The `CLONE_NEW*` bits.
    pub const fn bits(self) -> libc::c_int {
        self.0
    }

    /// Whether every kind in `other` is in `self`.
    pub const fn contains(self, other: Namespaces) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for Namespaces {
    type Output = Namespaces;
    fn bitor(self, rhs: Namespaces) -> Namespaces {
        Namespaces(self.0 | rhs.0)
    }
}

impl BitOrAssign for Namespaces {
    fn bitor_assign(&mut self, rhs: Namespaces) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for Namespaces {
    type Output = Namespaces;
    fn bitand(self, rhs: Namespaces) -> Namespaces {
        Namespaces(self.0 & rhs.0)
    }
}

impl fmt::Debug for Namespaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = imp::namespaces::KINDS
            .iter()
            .filter(|k| self.0 & k.flag != 0)
            .map(|k| k.name)
            .collect();
        write!(f, "Namespaces({})", names.join(" | "))
    }
}

/// Real, effective, saved and file-system user or group IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ids {
    /// Real ID: who owns the process.
    pub real: u32,
    /// Effective ID: what permission checks use.
    pub effective: u32,
    /// Saved set-ID.
    pub saved: u32,
    /// File-system ID.
    pub filesystem: u32,
}

impl Ids {
    pub(crate) fn new(real: u32, effective: u32, saved: u32, filesystem: u32) -> Ids {
        Ids {
            real,
            effective,
            saved,
            filesystem,
        }
    }
}

/// Where the credentials and parent of a [`ProcessInfo`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InfoSource {
    /// `ioctl(PIDFD_GET_INFO)` (Linux 6.13): read through the pidfd, about
    /// exactly this process.
    PidfdGetInfo,
    /// `/proc/<pid>/stat` and `status`, re-checked after reading.
    Procfs,
}

/// What [`ProcessExt::info`] reports about a process.
///
/// Fields that only `/proc` knows are `None` where it would not tell (a
/// zombie has no command line or executable; another user's process hides
/// its executable).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessInfo {
    /// Process ID, in our PID namespace.
    pub pid: u32,
    /// Parent's PID; `None` for PID 1, or a parent outside our PID namespace.
    pub ppid: Option<u32>,
    /// User IDs.
    pub uids: Ids,
    /// Group IDs.
    pub gids: Ids,
    /// The cgroup v2 ID (the inode number of its cgroup directory), from
    /// `PIDFD_GET_INFO` only.
    pub cgroup_id: Option<u64>,
    /// The cgroup v2 path (the `0::` line of `/proc/<pid>/cgroup`).
    pub cgroup_path: Option<String>,
    /// The arguments, starting with the program name as it was invoked.
    pub cmdline: Option<Vec<OsString>>,
    /// The path of the executable.
    pub exe: Option<PathBuf>,
    /// When it started, as time since boot.
    pub start_time: Option<Duration>,
    /// The state letter of proc(5): `R` running, `S` sleeping, `D` disk
    /// sleep, `Z` zombie, `T` stopped, ...
    pub state: Option<char>,
    /// Number of threads.
    pub threads: Option<u32>,
    /// Where `ppid`, `uids` and `gids` came from.
    pub source: InfoSource,
}

impl ProcessInfo {
    pub(crate) fn empty(pid: u32) -> ProcessInfo {
        ProcessInfo {
            pid,
            ppid: None,
            uids: Ids::new(0, 0, 0, 0),
            gids: Ids::new(0, 0, 0, 0),
            cgroup_id: None,
            cgroup_path: None,
            cmdline: None,
            exe: None,
            start_time: None,
            state: None,
            threads: None,
            source: InfoSource::Procfs,
        }
    }
}

/// What makes a [`ProcessId`] unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum IdStamp {
    /// The pidfs inode number (Linux 6.9+).
    Inode(u64),
    /// Start time in clock ticks since boot, and the boot ID.
    Start { ticks: u64, boot_id: u128 },
}

/// A name for one process that stays valid for the whole boot, unlike a
/// PID: it never names another process.
///
/// On Linux 6.9+ it is the PID and the process's pidfs inode number, written
/// `PID:INODE` as util-linux's `kill` and systemd do. Elsewhere (older
/// kernels, guarded-PID mode) it is the PID, the start time in clock ticks
/// and the boot ID, written `PID@TICKS:BOOT-ID`; two processes started in
/// the same clock tick under the same PID cannot be told apart then.
/// Identities taken in the two modes of the same process differ.
///
/// It parses from and prints to text, compares and hashes, and
/// [`open`](ProcessId::open)s back into a [`Process`], checked to be the
/// same process.
///
/// ```
/// use prochandle::linux::{ProcessExt, ProcessId};
/// use prochandle::Process;
///
/// let me = Process::current()?;
/// let id = me.identity()?;
/// let text = id.to_string(); // "1234:5678" or "1234@9876:f0ee6e8a-..."
/// let parsed: ProcessId = text.parse()?;
/// assert_eq!(parsed, id);
/// assert_eq!(parsed.open()?.pid(), std::process::id());
/// # Ok::<(), prochandle::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcessId {
    pid: u32,
    pub(crate) stamp: IdStamp,
}

impl ProcessId {
    pub(crate) fn new(pid: u32, stamp: IdStamp) -> ProcessId {
        ProcessId { pid, stamp }
    }

    /// The PID part.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The pidfs inode number, for identities of the `PID:INODE` form.
    pub fn inode(&self) -> Option<u64> {
        match self.stamp {
            IdStamp::Inode(ino) => Some(ino),
            IdStamp::Start { .. } => None,
        }
    }

    /// Opens the process this names.
    ///
    /// A `PID:INODE` identity is reopened by pidfs file handle where the
    /// kernel allows (6.14+), with no PID involved; else by PID, and the
    /// inode is compared. A start-time identity is opened by PID and its
    /// start time and boot ID are compared. Either way, a process that is
    /// gone or whose PID now names another process gives
    /// [`NotFound`](crate::ErrorKind::NotFound). A `PID:INODE` identity in
    /// the guarded-PID mode gives [`Unsupported`](crate::ErrorKind::Unsupported).
    ///
    /// ```
    /// use prochandle::linux::ProcessExt;
    /// use prochandle::{ErrorKind, Process};
    ///
    /// let child = Process::spawn(&mut std::process::Command::new("true"))?;
    /// let id = child.identity()?;
    /// child.wait()?;
    /// assert_eq!(id.open().unwrap_err().kind(), ErrorKind::NotFound);
    /// # Ok::<(), prochandle::Error>(())
    /// ```
    pub fn open(&self) -> Result<Process> {
        imp::identity::open(self)
    }
}

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.stamp {
            IdStamp::Inode(ino) => write!(f, "{}:{ino}", self.pid),
            IdStamp::Start { ticks, boot_id } => write!(
                f,
                "{}@{ticks}:{}",
                self.pid,
                imp::identity::format_uuid(boot_id)
            ),
        }
    }
}

impl fmt::Debug for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProcessId({self})")
    }
}

impl FromStr for ProcessId {
    type Err = Error;

    /// Parses `PID:INODE` or `PID@TICKS:BOOT-ID`; anything else is
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput).
    fn from_str(text: &str) -> Result<ProcessId> {
        let bad = || {
            Error::invalid_input(
                "ProcessId::from_str",
                format!("{text:?} is not a process identity (PID:INODE or PID@TICKS:BOOT-ID)"),
            )
        };
        let number = |s: &str| -> Option<u64> {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let pid_of = |s: &str| {
            number(s)
                .and_then(|p| u32::try_from(p).ok())
                .filter(|&p| p > 0 && p <= i32::MAX as u32)
        };
        if let Some((pid, rest)) = text.split_once('@') {
            let (ticks, boot) = rest.split_once(':').ok_or_else(bad)?;
            let pid = pid_of(pid).ok_or_else(bad)?;
            let ticks = number(ticks).ok_or_else(bad)?;
            let boot_id = imp::identity::parse_uuid(boot).ok_or_else(bad)?;
            return Ok(ProcessId::new(pid, IdStamp::Start { ticks, boot_id }));
        }
        let (pid, ino) = text.split_once(':').ok_or_else(bad)?;
        let pid = pid_of(pid).ok_or_else(bad)?;
        let ino = number(ino).ok_or_else(bad)?;
        Ok(ProcessId::new(pid, IdStamp::Inode(ino)))
    }
}

/// A handle to one thread of a process: a thread pidfd (`PIDFD_THREAD`,
/// Linux 6.9), checked to belong to the process it came from.
///
/// ```
/// use prochandle::linux::ProcessExt;
/// use prochandle::{ErrorKind, Process};
///
/// let me = Process::current()?;
/// let tid = rustix::thread::gettid().as_raw_nonzero().get() as u32;
/// match me.thread(tid) {
///     Ok(thread) => {
///         assert_eq!(thread.tid(), tid);
///         thread.signal(prochandle::Signal::from_raw(0))?; // "is it there?"
///     }
///     Err(e) => assert_eq!(e.kind(), ErrorKind::Unsupported),
/// }
/// # Ok::<(), prochandle::Error>(())
/// ```
#[derive(Debug)]
pub struct Thread {
    inner: imp::thread::ThreadFd,
}

impl Thread {
    /// The thread ID.
    pub fn tid(&self) -> u32 {
        self.inner.tid
    }

    /// The PID of its process.
    pub fn pid(&self) -> u32 {
        self.inner.pid
    }

    /// Sends `signal` to this thread only (`PIDFD_SIGNAL_THREAD`);
    /// [`Done`](crate::ErrorKind::Done) once it has exited.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        imp::thread::signal_thread_fd(&self.inner, signal.as_raw())
    }

    /// Whether the thread has exited (its pidfd polls readable).
    pub fn has_exited(&self) -> bool {
        imp::thread::thread_exited(&self.inner)
    }

    /// The thread pidfd, for `poll` (readable when the thread exits).
    pub fn handle(&self) -> BorrowedFd<'_> {
        self.inner.fd.as_fd()
    }
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
    /// assert_eq!(leader.wait()?.signal(), Some(Signal::TERM.as_raw()));
    /// # Ok::<(), prochandle::Error>(())
    /// ```
    fn signal_process_group(&self, signal: Signal) -> Result<()>;
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
        imp::identity::identity(self.sys())
    }

    fn children(&self) -> Result<Vec<Process>> {
        imp::tree::children(self)
    }

    fn descendants(&self) -> Result<Vec<Process>> {
        imp::tree::descendants(self)
    }

    fn thread(&self, tid: u32) -> Result<Thread> {
        imp::thread::open_thread(self.sys(), tid).map(|inner| Thread { inner })
    }

    fn signal_thread(&self, tid: u32, signal: Signal) -> Result<()> {
        imp::thread::signal_thread(self.sys(), tid, signal.as_raw())
    }

    fn signal_process_group(&self, signal: Signal) -> Result<()> {
        imp::thread::signal_process_group(self.sys(), signal.as_raw())
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
    imp::peer::peer_process(stream.as_fd())
}

/// Linux-only settings of a [`Command`]. Sealed: implemented for `Command`
/// only.
pub trait CommandExt: private::Sealed {
    /// Makes the command run in the given namespaces of `process`.
    ///
    /// The join happens in the child, after `fork` and before `exec`: the
    /// kernel lets only a single-threaded process enter a mount or user
    /// namespace, and joining in the caller would move it (and everything
    /// it does later) too. With a pidfd and Linux 5.8+ the child calls
    /// `setns(pidfd, flags)` once, which joins every namespace atomically
    /// at spawn time. Otherwise the `/proc/<pid>/ns/*` files are opened
    /// now, the PID guard is re-checked (so they are this process's), and
    /// the child joins them one by one (user namespace first).
    ///
    /// Things to know:
    /// - [`Namespaces::PID`] places the command's *children* in the PID
    ///   namespace, not the command itself (as `setns(2)` does; `nsenter`
    ///   forks for this).
    /// - [`Namespaces::MOUNT`] sets the working directory to the root of the
    ///   new mount namespace: `current_dir` is applied before the join.
    /// - `uid`/`gid` settings of the `Command` are applied before the join,
    ///   and joining needs `CAP_SYS_ADMIN` (over the target's user
    ///   namespace): `spawn` then fails with `PermissionDenied`.
    /// - Joining one's own user namespace is skipped (the kernel refuses it).
    /// - If the process has exited by spawn time, `spawn` fails (`ESRCH`).
    ///
    /// Errors here (rather than from `spawn`): the process has exited
    /// ([`Done`](crate::ErrorKind::Done)), its `/proc` files cannot be
    /// opened, or an unknown flag.
    ///
    /// ```no_run
    /// use std::process::Command;
    /// use prochandle::linux::{CommandExt, Namespaces};
    /// use prochandle::Process;
    ///
    /// let container = Process::open(4242)?;
    /// let out = Command::new("ip")
    ///     .arg("addr")
    ///     .join_namespaces(&container, Namespaces::NET | Namespaces::UTS)?
    ///     .output()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn join_namespaces(
        &mut self,
        process: &Process,
        namespaces: Namespaces,
    ) -> Result<&mut Command>;
}

impl CommandExt for Command {
    fn join_namespaces(
        &mut self,
        process: &Process,
        namespaces: Namespaces,
    ) -> Result<&mut Command> {
        use std::os::unix::process::CommandExt as _;
        let plan = imp::namespaces::prepare_join(process.sys(), namespaces.bits())?;
        // SAFETY: the closure runs in the child between fork and exec, where
        // only async-signal-safe work is allowed: `enter` makes `setns`
        // calls on descriptors opened beforehand and allocates nothing.
        unsafe {
            self.pre_exec(move || plan.enter());
        }
        Ok(self)
    }
}
