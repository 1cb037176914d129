//! The user database (`getpwnam_r`): a user name to its user ID.

use std::ffi::CString;
use std::io;

/// The largest buffer tried for one entry: far beyond any real entry, so
/// that a corrupt database cannot make the retries grow without end.
const MAX_BUFFER: usize = 1 << 20;

/// The user ID of `name`; `Ok(None)` when no user has that name (or the
/// name holds a NUL byte, which no user name can).
pub(crate) fn uid_by_name(name: &str) -> io::Result<Option<u32>> {
    let Ok(name) = CString::new(name) else {
        return Ok(None);
    };
    let mut size = 16 * 1024;
    loop {
        match lookup(&name, size) {
            Err(err) if err.raw_os_error() == Some(libc::ERANGE) && size < MAX_BUFFER => {
                size *= 4;
            }
            other => return other,
        }
    }
}

/// One `getpwnam_r` call with a buffer of `size` bytes.
fn lookup(name: &CString, size: usize) -> io::Result<Option<u32>> {
    // SAFETY: passwd is a plain C struct of integers and pointers, for
    // which all zeroes (null pointers) is a valid value; getpwnam_r fills it.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buffer = vec![0 as libc::c_char; size];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call: the name is a
    // NUL-terminated C string, `entry` and `found` are ours, and the buffer
    // length passed is its real length. The entry is read only when
    // `found` points at it.
    let rc = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut found,
        )
    };
    match rc {
        0 if found.is_null() => Ok(None),
        0 => Ok(Some(entry.pw_uid)),
        // "Not found" as some C libraries say it (getpwnam_r(3)).
        libc::ENOENT | libc::ESRCH | libc::EBADF | libc::EPERM => Ok(None),
        err => Err(io::Error::from_raw_os_error(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_user_zero_and_nonsense_is_nobody() {
        assert_eq!(uid_by_name("root").unwrap(), Some(0));
        assert_eq!(uid_by_name("no-such-user-prochandle").unwrap(), None);
        assert_eq!(uid_by_name("ro\0ot").unwrap(), None);
    }
}
