//! The keeper: a command's tree that dies with its owner without a
//! cgroup, for callers that may not create one.
//!
//! A process tree escapes its owner's subreaper when the owner dies: the
//! orphans go to the next subreaper up, or to init. So the subreaper must
//! be a process that outlives the owner just long enough, and an ancestor
//! of the whole tree: the keeper. The owner forks it; the keeper makes
//! itself the child subreaper, spawns the command as its own child (in a
//! subreaper [`Scope`], so with a death signal and in a process group of
//! its own), and from then on every descendant, `setsid` escapers
//! included, is either below the command or re-parented to the keeper.
//!
//! A Unix socket pair, close-on-exec, joins them. On it the owner writes
//! the signals it wants sent to the tree (and asks a holding keeper to
//! freeze and thaw it); it holds the only other end, so
//! the kernel closes it whenever the owner dies, however it dies, and the
//! keeper reads end-of-file: it then kills the tree by
//! sweeps until none is left (every kill orphans the victim's children to
//! the keeper, so stopped members, members that ignore signals and fork
//! loops end too), reaps it and exits. The other way the keeper tells
//! the command's PID (or why it could not start) and, at the end, its
//! exit status and resource usage. When the command exits, the keeper
//! kills what is left of the tree, reports and exits, so it never outlives
//! the tree; its owner reaps it, or, if the owner is dead, init does.
//! A holding keeper ([`Keeper::spawn_holding`]) waits for its owner's
//! word instead, the command unreaped and the rest of the tree alive, so
//! that the owner may pin the command and look at what it left.
//!
//! The keeper runs ordinary Rust code after `fork` (it allocates, it
//! spawns with std's `Command`): that is sound only if the owner has a
//! single thread when it forks, so a caller with more threads is refused
//! with [`Unsupported`](crate::ErrorKind::Unsupported).

use std::io::{self, Read};
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags};

use crate::error::{Error, Result};
use crate::scope::{MechanismKind, Scope, ScopeOptions};
use crate::signal::Signal;
use crate::state::ProcessState;
use crate::sys::linux::keeper_os::{self, Forked};
use crate::Process;

mod wire;
use wire::{decode_end, encode_end, message, Request, ENDED_LEN, FAILED, FROZEN, STARTED, THAWED};

/// A command spawned under a keeper: its tree dies with this process,
/// even when this process is killed with `SIGKILL`, without a cgroup.
///
/// [`spawn`](Keeper::spawn) returns the keeper's [`Process`] (a child of
/// ours, which exits once the command has exited and its tree is gone:
/// watch and reap it as any child) and this handle, through which the
/// tree is signalled and the command's own exit status is learnt. Linux
/// only; the caller must have a single thread when it spawns.
///
/// ```no_run
/// # fn main() -> prochandle::Result<()> {
/// use std::process::Command;
/// use prochandle::linux::Keeper;
///
/// let (keeper, process) = Keeper::spawn(Command::new("sh").args(["-c", "sleep 9 & exit 3"]))?;
/// process.wait()?;                              // the command and its tree are gone
/// assert_eq!(keeper.command_state()?.exit_code(), Some(3));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Keeper {
    command_pid: u32,
    /// Whether it holds the tree until the finish (and answers requests).
    holding: bool,
    /// The owner's end of the socket pair.
    stream: UnixStream,
    /// Set once the owner has shut its writing down.
    finished: Mutex<bool>,
}

impl Keeper {
    /// Forks the keeper, which spawns `command` as its child.
    ///
    /// The spawn's own failure (not found, not executable) is returned as
    /// an [`Error`] carrying the OS error; the keeper is reaped then.
    pub fn spawn(command: &mut Command) -> Result<(Keeper, Process)> {
        Keeper::start(command, false).map(|(keeper, process, _)| (keeper, process))
    }

    /// As [`spawn`](Keeper::spawn), but the keeper holds the tree until
    /// [`finish`](Keeper::finish) (or this process's death): when the
    /// command exits, it stays unreaped and the rest of its tree alive,
    /// signals are still forwarded to all of it, and the keeper exits only
    /// once told to finish. Returned besides the keeper's `Process`: the
    /// command's, pinned (a handle where the system has one), not our
    /// child: watch it for its exit ([`has_exited`](Process::has_exited),
    /// a watcher, a relay; its `wait` would give the keeper a grace to reap
    /// it, which a holding keeper does only at the finish), and learn its
    /// status from [`command_state`](Keeper::command_state). The tree's
    /// other members are the keeper's descendants (the keeper is their
    /// subreaper), so the owner can watch the command, write its identity
    /// and list what it leaves behind.
    ///
    /// ```no_run
    /// # fn main() -> prochandle::Result<()> {
    /// use std::process::Command;
    /// use prochandle::linux::{Keeper, ProcessExt as _};
    ///
    /// let mut command = Command::new("sh");
    /// command.args(["-c", "sleep 9 & exit 3"]);
    /// let (keeper, process, held) = Keeper::spawn_holding(&mut command)?;
    /// while !held.has_exited()? {                   // the command exits...
    ///     std::thread::sleep(std::time::Duration::from_millis(10));
    /// }
    /// let left = process.descendants()?;            // ...and left its `sleep`
    /// assert!(left.iter().any(|p| !p.has_exited().unwrap_or(true)));
    /// keeper.finish();                              // now the keeper ends it
    /// process.wait()?;
    /// assert_eq!(keeper.command_state()?.exit_code(), Some(3));
    /// # Ok(()) }
    /// ```
    pub fn spawn_holding(command: &mut Command) -> Result<(Keeper, Process, Process)> {
        let (keeper, process, held) = Keeper::start(command, true)?;
        let held = held.ok_or_else(|| Error::done("spawn_holding"))?;
        Ok((keeper, process, held))
    }

    fn start(command: &mut Command, holding: bool) -> Result<(Keeper, Process, Option<Process>)> {
        // std makes both ends close-on-exec.
        let (mut stream, keeper_end) =
            UnixStream::pair().map_err(|e| Error::os("socketpair", e))?;
        let process = match keeper_os::fork_single_threaded("keeper")? {
            Forked::Child => {
                drop(stream);
                keep(command, keeper_end, holding)
            }
            Forked::Parent(process) => Process::from_sys(process),
        };
        drop(keeper_end);
        let mut first = [0u8; 5];
        let read = stream.read_exact(&mut first);
        let value = i32::from_ne_bytes([first[1], first[2], first[3], first[4]]);
        match (read, first[0]) {
            (Ok(()), STARTED) => {
                let keeper = Keeper {
                    command_pid: value as u32,
                    holding,
                    stream,
                    finished: Mutex::new(false),
                };
                if !holding {
                    return Ok((keeper, process, None));
                }
                match pin_command(&process, keeper.command_pid) {
                    Ok(held) => Ok((keeper, process, Some(held))),
                    Err(err) => {
                        drop(keeper);
                        let _ = process.wait();
                        Err(err)
                    }
                }
            }
            (read, tag) => {
                let _ = process.wait();
                let err = match (read, tag) {
                    (Ok(()), FAILED) if value > 0 => io::Error::from_raw_os_error(value),
                    (Ok(()), _) => io::Error::other("the command could not be started"),
                    // End of stream before any word: the keeper died (it was
                    // killed) after the fork, perhaps after CMD started.
                    (Err(e), _) if e.kind() == io::ErrorKind::UnexpectedEof => io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the keeper ended before it said whether the command started",
                    ),
                    (Err(e), _) => e,
                };
                Err(Error::os("spawn", err)
                    .with_detail(format!("cannot start {:?}", command.get_program())))
            }
        }
    }

    /// The command's PID (a child of the keeper, not of ours).
    pub fn command_pid(&self) -> u32 {
        self.command_pid
    }

    /// Asks the keeper to send `signal` to the command and then to every
    /// member of its tree. [`Done`](crate::ErrorKind::Done) once the keeper
    /// is finishing. `KILL` kills the whole tree.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        let finished = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        if *finished {
            return Err(Error::done("signal"));
        }
        let word = Request::Signal(signal.as_raw()).word();
        match send_all(&self.stream, &word.to_ne_bytes()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(Error::done("signal")),
            Err(e) => Err(Error::os("write to the keeper", e)),
        }
    }

    /// Freezes the tree: a holding keeper stops every member by `SIGSTOP`
    /// sweeps (a subreaper [`Scope`]'s freeze), waiting `limit` at most;
    /// `true` if every member stopped in time (a member in an
    /// uninterruptible sleep stops only when it leaves it). A member
    /// stopped before stays stopped after the [`thaw`](Keeper::thaw).
    /// Should this process die while the tree is frozen, the keeper kills
    /// it all the same. [`Unsupported`](crate::ErrorKind::Unsupported)
    /// for a keeper from [`spawn`](Keeper::spawn), which may end on its
    /// own where the answer is awaited.
    pub fn freeze_within(&self, limit: Duration) -> Result<bool> {
        self.ask(Request::FreezeWithin(limit), FROZEN, "freeze the kept tree")
            .map(|answer| answer == 1)
    }

    /// Lets a tree frozen by [`freeze_within`](Keeper::freeze_within) go.
    pub fn thaw(&self) -> Result<()> {
        self.ask(Request::Thaw, THAWED, "thaw the kept tree")
            .map(drop)
    }

    /// Sends `request` and waits for the keeper's answer, tagged `reply`.
    fn ask(&self, request: Request, reply: u8, op: &'static str) -> Result<i32> {
        if !self.holding {
            return Err(Error::unsupported(op, "only a holding keeper answers"));
        }
        let finished = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        if *finished {
            return Err(Error::done(op));
        }
        send_all(&self.stream, &request.word().to_ne_bytes()).map_err(|e| Error::os(op, e))?;
        let mut answer = [0u8; 5];
        (&self.stream)
            .read_exact(&mut answer)
            .map_err(|e| Error::os(op, e))?;
        let value = i32::from_ne_bytes([answer[1], answer[2], answer[3], answer[4]]);
        match value {
            _ if answer[0] != reply => Err(Error::os(op, io::ErrorKind::InvalidData.into())),
            0.. => Ok(value),
            i32::MIN => Err(Error::os(
                op,
                io::Error::other("the keeper's scope refused"),
            )),
            errno => Err(Error::os(op, io::Error::from_raw_os_error(-errno))),
        }
    }

    /// Tells the keeper to kill the tree and finish (shuts our writing
    /// down: the keeper reads end-of-file, as at this process's death).
    pub fn finish(&self) {
        let mut finished = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        if !*finished {
            *finished = true;
            let _ = self.stream.shutdown(Shutdown::Write);
        }
    }

    /// The command's exit status and resource usage, as the keeper
    /// reaped it. Blocks until the keeper reports it, that is until the
    /// command has exited and the tree is gone (call
    /// [`finish`](Keeper::finish) first to end it now; a holding keeper
    /// reports only after it). A keeper that was killed has nothing to
    /// report: an error.
    pub fn command_state(&self) -> Result<ProcessState> {
        let mut buf = [0u8; ENDED_LEN];
        (&self.stream)
            .read_exact(&mut buf)
            .map_err(|e| Error::os("read the keeper's report", e))?;
        decode_end(self.command_pid, &buf).ok_or_else(|| {
            Error::os(
                "read the keeper's report",
                io::ErrorKind::InvalidData.into(),
            )
        })
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The command a holding keeper reported as started, pinned.
///
/// Opened by the PID it reported, which is race-free here without the
/// keeper passing a pidfd over the socket (which the guarded-PID tier,
/// having none, could not): a holding keeper reaps its command only once
/// we finish, so while the keeper lives the PID names the command and no
/// other process; the keeper is our unreaped child, so its own PID is
/// its own; and the process is kept only if, once pinned, its parent is
/// the keeper. A keeper that died meanwhile (its command re-parented,
/// perhaps reaped, its PID perhaps reused) fails that check: an error.
fn pin_command(keeper: &Process, pid: u32) -> Result<Process> {
    let pinned = crate::sys::linux::tree::open_child(keeper.sys(), pid)?;
    pinned.map(Process::from_sys).ok_or_else(|| {
        Error::done("pin the kept command")
            .with_detail("the keeper ended before its command could be pinned")
    })
}

/// The keeper's whole life, in the forked child.
fn keep(command: &mut Command, stream: UnixStream, holding: bool) -> ! {
    // Out of the owner's process group, a signal to that group does not
    // end the keeper with its owner.
    keeper_os::leave_process_group();
    let scope = ScopeOptions::new()
        .mechanism(MechanismKind::Subreaper)
        .allow_subreaper(true)
        .guardian(false)
        .create();
    let started = scope.and_then(|scope| Ok((scope.spawn(command)?, scope)));
    let (child, scope) = match started {
        Ok(started) => started,
        Err(err) => {
            let errno = err.raw_os_error().unwrap_or(0);
            let _ = send_all(&stream, &message(FAILED, errno));
            exit_keeper()
        }
    };
    let _ = send_all(&stream, &message(STARTED, child.pid() as i32));
    // A stream may split a signal's four bytes: the rest waits here.
    let mut pending: Vec<u8> = Vec::new();
    let mut command_running = true;
    loop {
        match wait_for_work(&stream, command_running.then_some(&child)) {
            Work::Requests => {
                let open = read_requests(&stream, &mut pending, |request| {
                    obey(request, &stream, &child, &scope)
                });
                if !open {
                    break;
                }
            }
            // Held: the command stays a zombie, the rest alive, until the
            // owner finishes.
            Work::CommandExited if holding => command_running = false,
            Work::CommandExited => break,
            Work::Nothing => {}
        }
    }
    // The command has exited (a zombie, its PID still its own) or the
    // owner is gone: kill the rest, then reap the command.
    let _ = scope.kill();
    let state = child.wait();
    let _ = scope.kill();
    drop(scope);
    let _ = send_all(&stream, &encode_end(state.ok().as_ref()));
    exit_keeper()
}

/// Ends the keeper without running the owner's exit handlers or flushing
/// its buffers (copies of the owner's, which are the owner's to flush).
fn exit_keeper() -> ! {
    keeper_os::exit_now(0)
}

/// Reads what the owner wrote and hands each whole request to `obey`;
/// false once the owner has finished or is gone.
fn read_requests(
    stream: &UnixStream,
    pending: &mut Vec<u8>,
    mut obey: impl FnMut(Request),
) -> bool {
    let mut buf = [0u8; 64];
    match (&*stream).read(&mut buf) {
        Ok(0) => false,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => true,
        Err(_) => false,
        Ok(n) => {
            pending.extend_from_slice(&buf[..n]);
            let whole = pending.len() - pending.len() % 4;
            for raw in pending.drain(..whole).collect::<Vec<u8>>().chunks_exact(4) {
                obey(Request::from_word(i32::from_ne_bytes([
                    raw[0], raw[1], raw[2], raw[3],
                ])));
            }
            true
        }
    }
}

/// Carries out one request of the owner's: a signal to the command and
/// every member, or a freeze or thaw, answered.
fn obey(request: Request, stream: &UnixStream, child: &Process, scope: &Scope) {
    let answer = |result: Result<i32>| match result {
        Ok(value) => value,
        Err(err) => err.raw_os_error().map_or(i32::MIN, |errno| -errno),
    };
    match request {
        Request::Signal(raw) => {
            let signal = Signal::from_raw(raw);
            let _ = child.signal(signal);
            let _ = scope.signal(signal);
        }
        Request::FreezeWithin(limit) => {
            let frozen = scope.freeze_within(limit).map(i32::from);
            let _ = send_all(stream, &message(FROZEN, answer(frozen)));
        }
        Request::Thaw => {
            let thawed = scope.thaw().map(|()| 0);
            let _ = send_all(stream, &message(THAWED, answer(thawed)));
        }
    }
}

enum Work {
    Requests,
    CommandExited,
    Nothing,
}

/// Sleeps until the owner writes or goes, or the command, while it is
/// watched (`child`), exits (its pidfd turns readable; without one,
/// checked every 20 ms).
fn wait_for_work(control: &UnixStream, child: Option<&Process>) -> Work {
    let handle = child.and_then(Process::handle);
    let pidfd = handle.as_ref().map(|h| h.as_fd());
    let mut fds = vec![PollFd::new(control, PollFlags::IN)];
    if let Some(fd) = &pidfd {
        fds.push(PollFd::new(fd, PollFlags::IN));
    }
    let tick = Some(crate::sys::timeout::rustix_timespec(Duration::from_millis(
        20,
    )));
    let timeout = match (child, &pidfd) {
        (Some(_), None) => tick.as_ref(),
        _ => None,
    };
    let _ = poll(&mut fds, timeout);
    if !fds[0].revents().is_empty() {
        return Work::Requests;
    }
    // Our child, unreaped: looking does not reap it.
    match child {
        Some(child) if child.has_exited().unwrap_or(true) => Work::CommandExited,
        _ => Work::Nothing,
    }
}

/// Writes all of `buf` to the owner or keeper, never raising `SIGPIPE`.
fn send_all(stream: &UnixStream, buf: &[u8]) -> io::Result<()> {
    keeper_os::send_all(stream.as_fd(), buf)
}
