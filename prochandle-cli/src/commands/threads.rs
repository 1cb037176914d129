//! `kill --thread TID...`: signals one thread, not its whole process.
//!
//! The thread's process is found from `/proc/<tid>/status` (`Tgid:`) and
//! opened; the library then signals the thread through a thread pidfd
//! (Linux 6.9), or with `tgkill` after checking the process still owns its
//! PID, and refuses if `tid` is not a thread of that process (any more).

use prochandle::linux::ProcessExt;
use prochandle::Process;
use serde_json::json;

use super::choose::Selection;
use super::sending::{report_failure, Send};
use crate::exit_codes;
use crate::output::{self, Action};
use crate::target::{thread_group, Target};

pub fn run(send: &Send) -> u8 {
    let Selection::Targets(targets) = &send.selection else {
        return exit_codes::USAGE;
    };
    let mut failed = false;
    for target in targets {
        if let Err(message) = signal_thread(send, target) {
            failed = true;
            report_failure(send, target, &message);
        }
    }
    if failed {
        exit_codes::FAILURE
    } else {
        exit_codes::SUCCESS
    }
}

fn signal_thread(send: &Send, target: &Target) -> Result<(), String> {
    let tid = target.pid();
    let tgid = thread_group(tid).ok_or_else(|| format!("kill {target}: no such thread"))?;
    let process = Process::open(tgid).map_err(|e| output::describe(target, Action::Kill, &e))?;
    process
        .signal_thread(tid, send.signal)
        .map_err(|e| output::describe(target, Action::Kill, &e))?;
    if send.json {
        output::print_json(&json!({
            "target": target.to_string(),
            "pid": tgid,
            "tid": tid,
            "status": "signalled",
            "signal": send.signal.as_raw(),
            "signal_name": send.signal.to_string(),
        }));
    }
    Ok(())
}
