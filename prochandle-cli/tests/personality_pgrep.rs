//! The `pgrep`, `pkill` and `pidwait` personalities against procps-ng's
//! interface: a PID per line, `-d`, `-l`, `-a`, `-c`, `-n`, `-o`, `-x`,
//! `-f`, the list options, `-F`, `-e`, `-q`, the signal word anywhere.
//! Every pattern names only programs this test started (unique names).
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::process::ExitStatusExt as _;
use std::process::Stdio;

use common::*;
use prochandle_test_support::{NamedSleep, Reaped};

/// Two copies of a uniquely named `sleep`, oldest first.
fn two(named: &NamedSleep) -> (Reaped<std::process::Child>, Reaped<std::process::Child>) {
    let first = named.spawn(30);
    // Start times are in clock ticks: make the second one newer.
    std::thread::sleep(std::time::Duration::from_millis(30));
    (first, named.spawn(31))
}

/// Asserts ours (and the real tool where installed) print `expected`
/// and exit with `status`.
fn prints(tool: &str, args: &[&str], expected: &str, status: i32) {
    for (who, out) in both(tool, args) {
        assert_eq!(
            stdout(&out),
            expected,
            "{who}: {tool} {args:?}: {}",
            stderr(&out)
        );
        assert_eq!(code(&out), status, "{who}: {tool} {args:?}");
    }
}

#[test]
fn pgrep_output_forms() {
    let named = NamedSleep::new("pgr");
    let (a, b) = two(&named);
    let n = named.name.as_str();
    let (pa, pb) = (a.pid(), b.pid());
    let me = std::process::id().to_string();
    prints("pgrep", &[n], &format!("{pa}\n{pb}\n"), 0);
    prints("pgrep", &["-c", n], "2\n", 0);
    prints("pgrep", &["-d", ":", n], &format!("{pa}:{pb}\n"), 0);
    prints("pgrep", &["-l", n], &format!("{pa} {n}\n{pb} {n}\n"), 0);
    let full = format!("{} 31$", named.path().display());
    prints(
        "pgrep",
        &["-af", &full],
        &format!("{pb} {} 31\n", named.path().display()),
        0,
    );
    prints("pgrep", &["-n", n], &format!("{pb}\n"), 0);
    prints("pgrep", &["-o", n], &format!("{pa}\n"), 0);
    prints("pgrep", &["-P", &me, n], &format!("{pa}\n{pb}\n"), 0);
    prints("pgrep", &["-x", n], &format!("{pa}\n{pb}\n"), 0);
    prints("pgrep", &["-x", &n[..n.len() - 1]], "", 1);
    prints("pgrep", &[&n[..n.len() - 1]], &format!("{pa}\n{pb}\n"), 0);
    prints(
        "pgrep",
        &["-i", &n.to_uppercase()],
        &format!("{pa}\n{pb}\n"),
        0,
    );
    // -q, --quiet came with procps 4.0.6 (not in the 4.0.2 reference).
    let out = persona("pgrep", &["-q", n]).output().unwrap();
    assert_eq!((code(&out), stdout(&out)), (0, String::new()));
    let out = persona("pgrep", &["--quiet", &format!("XX{n}")])
        .output()
        .unwrap();
    assert_eq!((code(&out), stdout(&out)), (1, String::new()));
    prints("pgrep", &["-r", "S", n], &format!("{pa}\n{pb}\n"), 0);
    prints("pgrep", &["-w", "-x", n], &format!("{pa}\n{pb}\n"), 0);
    // -v inverts the whole selection: everything but these two.
    for (who, out) in both("pgrep", &["-v", "-x", n]) {
        let pids: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
        assert!(
            !pids.contains(&pa.to_string()) && !pids.contains(&pb.to_string()),
            "{who}"
        );
        assert!(pids.contains(&"1".to_owned()), "{who}");
    }
}

#[test]
fn pgrep_list_options() {
    let named = NamedSleep::new("pgl");
    let (a, b) = two(&named);
    let n = named.name.as_str();
    let both_pids = format!("{}\n{}\n", a.pid(), b.pid());
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let id = |key: &str| {
        let line = status.lines().find_map(|l| l.strip_prefix(key)).unwrap();
        line.split_whitespace().next().unwrap().to_owned()
    };
    let (uid, gid) = (id("Uid:"), id("Gid:"));
    let other = (uid.parse::<u32>().unwrap() + 1).to_string();
    let other_gid = (gid.parse::<u32>().unwrap() + 1).to_string();
    prints("pgrep", &["-u", &uid, n], &both_pids, 0);
    prints("pgrep", &["-U", &uid, n], &both_pids, 0);
    prints("pgrep", &["-G", &gid, n], &both_pids, 0);
    prints("pgrep", &["-u", &other, n], "", 1);
    prints("pgrep", &["-U", &other, n], "", 1);
    prints("pgrep", &["-G", &other_gid, n], "", 1);
    prints("pgrep", &["-s", "0", n], &both_pids, 0);
    prints("pgrep", &["-g", "0", n], &both_pids, 0);
    prints("pgrep", &["-t", "glass", n], "", 1);
    prints("pgrep", &["-P", "1", n], "", 1);
}

#[test]
fn pgrep_refusals_and_warnings() {
    for (who, out) in both("pgrep", &[]) {
        assert_eq!(code(&out), 2, "{who}");
        assert!(
            stderr(&out).starts_with("pgrep: no matching criteria specified\n"),
            "{who}"
        );
    }
    for (who, out) in both("pgrep", &["phlongnamexxxxxxyz"]) {
        assert_eq!(code(&out), 1, "{who}");
        assert!(stderr(&out).contains("longer than 15 characters"), "{who}");
    }
    for (who, out) in both("pgrep", &["a("]) {
        assert_eq!(code(&out), 2, "{who}");
        assert!(stderr(&out).starts_with("pgrep: regex error"), "{who}");
    }
    for (who, out) in both("pgrep", &["-z", "x"]) {
        assert_eq!(code(&out), 2, "{who}");
        assert!(
            stderr(&out).starts_with("pgrep: invalid option -- 'z'"),
            "{who}"
        );
    }
    // A long alternation is an ordinary pattern, not refused for size.
    let names: Vec<String> = (0..3000).map(|i| format!("phnone{i}x")).collect();
    let out = persona("pgrep", &[&names.join("|")]).output().unwrap();
    assert_eq!(code(&out), 1, "{}", stderr(&out));
}

#[test]
fn pidfiles_hold_pids_or_identities() {
    let named = NamedSleep::new("pfl");
    let mut child = named.spawn(30);
    let file = prochandle_test_support::temp_path("pidfile");
    let _removed = Removed(file.clone());
    std::fs::write(&file, format!("{}\n", child.pid())).unwrap();
    let path = file.to_str().unwrap();
    prints("pgrep", &["-F", path], &format!("{}\n", child.pid()), 0);
    let out = persona("pgrep", &["--identity", "-F", path])
        .output()
        .unwrap();
    let identity = stdout(&out).trim().to_owned();
    // An identity: ours only (procps reads a PID).
    std::fs::write(&file, format!("{identity}\n")).unwrap();
    let out = persona("pgrep", &["-F", path]).output().unwrap();
    assert_eq!(stdout(&out), format!("{}\n", child.pid()));
    // Not locked by anyone.
    let out = persona("pgrep", &["-L", "-F", path]).output().unwrap();
    assert_eq!(code(&out), 1);
    child.kill().unwrap();
    child.wait_status();
    // The identity of a process that is gone names nothing.
    let out = persona("pgrep", &["-F", path]).output().unwrap();
    assert_eq!((code(&out), stdout(&out)), (1, String::new()));
    std::fs::write(&file, "junk\n").unwrap();
    for (who, out) in both("pgrep", &["-F", path]) {
        assert_eq!(code(&out), 1, "{who}");
        assert!(
            stderr(&out).starts_with("pgrep: pidfile not valid"),
            "{who}"
        );
    }
}

/// Removes a file when the test ends, also when it fails.
struct Removed(std::path::PathBuf);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn pkill_forms() {
    for tool in ["ours", "real"] {
        if tool == "real" && real("pkill", &[]).is_none() {
            continue;
        }
        let run_tool = |args: &[&str]| match tool {
            "ours" => persona("pkill", args).output().unwrap(),
            _ => real("pkill", args).unwrap().output().unwrap(),
        };
        let named = NamedSleep::new("pki");
        let (mut a, mut b) = two(&named);
        let n = named.name.as_str();
        let echoed = format!(
            "{n} killed (pid {})\n{n} killed (pid {})\n",
            a.pid(),
            b.pid()
        );
        for args in [&["-0", "-e", n][..], &["-e", n, "-0"]] {
            let out = run_tool(args);
            assert_eq!(
                (code(&out), stdout(&out)),
                (0, echoed.clone()),
                "{tool}: {args:?}"
            );
        }
        let out = run_tool(&["-0garbage", n]);
        assert_eq!(code(&out), 2, "{tool}");
        assert!(stderr(&out).contains("invalid option -- '0'"), "{tool}");
        let out = run_tool(&["-c", "-USR2", "-x", n]);
        assert_eq!((code(&out), stdout(&out)), (0, "2\n".to_owned()), "{tool}");
        assert_eq!(a.wait_status().signal(), Some(libc::SIGUSR2), "{tool}");
        assert_eq!(b.wait_status().signal(), Some(libc::SIGUSR2), "{tool}");
        let out = run_tool(&["-x", n]);
        assert_eq!(code(&out), 1, "{tool}");
        let out = run_tool(&[]);
        assert_eq!(code(&out), 2, "{tool}");
    }
}

#[test]
fn pkill_queues_a_value() {
    receive_queued();
    let marker = format!("phq{}marker", std::process::id());
    let (mut child, mut lines) = receiver("pkill_queues_a_value", &marker);
    let out = persona("pkill", &["-USR1", "-e", "-q", "42", "-f", &marker])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        received(&mut lines),
        format!("SIG {} code=-1 value=42", libc::SIGUSR1)
    );
    child.wait_status();
}

#[test]
fn a_zombie_is_listed_and_signalled() {
    let named = NamedSleep::new("zmb");
    let zombie = Reaped::child(named.command(0).stdin(Stdio::null()));
    prochandle_test_support::eventually("the child to exit", || {
        (prochandle_test_support::proc_state(zombie.pid()) == Some('Z')).then_some(())
    });
    prints(
        "pgrep",
        &["-x", &named.name],
        &format!("{}\n", zombie.pid()),
        0,
    );
    for (who, out) in both("pkill", &["-0", "-x", &named.name]) {
        assert_eq!(code(&out), 0, "{who}: {}", stderr(&out));
    }
}

#[test]
fn pidwait_waits_for_each_match() {
    let named = NamedSleep::new("pwt");
    let child = Reaped::child(&mut named.command(1));
    child.settle();
    let started = std::time::Instant::now();
    let out = persona("pidwait", &["-e", "-x", &named.name])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("waiting for {} (pid {})\n", named.name, child.pid())
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(500));
    // Reaped: nothing of that name is left.
    drop(child);
    for (who, out) in both("pidwait", &["-x", &named.name]) {
        assert_eq!(code(&out), 1, "{who}");
    }
    for (who, out) in both("pidwait", &[]) {
        assert_eq!(code(&out), 2, "{who}");
        assert!(
            stderr(&out).starts_with("pidwait: no matching criteria specified"),
            "{who}"
        );
    }
}

#[test]
fn answers_to_prochandle_pgrep() {
    let named = NamedSleep::new("dsp");
    let child = named.spawn(30);
    let out = run(&["pgrep", "-x", &named.name]);
    assert_eq!(stdout(&out), format!("{}\n", child.pid()));
}

/// This process's cgroup v2 path (`/user.slice/...`).
fn own_cgroup() -> String {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let path = text.lines().find_map(|l| l.strip_prefix("0::"));
    path.expect("a cgroup v2 line").to_owned()
}

#[test]
fn cgroup_selects_by_the_whole_v2_path() {
    let named = NamedSleep::new("cgr");
    let (a, b) = two(&named);
    let n = named.name.as_str();
    let both_pids = format!("{}\n{}\n", a.pid(), b.pid());
    let mine = own_cgroup();
    prints("pgrep", &["--cgroup", &mine, n], &both_pids, 0);
    prints(
        "pgrep",
        &["--cgroup", &format!("/none,{mine}"), n],
        &both_pids,
        0,
    );
    prints("pgrep", &["--cgroup", "/no/such/group", n], "", 1);
    // The path is compared whole: a parent is not a match.
    if mine != "/" {
        prints("pgrep", &["--cgroup", "/", n], "", 1);
    }
    prints(
        "pidwait",
        &["--cgroup", "/no/such/group", "-c", n],
        "0\n",
        1,
    );
    prints("pkill", &["-0", "--cgroup", &mine, "-c", n], "2\n", 0);
}

#[test]
fn ns_selects_by_namespaces_as_procps_counts_them() {
    let named = NamedSleep::new("nsp");
    let (a, b) = two(&named);
    let n = named.name.as_str();
    let both_pids = format!("{}\n{}\n", a.pid(), b.pid());
    let me = std::process::id().to_string();
    prints("pgrep", &["--ns", &me, n], &both_pids, 0);
    prints(
        "pgrep",
        &["--ns", &me, "--nslist", "net,pid", n],
        &both_pids,
        0,
    );
    prints("pkill", &["-0", "--ns", &me, "-c", n], "2\n", 0);
    // No PID: procps' --ns falls through to -r, the value being states.
    prints("pgrep", &["--ns", "S", n], &both_pids, 0);
    prints("pgrep", &["--ns", "0", n], "", 1);
    for (who, out) in both("pgrep", &["--ns=-1", n]) {
        assert_eq!(code(&out), 3, "{who}");
        let said = "pgrep: Error reading reference namespace information\n\n";
        assert_eq!(stderr(&out), said, "{who}");
    }
    // An unknown namespace name: status 2, nothing said.
    for (who, out) in both("pgrep", &["--ns", &me, "--nslist", "pid,bogus", n]) {
        assert_eq!((code(&out), stderr(&out)), (2, String::new()), "{who}");
    }
    // A PID no process has: its namespaces read as none, so none of ours.
    prints("pgrep", &["--ns", "2147483647", n], "", 1);
}

#[test]
fn ns_compares_the_last_listed_kind_only() {
    let usable = prochandle_test_support::is_root()
        && std::process::Command::new("unshare")
            .args(["--uts", "true"])
            .status()
            .is_ok_and(|s| s.success());
    if !prochandle_test_support::require(usable, "needs root and unshare(1) for a UTS namespace") {
        return;
    }
    let named = NamedSleep::new("uts");
    let mut command = std::process::Command::new("unshare");
    command.arg("--uts").arg(named.path()).arg("30");
    let apart = Reaped::child(command.stdin(Stdio::null()));
    let n = named.name.as_str();
    prochandle_test_support::eventually("unshare to exec the sleep", || {
        let comm = std::fs::read_to_string(format!("/proc/{}/comm", apart.pid())).ok()?;
        (comm.trim() == n).then_some(())
    });
    let me = std::process::id().to_string();
    let pid = format!("{}\n", apart.pid());
    // procps' default compares cgroup, ipc, mnt, net, pid and time: not uts.
    prints("pgrep", &["--ns", &me, n], &pid, 0);
    prints("pgrep", &["--ns", &me, "--nslist", "uts", n], "", 1);
    prints("pgrep", &["--ns", &me, "--nslist", "pid,uts", n], "", 1);
    prints("pgrep", &["--ns", &me, "--nslist", "uts,pid", n], &pid, 0);
}

#[test]
fn every_procps_option_is_taken_or_refused_as_procps_does() {
    let named = NamedSleep::new("opt");
    let (a, b) = two(&named);
    let n = named.name.as_str();
    let both_pids = format!("{}\n{}\n", a.pid(), b.pid());
    // One long-option table for the three tools: these are taken.
    prints(
        "pgrep",
        &["--signal", "KILL", "--queue", "5", "--echo", n],
        &both_pids,
        0,
    );
    prints(
        "pidwait",
        &["--delimiter", ",", "--list-name", "-c", "-x", &n[1..]],
        "0\n",
        1,
    );
    prints(
        "pkill",
        &[
            "-0",
            "--lightweight",
            "--delimiter",
            ",",
            "-c",
            "-x",
            &n[1..],
        ],
        "0\n",
        1,
    );
    let full = format!("{} 30 killed (pid {})\n", named.path().display(), a.pid());
    prints("pkill", &["-0", "--list-full", "-e", "-o", n], &full, 0);
    prints("pgrep", &["-n", "-x", n], &format!("{}\n", b.pid()), 0);
    for (who, out) in both("pgrep", &["-n"]) {
        assert_eq!(code(&out), 0, "{who}: {}", stderr(&out));
    }
    // procps 4.0.2 has no --env: refused, never read as a pattern.
    for tool in ["pgrep", "pkill", "pidwait"] {
        for (who, out) in both(tool, &["--env", "HOME", n]) {
            assert_eq!(code(&out), 2, "{who} {tool}");
            assert!(
                stderr(&out).contains("unrecognized option '--env'"),
                "{who} {tool}"
            );
            assert!(stdout(&out).is_empty(), "{who} {tool}");
        }
        // -? is the usage on stderr, status 2; --c and --n are ambiguous.
        for (who, out) in both(tool, &["-?", n]) {
            assert_eq!(code(&out), 2, "{who} {tool}");
            assert!(stderr(&out).starts_with("\nUsage:"), "{who} {tool}");
        }
        for (who, out) in both(tool, &["--n", n]) {
            assert_eq!(code(&out), 2, "{who} {tool}");
            assert!(
                stderr(&out).contains("'--newest' '--ns' '--nslist'"),
                "{who} {tool}"
            );
        }
    }
    assert!(a.pid() > 0 && b.pid() > 0);
}

/// `pkill -c` prints how many processes matched, signalled or not (procps
/// counts its matches), and exits 1 when none could be signalled.
#[test]
fn pkill_counts_matches_not_signals() {
    let named = NamedSleep::new("pkc");
    let (mut a, mut b) = two(&named);
    let n = named.name.as_str();
    // Signal 70 is a signal word (up to 93) the kernel refuses.
    for (who, out) in both("pkill", &["-c", "-70", "-x", n]) {
        assert_eq!((code(&out), stdout(&out)), (1, "2\n".to_owned()), "{who}");
        let said = stderr(&out);
        assert_eq!(said.lines().count(), 2, "{who}: {said}");
        assert!(
            said.lines().all(|l| l.starts_with("pkill: killing pid ")
                && l.ends_with(" failed: Invalid argument")),
            "{who}: {said}"
        );
    }
    // Past 93 the word is getopt's: an invalid option, status 2.
    for (who, out) in both("pkill", &["-c", "-94", "-x", n]) {
        assert_eq!(code(&out), 2, "{who}");
        assert!(
            stderr(&out).starts_with("pkill: invalid option -- '9'\n"),
            "{who}: {}",
            stderr(&out)
        );
    }
    assert!(a.alive() && b.alive(), "a refused signal reached a match");
}
