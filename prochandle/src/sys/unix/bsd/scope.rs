//! The one scope mechanism of macOS and FreeBSD: process groups, reached
//! with `kill(-pgid)` (`../pgroup.rs`).

use crate::error::Result;
use crate::mechanism::{Mechanism, MechanismKind, PassedOver};
use crate::sys::scope::{none_available, Chosen, Request};
use crate::sys::unix::pgroup::PlainGroup;

/// A process-group scope, unless another mechanism is forced.
pub(crate) fn new_scope(request: &Request) -> Result<Chosen> {
    if request.wants(MechanismKind::ProcessGroup) {
        return Ok(Chosen {
            mechanism: Box::new(PlainGroup::new(request)),
            report: Mechanism::ProcessGroup,
            passed_over: Vec::new(),
        });
    }
    let forced = request.force.unwrap_or(MechanismKind::ProcessGroup);
    let why = match forced {
        MechanismKind::JobObject => "job objects exist only on Windows",
        _ => "cgroups and the child subreaper exist only on Linux",
    };
    Err(none_available(&[PassedOver::new(forced, why)]))
}
