//! Waiting: status, resource usage, timeouts, and processes that are not
//! our children.
#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use prochandle::{ExitStatus, Process, UnknownReason};
use prochandle_test_support::{
    eventually, exit_with, expect_handles, in_ci, Grandchildren, Reaped,
};

#[test]
fn wait_reaps_once_and_returns_the_same_state_again() {
    expect_handles();
    let p = Reaped::spawn(exit_with(3));
    let first = p.wait().unwrap();
    assert_eq!(first.status(), ExitStatus::Exited(3));
    assert_eq!(first.pid(), p.pid());
    assert!(first.usage().is_some(), "our child: rusage must be known");
    assert_eq!(p.wait().unwrap(), first);
    assert_eq!(p.try_wait().unwrap(), Some(first));
    assert_eq!(p.wait_timeout(Duration::ZERO).unwrap(), Some(first));
    // Reaped: the zombie is gone from /proc.
    assert!(std::fs::metadata(format!("/proc/{}", p.pid())).is_err());
}

#[test]
fn resource_usage_counts_cpu_time_and_memory() {
    expect_handles();
    // Burn a little CPU in user space.
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"]);
    let p = Reaped::spawn(cmd);
    let state = p.wait().unwrap();
    assert!(state.success(), "{state}");
    let usage = state.usage().unwrap();
    assert!(
        usage.user_time + usage.system_time > Duration::from_millis(10),
        "{usage:?}"
    );
    let rss = state.max_rss_bytes().unwrap();
    assert!(rss > 100 * 1024 && rss < 1 << 30, "max rss {rss}");
}

#[test]
fn try_wait_is_none_while_running_then_the_state() {
    expect_handles();
    let p = Reaped::sleeping(30);
    assert!(p.try_wait().unwrap().is_none());
    p.kill().unwrap();
    eventually("the exit", || p.try_wait().unwrap());
    assert_eq!(
        p.try_wait().unwrap().unwrap().signal(),
        Some(prochandle::Signal::KILL)
    );
}

#[test]
fn wait_timeout_times_out_then_succeeds() {
    expect_handles();
    let p = Reaped::sleeping(30);
    let start = Instant::now();
    assert!(p
        .wait_timeout(Duration::from_millis(100))
        .unwrap()
        .is_none());
    assert!(start.elapsed() >= Duration::from_millis(100));
    p.kill().unwrap();
    let state = p.wait_timeout(Duration::from_secs(10)).unwrap().unwrap();
    assert_eq!(state.signal(), Some(prochandle::Signal::KILL));
}

#[test]
fn wait_timeout_returns_as_soon_as_the_child_exits() {
    expect_handles();
    let mut cmd = std::process::Command::new("sleep");
    cmd.arg("0.2");
    let p = Reaped::spawn(cmd);
    let start = Instant::now();
    let state = p.wait_timeout(Duration::from_secs(20)).unwrap().unwrap();
    assert!(state.success());
    // Generous: only proves it did not sleep out the whole timeout.
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn waiting_on_a_non_child_returns_its_real_exit_status() {
    let handles = expect_handles();
    let gc = Grandchildren::running("sleep 0.3; exit 7");
    let p = Process::open(gc.pids[0]).unwrap();
    assert!(!p.is_child());
    let state = p.wait().unwrap();
    assert_eq!(state.pid(), gc.pids[0]);
    assert!(state.usage().is_none(), "not our child: no rusage");
    let exit_known = prochandle::capabilities().is_available(prochandle::Feature::PidfdInfoExit);
    if handles && (exit_known || in_ci()) {
        // Linux 6.15+: the kernel keeps the status for everyone.
        assert_eq!(state.status(), ExitStatus::Exited(7), "{state}");
    } else {
        assert_eq!(
            state.status(),
            ExitStatus::Unknown(UnknownReason::NotOurChild),
            "{state}"
        );
        assert!(state.to_string().starts_with("status unknown"));
    }
    // A second wait answers the same.
    assert_eq!(p.wait().unwrap(), state);
}

#[test]
fn a_non_child_killed_by_a_signal_reports_it() {
    let handles = expect_handles();
    let gc = Grandchildren::running("exec sleep 30");
    let p = Process::open(gc.pids[0]).unwrap();
    assert!(p.wait_timeout(Duration::from_millis(50)).unwrap().is_none());
    p.signal(prochandle::Signal::TERM).unwrap();
    let state = p.wait_timeout(Duration::from_secs(10)).unwrap().unwrap();
    if handles {
        assert_eq!(state.signal(), Some(prochandle::Signal::TERM), "{state}");
    } else {
        assert!(!state.status_known());
    }
}

#[test]
fn waiting_for_a_child_with_a_deadline_in_pid_mode_still_works() {
    // Exercises the polling path of the guarded-PID mode (and the poll path
    // with a pidfd): many short waits in a row.
    expect_handles();
    let p = Reaped::sleeping(30);
    for _ in 0..5 {
        assert!(p.wait_timeout(Duration::from_millis(5)).unwrap().is_none());
    }
    p.kill().unwrap();
    assert!(p.wait().unwrap().signal().is_some());
}
