//! A signal's action in this process.

use std::io;

use super::cvt::cvt;

/// Sets `signal`'s action to the default (`SIG_DFL`). Installs no handler,
/// so no code of ours can run at delivery; the default is what `exec`
/// gives every caught signal anyway.
pub(crate) fn set_default(signal: i32) -> io::Result<()> {
    // SAFETY: sigaction is plain data; all zeroes is a valid value (an
    // empty mask, no flags), with SIG_DFL (0) as the action.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = libc::SIG_DFL;
    // SAFETY: `action` is valid for the call; the old action is not asked
    // for. SIG_DFL runs no code of this process.
    cvt(unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) })?;
    Ok(())
}
