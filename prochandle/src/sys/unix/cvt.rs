//! The one shape of a failing C call (`-1`, the reason in `errno`) and the
//! one answer to `EINTR` (call again), so no call site keeps its own loop.
//!
//! A wait that treats an interruption as a wake-up (a poller, the relay)
//! does not retry: it uses [`cvt`] and returns on `Interrupted`.

use std::io;

/// Integer results whose `-1` means "failed, see errno".
pub(crate) trait MinusOne: Copy + PartialEq {
    /// This type's `-1`.
    const MINUS_ONE: Self;
}

macro_rules! minus_one {
    ($($t:ty)*) => { $(impl MinusOne for $t { const MINUS_ONE: Self = -1; })* };
}
minus_one! { i32 i64 isize }

/// `ret`, or the calling thread's `errno` as an error when it is `-1`.
/// Read it right after the call: anything in between may change `errno`.
pub(crate) fn cvt<T: MinusOne>(ret: T) -> io::Result<T> {
    if ret == T::MINUS_ONE {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Runs `call` again for as long as it fails with `EINTR`: a signal
/// handler ran, nothing about the call's subject changed.
pub(crate) fn retry_eintr<T>(mut call: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match call() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minus_one_is_the_errno_and_anything_else_passes() {
        assert_eq!(cvt(0i32).unwrap(), 0);
        assert_eq!(cvt(7isize).unwrap(), 7);
        assert_eq!(cvt(-2i64).unwrap(), -2);
        // SAFETY: closing a descriptor that cannot be open fails with EBADF
        // and has no other effect.
        let failed = cvt(unsafe { libc::close(-5) }).unwrap_err();
        assert_eq!(failed.raw_os_error(), Some(libc::EBADF));
    }

    #[test]
    fn interruptions_are_retried_and_other_errors_returned() {
        let mut calls = 0;
        let got = retry_eintr(|| {
            calls += 1;
            if calls < 3 {
                Err(io::Error::from_raw_os_error(libc::EINTR))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(got.unwrap(), 3);
        let mut calls = 0;
        let got: io::Result<()> = retry_eintr(|| {
            calls += 1;
            Err(io::Error::from_raw_os_error(libc::ECHILD))
        });
        assert_eq!(
            (got.unwrap_err().raw_os_error(), calls),
            (Some(libc::ECHILD), 1)
        );
    }
}
