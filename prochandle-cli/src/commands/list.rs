//! `prochandle list`: pgrep through handles. Each match is pinned and
//! matched again before it is printed, and is named by its identity
//! (`PID:INODE`, or `PID@TICKS:BOOT-ID`), which the other commands take as
//! a TARGET: acting on a listed process later can never reach a newcomer
//! on its PID.

use serde_json::json;

use super::choose;
use crate::cli::ListArgs;
use crate::exit_codes;
use crate::output;
use crate::procs::Pinned;
use crate::selection::{self, Criteria};
use crate::target::Target;

/// `list` checked and ready to run.
#[derive(Debug)]
pub struct Plan {
    criteria: Criteria,
    full: bool,
    json: bool,
    count: bool,
}

/// Checks the command line without touching any process.
pub fn plan(args: ListArgs) -> Result<Plan, String> {
    let pattern: Vec<String> = args.pattern.into_iter().collect();
    let select = args.select.select();
    Ok(Plan {
        criteria: choose::criteria(&select, &pattern)?,
        full: select.full,
        json: args.json,
        count: args.count,
    })
}

/// 0 if something matched, 1 if nothing did (as pgrep).
pub fn run(plan: Plan) -> u8 {
    let found = selection::find(&plan.criteria);
    if plan.count {
        output::line(found.len());
    } else {
        for matched in &found {
            print(&plan, matched);
        }
    }
    if found.is_empty() {
        exit_codes::FAILURE
    } else {
        exit_codes::SUCCESS
    }
}

fn print(plan: &Plan, matched: &Pinned) {
    let target = Target::of_process(&matched.process);
    let facts = &matched.proc;
    if plan.json {
        output::print_json(&json!({
            "target": target.to_string(),
            "pid": matched.process.pid(),
            "name": facts.comm,
            "cmdline": facts.cmdline,
            "ppid": facts.ppid,
            "euid": facts.euid,
            "uid": facts.ruid,
        }));
    } else if plan.full && !facts.cmdline.is_empty() {
        output::line(format_args!("{target} {}", facts.cmdline));
    } else {
        output::line(format_args!("{target} {}", facts.comm));
    }
}
