//! Windows: a `Scope`'s tree dies with its owner, also when the owner is
//! terminated (`TerminateProcess`, Windows' `SIGKILL`) without dropping
//! the scope: the job is created with `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`
//! and the owner holds its only handle, which the system closes when the
//! owner dies.
//!
//! Three copies of this test binary play the parts: the owner (a scope,
//! with a parent spawned into it), the parent (which starts a grandchild
//! and waits), and the test itself, which terminates the owner and
//! watches the grandchild, a process none of ours started directly.
#![cfg(windows)]

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use prochandle::{Process, Scope};
use prochandle_test_support::{sleeper, PATIENCE};

const ROLE_ENV: &str = "PROCHANDLE_OWNER_DIES_ROLE";
const TEST: &str = "terminating_the_owner_kills_the_tree";

/// This binary again, for `TEST`, playing `role`; its stdout piped.
fn play(role: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE_ENV, role)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    cmd
}

/// The PID a child prints on a `GRANDCHILD <pid>` line.
fn grandchild_of(child: &mut Child) -> u32 {
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    out.lines()
        .find_map(|l| l.ok()?.split_once("GRANDCHILD ")?.1.trim().parse().ok())
        .expect("a GRANDCHILD line")
}

fn say_grandchild(pid: u32) {
    println!("GRANDCHILD {pid}");
    std::io::Write::flush(&mut std::io::stdout()).unwrap();
}

/// The parent: a long sleeper as its own child, then a long wait.
fn play_parent() -> ! {
    let grandchild = sleeper(600).spawn().unwrap();
    say_grandchild(grandchild.id());
    std::thread::sleep(PATIENCE * 20);
    std::process::exit(0)
}

/// The owner: a scope with the parent in it; passes the grandchild's PID
/// on, then waits to be terminated (the scope is never dropped).
fn play_owner() -> ! {
    let scope = Scope::new().unwrap();
    #[allow(clippy::zombie_processes)]
    let mut parent = scope.spawn_child(&mut play("parent")).unwrap();
    say_grandchild(grandchild_of(&mut parent));
    std::thread::sleep(PATIENCE * 20);
    drop(scope);
    std::process::exit(0)
}

#[test]
fn terminating_the_owner_kills_the_tree() {
    match std::env::var(ROLE_ENV).as_deref() {
        Ok("owner") => play_owner(),
        Ok("parent") => play_parent(),
        _ => {}
    }
    let mut owner = play("owner").spawn().unwrap();
    let grandchild = Process::open(grandchild_of(&mut owner)).unwrap();
    assert!(
        grandchild
            .wait_timeout(Duration::from_millis(300))
            .unwrap()
            .is_none(),
        "the grandchild runs before the owner dies"
    );
    owner.kill().unwrap();
    owner.wait().unwrap();
    let ended = grandchild.wait_timeout(PATIENCE).unwrap().is_some();
    if !ended {
        let _ = grandchild.kill();
    }
    assert!(ended, "the grandchild outlived its terminated owner");
}
