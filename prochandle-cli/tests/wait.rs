//! `prochandle wait`: exits of processes started by another parent (this
//! test), all or the first, timeouts, status pass-through, JSON, errors.
#![cfg(target_os = "linux")]

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;
use prochandle::linux::ProcessExt;
use prochandle::{capabilities, Feature, Process};
use prochandle_test_support::{handles, within, Grandchildren, Reaped, NO_SUCH_PID};

/// Whether the CLI can learn a non-child's exit status (Linux 6.15+ with
/// pidfds).
fn status_of_others_known() -> bool {
    handles() && capabilities().is_available(Feature::PidfdInfoExit)
}

#[test]
fn waits_for_a_process_started_by_another_parent_with_its_status() {
    // The test is the parent; prochandle is not, and only waits.
    let mut target = Reaped::sh("sleep 0.5; exit 3");
    let mut waiter = Reaped::child(
        prochandle()
            .args(["wait", &target.pid_arg()])
            .stdout(Stdio::piped()),
    );
    // Its real parent reaps it, as a parent would: the kernel then records
    // the status for others.
    assert_eq!(target.wait_status().code(), Some(3));
    let status = waiter.wait().unwrap();
    let out = read_all(&mut waiter);
    assert_eq!(status.code(), Some(0), "{out}");
    let line = out.trim();
    assert!(line.starts_with(&format!("{}: ", target.pid())), "{line}");
    if status_of_others_known() {
        assert_eq!(line, format!("{}: exited 3", target.pid()));
    } else {
        assert!(line.contains("status unknown: not our child"), "{line}");
    }
}

#[test]
fn waits_for_all_targets_and_reports_each_once_in_exit_order() {
    let mut slow = Reaped::sh("sleep 0.9; exit 2");
    let mut fast = Reaped::sh("sleep 0.4; exit 1");
    let mut waiter = Reaped::child(
        prochandle()
            .args(["wait", &slow.pid_arg(), &fast.pid_arg()])
            .stdout(Stdio::piped()),
    );
    fast.wait_status();
    slow.wait_status();
    assert!(waiter.wait().unwrap().success());
    let out = read_all(&mut waiter);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with(&format!("{}: ", fast.pid())), "{out}");
    assert!(lines[1].starts_with(&format!("{}: ", slow.pid())), "{out}");
    if status_of_others_known() {
        assert!(
            lines[0].ends_with("exited 1") && lines[1].ends_with("exited 2"),
            "{out}"
        );
    }
}

#[test]
fn any_returns_at_the_first_exit() {
    let mut quick = Reaped::sh("sleep 0.5");
    let mut long = Reaped::sleeping_child(30);
    let mut waiter = Reaped::child(
        prochandle()
            .args(["wait", "--any", &long.pid_arg(), &quick.pid_arg()])
            .stdout(Stdio::piped()),
    );
    quick.wait_status();
    assert!(waiter.wait().unwrap().success());
    let out = read_all(&mut waiter);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with(&format!("{}: ", quick.pid())), "{out}");
    assert!(long.alive());
}

#[test]
fn timeout_gives_124_and_names_who_is_still_running() {
    let long = Reaped::sleeping_child(30);
    let started = Instant::now();
    let out = run(&["wait", "--timeout", "200ms", &long.pid_arg()]);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(code(&out), 124);
    one_error_line(&out, &["timed out after 200ms", &long.pid_arg()]);
    assert_eq!(stdout(&out), "");
}

#[test]
fn json_lines_have_the_documented_fields() {
    let done = Reaped::sh("exit 0");
    let running = Reaped::sleeping_child(30);
    // Let `done` exit and be reaped by us before prochandle looks at it:
    // then it no longer exists, which is an error for that target.
    let mut done = done;
    done.wait_status();
    let mut quick = Reaped::sh("sleep 0.5; kill -TERM $$");
    let mut waiter = Reaped::child(
        prochandle()
            .args(["wait", "--json", "--timeout", "2s"])
            .args([quick.pid_arg(), running.pid_arg(), done.pid_arg()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    quick.wait_status();
    let status = waiter.wait().unwrap();
    assert_eq!(status.code(), Some(124));
    let out = read_all(&mut waiter);
    let objects: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 3, "{out}");
    let by_target = |t: &str| {
        objects
            .iter()
            .find(|o| o["target"] == t)
            .unwrap_or_else(|| panic!("no object for {t}: {out}"))
    };
    let error = by_target(&done.pid_arg());
    assert_eq!(error["status"], "error");
    assert!(error["error"].as_str().unwrap().contains("no such process"));
    let exited = by_target(&quick.pid_arg());
    assert_eq!(exited["pid"], quick.pid());
    if status_of_others_known() {
        assert_eq!(exited["status"], "killed");
        assert_eq!(exited["signal"], 15);
        assert_eq!(exited["signal_name"], "SIGTERM");
        assert_eq!(exited["text"], "killed by SIGTERM");
    } else {
        assert_eq!(exited["status"], "unknown");
        assert!(exited["reason"].is_string());
    }
    assert_eq!(by_target(&running.pid_arg())["status"], "running");
}

#[test]
fn exit_status_passes_the_code_through() {
    let mut target = Reaped::sh("sleep 0.5; exit 7");
    let mut waiter = Reaped::child(
        prochandle()
            .args(["wait", "--exit-status", &target.pid_arg()])
            .stdout(Stdio::null()),
    );
    target.wait_status();
    let code = waiter.wait().unwrap().code();
    if status_of_others_known() {
        assert_eq!(code, Some(7));
    } else {
        assert_eq!(code, Some(255));
    }
    let out = run(&["wait", "--exit-status", "1", "2"]);
    assert_eq!(common::code(&out), 2);
    one_error_line(&out, &["exactly one TARGET"]);
}

#[test]
fn identity_targets_are_waited_for_and_gone_ones_refused() {
    let mut target = Reaped::sh("sleep 0.5");
    let id = Process::open(target.pid()).unwrap().identity().unwrap();
    let mut waiter = Reaped::child(
        prochandle()
            .args(["wait", &id.to_string()])
            .stdout(Stdio::piped()),
    );
    target.wait_status();
    assert!(waiter.wait().unwrap().success());
    assert!(read_all(&mut waiter).starts_with(&format!("{id}: ")));
    // Reaped now: the identity names nothing.
    let out = run(&["wait", &id.to_string()]);
    assert_eq!(code(&out), 1);
    one_error_line(&out, &["wait", &id.to_string(), "gone"]);
}

#[test]
fn errors_are_one_line_naming_the_target() {
    let missing = NO_SUCH_PID.to_string();
    let out = run(&["wait", &missing]);
    assert_eq!(code(&out), 1);
    one_error_line(&out, &["wait", &missing, "no such process"]);
    let out = run(&["wait", "--timeout", "soon", "1"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["bad duration", "soon"]);
    let out = run(&["wait", "12ab"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["bad target", "12ab"]);
}

/// Whether process `pid` is asleep in `epoll_wait`: prochandle gets there
/// only once every target is open and registered with its watcher.
fn asleep_in_epoll(pid: u32) -> bool {
    let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
    if wchan.contains("epoll") || wchan.contains("ep_poll") {
        return true;
    }
    // Without kallsyms wchan reads "0": the syscall number says it too
    // (x86_64: epoll_wait 232, epoll_pwait 281, epoll_pwait2 441).
    let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
    matches!(
        syscall.split_whitespace().next(),
        Some("232" | "281" | "441")
    )
}

/// Waits (up to 20 s) until `waiter` sleeps in epoll_wait.
fn until_watching(waiter: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !asleep_in_epoll(waiter.id()) {
        assert!(
            matches!(waiter.try_wait(), Ok(None)),
            "prochandle wait ended before watching"
        );
        assert!(
            Instant::now() < deadline,
            "prochandle never slept in epoll_wait"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits for `child` up to `limit`; fails the test (whose guard then kills
/// and reaps it) if it takes longer.
fn wait_or_fail(child: &mut Reaped<Child>, limit: Duration) -> std::process::ExitStatus {
    within(limit, || child.try_wait().unwrap())
        .unwrap_or_else(|| panic!("prochandle did not finish within {limit:?}"))
}

/// The PIDs of `family`, as arguments.
fn pid_args(family: &Grandchildren) -> Vec<String> {
    family.pids.iter().map(u32::to_string).collect()
}

#[test]
fn waits_for_300_targets_of_another_parent_at_once() {
    let family = Grandchildren::sleeping(300);
    let pids = pid_args(&family);
    let mut waiter = Reaped::child(
        prochandle()
            .arg("wait")
            .args(&pids)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    until_watching(&mut waiter);
    for member in family.members() {
        member.signal(prochandle::Signal::TERM).unwrap();
    }
    let status = wait_or_fail(&mut waiter, Duration::from_secs(60));
    let out = read_all(&mut waiter);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut waiter.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(err, "");
    let mut reported: Vec<&str> = out
        .lines()
        .map(|line| {
            let (pid, text) = line.split_once(": ").unwrap();
            if status_of_others_known() {
                assert_eq!(text, "killed by SIGTERM", "{line}");
            } else {
                assert!(text.starts_with("status unknown: "), "{line}");
            }
            pid
        })
        .collect();
    reported.sort_unstable();
    let mut expected: Vec<&str> = pids.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(reported, expected, "each target reported exactly once");
}

#[test]
fn any_returns_after_the_first_of_several() {
    let family = Grandchildren::sleeping(5);
    let pids = pid_args(&family);
    let mut waiter = Reaped::child(
        prochandle()
            .args(["wait", "--any", "--json"])
            .args(&pids)
            .stdout(Stdio::piped()),
    );
    until_watching(&mut waiter);
    let first = &family.members()[3];
    // Not SIGINT: a non-interactive shell starts background jobs ignoring it.
    first.signal(prochandle::Signal::USR1).unwrap();
    let status = wait_or_fail(&mut waiter, Duration::from_secs(20));
    assert_eq!(status.code(), Some(0));
    let out = read_all(&mut waiter);
    let objects: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 1, "{out}");
    assert_eq!(objects[0]["pid"], first.pid());
    if status_of_others_known() {
        assert_eq!(objects[0]["signal_name"], "SIGUSR1", "{out}");
    }
    // The others were left alone, still running.
    for (at, member) in family.members().iter().enumerate() {
        if at != 3 {
            assert!(
                member.try_wait().unwrap().is_none(),
                "{} exited",
                member.pid()
            );
        }
    }
}

#[test]
fn running_out_of_descriptors_is_one_clear_error() {
    use std::os::unix::process::CommandExt;
    let family = Grandchildren::sleeping(40);
    let mut command = prochandle();
    command
        .args(["wait", "--timeout", "300ms"])
        .args(pid_args(&family));
    // SAFETY: setrlimit is async-signal-safe and touches only the child's
    // own limits, between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 16,
                rlim_max: 16,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = command.output().unwrap();
    if capabilities().pin_mode() != prochandle::PinMode::GuardedPid {
        // One pidfd (or /proc/<pid> directory) per target: the 16
        // descriptors run out part-way.
        assert_eq!(code(&out), 1);
        let line = one_error_line(
            &out,
            &[
                "wait: out of file descriptors after opening",
                "of 40 targets",
                "RLIMIT_NOFILE is 16 (hard 16)",
            ],
        );
        assert!(!line.contains("raise_fd_limit"), "{line}");
    } else {
        // Guarded PIDs hold no descriptor: all 40 are waited for.
        assert_eq!(code(&out), 124, "{}", stderr(&out));
        one_error_line(&out, &["timed out after 300ms"]);
    }
    assert_eq!(stdout(&out), "");
}
