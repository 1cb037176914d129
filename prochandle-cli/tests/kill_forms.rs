//! `prochandle kill` takes what people type to kill(1): each form is run
//! against procps `kill` (or, for the forms only the shells know, bash's
//! builtin `kill`) on the same command line, and must give the same exit
//! status and the same effect on the target.
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output};
use std::time::Duration;

use common::*;
use prochandle::Signal;
use prochandle_test_support::{require, which, within, Reaped, NO_SUCH_PID};

/// Which tool the same command line is checked against.
#[derive(Clone, Copy, Debug)]
enum Peer {
    /// procps-ng `kill`.
    Procps,
    /// bash's builtin `kill` (`-n`, real-time names).
    Bash,
}

fn peer_available(peer: Peer) -> bool {
    let tool = match peer {
        Peer::Procps => "kill",
        Peer::Bash => "bash",
    };
    let found = which(tool).is_some_and(|path| {
        matches!(peer, Peer::Bash)
            || Command::new(path)
                .arg("-V")
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("procps"))
    });
    require(found, &format!("the peer {peer:?} is installed"))
}

fn run_peer(peer: Peer, args: &[&str]) -> Output {
    match peer {
        Peer::Procps => Command::new(which("kill").unwrap()).args(args).output(),
        Peer::Bash => Command::new("bash")
            .args(["-c", "kill \"$@\"", "kill"])
            .args(args)
            .output(),
    }
    .expect("run the peer")
}

/// `args` then the target's PID, run by both tools on fresh targets; the
/// signal that ended each target (None: still running).
fn both(peer: Peer, args: &[&str]) -> [(i32, Option<i32>); 2] {
    let mut results = [(0, None); 2];
    for (n, result) in results.iter_mut().enumerate() {
        let mut target = Reaped::sleeping_child(30);
        let pid = target.pid_arg();
        let mut line: Vec<&str> = args.to_vec();
        line.push(&pid);
        let out = if n == 0 {
            run_peer(peer, &line)
        } else {
            prochandle().arg("kill").args(&line).output().unwrap()
        };
        let code = out.status.code().unwrap();
        // Delivery is asynchronous: give the target a moment to die.
        let ended = within(Duration::from_millis(700), || {
            target.try_wait().ok().flatten()
        });
        let effect = ended.and_then(|status| status.signal());
        *result = (code, effect);
    }
    results
}

#[test]
fn signal_forms_match_procps_kill() {
    if !peer_available(Peer::Procps) {
        return;
    }
    for args in [
        &[][..],
        &["-9"],
        &["-KILL"],
        &["-SIGKILL"],
        &["-kill"],
        &["-s", "KILL"],
        &["-s", "9"],
        &["--signal", "USR1"],
        &["-HUP"],
        &["-0"],
        &["-s", "0"],
        &["--"],
    ] {
        let [peer, ours] = both(Peer::Procps, args);
        assert_eq!(
            ours, peer,
            "kill {args:?}: (exit, signal) differ from procps"
        );
    }
}

#[test]
fn number_and_realtime_forms_match_bash() {
    if !peer_available(Peer::Bash) {
        return;
    }
    for args in [
        &["-n", "9"][..],
        &["-n", "10"],
        &["-s", "RTMIN+1"],
        &["-s", "RTMAX-2"],
        &["-RTMIN"],
        &["-SIGRTMAX"],
    ] {
        let [peer, ours] = both(Peer::Bash, args);
        assert_eq!(ours, peer, "kill {args:?}: (exit, signal) differ from bash");
    }
    let rtmin = Signal::rtmin().unwrap().as_raw();
    let [_, ours] = both(Peer::Bash, &["-RTMIN+1"]);
    assert_eq!(ours, (0, Some(rtmin + 1)));
}

#[test]
fn a_missing_process_fails_as_in_procps() {
    if !peer_available(Peer::Procps) {
        return;
    }
    let pid = NO_SUCH_PID.to_string();
    for args in [&["-9", &pid][..], &["-s", "TERM", &pid]] {
        let peer = run_peer(Peer::Procps, args);
        let ours = prochandle().arg("kill").args(args).output().unwrap();
        assert_eq!(code(&ours), peer.status.code().unwrap(), "{args:?}");
        one_error_line(&ours, &["no such process"]);
    }
}

#[test]
fn list_and_table_print_the_system_names() {
    if !peer_available(Peer::Procps) {
        return;
    }
    let ours = run(&["kill", "-l"]);
    assert_eq!(code(&ours), 0);
    let names = stdout(&ours);
    for name in [
        "HUP", "KILL", "TERM", "STKFLT", "PWR", "SYS", "RTMIN", "RTMIN+1", "RTMAX",
    ] {
        assert!(
            names.split_whitespace().any(|n| n == name),
            "{name} in {names}"
        );
    }
    for (ask, answer) in [("9", "KILL"), ("KILL", "9"), ("15", "TERM"), ("TERM", "15")] {
        let peer = run_peer(Peer::Procps, &["-l", ask]);
        let ours = run(&["kill", "-l", ask]);
        assert_eq!(code(&ours), peer.status.code().unwrap());
        assert_eq!(stdout(&ours).trim(), answer);
        assert_eq!(stdout(&peer).trim(), answer);
    }
    // The shells' exit-status form.
    assert_eq!(stdout(&run(&["kill", "-l", "137"])).trim(), "KILL");
    let table = stdout(&run(&["kill", "-L"]));
    let peer = stdout(&run_peer(Peer::Procps, &["-L"]));
    // procps spells 29 POLL; everything else in its table is the same.
    let first_rows = |text: &str| -> Vec<String> {
        text.lines()
            .take(4)
            .map(|l| l.trim_end().to_owned())
            .collect()
    };
    assert_eq!(first_rows(&table), first_rows(&peer));
    assert!(table.contains("35 RTMIN+1"), "{table}");
}

#[test]
fn bad_signals_are_usage_errors() {
    for args in [
        &["kill", "-s", "BOGUS", "1"][..],
        &["kill", "-n", "KILL", "1"],
        &["kill", "-s", "RTMIN+99", "1"],
        &["kill", "-s", "65", "1"],
        &["kill", "-s", "9", "-n", "9", "1"],
    ] {
        let out = run(args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        one_error_line(&out, &[]);
    }
    let out = run(&["kill", "-l", "BOGUS"]);
    assert_eq!(code(&out), 1);
    one_error_line(&out, &["unknown signal"]);
}

#[test]
fn json_reports_each_signal() {
    let mut target = Reaped::sleeping_child(30);
    let out = run(&["kill", "--json", "-USR1", &target.pid_arg()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let line: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(line["status"], "signalled");
    assert_eq!(line["pid"], target.pid());
    assert_eq!(line["signal"], libc::SIGUSR1);
    assert_eq!(line["signal_name"], "SIGUSR1");
    assert_eq!(target.wait_status().signal(), Some(libc::SIGUSR1));
    let missing = run(&["kill", "--json", &NO_SUCH_PID.to_string()]);
    assert_eq!(code(&missing), 1);
    let line: serde_json::Value = serde_json::from_str(stdout(&missing).trim()).unwrap();
    assert_eq!(line["status"], "error");
}

#[test]
fn help_shows_the_kill_forms() {
    let help = stdout(&run(&["kill", "--help"]));
    for form in [
        "kill -9 PID",
        "kill -KILL PID",
        "kill -n 9",
        "kill -l",
        "kill -L",
        "RTMIN+1",
        "--match",
    ] {
        assert!(help.contains(form), "{form} not in kill --help");
    }
    let top = stdout(&run(&["--help"]));
    assert!(top.contains("list"), "{top}");
}
