//! macOS and FreeBSD: no process handles, so every `Process` runs in the
//! guarded-PID mode. `sysctl(KERN_PROC_PID)` (FreeBSD) or
//! `proc_pidinfo(PROC_PIDTBSDINFO)` (macOS) gives the start time that
//! guards the PID, and kqueue's `EVFILT_PROC`/`NOTE_EXIT` lets a wait sleep
//! in the kernel, for children and other processes alike.
//!
//! This code compiles in CI (cross clippy) but cannot run there; it is kept
//! small on purpose.

mod kinfo;
pub(crate) mod kqueue;
pub(crate) mod poller;
mod scope;

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::time::Instant;

use super::backend::{self, Backend, NoHandle, Stat, WaitTarget, Waited};
use super::cvt::{cvt, retry_eintr};
use super::wait_status::{status_from_siginfo, usage_from_rusage};
use crate::capabilities::{forced_pid, Availability, Capabilities, Feature};
use crate::error::{Error, Result};
use crate::state::{status_from_wait_word, Coredump, ExitStatus, ResourceUsage};

pub(crate) use scope::new_scope;

/// The macOS/FreeBSD backend.
#[derive(Debug)]
pub(crate) struct Bsd;

/// A process on macOS or FreeBSD.
pub(crate) type Process = super::process::Process<Bsd>;

/// What this system offers, probed once.
pub(crate) fn capabilities() -> &'static Capabilities {
    backend::capabilities::<Bsd>()
}

impl Backend for Bsd {
    type Handle = NoHandle;
    type ProcDir = NoHandle;

    fn probe() -> Capabilities {
        probe()
    }

    fn open_handle(_pid: i32) -> io::Result<NoHandle> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }

    fn adopt_handle(fd: OwnedFd) -> Result<(i32, NoHandle)> {
        drop(fd);
        Err(Error::unsupported(
            "from_handle",
            "this OS has no process handles",
        ))
    }

    fn open_proc_dir(_pid: i32) -> Result<NoHandle> {
        Err(Error::unsupported("open", "no /proc directories here"))
    }

    fn proc_dir_stat(dir: &NoHandle) -> io::Result<Option<Stat>> {
        match *dir {}
    }

    fn proc_dir_signal(dir: &NoHandle, _sig: i32) -> io::Result<()> {
        match *dir {}
    }

    /// Thread IDs are not process IDs here (FreeBSD numbers threads apart;
    /// macOS does not expose them as PIDs): nothing to refuse.
    fn refuse_thread(_pid: i32) -> Result<()> {
        Ok(())
    }

    fn handle_alive(handle: &NoHandle) -> bool {
        match *handle {}
    }

    fn send_signal(handle: &NoHandle, _sig: i32) -> io::Result<()> {
        match *handle {}
    }

    fn poll_exit(handle: &NoHandle, _deadline: Option<Instant>) -> io::Result<bool> {
        match *handle {}
    }

    fn kernel_exit_status(handle: &NoHandle) -> Option<ExitStatus> {
        match *handle {}
    }

    fn kernel_coredump(handle: &NoHandle) -> Option<Coredump> {
        match *handle {}
    }

    fn stat(pid: i32) -> io::Result<Option<Stat>> {
        Ok(kinfo::proc_info(pid)?.map(|p| Stat {
            start_time: p.start_time,
            exited: p.zombie,
        }))
    }

    fn waitid(target: WaitTarget<'_, NoHandle>, flags: libc::c_int) -> io::Result<Option<Waited>> {
        let pid = match target {
            WaitTarget::Pid(pid) => pid,
            WaitTarget::Handle(handle) => match *handle {},
        };
        if flags & libc::WNOWAIT != 0 {
            peek(pid, flags)
        } else {
            reap(pid, flags)
        }
    }

    /// Sleeps in kqueue until `pid` exits or `deadline` passes. Registers
    /// first and only then asks `exited_now` (which compares the start
    /// time), so an exit or a PID reuse that happened before the
    /// registration is caught rather than slept through.
    fn sleep_until_exit_guarded(
        pid: i32,
        deadline: Option<Instant>,
        exited_now: impl Fn() -> Result<bool>,
    ) -> Result<bool> {
        let watch = match kqueue::register(pid) {
            Ok(kqueue::Registered::Watching(watch)) => watch,
            Ok(kqueue::Registered::Gone) => return Ok(true),
            // A kqueue we may not have (sandbox, descriptor limit): fall
            // back to polling the identity check rather than failing.
            Err(_) => return backend::poll_until_exit(deadline, exited_now),
        };
        if exited_now()? {
            return Ok(true);
        }
        watch.sleep(deadline).map_err(|e| Error::os("kevent", e))
    }
}

fn probe() -> Capabilities {
    let forced = forced_pid();
    let reason = match forced {
        Some(force) => format!("disabled by {}", force.setting()),
        None => "Linux only".to_owned(),
    };
    let entries = Feature::ALL
        .iter()
        .map(|&f| {
            let why = if f == Feature::ProcessHandle && forced.is_none() {
                "this OS has no process handles: guarded-PID mode".to_owned()
            } else {
                reason.clone()
            };
            (f, Availability::unavailable(None, why))
        })
        .collect();
    Capabilities::new(entries, platform(), forced.is_some())
}

fn platform() -> String {
    // SAFETY: utsname is a plain C struct, valid when zeroed, filled by
    // uname on success.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: a valid out-pointer.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return std::env::consts::OS.to_owned();
    }
    let text = |field: &[libc::c_char]| {
        let bytes: Vec<u8> = field
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!("{} {}", text(&uts.sysname), text(&uts.release))
}

fn peek(pid: i32, flags: libc::c_int) -> io::Result<Option<Waited>> {
    // SAFETY: siginfo_t is a plain C struct, valid when zeroed.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    retry_eintr(|| {
        // SAFETY: a valid out-pointer that lives across the call.
        cvt(unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | flags,
            )
        })
    })?;
    Ok(status_from_siginfo(&info).map(|status| Waited {
        status,
        usage: ResourceUsage::default(),
    }))
}

fn reap(pid: i32, flags: libc::c_int) -> io::Result<Option<Waited>> {
    let mut word = 0;
    let mut usage = MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: valid out-pointers for the status word and the rusage.
    let ret =
        retry_eintr(|| cvt(unsafe { libc::wait4(pid, &mut word, flags, usage.as_mut_ptr()) }))?;
    if ret == 0 {
        return Ok(None);
    }
    // SAFETY: zeroed and filled in by the kernel; valid for any bits.
    let usage = unsafe { usage.assume_init() };
    Ok(Some(Waited {
        status: status_from_wait_word(word),
        usage: usage_from_rusage(&usage),
    }))
}
