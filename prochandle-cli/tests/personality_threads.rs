//! Where procps-ng 4.0.2's pgrep, pkill and pidwait differ from a plain
//! reading: getopt's messages name the program as typed, and `-w`
//! (`--lightweight`) judges and acts on each thread. Every pattern names
//! only threads of a process this test started (unique names).
#![cfg(target_os = "linux")]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};

use common::*;
use prochandle_test_support::Reaped;

/// The variable that makes this test binary a two-thread process: its
/// main thread named `NAMEm`, a second one `NAMEt`, which ends when a
/// line arrives on stdin (the process when stdin closes).
const THREADS: &str = "PROCHANDLE_TEST_THREADS";

/// The first line of a test that uses [`two_threads`]: nothing in the test
/// itself; in the copy it starts, names the threads, prints the second
/// thread's ID, and ends the thread on the first line of stdin.
fn be_two_threads() {
    let Some(name) = std::env::var_os(THREADS) else {
        return;
    };
    let name = name.to_string_lossy().into_owned();
    std::fs::write("/proc/self/comm", format!("{name}m")).unwrap();
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let (end_tx, end_rx) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::Builder::new()
        .name(format!("{name}t"))
        .spawn(move || {
            let tid = std::fs::read_link("/proc/thread-self").unwrap();
            let tid = tid.file_name().unwrap().to_string_lossy().into_owned();
            tid_tx.send(tid).unwrap();
            let _ = end_rx.recv();
        })
        .unwrap();
    println!("tid {}", tid_rx.recv().unwrap());
    std::io::stdout().flush().unwrap();
    let mut lines = std::io::stdin().lock().lines();
    let _ = lines.next();
    end_tx.send(()).unwrap();
    worker.join().unwrap();
    // Nothing more is printed: the test stopped reading after the ID, so
    // a write now would fail with EPIPE (and `println!` panic on it).
    let _ = lines.next();
    std::process::exit(0);
}

/// This test binary re-run for `test` as a two-thread process named
/// `NAMEm` / `NAMEt`; with its second thread's ID and its stdin.
fn two_threads(test: &str, name: &str) -> (Reaped<Child>, String, ChildStdin) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Reaped::child(
        Command::new(exe)
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(THREADS, name)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped()),
    );
    let stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let tid = lines
        // libtest's "test NAME ... " may begin the line.
        .find_map(|line| Some(line.ok()?.split_once("tid ")?.1.to_owned()))
        .expect("the thread's ID");
    (child, tid, stdin)
}

/// A name no other test process has, short enough for `comm` with the
/// `m`/`t` suffix.
fn unique(tag: &str) -> String {
    format!("{tag}{}", std::process::id() % 100_000_000)
}

/// pgrep -w judges each thread by its own name and lists its ID; pkill
/// -w acts once per matching thread and echoes its ID.
#[test]
fn lightweight_judges_each_thread() {
    const TEST: &str = "lightweight_judges_each_thread";
    be_two_threads();
    let name = unique("lw");
    let (mut child, tid, stdin) = two_threads(TEST, &name);
    let pid = child.pid_arg();
    let thread = format!("{name}t");
    for (tool, args, expected) in [
        (
            "pgrep",
            vec!["-w", "-x", thread.as_str()],
            format!("{tid}\n"),
        ),
        (
            "pgrep",
            vec!["-w", "-l", "-x", &thread],
            format!("{tid} {thread}\n"),
        ),
        ("pgrep", vec!["-w", &name], format!("{pid}\n{tid}\n")),
        ("pgrep", vec!["-w", "-c", &name], "2\n".to_owned()),
        ("pgrep", vec!["-x", &thread], String::new()),
        (
            "pkill",
            vec!["-0", "-c", "-e", "--lightweight", "-x", &thread],
            format!("{thread} killed (pid {tid})\n1\n"),
        ),
    ] {
        for (who, out) in both(tool, &args) {
            assert_eq!(
                stdout(&out),
                expected,
                "{who}: {tool} {args:?}: {}",
                stderr(&out)
            );
            assert_eq!(
                code(&out),
                i32::from(expected.is_empty()),
                "{who}: {tool} {args:?}"
            );
        }
    }
    drop(stdin);
    assert!(
        child.wait_status().success(),
        "the two-thread process failed"
    );
}

/// pidwait --lightweight waits for the matching thread itself: done when it ends,
/// though its process lives on (procps cannot open a thread's pidfd for
/// that and warns instead).
#[test]
fn pidwait_lightweight_waits_for_the_thread() {
    const TEST: &str = "pidwait_lightweight_waits_for_the_thread";
    be_two_threads();
    let name = unique("pw");
    let (mut child, tid, mut stdin) = two_threads(TEST, &name);
    let thread = format!("{name}t");
    let mut waiter = Reaped::child(
        persona("pidwait", &["--lightweight", "-e", "-x", &thread]).stdout(Stdio::piped()),
    );
    let mut lines = BufReader::new(waiter.stdout.take().unwrap()).lines();
    let said = lines.next().unwrap().unwrap();
    assert_eq!(said, format!("waiting for {thread} (pid {tid})"));
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(waiter.alive(), "pidwait ended before the thread did");
    writeln!(stdin).unwrap();
    assert_eq!(waiter.wait_status().code(), Some(0));
    assert!(child.alive(), "the process ended with its thread");
    drop(stdin);
    assert!(
        child.wait_status().success(),
        "the two-thread process failed"
    );
}

/// getopt's messages begin with the program as typed (`/usr/bin/pgrep:
/// invalid option -- 'Z'`), procps' own with its file name (`pgrep: no
/// matching criteria specified`).
#[test]
fn getopt_messages_name_the_program_as_typed() {
    let dir = prochandle_test_support::temp_path("pgrep-link");
    std::fs::create_dir_all(&dir).unwrap();
    let mut paths = Vec::new();
    for tool in ["pgrep", "pkill", "pidwait"] {
        let link = dir.join(tool);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("prochandle"), &link).unwrap();
        paths.push((tool, link.display().to_string()));
        if let Some(real) = real(tool, &[]) {
            let program = real.get_program().to_string_lossy().into_owned();
            if let Some(path) = ["/usr/bin", "/bin"]
                .iter()
                .map(|d| format!("{d}/{program}"))
                .find(|p| std::path::Path::new(p).is_file())
            {
                paths.push((tool, path));
            }
        }
    }
    for (tool, path) in &paths {
        let run = |args: &[&str]| {
            std::process::Command::new(path)
                .args(args)
                .env("LC_ALL", "C")
                .output()
                .unwrap()
        };
        for (args, message) in [
            (&["-Z", "x"][..], "invalid option -- 'Z'"),
            (&["--bogus", "x"], "unrecognized option '--bogus'"),
            (&["-P"], "option requires an argument -- 'P'"),
        ] {
            let out = run(args);
            assert_eq!(code(&out), 2, "{path} {args:?}");
            assert!(
                stderr(&out).starts_with(&format!("{path}: {message}\n")),
                "{path} {args:?}: {}",
                stderr(&out)
            );
        }
        let out = run(&[]);
        assert!(
            stderr(&out).starts_with(&format!("{tool}: no matching criteria specified\n")),
            "{path}: {}",
            stderr(&out)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
