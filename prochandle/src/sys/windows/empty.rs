//! Knowing when a job is empty without polling it: the job is associated
//! with an I/O completion port of its own, to which the kernel posts
//! `JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO` each time the job's active process
//! count drops to zero.
//!
//! A completion port is not a waitable handle, and each packet goes to
//! one dequeuing thread only, while a scope can have several waiters at
//! once (a blocking `wait_empty`, a `Watcher`, another thread's `kill`).
//! So one thread per job takes the packets and turns each emptiness into
//! a ring of every [`Listener`]: an auto-reset event per waiter, which the
//! waiter sleeps on (`WaitForSingleObject`) or hands to the watcher's
//! thread-pool wait. A ring is a hint, never the truth: each waiter
//! confirms it with the job's accounting, so a late packet (the job was
//! refilled meanwhile) or one from a job a member nested in ours (the
//! kernel posts those to every port up the chain) costs one check, and an
//! emptiness before a waiter listened is found by the check it makes
//! right after listening.
//!
//! The association must come before the first process joins the job, or
//! the message for that process's exit can be lost: the container makes
//! it when it creates the job. Windows documents job messages as
//! notifications whose delivery is not guaranteed, so the thread also
//! checks the accounting itself when no packet came for [`SAFETY_NET`]
//! while someone listens, and rings if the job is empty.

use std::io;
use std::os::windows::io::{AsHandle, BorrowedHandle, OwnedHandle};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use windows_sys::Win32::System::Threading::SetEvent;

use super::api::{auto_reset_event, job_active_processes, raw, wait_exit};
use super::port::{self, Packet, JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO};

/// The completion key of the job's own packets.
const JOB_KEY: usize = 1;
/// The completion key of the packet that ends the thread.
const STOP_KEY: usize = 2;
/// How long the thread waits for a packet before it checks the job's
/// accounting itself (only while someone listens). Packets carry every
/// emptiness in practice; this bounds the delay should one be lost, at
/// one cheap query a second per scope being waited for.
const SAFETY_NET: Duration = Duration::from_secs(1);
/// The thread only moves packets: a small stack is plenty.
const STACK: usize = 64 * 1024;

/// What the thread and the listeners share.
#[derive(Debug, Default)]
struct Hub {
    /// One auto-reset event per listener.
    listeners: Mutex<Vec<Arc<OwnedHandle>>>,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, Vec<Arc<OwnedHandle>>> {
        self.listeners.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets every listener's event.
    fn ring(&self) {
        for event in self.lock().iter() {
            // SAFETY: an event handle kept open by the listener list (the
            // listener leaves the list before its handle can close).
            unsafe { SetEvent(raw(event.as_handle())) };
        }
    }
}

/// A job's emptiness, told by its completion port: the port, and the
/// thread that reads it (stopped and joined on drop).
#[derive(Debug)]
pub(crate) struct EmptyWatch {
    hub: Arc<Hub>,
    job: Arc<OwnedHandle>,
    port: Arc<OwnedHandle>,
    thread: Option<JoinHandle<()>>,
}

impl EmptyWatch {
    /// Associates `job` (which must have no process yet) with a new port
    /// and starts the thread that reads it. The job handle is shared with
    /// the thread, for its accounting checks.
    pub(crate) fn start(job: &Arc<OwnedHandle>) -> io::Result<EmptyWatch> {
        EmptyWatch::start_with(job, Some(SAFETY_NET))
    }

    /// `start`, with the thread's own checks after `net` without a packet
    /// (`None`: never, for the tests that show the packets suffice).
    fn start_with(job: &Arc<OwnedHandle>, net: Option<Duration>) -> io::Result<EmptyWatch> {
        let port = Arc::new(port::create()?);
        let hub = Arc::new(Hub::default());
        let thread = {
            let (hub, port, job) = (Arc::clone(&hub), Arc::clone(&port), Arc::clone(job));
            std::thread::Builder::new()
                .name("prochandle-job".into())
                .stack_size(STACK)
                .spawn(move || read_packets(&hub, &port, &job, net))?
        };
        let watch = EmptyWatch {
            hub,
            job: Arc::clone(job),
            port,
            thread: Some(thread),
        };
        // The thread runs before the association, so no packet ever waits
        // in a port that nobody reads; on failure, dropping `watch` stops it.
        port::associate(job.as_handle(), &watch.port, JOB_KEY)?;
        Ok(watch)
    }

    /// A new listener, rung at each emptiness from now on.
    pub(crate) fn listen(&self) -> io::Result<Listener> {
        let event = Arc::new(auto_reset_event()?);
        self.hub.lock().push(Arc::clone(&event));
        Ok(Listener {
            hub: Arc::clone(&self.hub),
            event,
        })
    }

    fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        // A tree left running (no kill on drop) would otherwise go on
        // posting to a port nobody reads. Refused before Windows 8 and by
        // Wine: there the association lasts as long as the job.
        let _ = port::dissociate(self.job.as_handle());
        // If the stop packet cannot be queued the thread is left blocked
        // (never joined) rather than this hanging: it owns what it uses.
        if port::post(&self.port, STOP_KEY, 0).is_ok() {
            let _ = thread.join();
        }
    }
}

impl Drop for EmptyWatch {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The thread: ring the listeners at each emptiness until told to stop.
fn read_packets(hub: &Hub, port: &OwnedHandle, job: &OwnedHandle, net: Option<Duration>) {
    loop {
        let dequeued = port::dequeue(port, net);
        match dequeued {
            Ok(Some(Packet { key: STOP_KEY, .. })) => return,
            Ok(Some(Packet {
                key: JOB_KEY,
                message: JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO,
            })) => hub.ring(),
            // A process joined or exited, or a limit was hit: not ours.
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => {
                // No packet for a while: check, in case one was lost. (A
                // valid port does not fail; if it did, this paces the
                // loop and the checks still ring.)
                if dequeued.is_err() {
                    std::thread::sleep(net.unwrap_or(SAFETY_NET));
                }
                if hub.lock().is_empty() {
                    continue;
                }
                if job_active_processes(job.as_handle()).is_ok_and(|n| n == 0) {
                    hub.ring();
                }
            }
        }
    }
}

/// One waiter's event, set at each emptiness after it was made; leaves
/// the hub on drop.
#[derive(Debug)]
pub(crate) struct Listener {
    hub: Arc<Hub>,
    event: Arc<OwnedHandle>,
}

impl Listener {
    /// The auto-reset event, to wait on (each ring wakes one wait).
    pub(crate) fn event(&self) -> BorrowedHandle<'_> {
        self.event.as_handle()
    }

    /// Sleeps until rung or `timeout` passes (`None`: no limit); returns
    /// whether it was rung.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> io::Result<bool> {
        wait_exit(self.event(), timeout)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // Out of the list first: the thread rings only events in it, so
        // the handle is not in use when it closes after this.
        self.hub.lock().retain(|e| !Arc::ptr_eq(e, &self.event));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::windows::port::tests::{job, member_of};

    const SHORT: Duration = Duration::from_millis(300);
    const PATIENCE: Duration = Duration::from_secs(30);

    /// With the thread's own checks off, only the port's packets can ring:
    /// a listener sleeps while the job has a member and is rung by the
    /// last exit, once.
    #[test]
    fn the_port_alone_rings_each_listener_once_per_emptiness() {
        let job = Arc::new(job());
        let watch = EmptyWatch::start_with(&job, None).unwrap();
        let (first, second) = (watch.listen().unwrap(), watch.listen().unwrap());
        let mut member = member_of(&job);
        assert!(!first.wait(Some(SHORT)).unwrap(), "rung by a join");
        member.kill().unwrap();
        member.wait().unwrap();
        assert!(first.wait(Some(PATIENCE)).unwrap(), "not rung by the exit");
        assert!(
            second.wait(Some(PATIENCE)).unwrap(),
            "only one listener rung"
        );
        assert!(!first.wait(Some(SHORT)).unwrap(), "rung twice");
        // Refilled and emptied again: rung again.
        let mut member = member_of(&job);
        member.kill().unwrap();
        member.wait().unwrap();
        assert!(first.wait(Some(PATIENCE)).unwrap(), "not rung again");
    }

    /// A listener that has left is not rung, and dropping the watch stops
    /// its thread (the drop returns).
    #[test]
    fn a_dropped_listener_leaves_and_the_watch_stops() {
        let job = Arc::new(job());
        let watch = EmptyWatch::start_with(&job, None).unwrap();
        let listener = watch.listen().unwrap();
        drop(listener);
        assert!(watch.hub.lock().is_empty());
        let mut member = member_of(&job);
        member.kill().unwrap();
        member.wait().unwrap();
        drop(watch);
    }
}
