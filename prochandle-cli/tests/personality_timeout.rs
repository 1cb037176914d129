//! The `timeout` personality against GNU timeout(1)'s interface: options
//! with attached values, durations as `strtod` reads them (saturating),
//! exit statuses 124-127 and 137, messages, inherited signal
//! dispositions; run as ours and, where installed, as the real tool.
#![cfg(target_os = "linux")]

mod common;

use common::*;

/// Asserts that ours (and the real tool, where installed) exit with
/// `status` for `args`.
fn exits(status: i32, args: &[&str]) {
    for (who, out) in both("timeout", args) {
        let got = prochandle_test_support::shell_status(out.status);
        assert_eq!(got, status, "{who}: timeout {args:?}: {}", stderr(&out));
    }
}

#[test]
fn option_values_attached_to_their_letter() {
    exits(137, &["-sKILL", "0.2", "sleep", "5"]);
    exits(124, &["-sALRM", "0.2", "sleep", "5"]);
    // Signal 0 kills nothing: -k then sends KILL.
    exits(137, &["-s0", "-k0.2", "0.1", "sleep", "5"]);
    exits(137, &["--signal=KILL", "0.2", "sleep", "5"]);
    exits(137, &["-s", "137", "0.2", "sleep", "5"]);
    exits(137, &["-s", "sigkill", "0.2", "sleep", "5"]);
    // What follows DURATION is the command's, options included.
    exits(3, &["5", "sh", "-c", "exit 3", "-s"]);
}

#[test]
fn durations_as_strtod_reads_them() {
    for ok in [
        "10.34",
        "9.999999999",
        "1d",
        "0",
        "2.34e+5d",
        "18446744073709551616",
        "9223372036854775808d",
        "1.18973149535723176502e+4932",
        "0x10",
        "inf",
    ] {
        exits(0, &[ok, "sleep", "0"]);
    }
    // A non-zero underflow is the shortest timeout, not none (coreutils
    // 9.5 and later; 9.1 read it as 0, no timeout).
    let out = persona("timeout", &["1e-10000", "sleep", "10"])
        .output()
        .unwrap();
    assert_eq!(prochandle_test_support::shell_status(out.status), 124);
}

#[test]
fn usage_errors_exit_125() {
    for args in [
        &["invalid", "sleep", "0"][..],
        &[" -0.1", "sleep", "0"],
        &["42D", "sleep", "0"],
        &["1ss", "sleep", "0"],
        &["--kill-after=invalid", "1", "sleep", "0"],
        &["--signal=invalid", "1", "sleep", "0"],
        &["--", "-1.18973149535723176502e+4932", "sleep", "0"],
        &["--bogus", "1", "true"],
        &["-s"],
        &["1"],
        &[],
    ] {
        for (who, out) in both("timeout", args) {
            assert_eq!(code(&out), 125, "{who}: {args:?}");
            assert!(
                stderr(&out).ends_with("Try 'timeout --help' for more information.\n"),
                "{who}: {args:?}: {}",
                stderr(&out)
            );
        }
    }
    // A negative underflow is refused (coreutils 9.5 and later; 9.1 read
    // it as 0, no timeout).
    let out = persona("timeout", &[" -1e-10000", "sleep", "0"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 125);
    let out = persona("timeout", &["x", "true"]).output().unwrap();
    assert_eq!(
        stderr(&out).lines().next(),
        Some("timeout: invalid time interval 'x'")
    );
    let out = persona("timeout", &["-s", "FOO", "1", "true"])
        .output()
        .unwrap();
    assert_eq!(
        stderr(&out).lines().next(),
        Some("timeout: 'FOO': invalid signal")
    );
}

#[test]
fn exit_statuses() {
    exits(0, &["10", "true"]);
    exits(2, &["10", "sh", "-c", "exit 2"]);
    exits(124, &[".1", "sleep", "10"]);
    exits(143, &["--preserve-status", ".1", "sleep", "10"]);
    exits(137, &["--foreground", "-s0", "-k1", ".1", "sleep", "10"]);
    exits(126, &["10", "."]);
    exits(127, &["10", "no_such_command_here"]);
    let out = persona("timeout", &["10", "no_such_command_here"])
        .output()
        .unwrap();
    assert_eq!(
        stderr(&out),
        "timeout: failed to run command 'no_such_command_here': No such file or directory\n"
    );
}

#[test]
fn verbose_names_each_signal_as_timeout_does() {
    for flag in ["-v", "--verbose"] {
        for (who, out) in both("timeout", &[flag, "-s0", "-k", ".1", ".1", "sleep", "10"]) {
            assert_eq!(
                stderr(&out),
                "timeout: sending signal EXIT to command 'sleep'\n\
                 timeout: sending signal KILL to command 'sleep'\n",
                "{who}"
            );
            assert_eq!(
                prochandle_test_support::shell_status(out.status),
                137,
                "{who}"
            );
        }
    }
}

#[test]
fn the_timeout_reaches_what_the_command_started() {
    for (who, out) in both("timeout", &[".5", "sh", "-c", "sleep 2; echo foo"]) {
        assert_eq!(code(&out), 124, "{who}");
        assert_eq!(stdout(&out), "", "{who}");
    }
}

/// A directory holding a `timeout` link to ours; removed on drop.
struct Links(std::path::PathBuf);

impl Drop for Links {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Our `timeout` (a link) and the real tool's path where installed, for a
/// shell script to exec; the links go with the guard.
fn timeout_paths() -> (Links, Vec<String>) {
    let dir = prochandle_test_support::temp_path("timeout-link");
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("timeout");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("prochandle"), &link).unwrap();
    let mut paths = vec![link.display().to_string()];
    paths.extend(real("timeout", &[]).map(|c| c.get_program().to_string_lossy().into_owned()));
    (Links(dir), paths)
}

#[test]
fn an_ignored_sigchld_is_restored_and_an_ignored_sigpipe_kept() {
    let (_links, paths) = timeout_paths();
    for timeout in paths {
        let status = std::process::Command::new("sh")
            .args(["-c", &format!("trap '' CHLD; exec {timeout} 10 true")])
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0), "{timeout}");
        let out = std::process::Command::new("sh")
            .args([
                "-c",
                &format!("trap '' PIPE; exec {timeout} 10 grep SigIgn /proc/self/status"),
            ])
            .output()
            .unwrap();
        let mask = stdout(&out);
        let mask = u64::from_str_radix(mask.trim_start_matches("SigIgn:").trim(), 16).unwrap();
        // SIGPIPE is 13: bit 12.
        assert_ne!(mask & (1 << 12), 0, "{timeout}: {mask:x}");
    }
}

#[test]
fn answers_to_its_name_and_to_prochandle_timeout() {
    let (_links, paths) = timeout_paths();
    let link = &paths[0];
    let out = std::process::Command::new(link)
        .args(["0.1", "sleep", "5"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 124);
    let out = run(&["timeout", "0.1", "sleep", "5"]);
    assert_eq!(code(&out), 124);
    let out = std::process::Command::new(link)
        .arg("--version")
        .output()
        .unwrap();
    assert!(stdout(&out).starts_with("timeout "), "{}", stdout(&out));
}

#[test]
fn a_closed_stderr_does_not_kill_timeout() {
    // coreutils 9.9: the -v line written to a closed pipe fails, and the
    // status is still the timeout's (9.1 died of SIGPIPE: 141).
    let (_links, paths) = timeout_paths();
    let status = prochandle_test_support::temp_path("closed-stderr");
    let script = format!(
        "{{ {} -v .1 sleep 10 2>&1; echo $? > {}; }} | :",
        paths[0],
        status.display()
    );
    std::process::Command::new("sh")
        .args(["-c", &script])
        .status()
        .unwrap();
    assert_eq!(std::fs::read_to_string(&status).unwrap().trim(), "124");
    let _ = std::fs::remove_file(&status);
}

#[test]
fn the_command_gets_the_timeout_signal_should_timeout_be_killed() {
    the_command_gets_usr1_when_timeout_is_killed(&[]);
}

/// coreutils 9.10 arms the death signal in the foreground too (9.1 had
/// none in either mode).
#[test]
fn in_the_foreground_too() {
    the_command_gets_usr1_when_timeout_is_killed(&["--foreground"]);
}

/// Starts `timeout OPTIONS -sUSR1 25 sh -c ...`, kills timeout with
/// `SIGKILL`, and waits for the command to say it got `USR1`.
fn the_command_gets_usr1_when_timeout_is_killed(options: &[&str]) {
    let dir = prochandle_test_support::temp_path("death-signal");
    std::fs::create_dir_all(&dir).unwrap();
    // Bounded: without the signal the script ends by itself in 20 s.
    let script = "trap 'touch received; exit' USR1; echo $$ > running; \
                  i=0; while [ $i -lt 200 ] && [ ! -e received ]; do sleep 0.1; i=$((i+1)); done";
    let mut timeout = prochandle_test_support::Reaped::child(
        persona(
            "timeout",
            &[options, &["-sUSR1", "25", "sh", "-c", script]].concat(),
        )
        .current_dir(&dir)
        .stdin(std::process::Stdio::null()),
    );
    let pid = prochandle_test_support::eventually("the command to start", || {
        let text = std::fs::read_to_string(dir.join("running")).ok()?;
        text.trim().parse::<u32>().ok()
    });
    // The scope's cgroup (where one was made) outlives a killed timeout:
    // removed when this test ends.
    let _cgroup = cgroup_of(pid)
        .filter(|path| Some(path) != cgroup_of(std::process::id()).as_ref())
        .map(|path| {
            prochandle_test_support::CgroupCleanup(
                std::path::Path::new("/sys/fs/cgroup").join(path),
            )
        });
    timeout.kill().unwrap();
    timeout.wait_status();
    prochandle_test_support::eventually("the command to get USR1", || {
        dir.join("received").exists().then_some(())
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// The cgroup v2 path of a process (`0::/...`, without the slash).
fn cgroup_of(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let path = text.lines().find_map(|l| l.strip_prefix("0::/"))?;
    Some(path.to_owned())
}
