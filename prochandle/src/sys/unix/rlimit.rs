//! `RLIMIT_NOFILE` through `getrlimit`/`setrlimit`, in `u64` with
//! `u64::MAX` for "unlimited" (`rlim_t` is not `u64` on every Unix).

use std::io;

use super::cvt::cvt;

/// The soft and hard `RLIMIT_NOFILE` of this process.
pub(crate) fn nofile() -> io::Result<(u64, u64)> {
    let limit = get()?;
    Ok((to_u64(limit.rlim_cur), to_u64(limit.rlim_max)))
}

/// Sets the soft `RLIMIT_NOFILE` to `soft`, keeping the hard limit.
pub(crate) fn set_nofile_soft(soft: u64) -> io::Result<()> {
    let mut limit = get()?;
    limit.rlim_cur = from_u64(soft);
    // SAFETY: setrlimit reads one valid `rlimit`.
    cvt(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) })?;
    Ok(())
}

fn get() -> io::Result<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` into the valid, owned struct.
    cvt(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) })?;
    Ok(limit)
}

// `rlim_t` is not `u64` on every Unix.
#[allow(clippy::unnecessary_cast)]
fn to_u64(value: libc::rlim_t) -> u64 {
    if value == libc::RLIM_INFINITY {
        u64::MAX
    } else {
        value as u64
    }
}

#[allow(clippy::unnecessary_cast)]
fn from_u64(value: u64) -> libc::rlim_t {
    if value == u64::MAX {
        libc::RLIM_INFINITY
    } else {
        value as libc::rlim_t
    }
}
