//! The one error type of the crate.
//!
//! Every failure says which operation (usually the syscall) failed, and
//! falls into one of a few kinds a caller can act on: there is no handle,
//! the process is gone, it never existed, we may not touch it, this system
//! cannot do it, or something else the OS reported.

use std::fmt;
use std::io;

/// What went wrong, in the terms a caller acts on.
///
/// Obtained from [`Error::kind`]. The list may grow, so match it with a
/// wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The process has no handle (pidfd or HANDLE): it is tracked by a
    /// guarded PID instead. Go's `ErrNoHandle`.
    NoHandle,
    /// The process has already exited (and may have been reaped): nothing was
    /// sent to anyone. Go's `ErrProcessDone`.
    Done,
    /// No process with that PID or identity exists.
    NotFound,
    /// The OS refused the operation for lack of rights.
    PermissionDenied,
    /// This kernel, OS or sandbox does not offer what the operation needs.
    Unsupported,
    /// The arguments make no sense (an unknown signal, waiting on oneself, a
    /// descriptor that is not a process handle).
    InvalidInput,
    /// Any other error the OS reported.
    Other,
}

/// The error type of every fallible operation in this crate.
///
/// It records the [`ErrorKind`], the operation that failed (a syscall name
/// such as `"pidfd_open"`, or a short description) and, where the OS gave
/// one, the underlying [`io::Error`] with its errno.
///
/// It converts into [`io::Error`] with the matching [`io::ErrorKind`], so it
/// works with `?` in functions that return `io::Result`.
///
/// ```
/// use prochandle::{Error, ErrorKind};
///
/// let err = Error::no_handle();
/// assert_eq!(err.kind(), ErrorKind::NoHandle);
/// let io: std::io::Error = err.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::Unsupported);
/// ```
pub struct Error {
    // Boxed so that `Result<T, Error>` stays two words: the success path of
    // `with_handle` must cost no more than reading the fd.
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    op: &'static str,
    detail: Option<String>,
    source: Option<io::Error>,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The error for "this process is tracked without a handle".
    pub fn no_handle() -> Self {
        Self::new(ErrorKind::NoHandle, "with_handle")
            .with_detail("process handle unavailable: this process is tracked by a guarded PID")
    }

    /// The error for "the process has already finished".
    pub fn done(op: &'static str) -> Self {
        Self::new(ErrorKind::Done, op).with_detail("process already finished")
    }

    pub(crate) fn new(kind: ErrorKind, op: &'static str) -> Self {
        Error::from_parts(kind, op, None)
    }

    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.inner.detail = Some(detail.into());
        self
    }

    /// Wraps an OS error from `op`, classifying its errno.
    pub(crate) fn os(op: &'static str, err: io::Error) -> Self {
        let kind = match err.kind() {
            io::ErrorKind::NotFound => ErrorKind::NotFound,
            io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            io::ErrorKind::Unsupported => ErrorKind::Unsupported,
            io::ErrorKind::InvalidInput => ErrorKind::InvalidInput,
            _ => ErrorKind::Other,
        };
        Error::from_parts(kind, op, Some(err))
    }

    /// Wraps an OS error from `op` with an explicit kind.
    pub(crate) fn os_kind(kind: ErrorKind, op: &'static str, err: io::Error) -> Self {
        Error::from_parts(kind, op, Some(err))
    }

    fn from_parts(kind: ErrorKind, op: &'static str, source: Option<io::Error>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                op,
                detail: None,
                source,
            }),
        }
    }

    pub(crate) fn unsupported(op: &'static str, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, op).with_detail(detail)
    }

    pub(crate) fn invalid_input(op: &'static str, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, op).with_detail(detail)
    }

    pub(crate) fn not_found(op: &'static str, pid: i64) -> Self {
        Self::new(ErrorKind::NotFound, op).with_detail(format!("no process with PID {pid}"))
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The operation that failed, usually a syscall name (`"pidfd_open"`,
    /// `"waitid"`, `"OpenProcess"`).
    pub fn operation(&self) -> &'static str {
        self.inner.op
    }

    /// The OS error number, when the failure came from the OS.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.inner.source.as_ref().and_then(io::Error::raw_os_error)
    }

    /// Whether this is [`ErrorKind::NoHandle`].
    pub fn is_no_handle(&self) -> bool {
        self.inner.kind == ErrorKind::NoHandle
    }

    /// Whether this is [`ErrorKind::Done`].
    pub fn is_done(&self) -> bool {
        self.inner.kind == ErrorKind::Done
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner.op)?;
        if let Some(detail) = &self.inner.detail {
            write!(f, ": {detail}")?;
        }
        if let Some(source) = &self.inner.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("operation", &self.inner.op);
        if let Some(detail) = &self.inner.detail {
            d.field("detail", detail);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for io::Error {
    /// Maps each [`ErrorKind`] to the closest [`io::ErrorKind`]; the
    /// original [`Error`] stays reachable with [`io::Error::get_ref`] and
    /// `downcast_ref`.
    fn from(err: Error) -> io::Error {
        let kind = match err.inner.kind {
            ErrorKind::NoHandle | ErrorKind::Unsupported => io::ErrorKind::Unsupported,
            ErrorKind::Done | ErrorKind::NotFound => io::ErrorKind::NotFound,
            ErrorKind::PermissionDenied => io::ErrorKind::PermissionDenied,
            ErrorKind::InvalidInput => io::ErrorKind::InvalidInput,
            ErrorKind::Other => err
                .inner
                .source
                .as_ref()
                .map_or(io::ErrorKind::Other, io::Error::kind),
        };
        io::Error::new(kind, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_operation_detail_and_errno() {
        let err = Error::os("pidfd_open", io::Error::from_raw_os_error(libc_esrch()));
        let text = err.to_string();
        assert!(text.starts_with("pidfd_open: "), "{text}");
        assert_eq!(err.raw_os_error(), Some(libc_esrch()));
    }

    #[test]
    fn io_conversion_keeps_the_original() {
        let io: io::Error = Error::done("kill").into();
        assert_eq!(io.kind(), io::ErrorKind::NotFound);
        let inner = io.get_ref().unwrap().downcast_ref::<Error>().unwrap();
        assert!(inner.is_done());
    }

    #[test]
    fn errno_classification() {
        let denied = Error::os("kill", io::Error::from(io::ErrorKind::PermissionDenied));
        assert_eq!(denied.kind(), ErrorKind::PermissionDenied);
        let other = Error::os("x", io::Error::from(io::ErrorKind::Interrupted));
        assert_eq!(other.kind(), ErrorKind::Other);
        let io: io::Error = other.into();
        assert_eq!(io.kind(), io::ErrorKind::Interrupted);
    }

    fn libc_esrch() -> i32 {
        3
    }
}
