//! [`ProcessId`]: a name for one process that outlives its PID.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::sys::linux::identity::{self as imp, IdStamp, Identity};
use crate::Process;

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
pub struct ProcessId(Identity);

impl ProcessId {
    pub(crate) fn from_sys(id: Identity) -> ProcessId {
        ProcessId(id)
    }

    /// The PID part.
    pub fn pid(&self) -> u32 {
        self.0.pid
    }

    /// The pidfs inode number, for identities of the `PID:INODE` form.
    pub fn inode(&self) -> Option<u64> {
        match self.0.stamp {
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
        imp::open(&self.0).map(Process::from_sys)
    }
}

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
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
        Identity::parse(text).map(ProcessId).ok_or_else(|| {
            Error::invalid_input(
                "ProcessId::from_str",
                format!("{text:?} is not a process identity (PID:INODE or PID@TICKS:BOOT-ID)"),
            )
        })
    }
}
