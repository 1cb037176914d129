//! `ProcessExt::get_fd`: pidfd_getfd, its errors, and the PID-mode answer.
#![cfg(target_os = "linux")]

use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};

use prochandle::linux::ProcessExt;
use prochandle::{ErrorKind, Process};
use prochandle_test_support::{eventually, handles, proc_state, require_root, Reaped};

fn temp_file(tag: &str) -> (std::path::PathBuf, File) {
    let path = std::env::temp_dir().join(format!("prochandle-{tag}-{}", std::process::id()));
    let file = File::create(&path).unwrap();
    (path, file)
}

fn assert_unsupported_without_pidfd(err: &prochandle::Error) {
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("pidfd_getfd"), "{err}");
}

#[test]
fn takes_a_childs_descriptor() {
    let (path, file) = temp_file("getfd");
    let child = Reaped::new(
        Process::spawn(Command::new("sleep").arg("30").stdout(Stdio::from(file))).unwrap(),
    );
    let taken = child.get_fd(1);
    let expected = std::fs::metadata(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    if !handles() {
        return assert_unsupported_without_pidfd(&taken.unwrap_err());
    }
    let fd = taken.unwrap();
    let st = rustix::fs::fstat(&fd).unwrap();
    assert_eq!((st.st_dev, st.st_ino), (expected.dev(), expected.ino()));
    let flags = rustix::io::fcntl_getfd(fd.as_fd()).unwrap();
    assert!(
        flags.contains(rustix::io::FdFlags::CLOEXEC),
        "copy must be close-on-exec"
    );
}

#[test]
fn a_descriptor_that_is_not_open_is_invalid_input() {
    let child = Reaped::sleeping(30);
    let err = child.get_fd(987).unwrap_err();
    if !handles() {
        return assert_unsupported_without_pidfd(&err);
    }
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("987 is not open"), "{err}");
    assert_eq!(
        child.get_fd(-1).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn an_exited_process_is_done() {
    let child = Process::spawn(&mut Command::new("true")).unwrap();
    child.wait().unwrap();
    let err = child.get_fd(0).unwrap_err();
    if !handles() {
        return assert_unsupported_without_pidfd(&err);
    }
    assert_eq!(err.kind(), ErrorKind::Done, "{err}");
}

#[test]
fn a_zombie_is_done_not_bad_fd() {
    let child = Process::spawn(&mut Command::new("true")).unwrap();
    eventually("zombie", || {
        (proc_state(child.pid()) == Some('Z')).then_some(())
    });
    let err = child.get_fd(0).unwrap_err();
    child.wait().unwrap();
    if !handles() {
        return assert_unsupported_without_pidfd(&err);
    }
    assert_eq!(err.kind(), ErrorKind::Done, "{err}");
}

/// Drops every effective capability of the calling thread only
/// (capabilities are per thread on Linux).
fn drop_effective_capabilities_of_this_thread() {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut header = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: version 3 headers come with two data words, as passed.
    let ret = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    assert_eq!(ret, 0, "capget: {}", std::io::Error::last_os_error());
    for d in &mut data {
        d.effective = 0;
    }
    // SAFETY: as above; the kernel only reads the structs.
    let ret = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    assert_eq!(ret, 0, "capset: {}", std::io::Error::last_os_error());
}

#[test]
fn another_users_process_is_permission_denied() {
    if !require_root("another_users_process_is_permission_denied") {
        return;
    }
    let child =
        Reaped::new(Process::spawn(Command::new("sleep").arg("30").uid(65534).gid(65534)).unwrap());
    let err = std::thread::scope(|s| {
        s.spawn(|| {
            // As root without CAP_SYS_PTRACE, a process of user 65534 is off
            // limits: different user.
            drop_effective_capabilities_of_this_thread();
            child.get_fd(1).unwrap_err()
        })
        .join()
        .unwrap()
    });
    if !handles() {
        return assert_unsupported_without_pidfd(&err);
    }
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert!(
        err.to_string().contains("CAP_SYS_PTRACE"),
        "explains the rule: {err}"
    );
    // With the capability (this thread), it works.
    child.get_fd(1).unwrap();
}
