//! `-w`, `--lightweight`: procps then judges every thread of every
//! process on its own (its name, state and start time are the thread's),
//! and lists, signals or waits for each matching thread by its ID. Each
//! thread is pinned by a thread pidfd (Linux 6.9) next to its process's
//! pin; where there are none, it is checked by its `/proc/PID/task` entry.

use std::rc::Rc;

use prochandle::linux::{ProcessExt, Thread};
use prochandle::Process;

use crate::procs::{self, Pinned, Proc};

/// A match: a process, or with `-w` one of its threads (`proc` is then
/// the thread's, its `pid` the thread's ID; `process` is the pinned
/// process, shared by its threads' matches).
pub struct Found {
    pub process: Rc<Process>,
    pub proc: Proc,
    pub thread: Option<Thread>,
}

impl Found {
    /// A whole process.
    pub fn whole(pinned: Pinned) -> Found {
        Found {
            process: Rc::new(pinned.process),
            proc: pinned.proc,
            thread: None,
        }
    }

    /// Whether this is the process itself, or its main thread (whose ID
    /// is the PID).
    pub fn is_process(&self) -> bool {
        self.proc.pid == self.process.pid()
    }

    /// Whether this is a thread that has exited since it was judged
    /// (procps' `kill(TID)` would then find no such process).
    pub fn thread_gone(&self) -> bool {
        self.thread.as_ref().is_some_and(Thread::has_exited)
            || (!self.is_process() && !self.in_task_list())
    }

    /// Waits for this thread to exit, looking every 20 ms (the CLI has
    /// no `unsafe` for a blocking `poll`): its thread pidfd turns
    /// readable, or without one its task entry goes.
    pub fn wait_thread(&self) {
        while !self.thread_gone() {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Whether the thread is still one of its process's tasks.
    fn in_task_list(&self) -> bool {
        let path = format!("/proc/{}/task/{}", self.process.pid(), self.proc.pid);
        std::path::Path::new(&path).exists()
    }
}

/// The thread IDs of a process, in order.
fn thread_ids(pid: u32) -> Vec<u32> {
    let mut tids: Vec<u32> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_unstable();
    tids
}

/// Every thread of `process` that `judge` passes, each read while its
/// process and (where the kernel allows) the thread itself are pinned,
/// and kept only if both still held their IDs after the read. `skip`:
/// thread IDs never considered (ours, our ancestors' with `-A`).
pub fn threads_of(process: Process, skip: &[u32], judge: impl Fn(&Proc) -> bool) -> Vec<Found> {
    let pid = process.pid();
    let mut judged = Vec::new();
    for tid in thread_ids(pid) {
        if skip.contains(&tid) {
            continue;
        }
        let thread = process.thread(tid).ok();
        let Some(proc) = Proc::read(tid).filter(|p| judge(p)) else {
            continue;
        };
        judged.push((thread, proc));
    }
    if process.info().is_err() {
        return Vec::new();
    }
    let process = Rc::new(process);
    judged
        .into_iter()
        .map(|(thread, proc)| Found {
            process: Rc::clone(&process),
            proc,
            thread,
        })
        .filter(|found| !found.thread_gone())
        .collect()
}

/// Every thread of every process now that `judge` passes.
pub fn select(skip: &[u32], judge: impl Fn(&Proc) -> bool) -> Vec<Found> {
    procs::pids()
        .into_iter()
        .filter_map(|pid| Process::open(pid).ok())
        .flat_map(|process| threads_of(process, skip, &judge))
        .collect()
}
