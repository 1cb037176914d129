//! A name for one process that stays valid for the whole boot.
//!
//! On pidfs (Linux 6.9+) every process gets a 64-bit inode number that is
//! never reused until reboot: `PID:INODE`, the form util-linux and systemd
//! print. Elsewhere the PID, the start time and the boot ID together name a
//! process, as well as `/proc` allows.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::OnceLock;

use super::{capabilities, Process};
use crate::capabilities::Feature;
use crate::error::{Error, ErrorKind, Result};

const OP: &str = "identity";
const OPEN_OP: &str = "ProcessId::open";

/// What makes an identity unique for the boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum IdStamp {
    /// The pidfs inode number (Linux 6.9+).
    Inode(u64),
    /// Start time in clock ticks since boot, and the boot ID.
    Start { ticks: u64, boot_id: u128 },
}

/// A process's PID with what makes it unique for the boot; the data behind
/// the public `ProcessId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Identity {
    pub pid: u32,
    pub stamp: IdStamp,
}

impl Identity {
    fn new(pid: u32, stamp: IdStamp) -> Identity {
        Identity { pid, stamp }
    }

    fn pid(&self) -> u32 {
        self.pid
    }

    /// Parses `PID:INODE` or `PID@TICKS:BOOT-ID`.
    pub(crate) fn parse(text: &str) -> Option<Identity> {
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
            let (ticks, boot) = rest.split_once(':')?;
            let stamp = IdStamp::Start {
                ticks: number(ticks)?,
                boot_id: parse_uuid(boot)?,
            };
            return Some(Identity::new(pid_of(pid)?, stamp));
        }
        let (pid, ino) = text.split_once(':')?;
        Some(Identity::new(pid_of(pid)?, IdStamp::Inode(number(ino)?)))
    }
}

impl fmt::Display for Identity {
    /// `PID:INODE` (util-linux's and systemd's form) or `PID@TICKS:BOOT-ID`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.stamp {
            IdStamp::Inode(ino) => write!(f, "{}:{ino}", self.pid),
            IdStamp::Start { ticks, boot_id } => {
                write!(f, "{}@{ticks}:{}", self.pid, format_uuid(boot_id))
            }
        }
    }
}

pub(crate) fn identity(process: &Process) -> Result<Identity> {
    let pid = process.pid();
    if let Some(fd) = process.handle() {
        if capabilities().is_available(Feature::PidfsIds) {
            let ino = pidfs_inode(fd)?;
            return Ok(Identity::new(pid, IdStamp::Inode(ino)));
        }
    }
    let ticks = process.start_time().ok_or_else(|| {
        Error::new(ErrorKind::Done, OP).with_detail(format!(
            "process {pid} was already reaped when it was opened"
        ))
    })?;
    let boot_id = boot_id().map_err(|e| Error::os("read /proc/sys/kernel/random/boot_id", e))?;
    Ok(Identity::new(pid, IdStamp::Start { ticks, boot_id }))
}

fn pidfs_inode(fd: BorrowedFd<'_>) -> Result<u64> {
    rustix::fs::fstat(fd)
        .map(|st| st.st_ino)
        .map_err(|e| Error::os("fstat(pidfd)", e.into()))
}

/// The boot ID, a random UUID the kernel picks at each boot.
fn boot_id() -> io::Result<u128> {
    let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")?;
    parse_uuid(text.trim())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "boot_id is not a UUID"))
}

/// `8-4-4-4-12` hex digits.
fn parse_uuid(text: &str) -> Option<u128> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if lengths != [8, 4, 4, 4, 12]
        || !groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return None;
    }
    u128::from_str_radix(&groups.concat(), 16).ok()
}

fn format_uuid(id: u128) -> String {
    let hex = format!("{id:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn gone(id: &Identity, why: &str) -> Error {
    Error::new(ErrorKind::NotFound, OPEN_OP).with_detail(format!("process {id}: {why}"))
}

/// Opens the process `id` names, or `NotFound` if it is gone or its PID
/// now belongs to another process.
pub(crate) fn open(id: &Identity) -> Result<Process> {
    match id.stamp {
        IdStamp::Inode(ino) => open_by_inode(id, ino),
        IdStamp::Start {
            ticks,
            boot_id: boot,
        } => {
            let now =
                boot_id().map_err(|e| Error::os("read /proc/sys/kernel/random/boot_id", e))?;
            if now != boot {
                return Err(gone(id, "it is from another boot"));
            }
            let process = open_pid(id)?;
            match process.start_time() {
                Some(start) if start == ticks => Ok(process),
                Some(_) => Err(gone(id, "its PID now belongs to another process")),
                None => Err(gone(id, "it has exited")),
            }
        }
    }
}

fn open_pid(id: &Identity) -> Result<Process> {
    Process::open(id.pid()).map_err(|e| match e.kind() {
        ErrorKind::NotFound | ErrorKind::Done => gone(id, "no such process"),
        _ => e,
    })
}

fn open_by_inode(id: &Identity, ino: u64) -> Result<Process> {
    if !capabilities().handles() || !capabilities().is_available(Feature::PidfsIds) {
        return Err(Error::unsupported(
            OPEN_OP,
            "a PID:INODE identity needs pidfds on pidfs (Linux 6.9+), unavailable here",
        ));
    }
    // Linux 6.14+: reopen by file handle, no PID involved.
    if let Some(fd) = open_by_pidfs_handle(ino) {
        let process = Process::from_handle(fd).map_err(|e| match e.kind() {
            ErrorKind::Done => gone(id, "it has exited and been reaped"),
            _ => e,
        })?;
        if process.pid() != id.pid() {
            return Err(gone(id, "its inode names a process with another PID"));
        }
        return Ok(process);
    }
    open_by_pid_and_inode(id, ino)
}

/// Linux 6.9-6.13: by PID, then the inode proves it is the same process.
fn open_by_pid_and_inode(id: &Identity, ino: u64) -> Result<Process> {
    let process = open_pid(id)?;
    let fd = process.handle().expect("pidfd mode");
    if pidfs_inode(fd)? != ino {
        return Err(gone(id, "its PID now belongs to another process"));
    }
    Ok(process)
}

/// A `struct file_handle` with room for the largest handle the kernel
/// hands out (`MAX_HANDLE_SZ`): the header, then its flexible `f_handle`
/// array. A pidfs handle is 8 bytes, the inode number.
#[repr(C)]
struct PidfsHandle {
    header: libc::file_handle,
    f_handle: [u8; libc::MAX_HANDLE_SZ as usize],
}

// The payload must sit exactly where the header's flexible array begins.
const _: () = assert!(
    std::mem::offset_of!(PidfsHandle, f_handle)
        == std::mem::offset_of!(libc::file_handle, f_handle)
);

impl PidfsHandle {
    fn new(handle_bytes: u32, handle_type: i32) -> PidfsHandle {
        PidfsHandle {
            header: libc::file_handle {
                handle_bytes,
                handle_type,
                f_handle: [],
            },
            f_handle: [0; libc::MAX_HANDLE_SZ as usize],
        }
    }
}

/// The handle type pidfs uses, learnt once from a handle of our own pidfd
/// (and checked to carry exactly our inode number); `None` where pidfs has
/// no file handles (before Linux 6.14).
fn pidfs_handle_type() -> Option<i32> {
    static TYPE: OnceLock<Option<i32>> = OnceLock::new();
    *TYPE.get_or_init(|| {
        let own = super::pidfd_open(std::process::id() as i32).ok()?;
        let ino = pidfs_inode(own.as_fd()).ok()?;
        let mut handle = PidfsHandle::new(libc::MAX_HANDLE_SZ as u32, 0);
        let mut mount_id: libc::c_int = 0;
        // SAFETY: `handle` is a `file_handle` header followed by
        // `MAX_HANDLE_SZ` bytes, as `handle_bytes` tells the kernel; the
        // path is a NUL-terminated empty string used with AT_EMPTY_PATH;
        // `mount_id` is a valid int.
        let ret = unsafe {
            libc::name_to_handle_at(
                own.as_raw_fd(),
                c"".as_ptr(),
                (&mut handle as *mut PidfsHandle).cast(),
                &mut mount_id,
                libc::AT_EMPTY_PATH,
            )
        };
        let bytes: [u8; 8] = handle.f_handle[..8].try_into().ok()?;
        (ret == 0 && handle.header.handle_bytes == 8 && u64::from_ne_bytes(bytes) == ino)
            .then_some(handle.header.handle_type)
    })
}

fn open_by_pidfs_handle(ino: u64) -> Option<OwnedFd> {
    let handle_type = pidfs_handle_type()?;
    // Any pidfd serves as the mount descriptor of pidfs.
    let mount = super::pidfd_open(std::process::id() as i32).ok()?;
    let mut handle = PidfsHandle::new(8, handle_type);
    handle.f_handle[..8].copy_from_slice(&ino.to_ne_bytes());
    // SAFETY: `handle` is a valid `file_handle` of 8 payload bytes; the
    // kernel only reads it. The flags ask for a close-on-exec descriptor.
    let fd = unsafe {
        libc::open_by_handle_at(
            mount.as_raw_fd(),
            (&mut handle as *mut PidfsHandle).cast(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return None;
    }
    // SAFETY: a new descriptor owned by nobody else.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopens_by_pidfs_handle_where_the_kernel_has_them() {
        let caps = capabilities();
        let release = super::super::verdict::kernel_release();
        if !caps.handles() || !super::super::verdict::release_at_least(&release, 6, 14) {
            return;
        }
        assert!(
            pidfs_handle_type().is_some(),
            "Linux {release} has pidfs file handles"
        );
        let own = super::super::pidfd_open(std::process::id() as i32).unwrap();
        let ino = pidfs_inode(own.as_fd()).unwrap();
        let reopened = open_by_pidfs_handle(ino).expect("open_by_handle_at");
        assert_eq!(pidfs_inode(reopened.as_fd()).unwrap(), ino);
        assert!(
            open_by_pidfs_handle(u64::MAX - 1).is_none(),
            "no such process"
        );
    }

    #[test]
    fn reopens_by_pid_and_inode_on_kernels_without_handles() {
        if !capabilities().handles() || !capabilities().is_available(Feature::PidfsIds) {
            return;
        }
        let me = Process::current().unwrap();
        let id = identity(&me).unwrap();
        let IdStamp::Inode(ino) = id.stamp else {
            panic!("a pidfs identity: {id}")
        };
        assert_eq!(open_by_pid_and_inode(&id, ino).unwrap().pid(), me.pid());
        let wrong = Identity::new(me.pid(), IdStamp::Inode(ino + 1));
        let err = open_by_pid_and_inode(&wrong, ino + 1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn uuid_round_trip() {
        let text = "f0ee6e8a-29e0-4149-8143-9bd03fd5794d";
        assert_eq!(format_uuid(parse_uuid(text).unwrap()), text);
        assert_eq!(parse_uuid("f0ee6e8a29e0-4149-8143-9bd03fd5794d"), None);
        assert_eq!(parse_uuid("g0ee6e8a-29e0-4149-8143-9bd03fd5794d"), None);
        assert_eq!(parse_uuid("+0ee6e8a-29e0-4149-8143-9bd03fd5794d"), None);
    }
}
