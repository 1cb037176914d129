//! Choosing the mechanism of a new Linux scope: the best the system grants
//! (or exactly the one asked for), with the reason each better one was
//! passed over. Nothing weaker is taken silently: the report says what was
//! taken, and a forced mechanism that is not available is an error.

use super::super::{cgroup, subreaper};
use super::cgroup::CgroupScope;
use super::group::ListedGroup;
use super::kept::{self, KeptScope};
use super::subreaper::SubreaperScope;
use crate::error::Result;
use crate::mechanism::{Mechanism, MechanismKind, PassedOver};
use crate::sys::scope::{none_available, Chosen, Request};

/// The mechanism `request` gets: a cgroup leaf, the subreaper (if allowed),
/// a keeper per spawn, a process group.
pub(crate) fn new_scope(request: &Request) -> Result<Chosen> {
    let mut passed_over = Vec::new();
    let chosen = |mechanism, report, passed_over| Chosen {
        mechanism,
        report,
        passed_over,
    };
    if request.wants(MechanismKind::Cgroup) || request.wants(MechanismKind::CgroupFreeze) {
        match cgroup_scope(request) {
            Ok((scope, report)) => return Ok(chosen(Box::new(scope), report, passed_over)),
            Err(why) => {
                let kind = request.force.unwrap_or(MechanismKind::Cgroup);
                passed_over.push(PassedOver::new(kind, why));
            }
        }
    }
    if request.wants(MechanismKind::Subreaper) {
        match subreaper_allowed(request) {
            Ok(()) => {
                let scope = Box::new(SubreaperScope::new(request));
                return Ok(chosen(scope, Mechanism::Subreaper, passed_over));
            }
            Err(why) => passed_over.push(PassedOver::new(MechanismKind::Subreaper, why)),
        }
    }
    if request.wants(MechanismKind::Keeper) {
        match kept::available() {
            Ok(()) => {
                let scope = Box::new(KeptScope::new(request));
                return Ok(chosen(scope, Mechanism::Keeper, passed_over));
            }
            Err(why) => passed_over.push(PassedOver::new(MechanismKind::Keeper, why)),
        }
    }
    if request.wants(MechanismKind::ProcessGroup) {
        let scope = Box::new(ListedGroup::new(request));
        return Ok(chosen(scope, Mechanism::ProcessGroup, passed_over));
    }
    if request.force == Some(MechanismKind::JobObject) {
        let why = "job objects exist only on Windows";
        passed_over.push(PassedOver::new(MechanismKind::JobObject, why));
    }
    Err(none_available(&passed_over))
}

/// Makes this process the child subreaper if the caller allowed it.
fn subreaper_allowed(request: &Request) -> std::result::Result<(), String> {
    if !request.allow_subreaper {
        return Err(
            "not allowed: PR_SET_CHILD_SUBREAPER is process-wide, opt in with allow_subreaper"
                .into(),
        );
    }
    subreaper::enable().map_err(|e| format!("prctl: {e}"))
}

/// A new cgroup leaf with a way to kill all of it, or why there is none.
fn cgroup_scope(request: &Request) -> std::result::Result<(CgroupScope, Mechanism), String> {
    let parent = cgroup::own_cgroup().map_err(|e| format!("no cgroup v2 hierarchy: {e}"))?;
    let cg = cgroup::Cgroup::create(&parent)
        .map_err(|e| format!("cannot create a cgroup under {}: {e}", parent.display()))?;
    let freeze_only = match request.force {
        Some(MechanismKind::CgroupFreeze) => true,
        _ => !cg.has_kill_file(),
    };
    let why = if freeze_only && !cg.has_freeze_file() {
        Some("the cgroup has neither cgroup.kill (5.14+) nor cgroup.freeze (5.2+)")
    } else if request.force == Some(MechanismKind::Cgroup) && freeze_only {
        Some("the cgroup has no cgroup.kill (Linux 5.14+)")
    } else {
        None
    };
    if let Some(why) = why {
        let _ = cg.remove();
        return Err(why.into());
    }
    let report = Mechanism::Cgroup {
        path: cg.path().to_path_buf(),
        kill_file: !freeze_only,
    };
    Ok((CgroupScope::new(cg, freeze_only, request), report))
}
