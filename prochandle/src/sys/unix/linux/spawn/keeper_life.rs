//! The per-spawn keeper's whole life, in the forked child (see `kept.rs`
//! for the owner's side): it makes itself the child subreaper, spawns the
//! member through the fast spawn's child code, reports, and then keeps the
//! member's tree until the tree is gone or the owner lets go.
//!
//! Why it holds: the member is the keeper's child, so every process the
//! member's tree orphans (`setsid` double forks included) is re-parented
//! to the keeper, the nearest subreaper, never past it. When the owner
//! dies, however it dies, the kernel closes the owner's end of the link
//! and the keeper reads end-of-file: it then kills its children, reaps
//! them, and repeats until it has no child left (each death re-parents
//! the victim's children to it), so fork loops, stopped members and
//! members that ignore signals end too. It exits as soon as it has no
//! child, so it never outlives the tree.
//!
//! It runs after `fork` in a process that may have had many threads: only
//! async-signal-safe calls, no allocation, no lock, every buffer on the
//! stack. All its signals stay blocked (they were blocked across the
//! fork): a terminal's `SIGINT` or a stray `SIGTERM` cannot end it before
//! its work is done, and `SIGCHLD` comes through a `signalfd`.

use std::ptr;

use libc::c_int;

use super::child::Ctx;
use super::clone3::CloneArgs;

/// Owner to keeper, one byte each. End-of-file is the owner gone (or the
/// scope dropped): kill if the keeper was told to.
pub(super) const PINNED: u8 = b'P';
/// Kill the tree, then exit.
pub(super) const KILL: u8 = b'K';
/// Leave the tree as it is and exit.
pub(super) const DETACH: u8 = b'D';

/// What the forked keeper works with.
pub(super) struct Start {
    /// The member's spawn context, in the keeper's copy of memory.
    pub ctx: *mut Ctx,
    /// The usable part of a stack mapped for the member's vfork.
    pub stack: (*mut u8, usize),
    /// The keeper's end of the link (a socket pair) with the owner.
    pub link: c_int,
    /// Kill the tree when the owner's end closes without a word.
    pub kill_on_eof: bool,
}

fn errno() -> c_int {
    // SAFETY: this thread's errno location.
    unsafe { *libc::__errno_location() }
}

/// The keeper's life; never returns.
///
/// # Safety
///
/// Only in the child of `fork`, with every signal blocked, `start.ctx`
/// and the stack valid in this copy of memory.
pub(super) unsafe fn live(start: Start) -> ! {
    // SAFETY: async-signal-safe calls on values of ours.
    unsafe {
        become_keeper();
        (*start.ctx).parent = libc::getpid();
        let (member, err) = spawn_member(start.ctx, start.stack);
        let report: [i32; 2] = [member, err];
        write_all(
            start.link,
            report.as_ptr().cast(),
            std::mem::size_of_val(&report),
        );
        if err != 0 {
            libc::_exit(0);
        }
        keep(start.link, start.kill_on_eof, None)
    }
}

/// The keeper for a spawn through std's `Command`, as a pre-exec hook:
/// std has forked this process (the keeper to be) and set it up as the
/// command asks (standard streams, user, directory, group, the caller's
/// own hooks); here it becomes the subreaper and forks the member, which
/// returns to std and execs the program with all of that. The keeper
/// never returns: it reports the member's PID on `link` and keeps its
/// tree. If the member's `execve` fails, std in the member tells the
/// owner's `spawn`, which then reaps the keeper: the keeper sees its
/// child exit without having exec'd and exits at once.
///
/// # Safety
///
/// Only as a pre-exec hook of std's `Command` (a forked child, where only
/// async-signal-safe calls are allowed), with `link` open in it.
pub(crate) unsafe fn std_hook(
    link: c_int,
    kill_on_eof: bool,
    death_signal: c_int,
) -> std::io::Result<()> {
    // SAFETY: async-signal-safe calls on values of ours.
    unsafe {
        become_keeper();
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut mask: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut mask);
        let keeper = libc::getpid();
        let member = libc::fork();
        if member < 0 {
            let err = std::io::Error::last_os_error();
            libc::pthread_sigmask(libc::SIG_SETMASK, &mask, ptr::null_mut());
            return Err(err);
        }
        if member == 0 {
            libc::pthread_sigmask(libc::SIG_SETMASK, &mask, ptr::null_mut());
            // A group of its own, as every first child of a scope without
            // a cgroup (a terminal's signals for our group are not its).
            if libc::setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if death_signal != 0 {
                if libc::prctl(libc::PR_SET_PDEATHSIG, death_signal as libc::c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != keeper {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
            }
            return Ok(());
        }
        let report: [i32; 2] = [member, 0];
        write_all(link, report.as_ptr().cast(), std::mem::size_of_val(&report));
        keep(link, kill_on_eof, Some(member))
    }
}

/// Makes this process the subreaper of what it will spawn, with `SIGCHLD`
/// at its default.
///
/// # Safety
///
/// Async-signal-safe calls only; for a keeper to be.
unsafe fn become_keeper() {
    // SAFETY: prctl with integers; sigaction with a zeroed (default,
    // empty-mask) action of ours.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0);
        // Ignored, SIGCHLD would have the kernel reap the member at once,
        // before the owner pins it (and send nothing to the signalfd).
        // The owner refuses to spawn while it ignores SIGCHLD; this holds
        // even if it changed its mind since.
        let default: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGCHLD, &default, ptr::null_mut());
    }
}

/// The member, as the fast spawn makes it (sharing this copy of memory
/// until it execs): its PID and 0, or 0 and the errno of what failed (no
/// child is left then).
///
/// # Safety
///
/// As [`live`].
unsafe fn spawn_member(ctx: *mut Ctx, (base, size): (*mut u8, usize)) -> (i32, c_int) {
    let mut args = CloneArgs::vfork(None, base, size);
    // SAFETY: as the fast spawn's own call: a stack nothing else uses,
    // `ctx` alive, signals blocked; `err` is read once the vfork ended.
    unsafe {
        match super::clone_child(&mut args, ctx) {
            Err(e) => (0, e.raw_os_error().unwrap_or(libc::EINVAL)),
            Ok(pid) => match ptr::addr_of!((*ctx).err).read_volatile() {
                0 => (pid, 0),
                err => {
                    super::reap(pid);
                    (0, err)
                }
            },
        }
    }
}

/// Keeps the tree: standard descriptors on `/dev/null`, every other one
/// of the owner's closed, then reaping and listening until the tree is
/// gone or the owner's word (or end-of-file) ends it. `unexec`: a member
/// not yet known to have exec'd (std's spawn), whose exit before the
/// owner pins it is watched for a failed `execve`.
///
/// # Safety
///
/// As [`live`], after the member started.
unsafe fn keep(link: c_int, kill_on_eof: bool, unexec: Option<i32>) -> ! {
    // SAFETY: async-signal-safe calls; every buffer is ours.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        if null >= 0 {
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
        }
        let mut chld: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut chld);
        libc::sigaddset(&mut chld, libc::SIGCHLD);
        let sfd = libc::signalfd(-1, &chld, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
        super::super::guardian::close_all_but(&mut [link, sfd]);
        let mut pinned = false;
        loop {
            let mut fds = [
                libc::pollfd {
                    fd: link,
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: sfd,
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // Until the owner has pinned the member, nothing is reaped
            // (its PID must stay its own), so SIGCHLD is watched only for
            // a member whose exec may still fail.
            let n = if pinned || unexec.is_some() { 2 } else { 1 };
            // Without a signalfd (out of descriptors), SIGCHLD is looked
            // for every 100 ms instead.
            let timeout = if sfd < 0 && n == 2 { 100 } else { -1 };
            if libc::poll(fds.as_mut_ptr(), n, timeout) < 0 {
                continue;
            }
            if fds[0].revents != 0 {
                let mut word = 0u8;
                let got = libc::read(link, ptr::addr_of_mut!(word).cast(), 1);
                if got < 0 && errno() == libc::EINTR {
                    continue;
                }
                match (got, word) {
                    (1, PINNED) => pinned = true,
                    (1, KILL) => end_all(),
                    (1, DETACH) => libc::_exit(0),
                    (1, _) => {}
                    _ if kill_on_eof => end_all(),
                    _ => libc::_exit(0),
                }
            }
            if fds[1].revents != 0 || pinned {
                let mut info = [0u8; 128];
                while sfd >= 0 && libc::read(sfd, info.as_mut_ptr().cast(), info.len()) > 0 {}
            }
            if pinned {
                reap_exited();
            } else if let Some(member) = unexec {
                if exited(member) && never_execed(member) {
                    libc::waitpid(member, ptr::null_mut(), libc::__WALL);
                    libc::_exit(0);
                }
            }
        }
    }
}

/// Whether our child `pid` has exited (it stays unreaped).
///
/// # Safety
///
/// As [`keep`].
unsafe fn exited(pid: i32) -> bool {
    // SAFETY: waitid into a zeroed siginfo of ours; WNOWAIT reaps nothing.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT | libc::__WALL;
        libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) == 0 && info.si_pid() == pid
    }
}

/// `PF_FORKNOEXEC` in the kernel's flags of a task (field 9 of its `stat`
/// line): set by `fork`, cleared by a successful `execve`.
const PF_FORKNOEXEC: u32 = 0x40;

/// Whether our unreaped child `pid` ended without a successful `execve`:
/// its `stat` line still shows `PF_FORKNOEXEC` (a zombie's does).
///
/// # Safety
///
/// As [`keep`].
unsafe fn never_execed(pid: i32) -> bool {
    // "/proc/" + at most 10 digits + "/stat" + NUL: 22 bytes of 32.
    let mut path = [0u8; 32];
    path[..6].copy_from_slice(b"/proc/");
    let mut digits = [0u8; 10];
    let mut n = 0;
    let mut rest = pid.unsigned_abs();
    while n < digits.len() {
        digits[n] = b'0' + (rest % 10) as u8;
        n += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for (at, &d) in (6..).zip(digits[..n].iter().rev().chain(b"/stat")) {
        path[at] = d;
    }
    let mut buf = [0u8; 512];
    // SAFETY: a NUL-terminated path and a buffer of ours.
    let len = unsafe {
        let fd = libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        let len = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
        libc::close(fd);
        len
    };
    let Ok(len) = usize::try_from(len) else {
        return false;
    };
    let line = &buf[..len.min(buf.len())];
    let Some(close) = line.iter().rposition(|&b| b == b')') else {
        return false;
    };
    // After ") ": state, ppid, pgrp, session, tty_nr, tpgid, flags.
    let flags = line[close + 1..]
        .split(|&b| b == b' ')
        .filter(|field| !field.is_empty())
        .nth(6);
    let Some(flags) = flags else { return false };
    let mut value: u32 = 0;
    for &b in flags {
        if !b.is_ascii_digit() {
            return false;
        }
        value = value.saturating_mul(10).saturating_add(u32::from(b - b'0'));
    }
    value & PF_FORKNOEXEC != 0
}

/// Reaps every exited child; exits the keeper when it has no child left.
///
/// # Safety
///
/// As [`keep`].
unsafe fn reap_exited() {
    loop {
        // SAFETY: waitpid with a null status pointer.
        let pid = unsafe { libc::waitpid(-1, ptr::null_mut(), libc::WNOHANG | libc::__WALL) };
        match pid {
            0 => return,
            p if p > 0 => {}
            _ if errno() == libc::EINTR => {}
            // ECHILD: the tree is gone.
            // SAFETY: ends this process.
            _ => unsafe { libc::_exit(0) },
        }
    }
}

/// Kills every child, reaps one, and again, until no child is left; then
/// exits. A killed member's children come to the keeper before the member
/// can be reaped, so the next round finds them.
///
/// # Safety
///
/// As [`keep`].
unsafe fn end_all() -> ! {
    loop {
        // SAFETY: async-signal-safe calls; the PIDs are our unreaped
        // children, which keep their PIDs until we reap them.
        unsafe {
            each_child(|pid| {
                libc::kill(pid, libc::SIGKILL);
            });
            if libc::waitpid(-1, ptr::null_mut(), libc::__WALL) < 0 && errno() != libc::EINTR {
                libc::_exit(0);
            }
        }
    }
}

/// Calls `f` with each PID in this thread's `children` file (the keeper
/// has one thread), read in pieces into a buffer on the stack.
///
/// # Safety
///
/// As [`keep`]; `f` must be async-signal-safe.
unsafe fn each_child(mut f: impl FnMut(i32)) {
    // SAFETY: open and read into our own buffer; close of our descriptor.
    unsafe {
        let fd = libc::open(
            c"/proc/thread-self/children".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return;
        }
        let mut buf = [0u8; 1024];
        let mut number: i32 = 0;
        let mut digits = false;
        loop {
            let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
            if n < 0 && errno() == libc::EINTR {
                continue;
            }
            let Ok(n) = usize::try_from(n) else { break };
            if n == 0 {
                break;
            }
            for &b in buf.iter().take(n) {
                if b.is_ascii_digit() {
                    number = number
                        .saturating_mul(10)
                        .saturating_add(i32::from(b - b'0'));
                    digits = true;
                } else if digits {
                    f(number);
                    (number, digits) = (0, false);
                }
            }
        }
        if digits {
            f(number);
        }
        libc::close(fd);
    }
}

/// Writes all of `len` bytes at `buf` to `fd` (a socket of ours), or
/// gives up on an error other than `EINTR`.
///
/// # Safety
///
/// `buf` valid for `len` bytes.
unsafe fn write_all(fd: c_int, buf: *const u8, len: usize) {
    let mut done = 0;
    while done < len {
        // SAFETY: the caller's buffer, from `done` on. MSG_NOSIGNAL: an
        // owner gone is no reason to die (SIGPIPE is blocked anyway).
        let n = unsafe { libc::send(fd, buf.add(done).cast(), len - done, libc::MSG_NOSIGNAL) };
        match usize::try_from(n) {
            Ok(n) => done += n,
            Err(_) if errno() == libc::EINTR => {}
            Err(_) => return,
        }
    }
}
