//! Controlling a job's tree on Windows (run under Wine here): freezing by
//! suspending every thread, job accounting, limits, adopting a running
//! process, and the stop (a console Ctrl-Break to the console groups the
//! scope started, where the console takes it, then `TerminateJobObject`).
#![cfg(windows)]

use std::time::Duration;

use prochandle::windows::ScopeCommandExt;
use prochandle::{
    ChildStdio, Ending, ErrorKind, Process, Scope, ScopeCommand, ScopeLimits, ScopeOptions, Signal,
};
use prochandle_test_support::sleeper;

/// A child that appends to `log` as fast as it can (`cmd` builtins only).
fn writer(log: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("cmd");
    cmd.args([
        "/c",
        &format!("for /L %i in (1,1,100000000) do @echo x>>{}", log.display()),
    ]);
    cmd
}

fn len(log: &std::path::Path) -> u64 {
    std::fs::metadata(log).map_or(0, |m| m.len())
}

#[test]
fn a_frozen_job_makes_no_progress_and_a_thawed_one_does() {
    let log = std::env::temp_dir().join(format!("prochandle-freeze-{}.txt", std::process::id()));
    let scope = Scope::new().unwrap();
    let child = scope.spawn(&mut writer(&log)).unwrap();
    let started = std::time::Instant::now();
    while len(&log) == 0 && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    scope.freeze().unwrap();
    assert!(scope.is_frozen().unwrap());
    let frozen = len(&log);
    assert!(frozen > 0, "the writer never wrote");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(len(&log), frozen, "a frozen job wrote");
    scope.thaw().unwrap();
    assert!(!scope.is_frozen().unwrap());
    std::thread::sleep(Duration::from_millis(500));
    assert!(len(&log) > frozen, "a thawed job wrote nothing");
    scope.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_file(&log);
}

#[test]
fn job_accounting_counts_every_process_started() {
    let scope = Scope::new().unwrap();
    for _ in 0..3 {
        let mut cmd = std::process::Command::new("cmd");
        cmd.args(["/c", "exit 0"]);
        scope.spawn(&mut cmd).unwrap().wait().unwrap();
    }
    assert!(scope.wait_empty_timeout(Duration::from_secs(10)).unwrap());
    let stats = scope.stats().unwrap();
    eprintln!("{stats:?}");
    assert_eq!(stats.live.known(), Some(&0), "{stats:?}");
    assert!(stats.started.known().is_some_and(|n| *n >= 3), "{stats:?}");
    assert!(stats.cpu_user.known().is_some(), "{stats:?}");
    match &stats.peak_memory {
        prochandle::Measure::Known(bytes) => assert!(*bytes > 0),
        prochandle::Measure::Absent(why) => assert!(why.contains("PeakJobMemoryUsed"), "{why}"),
    }
}

/// Wine keeps a job's limits but enforces none of them (Wine 8).
fn under_wine() -> bool {
    std::process::Command::new("reg")
        .args(["query", r"HKLM\Software\Wine"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn an_active_process_limit_is_set_or_refused_and_never_silent() {
    match ScopeOptions::new().tasks_max(1).create() {
        Ok(scope) => {
            let first = scope.spawn(&mut sleeper(30)).unwrap();
            // A second process would exceed the limit: the job refuses it
            // (Windows terminates it and fails the assignment).
            let second = scope.spawn(&mut sleeper(30));
            if !under_wine() {
                assert!(second.is_err(), "the second process started past the limit");
            }
            scope.kill().unwrap();
            first.wait().unwrap();
            if let Ok(second) = second {
                second.wait().unwrap();
            }
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}"),
    }
    let scope = Scope::new().unwrap();
    match scope.set_limits(&ScopeLimits::new().memory_max(256 << 20).cpu_max(50)) {
        Ok(()) => {}
        Err(e) => assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}"),
    }
}

#[test]
fn a_job_adopts_a_running_process_and_stop_terminates_it() {
    let scope = Scope::new().unwrap();
    let outside = Process::spawn(&mut sleeper(30)).unwrap();
    scope.adopt(&outside).unwrap();
    let members: Vec<u32> = scope.members().unwrap().iter().map(Process::pid).collect();
    assert!(members.contains(&outside.pid()), "{members:?}");
    let report = scope
        .stop(prochandle::Signal::TERM, Duration::from_secs(1))
        .unwrap();
    assert!(!report.soft_step);
    let member = report
        .members
        .iter()
        .find(|m| m.pid == outside.pid())
        .unwrap();
    assert_eq!(member.ending, Ending::Killed, "{report:?}");
    assert!(member
        .name
        .as_deref()
        .is_some_and(|n| n.to_ascii_lowercase().contains("ping")));
    assert!(outside
        .wait_timeout(Duration::from_secs(10))
        .unwrap()
        .is_some());
    assert!(scope.is_empty().unwrap());
}

/// With this variable set, the test named on the command line sleeps
/// instead (a program with Windows' default Ctrl-Break handling, which
/// ends the process with `STATUS_CONTROL_C_EXIT`).
const SLEEP_ENV: &str = "PROCHANDLE_TEST_SLEEP_INSTEAD";

/// Whether this process is attached to a console (which the Ctrl-Break
/// is sent through).
fn has_console() -> bool {
    // SAFETY: no arguments; 0 means no console.
    unsafe { windows_sys::Win32::System::Console::GetConsoleCP() != 0 }
}

/// The soft step on Windows: the leader of a console group the scope
/// started is sent a Ctrl-Break, a member outside any such group is not.
/// Wine 8 refuses every console control event (`GenerateConsoleCtrlEvent`
/// fails, with a console or without), as Windows does for a process with
/// no console: there the stop must say nobody was reached and kill both
/// at once, without waiting out the grace.
#[test]
fn stop_breaks_a_console_group_where_the_console_takes_it() {
    if std::env::var_os(SLEEP_ENV).is_some() {
        std::thread::sleep(Duration::from_secs(30));
        std::process::exit(3);
    }
    let scope = Scope::new().unwrap();
    let mut leader = ScopeCommand::new(std::env::current_exe().unwrap());
    leader
        .args([
            "stop_breaks_a_console_group_where_the_console_takes_it",
            "--exact",
        ])
        .env(SLEEP_ENV, "1")
        .stdout(ChildStdio::Null)
        .console_group(true);
    let leader = scope.spawn_command(&leader).unwrap();
    let outsider = scope.spawn(&mut sleeper(30)).unwrap();
    let members: Vec<u32> = scope.members().unwrap().iter().map(Process::pid).collect();
    assert!(members.contains(&leader.pid()), "{members:?}");
    let grace = Duration::from_secs(10);
    let report = scope.stop(Signal::TERM, grace).unwrap();
    eprintln!("{report:?}");
    let of = |pid| report.members.iter().find(|m| m.pid == pid).unwrap();
    assert!(!of(outsider.pid()).reached, "{report:?}");
    assert_eq!(of(outsider.pid()).ending, Ending::Killed, "{report:?}");
    let code = leader.wait().unwrap().exit_code().map(|c| c as u32);
    if has_console() && !under_wine() {
        assert!(report.soft_step, "{report:?}");
        assert!(of(leader.pid()).reached, "{report:?}");
        assert_eq!(of(leader.pid()).ending, Ending::Signal, "{report:?}");
        assert_eq!(code, Some(0xC000_013A), "ended by the Ctrl-Break");
    } else {
        assert!(!report.soft_step, "{report:?}");
        assert!(!of(leader.pid()).reached, "{report:?}");
        assert_eq!(of(leader.pid()).ending, Ending::Killed, "{report:?}");
        assert!(report.elapsed < grace, "waited for a soft step never sent");
        assert_eq!(code, Some(1), "ended by TerminateJobObject");
    }
    outsider.wait().unwrap();
    assert!(scope.is_empty().unwrap());
}

/// `KILL` asks for no soft step: a console group is not sent one.
#[test]
fn a_stop_with_kill_sends_no_ctrl_break() {
    let scope = Scope::new().unwrap();
    let mut leader = ScopeCommand::new("ping");
    leader
        .args(["-n", "30", "127.0.0.1"])
        .stdout(ChildStdio::Null)
        .console_group(true);
    let leader = scope.spawn_command(&leader).unwrap();
    let report = scope.stop(Signal::KILL, Duration::from_secs(10)).unwrap();
    assert!(!report.soft_step, "{report:?}");
    assert_eq!(report.members[0].pid, leader.pid());
    assert_eq!(report.members[0].ending, Ending::Killed);
    assert!(report.elapsed < Duration::from_secs(10));
    leader.wait().unwrap();
}
