//! `ProcessExt::info`: PIDFD_GET_INFO or /proc, re-checked.
#![cfg(target_os = "linux")]

use std::os::unix::process::CommandExt as _;
use std::process::Command;

use prochandle::linux::{InfoSource, ProcessExt};
use prochandle::{capabilities, ErrorKind, Feature, Process};
use prochandle_test_support::{eventually, handles, is_root, proc_state, require_root, Reaped};

fn expected_source() -> InfoSource {
    if handles() && capabilities().is_available(Feature::PidfdGetInfo) {
        InfoSource::PidfdGetInfo
    } else {
        InfoSource::Procfs
    }
}

#[test]
fn describes_a_child() {
    let root = is_root();
    let mut command = Command::new("sleep");
    command.arg("30");
    if root {
        command.uid(65534).gid(65534);
    }
    let child = Reaped::new(Process::spawn(&mut command).unwrap());
    let info = child.info().unwrap();
    let me = Process::current().unwrap().info().unwrap();

    assert_eq!(info.pid, child.pid());
    assert_eq!(info.ppid, Some(std::process::id()));
    assert_eq!(info.source, expected_source());
    let (uid, gid) = if root {
        (65534, 65534)
    } else {
        (me.uids.real, me.gids.real)
    };
    assert_eq!(all_four(info.uids), [uid; 4], "{info:?}");
    assert_eq!(all_four(info.gids), [gid; 4], "{info:?}");
    assert_eq!(
        info.cmdline.as_deref(),
        Some(&["sleep".into(), "30".into()][..])
    );
    assert_eq!(
        info.exe.as_ref().and_then(|p| p.file_name()),
        Some("sleep".as_ref())
    );
    assert!(matches!(info.state, Some('S' | 'R')), "{:?}", info.state);
    assert_eq!(info.threads, Some(1));
    assert!(info.start_time.unwrap() >= me.start_time.unwrap());
    assert_eq!(info.cgroup_path, me.cgroup_path);
    assert_eq!(info.cgroup_id, me.cgroup_id);
    if info.source == InfoSource::Procfs {
        assert_eq!(info.cgroup_id, None, "only PIDFD_GET_INFO reports it");
    }
}

#[test]
fn describes_ourselves() {
    let info = Process::current().unwrap().info().unwrap();
    assert_eq!(info.pid, std::process::id());
    assert_eq!(info.uids.real, rustix::process::getuid().as_raw());
    assert_eq!(info.uids.effective, rustix::process::geteuid().as_raw());
    assert_eq!(info.gids.real, rustix::process::getgid().as_raw());
    assert_eq!(info.exe, Some(std::env::current_exe().unwrap()));
    // The state of the main thread, which waits for the test thread.
    assert!(matches!(info.state, Some('R' | 'S')), "{:?}", info.state);
    assert!(info.threads.unwrap() >= 2, "libtest runs tests in a thread");
    let ppid = rustix::process::getppid().map(|p| p.as_raw_nonzero().get() as u32);
    assert_eq!(info.ppid, ppid);
    let args: Vec<_> = std::env::args_os().collect();
    assert_eq!(info.cmdline, Some(args));
}

#[test]
fn a_zombie_is_still_described() {
    let child = Process::spawn(&mut Command::new("true")).unwrap();
    eventually("zombie", || {
        (proc_state(child.pid()) == Some('Z')).then_some(())
    });
    let info = child.info();
    child.wait().unwrap();
    let info = info.unwrap();
    assert_eq!(info.state, Some('Z'));
    assert_eq!(info.ppid, Some(std::process::id()));
    assert_eq!(info.exe, None, "a zombie has no executable");
    assert_eq!(info.cmdline, Some(vec![]), "a zombie has no command line");
}

#[test]
fn a_reaped_process_is_done() {
    let child = Process::spawn(&mut Command::new("true")).unwrap();
    child.wait().unwrap();
    let err = child.info().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Done, "{err}");
}

#[test]
fn describes_another_users_process() {
    if !require_root("describes_another_users_process") {
        return;
    }
    let child =
        Reaped::new(Process::spawn(Command::new("sleep").arg("30").uid(65534).gid(65534)).unwrap());
    let info = child.info().unwrap();
    assert_eq!((info.uids.real, info.gids.effective), (65534, 65534));
    assert!(info.exe.is_some(), "root may read anyone's executable link");
}

/// Real, effective, saved and file-system IDs, in that order.
fn all_four(ids: prochandle::linux::Ids) -> [u32; 4] {
    [ids.real, ids.effective, ids.saved, ids.filesystem]
}
