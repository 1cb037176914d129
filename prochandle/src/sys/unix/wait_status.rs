//! Decoding what a reaping call reports, for every Unix backend: the
//! `siginfo_t` of `waitid` and the `rusage` of `waitid`/`wait4`. (The
//! classic status word of `wait4` and `PIDFD_INFO_EXIT` is decoded by
//! `state::status_from_wait_word`.)

use std::time::Duration;

use crate::signal::Signal;
use crate::state::{ExitStatus, ResourceUsage};

/// The exit a successful `waitid(WEXITED)` wrote into `info`; `None` when
/// it wrote nothing (`WNOHANG` and no child had exited: the kernel leaves
/// the zeroed `si_pid` at 0).
pub(crate) fn status_from_siginfo(info: &libc::siginfo_t) -> Option<ExitStatus> {
    // SAFETY: after a successful waitid the kernel has written the SIGCHLD
    // layout of the union, or left it zeroed; both fields are plain ints.
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if pid == 0 {
        return None;
    }
    Some(match info.si_code {
        libc::CLD_EXITED => ExitStatus::Exited(status),
        code => ExitStatus::Signaled {
            signal: Signal::from_raw(status),
            core_dumped: code == libc::CLD_DUMPED,
        },
    })
}

/// `ru_maxrss`'s unit in bytes: kibibytes on Linux and FreeBSD, bytes on
/// macOS.
const MAXRSS_UNIT: u64 = if cfg!(target_os = "macos") { 1 } else { 1024 };

/// The CPU times and peak memory of a reaped child.
pub(crate) fn usage_from_rusage(ru: &libc::rusage) -> ResourceUsage {
    let time = |t: libc::timeval| {
        Duration::new(t.tv_sec.max(0) as u64, 0)
            + Duration::from_micros(t.tv_usec.clamp(0, 999_999) as u64)
    };
    ResourceUsage {
        user_time: time(ru.ru_utime),
        system_time: time(ru.ru_stime),
        max_rss_bytes: Some(ru.ru_maxrss.max(0) as u64 * MAXRSS_UNIT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zeroed<T>() -> T {
        // SAFETY: only used for plain C structs, valid when zeroed.
        unsafe { std::mem::zeroed() }
    }

    #[test]
    fn a_zeroed_siginfo_is_nothing_to_report() {
        assert_eq!(status_from_siginfo(&zeroed()), None);
    }

    fn wait_for(child: &std::process::Child) -> Option<ExitStatus> {
        let mut info: libc::siginfo_t = zeroed();
        // SAFETY: our own unreaped child; a valid out-pointer.
        let ret = unsafe {
            libc::waitid(
                libc::P_PID,
                child.id() as libc::id_t,
                &mut info,
                libc::WEXITED,
            )
        };
        assert_eq!(ret, 0, "{}", std::io::Error::last_os_error());
        status_from_siginfo(&info)
    }

    #[test]
    // Both children are reaped by `wait_for`'s waitid, not by std.
    #[allow(clippy::zombie_processes)]
    fn exits_and_signals_as_the_kernel_reports_them() {
        let exits = std::process::Command::new("sh")
            .args(["-c", "exit 3"])
            .spawn()
            .unwrap();
        assert_eq!(wait_for(&exits), Some(ExitStatus::Exited(3)));
        let mut killed = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        killed.kill().unwrap();
        assert_eq!(
            wait_for(&killed),
            Some(ExitStatus::Signaled {
                signal: Signal::KILL,
                core_dumped: false
            })
        );
    }

    #[test]
    fn rusage_times_and_peak_memory() {
        let mut ru: libc::rusage = zeroed();
        ru.ru_utime.tv_sec = 2;
        ru.ru_utime.tv_usec = 500_000;
        ru.ru_stime.tv_usec = 7;
        ru.ru_maxrss = 3;
        let usage = usage_from_rusage(&ru);
        assert_eq!(usage.user_time, Duration::from_millis(2500));
        assert_eq!(usage.system_time, Duration::from_micros(7));
        assert_eq!(usage.max_rss_bytes, Some(3 * MAXRSS_UNIT));
        ru.ru_utime.tv_sec = -1;
        ru.ru_maxrss = -1;
        let usage = usage_from_rusage(&ru);
        assert_eq!(usage.user_time, Duration::from_millis(500));
        assert_eq!(usage.max_rss_bytes, Some(0));
    }
}
