//! The Linux scope mechanisms, best first: a cgroup v2 leaf (`cgroup.rs`,
//! killed by `cgroup.kill` or by freezing), this process as the child
//! subreaper (`subreaper.rs`), a keeper per spawn (`kept.rs`: the
//! unprivileged default, which holds the tree when the owner dies), a
//! process group listed through `/proc` (`group.rs`). `choose.rs` ranks
//! them; `owner.rs` is the owner-death protection they share (death
//! signal, guardian), `group_leaders.rs` the spawning of the subreaper and
//! the group (a new group per first child; the keeper scope holds its
//! `spawn_child` members that way too); `accounting.rs`, `limits.rs` and
//! `stop_sweeps.rs` serve the control of a tree (stats, limits, freezing
//! by signals). The raw pieces stay beside this directory:
//! `../cgroup.rs`, `../subreaper.rs`, `../guardian.rs`, `../spawn/`.

pub(super) mod accounting;
mod cgroup;
mod choose;
mod group;
mod group_leaders;
mod kept;
mod limits;
mod owner;
mod stop_sweeps;
mod subreaper;

use std::collections::HashSet;
use std::io;

pub(crate) use choose::new_scope;

use super::spawn::{self, Place, Spawned, Spec};
use super::Process;
use crate::error::{Error, ErrorKind, Result};

/// Opens `pid` for a member list; `None` if it is gone already.
fn pin(pid: i32) -> Result<Option<Process>> {
    match Process::open(pid as u32) {
        Ok(p) => Ok(Some(p)),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Done) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Pins every PID of `list()`, then keeps those that `list()` still names
/// while they are pinned: a PID reused between the two reads names a
/// process outside the scope, which the second read does not list.
fn pin_listed(list: impl Fn() -> io::Result<Vec<i32>>) -> Result<Vec<Process>> {
    let os = |e| Error::os("list members", e);
    let mut pinned = Vec::new();
    for pid in list().map_err(os)? {
        pinned.extend(pin(pid)?);
    }
    let now: HashSet<i32> = list().map_err(os)?.into_iter().collect();
    pinned.retain(|p| now.contains(&(p.pid() as i32)));
    Ok(pinned)
}

/// Sends `sig` to each pinned member; one that exited meanwhile is skipped.
fn signal_each(members: &[Process], sig: i32) -> Result<()> {
    for member in members {
        match member.signal(sig) {
            Err(e) if e.kind() != ErrorKind::Done => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// `SIGKILL`s the pinned members `list()` names, pass after pass, until a
/// pass finds nobody: a member forked during one pass is listed by the
/// next. Each pass kills a generation, and a process being killed forks
/// no more (the kernel aborts a fork when a fatal signal is pending), so
/// the passes end.
fn kill_listed(list: impl Fn() -> io::Result<Vec<i32>>) -> Result<()> {
    loop {
        let members = pin_listed(&list)?;
        if members.is_empty() {
            return Ok(());
        }
        signal_each(&members, libc::SIGKILL)?;
        std::thread::yield_now();
    }
}

/// The fast spawn into `place`, arming `death_signal`, calling `ready`
/// once the spawn is prepared and before the child exists (see
/// `spawn::Ready`), recording the child with `started`; `None` when the
/// caller must go through std's `Command`.
fn spawn_direct(
    place: Place<'_>,
    spec: &Spec<'_>,
    death_signal: Option<i32>,
    ready: impl FnOnce() -> Result<()>,
    started: impl FnOnce(u32) -> Result<()>,
) -> Result<Option<Process>> {
    if !spawn::available() {
        return Ok(None);
    }
    let spec = Spec {
        death_signal,
        ..*spec
    };
    // The child's pin (a pidfd) is opened once the child runs: a process
    // out of descriptors must fail before the child starts, as std's
    // spawn does (it needs a pipe first). One descriptor is held until the
    // pin is opened (another thread may still take it meanwhile: then the
    // child is killed and the error returned, as before).
    let reserved = rustix::fs::open(
        "/",
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| {
        Error::os("spawn", e.into()).with_detail(format!("cannot start {:?}", spec.program))
    })?;
    let cannot = |e| Error::os("spawn", e).with_detail(format!("cannot start {:?}", spec.program));
    let prepared = spawn::Ready::new(&spec).map_err(cannot)?;
    ready()?;
    let spawned = prepared.spawn(place);
    drop(reserved);
    let pid = match spawned {
        Ok(Spawned::Child(pid)) => pid,
        Ok(Spawned::Refused) => return Ok(None),
        Err(e) => return Err(cannot(e)),
    };
    let process = Process::from_child_pid(pid).inspect_err(|_| spawn::reap(pid))?;
    if let Err(err) = started(pid as u32) {
        let _ = process.signal(libc::SIGKILL);
        let _ = process.wait_until(None);
        return Err(err);
    }
    Ok(Some(process))
}
