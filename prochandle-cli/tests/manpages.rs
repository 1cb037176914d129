//! The checked-in manual pages are exactly what `prochandle manpages`
//! makes from today's clap definitions.
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;

const REGENERATE: &str = "cargo run -p prochandle-cli -- manpages prochandle-cli/man";

fn pages(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// A fresh directory, removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn checked_in_pages_match_the_clap_definitions() {
    let fresh =
        TempDir(std::env::temp_dir().join(format!("prochandle-man-{}", std::process::id())));
    let out = run(&["manpages", fresh.0.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let made = pages(&fresh.0);
    let kept = pages(&Path::new(env!("CARGO_MANIFEST_DIR")).join("man"));
    assert!(made.contains_key("prochandle.1") && made.contains_key("prochandle-kill.1"));
    assert_eq!(
        made.keys().collect::<Vec<_>>(),
        kept.keys().collect::<Vec<_>>(),
        "pages added or removed: run `{REGENERATE}`"
    );
    for (name, text) in &made {
        assert!(
            &kept[name] == text,
            "prochandle-cli/man/{name} is out of date: run `{REGENERATE}`"
        );
    }
}

#[test]
fn an_unwritable_directory_is_one_error_line() {
    let out = run(&["manpages", "/proc/no-such-dir/man1"]);
    assert_eq!(code(&out), 1);
    one_error_line(&out, &["manpages", "/proc/no-such-dir/man1"]);
}
