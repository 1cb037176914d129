//! macOS and FreeBSD: no process handles, so every `Process` runs in the
//! guarded-PID mode. `sysctl(KERN_PROC_PID)` gives the start time that
//! guards the PID, and kqueue's `EVFILT_PROC`/`NOTE_EXIT` lets a wait sleep
//! in the kernel, for children and other processes alike.
//!
//! This code compiles in CI (cross clippy) but cannot run there; it is kept
//! small on purpose.

#[cfg(not(any(target_os = "macos", target_os = "freebsd")))]
compile_error!("prochandle supports Linux, macOS, FreeBSD and Windows");

mod kinfo;
mod kqueue;

use std::io;
use std::mem::MaybeUninit;
use std::time::{Duration, Instant};

use crate::capabilities::{force_pid_requested, Availability, Capabilities, Feature};
use crate::state::{status_from_wait_word, ExitStatus, ResourceUsage};

/// Whom a `waitid` call is about (no pidfds here: a PID only).
#[derive(Clone, Copy)]
pub(crate) enum WaitTarget<'a> {
    Pid(i32),
    #[allow(dead_code)]
    Never(std::marker::PhantomData<&'a ()>),
}

/// What a successful wait saw.
pub(crate) struct Waited {
    pub status: ExitStatus,
    pub usage: ResourceUsage,
}

pub(crate) fn probe() -> Capabilities {
    let reason = if force_pid_requested() {
        "disabled by PROCHANDLE_FORCE_PID=1"
    } else {
        "Linux only"
    };
    let entries = Feature::ALL
        .iter()
        .map(|&f| {
            let why = if f == Feature::ProcessHandle && !force_pid_requested() {
                "this OS has no process handles: guarded-PID mode"
            } else {
                reason
            };
            (f, Availability::unavailable(None, why))
        })
        .collect();
    Capabilities {
        entries,
        platform: platform(),
        forced_pid: force_pid_requested(),
    }
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

/// Start time of `pid` (microseconds since the epoch); `None` if it is gone.
pub(crate) fn start_time(pid: i32) -> Option<u64> {
    kinfo::proc_info(pid).ok().flatten().map(|p| p.start_time)
}

/// Whether `pid` is still the process that started at `start` and has not
/// exited (zombies count as exited).
pub(crate) fn alive_as(pid: i32, start: u64) -> bool {
    matches!(kinfo::proc_info(pid), Ok(Some(p)) if p.start_time == start && !p.zombie)
}

/// With `WNOWAIT`, peeks with `waitid(P_PID)`; otherwise reaps with `wait4`,
/// which also returns the child's resource usage. `Ok(None)`: `WNOHANG`
/// was given and the child has not exited.
pub(crate) fn waitid(target: WaitTarget<'_>, flags: libc::c_int) -> io::Result<Option<Waited>> {
    let WaitTarget::Pid(pid) = target else {
        unreachable!("no pidfds on this OS")
    };
    if flags & libc::WNOWAIT != 0 {
        peek(pid, flags)
    } else {
        reap(pid, flags)
    }
}

fn peek(pid: i32, flags: libc::c_int) -> io::Result<Option<Waited>> {
    loop {
        // SAFETY: siginfo_t is a plain C struct, valid when zeroed.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: a valid out-pointer that lives across the call.
        let ret = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | flags,
            )
        };
        if ret == -1 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        // SAFETY: after a successful waitid the SIGCHLD fields are set, or
        // left zeroed (WNOHANG, nothing to report).
        let (si_pid, si_status) = unsafe { (info.si_pid(), info.si_status()) };
        if si_pid == 0 {
            return Ok(None);
        }
        let status = match info.si_code {
            libc::CLD_EXITED => ExitStatus::Exited(si_status),
            code => ExitStatus::Signaled {
                signal: si_status,
                core_dumped: code == libc::CLD_DUMPED,
            },
        };
        return Ok(Some(Waited {
            status,
            usage: ResourceUsage::default(),
        }));
    }
}

fn reap(pid: i32, flags: libc::c_int) -> io::Result<Option<Waited>> {
    let mut word = 0;
    let mut usage = MaybeUninit::<libc::rusage>::zeroed();
    loop {
        // SAFETY: valid out-pointers for the status word and the rusage.
        let ret = unsafe { libc::wait4(pid, &mut word, flags, usage.as_mut_ptr()) };
        if ret == -1 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if ret == 0 {
            return Ok(None);
        }
        // SAFETY: zeroed and filled in by the kernel; valid for any bits.
        let usage = unsafe { usage.assume_init() };
        return Ok(Some(Waited {
            status: status_from_wait_word(word),
            usage: usage_from_rusage(&usage),
        }));
    }
}

fn usage_from_rusage(ru: &libc::rusage) -> ResourceUsage {
    let tv =
        |t: libc::timeval| Duration::new(t.tv_sec.max(0) as u64, (t.tv_usec.max(0) as u32) * 1000);
    // ru_maxrss: bytes on macOS, KiB on FreeBSD.
    let unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
    ResourceUsage {
        user_time: tv(ru.ru_utime),
        system_time: tv(ru.ru_stime),
        max_rss_bytes: Some(ru.ru_maxrss.max(0) as u64 * unit),
    }
}

/// Sleeps in kqueue until `pid` exits or `deadline` passes; `false` means
/// the deadline passed. Registers first and only then asks `exited_now`
/// (which compares the start time), so an exit or a PID reuse that happened
/// before the registration is caught rather than slept through.
pub(crate) fn block_until_exit_guarded(
    pid: i32,
    _start_time: Option<u64>,
    deadline: Option<Instant>,
    exited_now: impl Fn() -> crate::Result<bool>,
) -> crate::Result<bool> {
    let watch = match kqueue::register(pid) {
        Ok(kqueue::Registered::Watching(watch)) => watch,
        Ok(kqueue::Registered::Gone) => return Ok(true),
        // A kqueue we may not have (sandbox, descriptor limit): fall back
        // to polling the identity check rather than failing the wait.
        Err(_) => return super::poll_with_backoff(deadline, exited_now),
    };
    if exited_now()? {
        return Ok(true);
    }
    watch
        .sleep(deadline)
        .map_err(|e| crate::Error::os("kevent", e))
}
