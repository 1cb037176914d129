//! `relay::Relay`: signals received for a child, the child's exit and a
//! deadline in one wait. The relay blocks its signals in the thread that
//! opens it, so each test opens it on a thread of its own and raises its
//! signals at that thread: a signal sent to the whole test process could
//! reach another test's thread, where it is not blocked.
#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use prochandle::relay::{Event, Relay};
use prochandle::{Process, Signal};
use prochandle_test_support::{sleeper, Reaped};

/// Runs `test` on a thread of its own (its signal mask dies with it).
fn on_own_thread(test: impl FnOnce() + Send + 'static) {
    std::thread::spawn(test).join().unwrap();
}

/// Sends `signal` to the calling thread only.
fn raise(signal: Signal) {
    // SAFETY: raise takes a signal number; the caller's relay blocks it,
    // so it stays pending for the relay (no default action runs).
    assert_eq!(unsafe { libc::raise(signal.as_raw()) }, 0);
}

/// The blocked-signal mask of `pid`, from `/proc/<pid>/status`.
fn blocked_mask(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("SigBlk:")).unwrap();
    u64::from_str_radix(line["SigBlk:".len()..].trim(), 16).unwrap()
}

fn bit(signal: Signal) -> u64 {
    1 << (signal.as_raw() - 1)
}

#[test]
fn a_signal_is_reported_forwarded_and_the_exit_follows() {
    on_own_thread(|| {
        let relay = Relay::open(&[Signal::USR1, Signal::TERM]).unwrap();
        let mut command = sleeper(30);
        relay.restore_in_child(&mut command);
        let child = Reaped::spawn(command);
        raise(Signal::USR1);
        let deadline = Some(Instant::now() + Duration::from_secs(30));
        assert_eq!(
            relay.wait(&child, deadline).unwrap(),
            Event::Signal(Signal::USR1)
        );
        child.signal(Signal::TERM).unwrap();
        assert_eq!(relay.wait(&child, deadline).unwrap(), Event::Exited);
        // Not reaped by the relay: the status is still there.
        assert_eq!(child.wait().unwrap().signal(), Some(Signal::TERM));
    });
}

#[test]
fn a_quiet_wait_times_out_at_its_deadline() {
    on_own_thread(|| {
        let relay = Relay::open(&[Signal::USR2]).unwrap();
        let child = Reaped::spawn(sleeper(30));
        let started = Instant::now();
        let deadline = started + Duration::from_millis(100);
        assert_eq!(relay.wait(&child, Some(deadline)).unwrap(), Event::TimedOut);
        assert!(Instant::now() >= deadline);
        assert!(!child.has_exited().unwrap());
    });
}

#[test]
fn the_child_gets_the_mask_the_thread_had_before() {
    on_own_thread(|| {
        let relay = Relay::open(&[Signal::USR1, Signal::HUP]).unwrap();
        let mut restored = sleeper(30);
        relay.restore_in_child(&mut restored);
        let restored = Reaped::spawn(restored);
        let plain = Reaped::spawn(sleeper(30));
        // The child without the hook inherits the blocked set: the check
        // can tell the two apart.
        let relayed = bit(Signal::USR1) | bit(Signal::HUP);
        assert_eq!(blocked_mask(plain.pid()) & relayed, relayed);
        assert_eq!(blocked_mask(restored.pid()) & relayed, 0);
        assert_eq!(blocked_mask(restored.pid()) & bit(Signal::CHLD), 0);
    });
}

#[test]
fn a_non_child_exit_ends_the_wait() {
    on_own_thread(|| {
        // Started before the relay: its shell must not inherit the
        // blocked set (it waits for its children through SIGCHLD).
        let group = prochandle_test_support::Grandchildren::sleeping(1);
        let relay = Relay::open(&[Signal::USR2]).unwrap();
        let member: &Process = &group.members()[0];
        member.kill().unwrap();
        let deadline = Some(Instant::now() + Duration::from_secs(30));
        assert_eq!(relay.wait(member, deadline).unwrap(), Event::Exited);
    });
}

#[test]
fn a_scope_command_child_gets_the_mask_the_thread_had_before() {
    on_own_thread(|| {
        // Blocked before the relay: stays blocked in the child, while the
        // relayed signals (and SIGCHLD) are unblocked again.
        // SAFETY: an initialised set; the old mask is not wanted.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR2);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
        let relay = Relay::open(&[Signal::USR1, Signal::HUP]).unwrap();
        let scope = prochandle::Scope::new().unwrap();
        let mut command = prochandle::ScopeCommand::new("sleep");
        command.arg("30");
        relay.restore_in_scope_command(&mut command);
        let child = scope.spawn_command(&command).unwrap();
        let mask = blocked_mask(child.pid());
        child.kill().unwrap();
        child.wait().unwrap();
        let relayed = bit(Signal::USR1) | bit(Signal::HUP) | bit(Signal::CHLD);
        assert_eq!(mask & relayed, 0, "mask {mask:#x}");
        assert_eq!(
            mask & bit(Signal::USR2),
            bit(Signal::USR2),
            "mask {mask:#x}"
        );
    });
}
