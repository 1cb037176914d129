//! `run --leaks=MODE`: what happens to the members of CMD's tree still
//! alive when CMD exits. `kill` ends them silently (the default, as
//! before); `report` names each on stderr (identity, how long it had run,
//! command line) and then kills them; `fail` also turns CMD's success into
//! [`exit_codes::LEAKED`]; `wait` waits for the whole tree to end, the
//! timeout, forwarded signals and `--kill-after` covering all of it (as
//! `systemd-run --wait` waits for a unit).
//!
//! A daemon that closed stdout and stderr is seen here all the same: the
//! tree is held by a cgroup, a keeper, the subreaper or a Windows job,
//! not by its pipes. With `--child-only` or `--foreground` nothing but
//! CMD is held, so nothing is reported.

use prochandle::relay::Event;
use prochandle::{Process, Signal};

use super::watch::Watch;
use crate::cli::Leaks;
use crate::exit_codes;
use crate::output;

/// After CMD exited, before the tree is killed: reports or waits as
/// `mode` says; returns how many members were reported.
pub fn after_exit(mode: Leaks, watch: &mut Watch<'_>) -> prochandle::Result<usize> {
    match mode {
        Leaks::Kill => Ok(0),
        Leaks::Report | Leaks::Fail => {
            let left = watch.containment.leftovers(watch.process);
            for member in &left {
                output::error(format!("run: leaked: {}", describe(member)));
            }
            if !left.is_empty() {
                output::error(format!(
                    "run: {} process(es) left when the command exited; killing them",
                    left.len()
                ));
            }
            Ok(left.len())
        }
        Leaks::Wait => until_tree_ends(watch).map(|()| 0),
    }
}

/// The status `run` exits with: CMD's, unless `--leaks=fail` saw leaks
/// and CMD itself succeeded.
pub fn status(mode: Leaks, leaked: usize, status: u8) -> u8 {
    if mode == Leaks::Fail && leaked > 0 && status == exit_codes::SUCCESS {
        exit_codes::LEAKED
    } else {
        status
    }
}

/// Watches the rest of the tree as CMD was watched (signals forwarded to
/// all of it, the alarm still running) until no member is left.
fn until_tree_ends(watch: &mut Watch<'_>) -> prochandle::Result<()> {
    loop {
        let left = watch.containment.leftovers(watch.process);
        let Some(member) = left.first() else {
            return Ok(());
        };
        match watch.relay.wait(member, watch.alarm)? {
            Event::Exited => {}
            Event::Signal(signal) => watch.on_signal(signal)?,
            Event::TimedOut => {
                watch.alarm = None;
                watch.on_signal(Signal::ALRM)?;
            }
        }
    }
}

/// `IDENTITY, running 2.5s: COMMAND LINE` where `/proc` tells.
#[cfg(target_os = "linux")]
fn describe(member: &Process) -> String {
    use prochandle::linux::ProcessExt as _;
    let name = crate::target::Target::of_process(member);
    let Ok(info) = member.info() else {
        return name.to_string();
    };
    let age = info
        .start_time
        .zip(uptime())
        .and_then(|(start, now)| now.checked_sub(start))
        .map(|age| format!(", running {:.1}s", age.as_secs_f64()))
        .unwrap_or_default();
    let command = info
        .cmdline
        .map(|words| {
            let words: Vec<_> = words.iter().map(|w| w.to_string_lossy()).collect();
            format!(": {}", words.join(" "))
        })
        .unwrap_or_default();
    format!("{name}{age}{command}")
}

/// The time since boot, as `start_time` counts it.
#[cfg(target_os = "linux")]
fn uptime() -> Option<std::time::Duration> {
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    let secs: f64 = text.split_whitespace().next()?.parse().ok()?;
    std::time::Duration::try_from_secs_f64(secs).ok()
}

/// Elsewhere a member is named by its PID.
#[cfg(not(target_os = "linux"))]
fn describe(member: &Process) -> String {
    format!("PID {}", member.pid())
}
