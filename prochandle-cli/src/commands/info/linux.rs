//! Linux: what the kernel tells through the pidfd (`PIDFD_GET_INFO`) or
//! `/proc/<pid>`: identity, parent, ids, cgroup, command line, executable,
//! start time, state.

use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use prochandle::linux::{Ids, InfoSource, ProcessExt, ProcessInfo};
use prochandle::Process;
use serde_json::{json, Value};

use super::row;
use crate::output::{self, Action};
use crate::target::Target;

pub struct Described {
    identity: Option<String>,
    info: ProcessInfo,
    /// How the process is held: `pidfd`, `/proc/<pid> directory` or
    /// `guarded PID`.
    mode: &'static str,
}

pub fn describe(target: &Target) -> Result<Described, String> {
    let process: Process = target.open(Action::Info)?;
    let info = process
        .info()
        .map_err(|e| output::describe(target, Action::Info, &e))?;
    // The identity is taken through the same handle, after the info: both
    // describe the process the handle pins.
    let identity = process.identity().ok().map(|id| id.to_string());
    Ok(Described {
        identity,
        info,
        mode: if process.has_handle() {
            "pidfd"
        } else if process.proc_dir().is_some() {
            "/proc/<pid> directory"
        } else {
            "guarded PID"
        },
    })
}

impl Described {
    fn mode(&self) -> &'static str {
        self.mode
    }

    fn source(&self) -> &'static str {
        match self.info.source {
            InfoSource::PidfdGetInfo => "pidfd_get_info",
            _ => "procfs",
        }
    }

    fn cmdline(&self) -> Option<Vec<String>> {
        self.info.cmdline.as_ref().map(|args| {
            args.iter()
                .map(|a| String::from_utf8_lossy(a.as_bytes()).into_owned())
                .collect()
        })
    }

    pub fn to_json(&self, target: &Target) -> Value {
        let info = &self.info;
        json!({
            "target": target.to_string(),
            "pid": info.pid,
            "identity": self.identity,
            "ppid": info.ppid,
            "uids": ids_json(&info.uids),
            "gids": ids_json(&info.gids),
            "cgroup_id": info.cgroup_id,
            "cgroup": info.cgroup_path,
            "cmdline": self.cmdline(),
            "exe": info.exe.as_ref().map(|p| p.to_string_lossy().into_owned()),
            "start_time_s": info.start_time.map(|d| d.as_secs_f64()),
            "start_unix_s": info.start_time.and_then(start_unix).map(|d| d.as_secs_f64()),
            "state": info.state.map(String::from),
            "threads": info.threads,
            "handle_mode": self.mode(),
            "source": self.source(),
            "coredump": info.coredump.as_ref().map(output::coredump_json),
        })
    }

    pub fn print(&self, target: &Target) {
        let info = &self.info;
        let none = || "-".to_owned();
        row("target", target.to_string());
        row("identity", self.identity.clone().unwrap_or_else(none));
        row("pid", info.pid.to_string());
        row(
            "ppid",
            info.ppid.map(|p| p.to_string()).unwrap_or_else(none),
        );
        row("uids", ids_text(&info.uids));
        row("gids", ids_text(&info.gids));
        let cgroup = match (&info.cgroup_path, info.cgroup_id) {
            (Some(path), Some(id)) => format!("{path} (id {id})"),
            (Some(path), None) => path.clone(),
            (None, Some(id)) => format!("id {id}"),
            (None, None) => none(),
        };
        row("cgroup", cgroup);
        row(
            "cmdline",
            self.cmdline().map(|a| a.join(" ")).unwrap_or_else(none),
        );
        row(
            "exe",
            info.exe
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(none),
        );
        let start = info.start_time.map(|since_boot| {
            let unix = start_unix(since_boot)
                .map(|u| format!(", unix time {}", u.as_secs()))
                .unwrap_or_default();
            format!("{:.2}s after boot{unix}", since_boot.as_secs_f64())
        });
        row("started", start.unwrap_or_else(none));
        let state = info.state.map(|s| format!("{s} ({})", state_name(s)));
        let threads = info
            .threads
            .map(|t| format!(", {t} threads"))
            .unwrap_or_default();
        row("state", state.map(|s| s + &threads).unwrap_or_else(none));
        row(
            "handle",
            format!("{} (info from {})", self.mode(), self.source()),
        );
        if let Some(dump) = info.coredump {
            row("coredump", dump.to_string());
        }
    }
}

fn ids_json(ids: &Ids) -> Value {
    json!({
        "real": ids.real,
        "effective": ids.effective,
        "saved": ids.saved,
        "filesystem": ids.filesystem,
    })
}

fn ids_text(ids: &Ids) -> String {
    format!(
        "{} (effective {}, saved {}, fs {})",
        ids.real, ids.effective, ids.saved, ids.filesystem
    )
}

fn state_name(state: char) -> &'static str {
    match state {
        'R' => "running",
        'S' => "sleeping",
        'D' => "disk sleep",
        'Z' => "zombie",
        'T' => "stopped",
        't' => "tracing stop",
        'X' => "dead",
        'I' => "idle",
        'P' => "parked",
        _ => "unknown",
    }
}

/// The wall-clock start: boot time (`btime` in `/proc/stat`) plus the time
/// since boot.
fn start_unix(since_boot: Duration) -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let btime: u64 = stat
        .lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(btime) + since_boot)
}
