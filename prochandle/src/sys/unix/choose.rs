//! Probing and choosing the container of a new scope: the best mechanism
//! the system grants (or exactly the one asked for), with the reason each
//! better one was passed over. Nothing weaker is taken silently: the
//! report says what was taken, and a forced mechanism that is not
//! available is an error.

#[cfg(target_os = "linux")]
use std::sync::OnceLock;

use super::container::{Container, Inner};
#[cfg(target_os = "linux")]
use super::linux::{cgroup, subreaper};
use super::pgroup::Group;
use crate::error::{Error, Result};
use crate::sys::container::{Chosen, Kind, Request};

fn wanted(request: &Request, kind: Kind) -> bool {
    request.force.is_none_or(|f| f == kind)
}

impl Container {
    /// Creates a container as `request` asks.
    pub(crate) fn new(request: &Request) -> Result<Container> {
        let mut passed_over = Vec::new();
        #[cfg(target_os = "linux")]
        if let Some(found) = linux_mechanism(request, &mut passed_over) {
            let (inner, kind, cgroup) = found;
            return Ok(Container::assemble(
                request,
                inner,
                kind,
                cgroup,
                passed_over,
            ));
        }
        if wanted(request, Kind::ProcessGroup) {
            return Ok(Container::assemble(
                request,
                Inner::Group,
                Kind::ProcessGroup,
                None,
                passed_over,
            ));
        }
        if request.force == Some(Kind::JobObject) {
            passed_over.push((Kind::JobObject, "job objects exist only on Windows".into()));
        }
        let why: Vec<String> = passed_over
            .iter()
            .map(|(k, w)| format!("{k:?}: {w}"))
            .collect();
        Err(Error::unsupported(
            "scope",
            format!(
                "the mechanism asked for is not available: {}",
                why.join("; ")
            ),
        ))
    }

    fn assemble(
        request: &Request,
        inner: Inner,
        kind: Kind,
        cgroup: Option<std::path::PathBuf>,
        passed_over: Vec<(Kind, String)>,
    ) -> Container {
        Container {
            inner,
            chosen: Chosen {
                kind,
                cgroup,
                passed_over,
            },
            request: request.clone(),
            group: Group::default(),
            #[cfg(target_os = "linux")]
            guardian: OnceLock::new(),
        }
    }
}

#[cfg(target_os = "linux")]
type Found = (Inner, Kind, Option<std::path::PathBuf>);

#[cfg(target_os = "linux")]
fn linux_mechanism(request: &Request, passed_over: &mut Vec<(Kind, String)>) -> Option<Found> {
    if wanted(request, Kind::Cgroup) || wanted(request, Kind::CgroupFreeze) {
        match cgroup_mechanism(request) {
            Ok(found) => return Some(found),
            Err(why) => passed_over.push((request.force.unwrap_or(Kind::Cgroup), why)),
        }
    }
    if wanted(request, Kind::Subreaper) {
        if !request.allow_subreaper {
            passed_over.push((
                Kind::Subreaper,
                "not allowed: PR_SET_CHILD_SUBREAPER is process-wide, opt in with allow_subreaper"
                    .into(),
            ));
        } else {
            match subreaper::enable() {
                Ok(()) => {
                    let inner = Inner::Subreaper(subreaper::Subreaper::default());
                    return Some((inner, Kind::Subreaper, None));
                }
                Err(e) => passed_over.push((Kind::Subreaper, format!("prctl: {e}"))),
            }
        }
    }
    None
}

/// A new cgroup leaf with a way to kill all of it, or why there is none.
#[cfg(target_os = "linux")]
fn cgroup_mechanism(request: &Request) -> std::result::Result<Found, String> {
    let parent = cgroup::own_cgroup().map_err(|e| format!("no cgroup v2 hierarchy: {e}"))?;
    let cg = cgroup::Cgroup::create(&parent)
        .map_err(|e| format!("cannot create a cgroup under {}: {e}", parent.display()))?;
    let freeze_only = match request.force {
        Some(Kind::CgroupFreeze) => true,
        _ => !cg.has_kill_file(),
    };
    let why = if freeze_only && !cg.has_freeze_file() {
        Some("the cgroup has neither cgroup.kill (5.14+) nor cgroup.freeze (5.2+)")
    } else if request.force == Some(Kind::Cgroup) && freeze_only {
        Some("the cgroup has no cgroup.kill (Linux 5.14+)")
    } else {
        None
    };
    if let Some(why) = why {
        let _ = cg.remove();
        return Err(why.into());
    }
    let path = cg.path().to_path_buf();
    let kind = if freeze_only {
        Kind::CgroupFreeze
    } else {
        Kind::Cgroup
    };
    Ok((
        Inner::Cgroup {
            cgroup: cg,
            freeze_only,
        },
        kind,
        Some(path),
    ))
}
