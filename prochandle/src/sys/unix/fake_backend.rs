//! A scripted Unix OS, for unit tests of the state machine in `process.rs`:
//! each test makes processes of its own ([`Scripted`]), says what happens
//! to them (exit, reaping by their parent, their PID handed to another
//! process), and reads back what the state machine asked of the OS (how
//! often it reaped, which signals reached which process).
//!
//! Fake PIDs start at 2^30, above Linux's largest `pid_max` (2^22), and the
//! backend's `kill` is scripted too: no real process is ever signalled.
//! Handles and directory pins carry a real descriptor (`/dev/null`,
//! close-on-exec) only because the seam's types must be `AsFd`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use super::backend::{Backend, Stat, WaitTarget, Waited};
use crate::capabilities::{Availability, Capabilities, Feature};
use crate::error::{Error, Result};
use crate::state::{Coredump, ExitStatus, ResourceUsage};

/// Which tier the scripted system offers: its own probe report.
pub(super) trait Tier: Send + Sync + 'static {
    fn report() -> &'static Capabilities;
}

/// The report of a system where exactly `available` works.
fn report(available: &[Feature]) -> Capabilities {
    let probed = Feature::ALL
        .iter()
        .map(|&f| {
            let availability = if available.contains(&f) {
                Availability::Available
            } else {
                Availability::unavailable(None, "scripted away")
            };
            (f, availability)
        })
        .collect();
    Capabilities::new(probed, "scripted".into(), false)
}

// One type per tier, each with its own cached report (a static in a
// generic function would be shared by every tier).
macro_rules! tier {
    ($(#[$doc:meta])* $name:ident: $($feature:ident),*) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub(super) struct $name;

        impl Tier for $name {
            fn report() -> &'static Capabilities {
                static REPORT: OnceLock<Capabilities> = OnceLock::new();
                REPORT.get_or_init(|| report(&[$(Feature::$feature),*]))
            }
        }
    };
}

tier!(
    /// Process handles (pidfds).
    Handles: ProcessHandle, PidfdOpen, PidfdSendSignal, WaitidPidfd
);
tier!(
    /// `/proc/<pid>` directories that take signals (`pidfd_send_signal`).
    Dirs: ProcDirHandle, ProcDirSignal
);
tier!(
    /// `/proc/<pid>` directories, signals by `kill` after the exact check.
    DirsThenKill: ProcDirHandle
);
tier!(
    /// Neither: the PID guarded by its start time.
    Pids:
);

/// The scripted OS in the tier `T`.
#[derive(Debug)]
pub(super) struct Fake<T>(PhantomData<T>);

/// Where a process is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    Running,
    /// A zombie, with what its parent will be told.
    Exited(ExitStatus),
    Reaped,
}

/// What holds one PID, and what the state machine did to it.
#[derive(Debug)]
struct Slot {
    /// Which process holds the PID: 1 for the first, one more per reuse.
    generation: u32,
    start_time: u64,
    life: Life,
    /// Whether `waitid` answers for it (our child).
    child: bool,
    /// Every signal that reached a process, with that process's generation.
    signals: Vec<(u32, i32)>,
    /// Successful reaps.
    reaps: u32,
    /// Reaping `waitid` calls after the reap (each an `ECHILD`).
    late_reaping_calls: u32,
}

static SLOTS: Mutex<BTreeMap<i32, Slot>> = Mutex::new(BTreeMap::new());
/// Notified on every scripted change, for blocked waits and polls.
static CHANGED: Condvar = Condvar::new();

fn slots() -> MutexGuard<'static, BTreeMap<i32, Slot>> {
    SLOTS.lock().unwrap_or_else(|e| e.into_inner())
}

fn esrch() -> io::Error {
    io::Error::from_raw_os_error(libc::ESRCH)
}

fn echild() -> io::Error {
    io::Error::from_raw_os_error(libc::ECHILD)
}

/// A process of one test, removed from the scripted OS when dropped.
#[derive(Debug)]
pub(super) struct Scripted {
    pub(super) pid: i32,
}

impl Scripted {
    /// A running child of ours that started at `start_time`.
    pub(super) fn child(start_time: u64) -> Scripted {
        Scripted::new(start_time, true)
    }

    /// A running process that is not our child.
    pub(super) fn stranger(start_time: u64) -> Scripted {
        Scripted::new(start_time, false)
    }

    fn new(start_time: u64, child: bool) -> Scripted {
        static NEXT: AtomicI32 = AtomicI32::new(1 << 30);
        let pid = NEXT.fetch_add(1, Ordering::Relaxed);
        let slot = Slot {
            generation: 1,
            start_time,
            life: Life::Running,
            child,
            signals: Vec::new(),
            reaps: 0,
            late_reaping_calls: 0,
        };
        slots().insert(pid, slot);
        Scripted { pid }
    }

    pub(super) fn pid(&self) -> u32 {
        self.pid as u32
    }

    fn change(&self, f: impl FnOnce(&mut Slot)) {
        f(slots().get_mut(&self.pid).expect("scripted process"));
        CHANGED.notify_all();
    }

    fn read<R>(&self, f: impl FnOnce(&Slot) -> R) -> R {
        f(slots().get(&self.pid).expect("scripted process"))
    }

    /// The process exits with `status` and is a zombie until reaped.
    pub(super) fn exit(&self, status: ExitStatus) {
        self.change(|slot| slot.life = Life::Exited(status));
    }

    /// Its parent (not us) reaps it: the PID is free.
    pub(super) fn reaped_by_parent(&self) {
        self.change(|slot| slot.life = Life::Reaped);
    }

    /// The free PID goes to a new process, not our child, started at
    /// `start_time`.
    pub(super) fn reused(&self, start_time: u64) {
        self.change(|slot| {
            assert_eq!(slot.life, Life::Reaped, "only a free PID is reused");
            slot.generation += 1;
            slot.start_time = start_time;
            slot.life = Life::Running;
            slot.child = false;
        });
    }

    /// The signals that reached process number `generation` of this PID.
    pub(super) fn signals_to(&self, generation: u32) -> Vec<i32> {
        self.read(|slot| {
            let to = slot.signals.iter().filter(|(g, _)| *g == generation);
            to.map(|(_, sig)| *sig).collect()
        })
    }

    /// Every signal that reached any holder of the PID.
    pub(super) fn signals(&self) -> usize {
        self.read(|slot| slot.signals.len())
    }

    pub(super) fn reaps(&self) -> u32 {
        self.read(|slot| slot.reaps)
    }

    pub(super) fn late_reaping_calls(&self) -> u32 {
        self.read(|slot| slot.late_reaping_calls)
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        slots().remove(&self.pid);
    }
}

/// A handle or a directory pin: the process it was opened on.
#[derive(Debug)]
pub(super) struct Pinned {
    fd: OwnedFd,
    pid: i32,
    generation: u32,
}

impl AsFd for Pinned {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl From<Pinned> for OwnedFd {
    fn from(pinned: Pinned) -> OwnedFd {
        pinned.fd
    }
}

/// Pins the process that holds `pid` now, if any.
fn pin(pid: i32) -> Option<Pinned> {
    let generation = slots()
        .get(&pid)
        .filter(|slot| slot.life != Life::Reaped)?
        .generation;
    let fd = File::open("/dev/null").expect("open /dev/null").into();
    Some(Pinned {
        fd,
        pid,
        generation,
    })
}

/// The pinned process's slot while it is unreaped (it holds the PID).
fn pinned_slot<'a>(slots: &'a mut BTreeMap<i32, Slot>, pinned: &Pinned) -> Option<&'a mut Slot> {
    slots
        .get_mut(&pinned.pid)
        .filter(|slot| slot.generation == pinned.generation && slot.life != Life::Reaped)
}

/// A signal through a pin: to exactly its process, or nobody.
fn signal_pinned(pinned: &Pinned, sig: i32) -> io::Result<()> {
    let mut slots = slots();
    let slot = pinned_slot(&mut slots, pinned).ok_or_else(esrch)?;
    slot.signals.push((slot.generation, sig));
    Ok(())
}

fn stat_of(slot: &Slot) -> Stat {
    Stat {
        start_time: slot.start_time,
        exited: matches!(slot.life, Life::Exited(_)),
    }
}

impl<T: Tier> Backend for Fake<T> {
    type Handle = Pinned;
    type ProcDir = Pinned;

    fn probe() -> Capabilities {
        T::report().clone()
    }

    fn capabilities() -> &'static Capabilities {
        T::report()
    }

    fn open_handle(pid: i32) -> io::Result<Pinned> {
        pin(pid).ok_or_else(esrch)
    }

    fn adopt_handle(_fd: OwnedFd) -> Result<(i32, Pinned)> {
        Err(Error::unsupported("from_handle", "not scripted"))
    }

    fn open_proc_dir(pid: i32) -> Result<Pinned> {
        pin(pid).ok_or_else(|| Error::not_found("open", pid.into()))
    }

    fn proc_dir_stat(dir: &Pinned) -> io::Result<Option<Stat>> {
        Ok(pinned_slot(&mut slots(), dir).map(|slot| stat_of(slot)))
    }

    fn proc_dir_signal(dir: &Pinned, sig: i32) -> io::Result<()> {
        signal_pinned(dir, sig)
    }

    fn kill(pid: i32, sig: i32) -> io::Result<()> {
        // By PID: whoever holds it now.
        let mut slots = slots();
        let slot = slots
            .get_mut(&pid)
            .filter(|slot| slot.life != Life::Reaped)
            .ok_or_else(esrch)?;
        slot.signals.push((slot.generation, sig));
        Ok(())
    }

    fn refuse_thread(_pid: i32) -> Result<()> {
        Ok(())
    }

    fn handle_alive(handle: &Pinned) -> bool {
        pinned_slot(&mut slots(), handle).is_some()
    }

    fn send_signal(handle: &Pinned, sig: i32) -> io::Result<()> {
        signal_pinned(handle, sig)
    }

    fn poll_exit(handle: &Pinned, deadline: Option<Instant>) -> io::Result<bool> {
        let mut slots = slots();
        loop {
            let running = pinned_slot(&mut slots, handle).map(|slot| slot.life == Life::Running);
            if running != Some(true) {
                return Ok(true);
            }
            slots = match deadline {
                None => CHANGED.wait(slots).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(false);
                    }
                    let waited = CHANGED.wait_timeout(slots, left);
                    waited.unwrap_or_else(|e| e.into_inner()).0
                }
            };
        }
    }

    fn kernel_exit_status(_handle: &Pinned) -> Option<ExitStatus> {
        None
    }

    fn kernel_coredump(_handle: &Pinned) -> Option<Coredump> {
        None
    }

    fn stat(pid: i32) -> io::Result<Option<Stat>> {
        let slots = slots();
        let slot = slots.get(&pid).filter(|slot| slot.life != Life::Reaped);
        Ok(slot.map(stat_of))
    }

    fn waitid(target: WaitTarget<'_, Pinned>, flags: libc::c_int) -> io::Result<Option<Waited>> {
        let (pid, generation) = match target {
            WaitTarget::Handle(handle) => (handle.pid, Some(handle.generation)),
            WaitTarget::Pid(pid) => (pid, None),
        };
        let reaping = flags & libc::WNOWAIT == 0;
        let mut slots = slots();
        loop {
            let slot = slots.get_mut(&pid).ok_or_else(echild)?;
            let ours = slot.child && generation.is_none_or(|g| g == slot.generation);
            match slot.life {
                _ if !ours => return Err(echild()),
                Life::Reaped => {
                    slot.late_reaping_calls += u32::from(reaping);
                    return Err(echild());
                }
                Life::Exited(status) => {
                    if reaping {
                        slot.life = Life::Reaped;
                        slot.reaps += 1;
                    }
                    let usage = ResourceUsage::default();
                    return Ok(Some(Waited { status, usage }));
                }
                Life::Running if flags & libc::WNOHANG != 0 => return Ok(None),
                Life::Running => slots = CHANGED.wait(slots).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }
}
