//! Watching more processes than RLIMIT_NOFILE allows: a clear error that
//! names the limit, and `raise_fd_limit` as the way out. Its own test
//! binary, as it changes a process-wide limit.
#![cfg(unix)]

use std::time::Duration;

use prochandle::{capabilities, fd_limit, raise_fd_limit, PinMode, Process, Watcher};
use prochandle_test_support::{open_fds, Grandchildren};

fn set_soft_limit(soft: u64) {
    let (_, hard) = fd_limit().unwrap();
    let limit = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: setrlimit reads one valid rlimit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
}

#[test]
fn running_out_of_descriptors_names_the_limit() {
    const COUNT: usize = 40;
    let family = Grandchildren::sleeping(COUNT);
    let watcher = Watcher::new().unwrap();
    let (_, hard) = fd_limit().unwrap();
    let tight = open_fds() as u64 + 10;
    assert!(tight < hard, "the hard limit is too low for this test");
    set_soft_limit(tight);

    let mut tokens = Vec::new();
    let mut failure = None;
    for &pid in &family.pids {
        match Process::open(pid) {
            Ok(p) => tokens.push(watcher.add(p).unwrap()),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if capabilities().pin_mode() != PinMode::GuardedPid {
        // A pidfd or a /proc/<pid> directory per process.
        let err = failure.expect("a descriptor per process: the limit must be hit");
        assert_eq!(err.raw_os_error(), Some(libc::EMFILE));
        let text = err.to_string();
        assert!(
            text.contains(&format!("RLIMIT_NOFILE is {tight}")),
            "the error names the limit: {text}"
        );
        assert!(text.contains("raise_fd_limit"), "{text}");
        assert!(tokens.len() < COUNT);
        // The way out.
        assert_eq!(raise_fd_limit().unwrap(), hard);
        assert_eq!(fd_limit().unwrap().0, hard);
        for &pid in &family.pids[tokens.len()..] {
            tokens.push(watcher.add(Process::open(pid).unwrap()).unwrap());
        }
    } else {
        // Guarded PIDs hold no descriptor: no limit to hit.
        assert!(failure.is_none(), "{failure:?}");
        raise_fd_limit().unwrap();
    }
    assert_eq!(tokens.len(), COUNT);

    // And the watcher still works, for every one of them.
    for &pid in &family.pids {
        Process::open(pid).unwrap().kill().unwrap();
    }
    let mut seen = 0;
    while watcher
        .next(Some(Duration::from_secs(30)))
        .unwrap()
        .is_some()
    {
        seen += 1;
    }
    assert_eq!(seen, COUNT);
}
