//! The error of [`Watcher::add`](super::Watcher::add), which hands the
//! process back.

use std::fmt;

use crate::error::Error;
use crate::process::Process;

#[cfg(doc)]
use super::Watcher;

/// [`Watcher::add`] failed; the process is handed back.
///
/// Converts into [`Error`] (dropping the process), so `?` works in
/// functions returning [`Result`].
pub struct AddError(pub(super) Box<(Error, Process)>);

impl AddError {
    /// What went wrong.
    ///
    /// ```
    /// use prochandle::{ErrorKind, Process, Watcher};
    ///
    /// let watcher = Watcher::new().unwrap();
    /// let refused = watcher.add(Process::current().unwrap()).unwrap_err();
    /// assert_eq!(refused.error().kind(), ErrorKind::InvalidInput);
    /// let me: Process = refused.into_process(); // nothing is lost
    /// assert_eq!(me.pid(), std::process::id());
    /// ```
    pub fn error(&self) -> &Error {
        &self.0 .0
    }

    /// The process that could not be added (see [`error`](AddError::error)
    /// for an example).
    pub fn into_process(self) -> Process {
        self.0 .1
    }
}

impl fmt::Debug for AddError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddError")
            .field("error", self.error())
            .field("pid", &self.0 .1.pid())
            .finish()
    }
}

impl fmt::Display for AddError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot watch process {}: {}", self.0 .1.pid(), self.0 .0)
    }
}

impl std::error::Error for AddError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.error())
    }
}

impl From<AddError> for Error {
    fn from(err: AddError) -> Error {
        err.0 .0
    }
}
