//! A cgroup v2 leaf per scope: membership every descendant inherits and
//! cannot leave (`setsid` and double forks included).
//!
//! This process's own cgroup is the `0::` line of `/proc/self/cgroup`; the
//! v2 hierarchy is found at its usual mount point where the directory there
//! is provably ours (`cgroup_id.rs`), otherwise from `/proc/self/mountinfo`
//! (the `cgroup2` mount: `/sys/fs/cgroup` on v2-only systems,
//! `/sys/fs/cgroup/unified` on hybrid ones). The scope's cgroup is a new
//! child of ours, so it is a leaf: v2 lets processes live only in leaves
//! once controllers are enabled below a cgroup, and we enable none.
//!
//! Every file is opened once, close-on-exec. `cgroup.events` and
//! `cgroup.kill`, which the guardian inherits and every scope uses, are
//! opened when the cgroup is created; `cgroup.procs` and `cgroup.freeze`
//! when first used (each open is a few microseconds that `run`, whose
//! children start in the cgroup and which never freezes it unasked,
//! would pay on every command for nothing). A child spawned by the
//! scope's own spawn starts in the cgroup (`clone3(CLONE_INTO_CGROUP)`,
//! see `spawn/`); one spawned through std's `Command` joins before `exec`
//! by writing `0` to `cgroup.procs`, opened before the fork (std has no
//! `CLONE_INTO_CGROUP`).

use std::ffi::{CStr, CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::Instant;

use rustix::event::{poll, PollFd, PollFlags};

use crate::backoff::{time_left, Backoff};

/// One cgroup created for a scope, with its control files open.
#[derive(Debug)]
pub(crate) struct Cgroup {
    dir: PathBuf,
    /// The directory itself (`O_PATH`), for `clone3(CLONE_INTO_CGROUP)`.
    dir_fd: OwnedFd,
    /// The parent directory (`O_PATH`) and the cgroup's name in it: what
    /// the cgroup is made and removed with, and what the guardian needs
    /// to remove it.
    parent_fd: OwnedFd,
    name: CString,
    /// `cgroup.procs`, open for writing once needed: shared with the
    /// pre-exec hooks of the commands spawned into it, which may outlive
    /// the `Cgroup`.
    procs: OnceLock<Arc<OwnedFd>>,
    /// `cgroup.events`: `populated` and `frozen`, with POLLPRI on change.
    events: File,
    /// `cgroup.kill` (Linux 5.14+).
    kill: Option<File>,
    /// `cgroup.freeze` (Linux 5.2+) once needed; `None` inside when the
    /// kernel has none.
    freeze: OnceLock<Option<File>>,
    /// Whether the stale cgroups beside this one were looked for.
    swept: Once,
}

/// The v2 mount (its root and mount point), as last read from
/// `/proc/self/mountinfo`. Generating that file costs the kernel some
/// 50 µs, a quarter of what a scope's cgroup costs to create and remove,
/// and mounts hardly ever change; a kept mount is used only while its
/// mount point is still a cgroup2 file system holding our cgroup,
/// otherwise the file is read again.
static MOUNT: Mutex<Option<(PathBuf, PathBuf)>> = Mutex::new(None);

/// Where the v2 hierarchy is mounted, and the path of our cgroup in it.
pub(crate) fn own_cgroup() -> io::Result<PathBuf> {
    // Our cgroup can change at any time (a service manager moves us), so
    // it is looked for every time. A usual mount point whose root is our
    // cgroup (a container's own cgroup namespace, a machine that keeps
    // its processes in the root cgroup) is taken without reading
    // /proc/self/cgroup, whose every read makes the kernel walk every
    // hierarchy (some 25 µs in a new process).
    let usual = super::cgroup_id::UsualMounts::ours();
    if let Some(root) = usual.as_ref().and_then(|u| u.root_if_ours()) {
        return Ok(root);
    }
    let path = v2_path()?;
    match usual.and_then(|u| u.find(&path)) {
        Some(found) => Ok(found),
        None => via_mountinfo(&path),
    }
}

/// The path of our cgroup in the v2 hierarchy: the `0::` line of
/// `/proc/self/cgroup`.
pub(super) fn v2_path() -> io::Result<String> {
    // In one read (a line per hierarchy, a few hundred bytes), where
    // std's `read_to_string` of a path would first ask the file's size
    // (0 in /proc) and then read in growing pieces.
    let mut cgroup = String::with_capacity(4096);
    File::open("/proc/self/cgroup")?
        .take(64 * 1024)
        .read_to_string(&mut cgroup)?;
    cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_owned)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no v2 line in /proc/self/cgroup"))
}

/// Our cgroup's directory (`path`, from `/proc/self/cgroup`) under the v2
/// mount that mountinfo names (or the one kept from an earlier read).
pub(super) fn via_mountinfo(path: &str) -> io::Result<PathBuf> {
    let kept = MOUNT.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(found) = kept
        .and_then(|m| within(&m, path).ok())
        .filter(|p| is_cgroup2(p))
    {
        return Ok(found);
    }
    let mountinfo = std::fs::read("/proc/self/mountinfo")?;
    let mount = v2_mount(&mountinfo).ok_or_else(|| {
        io::Error::new(io::ErrorKind::NotFound, "no cgroup2 file system is mounted")
    })?;
    let found = within(&mount, path)?;
    *MOUNT.lock().unwrap_or_else(|e| e.into_inner()) = Some(mount);
    Ok(found)
}

/// `path` (from `/proc/self/cgroup`) as a directory of `mount`.
fn within((root, point): &(PathBuf, PathBuf), path: &str) -> io::Result<PathBuf> {
    // A path outside the mount's root (another cgroup namespace) cannot be
    // reached through this mount.
    let relative = Path::new(path)
        .strip_prefix(root)
        .map_err(|_| io::Error::new(io::ErrorKind::NotFound, "our cgroup is outside the mount"))?;
    Ok(point.join(relative))
}

/// Whether `dir` exists on a cgroup2 file system (the magic's C type
/// differs between architectures, hence the widening).
pub(super) fn is_cgroup2(dir: &Path) -> bool {
    rustix::fs::statfs(dir)
        .is_ok_and(|fs| i128::from(fs.f_type) == i128::from(libc::CGROUP2_SUPER_MAGIC))
}

/// The root and mount point of the first `cgroup2` entry of a mountinfo
/// text (fields: id, parent, dev, root, mount point, options, optional
/// fields, `-`, type, ...).
fn v2_mount(mountinfo: &[u8]) -> Option<(PathBuf, PathBuf)> {
    for line in mountinfo.split(|&b| b == b'\n') {
        let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        let Some(dash) = fields.iter().position(|f| *f == b"-") else {
            continue;
        };
        if fields.get(dash + 1) == Some(&&b"cgroup2"[..]) && fields.len() > 4 {
            return Some((unescape(fields[3]), unescape(fields[4])));
        }
    }
    None
}

/// Undoes mountinfo's octal escapes (`\040` for a space, ...).
fn unescape(field: &[u8]) -> PathBuf {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let octal = field
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(u8::is_ascii_digit));
        match (field[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    PathBuf::from(OsString::from_vec(out))
}

/// A control file of the cgroup open as `dir` (`O_PATH`): one lookup in
/// the directory rather than a walk of the whole path, close-on-exec, and
/// never through a symbolic link.
fn open(dir: &OwnedFd, name: &str, write: bool) -> io::Result<File> {
    use rustix::fs::OFlags;
    let access = if write {
        OFlags::WRONLY
    } else {
        OFlags::RDONLY
    };
    let flags = access | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    Ok(rustix::fs::openat(dir, name, flags, rustix::fs::Mode::empty())?.into())
}

/// A directory as a handle to name it by (`O_PATH`: no read access
/// needed), close-on-exec.
fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    let flags =
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC;
    Ok(rustix::fs::open(path, flags, rustix::fs::Mode::empty())?)
}

fn open_optional(dir: &OwnedFd, name: &str) -> io::Result<Option<File>> {
    match open(dir, name, true) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl Cgroup {
    /// Creates a new child of `parent`, named after this process (see
    /// `cgroup_names`).
    pub(crate) fn create(parent: &Path) -> io::Result<Cgroup> {
        use rustix::fs::{Mode, OFlags};
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let name = super::cgroup_names::scope_name(SERIAL.fetch_add(1, Ordering::Relaxed));
        // The parent is opened once: the `mkdir`, the open of the new
        // directory and the removal each look up one name in it instead
        // of walking the whole path, and the guardian inherits it.
        let parent_fd = open_dir(parent)?;
        let name = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        rustix::fs::mkdirat(&parent_fd, &*name, Mode::from_raw_mode(0o777))?;
        let opened = (|| {
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
            let dir_fd = rustix::fs::openat(&parent_fd, &*name, flags, Mode::empty())?;
            let events = open(&dir_fd, "cgroup.events", false)?;
            let kill = open_optional(&dir_fd, "cgroup.kill")?;
            Ok((dir_fd, events, kill))
        })();
        match opened {
            Ok((dir_fd, events, kill)) => Ok(Cgroup {
                dir: parent.join(OsStr::from_bytes(name.as_bytes())),
                dir_fd,
                parent_fd,
                name,
                procs: OnceLock::new(),
                events,
                kill,
                freeze: OnceLock::new(),
                swept: Once::new(),
            }),
            Err(e) => {
                let _ = rustix::fs::unlinkat(&parent_fd, &*name, rustix::fs::AtFlags::REMOVEDIR);
                Err(e)
            }
        }
    }

    /// Removes, once, the empty cgroups beside this one that dead owners
    /// left (see `cgroup_names`). Called after the first spawn, while the
    /// child starts its program on another CPU, and at the latest when the
    /// scope ends: a few directory reads off the spawn's path.
    pub(crate) fn sweep_stale_once(&self) {
        self.swept.call_once(|| {
            if let Some(parent) = self.dir.parent() {
                super::cgroup_names::remove_stale(parent);
            }
        });
    }

    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    /// The directory, open for `clone3(CLONE_INTO_CGROUP)`.
    pub(crate) fn dir_fd(&self) -> BorrowedFd<'_> {
        self.dir_fd.as_fd()
    }

    /// The parent directory (`O_PATH`, close-on-exec) and this cgroup's
    /// name in it: what the guardian needs to remove the cgroup.
    pub(crate) fn parent_and_name(&self) -> (BorrowedFd<'_>, &CStr) {
        (self.parent_fd.as_fd(), &self.name)
    }

    pub(crate) fn has_kill_file(&self) -> bool {
        self.kill.is_some()
    }

    /// `cgroup.kill`, for the guardian to write to.
    pub(crate) fn kill_fd(&self) -> Option<BorrowedFd<'_>> {
        self.kill.as_ref().map(AsFd::as_fd)
    }

    /// Whether the cgroup has `cgroup.freeze`. A file that is there but
    /// cannot be opened now counts as there: the freeze itself then says
    /// why it failed.
    pub(crate) fn has_freeze_file(&self) -> bool {
        !matches!(self.freeze_file(), Ok(None))
    }

    /// `cgroup.freeze`, opened on first use (two threads that race both
    /// open it, and one copy is kept).
    fn freeze_file(&self) -> io::Result<Option<&File>> {
        if let Some(kept) = self.freeze.get() {
            return Ok(kept.as_ref());
        }
        let opened = open_optional(&self.dir_fd, "cgroup.freeze")?;
        Ok(self.freeze.get_or_init(|| opened).as_ref())
    }

    /// `cgroup.procs`, open for writing, opened on first use.
    fn procs(&self) -> io::Result<&Arc<OwnedFd>> {
        if let Some(kept) = self.procs.get() {
            return Ok(kept);
        }
        let opened = Arc::new(OwnedFd::from(open(&self.dir_fd, "cgroup.procs", true)?));
        Ok(self.procs.get_or_init(|| opened))
    }

    /// The `cgroup.procs` descriptor for a pre-exec hook (kept open by the
    /// `Arc` as long as the hook lives): opened here, before the fork.
    pub(crate) fn procs_for_hook(&self) -> io::Result<Arc<OwnedFd>> {
        self.procs().map(Arc::clone)
    }

    /// The `cgroup.events` descriptor: POLLPRI when `populated` changes.
    pub(crate) fn events_fd(&self) -> BorrowedFd<'_> {
        self.events.as_fd()
    }

    /// The value of `key` in `cgroup.events` (`populated`, `frozen`).
    fn event(&self, key: &str) -> io::Result<bool> {
        let mut buf = [0u8; 256];
        // A fresh read from offset 0 also re-arms POLLPRI (kernfs remembers
        // the event count each reader last saw).
        let n = self.events.read_at(&mut buf, 0)?;
        let text = String::from_utf8_lossy(&buf[..n]);
        Ok(text
            .lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse::<u8>().ok())
            .is_some_and(|v| v == 1))
    }

    /// Whether any live process is in the cgroup (zombies are not: a
    /// process leaves the count when it exits, before it is reaped).
    pub(crate) fn populated(&self) -> io::Result<bool> {
        self.event("populated")
    }

    /// Sleeps until `key` in `cgroup.events` equals `want` or `deadline`
    /// passes; returns whether it does. Woken by the kernel (POLLPRI).
    ///
    /// The kernel sends at most one `cgroup.events` notification per 10 ms
    /// per file, so a change can be reported up to 10 ms late. `eager`
    /// (for a kill, which is expected to end within milliseconds) also
    /// re-reads the file on the crate's backoff (1 ms doubling); without
    /// it the wait is the kernel's alone.
    fn wait_event(
        &self,
        key: &str,
        want: bool,
        deadline: Option<Instant>,
        eager: bool,
    ) -> io::Result<bool> {
        let mut backoff = Backoff::new();
        loop {
            if self.event(key)? == want {
                return Ok(true);
            }
            let timeout = match deadline {
                None => None,
                Some(d) => match time_left(d) {
                    Some(left) => Some(left),
                    None => return self.event(key).map(|v| v == want),
                },
            };
            let timeout = match (timeout, eager) {
                (Some(t), true) => Some(t.min(backoff.next_pause())),
                (None, true) => Some(backoff.next_pause()),
                (t, false) => t,
            };
            let timeout = timeout.map(crate::sys::timeout::rustix_timespec);
            let mut fds = [PollFd::new(&self.events, PollFlags::PRI)];
            match poll(&mut fds, timeout.as_ref()) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Sleeps until the cgroup is empty or `deadline` passes.
    pub(crate) fn wait_empty(&self, deadline: Option<Instant>) -> io::Result<bool> {
        self.wait_event("populated", false, deadline, false)
    }

    /// Like [`wait_empty`](Cgroup::wait_empty), for a kill that is about to
    /// empty the cgroup: also re-reads on a short backoff.
    pub(crate) fn wait_empty_soon(&self, deadline: Option<Instant>) -> io::Result<bool> {
        self.wait_event("populated", false, deadline, true)
    }

    /// The PIDs listed in `cgroup.procs`.
    pub(crate) fn pids(&self) -> io::Result<Vec<i32>> {
        let text = std::fs::read_to_string(self.dir.join("cgroup.procs"))?;
        Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect())
    }

    /// `SIGKILL` to every member in one step (`cgroup.kill`): the kernel
    /// also catches children forked while it runs.
    pub(crate) fn kill_all(&self) -> io::Result<()> {
        match &self.kill {
            Some(f) => f.write_at(b"1", 0).map(drop),
            None => Err(io::Error::from(io::ErrorKind::Unsupported)),
        }
    }

    /// Freezes (`true`) or thaws the cgroup, and waits until it is so.
    pub(crate) fn set_frozen(&self, frozen: bool) -> io::Result<()> {
        if frozen {
            self.freeze_until(None)?;
            return Ok(());
        }
        match self.freeze_file()? {
            Some(f) => f.write_at(b"0", 0).map(drop),
            None => Err(io::Error::from(io::ErrorKind::Unsupported)),
        }
    }

    /// Freezes the cgroup and waits until it is frozen (`true`) or
    /// `deadline` passes (`false`: a member in an uninterruptible sleep
    /// freezes only when that ends; the freeze stands until a thaw).
    pub(crate) fn freeze_until(&self, deadline: Option<Instant>) -> io::Result<bool> {
        let Some(f) = self.freeze_file()? else {
            return Err(io::Error::from(io::ErrorKind::Unsupported));
        };
        f.write_at(b"1", 0)?;
        // Every member stops at its next return to user space; a frozen
        // cgroup is one where none can fork or exit on its own.
        self.wait_event("frozen", true, deadline, true)
    }

    /// Removes the (empty) cgroup directory.
    pub(crate) fn remove(&self) -> io::Result<()> {
        let flags = rustix::fs::AtFlags::REMOVEDIR;
        Ok(rustix::fs::unlinkat(&self.parent_fd, &*self.name, flags)?)
    }
}

/// The pre-exec half of joining: writes `0` (the writer itself) to
/// `cgroup.procs`. Only async-signal-safe calls: it runs between `fork`
/// and `exec` in a copy of a possibly multi-threaded process.
pub(crate) fn join(procs: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: write(2) of a 1-byte buffer that lives for the call.
    let n = unsafe { libc::write(procs.as_raw_fd(), b"0".as_ptr().cast(), 1) };
    if n == 1 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Beyond containment: the freezer's state, the accounting and limit
/// files, and taking in a running process.
impl Cgroup {
    /// Whether `cgroup.events` says `frozen 1`.
    pub(crate) fn is_frozen(&self) -> io::Result<bool> {
        self.event("frozen")
    }

    /// The contents of the control file `name`; `None` when it does not
    /// exist (its controller is not enabled for this cgroup).
    pub(crate) fn read_control(&self, name: &str) -> io::Result<Option<String>> {
        match std::fs::read_to_string(self.dir.join(name)) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes `pid` to `cgroup.procs`: the process, and what it starts
    /// from then on, moves in (`ESRCH` when no process has that PID).
    pub(crate) fn move_in(&self, pid: u32) -> io::Result<()> {
        rustix::io::write(&**self.procs()?, pid.to_string().as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v2_mount_is_found_in_hybrid_and_unified_layouts() {
        let hybrid = b"35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        let (root, at) = v2_mount(hybrid).unwrap();
        assert_eq!(root, Path::new("/"));
        assert_eq!(at, Path::new("/sys/fs/cgroup/unified"));
        let unified = b"30 23 0:26 /sub /sys/fs/cgroup\\040x rw shared:4 - cgroup2 cgroup2 rw\n";
        let (root, at) = v2_mount(unified).unwrap();
        assert_eq!(root, Path::new("/sub"));
        assert_eq!(at, Path::new("/sys/fs/cgroup x"));
        assert!(v2_mount(b"1 2 0:1 / / rw - ext4 /dev/sda rw\n").is_none());
    }
}
