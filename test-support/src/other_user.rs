//! This test binary, at a path another user may run it from. A test that
//! re-runs itself as `nobody` needs every directory above the binary to
//! let others through; a checkout in a private directory (`mktemp -d`
//! makes it 0700) does not. There the binary is copied into a fresh
//! directory others may enter, removed again when the guard drops.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The test binary as another user can execute it (see the module docs).
pub struct ExeForOthers {
    path: PathBuf,
    /// The directory of the copy, if one was needed.
    copy: Option<PathBuf>,
}

impl ExeForOthers {
    /// The binary itself where others can reach it, else a copy.
    pub fn new() -> ExeForOthers {
        let exe = std::env::current_exe().expect("current_exe");
        if reachable_by_others(&exe) {
            return ExeForOthers {
                path: exe,
                copy: None,
            };
        }
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "prochandle-exe-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let path = dir.join(exe.file_name().expect("a file name"));
        let copied = (|| -> std::io::Result<()> {
            std::fs::create_dir(&dir)?;
            std::fs::set_permissions(&dir, PermissionsExt::from_mode(0o755))?;
            crate::named::copy_executable(&exe, &path)
        })();
        copied.unwrap_or_else(|e| panic!("copy {} for another user: {e}", exe.display()));
        assert!(
            reachable_by_others(&path),
            "{} is not reachable by other users either: set TMPDIR to a directory they may enter",
            path.display()
        );
        ExeForOthers {
            path,
            copy: Some(dir),
        }
    }

    /// [`reexec`](crate::reexec) from this path.
    pub fn reexec(&self, test: &str, env: &str, value: &str) -> Command {
        crate::trees::reexec_at(&self.path, test, env, value)
    }
}

/// Runs this test binary again for exactly `test` as `nobody` (user and
/// group 65534), with `env` set to `1` so that the test plays its
/// unprivileged part, from a path `nobody` can reach; what it printed.
/// The caller must be root.
pub fn reexec_as_nobody(test: &str, env: &str) -> Output {
    let exe = ExeForOthers::new();
    exe.reexec(test, env, "1")
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap_or_else(|e| panic!("re-run {test} as nobody: {e}"))
}

impl Default for ExeForOthers {
    fn default() -> ExeForOthers {
        ExeForOthers::new()
    }
}

impl Drop for ExeForOthers {
    fn drop(&mut self) {
        if let Some(dir) = &self.copy {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Whether a user other than the owner may execute `exe`: every directory
/// above it searchable, and the file executable, by others.
fn reachable_by_others(exe: &Path) -> bool {
    let others_may = |path: &Path, bit: u32| {
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & bit != 0)
    };
    others_may(exe, 0o001) && exe.ancestors().skip(1).all(|dir| others_may(dir, 0o001))
}
