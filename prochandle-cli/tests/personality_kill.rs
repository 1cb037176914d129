//! The `kill` personality against procps-ng kill(1)'s interface (`-SIG`
//! anywhere, `-s`, `-l`, `-L`, `-q VALUE`) and util-linux's additions
//! (`-p`, `-a`, NAME and `PID:INODE` targets, `-l 0xMASK`, `-d PID`),
//! each process it signals one this test started.
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::process::{Command, Stdio};

use common::*;
use prochandle_test_support::{NamedSleep, Reaped};

#[test]
fn lists_and_conversions_as_procps_prints_them() {
    let first = "HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT";
    let table = " 1 HUP      2 INT      3 QUIT     4 ILL      5 TRAP     6 ABRT     7 BUS";
    for (args, line) in [
        (&["-l"][..], first),
        (&["-L"], table),
        (&["-lHUP"], "1"),
        (&["-l", "HUP"], "1"),
        (&["-lSIGHUP"], "1"),
        (&["-l", "SIGHUP"], "1"),
        (&["-l1"], "HUP"),
        (&["-l", "1"], "HUP"),
        (&["--list=9"], "KILL"),
        (&["-l", "29"], "POLL"),
    ] {
        for (who, out) in both("kill", args) {
            assert_eq!(stdout(&out).lines().next(), Some(line), "{who}: {args:?}");
            assert_eq!(code(&out), 0, "{who}: {args:?}");
        }
    }
    for (who, out) in both("kill", &["-L"]) {
        assert_eq!(stdout(&out).lines().count(), 5, "{who}");
    }
    // util-linux: the names in a mask, and `kill -l $?`.
    let out = persona("kill", &["-l", "0x0000000000000005"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "HUP\nQUIT\n");
    let out = persona("kill", &["-l", "137"]).output().unwrap();
    assert_eq!(stdout(&out), "KILL\n");
}

#[test]
fn usage_and_refusals() {
    for (who, out) in both("kill", &[]) {
        assert_eq!(code(&out), 1, "{who}");
        assert!(stderr(&out).contains("kill [options] <pid>"), "{who}");
    }
    // An option it does not know is refused: never a target.
    let mut child = Reaped::sleeping_child(30);
    for args in [
        &["-z", &child.pid_arg()][..],
        &["-q", "x", &child.pid_arg()],
        &["-q"],
    ] {
        for (who, out) in both("kill", args) {
            assert_eq!(code(&out), 1, "{who}: {args:?}");
        }
    }
    assert!(child.alive(), "a refused command line signalled the child");
    for (who, out) in both("kill", &["-0", "2147483647"]) {
        assert_eq!(code(&out), 1, "{who}");
        assert!(
            stderr(&out).ends_with("(2147483647): No such process\n"),
            "{who}"
        );
    }
}

/// Signals a fresh `sleep` with `args` (`{}` is its PID) through ours,
/// and the real tool where installed; the signal that ended it each time.
fn ended_by(args: &[&str]) -> Vec<(&'static str, i32)> {
    let mut ends = Vec::new();
    let mut tools = vec![("ours", None)];
    if real("kill", &[]).is_some() {
        tools.push(("real", Some(())));
    }
    for (who, real_tool) in tools {
        let mut child = Reaped::sleeping_child(30);
        let pid = child.pid_arg();
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "{}" { pid.as_str() } else { a })
            .collect();
        let mut command = match real_tool {
            Some(()) => real("kill", &args).unwrap(),
            None => persona("kill", &args),
        };
        assert_eq!(command.status().unwrap().code(), Some(0), "{who}: {args:?}");
        let status = child.wait_status();
        ends.push((who, status.signal().unwrap_or(0)));
    }
    ends
}

#[test]
fn the_signal_in_every_form() {
    for (args, signal) in [
        (&["{}"][..], libc::SIGTERM),
        (&["-9", "{}"], libc::SIGKILL),
        (&["-KILL", "{}"], libc::SIGKILL),
        (&["-SIGUSR1", "{}"], libc::SIGUSR1),
        (&["-s", "SIGUSR2", "{}"], libc::SIGUSR2),
        (&["-sUSR2", "{}"], libc::SIGUSR2),
        (&["--signal=HUP", "{}"], libc::SIGHUP),
        // `--s` is a prefix of `--signal` alone in procps.
        (&["--s", "HUP", "{}"], libc::SIGHUP),
        (&["-s", "RTMIN+1", "{}"], libc::SIGRTMIN() + 1),
        (&["{}", "-INT"], libc::SIGINT),
    ] {
        for (who, got) in ended_by(args) {
            assert_eq!(got, signal, "{who}: {args:?}");
        }
    }
}

#[test]
fn queued_values_reach_the_handler_and_never_become_targets() {
    const TEST: &str = "queued_values_reach_the_handler_and_never_become_targets";
    receive_queued();
    for tool in ["ours", "real"] {
        let (mut child, mut lines) = receiver(TEST, "kill-queue-marker");
        let pid = child.pid_arg();
        let args = ["-USR1", "-q", "42", pid.as_str()];
        let mut command = match tool {
            "ours" => persona("kill", &args),
            _ => match real("kill", &args) {
                Some(command) => command,
                None => continue,
            },
        };
        let out = command.output().unwrap();
        assert_eq!(code(&out), 0, "{tool}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{tool}: 42 was read as a target");
        // si_code -1 is SI_QUEUE.
        let line = received(&mut lines);
        assert_eq!(
            line,
            format!("SIG {} code=-1 value=42", libc::SIGUSR1),
            "{tool}"
        );
        child.wait_status();
    }
}

#[test]
fn names_identities_and_print_pids() {
    let named = NamedSleep::new("kil");
    let mut child = named.spawn(30);
    let out = persona("kill", &["-p", &named.name]).output().unwrap();
    assert_eq!(stdout(&out), format!("{}\n", child.pid()));
    let out = persona("kill", &["-p", "-a", &named.name])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), format!("{}\n", child.pid()));
    // pgrep --identity gives what kill takes back without a PID's race.
    let out = persona("pgrep", &["--identity", "-x", &named.name])
        .output()
        .unwrap();
    let identity = stdout(&out).trim().to_owned();
    // PID:INODE, or PID@TICKS:BOOT-ID without pidfs.
    let pid = child.pid().to_string();
    assert!(
        identity.starts_with(&format!("{pid}:")) || identity.starts_with(&format!("{pid}@")),
        "{identity}"
    );
    let out = persona("kill", &["-USR1", &identity]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(child.wait_status().signal(), Some(libc::SIGUSR1));
    // Once it is gone, neither its identity nor its name reaches anything.
    let out = persona("kill", &[&identity]).output().unwrap();
    assert_eq!(code(&out), 1);
    let out = persona("kill", &[&named.name]).output().unwrap();
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("cannot find process"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_process_group_and_a_zombie() {
    let mut leader = Reaped::child(
        Command::new("sleep")
            .arg("30")
            .process_group(0)
            .stdin(Stdio::null()),
    );
    leader.settle();
    let group = format!("-{}", leader.pid());
    let out = persona("kill", &["-TERM", "--", &group]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(leader.wait_status().signal(), Some(libc::SIGTERM));
    // An exited, unreaped child: kill(2) accepts a signal for it, and so
    // do the tools.
    let zombie = Reaped::child(Command::new("true").stdin(Stdio::null()));
    prochandle_test_support::eventually("the child to exit", || {
        (prochandle_test_support::proc_state(zombie.pid()) == Some('Z')).then_some(())
    });
    for (who, out) in both("kill", &["-0", &zombie.pid_arg()]) {
        assert_eq!(code(&out), 0, "{who}: {}", stderr(&out));
    }
}

#[test]
fn show_process_state() {
    let child = Reaped::sh("trap '' USR2; trap 'exit 3' USR1; while :; do sleep 0.05; done");
    prochandle_test_support::eventually("the traps to be set", || {
        let out = persona("kill", &["-d", &child.pid_arg()]).output().unwrap();
        let text = stdout(&out);
        (text.contains("Ignored:") && text.contains("USR2") && text.contains("Caught:"))
            .then_some(())
    });
}

/// procps takes `-NUM` as a signal only from 0 to 127 - SIGRTMIN (93);
/// past that, getopt sees the word and procps signals the negative of its
/// first digit (`kill -129 PID` is `kill(-1, SIGTERM)`: every process).
/// Ours refuses the word and sends nothing. The real tool is not run with
/// these: it would signal processes this test did not start.
#[test]
fn a_number_past_procps_signal_bound_is_refused_never_a_target() {
    let mut child = Reaped::sleeping_child(30);
    let pid = child.pid_arg();
    for (args, reached) in [
        (&["-129", pid.as_str()][..], "every process (-1)"),
        (&["-9", "-123", pid.as_str()], "every process (-1)"),
        (&[pid.as_str(), "-94"], "process group 9"),
        (&["-0x10", pid.as_str()], "our own process group"),
        (&["-s", "KILL", "-1x", pid.as_str()], "every process (-1)"),
    ] {
        let out = persona("kill", args).output().unwrap();
        assert_eq!(code(&out), 1, "{args:?}");
        let said = stderr(&out);
        assert!(said.starts_with("kill: -"), "{args:?}: {said}");
        assert!(said.contains(reached), "{args:?}: {said}");
        assert!(said.contains("nothing sent"), "{args:?}: {said}");
    }
    assert!(child.alive(), "a refused word signalled the child");
    // 93 is still a signal word: sent, and refused by the kernel.
    for (who, out) in both("kill", &["-93", &pid]) {
        assert_eq!(code(&out), 1, "{who}");
        assert_eq!(
            stderr(&out),
            format!("kill: ({pid}): Invalid argument\n"),
            "{who}"
        );
    }
    assert!(child.alive(), "signal 93 reached the child");
}

/// procps' kill silences getopt and says `invalid argument X` itself (a
/// NUL byte for an unknown long option), then the usage, status 1.
#[test]
fn option_errors_in_procps_words() {
    let mut child = Reaped::sleeping_child(30);
    let pid = child.pid_arg();
    for (args, letter) in [
        (&["-Z", pid.as_str()][..], "Z"),
        (&["--bogus", pid.as_str()], "\0"),
        (&["-s"], "s"),
        (&["--table=1"], "L"),
    ] {
        for (who, out) in both("kill", args) {
            assert_eq!(code(&out), 1, "{who}: {args:?}");
            let said = stderr(&out);
            assert!(
                said.starts_with(&format!("kill: invalid argument {letter}\n\nUsage:")),
                "{who}: {args:?}: {said:?}"
            );
        }
    }
    assert!(child.alive(), "a refused command line signalled the child");
}
