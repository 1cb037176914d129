//! `linux::peer_process`: who is at the other end of a Unix socket.
#![cfg(target_os = "linux")]

use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use prochandle::linux::{peer_process, ProcessExt};
use prochandle::{ErrorKind, Process};
use prochandle_test_support::{handles, Reaped};

#[test]
fn the_peer_of_a_socketpair_is_ourselves() {
    let (a, b) = UnixStream::pair().unwrap();
    for end in [&a, &b] {
        let peer = peer_process(end).unwrap();
        assert_eq!(peer.pid(), std::process::id());
        assert_eq!(peer.has_handle(), handles());
        let me = Process::current().unwrap();
        assert_eq!(peer.identity().unwrap(), me.identity().unwrap());
    }
}

/// A `sleep` that connects to `path` before exec (so it is the peer, and
/// keeps the socket open while it sleeps).
fn connected_sleeper(path: &Path) -> Reaped<Process> {
    // Prepared before fork: the child may not allocate.
    // SAFETY: sockaddr_un is plain data; zero is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = path.as_os_str().as_encoded_bytes();
    assert!(bytes.len() < addr.sun_path.len());
    for (dst, src) in addr.sun_path.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    let mut command = Command::new("sleep");
    command.arg("30");
    // SAFETY: socket and connect are async-signal-safe syscalls on data
    // prepared before fork.
    unsafe {
        command.pre_exec(move || {
            let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
            if libc::connect(fd, (&addr as *const libc::sockaddr_un).cast(), len) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Reaped::new(Process::spawn(&mut command).unwrap())
}

fn socket_path(tag: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("ph-{tag}-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn the_peer_is_the_process_that_connected() {
    let path = socket_path("peer");
    let listener = UnixListener::bind(&path).unwrap();
    let child = connected_sleeper(&path);
    let (stream, _) = listener.accept().unwrap();
    std::fs::remove_file(&path).unwrap();

    let peer = peer_process(&stream).unwrap();
    assert_eq!(peer.pid(), child.pid());
    assert_eq!(peer.identity().unwrap(), child.identity().unwrap());
    assert_eq!(peer.info().unwrap().cmdline.unwrap(), ["sleep", "30"]);
}

#[test]
fn a_peer_that_is_gone_is_reported() {
    let path = socket_path("gone");
    let listener = UnixListener::bind(&path).unwrap();
    let child = connected_sleeper(&path);
    let (stream, _) = listener.accept().unwrap();
    std::fs::remove_file(&path).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();

    let err = peer_process(&stream).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Done | ErrorKind::NotFound),
        "{err}"
    );
}
