//! `run --pidfile FILE` and `@FILE` targets: the file names CMD by its
//! identity, is written whole, is removed when CMD ends, is never written
//! over while its process lives, and a stale file (process gone, PID
//! recycled) is reported as gone and never signalled.
#![cfg(target_os = "linux")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use prochandle::linux::ProcessExt;
use prochandle_test_support::{
    eventually, proc_parent, require_root, temp_path, Reaped, Supervised,
};

/// `run --pidfile FILE -- sleep 30`, started; returns it once FILE is there.
fn run_with_pidfile(file: &Path, prefix: &[&str]) -> Reaped<Supervised> {
    let mut command = Command::new(prefix.first().copied().unwrap_or("env"));
    command.args(prefix.iter().skip(1));
    command
        .arg(prochandle().get_program())
        .args(["run", "--pidfile"])
        .arg(file)
        .args(["--", "sleep", "30"]);
    let run = Supervised::start(&mut command);
    eventually("the pidfile", || std::fs::metadata(file).ok());
    run
}

fn contents(file: &Path) -> String {
    std::fs::read_to_string(file).unwrap().trim().to_owned()
}

fn at(file: &Path) -> String {
    format!("@{}", file.display())
}

/// The identity in the file opens to a `sleep` whose parent is `run`, or
/// (without a cgroup) `run`'s keeper.
fn assert_names_cmd(file: &Path, run: &Supervised) {
    let text = contents(file);
    let id: prochandle::linux::ProcessId = text.parse().expect("an identity");
    let process = id.open().expect("the identity opens");
    let comm = std::fs::read_to_string(format!("/proc/{}/comm", process.pid())).unwrap();
    assert_eq!(comm.trim(), "sleep", "{text}");
    let parent = proc_parent(process.pid()).expect("alive");
    assert!(
        parent == run.pid() || proc_parent(parent).expect("alive") == run.pid(),
        "{text}: parent {parent}, run {}",
        run.pid()
    );
}

fn check_the_whole_life(file: &Path, prefix: &[&str]) {
    let mut held = run_with_pidfile(file, prefix);
    assert_names_cmd(file, &held);
    // No temporary file is left beside it.
    let dir = file.parent().unwrap();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let strays: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            let entry = path.file_name().unwrap().to_string_lossy();
            entry.starts_with(&format!(".{name}.")) && entry.ends_with(".tmp")
        })
        .collect();
    assert!(strays.is_empty(), "{strays:?}");
    // A second run refuses the live file and leaves it as it was.
    let before = contents(file);
    let refused = run(&["run", "--pidfile", file.to_str().unwrap(), "--", "true"]);
    assert_eq!(code(&refused), 125, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("still running"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(contents(file), before);
    // `kill @FILE` reaches CMD; run ends with its status, the file goes.
    let killed = run(&["kill", &at(file)]);
    assert_eq!(code(&killed), 0, "{}", stderr(&killed));
    assert_eq!(held.wait_status().code(), Some(143));
    assert!(!file.exists(), "the pidfile outlived CMD");
}

#[test]
fn run_writes_the_identity_and_removes_it() {
    let file = temp_path("pidfile");
    check_the_whole_life(&file, &[]);
}

#[test]
fn as_nobody_too() {
    if !require_root("setpriv to the user nobody") {
        return;
    }
    // A directory nobody may write in (the system's temporary directory).
    let file = temp_path("pidfile-nobody");
    check_the_whole_life(&file, &NOBODY);
}

#[test]
fn a_stale_pidfile_is_gone_and_replaced() {
    let file = temp_path("pidfile-stale");
    let mut child = Command::new("true");
    let exited = prochandle::Process::spawn(&mut child).unwrap();
    let identity = exited.identity().unwrap().to_string();
    exited.wait().unwrap();
    std::fs::write(&file, format!("{identity}\n")).unwrap();
    let out = run(&["kill", &at(&file)]);
    assert_eq!(code(&out), 1);
    one_error_line(&out, &["gone"]);
    // run takes a stale file over, and removes it at the end.
    let out = run(&["run", "--pidfile", file.to_str().unwrap(), "--", "true"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!file.exists());
}

#[test]
fn a_recycled_pid_is_never_signalled() {
    let file = temp_path("pidfile-recycled");
    // A live process of ours under the PID, with another identity in the
    // file: what a pidfile looks like once its PID was given to a stranger.
    let sleeper = Reaped::sleeping(30);
    let real = sleeper.identity().unwrap();
    let other = match real.inode() {
        Some(inode) => format!("{}:{}", sleeper.pid(), inode + 1),
        None => format!("{}@1:00000000-0000-0000-0000-000000000000", sleeper.pid()),
    };
    std::fs::write(&file, format!("{other}\n")).unwrap();
    for args in [vec!["kill", "-KILL"], vec!["wait", "--timeout", "1s"]] {
        let mut args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        args.push(at(&file));
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&argv);
        assert_eq!(code(&out), 1, "{argv:?}: {}", stderr(&out));
        one_error_line(&out, &["gone", "identity mismatch"]);
    }
    assert!(
        sleeper.try_wait().unwrap().is_none(),
        "the stranger was hit"
    );
    // run takes the stale file over: its identity names no process.
    let out = run(&["run", "--pidfile", file.to_str().unwrap(), "--", "true"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!file.exists());
}

#[test]
fn a_missing_or_garbled_pidfile_is_a_usage_error() {
    let file = temp_path("pidfile-missing");
    let out = run(&["kill", &at(&file)]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["cannot read the pidfile"]);
    std::fs::write(&file, "hello\n").unwrap();
    let out = run(&["kill", &at(&file)]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["bad target"]);
    std::fs::remove_file(&file).unwrap();
}
