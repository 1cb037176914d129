//! Scopes in the watcher: registering a [`Scope`], checking it when the
//! kernel says its emptiness changed (or on the backoff schedule where
//! nothing can say), and handing out [`Notice`]s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::registry::{Registry, ScopeEntry};
use super::{Notice, ScopeEvent, Token, Watcher};
use crate::backoff::Backoff;
use crate::error::Result;
use crate::scope::Scope;

impl Watcher {
    /// Registers `scope` and returns its token: once the scope is empty
    /// (its *last* member has exited, not only its first child),
    /// [`next_notice`](Watcher::next_notice) reports it once, as
    /// [`Notice::Empty`], handing back the watcher's `Arc` of it. A scope
    /// that is empty already is reported at once.
    ///
    /// The watcher keeps a clone of the `Arc` while the scope is
    /// registered (so a registered scope is not dropped, and not killed on
    /// drop, behind the watcher's back); nothing is lost if this fails.
    ///
    /// How it waits: in the Linux cgroup modes, on a `cgroup.events`
    /// descriptor of its own in the watcher's epoll (`EPOLLPRI`; the kernel
    /// notifies each `populated` change, at most one per 10 ms per file, so
    /// an emptiness is seen up to 10 ms late); on Windows, on an event of
    /// its own that the job's completion port sets at each emptiness
    /// (`JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO`), waited for by the thread
    /// pool; in the other modes (subreaper, process group, macOS, FreeBSD,
    /// a Windows job without a port) by re-checking [`Scope::is_empty`]
    /// after 1 ms, doubling up to every 50 ms (the crate's one backoff
    /// policy).
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// use std::process::Command;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use prochandle::{Notice, Scope, Watcher};
    ///
    /// let scope = Arc::new(Scope::new()?);
    /// let first = scope.spawn(Command::new("sh").args(["-c", "sleep 0.2 & exit 0"]))?;
    /// let watcher = Watcher::new()?;
    /// let token = watcher.add_scope(&scope)?;
    /// first.wait()?; // the shell exits at once; its background sleep does not
    /// match watcher.next_notice(Some(Duration::from_secs(10)))? {
    ///     Some(Notice::Empty(event)) => assert_eq!(event.token, token),
    ///     other => panic!("expected the scope's emptiness, got {other:?}"),
    /// }
    /// assert!(scope.is_empty()?);
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn add_scope(&self, scope: &Arc<Scope>) -> Result<Token> {
        let mut registry = self.lock();
        let token = registry.allocate_token();
        let events = match scope.empty_notifier()? {
            Some(notifier) => self.poller.register_scope(notifier, token)?,
            None => None,
        };
        let polled = events.is_none();
        let mut backoff = Backoff::new();
        let due = polled.then(|| Instant::now() + backoff.next_pause());
        let entry = ScopeEntry {
            scope: Arc::clone(scope),
            events,
            due,
            backoff,
        };
        registry.insert_scope(token, entry);
        // An emptiness before the registration: found now, not missed.
        self.check_scope(&mut registry, token, Instant::now());
        let found = registry.has_found();
        drop(registry);
        if polled || found {
            // A sleeping `next_notice` computed its timeout without this
            // scope, or a notice is waiting to be handed out.
            self.poller.wake();
        }
        Ok(Token(token))
    }

    /// Unregisters a scope and hands back the watcher's `Arc` of it, empty
    /// or not (an emptiness found but not yet returned is withdrawn too).
    /// `None` if the token is not a registered scope.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// use std::sync::Arc;
    /// let watcher = prochandle::Watcher::new()?;
    /// let scope = Arc::new(prochandle::Scope::new()?);
    /// let token = watcher.add_scope(&scope)?;
    /// assert!(watcher.remove_scope(token).is_some());
    /// assert!(watcher.remove_scope(token).is_none());
    /// assert!(watcher.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn remove_scope(&self, token: Token) -> Option<Arc<Scope>> {
        let mut registry = self.lock();
        // Dropping its `cgroup.events` descriptor takes it out of epoll.
        let scope = match registry.take_scope(token.0) {
            Some(entry) => Some(entry.scope),
            None => registry.take_found_scope(token.0),
        };
        let now_empty = registry.len() == 0;
        drop(registry);
        if scope.is_some() && now_empty {
            self.poller.wake();
        }
        scope
    }

    /// Like [`next`](Watcher::next), reporting both kinds of registration:
    /// a process's exit ([`Notice::Exit`]) and a scope's emptiness
    /// ([`Notice::Empty`]). `None` once `timeout` passes, or at once when
    /// nothing is registered.
    ///
    /// [`next`](Watcher::next) and [`try_next`](Watcher::try_next) report
    /// exits only and leave scope notices queued for this method: a watcher
    /// with scopes is read with `next_notice`.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// use std::process::Command;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use prochandle::{Notice, Process, Scope, Watcher};
    ///
    /// let watcher = Watcher::new()?;
    /// let scope = Arc::new(Scope::new()?);
    /// scope.spawn(Command::new("sleep").arg("30"))?;
    /// watcher.add_scope(&scope)?;
    /// watcher.add(Process::spawn(&mut Command::new("true"))?)?;
    ///
    /// let notice = watcher.next_notice(Some(Duration::from_secs(10)))?.unwrap();
    /// assert!(matches!(notice, Notice::Exit(_)));
    /// scope.kill()?;
    /// let notice = watcher.next_notice(Some(Duration::from_secs(10)))?.unwrap();
    /// assert!(matches!(notice, Notice::Empty(_)));
    /// assert!(watcher.next_notice(None)?.is_none());
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn next_notice(&self, timeout: Option<Duration>) -> Result<Option<Notice>> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        self.next_until(deadline, true, true)
    }

    /// [`next_notice`](Watcher::next_notice) without sleeping.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// use std::sync::Arc;
    /// let watcher = prochandle::Watcher::new()?;
    /// let scope = Arc::new(prochandle::Scope::new()?);
    /// watcher.add_scope(&scope)?; // empty: nothing was spawned into it
    /// assert!(watcher.try_next_notice()?.is_some());
    /// # Ok(()) }
    /// ```
    pub fn try_next_notice(&self) -> Result<Option<Notice>> {
        self.next_until(Some(Instant::now()), false, true)
    }

    /// Checks a registered scope (the kernel said its emptiness changed,
    /// its re-check fell due, or it was just registered): report it if
    /// empty, else schedule the next re-check if it is polled.
    pub(super) fn check_scope(&self, registry: &mut Registry, token: u64, now: Instant) {
        let Some(entry) = registry.get_scope(token) else {
            return; // removed meanwhile, or not a scope's token
        };
        let polled = entry.events.is_none();
        let mut backoff = entry.backoff;
        match entry.scope.is_empty() {
            Ok(true) => {
                if let Some(entry) = registry.take_scope(token) {
                    registry.push_empty(Ok(ScopeEvent {
                        token: Token(token),
                        scope: entry.scope,
                    }));
                }
            }
            Ok(false) if polled => {
                let due = now + backoff.next_pause();
                registry.recheck_scope(token, due, backoff);
            }
            // Armed: the kernel's next notification brings the next check.
            Ok(false) => {}
            Err(error) => {
                // Also for an armed scope: its notification is spent.
                let backoff = Backoff::slowest();
                registry.recheck_scope(token, now + backoff.current(), backoff);
                registry.push_empty(Err(error));
            }
        }
    }
}
