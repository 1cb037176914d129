//! Which `PIDFD_GET_INFO` fields this kernel fills, from the probe's one
//! question to it about ourselves.
//!
//! Where the kernel has `PIDFD_INFO_SUPPORTED_MASK` it says so itself, and
//! its answer is used as given. Before that: `PIDFD_INFO_COREDUMP` shows in
//! the answer's `mask` whenever the kernel knows the field (even for a live
//! process), so it is probed; the exit status is recorded only for a reaped
//! process, which the probe will not create, so it is inferred from the
//! release (6.15), as LTP does.

use super::syscalls::{PidfdInfoExt, PIDFD_INFO_COREDUMP, PIDFD_INFO_EXIT};
use super::verdict::release_at_least;
use crate::capabilities::{Availability, Feature};

/// The info features, from the answer to `PIDFD_GET_INFO` asking for
/// PID, EXIT, COREDUMP and SUPPORTED_MASK (`None`: no `PIDFD_GET_INFO`).
/// A pure function of its inputs, so tests can feed any kernel's answer.
pub(crate) fn info_features(
    answer: Option<&PidfdInfoExt>,
    release: &str,
) -> Vec<(Feature, Availability)> {
    let Some(answer) = answer else {
        let off = || Availability::unavailable(None, "needs PIDFD_GET_INFO");
        return vec![
            (Feature::PidfdInfoExit, off()),
            (Feature::PidfdInfoCoredump, off()),
            (Feature::PidfdInfoSupportedMask, off()),
        ];
    };
    let said = |mask: u64, bit: u64, what: &str| {
        if mask & bit != 0 {
            Availability::Available
        } else {
            Availability::unavailable(None, format!("the kernel says it has no {what}"))
        }
    };
    if let Some(supported) = answer.supported() {
        return vec![
            (
                Feature::PidfdInfoExit,
                said(supported, PIDFD_INFO_EXIT, "PIDFD_INFO_EXIT"),
            ),
            (
                Feature::PidfdInfoCoredump,
                said(supported, PIDFD_INFO_COREDUMP, "PIDFD_INFO_COREDUMP"),
            ),
            (Feature::PidfdInfoSupportedMask, Availability::Available),
        ];
    }
    let exit = if release_at_least(release, 6, 15) {
        Availability::Available
    } else {
        Availability::unavailable(None, "kernel release before 6.15")
    };
    let coredump = if answer.base.mask & PIDFD_INFO_COREDUMP != 0 {
        Availability::Available
    } else {
        Availability::unavailable(None, "PIDFD_INFO_COREDUMP not in the kernel's answer")
    };
    vec![
        (Feature::PidfdInfoExit, exit),
        (Feature::PidfdInfoCoredump, coredump),
        (
            Feature::PidfdInfoSupportedMask,
            Availability::unavailable(None, "the kernel does not list its fields"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::syscalls::{PidfdInfo, PIDFD_INFO_PID, PIDFD_INFO_SUPPORTED_MASK};
    use super::*;

    /// A synthetic answer: what a kernel marked as filled, and the fields
    /// it says it supports (written only where it marks that too).
    fn answer(mask: u64, supported: u64) -> PidfdInfoExt {
        // SAFETY: plain integers, valid when zeroed.
        let base: PidfdInfo = unsafe { std::mem::zeroed() };
        let mut info = PidfdInfoExt::from_ver0(base);
        info.base.mask = mask;
        info.supported_mask = supported;
        info
    }

    fn available(out: &[(Feature, Availability)], f: Feature) -> bool {
        out.iter().any(|(g, a)| *g == f && a.is_available())
    }

    #[test]
    fn the_supported_mask_beats_the_release_number() {
        // A kernel that lists its fields and has no exit info, whatever its
        // release says.
        let mask = PIDFD_INFO_PID | PIDFD_INFO_SUPPORTED_MASK;
        let out = info_features(Some(&answer(mask, PIDFD_INFO_PID)), "6.30");
        assert!(available(&out, Feature::PidfdInfoSupportedMask));
        assert!(!available(&out, Feature::PidfdInfoExit));
        assert!(!available(&out, Feature::PidfdInfoCoredump));
        // And one that lists both.
        let all = PIDFD_INFO_PID | PIDFD_INFO_EXIT | PIDFD_INFO_COREDUMP;
        let out = info_features(Some(&answer(mask, all)), "6.1");
        assert!(available(&out, Feature::PidfdInfoExit));
        assert!(available(&out, Feature::PidfdInfoCoredump));
    }

    #[test]
    fn without_the_supported_mask_the_fallback_infers() {
        let out = info_features(Some(&answer(PIDFD_INFO_PID, 0)), "6.15.2");
        assert!(available(&out, Feature::PidfdInfoExit));
        assert!(!available(&out, Feature::PidfdInfoCoredump));
        assert!(!available(&out, Feature::PidfdInfoSupportedMask));
        let mask = PIDFD_INFO_PID | PIDFD_INFO_COREDUMP;
        let out = info_features(Some(&answer(mask, u64::MAX)), "6.14");
        assert!(!available(&out, Feature::PidfdInfoExit), "release 6.14");
        assert!(available(&out, Feature::PidfdInfoCoredump), "probed");
        assert!(
            !available(&out, Feature::PidfdInfoSupportedMask),
            "unmarked"
        );
    }

    #[test]
    fn nothing_without_pidfd_get_info() {
        let out = info_features(None, "6.18");
        assert_eq!(out.len(), 3);
        assert!(out.iter().all(|(_, a)| !a.is_available()));
    }

    #[test]
    fn this_kernel_answers_one_way_or_the_other() {
        let caps = crate::sys::linux::capabilities();
        if !caps.is_available(Feature::PidfdGetInfo) {
            return;
        }
        let release = super::super::verdict::kernel_release();
        if caps.is_available(Feature::PidfdInfoSupportedMask) {
            return;
        }
        // The fallback: the coredump field is probed, never inferred.
        assert_eq!(
            caps.is_available(Feature::PidfdInfoCoredump),
            release_at_least(&release, 6, 16),
            "Linux {release}"
        );
    }
}
