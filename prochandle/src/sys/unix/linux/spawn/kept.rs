//! The kept spawn: the member's parent is a keeper of its own, a small
//! process forked from this one, so that the member's tree dies with its
//! owner even when the owner is killed with `SIGKILL`, without a cgroup.
//!
//! The keeper is forked (not vforked: it outlives the spawn) with every
//! signal blocked, after everything the member needs has been built here,
//! so that in its copy of memory it only has to make the fast spawn's
//! `clone3` and report. Its life is in `keeper_life.rs`. A socket pair
//! joins the two, close-on-exec: the keeper reports the member's PID (or
//! the errno that stopped it); the owner pins the member (a pidfd: the
//! member is the keeper's unreaped child, so its PID cannot be reused
//! before that) and says so; later it may tell the keeper to kill the
//! tree or to let it go. The owner's end closing, with no word, is the
//! owner's death.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use super::keeper_life::{self, Start, DETACH, KILL, PINNED};
use super::{clone3, empty_mask, Blocked, Ready, Spec};

/// A started keeper and its member, both unpinned PIDs: the keeper is our
/// unreaped child; the member is the keeper's, and is not reaped before
/// [`Kept::pinned`].
#[derive(Debug)]
pub(crate) struct Kept {
    pub keeper: i32,
    pub member: i32,
    /// Our end of the link.
    pub link: OwnedFd,
}

impl Kept {
    /// Tells the keeper the member is pinned: it may reap from now on.
    pub(crate) fn pinned(&self) -> io::Result<()> {
        say(&self.link, PINNED)
    }
}

/// Tells the keeper behind `link` to kill its tree and exit.
pub(crate) fn kill(link: &OwnedFd) -> io::Result<()> {
    say(link, KILL)
}

/// Tells the keeper behind `link` to leave its tree and exit.
pub(crate) fn detach(link: &OwnedFd) -> io::Result<()> {
    say(link, DETACH)
}

fn say(link: &OwnedFd, word: u8) -> io::Result<()> {
    loop {
        // SAFETY: one byte from our stack to a socket we own. MSG_NOSIGNAL:
        // a keeper gone is an EPIPE here, not a SIGPIPE for the owner.
        let sent = unsafe {
            libc::send(
                link.as_raw_fd(),
                std::ptr::addr_of!(word).cast(),
                1,
                libc::MSG_NOSIGNAL,
            )
        };
        if sent >= 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Whether a kept spawn may be tried (the fast spawn's `clone3`).
pub(crate) fn available() -> bool {
    clone3::available()
}

/// Forks a keeper that spawns `spec` as its child (in a new process group
/// of its own, with `spec`'s death signal, which then follows the
/// keeper). With `kill_on_eof`, the keeper kills the tree when our end of
/// the link closes without a word. An error is the member's (exec
/// failure, bad working directory) or ours; no process is left then.
pub(crate) fn spawn(spec: &Spec<'_>, kill_on_eof: bool) -> io::Result<Kept> {
    let ready = Ready::new(spec)?;
    let empty = empty_mask();
    // The keeper puts its own PID in `parent`.
    let mut ctx = ready.context(true, 0, &empty);
    let (ours, theirs) = socket_pair()?;
    let start = Start {
        ctx: ptr::addr_of_mut!(ctx),
        stack: ready.stack.usable(),
        link: theirs.as_raw_fd(),
        kill_on_eof,
    };
    let keeper = {
        let _blocked = Blocked::all();
        // SAFETY: fork; the child runs only `keeper_life::live`, which
        // makes async-signal-safe calls on memory of its own copy and
        // never returns.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: we are the forked child, signals blocked.
            unsafe { keeper_life::live(start) }
        }
        pid
    };
    if keeper < 0 {
        return Err(io::Error::last_os_error());
    }
    drop(theirs);
    match read_report(&ours) {
        Ok((member, 0)) if member > 0 => Ok(Kept {
            keeper,
            member,
            link: ours,
        }),
        Ok((_, err)) => {
            super::reap(keeper);
            Err(io::Error::from_raw_os_error(if err == 0 {
                libc::EINVAL
            } else {
                err
            }))
        }
        Err(e) => {
            super::reap(keeper);
            Err(e)
        }
    }
}

/// A kept spawn through std's `Command`, between adding its hook and the
/// end of std's `spawn`.
#[derive(Debug)]
pub(crate) struct StdPending {
    ours: OwnedFd,
    theirs: OwnedFd,
    /// Turns the hook off when this spawn is over.
    slot: HookSlot,
}

/// The descriptor the hook uses; -1 once its spawn is over (dropped), so
/// that the hook, left on a command spawned again, does nothing.
#[derive(Debug)]
struct HookSlot(Arc<AtomicI32>);

impl Drop for HookSlot {
    fn drop(&mut self) {
        self.0.store(-1, Ordering::Relaxed);
    }
}

/// Adds to `command` the pre-exec hook that turns std's child into the
/// keeper and forks the member from it (see `keeper_life::std_hook`):
/// call `spawn` on `command` next, then [`StdPending::started`].
pub(crate) fn prepare_std(
    command: &mut Command,
    kill_on_eof: bool,
    death_signal: Option<i32>,
) -> io::Result<StdPending> {
    let (ours, theirs) = socket_pair()?;
    let slot = Arc::new(AtomicI32::new(theirs.as_raw_fd()));
    let hook_slot = Arc::clone(&slot);
    let death_signal = death_signal.unwrap_or(0);
    let hook = move || -> io::Result<()> {
        let link = hook_slot.load(Ordering::Relaxed);
        if link < 0 {
            return Ok(());
        }
        // SAFETY: we are std's forked child running its pre-exec hooks;
        // `link` is open in it (std closes close-on-exec descriptors only
        // at the exec).
        unsafe { keeper_life::std_hook(link, kill_on_eof, death_signal) }
    };
    // SAFETY: the hook makes only async-signal-safe calls and allocates
    // nothing (the Arc was cloned before the fork).
    unsafe { command.pre_exec(hook) };
    Ok(StdPending {
        ours,
        theirs,
        slot: HookSlot(slot),
    })
}

impl StdPending {
    /// After std's `spawn` returned the keeper (`keeper`, our child):
    /// the member's PID from the keeper's report.
    pub(crate) fn started(self, keeper: i32) -> io::Result<Kept> {
        let StdPending { ours, theirs, slot } = self;
        drop(slot);
        drop(theirs);
        let (member, _) = read_report(&ours)?;
        if member <= 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        Ok(Kept {
            keeper,
            member,
            link: ours,
        })
    }
}

/// A connected pair of stream sockets, both close-on-exec.
fn socket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [RawFd; 2] = [-1; 2];
    // SAFETY: socketpair writes two descriptors into our array.
    let ret = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both are new descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Reads the keeper's report: the member's PID and the errno that stopped
/// it (0). End-of-file before it is the keeper killed before it could
/// report.
fn read_report(link: &OwnedFd) -> io::Result<(i32, i32)> {
    let mut out = [0u8; 8];
    let mut done = 0;
    while done < out.len() {
        match rustix::io::read(link, &mut out[done..]) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the keeper ended before it reported the spawn",
                ))
            }
            Ok(n) => done += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let [p0, p1, p2, p3, e0, e1, e2, e3] = out;
    Ok((
        i32::from_ne_bytes([p0, p1, p2, p3]),
        i32::from_ne_bytes([e0, e1, e2, e3]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::scope::Stdio;
    use std::collections::BTreeMap;

    #[test]
    fn a_missing_program_is_the_members_error_and_leaves_no_keeper() {
        let env = BTreeMap::new();
        let spec = Spec {
            program: "/nonexistent/program".as_ref(),
            args: &[],
            env_clear: false,
            env: &env,
            cwd: None,
            stdio: [Stdio::Null; 3],
            death_signal: None,
            restore: None,
        };
        let err = spawn(&spec, true).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
    }
}
