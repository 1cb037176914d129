//! [`ScopeCommandExt`]: the Windows options of a [`ScopeCommand`].

use crate::ScopeCommand;

/// Windows-only options of a [`ScopeCommand`], in the manner of std's
/// `CommandExt`. Sealed: implemented for [`ScopeCommand`] only.
pub trait ScopeCommandExt: super::sealed::Sealed {
    /// Starts the child as the leader of a new console process group
    /// (`CREATE_NEW_PROCESS_GROUP`), so that
    /// [`Scope::stop`](crate::Scope::stop) can give the group a soft step
    /// before `TerminateJobObject`: a console Ctrl-Break
    /// (`GenerateConsoleCtrlEvent`), then up to the grace for the job to
    /// empty. The Ctrl-Break reaches the leader and the members that
    /// share its group and this process's console (its descendants,
    /// unless started in a group of their own or outside the console). A
    /// program that does not handle it ends as if by Ctrl-C
    /// (exit code `0xC000013A`).
    ///
    /// What it costs: the group starts with Ctrl-C ignored (Ctrl-C
    /// typed in the console no longer reaches it), and its descendants
    /// inherit that, until a program turns it back on
    /// (`SetConsoleCtrlHandler(NULL, FALSE)`). What it needs: this
    /// process has a console, shared with the child; without one (a
    /// service, a GUI program) Windows refuses the Ctrl-Break, and the
    /// stop kills the group at once, saying so
    /// ([`StoppedMember::reached`](crate::StoppedMember::reached) is
    /// `false`).
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// use prochandle::windows::ScopeCommandExt;
    /// use prochandle::{Scope, ScopeCommand, Signal};
    ///
    /// let scope = Scope::new()?;
    /// let mut command = ScopeCommand::new("cmd");
    /// command.args(["/c", "exit 0"]).console_group(true);
    /// let child = scope.spawn_command(&command)?;
    /// let report = scope.stop(Signal::TERM, std::time::Duration::from_secs(5))?;
    /// # let _ = (child.wait()?, report);
    /// # Ok(()) }
    /// ```
    fn console_group(&mut self, lead: bool) -> &mut ScopeCommand;
}

impl ScopeCommandExt for ScopeCommand {
    fn console_group(&mut self, lead: bool) -> &mut ScopeCommand {
        self.console_group = lead;
        self
    }
}
