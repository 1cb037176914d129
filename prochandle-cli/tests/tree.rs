//! `prochandle tree`: the live descendants of a target, with identities,
//! as text and as JSON.
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};

use common::*;
use prochandle::linux::ProcessExt;
use prochandle::Process;
use prochandle_test_support::{eventually, Reaped, NO_SUCH_PID};
use serde_json::Value;

/// `sh` → (`sleep`, `sh` → `sleep`), leading its own process group, once
/// every member runs its own program.
fn family() -> Reaped<std::process::Child> {
    let root = Reaped::leading_group(
        Command::new("sh")
            .args(["-c", "sleep 30 & sh -c 'sleep 30 & wait' & wait"])
            .process_group(0)
            .stdin(Stdio::null())
            .spawn()
            .expect("start sh"),
    );
    let process = Process::from_child(&root).unwrap();
    eventually("the family to form", || {
        let all = process.descendants().ok()?;
        let names: Vec<String> = all
            .iter()
            .filter_map(|p| std::fs::read_to_string(format!("/proc/{}/comm", p.pid())).ok())
            .map(|n| n.trim().to_owned())
            .collect();
        let sleeps = names.iter().filter(|n| *n == "sleep").count();
        (all.len() == 3 && sleeps == 2).then_some(())
    });
    root
}

fn identity(pid: u32) -> String {
    Process::open(pid).unwrap().identity().unwrap().to_string()
}

#[test]
fn text_is_an_indented_tree_with_identities() {
    let root = family();
    let out = run(&["tree", &root.pid_arg()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    let root_line = format!("{} {} sh -c ", root.pid(), identity(root.pid()));
    assert!(lines[0].starts_with(&root_line), "{text}");
    let depth = |line: &str| (line.len() - line.trim_start().len()) / 2;
    let depths: Vec<usize> = lines.iter().map(|l| depth(l)).collect();
    // The inner shell's sleep is listed under it, one level deeper.
    assert!(
        depths == [0, 1, 1, 2] || depths == [0, 1, 2, 1],
        "{depths:?}\n{text}"
    );
    for line in &lines[1..] {
        let mut words = line.split_whitespace();
        let pid: u32 = words.next().unwrap().parse().unwrap();
        assert_eq!(words.next().unwrap(), identity(pid), "{line}");
    }
}

#[test]
fn json_gives_parents_and_depths() {
    let root = family();
    let out = run(&["tree", "--json", &root.pid_arg()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let objects: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(objects.len(), 4);
    assert_eq!(objects[0]["pid"], root.pid());
    assert_eq!(objects[0]["depth"], 0);
    assert_eq!(objects[0]["cmdline"][0], "sh");
    for object in &objects[1..] {
        let pid = object["pid"].as_u64().unwrap() as u32;
        let parent = objects
            .iter()
            .find(|o| o["pid"] == object["ppid"])
            .expect("the parent is listed");
        assert_eq!(object["depth"], parent["depth"].as_u64().unwrap() + 1);
        assert_eq!(object["identity"], identity(pid));
    }
}

#[test]
fn a_process_without_children_is_one_line() {
    let leaf = Reaped::sleeping_child(30);
    let out = run(&["tree", &leaf.pid_arg()]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with(&format!("{} ", leaf.pid())), "{text}");
    assert!(text.trim_end().ends_with("sleep 30"), "{text}");
}

#[test]
fn errors() {
    let out = run(&["tree", &NO_SUCH_PID.to_string()]);
    assert_eq!(code(&out), 1);
    one_error_line(&out, &["tree", "no such process"]);
    let out = run(&["tree", "abc"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["bad target"]);
}

#[test]
fn a_reader_that_goes_away_ends_it_quietly() {
    let mut child = Reaped::child(
        prochandle()
            .args(["tree", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    // Closed before anything is written: listing every process below PID
    // 1 takes longer than this.
    drop(child.stdout.take());
    let mut err = String::new();
    let mut pipe = child.stderr.take().unwrap();
    std::io::Read::read_to_string(&mut pipe, &mut err).unwrap();
    // As C tools end: killed by SIGPIPE (141 in a shell), or done first.
    let status = child.wait_status();
    let quiet = status.signal() == Some(libc::SIGPIPE) || status.code() == Some(0);
    assert!(quiet, "{status:?} {err}");
    assert_eq!(err, "");
}
