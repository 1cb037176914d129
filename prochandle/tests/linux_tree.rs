//! `ProcessExt::children` and `descendants`.
#![cfg(target_os = "linux")]

use std::os::unix::process::CommandExt as _;
use std::process::Command;

use prochandle::linux::ProcessExt;
use prochandle::{ErrorKind, Process};
use prochandle_test_support::{eventually, Reaped};

/// The PIDs of a listing.
fn pids(listed: prochandle::Result<Vec<Process>>) -> Vec<u32> {
    listed.unwrap().iter().map(Process::pid).collect()
}

/// Word `index` of `process`'s command line.
fn word(process: &Process, index: usize) -> Option<String> {
    let words = process.info().unwrap().cmdline?;
    Some(words.get(index)?.to_string_lossy().into_owned())
}

#[test]
fn lists_children_and_grandchildren() {
    let shell = Reaped::leading_group(
        Process::spawn(
            Command::new("sh")
                .args(["-c", "sleep 30 & sleep 31 & wait"])
                .process_group(0),
        )
        .unwrap(),
    );
    let shell_pid = shell.pid();

    // Listed as soon as forked; wait until both have become `sleep`.
    let kids = eventually("two sleeping children", || {
        let kids = shell.children().unwrap();
        let sleeping = kids.iter().all(|k| word(k, 0).as_deref() == Some("sleep"));
        (kids.len() == 2 && sleeping).then_some(kids)
    });
    let kid_pids: Vec<u32> = kids.iter().map(Process::pid).collect();
    for kid in &kids {
        assert_eq!(kid.info().unwrap().ppid, Some(shell_pid));
        assert!(!kid.is_child(), "a grandchild is not ours to reap");
    }
    let mut args: Vec<String> = kids.iter().map(|k| word(k, 1).unwrap()).collect();
    args.sort();
    assert_eq!(args, ["30", "31"]);

    let all = pids(Process::current().unwrap().descendants());
    assert!(all.contains(&shell_pid), "{all:?}");
    for pid in &kid_pids {
        assert!(all.contains(pid), "grandchild {pid} in {all:?}");
    }
    // Only direct children at the first level.
    let mine = pids(Process::current().unwrap().children());
    assert!(mine.contains(&shell_pid));
    assert!(kid_pids.iter().all(|p| !mine.contains(p)));

    // Kill the grandchildren first: the shell reaps them.
    for kid in kids {
        kid.kill().unwrap();
        assert!(kid
            .wait_timeout(std::time::Duration::from_secs(5))
            .unwrap()
            .is_some());
    }
}

#[test]
fn a_process_without_children_has_none() {
    let child = Reaped::sleeping(30);
    assert!(child.children().unwrap().is_empty());
    assert!(child.descendants().unwrap().is_empty());
}

#[test]
fn a_reaped_process_has_no_children_to_list() {
    let child = Process::spawn(&mut Command::new("true")).unwrap();
    child.wait().unwrap();
    let err = child.children().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Done, "{err}");
}
