//! Thread handles and scoped signals.
#![cfg(target_os = "linux")]

use std::os::unix::process::CommandExt as _;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use prochandle::linux::ProcessExt;
use prochandle::{ErrorKind, Process, Signal};
use prochandle_test_support::{eventually, handles, Reaped};

fn gettid() -> u32 {
    rustix::thread::gettid().as_raw_nonzero().get() as u32
}

/// Blocks SIGUSR1 in this thread only and waits up to 10 s for it.
fn wait_for_usr1(ready: mpsc::Sender<u32>) -> Option<i32> {
    // SAFETY: sigset operations on a local set; pthread_sigmask and
    // sigtimedwait affect only this thread.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGUSR1);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        ready.send(gettid()).unwrap();
        let timeout = libc::timespec {
            tv_sec: 10,
            tv_nsec: 0,
        };
        let got = libc::sigtimedwait(&set, std::ptr::null_mut(), &timeout);
        (got > 0).then_some(got)
    }
}

#[test]
fn signals_reach_exactly_one_thread() {
    // If the signal went to the process instead, the main thread (which
    // does not block SIGUSR1) would take it and the test would die.
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || wait_for_usr1(tx));
    let tid = rx.recv().unwrap();
    let me = Process::current().unwrap();
    me.signal_thread(tid, Signal::USR1).unwrap();
    assert_eq!(waiter.join().unwrap(), Some(libc::SIGUSR1));
}

#[test]
fn thread_handles_where_the_kernel_has_them() {
    let me = Process::current().unwrap();
    let (tx, rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        tx.send(gettid()).unwrap();
        let _ = stop_rx.recv();
    });
    let tid = rx.recv().unwrap();
    let thread = match me.thread(tid) {
        Ok(thread) => thread,
        Err(e) => {
            stop_tx.send(()).unwrap();
            worker.join().unwrap();
            assert!(!handles(), "pidfds here, yet: {e}");
            assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
            assert!(e.to_string().contains("6.9"), "names the kernel: {e}");
            return;
        }
    };
    assert_eq!((thread.tid(), thread.pid()), (tid, std::process::id()));
    thread.signal(Signal::from_raw(0)).unwrap();
    assert!(!thread.has_exited());
    stop_tx.send(()).unwrap();
    worker.join().unwrap();
    eventually("thread exit", || thread.has_exited().then_some(()));
    let err = thread.signal(Signal::from_raw(0)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Done, "{err}");
}

#[test]
fn a_thread_of_another_process_is_not_found() {
    let child = Reaped::sleeping(30);
    let me = Process::current().unwrap();
    // The child's main thread has the child's PID as its thread ID.
    let err = me
        .signal_thread(child.pid(), Signal::from_raw(0))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    if handles() {
        assert_eq!(
            me.thread(child.pid()).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(child.thread(child.pid()).unwrap().tid(), child.pid());
    }
}

#[test]
fn signals_a_whole_process_group() {
    let leader = Reaped::leading_group(
        Process::spawn(
            Command::new("sh")
                .args(["-c", "sleep 30 & exec sleep 31"])
                .process_group(0),
        )
        .unwrap(),
    );
    let member = eventually("the group member", || leader.children().unwrap().pop());
    leader.signal_process_group(Signal::TERM).unwrap();
    assert_eq!(leader.wait().unwrap().signal(), Some(Signal::TERM));
    assert!(
        member
            .wait_timeout(Duration::from_secs(5))
            .unwrap()
            .is_some(),
        "the other member got it too"
    );
}

#[test]
fn a_process_that_leads_no_group_is_invalid_input() {
    let child = Reaped::sleeping(30);
    let err = child.signal_process_group(Signal::TERM).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(child.try_wait().unwrap().is_none(), "nothing was sent");
    let gone = Process::spawn(Command::new("true").process_group(0)).unwrap();
    gone.wait().unwrap();
    let err = gone.signal_process_group(Signal::TERM).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Done, "{err}");
}
