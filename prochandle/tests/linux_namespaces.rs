//! `CommandExt::join_namespaces` and `ProcessExt::open_namespace`.
#![cfg(target_os = "linux")]

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt as _;
use std::process::Command;

use prochandle::linux::{CommandExt, Namespaces, ProcessExt};
use prochandle::{ErrorKind, Process};
use prochandle_test_support::{eventually, proc_state, require_root, Reaped};

const INNER_HOSTNAME: &[u8] = b"prochandle-inner";

/// A `sleep` in fresh namespaces (`CLONE_NEW*` bits), with its own host
/// name when UTS is among them. All set up before exec, so it is ready
/// once `spawn` returns.
fn sleeper_in_new(flags: libc::c_int) -> Reaped<Process> {
    let mut command = Command::new("sleep");
    command.arg("30");
    // SAFETY: unshare and sethostname are plain syscalls on static data:
    // async-signal-safe, no allocation.
    unsafe {
        command.pre_exec(move || {
            if libc::unshare(flags) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if flags & libc::CLONE_NEWUTS != 0
                && libc::sethostname(INNER_HOSTNAME.as_ptr().cast(), INNER_HOSTNAME.len()) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Reaped::new(Process::spawn(&mut command).expect("spawn sleep in new namespaces"))
}

fn ns_link(pid: &str, name: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{name}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn runs_a_command_in_anothers_uts_namespace() {
    if !require_root("runs_a_command_in_anothers_uts_namespace") {
        return;
    }
    let target = sleeper_in_new(libc::CLONE_NEWUTS);
    let out = Command::new("hostname")
        .join_namespaces(&target, Namespaces::UTS)
        .unwrap()
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, [INNER_HOSTNAME, b"\n"].concat());
    // We ourselves stayed where we were.
    let ours = Command::new("hostname").output().unwrap().stdout;
    assert_ne!(ours, out.stdout);
}

#[test]
fn joins_several_namespaces_at_once() {
    if !require_root("joins_several_namespaces_at_once") {
        return;
    }
    let target = sleeper_in_new(libc::CLONE_NEWUTS | libc::CLONE_NEWNET | libc::CLONE_NEWIPC);
    let out = Command::new("readlink")
        .args([
            "/proc/self/ns/uts",
            "/proc/self/ns/net",
            "/proc/self/ns/ipc",
            "/proc/self/ns/mnt",
        ])
        .join_namespaces(&target, Namespaces::UTS | Namespaces::NET | Namespaces::IPC)
        .unwrap()
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let pid = target.pid().to_string();
    assert_eq!(lines[0], ns_link(&pid, "uts"));
    assert_eq!(lines[1], ns_link(&pid, "net"));
    assert_eq!(lines[2], ns_link(&pid, "ipc"));
    assert_ne!(
        lines[1],
        ns_link("self", "net"),
        "the target's net namespace is its own"
    );
    // Not asked for: stays ours.
    assert_eq!(lines[3], ns_link("self", "mnt"));
}

#[test]
fn joining_our_own_user_namespace_is_skipped() {
    if !require_root("joining_our_own_user_namespace_is_skipped") {
        return;
    }
    let target = sleeper_in_new(libc::CLONE_NEWUTS);
    let out = Command::new("hostname")
        .join_namespaces(&target, Namespaces::USER | Namespaces::UTS)
        .unwrap()
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, [INNER_HOSTNAME, b"\n"].concat());
}

#[test]
fn joining_without_privilege_is_permission_denied() {
    if !require_root("joining_without_privilege_is_permission_denied") {
        return;
    }
    let target = sleeper_in_new(libc::CLONE_NEWUTS);
    // uid/gid are applied before the join: the child has no CAP_SYS_ADMIN.
    let err = Command::new("hostname")
        .uid(65534)
        .gid(65534)
        .join_namespaces(&target, Namespaces::UTS)
        .unwrap()
        .output()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}");
}

#[test]
fn a_process_that_is_gone_cannot_be_joined() {
    let child = Process::spawn(&mut Command::new("true")).unwrap();
    child.wait().unwrap();
    let err = Command::new("true")
        .join_namespaces(&child, Namespaces::UTS)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Done, "{err}");
    let err = child.open_namespace(Namespaces::UTS).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Done, "{err}");
}

#[test]
fn a_zombie_cannot_be_joined() {
    let child = Process::spawn(&mut Command::new("true")).unwrap();
    eventually("zombie", || {
        (proc_state(child.pid()) == Some('Z')).then_some(())
    });
    let joined = Command::new("true")
        .join_namespaces(&child, Namespaces::UTS)
        .map(|_| ());
    let opened = child.open_namespace(Namespaces::NET).map(|_| ());
    child.wait().unwrap();
    assert_eq!(joined.unwrap_err().kind(), ErrorKind::Done);
    assert_eq!(opened.unwrap_err().kind(), ErrorKind::Done);
}

#[test]
fn opens_one_namespace_of_a_process() {
    if !require_root("opens_one_namespace_of_a_process") {
        return;
    }
    let target = sleeper_in_new(libc::CLONE_NEWUTS);
    let fd = target.open_namespace(Namespaces::UTS).unwrap();
    let st = rustix::fs::fstat(&fd).unwrap();
    let theirs = std::fs::metadata(format!("/proc/{}/ns/uts", target.pid())).unwrap();
    let ours = std::fs::metadata("/proc/self/ns/uts").unwrap();
    assert_eq!(st.st_ino, theirs.ino());
    assert_ne!(st.st_ino, ours.ino());
    let flags = rustix::io::fcntl_getfd(&fd).unwrap();
    assert!(flags.contains(rustix::io::FdFlags::CLOEXEC));
}

#[test]
fn open_namespace_wants_exactly_one_kind() {
    let me = Process::current().unwrap();
    for bad in [
        Namespaces::empty(),
        Namespaces::UTS | Namespaces::NET,
        Namespaces::all(),
    ] {
        let err = me.open_namespace(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}: {err}");
    }
    // Our own: always permitted.
    let fd = me.open_namespace(Namespaces::NET).unwrap();
    let ours = std::fs::metadata("/proc/self/ns/net").unwrap();
    assert_eq!(rustix::fs::fstat(&fd).unwrap().st_ino, ours.ino());
}
