//! `ProcessId`: a name for one process for the whole boot.
#![cfg(target_os = "linux")]

use std::collections::HashSet;
use std::process::Command;

use prochandle::linux::{ProcessExt, ProcessId};
use prochandle::{capabilities, ErrorKind, Feature, Process};
use prochandle_test_support::{handles, Reaped};

fn pidfs_form() -> bool {
    handles() && capabilities().is_available(Feature::PidfsIds)
}

#[test]
fn round_trips_through_text_and_reopens() {
    let child = Reaped::sleeping(30);
    let id = child.identity().unwrap();
    assert_eq!(id.pid(), child.pid());
    assert_eq!(id.inode().is_some(), pidfs_form());
    let text = id.to_string();
    if pidfs_form() {
        assert_eq!(text, format!("{}:{}", child.pid(), id.inode().unwrap()));
        let st = rustix::fs::fstat(child.handle().unwrap()).unwrap();
        assert_eq!(id.inode(), Some(st.st_ino));
    } else {
        assert!(text.starts_with(&format!("{}@", child.pid())), "{text}");
    }
    let parsed: ProcessId = text.parse().unwrap();
    assert_eq!(parsed, id);
    let set: HashSet<ProcessId> = [id, parsed].into_iter().collect();
    assert_eq!(set.len(), 1);

    let reopened = parsed.open().unwrap();
    assert_eq!(reopened.pid(), child.pid());
    assert_eq!(reopened.identity().unwrap(), id);
    assert_eq!(reopened.has_handle(), handles());
}

#[test]
fn different_processes_have_different_identities() {
    let (first, second) = (Reaped::sleeping(30), Reaped::sleeping(30));
    let a = first.identity().unwrap();
    let b = second.identity().unwrap();
    let me = Process::current().unwrap();
    assert_ne!(a, b);
    assert_eq!(
        me.identity().unwrap(),
        Process::current().unwrap().identity().unwrap()
    );
}

#[test]
fn a_process_that_is_gone_is_not_found() {
    let child = Process::spawn(&mut Command::new("true")).unwrap();
    let id = child.identity().unwrap();
    child.wait().unwrap();
    let err = id.open().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[test]
fn an_edited_identity_is_not_found() {
    let child = Reaped::sleeping(30);
    let id = child.identity().unwrap();
    let text = id.to_string();
    let mut edits = vec![];
    if let Some(ino) = id.inode() {
        edits.push(format!("{}:{}", id.pid(), ino + 1_000_000));
        // The right inode under another, living PID: init's.
        edits.push(format!("1:{ino}"));
    } else {
        let (pid, rest) = text.split_once('@').unwrap();
        let (ticks, boot) = rest.split_once(':').unwrap();
        let ticks: u64 = ticks.parse().unwrap();
        edits.push(format!("{pid}@{}:{boot}", ticks + 1));
        // Another living PID (init, started long before the child; our own
        // process may have started in the same clock tick as the child).
        edits.push(format!("1@{ticks}:{boot}"));
        // Another boot.
        let other_boot = if boot.starts_with('0') { "1" } else { "0" };
        edits.push(format!("{pid}@{ticks}:{other_boot}{}", &boot[1..]));
    }
    for edited in edits {
        let err = edited.parse::<ProcessId>().unwrap().open().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{edited}: {err}");
    }
}

#[test]
fn the_other_form_is_accepted_where_it_can_be_checked() {
    let me = Process::current().unwrap();
    let start_form = format!(
        "{}@1:00000000-0000-0000-0000-000000000000",
        std::process::id()
    );
    // Parses in every mode; names nothing on this boot.
    let err = start_form.parse::<ProcessId>().unwrap().open().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let inode_form: ProcessId = format!("{}:1", me.pid()).parse().unwrap();
    let err = inode_form.open().unwrap_err();
    if pidfs_form() {
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    } else {
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        assert!(err.to_string().contains("6.9"), "names the kernel: {err}");
    }
}

#[test]
fn malformed_text_is_invalid_input() {
    for bad in [
        "",
        "abc",
        "12",
        "12:",
        ":5",
        "0:5",
        "-1:5",
        "+1:5",
        "1:+5",
        "12:5x",
        "99999999999:5",
        "12@5",
        "12@5:",
        "12@:f0ee6e8a-29e0-4149-8143-9bd03fd5794d",
        "12@5:f0ee6e8a-29e0-4149-8143-9bd03fd5794",
        "12@5:f0ee6e8a29e0-4149-8143-9bd03fd5794d",
        "1 2:5",
        "12:5:6",
    ] {
        let err = bad.parse::<ProcessId>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    let ok: ProcessId = "12@5:F0EE6E8A-29E0-4149-8143-9BD03FD5794D".parse().unwrap();
    assert_eq!(ok.to_string(), "12@5:f0ee6e8a-29e0-4149-8143-9bd03fd5794d");
}
