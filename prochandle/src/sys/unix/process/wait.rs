//! Waiting and reaping: `try_wait`, `wait_until` and `has_exited`, under
//! the rules of the parent module's "Who may reap, and when".

use std::io;
use std::time::{Duration, Instant};

use super::{Process, Relation, SPURIOUS_READINESS_NAP};
use crate::backoff::{self, REAP_GRACE};
use crate::capabilities::Feature;
use crate::error::{Error, Result};
use crate::state::{ExitStatus, ProcessState, UnknownReason};
use crate::sys::timeout::remaining;
use crate::sys::unix::backend::{capabilities, Backend, WaitTarget, Waited};
use crate::sys::unix::pin::{self, Pin};

/// The first pause while a non-child's status is awaited from the kernel.
const REAP_FIRST_LOOK: Duration = Duration::from_micros(20);

impl<B: Backend> Process<B> {
    pub(crate) fn try_wait(&self) -> Result<Option<ProcessState>> {
        if let Some(state) = self.state.get() {
            return Ok(Some(*state));
        }
        match self.relation {
            Relation::Current => Ok(None),
            Relation::Child => self.reap_if_exited(),
            Relation::Other => {
                if self.exited_now()? {
                    Ok(Some(self.nonchild_state(Duration::ZERO)))
                } else {
                    Ok(None)
                }
            }
        }
    }

    /// Waits until the process exits (`Some`) or `deadline` passes
    /// (`None`); without a deadline it returns only on exit.
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> Result<Option<ProcessState>> {
        if let Some(state) = self.state.get() {
            return Ok(Some(*state));
        }
        if self.relation == Relation::Current {
            return crate::sys::self_wait::wait_for_self(deadline);
        }
        loop {
            if self.relation == Relation::Child {
                if let Some(state) = self.reap_if_exited()? {
                    return Ok(Some(state));
                }
            } else if self.exited_now()? {
                let grace = REAP_GRACE.min(remaining(deadline).unwrap_or(REAP_GRACE));
                return Ok(Some(self.nonchild_state(grace)));
            }
            if !self.block_until_exit(deadline)? {
                return Ok(None);
            }
        }
    }

    /// Sleeps until the process has (probably) exited or the deadline
    /// passes, without reaping. `false` means the deadline passed. A `true`
    /// may be spurious (readiness under ptrace): callers re-check.
    fn block_until_exit(&self, deadline: Option<Instant>) -> Result<bool> {
        if let Pin::Handle(handle) = &self.pin {
            let ready = B::poll_exit(handle, deadline).map_err(|e| Error::os("poll", e))?;
            if ready && !self.exited_now()? {
                // Readable yet not exited: don't spin on a level-triggered
                // spurious readiness.
                std::thread::sleep(SPURIOUS_READINESS_NAP);
            }
            return Ok(ready);
        }
        if self.relation == Relation::Child && deadline.is_none() {
            // Without a deadline, a child can be awaited by blocking in
            // waitid(WNOWAIT): no polling.
            return match self.peek_child_exit(true) {
                Ok(_) => Ok(true),
                Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Ok(true),
                Err(e) => Err(Error::os("waitid", e)),
            };
        }
        B::sleep_until_exit_guarded(self.pid, deadline, || self.exited_now())
    }

    /// Whether the process has exited, without reaping it: the public
    /// `has_exited`. A child is asked under the reap lock, so that a PID
    /// target cannot be reaped (and its PID reused) by another thread's
    /// wait while `waitid(WNOWAIT)` looks at it; once reaped, the stored
    /// state answers.
    pub(crate) fn has_exited(&self) -> Result<bool> {
        if self.relation == Relation::Child {
            let _lock = self.reap_lock.lock().unwrap_or_else(|e| e.into_inner());
            return self.exited_now();
        }
        self.exited_now()
    }

    /// Whether the process has exited, without reaping it.
    pub(super) fn exited_now(&self) -> Result<bool> {
        if self.state.get().is_some() {
            return Ok(true);
        }
        match self.relation {
            Relation::Current => Ok(false),
            Relation::Child => match self.peek_child_exit(false) {
                Ok(exited) => Ok(exited),
                // Reaped by someone else: certainly exited.
                Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Ok(true),
                Err(e) => Err(Error::os("waitid", e)),
            },
            Relation::Other => {
                if let Pin::Handle(handle) = &self.pin {
                    let readable = B::poll_exit(handle, Some(Instant::now()))
                        .map_err(|e| Error::os("poll", e))?;
                    // Reaped (signal 0 through the handle fails): exited, even
                    // if a newcomer of the same clock tick holds the PID. Else
                    // confirm by identity below: ptrace can wake a poll early.
                    if !readable || !B::handle_alive(handle) {
                        return Ok(readable);
                    }
                }
                Ok(!pin::running_unhandled::<B>(
                    &self.pin,
                    self.pid,
                    self.start_time,
                )?)
            }
        }
    }

    fn wait_target(&self) -> WaitTarget<'_, B::Handle> {
        match &self.pin {
            Pin::Handle(handle) => WaitTarget::Handle(handle),
            _ => WaitTarget::Pid(self.pid),
        }
    }

    /// `waitid(WEXITED | WNOWAIT)`: has our child exited? Never reaps.
    pub(super) fn peek_child_exit(&self, block: bool) -> io::Result<bool> {
        let flags = libc::WNOWAIT | if block { 0 } else { libc::WNOHANG };
        B::waitid(self.wait_target(), flags).map(|w| w.is_some())
    }

    /// Reaps our child if it has exited, storing its state; the one place
    /// that reaps.
    fn reap_if_exited(&self) -> Result<Option<ProcessState>> {
        let _lock = self.reap_lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = self.state.get() {
            return Ok(Some(*state));
        }
        let state = match B::waitid(self.wait_target(), libc::WNOHANG) {
            Ok(None) => return Ok(None),
            Ok(Some(Waited { status, usage })) => {
                ProcessState::new(self.pid as u32, status, Some(usage))
            }
            Err(e) if e.raw_os_error() == Some(libc::ECHILD) => {
                let status = self
                    .exit_status_from_kernel()
                    .unwrap_or(ExitStatus::Unknown(UnknownReason::ReapedElsewhere));
                ProcessState::new(self.pid as u32, status, None)
            }
            Err(e) => return Err(Error::os("waitid", e)),
        };
        let state = self.with_kernel_coredump(state);
        Ok(Some(*self.state.get_or_init(|| state)))
    }

    /// The state of a non-child that has exited. Its status is known only
    /// where the kernel records it for everyone (`PIDFD_INFO_EXIT`), and only
    /// once its parent has reaped it, so wait up to `grace` for that.
    fn nonchild_state(&self, grace: Duration) -> ProcessState {
        if !self.can_read_exit_status() {
            return self.cache_state(ExitStatus::Unknown(UnknownReason::NotOurChild));
        }
        let give_up = Instant::now() + grace;
        // A parent that watches its children (a keeper, a supervisor)
        // reaps within microseconds of the exit: look again soon, then
        // back off as usual.
        let schedule = backoff::Backoff::starting_at(REAP_FIRST_LOOK);
        let found = backoff::poll_on(schedule, Some(give_up), || {
            Ok::<_, std::convert::Infallible>(self.exit_status_from_kernel())
        });
        match found {
            Ok(Some(status)) => self.cache_state(status),
            // Not cached: a later wait may still learn the status.
            Ok(None) => ProcessState::new(
                self.pid as u32,
                ExitStatus::Unknown(UnknownReason::NotReapedYet),
                None,
            ),
        }
    }

    fn cache_state(&self, status: ExitStatus) -> ProcessState {
        let state = self.with_kernel_coredump(ProcessState::new(self.pid as u32, status, None));
        *self.state.get_or_init(|| state)
    }

    /// `state` with the kernel's core dump record, for a process that died
    /// by a signal, where the kernel keeps one (`PIDFD_INFO_COREDUMP`).
    fn with_kernel_coredump(&self, state: ProcessState) -> ProcessState {
        // Only a signal whose default action dumps core can leave a record
        // (asking would probe every feature for a process that only ever
        // sees SIGKILL, such as `run`'s guardian).
        let may_dump = state.signal().is_some_and(|s| {
            [
                libc::SIGQUIT,
                libc::SIGILL,
                libc::SIGTRAP,
                libc::SIGABRT,
                libc::SIGBUS,
                libc::SIGFPE,
                libc::SIGSEGV,
                libc::SIGXCPU,
                libc::SIGXFSZ,
                libc::SIGSYS,
            ]
            .contains(&s.as_raw())
        });
        if !may_dump || !capabilities::<B>().is_available(Feature::PidfdInfoCoredump) {
            return state;
        }
        let dump = self.pin.handle().and_then(B::kernel_coredump);
        state.with_coredump(dump)
    }

    fn can_read_exit_status(&self) -> bool {
        self.pin.handle().is_some() && capabilities::<B>().is_available(Feature::PidfdInfoExit)
    }

    /// The status the kernel kept at reaping time, where it keeps one.
    fn exit_status_from_kernel(&self) -> Option<ExitStatus> {
        if !self.can_read_exit_status() {
            return None;
        }
        self.pin.handle().and_then(B::kernel_exit_status)
    }
}
