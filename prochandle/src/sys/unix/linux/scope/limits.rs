//! Limits on a scope's cgroup leaf, through the v2 controllers enabled
//! for it: `memory.max` (memory), `pids.max` (pids), `cpu.max` (cpu).
//!
//! A controller's files appear in a cgroup only when its parent lists the
//! controller in `cgroup.subtree_control`. We never write that file: the
//! parent is the caller's own cgroup, which holds the caller, and v2 lets
//! a non-root cgroup with processes enable no domain controller for its
//! children (the no-internal-processes rule). Whoever owns the parent
//! (systemd with `Delegate=`, an administrator) enables them; where that
//! has not happened, the limit is refused with the reason, nothing
//! written: never a silently unlimited scope.

use std::path::Path;

use crate::control::ScopeLimits;
use crate::error::{Error, ErrorKind, Result};

/// One write a limit needs: the controller, its file, the value.
#[derive(Debug, PartialEq, Eq)]
struct Write {
    controller: &'static str,
    file: &'static str,
    value: String,
}

/// The period `cpu.max` is written with, in microseconds (the kernel's
/// default).
const CPU_PERIOD_US: u64 = 100_000;

/// The writes `limits` asks for.
fn planned(limits: &ScopeLimits) -> Result<Vec<Write>> {
    let mut out = Vec::new();
    let mut add = |controller, file, value: String| {
        out.push(Write {
            controller,
            file,
            value,
        })
    };
    if let Some(bytes) = limits.memory_max {
        add("memory", "memory.max", bytes.to_string());
    }
    if let Some(tasks) = limits.tasks_max {
        add("pids", "pids.max", tasks.to_string());
    }
    if let Some(percent) = limits.cpu_max {
        if percent == 0 {
            return Err(Error::new(ErrorKind::InvalidInput, "limits")
                .with_detail("a CPU limit of 0% would stop the tree: use freeze"));
        }
        let quota = u64::from(percent) * CPU_PERIOD_US / 100;
        add("cpu", "cpu.max", format!("{quota} {CPU_PERIOD_US}"));
    }
    Ok(out)
}

/// Applies `limits` to the cgroup at `dir`: every file checked first, so
/// that a refusal changes nothing.
pub(super) fn apply(dir: &Path, limits: &ScopeLimits) -> Result<()> {
    let writes = planned(limits)?;
    if let Some(missing) = writes.iter().find(|w| !dir.join(w.file).exists()) {
        return Err(refusal(dir, missing, &v1_controllers()));
    }
    for w in writes {
        std::fs::write(dir.join(w.file), &w.value).map_err(|e| {
            Error::os("write a cgroup limit", e).with_detail(format!(
                "cannot write {} to {}",
                w.value,
                dir.join(w.file).display()
            ))
        })?;
    }
    Ok(())
}

/// The controllers bound to a cgroup v1 hierarchy (the non-`0:` lines of
/// `/proc/self/cgroup`): on a hybrid system they cannot be enabled on v2.
fn v1_controllers() -> Vec<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with("0:"))
        .filter_map(|l| l.split(':').nth(1))
        .flat_map(|names| names.split(','))
        .map(str::to_owned)
        .collect()
}

/// Why `w` cannot be written under `dir`, and what would allow it.
fn refusal(dir: &Path, w: &Write, on_v1: &[String]) -> Error {
    let parent = dir.parent().unwrap_or(dir);
    let listed = |file: &str| {
        std::fs::read_to_string(parent.join(file))
            .unwrap_or_default()
            .split_whitespace()
            .any(|c| c == w.controller)
    };
    let c = w.controller;
    let reason = if on_v1.iter().any(|v| v == c) {
        format!(
            "the {c} controller is bound to a cgroup v1 hierarchy on this system, so cgroup v2 \
             cannot offer it; boot with the unified hierarchy (systemd.unified_cgroup_hierarchy=1)"
        )
    } else if !listed("cgroup.controllers") {
        format!(
            "the {c} controller is not delegated to {} (its cgroup.controllers lacks it); \
             its owner must delegate it (systemd: a unit with Delegate=yes, e.g. \
             systemd-run --scope -p Delegate=yes)",
            parent.display()
        )
    } else {
        format!(
            "the {c} controller is not enabled for the children of {} (cgroup.subtree_control \
             lacks +{c}); the kernel allows enabling it only in a cgroup holding no process, \
             and this one holds this program: run it in a delegated cgroup whose parent \
             enables {c}",
            parent.display()
        )
    };
    Error::unsupported(
        "limits",
        format!("cannot set {} ({c} controller): {reason}", w.file),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory laid out like a cgroup leaf and its parent, with the
    /// controller files of `enabled`.
    fn fake_cgroup(tag: &str, enabled: &[&str]) -> std::path::PathBuf {
        let parent = std::env::temp_dir().join(format!(
            "prochandle-fake-cgroup-{tag}-{}",
            std::process::id()
        ));
        let leaf = parent.join("leaf");
        std::fs::create_dir_all(&leaf).unwrap();
        std::fs::write(parent.join("cgroup.controllers"), enabled.join(" ")).unwrap();
        std::fs::write(parent.join("cgroup.subtree_control"), "").unwrap();
        for file in enabled.iter().map(|c| format!("{c}.max")) {
            std::fs::write(leaf.join(file), "max\n").unwrap();
        }
        leaf
    }

    fn read(dir: &Path, file: &str) -> String {
        std::fs::read_to_string(dir.join(file)).unwrap()
    }

    #[test]
    fn every_limit_is_written_in_the_kernels_format() {
        let leaf = fake_cgroup("all", &["memory", "pids", "cpu"]);
        let limits = ScopeLimits::new()
            .memory_max(64 << 20)
            .tasks_max(32)
            .cpu_max(150);
        apply(&leaf, &limits).unwrap();
        assert_eq!(read(&leaf, "memory.max"), "67108864");
        assert_eq!(read(&leaf, "pids.max"), "32");
        assert_eq!(read(&leaf, "cpu.max"), "150000 100000");
        std::fs::remove_dir_all(leaf.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_missing_controller_is_refused_by_name_and_nothing_is_written() {
        let leaf = fake_cgroup("missing", &["pids"]);
        let limits = ScopeLimits::new().tasks_max(8).memory_max(1 << 20);
        let err = apply(&leaf, &limits).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        let text = err.to_string();
        assert!(text.contains("memory controller"), "{text}");
        assert_eq!(read(&leaf, "pids.max"), "max\n", "nothing written");
        // The reasons: on v1, not delegated, not enabled below.
        let w = &planned(&ScopeLimits::new().memory_max(1)).unwrap()[0];
        let v1 = refusal(&leaf, w, &["memory".into()]).to_string();
        assert!(v1.contains("cgroup v1"), "{v1}");
        let undelegated = refusal(&leaf, w, &[]).to_string();
        assert!(undelegated.contains("not delegated"), "{undelegated}");
        std::fs::write(leaf.parent().unwrap().join("cgroup.controllers"), "memory").unwrap();
        let below = refusal(&leaf, w, &[]).to_string();
        assert!(below.contains("subtree_control"), "{below}");
        std::fs::remove_dir_all(leaf.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_zero_cpu_limit_is_invalid() {
        let err = planned(&ScopeLimits::new().cpu_max(0)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
}
