//! [`processes`]: every process on the system at one moment, with its
//! parent and image name (a Toolhelp snapshot).

use std::ffi::OsString;

use crate::error::{Error, Result};
use crate::sys::windows::toolhelp;

/// One process as [`processes`] saw it. A snapshot names a process by
/// PID only: to act on it, open it ([`Process::open`](crate::Process::open))
/// and check it is the one meant (for instance by
/// [`creation_time`](super::ProcessExt::creation_time)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessEntry {
    /// Its PID.
    pub pid: u32,
    /// The PID of the process that created it. Windows does not
    /// re-parent: once the creator has exited, this PID may name another
    /// process.
    pub parent_pid: u32,
    /// The file name of its image (`cmd.exe`), without the directory.
    pub exe: OsString,
}

/// Every process on the system, as one Toolhelp snapshot saw them
/// (`CreateToolhelp32Snapshot`, `Process32FirstW`/`Process32NextW`).
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// let me = std::process::id();
/// let all = prochandle::windows::processes()?;
/// assert!(all.iter().any(|p| p.pid == me));
/// # Ok(()) }
/// ```
pub fn processes() -> Result<Vec<ProcessEntry>> {
    let all = toolhelp::processes().map_err(|e| Error::os("CreateToolhelp32Snapshot", e))?;
    Ok(all
        .into_iter()
        .map(|p| ProcessEntry {
            pid: p.pid,
            parent_pid: p.parent_pid,
            exe: p.exe,
        })
        .collect())
}
