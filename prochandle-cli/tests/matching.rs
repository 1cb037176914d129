//! `--match`: pkill, pgrep and pidwait done through handles. Each option
//! is run against procps on the same command line, on processes of a name
//! only this test uses, with the same exit status and the same effect
//! asserted (signalled, still running, gone).
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use prochandle_test_support::{require, which, within, NamedSleep, Reaped};

fn procps(tool: &str) -> bool {
    require(
        which(tool).is_some(),
        &format!("procps {tool} is installed"),
    )
}

/// Substitutes the name into a command line.
fn line(args: &[&str], name: &str) -> Vec<String> {
    args.iter().map(|a| a.replace("NAME", name)).collect()
}

/// How a started process ended within a moment: the signal, or None if
/// it still runs.
fn effect(target: &mut Reaped<std::process::Child>) -> Option<i32> {
    within(Duration::from_millis(700), || {
        target.try_wait().ok().flatten()
    })
    .map(|status| status.signal().unwrap_or(-1))
}

/// Runs `pkill PEER_ARGS` and `prochandle kill --match OUR_ARGS`, each on
/// its own `count` processes of a fresh name; (exit status, effect on each).
fn pkill_and_ours(
    peer_args: &[&str],
    our_args: &[&str],
    count: usize,
) -> [(i32, Vec<Option<i32>>); 2] {
    let run_one = |ours: bool| {
        let program = NamedSleep::new("mk");
        let mut targets: Vec<_> = (0..count)
            .map(|_| {
                let t = program.spawn(60);
                // -n and -o tell them apart by start time (clock ticks).
                std::thread::sleep(Duration::from_millis(30));
                t
            })
            .collect();
        let out = if ours {
            prochandle()
                .args(["kill", "--match"])
                .args(line(our_args, &program.name))
                .output()
        } else {
            Command::new("pkill")
                .args(line(peer_args, &program.name))
                .output()
        }
        .unwrap();
        let effects = targets.iter_mut().map(effect).collect();
        (out.status.code().unwrap(), effects)
    };
    [run_one(false), run_one(true)]
}

#[test]
fn pkill_options_have_the_same_exit_and_effect() {
    if !procps("pkill") {
        return;
    }
    let uid = unsafe_getuid().to_string();
    let me = std::process::id().to_string();
    let cases: Vec<(Vec<&str>, Vec<&str>, usize)> = vec![
        (vec!["-x", "NAME"], vec!["-x", "NAME"], 1),
        (vec!["NAME"], vec!["NAME"], 2),
        (vec!["-f", "NAME 60"], vec!["-f", "NAME 60"], 1),
        (vec!["-i", "-x", "NAME"], vec!["-i", "-x", "NAME"], 1),
        (vec!["-9", "-x", "NAME"], vec!["-9", "-x", "NAME"], 1),
        (
            vec!["--signal", "USR1", "NAME"],
            vec!["--signal", "USR1", "NAME"],
            1,
        ),
        (vec!["-u", &uid, "NAME"], vec!["-u", &uid, "NAME"], 1),
        (vec!["-U", &uid, "NAME"], vec!["-U", &uid, "NAME"], 1),
        (vec!["-P", &me, "NAME"], vec!["-P", &me, "NAME"], 1),
        (vec!["-P", "1", "NAME"], vec!["-P", "1", "NAME"], 1),
        (vec!["-n", "NAME"], vec!["--newest", "NAME"], 2),
        (vec!["-o", "NAME"], vec!["-o", "NAME"], 2),
        (vec!["-x", "NAMEx"], vec!["-x", "NAMEx"], 1),
        (vec!["-x", "name"], vec!["-x", "name"], 1),
    ];
    for (peer, ours, count) in cases {
        let [p, o] = pkill_and_ours(&peer, &ours, count);
        assert_eq!(o, p, "pkill {peer:?} vs kill --match {ours:?}");
    }
}

#[test]
fn pgrep_and_list_find_the_same_processes() {
    if !procps("pgrep") {
        return;
    }
    let program = NamedSleep::new("lst");
    let a = program.spawn(60);
    let b = program.spawn(60);
    let name = program.name.as_str();
    for args in [
        vec!["-x", name],
        vec![name],
        vec!["-f", name],
        vec!["-x", "nope"],
    ] {
        let peer = Command::new("pgrep").args(&args).output().unwrap();
        let ours = prochandle().arg("list").args(&args).output().unwrap();
        assert_eq!(code(&ours), peer.status.code().unwrap(), "{args:?}");
        let pids = |text: String| -> Vec<String> {
            let mut pids: Vec<String> = text
                .lines()
                .map(|l| l.split([' ', ':', '@']).next().unwrap().to_owned())
                .collect();
            pids.sort();
            pids
        };
        assert_eq!(pids(stdout(&ours)), pids(stdout(&peer)), "{args:?}");
    }
    let count = prochandle()
        .args(["list", "-c", "-x", name])
        .output()
        .unwrap();
    assert_eq!(stdout(&count).trim(), "2");
    let json = prochandle()
        .args(["list", "--json", "-n", "-x", name])
        .output()
        .unwrap();
    let object: serde_json::Value = serde_json::from_str(stdout(&json).trim()).unwrap();
    assert_eq!(object["pid"], b.pid());
    assert_eq!(object["name"], name);
    // The identity printed is a TARGET for the other commands.
    let target = object["target"].as_str().unwrap().to_owned();
    let info = run(&["info", &target]);
    assert_eq!(code(&info), 0, "{}", stderr(&info));
    drop(a);
}

#[test]
fn pidwait_and_wait_match_return_when_the_matches_exit() {
    if !procps("pidwait") {
        return;
    }
    for ours in [false, true] {
        let program = NamedSleep::new("pw");
        let mut target = Reaped::child(&mut program.command(1));
        target.settle();
        let mut waiter = if ours {
            Reaped::child(
                prochandle()
                    .args(["wait", "--match", "-x", &program.name])
                    .stdout(Stdio::null()),
            )
        } else {
            Reaped::child(Command::new("pidwait").args(["-x", &program.name]))
        };
        // We are the parent: reap the target as it exits.
        assert!(target.wait_status().success());
        let status = within(Duration::from_secs(10), || waiter.try_wait().ok().flatten())
            .expect("the waiter returns once the match exits");
        assert_eq!(status.code(), Some(0), "ours: {ours}");
    }
    let peer = Command::new("pidwait")
        .args(["-x", "phnosuchname"])
        .status()
        .unwrap();
    let ours = run(&["wait", "--match", "-x", "phnosuchname"]);
    assert_eq!(code(&ours), peer.code().unwrap());
    assert_eq!(code(&ours), 1);
}

#[test]
fn selection_usage_errors_exit_2_like_procps() {
    for args in [
        &["kill", "--match"][..],
        &["list"],
        &["list", "("],
        &["kill", "--match", "a", "b"],
        &["kill", "-x", "1"],
        &["list", "-u", "no-such-user-here", "x"],
        &["list", "-n", "-o", "x"],
        &["wait", "--match", "--exit-status", "x"],
    ] {
        let out = run(args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        one_error_line(&out, &[]);
    }
    if procps("pgrep") {
        for args in [&[][..], &["("]] {
            assert_eq!(
                Command::new("pgrep")
                    .args(args)
                    .output()
                    .unwrap()
                    .status
                    .code(),
                Some(2)
            );
        }
    }
}

fn unsafe_getuid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// In a new PID namespace (where `ns_last_pid` steers the next PID):
/// `kill --match` pins the one `phrecycle` (started once the background
/// job has exec'd it: a fork not yet exec'd is still `sh`), then pauses
/// (a hook for tests only); meanwhile that process is killed and reaped and a new
/// `phrecycle` takes the same PID. The signal must reach nobody.
const RECYCLE_SCRIPT: &str = r#"
D=$(mktemp -d); cp "$(command -v sleep)" "$D/phrecycle"
named() { t=0; while [ "$(cat /proc/$1/comm)" != phrecycle ] && [ $t -lt 500 ]; do sleep 0.01; t=$((t+1)); done; }
"$D/phrecycle" 100 & old=$!
named "$old"
PROCHANDLE_TEST_PAUSE_AFTER_MATCH="$D/paused" "$P" kill --match -x phrecycle 2>"$D/err" & k=$!
while [ ! -e "$D/paused" ]; do sleep 0.01; done
kill -KILL "$old"; wait "$old"
echo $((old - 1)) > /proc/sys/kernel/ns_last_pid
"$D/phrecycle" 100 & new=$!
named "$new"
echo "name=$(cat /proc/$new/comm)"
rm "$D/paused"
wait "$k"; echo "rc=$?"
echo "old=$old new=$new"
cat "$D/err"
kill -0 "$new" && echo "newcomer alive"
kill -KILL "$new"; wait "$new"; rm -r "$D"
"#;

#[test]
fn a_match_whose_pid_is_recycled_before_the_signal_reaches_nobody() {
    let Some(recycled) = recycled_in_pid_namespace(RECYCLE_SCRIPT) else {
        return;
    };
    let field = |name: &str| recycled.field(name);
    let text = &recycled.text;
    assert_eq!(field("name"), "phrecycle", "{text}");
    assert_eq!(field("rc"), "1", "{text}");
    assert!(text.contains("gone"), "{text}");
    assert!(
        text.contains("newcomer alive"),
        "the newcomer was hit: {text}"
    );
}
