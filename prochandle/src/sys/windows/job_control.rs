//! Controlling a job's tree beyond containing it: suspending every thread
//! (freeze), the job's accounting, its limits, adopting a process.

use std::io;
use std::os::windows::io::{AsHandle, BorrowedHandle, OwnedHandle};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, IsProcessInJob, JobObjectBasicAccountingInformation,
    JobObjectCpuRateControlInformation, JobObjectExtendedLimitInformation,
    QueryInformationJobObject, SetInformationJobObject, JOBOBJECT_BASIC_ACCOUNTING_INFORMATION,
    JOBOBJECT_CPU_RATE_CONTROL_INFORMATION, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JOB_OBJECT_CPU_RATE_CONTROL_ENABLE, JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP,
    JOB_OBJECT_LIMIT_ACTIVE_PROCESS, JOB_OBJECT_LIMIT_JOB_MEMORY,
};
use windows_sys::Win32::System::Threading::{ResumeThread, SuspendThread};

use super::api::{check, job_process_ids, raw};
use super::toolhelp;
use crate::control::{Measure, ScopeLimits, ScopeStats};
use crate::error::{Error, ErrorKind, Result};

fn os(op: &'static str) -> impl FnOnce(io::Error) -> Error {
    move |e| Error::os(op, e)
}

/// The threads a freeze suspended, each held by a handle (so its ID names
/// no other thread until the thaw).
#[derive(Debug, Default)]
pub(super) struct Suspended {
    threads: Mutex<Vec<(u32, OwnedHandle)>>,
    frozen: AtomicBool,
}

impl Suspended {
    /// Suspends every thread of every process in `job`, sweep after sweep
    /// until a sweep finds no thread it has not suspended: a thread that
    /// was creating a process or thread when a sweep began has made it by
    /// the next one, which then suspends that too.
    pub(super) fn freeze(&self, job: BorrowedHandle<'_>) -> Result<()> {
        self.frozen.store(true, Ordering::SeqCst);
        let mut held = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let pids = job_process_ids(job).map_err(os("QueryInformationJobObject"))?;
            let mut new = 0;
            let threads = toolhelp::threads_of(&pids).map_err(os("CreateToolhelp32Snapshot"))?;
            for tid in threads {
                if held.iter().any(|(t, _)| *t == tid) {
                    continue;
                }
                let Some(thread) = toolhelp::open_thread(tid) else {
                    continue; // exited meanwhile
                };
                // SAFETY: a valid thread handle with THREAD_SUSPEND_RESUME.
                if unsafe { SuspendThread(raw(thread.as_handle())) } != u32::MAX {
                    held.push((tid, thread));
                    new += 1;
                }
            }
            if new == 0 {
                return Ok(());
            }
        }
    }

    /// Resumes every thread the freeze suspended.
    pub(super) fn thaw(&self) {
        self.frozen.store(false, Ordering::SeqCst);
        let mut held = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        for (_, thread) in held.drain(..) {
            // SAFETY: a valid thread handle with THREAD_SUSPEND_RESUME.
            unsafe { ResumeThread(raw(thread.as_handle())) };
        }
    }

    pub(super) fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::SeqCst)
    }
}

/// Reads one fixed-size information class of `job`.
fn query<T>(job: BorrowedHandle<'_>, class: i32) -> io::Result<T> {
    // SAFETY: only used with plain C structs of integers: all-zero is valid.
    let mut info: T = unsafe { std::mem::zeroed() };
    // SAFETY: a valid job handle and a struct of the size passed.
    check(unsafe {
        QueryInformationJobObject(
            raw(job),
            class,
            (&mut info as *mut T).cast(),
            std::mem::size_of::<T>() as u32,
            std::ptr::null_mut(),
        )
    })?;
    Ok(info)
}

/// Writes one fixed-size information class of `job`.
fn set<T>(job: BorrowedHandle<'_>, class: i32, info: &T) -> io::Result<()> {
    // SAFETY: a valid job handle and a struct of the size passed.
    check(unsafe {
        SetInformationJobObject(
            raw(job),
            class,
            (info as *const T).cast(),
            std::mem::size_of::<T>() as u32,
        )
    })
}

/// Changes the job's extended limits with `change`, keeping the rest.
pub(super) fn update_limits(
    job: BorrowedHandle<'_>,
    change: impl FnOnce(&mut JOBOBJECT_EXTENDED_LIMIT_INFORMATION),
) -> io::Result<()> {
    let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION =
        query(job, JobObjectExtendedLimitInformation)?;
    change(&mut info);
    set(job, JobObjectExtendedLimitInformation, &info)
}

/// One 100 ns tick count as a duration.
fn ticks(t: i64) -> Duration {
    Duration::from_nanos((t.max(0) as u64).saturating_mul(100))
}

/// Job accounting: CPU, live and total processes, peak memory.
pub(super) fn stats(job: BorrowedHandle<'_>) -> Result<ScopeStats> {
    let basic: JOBOBJECT_BASIC_ACCOUNTING_INFORMATION =
        query(job, JobObjectBasicAccountingInformation).map_err(os("QueryInformationJobObject"))?;
    let extended: JOBOBJECT_EXTENDED_LIMIT_INFORMATION =
        query(job, JobObjectExtendedLimitInformation).map_err(os("QueryInformationJobObject"))?;
    // Every process uses some memory: a zero peak is one the system did
    // not track (Wine), not a measurement.
    let peak_memory = match extended.PeakJobMemoryUsed {
        0 => Measure::absent("the system reported no peak job memory (PeakJobMemoryUsed is 0)"),
        bytes => Measure::Known(bytes as u64),
    };
    Ok(ScopeStats {
        cpu_user: Measure::Known(ticks(basic.TotalUserTime)),
        cpu_system: Measure::Known(ticks(basic.TotalKernelTime)),
        live: Measure::Known(u64::from(basic.ActiveProcesses)),
        started: Measure::Known(u64::from(basic.TotalProcesses)),
        peak_memory,
    })
}

/// The job's CPU rate for `percent` of one CPU: hundredths of a percent
/// of all CPUs, 1 to 10 000.
fn cpu_rate(percent: u32) -> u32 {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    (percent.saturating_mul(100) / cpus).clamp(1, 10_000)
}

/// Job limits: memory, active processes, CPU rate (a hard cap).
pub(super) fn set_limits(job: BorrowedHandle<'_>, limits: &ScopeLimits) -> Result<()> {
    if let Some(percent) = limits.cpu_max {
        if percent == 0 {
            return Err(Error::new(ErrorKind::InvalidInput, "limits")
                .with_detail("a CPU limit of 0% would stop the tree: use freeze"));
        }
        let mut info = JOBOBJECT_CPU_RATE_CONTROL_INFORMATION {
            ControlFlags: JOB_OBJECT_CPU_RATE_CONTROL_ENABLE | JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP,
            ..Default::default()
        };
        info.Anonymous.CpuRate = cpu_rate(percent);
        set(job, JobObjectCpuRateControlInformation, &info).map_err(|e| {
            Error::os_kind(ErrorKind::Unsupported, "limits", e).with_detail(
                "the job refused a CPU rate limit (JobObjectCpuRateControlInformation)",
            )
        })?;
    }
    if limits.memory_max.is_none() && limits.tasks_max.is_none() {
        return Ok(());
    }
    update_limits(job, |info| {
        let basic = &mut info.BasicLimitInformation;
        if let Some(bytes) = limits.memory_max {
            basic.LimitFlags |= JOB_OBJECT_LIMIT_JOB_MEMORY;
            info.JobMemoryLimit = usize::try_from(bytes).unwrap_or(usize::MAX);
        }
        if let Some(tasks) = limits.tasks_max {
            basic.LimitFlags |= JOB_OBJECT_LIMIT_ACTIVE_PROCESS;
            basic.ActiveProcessLimit = u32::try_from(tasks).unwrap_or(u32::MAX);
        }
    })
    .map_err(|e| {
        Error::os_kind(ErrorKind::Unsupported, "limits", e).with_detail(
            "the job refused a memory or process limit (JobObjectExtendedLimitInformation)",
        )
    })
}

/// Assigns `process` to `job` through its handle, and confirms it is in.
pub(super) fn adopt(job: BorrowedHandle<'_>, process: BorrowedHandle<'_>) -> Result<()> {
    // SAFETY: valid job and process handles.
    check(unsafe { AssignProcessToJobObject(raw(job), raw(process)) })
        .map_err(os("AssignProcessToJobObject"))?;
    let mut inside = 0;
    // SAFETY: valid handles and an out-pointer to a BOOL.
    check(unsafe { IsProcessInJob(raw(process), raw(job), &mut inside) })
        .map_err(os("IsProcessInJob"))?;
    if inside == 0 {
        return Err(Error::new(ErrorKind::Other, "adopt")
            .with_detail("the process is not in the job after it was assigned"));
    }
    Ok(())
}
