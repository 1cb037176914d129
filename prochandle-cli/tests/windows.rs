//! The CLI on Windows, end to end: each command as a user types it,
//! against processes this test starts. Runs under Wine in CI.
//!
//! A tree comes from this test binary itself playing a parent (see
//! [`play_parent`]): it starts a grandchild (a long `ping`), writes the
//! grandchild's PID to a file, and waits; `run` holds the parent, the
//! grandchild is found through the file and pinned by a handle while it
//! lives, so that whether it survived is asked of that very process.
#![cfg(windows)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use prochandle::Process;
use prochandle_test_support::{exit_with, sleeper, within, Reaped, NO_SUCH_PID, PATIENCE};

/// With this variable set, the test named on the command line plays the
/// parent instead (value: the file for the grandchild's PID).
const PARENT_ENV: &str = "PROCHANDLE_CLI_PLAY_PARENT";

fn prochandle() -> Command {
    Command::new(env!("CARGO_BIN_EXE_prochandle"))
}

fn output(args: &[&str]) -> Output {
    prochandle()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("prochandle runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("an exit code")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// If this process was started to play the parent: start the grandchild,
/// say its PID in the file, wait to be killed (or give up after a while).
fn play_parent_if_asked() {
    let Some(file) = std::env::var_os(PARENT_ENV) else {
        return;
    };
    let grandchild = sleeper(600).spawn().unwrap();
    let partial = PathBuf::from(&file).with_extension("partial");
    std::fs::write(&partial, grandchild.id().to_string()).unwrap();
    // Renamed into place, so the test never reads half a number.
    std::fs::rename(&partial, &file).unwrap();
    std::thread::sleep(PATIENCE * 4);
    std::process::exit(0)
}

/// `prochandle ARGS... <this binary playing the parent>` for `test`.
fn run_with_tree(args: &[&str], test: &str, pid_file: &Path) -> Command {
    let mut cmd = prochandle();
    cmd.args(args)
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(PARENT_ENV, pid_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// The grandchild, pinned as soon as its PID is written.
fn grandchild(pid_file: &Path) -> Process {
    let pid: u32 = within(PATIENCE, || {
        std::fs::read_to_string(pid_file).ok()?.parse().ok()
    })
    .expect("the parent names its grandchild");
    Process::open(pid).expect("the grandchild runs")
}

fn pid_file(name: &str) -> PathBuf {
    let file = std::env::temp_dir().join(format!("prochandle-{name}-{}.pid", std::process::id()));
    let _ = std::fs::remove_file(&file);
    file
}

#[test]
fn check_says_it_holds_process_handles() {
    let out = output(&["check"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.contains("handle mode: process handle"), "{report}");
    assert!(report.contains("process_handle"), "{report}");
    assert!(
        !report.contains("pidfd_open"),
        "Linux rows are for --json: {report}"
    );
    let out = output(&["check", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json["platform"].as_str().unwrap().starts_with("Windows"),
        "{json}"
    );
    assert_eq!(json["handle_mode"], "process handle");
}

#[test]
fn wait_reports_the_exit_code_of_a_process_it_did_not_start() {
    let mut cmd = Command::new("cmd");
    cmd.args(["/c", "ping -n 2 127.0.0.1 >nul & exit 3"]);
    let child = Reaped::spawn(cmd);
    let pid = child.pid().to_string();
    let out = output(&["wait", "--exit-status", "--json", &pid]);
    assert_eq!(code(&out), 3, "{}", text(&out.stderr));
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["pid"], child.pid());
    assert_eq!(line["code"], 3);
}

#[test]
fn wait_times_out_with_124() {
    let child = Reaped::spawn(sleeper(30));
    let started = Instant::now();
    let out = output(&["wait", "--timeout", "300ms", "-q", &child.pid().to_string()]);
    assert_eq!(code(&out), 124, "{}", text(&out.stderr));
    assert!(started.elapsed() < PATIENCE);
    assert!(child.try_wait().unwrap().is_none(), "wait must not end it");
}

#[test]
fn kill_ends_a_process_and_refuses_other_signals() {
    let child = Reaped::spawn(sleeper(30));
    let pid = child.pid().to_string();
    let out = output(&["kill", "-s", "TERM", &pid]);
    assert_eq!(code(&out), 2, "a usage error");
    let message = text(&out.stderr);
    assert!(message.contains("Windows has no signals"), "{message}");
    assert!(
        child.try_wait().unwrap().is_none(),
        "a refused signal is not sent"
    );
    // The default is KILL here.
    let out = output(&["kill", "--timeout", "10s", &pid]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(child.wait_timeout(PATIENCE).unwrap().is_some());
}

#[test]
fn kill_of_a_missing_process_fails_with_1() {
    let out = output(&["kill", "-9", &NO_SUCH_PID.to_string()]);
    assert_eq!(code(&out), 1);
    assert!(
        text(&out.stderr).contains("no such process"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn info_names_the_image_parent_and_state() {
    let child = Reaped::spawn(sleeper(30));
    let out = output(&["info", "--json", &child.pid().to_string()]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["pid"], child.pid());
    assert_eq!(json["ppid"], std::process::id());
    let exe = json["exe"].as_str().unwrap().to_lowercase();
    assert!(exe.ends_with("ping.exe"), "{exe}");
    assert_eq!(json["state"], "running");
    assert_eq!(json["handle_mode"], "process handle");
    let out = output(&["info", &child.pid().to_string()]);
    let rows = text(&out.stdout);
    assert!(
        rows.lines()
            .any(|l| l.starts_with("exe") && l.to_lowercase().ends_with("ping.exe")),
        "{rows}"
    );
}

#[test]
fn linux_only_commands_say_so_with_status_1() {
    for args in [
        &["getfd", "4", "3", "--", "cmd"][..],
        &["nsenter", "--net", "4", "--", "cmd"],
        &["list", "ping"],
        &["tree", "4"],
        &["kill", "--match", "ping"],
        &["wait", "--match", "ping"],
        &["init", "--", "cmd"],
    ] {
        let out = output(args);
        assert_eq!(code(&out), 1, "{args:?}");
        let message = text(&out.stderr);
        assert!(
            message.contains("not available on windows"),
            "{args:?}: {message}"
        );
        assert_eq!(message.lines().count(), 1, "one line: {message}");
    }
}

#[test]
fn run_passes_the_exit_code_through() {
    let exit_7 = exit_with(7);
    let out = prochandle()
        .args(["run", "10"])
        .arg(exit_7.get_program())
        .args(exit_7.get_args())
        .output()
        .unwrap();
    assert_eq!(code(&out), 7, "{}", text(&out.stderr));
}

#[test]
fn run_with_a_missing_command_exits_127() {
    let out = output(&["run", "10", "no-such-program-prochandle"]);
    assert_eq!(code(&out), 127, "{}", text(&out.stderr));
}

#[test]
fn run_refuses_a_timeout_signal_windows_cannot_send() {
    let out = output(&["run", "-s", "INT", "10", "cmd", "/c", "exit 0"]);
    // A usage error, as for any refused option of run's.
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("Windows has no signals"));
}

#[test]
fn run_timeout_ends_the_whole_tree_with_124() {
    play_parent_if_asked();
    let file = pid_file("timeout");
    let test = "run_timeout_ends_the_whole_tree_with_124";
    let started = Instant::now();
    let mut run = run_with_tree(&["run", "--timeout", "3s"], test, &file)
        .spawn()
        .unwrap();
    let grandchild = grandchild(&file);
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(124));
    assert!(started.elapsed() < PATIENCE);
    let ended = grandchild.wait_timeout(PATIENCE).unwrap();
    let _ = grandchild.kill();
    assert!(ended.is_some(), "the grandchild outlived the timeout");
    let _ = std::fs::remove_file(&file);
}

#[test]
fn a_killed_run_takes_the_tree_with_it() {
    play_parent_if_asked();
    let file = pid_file("owner");
    let test = "a_killed_run_takes_the_tree_with_it";
    let run = Reaped::spawn(run_with_tree(&["run", "--timeout", "600s"], test, &file));
    let grandchild = grandchild(&file);
    // prochandle itself is ended from outside, with no chance to clean
    // up: the job's last handle closes with it.
    run.kill().unwrap();
    let ended = grandchild.wait_timeout(PATIENCE).unwrap();
    let _ = grandchild.kill();
    assert!(ended.is_some(), "the grandchild outlived prochandle");
    let _ = std::fs::remove_file(&file);
    // Nothing of the tree is left to hold the parent's PID either.
    assert!(run.wait_timeout(Duration::from_secs(5)).unwrap().is_some());
}

#[test]
fn child_only_leaves_the_grandchild_running() {
    play_parent_if_asked();
    let file = pid_file("child-only");
    let test = "child_only_leaves_the_grandchild_running";
    let mut run = run_with_tree(&["run", "--child-only", "--timeout", "2s"], test, &file)
        .spawn()
        .unwrap();
    let grandchild = grandchild(&file);
    assert_eq!(run.wait().unwrap().code(), Some(124));
    let still_running = grandchild.try_wait().unwrap().is_none();
    grandchild.kill().unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        still_running,
        "--child-only must leave the rest of the tree"
    );
}

#[test]
fn completions_include_powershell() {
    let out = output(&["completions", "powershell"]);
    assert_eq!(code(&out), 0);
    assert!(text(&out.stdout).contains("Register-ArgumentCompleter"));
}

#[test]
fn manpages_are_written_here_too() {
    let dir = std::env::temp_dir().join(format!("prochandle-man-{}", std::process::id()));
    let out = output(&["manpages", dir.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let page = std::fs::read_to_string(dir.join("prochandle-run.1")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(page.contains(".TH"), "{page}");
}

#[test]
fn run_report_lists_the_tree_at_the_timeout() {
    play_parent_if_asked();
    let file = pid_file("report");
    let test = "run_report_lists_the_tree_at_the_timeout";
    let run = run_with_tree(&["run", "--report", "--timeout", "3s"], test, &file)
        .spawn()
        .unwrap();
    let grandchild = grandchild(&file);
    let out = run.wait_with_output().unwrap();
    let _ = grandchild.kill();
    assert_eq!(code(&out), 124);
    let message = text(&out.stderr);
    assert!(
        message.contains("timed out; the command's tree"),
        "{message}"
    );
    // The grandchild, one level under CMD, with its identity and figures.
    let line = message
        .lines()
        .find(|l| l.starts_with(&format!("    {} ", grandchild.pid())))
        .unwrap_or_else(|| panic!("no grandchild line under CMD: {message}"));
    let identity = format!(" {}@", grandchild.pid());
    assert!(line.contains(&identity), "{line}");
    for field in ["age=", "cpu=", "rss="] {
        assert!(
            line.contains(field) && !line.contains(&format!("{field}?")),
            "{line}"
        );
    }
    assert!(line.to_ascii_lowercase().contains("ping"), "{line}");
    let _ = std::fs::remove_file(&file);
}

/// `--report --json`: one object per member, with the Linux report's
/// field names; what Windows cannot give (state, wchan, syscall) is absent.
#[test]
fn run_report_in_json_names_parents_and_figures() {
    play_parent_if_asked();
    let file = pid_file("report-json");
    let test = "run_report_in_json_names_parents_and_figures";
    let run = run_with_tree(
        &["run", "--report", "--json", "--timeout", "3s"],
        test,
        &file,
    )
    .spawn()
    .unwrap();
    let grandchild = grandchild(&file);
    let out = run.wait_with_output().unwrap();
    let _ = grandchild.kill();
    let _ = std::fs::remove_file(&file);
    assert_eq!(code(&out), 124);
    let message = text(&out.stderr);
    let members: Vec<serde_json::Value> = message
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v.get("depth").is_some())
        .collect();
    let of = |pid: u32| {
        members
            .iter()
            .find(|m| m["pid"] == pid)
            .unwrap_or_else(|| panic!("{pid} not listed: {message}"))
    };
    let leaf = of(grandchild.pid());
    let cmd = of(leaf["ppid"].as_u64().expect("a parent") as u32);
    assert_eq!(cmd["depth"], 0, "{message}");
    assert_eq!(leaf["depth"], 1, "{message}");
    let identity = leaf["identity"].as_str().unwrap();
    assert!(
        identity.starts_with(&format!("{}@", grandchild.pid())),
        "{identity}"
    );
    assert!(
        leaf["age_seconds"].as_f64().is_some_and(|s| s > 0.0),
        "{leaf}"
    );
    assert!(leaf["cpu_seconds"].as_f64().is_some(), "{leaf}");
    assert!(leaf["rss_kib"].as_u64().is_some_and(|k| k > 0), "{leaf}");
    let command = leaf["command"].as_str().unwrap().to_ascii_lowercase();
    assert!(command.contains("ping"), "{leaf}");
    for absent in ["state", "wchan", "syscall"] {
        assert!(leaf.get(absent).is_none(), "{leaf}");
    }
}

/// A child process killed (and waited for) when dropped, so that a
/// failed assertion leaves no `run` holding this test's output open.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `run --pidfile FILE` writes `PID@CREATED`: the PID and its process's
/// creation time, which `kill @FILE` checks before it acts.
#[test]
fn run_pidfile_names_cmd_and_kill_reaches_it() {
    let file = pid_file("pidfile-run");
    let sleeping = sleeper(600);
    let mut run = KillOnDrop(
        prochandle()
            .args(["run", "--pidfile"])
            .arg(&file)
            .arg("--")
            .arg(sleeping.get_program())
            .args(sleeping.get_args())
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let written = within(PATIENCE, || {
        let text = std::fs::read_to_string(&file).ok()?;
        text.ends_with('\n').then(|| text.trim().to_owned())
    })
    .expect("the pidfile");
    let (pid, created) = written.split_once('@').expect("PID@CREATED");
    let pid: u32 = pid.parse().unwrap();
    assert!(created.parse::<u64>().is_ok(), "{written}");
    let target = format!("@{}", file.display());
    let out = output(&["kill", &target]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let status = run.0.wait().unwrap();
    assert_ne!(status.code(), Some(0));
    assert!(!file.exists(), "the pidfile outlived CMD");
    assert!(Process::open(pid).map_or(true, |p| p.has_exited().unwrap_or(true)));
}

/// A pidfile whose PID now names a process created at another time is
/// stale: `kill @FILE` leaves that process alone and says why, and `run
/// --pidfile` takes the file over.
#[test]
fn a_pidfile_naming_a_recycled_pid_is_stale() {
    let file = pid_file("pidfile-recycled");
    let mut bystander = KillOnDrop(sleeper(600).spawn().unwrap());
    let pid = bystander.0.id();
    std::fs::write(&file, format!("{pid}@116444736000000000\n")).unwrap();
    let target = format!("@{}", file.display());
    let out = output(&["kill", &target]);
    assert_eq!(code(&out), 1, "{}", text(&out.stderr));
    let message = text(&out.stderr);
    assert!(message.contains("identity mismatch"), "{message}");
    assert!(
        bystander.0.try_wait().unwrap().is_none(),
        "the bystander was hit"
    );
    let out = prochandle()
        .args(["run", "--pidfile"])
        .arg(&file)
        .args(["--", "cmd", "/c", "exit 5"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 5, "{}", text(&out.stderr));
    assert!(!file.exists(), "the pidfile outlived CMD");
    assert!(
        bystander.0.try_wait().unwrap().is_none(),
        "the bystander was hit"
    );
    drop(bystander);
}
