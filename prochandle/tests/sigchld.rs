//! A child auto-reaped because SIGCHLD is ignored must not be adopted: its
//! PID may already be someone else's. Runs in a re-executed copy of this
//! test binary, since the disposition is process-wide.
#![cfg(target_os = "linux")]

use std::process::Command;

const SCENARIO: &str = "PROCHANDLE_TEST_SIGCHLD_IGN";

#[test]
fn children_are_refused_while_sigchld_is_ignored() {
    if std::env::var_os(SCENARIO).is_some() {
        scenario();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([
            "--exact",
            "children_are_refused_while_sigchld_is_ignored",
            "--nocapture",
        ])
        .env(SCENARIO, "1")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "scenario failed:\n{text}");
    assert!(
        text.contains("scenario passed"),
        "scenario did not run:\n{text}"
    );
}

fn scenario() {
    // SAFETY: setting SIGCHLD to SIG_IGN in this dedicated child process.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
    let mut cmd = Command::new("sleep");
    cmd.arg("30");
    let err = prochandle::Process::spawn(&mut cmd).unwrap_err();
    assert_eq!(err.kind(), prochandle::ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("SIGCHLD is ignored"), "{err}");
    // spawn killed the child it could not hold; opening by PID (a
    // non-child view) still works for other processes.
    let me = prochandle::Process::current().unwrap();
    assert_eq!(me.pid(), std::process::id());
    println!("scenario passed");
}
