//! Process trees for the scope tests: a mark to find every process of one
//! tree (and only it), and a guard that removes a cgroup a test left.
//!
//! The mark is an environment variable with a value unique to the tree:
//! every descendant inherits it through `fork` and `exec` (the shells and
//! `sleep`s of the test trees keep their environment), `setsid` does not
//! drop it, and `/proc/<pid>/environ` shows it (to root, or to the same
//! user). Zombies show an empty environment, so they are never counted.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use prochandle::{Process, Signal};

/// The variable that carries a tree's mark.
pub const TREE_MARK_ENV: &str = "PROCHANDLE_TEST_TREE";

/// A mark for one tree; dropping it kills (through pidfds) any marked
/// process still alive, so a failed test leaves none.
#[derive(Debug)]
pub struct TreeMark {
    value: String,
}

impl Default for TreeMark {
    fn default() -> Self {
        Self::new()
    }
}

impl TreeMark {
    /// A mark no other tree has.
    pub fn new() -> TreeMark {
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = SERIAL.fetch_add(1, Ordering::Relaxed);
        TreeMark {
            value: format!("{}-{n}-{nanos}", std::process::id()),
        }
    }

    /// Marks `command` (and so everything it starts).
    pub fn apply<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command.env(TREE_MARK_ENV, &self.value)
    }

    /// The value, for a child that marks its own commands.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// A mark with a value received from elsewhere (a re-executed test).
    pub fn from_value(value: &str) -> TreeMark {
        TreeMark {
            value: value.to_owned(),
        }
    }

    /// The PIDs of the live (non-zombie) marked processes.
    pub fn live(&self) -> Vec<u32> {
        let needle = format!("{TREE_MARK_ENV}={}", self.value);
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|&b| b == 0).any(|kv| kv == needle.as_bytes()))
                    && crate::proc_state(*pid).is_some_and(|s| s != 'Z')
            })
            .collect()
    }

    /// Waits up to `limit` for no marked process to be alive; returns the
    /// survivors (empty on success).
    pub fn wait_gone(&self, limit: Duration) -> Vec<u32> {
        crate::within(limit, || {
            let live = self.live();
            live.is_empty().then_some(())
        });
        self.live()
    }
}

impl Drop for TreeMark {
    fn drop(&mut self) {
        for _ in 0..100 {
            let live = self.live();
            if live.is_empty() {
                return;
            }
            for pid in live {
                // Pinned first: the PID was marked a moment ago, and the
                // pidfd keeps it from naming anyone else now.
                if let Ok(p) = Process::open(pid) {
                    let _ = p.signal(Signal::KILL);
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Removes a cgroup directory a test created or expects, on drop (also on
/// panic): kills what is left in it, waits until it is empty, `rmdir`s it.
#[derive(Debug)]
pub struct CgroupCleanup(pub PathBuf);

impl Drop for CgroupCleanup {
    fn drop(&mut self) {
        if !self.0.exists() {
            return;
        }
        let _ = std::fs::write(self.0.join("cgroup.kill"), "1");
        crate::within(Duration::from_secs(10), || {
            let events = std::fs::read_to_string(self.0.join("cgroup.events")).ok()?;
            events.contains("populated 0").then_some(())
        });
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// The cgroups under `parent` whose name starts with `prefix`, for
/// checking that none is left behind.
pub fn cgroups_named(parent: &std::path::Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(parent)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// `sh -c SCRIPT`, marked with `mark` (and so is all it starts).
pub fn sh(mark: &TreeMark, script: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", script]);
    mark.apply(&mut cmd);
    cmd
}

/// One scope test at a time while the guard lives. Under `cargo test` the
/// tests share one process, and a subreaper scope counts every later child
/// of it as an orphan of its tree. (nextest runs each test in a process of
/// its own, where the lock is never contended.)
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A command that re-runs this test binary for exactly `test`, with `env`
/// set to `value`: the test sees the variable and plays its child part
/// (an owner to be killed, an unprivileged user) instead.
pub fn reexec(test: &str, env: &str, value: &str) -> Command {
    let exe = std::env::current_exe().expect("current_exe");
    reexec_at(&exe, test, env, value)
}

/// [`reexec`], running the test binary found at `exe`.
pub(crate) fn reexec_at(exe: &std::path::Path, test: &str, env: &str, value: &str) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(env, value)
        .stdin(std::process::Stdio::null());
    cmd
}

/// A scope of exactly `kind` (the subreaper opted in when asked for);
/// `None`, skipped (a failure under `CI=true`), where this machine cannot
/// give it. The cgroup kinds need root here.
pub fn scope_of(kind: prochandle::MechanismKind) -> Option<prochandle::Scope> {
    use prochandle::MechanismKind;
    let cgroup = matches!(kind, MechanismKind::Cgroup | MechanismKind::CgroupFreeze);
    if cgroup && !crate::require_root("a cgroup scope") {
        return None;
    }
    let options = prochandle::ScopeOptions::new()
        .mechanism(kind)
        .allow_subreaper(kind == MechanismKind::Subreaper);
    match options.create() {
        Ok(scope) => {
            assert_eq!(scope.mechanism().kind(), kind);
            Some(scope)
        }
        Err(e) => {
            crate::skip(&format!("{kind} is not available: {e}"));
            None
        }
    }
}

/// A scope of exactly `kind` (see [`scope_of`]) holding one live process,
/// marked with `mark`: the first child, a shell, has exited and been
/// reaped; its background `sleep 30` runs on. Returns the scope and that
/// grandchild, pinned. For "empty only after the *last* member" tests.
pub fn scope_with_grandchild(
    kind: prochandle::MechanismKind,
    mark: &TreeMark,
) -> Option<(std::sync::Arc<prochandle::Scope>, Process)> {
    let scope = std::sync::Arc::new(scope_of(kind)?);
    let first = scope
        .spawn(&mut sh(mark, "sleep 30 & exit 0"))
        .expect("spawn into the scope");
    assert!(first.wait().expect("wait for the shell").success());
    let grandchild = crate::eventually("the background sleep as the one member", || {
        let mut members = scope.members().ok()?;
        (members.len() == 1).then(|| members.remove(0))
    });
    assert_ne!(grandchild.pid(), first.pid());
    Some((scope, grandchild))
}
