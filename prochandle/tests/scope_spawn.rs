//! `Scope::spawn_command`: the scope's own spawn (Linux cgroup modes:
//! `clone3(CLONE_INTO_CGROUP | CLONE_VM | CLONE_VFORK)`), and its fallback
//! through std's `Command` where `clone3` is filtered out.
//!
//! Every child's first act is to print its own `/proc/self/cgroup`: it is
//! in the scope's cgroup before it runs any code of its program. The
//! seccomp scenarios run in a re-executed child of this test binary, so
//! the filter never reaches the harness.
#![cfg(target_os = "linux")]

#[path = "attack_support/seccomp.rs"]
#[allow(dead_code)]
mod seccomp;

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use prochandle::{ChildStdio, ErrorKind, MechanismKind, Process, Scope, ScopeCommand, Signal};
use prochandle_test_support::{require_root, scope_of, serial, TreeMark, TREE_MARK_ENV};

/// Runs `command` in `scope` with its stdout on a pipe; returns its exit
/// code and what it printed.
fn output(scope: &Scope, command: &mut ScopeCommand) -> (Option<i32>, String) {
    let (mut reader, writer) = std::io::pipe().unwrap();
    command.stdout(writer);
    let child = scope.spawn_command(command).unwrap();
    // The command still holds the write end: drop it before reading.
    command.stdout(ChildStdio::Inherit);
    let mut text = String::new();
    reader.read_to_string(&mut text).unwrap();
    (child.wait().unwrap().exit_code(), text)
}

/// The cgroup path a `/proc/<pid>/cgroup` text gives for v2 (`0::`).
fn v2_line(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap_or_default()
        .to_owned()
}

/// The scope's cgroup relative to the v2 mount, as `/proc/*/cgroup`
/// shows it.
fn relative(scope: &Scope) -> String {
    let path = scope.mechanism().cgroup_path().unwrap();
    let ours = v2_line(&std::fs::read_to_string("/proc/self/cgroup").unwrap());
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    Path::new(&ours).join(name).display().to_string()
}

fn child_is_in_the_cgroup_from_its_first_instruction(kind: MechanismKind) {
    let Some(scope) = scope_of(kind) else { return };
    let (code, text) = output(&scope, ScopeCommand::new("cat").arg("/proc/self/cgroup"));
    assert_eq!(code, Some(0));
    assert_eq!(v2_line(&text), relative(&scope), "{text}");
}

#[test]
fn the_child_starts_in_the_cgroup() {
    let _serial = serial();
    child_is_in_the_cgroup_from_its_first_instruction(MechanismKind::Cgroup);
}

#[test]
fn the_child_starts_in_the_freezer_cgroup() {
    let _serial = serial();
    child_is_in_the_cgroup_from_its_first_instruction(MechanismKind::CgroupFreeze);
}

#[test]
fn args_directory_and_streams_are_honoured() {
    let _serial = serial();
    let Some(scope) = scope_of(MechanismKind::Cgroup) else {
        return;
    };
    let dir = std::env::temp_dir();
    let mut command = ScopeCommand::new("sh");
    command
        .args([
            "-c",
            "read -r line; echo \"$line|$1|$(pwd -P)\"; exit 5",
            "sh",
            "a b",
        ])
        .current_dir(&dir)
        .stdin(std::fs::File::open("/dev/null").unwrap());
    let (code, text) = output(&scope, &mut command);
    assert_eq!(code, Some(5));
    let real = std::fs::canonicalize(&dir).unwrap();
    assert_eq!(text.trim(), format!("|a b|{}", real.display()));
}

/// The child's environment as `env` prints it, one `KEY=VALUE` a line.
fn child_env(scope: &Scope, command: &mut ScopeCommand) -> Vec<String> {
    let (code, text) = output(scope, command);
    assert_eq!(code, Some(0));
    text.lines().map(str::to_owned).collect()
}

#[test]
fn the_environment_is_inherited_set_removed_and_cleared() {
    let _serial = serial();
    let Some(scope) = scope_of(MechanismKind::Cgroup) else {
        return;
    };
    // Two variables this process has (no set_var: other threads may read
    // the environment meanwhile).
    let ours: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k != "PATH")
        .take(2)
        .collect();
    assert_eq!(ours.len(), 2, "the test needs two environment variables");
    let (kept, gone) = (&ours[0], &ours[1]);
    let mut command = ScopeCommand::new("env");
    command.env("PROCHANDLE_SET", "a b").env_remove(&gone.0);
    let env = child_env(&scope, &mut command);
    assert!(env.contains(&format!("{}={}", kept.0, kept.1)), "{env:?}");
    assert!(env.contains(&"PROCHANDLE_SET=a b".to_owned()), "{env:?}");
    assert!(
        !env.iter().any(|l| l.starts_with(&format!("{}=", gone.0))),
        "{env:?}"
    );

    let mut cleared = ScopeCommand::new("/usr/bin/env");
    cleared.env("ONLY", "1").env_clear().env("ONLY2", "2");
    assert_eq!(child_env(&scope, &mut cleared), ["ONLY2=2"]);
}

/// The Rust runtime ignores `SIGPIPE` in this process; like std's
/// children, the child gets it back at its default action (an ignored
/// signal would stay ignored across `execve`), and an empty signal mask.
#[test]
fn the_child_gets_sigpipe_back_and_no_blocked_signal() {
    let _serial = serial();
    let Some(scope) = scope_of(MechanismKind::Cgroup) else {
        return;
    };
    let mut command = ScopeCommand::new("grep");
    command.args(["-E", "^Sig(Ign|Blk)", "/proc/self/status"]);
    let (code, text) = output(&scope, &mut command);
    assert_eq!(code, Some(0));
    let mask = |key: &str| -> u64 {
        let line = text.lines().find(|l| l.starts_with(key)).expect(key);
        u64::from_str_radix(line[key.len()..].trim(), 16).unwrap()
    };
    assert_eq!(mask("SigIgn:") & (1 << (libc::SIGPIPE - 1)), 0, "{text}");
    assert_eq!(mask("SigBlk:"), 0, "{text}");
}

/// A signal this process ignores stays ignored in the child (as across
/// any `execve`), whether the kernel resets the handled ones
/// (`CLONE_CLEAR_SIGHAND`) or the child does; `SIGPIPE` still comes back.
fn an_ignored_signal_stays_ignored(kind: MechanismKind) {
    let _serial = serial();
    let Some(scope) = scope_of(kind) else { return };
    let ignored = libc::SIGRTMIN() + 5;
    // SAFETY: setting a disposition; no handler runs. Restored below.
    let before = unsafe { libc::signal(ignored, libc::SIG_IGN) };
    let mut command = ScopeCommand::new("grep");
    command.args(["^SigIgn", "/proc/self/status"]);
    let (code, text) = output(&scope, &mut command);
    // SAFETY: as above.
    unsafe { libc::signal(ignored, before) };
    assert_eq!(code, Some(0));
    let mask = u64::from_str_radix(text["SigIgn:".len()..].trim(), 16).unwrap();
    assert_ne!(mask & (1 << (ignored - 1)), 0, "{text}");
    assert_eq!(mask & (1 << (libc::SIGPIPE - 1)), 0, "{text}");
}

#[test]
fn an_ignored_signal_stays_ignored_in_a_cgroup_child() {
    an_ignored_signal_stays_ignored(MechanismKind::Cgroup);
}

#[test]
fn an_ignored_signal_stays_ignored_in_a_group_child() {
    an_ignored_signal_stays_ignored(MechanismKind::ProcessGroup);
}

#[test]
fn a_missing_program_is_not_found_and_leaves_no_child() {
    let _serial = serial();
    let Some(scope) = scope_of(MechanismKind::Cgroup) else {
        return;
    };
    let err = scope
        .spawn_command(&ScopeCommand::new("prochandle-no-such-program"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let io = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .expect("the io::Error");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    // Not executable by anyone (root included).
    let plain = std::env::temp_dir().join(format!("prochandle-plain-{}", std::process::id()));
    std::fs::write(&plain, "#!/bin/sh\n").unwrap();
    let err = scope.spawn_command(&ScopeCommand::new(&plain)).unwrap_err();
    let _ = std::fs::remove_file(&plain);
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let mut bad_dir = ScopeCommand::new("true");
    bad_dir.current_dir("/prochandle/no/such/dir");
    let err = scope.spawn_command(&bad_dir).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(scope.is_empty().unwrap());
    // The scope's guardian (on by default, started before the first
    // spawn) is a child of ours until the scope is dropped: after the
    // drop, any child left would be a failed spawn's.
    drop(scope);
    let me = Process::current().unwrap();
    let children = prochandle::linux::ProcessExt::children(&me).unwrap();
    assert!(children.is_empty(), "children left: {children:?}");
}

#[test]
fn the_death_signal_reaches_a_child_whose_spawning_thread_ends() {
    let _serial = serial();
    let Some(scope) = scope_of(MechanismKind::Cgroup) else {
        return;
    };
    let mark = TreeMark::new();
    let child = std::thread::scope(|s| {
        s.spawn(|| {
            let mut command = ScopeCommand::new("sleep");
            command.arg("30").env(TREE_MARK_ENV, mark.value());
            scope.spawn_command(&command).unwrap()
        })
        .join()
        .unwrap()
    });
    let state = child.wait_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(state.and_then(|s| s.signal()), Some(Signal::KILL));
}

#[test]
fn a_member_spawned_so_is_killed_with_the_tree() {
    let _serial = serial();
    let Some(scope) = scope_of(MechanismKind::Cgroup) else {
        return;
    };
    kills_a_two_process_tree(&scope, "setsid sleep 1000 <&- >&- 2>&- & exec sleep 1000");
}

/// Spawns `sh -c script`, which must leave two live processes, with
/// `spawn_command`; `Scope::kill` then ends both, and the first dies of
/// `SIGKILL`.
fn kills_a_two_process_tree(scope: &Scope, script: &str) {
    let mark = TreeMark::new();
    let mut command = ScopeCommand::new("sh");
    command
        .args(["-c", script])
        .env(TREE_MARK_ENV, mark.value());
    let first = scope.spawn_command(&command).unwrap();
    prochandle_test_support::eventually("two live processes", || {
        (mark.live().len() == 2).then_some(())
    });
    scope.kill().unwrap();
    assert!(mark.wait_gone(Duration::from_secs(1)).is_empty());
    assert_eq!(first.wait().unwrap().signal(), Some(Signal::KILL));
}

/// Subreaper and process-group modes: the child leads a process group of
/// its own (as with `Command::process_group(0)`), which the scope kills.
fn the_child_leads_its_own_group(kind: MechanismKind) {
    let Some(scope) = scope_of(kind) else { return };
    let mut command = ScopeCommand::new("sh");
    command.args([
        "-c",
        "read -r pid comm state ppid pgrp rest < /proc/$$/stat; echo $pid $pgrp",
    ]);
    let (code, text) = output(&scope, &mut command);
    assert_eq!(code, Some(0));
    let ids: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(ids.len(), 2, "{text}");
    assert_eq!(ids[0], ids[1], "the child leads its group: {text}");
    kills_a_two_process_tree(&scope, "sleep 1000 & exec sleep 1000");
}

#[test]
fn with_the_subreaper_the_child_leads_its_own_group() {
    let _serial = serial();
    the_child_leads_its_own_group(MechanismKind::Subreaper);
}

#[test]
fn in_a_process_group_scope_the_child_leads_its_own_group() {
    let _serial = serial();
    the_child_leads_its_own_group(MechanismKind::ProcessGroup);
}

const FILTER_ENV: &str = "PROCHANDLE_SPAWN_FILTER";

/// The re-executed child: filters `clone3` out (`ENOSYS`, or `SIGSYS` for
/// "trap"), or `clone(2)`, which every `fork` uses ("no-fork"), then
/// spawns into a cgroup scope and prints where the child was.
fn play_filtered(how: &str) {
    use seccomp::{install, rule, Action};
    let filtered = match how {
        "trap" => rule(libc::SYS_clone3, Action::Trap),
        "no-fork" => rule(libc::SYS_clone, Action::Errno(libc::EPERM)),
        _ => rule(libc::SYS_clone3, Action::Errno(libc::ENOSYS)),
    };
    install(&[filtered], true).expect("install the filter");
    let scope = scope_of(MechanismKind::Cgroup).expect("a cgroup scope");
    // std's path, with its pre-exec hooks, forks: refused under "no-fork".
    let std_path = scope.spawn(&mut std::process::Command::new("true"));
    println!(
        "REPORT std_path={}",
        std_path.and_then(|p| p.wait()).is_ok()
    );
    let (code, text) = output(&scope, ScopeCommand::new("cat").arg("/proc/self/cgroup"));
    println!(
        "REPORT code={code:?} in_scope={}",
        v2_line(&text) == relative(&scope)
    );
    let err = scope
        .spawn_command(&ScopeCommand::new("prochandle-no-such-program"))
        .unwrap_err();
    println!("REPORT missing={:?}", err.kind());
}

/// Runs `test` re-executed under the filter `how`; returns its report
/// (`None`: skipped).
fn filtered_report(how: &str, test: &str) -> Option<String> {
    if let Ok(how) = std::env::var(FILTER_ENV) {
        play_filtered(&how);
        return None;
    }
    if !require_root("a cgroup scope") {
        return None;
    }
    let out = prochandle_test_support::reexec(test, FILTER_ENV, how)
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: String = stdout.lines().filter(|l| l.contains("REPORT")).collect();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("code=Some(0) in_scope=true"), "{report}");
    assert!(report.contains("missing=NotFound"), "{report}");
    Some(report)
}

fn falls_back_under(how: &str, test: &str) {
    if let Some(report) = filtered_report(how, test) {
        assert!(report.contains("std_path=true"), "{report}");
    }
}

/// Linux 5.7 or later (`CLONE_INTO_CGROUP`) on an architecture the fast
/// spawn has its few instructions for.
fn clone3_into_cgroup_expected() -> bool {
    // SAFETY: uname fills the zeroed struct.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: a valid out-pointer.
    assert_eq!(unsafe { libc::uname(&mut uts) }, 0);
    // SAFETY: uname leaves a NUL-terminated release string.
    let release = unsafe { std::ffi::CStr::from_ptr(uts.release.as_ptr()) };
    let mut parts = release.to_str().unwrap().split(['.', '-']);
    let mut next = || {
        parts
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let version = (next(), next());
    version >= (5, 7) && cfg!(any(target_arch = "x86_64", target_arch = "aarch64"))
}

/// Where `clone3` works, `spawn_command` does not fork: with `clone(2)`
/// (and so every `fork`) refused, std's path fails and it still spawns.
#[test]
fn spawn_command_does_not_fork_where_clone3_works() {
    let _serial = serial();
    let test = "spawn_command_does_not_fork_where_clone3_works";
    if std::env::var_os(FILTER_ENV).is_none()
        && !prochandle_test_support::require(
            clone3_into_cgroup_expected(),
            "clone3 with CLONE_INTO_CGROUP (Linux 5.7+, x86-64 or aarch64)",
        )
    {
        return;
    }
    if let Some(report) = filtered_report("no-fork", test) {
        assert!(report.contains("std_path=false"), "{report}");
    }
}

#[test]
fn clone3_answering_enosys_falls_back_to_std() {
    let _serial = serial();
    falls_back_under("enosys", "clone3_answering_enosys_falls_back_to_std");
}

#[test]
fn clone3_trapping_with_sigsys_falls_back_to_std() {
    let _serial = serial();
    falls_back_under("trap", "clone3_trapping_with_sigsys_falls_back_to_std");
}
