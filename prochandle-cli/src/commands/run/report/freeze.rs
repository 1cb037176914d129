//! The report's freeze: the tree held still while its members are listed
//! and described, so that none forks or exits halfway through the list,
//! then let go before the timeout's signals (a `TERM` handler must run).
//!
//! In the cgroup modes the kernel's freezer holds every member; with the
//! subreaper or a process group, `SIGSTOP` sweeps do (a member stopped by
//! someone else before stays stopped after the thaw, either way). A
//! member in an uninterruptible sleep (`D`) stops only when it leaves it,
//! so the freeze waits [`LIMIT`] at most and the report then says the tree
//! was not frozen whole: the timeout never hangs on the report.

use std::time::Duration;

use serde_json::{json, Value};

use crate::containment::{Containment, Freezer};

/// How long the report waits for the whole tree to stop: a sweep over
/// 200 sleeping members took some 40 ms, the cgroup freezer 30 ms.
pub const LIMIT: Duration = Duration::from_millis(200);

/// What the freeze did for one snapshot.
pub enum Freeze<'a> {
    /// Every member stopped, by `means`.
    Whole {
        scope: Freezer<'a>,
        means: &'static str,
    },
    /// Asked for by `means`, but a member had not stopped within
    /// [`LIMIT`]; the others are held.
    Partial {
        scope: Freezer<'a>,
        means: &'static str,
    },
    /// Not frozen, and why.
    Not(String),
}

impl<'a> Freeze<'a> {
    /// Freezes the tree `containment` holds, within [`LIMIT`], where the
    /// mechanism can.
    pub fn take(containment: &'a Containment) -> Freeze<'a> {
        let scope = match containment.tree_scope() {
            Ok(scope) => scope,
            Err(why) => return Freeze::Not(why.to_owned()),
        };
        let means = match means(scope.kind()) {
            Ok(means) => means,
            Err(why) => return Freeze::Not(why),
        };
        match scope.freeze_within(LIMIT) {
            Ok(true) => Freeze::Whole { scope, means },
            Ok(false) => Freeze::Partial { scope, means },
            Err(err) => {
                // A freeze that failed halfway is let go all the same.
                let _ = scope.thaw();
                Freeze::Not(format!("the freeze failed: {err}"))
            }
        }
    }

    /// Whether any member may be held: then the members are listed again
    /// and the list is one instant's (whole) or nearly.
    pub fn holds(&self) -> bool {
        !matches!(self, Freeze::Not(_))
    }

    /// Lets the tree go; the error, if the thaw failed.
    pub fn thaw(&self) -> Option<String> {
        match self {
            Freeze::Whole { scope, .. } | Freeze::Partial { scope, .. } => scope
                .thaw()
                .err()
                .map(|err| format!("run: cannot thaw the tree after the report: {err}")),
            Freeze::Not(_) => None,
        }
    }

    /// The header's words for it, after "the command's tree (N)".
    pub fn words(&self) -> String {
        match self {
            Freeze::Whole { means, .. } => format!("frozen for the snapshot by {means}"),
            Freeze::Partial { means, .. } => format!(
                "not frozen whole: a member had not stopped for {means} within {} ms \
                 (a large tree, or one in an uninterruptible sleep, which stops only \
                 when it leaves it); described as found",
                LIMIT.as_millis()
            ),
            Freeze::Not(why) => format!("not frozen ({why})"),
        }
    }

    /// The header's fields for it, in `--json`.
    pub fn json(&self) -> Value {
        let (frozen, means, note) = match self {
            Freeze::Whole { means, .. } => ("whole", Some(*means), None),
            Freeze::Partial { means, .. } => ("partly", Some(*means), Some(self.words())),
            Freeze::Not(why) => ("no", None, Some(why.clone())),
        };
        json!({ "frozen": frozen, "frozen_by": means, "freeze_note": note })
    }
}

/// What freezes a tree held by `kind`, where the report freezes it: on
/// Linux only (elsewhere the report lists PIDs, which need no freeze).
fn means(kind: prochandle::MechanismKind) -> Result<&'static str, String> {
    use prochandle::MechanismKind::*;
    if !cfg!(target_os = "linux") {
        return Err("the report freezes the tree on Linux only".to_owned());
    }
    match kind {
        Cgroup | CgroupFreeze => Ok("the cgroup freezer"),
        Subreaper | ProcessGroup => Ok("SIGSTOP sweeps"),
        other => Err(format!("{other} cannot freeze the tree for the report")),
    }
}
