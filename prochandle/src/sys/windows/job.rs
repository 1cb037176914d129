//! The one scope mechanism of Windows: a job object.
//!
//! Every process created by a member is in the job too (nested jobs since
//! Windows 8; breakaway is off). The child is started suspended, assigned,
//! and only then resumed, so it runs no code of its own outside the job.
//! With `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE` the kernel kills the whole job
//! when its last handle closes, which also happens when this process dies
//! in any way: the job's guarantee needs no guardian.

use std::io;
use std::os::windows::io::{AsHandle, FromRawHandle, OwnedHandle};
use std::os::windows::process::CommandExt;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Instant;

use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, TerminateJobObject,
    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
};
use windows_sys::Win32::System::Threading::{
    ResumeThread, CREATE_NEW_PROCESS_GROUP, CREATE_SUSPENDED,
};

use super::api::{check, job_active_processes, raw};
use super::console_group::Leaders;
use super::empty::{EmptyWatch, Listener};
use super::job_control::{self, Suspended};
use super::toolhelp;
use super::{Process, KILL_EXIT_CODE};
use crate::control::{ScopeLimits, ScopeStats};
use crate::error::{Error, ErrorKind, Result};
use crate::mechanism::{Mechanism, MechanismKind, PassedOver};
use crate::sys::scope::{Chosen, Listed, Request, ScopeMechanism, SoftStep, Spec};

/// One job object holding a tree.
#[derive(Debug)]
pub(crate) struct Job {
    /// Shared with the emptiness thread, for its accounting checks.
    job: Arc<OwnedHandle>,
    /// The job's completion port and its reader; `None` if the port could
    /// not be set up, and then emptiness is polled.
    empty: Option<EmptyWatch>,
    kill_on_drop: bool,
    /// The threads a freeze suspended.
    suspended: Suspended,
    /// The leaders of the console groups started here, for the soft step
    /// of a stop.
    leaders: Leaders,
}

fn os(op: &'static str) -> impl FnOnce(io::Error) -> Error {
    move |e| Error::os(op, e)
}

/// A job object, unless another mechanism is forced.
pub(crate) fn new_scope(request: &Request) -> Result<Chosen> {
    let (job, passed_over) = Job::new(request)?;
    Ok(Chosen {
        mechanism: Box::new(job),
        report: Mechanism::JobObject,
        passed_over,
    })
}

impl Job {
    fn new(request: &Request) -> Result<(Job, Vec<PassedOver>)> {
        if !request.wants(MechanismKind::JobObject) {
            return Err(Error::unsupported(
                "scope",
                "on Windows the only mechanism is the job object",
            ));
        }
        // SAFETY: no security attributes, no name; the result is checked.
        let job = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
        if job.is_null() {
            return Err(Error::os("CreateJobObjectW", io::Error::last_os_error()));
        }
        // SAFETY: a fresh handle nobody else owns.
        let job = Arc::new(unsafe { OwnedHandle::from_raw_handle(job as _) });
        // Before any process joins: a message for an exit before the
        // association could be lost.
        let empty = EmptyWatch::start(&job);
        Job::assemble(job, empty, request)
    }

    /// The mechanism of a new `job`, told of its emptiness by `empty` or,
    /// if that could not be set up, polling it (and saying so).
    fn assemble(
        job: Arc<OwnedHandle>,
        empty: io::Result<EmptyWatch>,
        request: &Request,
    ) -> Result<(Job, Vec<PassedOver>)> {
        let mut passed_over = Vec::new();
        let empty = empty
            .inspect_err(|e| {
                passed_over.push(PassedOver::new(MechanismKind::JobObject, no_port(e)))
            })
            .ok();
        let job = Job {
            job,
            empty,
            kill_on_drop: request.kill_on_drop,
            suspended: Suspended::default(),
            leaders: Leaders::default(),
        };
        job.set_kill_on_close(request.kill_on_drop)?;
        Ok((job, passed_over))
    }

    /// Sets or clears kill-on-close, keeping the job's other limits.
    fn set_kill_on_close(&self, on: bool) -> Result<()> {
        job_control::update_limits(self.job.as_handle(), |info| {
            let flags = &mut info.BasicLimitInformation.LimitFlags;
            if on {
                *flags |= JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            } else {
                *flags &= !JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            }
        })
        .map_err(os("SetInformationJobObject"))
    }

    /// The PIDs in the job right now.
    fn pids(&self) -> Result<Vec<u32>> {
        super::api::job_process_ids(self.job.as_handle())
            .map_err(|e| Error::os("QueryInformationJobObject", e))
    }
}

impl ScopeMechanism for Job {
    /// Starts children suspended, to be assigned before they run. The
    /// creation flags set on `command` before are replaced.
    fn prepare(&self, command: &mut Command) {
        command.creation_flags(CREATE_SUSPENDED);
    }

    /// Assigns the suspended child to the job, then lets it run.
    fn started(&self, child: &Child) -> Result<()> {
        // SAFETY: valid job and process handles.
        check(unsafe {
            AssignProcessToJobObject(raw(self.job.as_handle()), raw(child.as_handle()))
        })
        .map_err(os("AssignProcessToJobObject"))?;
        resume_threads(child.id()).map_err(os("ResumeThread"))
    }

    /// A command asking for a console group of its own: started
    /// suspended as the leader of a new console process group, assigned,
    /// resumed, and its leader held for the soft step of a stop. Any
    /// other command goes the std way (`None`).
    fn spawn_direct(&self, spec: &Spec<'_>) -> Result<Option<Process>> {
        if !spec.console_group {
            return Ok(None);
        }
        let cannot_start = |e: io::Error| {
            Error::os("spawn", e).with_detail(format!("cannot start {:?}", spec.program))
        };
        let mut command = spec.std_command().map_err(cannot_start)?;
        command.creation_flags(CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP);
        let mut child = command.spawn().map_err(cannot_start)?;
        let held = self
            .started(&child)
            .and_then(|()| Ok((Process::from_child(&child)?, Process::from_child(&child)?)));
        match held {
            Ok((process, leader)) => {
                self.leaders.add(leader);
                Ok(Some(process))
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e)
            }
        }
    }

    /// Job accounting: no active process.
    fn is_empty(&self) -> Result<bool> {
        let active =
            job_active_processes(self.job.as_handle()).map_err(os("QueryInformationJobObject"))?;
        Ok(active == 0)
    }

    /// The live members, each held by a `HANDLE`.
    fn members(&self) -> Result<Vec<Process>> {
        let mut out = Vec::new();
        for pid in self.pids()? {
            match Process::open(pid) {
                Ok(p) if p.try_wait()?.is_none() => out.push(p),
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Done) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Only `KILL` exists here: `TerminateJobObject`.
    fn signal(&self, sig: i32) -> Result<()> {
        if sig != 9 {
            return Err(Error::unsupported(
                "signal",
                "Windows has no signals; only Signal::KILL (TerminateJobObject)",
            ));
        }
        // SAFETY: a valid job handle.
        check(unsafe { TerminateJobObject(raw(self.job.as_handle()), KILL_EXIT_CODE) })
            .map_err(os("TerminateJobObject"))
    }

    /// `TerminateJobObject` until the job is empty: a process a member
    /// was creating meanwhile is in the job, and the next call ends it.
    fn kill(&self) -> Result<()> {
        loop {
            self.signal(9)?;
            let soon = Instant::now() + std::time::Duration::from_secs(1);
            if self.wait_empty(Some(soon))? {
                return Ok(());
            }
        }
    }

    /// A listener rung at each emptiness of the job from now on (see
    /// `empty.rs`); `None` if the job has no completion port, and then
    /// [`is_empty`](ScopeMechanism::is_empty) has to be polled.
    fn empty_notifier(&self) -> Result<Option<Listener>> {
        let Some(watch) = &self.empty else {
            return Ok(None);
        };
        watch.listen().map(Some).map_err(os("CreateEventW"))
    }

    /// Sleeps on the job's completion port (through a listener) until the
    /// accounting shows no active process, or `deadline`; without a port,
    /// re-checks the accounting with backoff.
    fn wait_empty(&self, deadline: Option<Instant>) -> Result<bool> {
        // A listener that cannot be made (no event handle left) leaves
        // this wait to polling rather than failing it: `kill` relies on it.
        let Some(listener) = self.empty_notifier().ok().flatten() else {
            let found = crate::backoff::poll_until(deadline, || {
                self.is_empty().map(|empty| empty.then_some(()))
            })?;
            return Ok(found.is_some());
        };
        // Listening before the first check: an emptiness after the check
        // rings the listener, one before it is what the check sees.
        loop {
            if self.is_empty()? {
                return Ok(true);
            }
            let timeout = match deadline {
                None => None,
                Some(deadline) => match crate::backoff::time_left(deadline) {
                    Some(left) => Some(left),
                    None => return Ok(false),
                },
            };
            listener.wait(timeout).map_err(os("WaitForSingleObject"))?;
        }
    }

    /// Every thread of every member suspended, sweep after sweep.
    fn freeze(&self) -> Result<()> {
        self.suspended.freeze(self.job.as_handle())
    }

    fn thaw(&self) -> Result<()> {
        self.suspended.thaw();
        Ok(())
    }

    fn is_frozen(&self) -> Result<bool> {
        Ok(self.suspended.is_frozen())
    }

    fn stats(&self) -> Result<ScopeStats> {
        job_control::stats(self.job.as_handle())
    }

    fn set_limits(&self, limits: &ScopeLimits) -> Result<()> {
        job_control::set_limits(self.job.as_handle(), limits)
    }

    fn adopt(&self, process: &Process) -> Result<()> {
        let handle = process.handle().ok_or_else(Error::no_handle)?;
        job_control::adopt(self.job.as_handle(), handle)
    }

    /// The one soft step Windows has: a console Ctrl-Break to each
    /// console group started here that a member is in (see
    /// `console_group.rs`), whatever `sig` is, but none for `KILL`. A
    /// member in no such group, or whose group the console refused, is
    /// listed as not reached; if none is reached, nothing was sent and
    /// the stop goes on to `TerminateJobObject` at once.
    fn stop_signal(&self, sig: i32) -> Result<SoftStep> {
        let members: Vec<Listed> = self.members()?.into_iter().map(Listed::describe).collect();
        let reached = if sig == super::SIGKILL {
            vec![false; members.len()]
        } else {
            let pids: Vec<u32> = members.iter().map(|m| m.process.pid()).collect();
            self.leaders.break_groups(&pids)
        };
        let sent = reached.contains(&true);
        Ok(SoftStep {
            members: members.into_iter().zip(reached).collect(),
            sent,
        })
    }
}

/// The `passed_over` line of a job without a completion port.
fn no_port(e: &io::Error) -> String {
    format!(
        "no completion port for the job ({e}): its emptiness is re-checked \
         on the backoff schedule instead of being reported by the kernel"
    )
}

/// Resumes every thread of the suspended process `pid` (one, its main
/// thread, for a process created suspended).
fn resume_threads(pid: u32) -> io::Result<()> {
    let mut resumed = 0;
    for tid in toolhelp::threads_of(&[pid])? {
        let thread = toolhelp::open_thread(tid).ok_or_else(io::Error::last_os_error)?;
        // SAFETY: a valid thread handle with THREAD_SUSPEND_RESUME.
        unsafe { ResumeThread(raw(thread.as_handle())) };
        resumed += 1;
    }
    if resumed == 0 {
        return Err(io::Error::from(io::ErrorKind::NotFound));
    }
    Ok(())
}

impl Drop for Job {
    fn drop(&mut self) {
        // Suspended threads keep their handles: resume them, so that a
        // tree left running is not left frozen.
        self.suspended.thaw();
        if self.kill_on_drop {
            let _ = self.kill();
        } else {
            // Leave the tree running: closing the last handle must not
            // kill it.
            let _ = self.set_kill_on_close(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::windows::port::tests::{job, pinger};
    use std::time::Duration;

    /// Without a port the job is polled as before, and the report says so.
    #[test]
    fn a_job_without_a_port_is_polled_and_says_so() {
        let request = Request {
            force: None,
            allow_subreaper: false,
            guardian: false,
            guardian_asked: false,
            death_signal: None,
            kill_on_drop: true,
        };
        let refused = io::Error::other("no port here");
        let (container, passed_over) =
            Job::assemble(Arc::new(job()), Err(refused), &request).unwrap();
        let [PassedOver { kind, reason, .. }] = &passed_over[..] else {
            panic!("{passed_over:?}");
        };
        assert_eq!(*kind, MechanismKind::JobObject);
        assert!(reason.contains("no port here"), "{reason}");
        assert!(container.empty_notifier().unwrap().is_none());

        let mut command = pinger();
        container.prepare(&mut command);
        let mut child = command.spawn().unwrap();
        container.started(&child).unwrap();
        let soon = Instant::now() + Duration::from_millis(300);
        assert!(!container.wait_empty(Some(soon)).unwrap(), "a member lives");
        container.kill().unwrap();
        assert!(container.is_empty().unwrap());
        child.wait().unwrap();
    }
}
