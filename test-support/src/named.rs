//! Programs under names no other process has, so that a test selecting
//! processes by name (`pkill`, `prochandle kill --match`) can only ever
//! select what it started itself.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::reaped::Reaped;

/// A copy of `sleep` under a unique name (at most 15 bytes, so that it is
/// the whole of the kernel's `comm`), in a directory of its own that goes
/// when this does.
pub struct NamedSleep {
    /// The name, as `/proc/PID/comm` shows it.
    pub name: String,
    dir: PathBuf,
}

impl NamedSleep {
    /// A fresh copy; `tag` (a few letters) says which test made it.
    pub fn new(tag: &str) -> NamedSleep {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tag: String = tag.chars().take(4).collect();
        let name = format!("ph{tag}{}x{n}", std::process::id() % 100_000);
        let name: String = name.chars().take(15).collect();
        let dir = std::env::temp_dir().join(format!("prochandle-test-{name}"));
        std::fs::create_dir_all(&dir).expect("make a directory for the named sleep");
        let sleep = which("sleep").expect("sleep(1) on PATH");
        copy_executable(&sleep, &dir.join(&name)).expect("copy sleep");
        NamedSleep { name, dir }
    }

    /// Its path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    /// The command `NAME SECS`.
    pub fn command(&self, secs: u32) -> Command {
        let mut command = Command::new(self.path());
        command.arg(secs.to_string()).stdin(Stdio::null());
        command
    }

    /// Starts one, guarded, returned once it runs under its name.
    pub fn spawn(&self, secs: u32) -> Reaped<Child> {
        let child = Reaped::child(&mut self.command(secs));
        child.settle();
        child
    }
}

impl Drop for NamedSleep {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The first `program` on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Copies the program `from` to `to` (mode 0755) in a child process, so
/// that the copy is never open for writing in this one. A test binary runs
/// its tests on several threads: a `fork` on one of them while another
/// thread holds the new file open for writing passes that descriptor to
/// the child until it `exec`s, and an `exec` of the copy in that window
/// fails with `ETXTBSY`. `cp` holds the only writable descriptor and has
/// closed it when it exits.
pub fn copy_executable(from: &Path, to: &Path) -> std::io::Result<()> {
    let status = Command::new("cp")
        .arg("--")
        .arg(from)
        .arg(to)
        .stdin(Stdio::null())
        .status()?;
    if !status.success() {
        return Err(std::io::Error::other(format!(
            "cp {} {}: {status}",
            from.display(),
            to.display()
        )));
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755))
}
