//! What `kill` sends and how it reports each signal: shared by `kill`
//! and its parts for trees and threads, below all of them.

use std::time::Duration;

use prochandle::Signal;
use serde_json::json;

use super::choose::Selection;
use crate::output;
use crate::target::Target;

/// What to send, to which processes, and how to wait after.
#[derive(Debug)]
pub struct Send {
    pub signal: Signal,
    pub selection: Selection,
    pub timeout: Option<Duration>,
    pub then: Option<Signal>,
    pub json: bool,
    /// `--tree` and `--thread` (Linux: refused before planning elsewhere).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub tree: bool,
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub thread: bool,
    pub quiet: bool,
    /// `--report`: how each member of a stopped tree ended.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub report: bool,
}

/// With `--json`, the object saying the signal was sent.
pub fn report_signalled(send: &Send, target: &Target, pid: u32) {
    if send.json {
        output::print_json(&json!({
            "target": target.to_string(),
            "pid": pid,
            "status": "signalled",
            "signal": send.signal.as_raw(),
            "signal_name": send.signal.to_string(),
        }));
    }
}

/// One line on stderr, and with `--json` an error object.
pub fn report_failure(send: &Send, target: &Target, message: &str) {
    output::error(message);
    if send.json {
        output::print_json(&output::error_json(target, message));
    }
}
