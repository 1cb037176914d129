//! The scope's fast spawn: `clone3(CLONE_VM | CLONE_VFORK)`, with
//! `CLONE_INTO_CGROUP` in the cgroup modes, then `execve` (Linux 5.7+,
//! x86-64 and aarch64).
//!
//! std's `Command` uses `posix_spawn` (a vfork-like clone) only when it has
//! nothing to run between `clone` and `exec`; any pre-exec hook (joining a
//! cgroup, a death signal) makes it `fork` the whole address space, which
//! costs most of a spawn. Here the kernel starts the child in the cgroup,
//! so it runs not one instruction of its own program outside it, and the
//! child shares our memory until it execs, as with `posix_spawn`; the
//! death signal and a new process group (the other modes) are set in the
//! child, which needs no fork for them either.
//!
//! Everything the child needs is built here first ([`Prepared`]): the
//! `execve` candidates of a `PATH` search, `argv`, `envp`, the standard
//! descriptors. The child itself (`child.rs`) makes only async-signal-safe
//! calls; if one fails it stores the errno in the shared context and
//! exits 127, and the parent, woken when the vfork ends, reaps it and
//! returns that error.

mod child;
mod clone3;
mod keeper_life;
pub(crate) mod kept;
pub(crate) use clone3::probe_within as probe_clone3_within;

use std::collections::BTreeMap;
use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::ptr;

use libc::c_char;

pub(crate) use crate::sys::scope::{Spec, Stdio};

/// Where the child goes, besides being our child.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Place<'a> {
    /// Into the cgroup whose directory this is (`CLONE_INTO_CGROUP`).
    Cgroup(BorrowedFd<'a>),
    /// Our cgroup, leading a process group of its own.
    NewGroup,
}

/// Whether the fast spawn may be tried on this system.
pub(crate) fn available() -> bool {
    clone3::available()
}

fn cstring(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "a program, argument, variable or directory contains a NUL byte",
        )
    })
}

/// The child's environment: ours (unless cleared) with the changes.
fn environment(spec: &Spec<'_>) -> BTreeMap<OsString, OsString> {
    let mut env: BTreeMap<OsString, OsString> = if spec.env_clear {
        BTreeMap::new()
    } else {
        std::env::vars_os().collect()
    };
    for (key, value) in spec.env {
        match value {
            Some(v) => env.insert(key.clone(), v.clone()),
            None => env.remove(key),
        };
    }
    env
}

/// The paths `execvp` would try: the program itself if it names a path,
/// else each `PATH` directory (the child's `PATH` if the command sets it,
/// as std does; an empty entry is the working directory).
fn candidates(program: &OsStr, env: &BTreeMap<OsString, OsString>) -> io::Result<Vec<CString>> {
    let name = program.as_bytes();
    if name.is_empty() {
        return Err(io::Error::from_raw_os_error(libc::ENOENT));
    }
    if name.contains(&b'/') {
        return Ok(vec![cstring(name)?]);
    }
    let search = env
        .get(OsStr::new("PATH"))
        .cloned()
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_else(|| "/bin:/usr/bin".into());
    search
        .as_bytes()
        .split(|&b| b == b':')
        .map(|dir| {
            let dir = if dir.is_empty() { &b"."[..] } else { dir };
            let mut path = dir.to_vec();
            path.push(b'/');
            path.extend_from_slice(name);
            cstring(&path)
        })
        .collect()
}

/// Owned C strings and the pointer arrays into them, alive across the
/// spawn.
struct Prepared {
    _strings: Vec<CString>,
    paths: Vec<*const c_char>,
    argv: Vec<*const c_char>,
    envp: Vec<*const c_char>,
    cwd: Option<CString>,
    /// `/dev/null`, opened if a standard descriptor asks for it.
    _null: Option<OwnedFd>,
    /// Copies of descriptors 0-2 given for another standard slot (see
    /// [`prepare`]).
    _moved: Vec<OwnedFd>,
    stdio: [RawFd; 3],
}

impl Prepared {
    /// The child's context over these strings and descriptors; `empty`
    /// (the mask when `spec` restores none) must outlive it, as `self`.
    fn context(
        &self,
        spec: &Spec<'_>,
        new_group: bool,
        parent: libc::pid_t,
        empty: &libc::sigset_t,
    ) -> child::Ctx {
        child::Ctx {
            paths: self.paths.as_ptr(),
            paths_len: self.paths.len(),
            argv: self.argv.as_ptr(),
            envp: self.envp.as_ptr(),
            cwd: self.cwd.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
            stdio: self.stdio,
            death_signal: spec.death_signal.unwrap_or(0),
            new_group: new_group.into(),
            parent,
            mask: spec.restore.map_or(empty, |r| r.mask()),
            handlers_cleared: 0,
            err: 0,
        }
    }
}

/// An empty signal set: the child's mask when the spec restores none.
fn empty_mask() -> libc::sigset_t {
    // SAFETY: an all-zero sigset is valid; sigemptyset makes it empty.
    let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid out-pointer.
    unsafe { libc::sigemptyset(&mut empty) };
    empty
}

/// Builds every string and descriptor the child needs.
fn prepare(spec: &Spec<'_>) -> io::Result<Prepared> {
    let env = environment(spec);
    let candidates = candidates(spec.program, &env)?;
    let mut strings = Vec::new();
    let mut pointers = |list: Vec<CString>| -> Vec<*const c_char> {
        let mut ptrs: Vec<*const c_char> = list.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(ptr::null());
        strings.extend(list);
        ptrs
    };
    let mut paths = pointers(candidates);
    paths.pop();
    let argv: Vec<CString> = std::iter::once(spec.program)
        .chain(spec.args.iter().map(OsString::as_os_str))
        .map(|a| cstring(a.as_bytes()))
        .collect::<io::Result<_>>()?;
    let argv = pointers(argv);
    let envp: Vec<CString> = env
        .iter()
        .map(|(k, v)| cstring(&[k.as_bytes(), b"=", v.as_bytes()].concat()))
        .collect::<io::Result<_>>()?;
    let envp = pointers(envp);
    let cwd = spec
        .cwd
        .map(|d| cstring(d.as_os_str().as_bytes()))
        .transpose()?;
    let (null, moved, stdio) = standard_fds(&spec.stdio)?;
    Ok(Prepared {
        _strings: strings,
        paths,
        argv,
        envp,
        cwd,
        _null: null,
        _moved: moved,
        stdio,
    })
}

type StandardFds = (Option<OwnedFd>, Vec<OwnedFd>, [RawFd; 3]);

/// The source descriptor for each standard slot (-1: inherit). A source
/// that is itself 0, 1 or 2, given for another slot, would be replaced by
/// an earlier `dup2` before it is read: it is copied above 2 first (close-
/// on-exec, like every descriptor here).
fn standard_fds(stdio: &[Stdio<'_>; 3]) -> io::Result<StandardFds> {
    let mut null = None;
    let mut moved = Vec::new();
    let mut out = [-1; 3];
    for (slot, (want, out)) in stdio.iter().zip(out.iter_mut()).enumerate() {
        *out = match want {
            Stdio::Inherit => -1,
            Stdio::Null => {
                if null.is_none() {
                    let file = std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .open("/dev/null")?;
                    null = Some(OwnedFd::from(file));
                }
                null.as_ref().map_or(-1, AsRawFd::as_raw_fd)
            }
            Stdio::Given(fd) if fd.as_raw_fd() < 3 && fd.as_raw_fd() != slot as RawFd => {
                let copy = rustix::io::fcntl_dupfd_cloexec(fd, 3)?;
                let raw = copy.as_raw_fd();
                moved.push(copy);
                raw
            }
            Stdio::Given(fd) => fd.as_raw_fd(),
        };
    }
    Ok((null, moved, out))
}

/// A child's stack: mapped for one spawn, with a guard page below it.
struct Stack {
    base: *mut libc::c_void,
    len: usize,
}

/// Room for the child's few calls; the page below is a guard.
const STACK_SIZE: usize = 64 * 1024;
const GUARD: usize = 4096;

impl Stack {
    fn map() -> io::Result<Stack> {
        let len = STACK_SIZE + GUARD;
        // SAFETY: a fresh private anonymous mapping; nothing else uses it.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = Stack { base, len };
        // SAFETY: the lowest page of our own mapping.
        if unsafe { libc::mprotect(base, GUARD, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// The usable part: above the guard page (16-byte aligned: page
    /// aligned, with a size that is a multiple of 16).
    fn usable(&self) -> (*mut u8, usize) {
        // SAFETY: GUARD < len: still inside the mapping.
        (unsafe { self.base.cast::<u8>().add(GUARD) }, STACK_SIZE)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: our mapping; the child no longer runs on it (the vfork
        // ended before any Stack is dropped).
        unsafe { libc::munmap(self.base, self.len) };
    }
}

/// Blocks every signal in this thread until dropped, so that no handler
/// runs in the child while it shares our memory.
struct Blocked(libc::sigset_t);

impl Blocked {
    fn all() -> Blocked {
        // SAFETY: sigfillset fills a valid set; pthread_sigmask stores the
        // old mask into a valid out-pointer.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
            Blocked(old)
        }
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved by `all`.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, ptr::null_mut()) };
    }
}

/// What a spawn attempt came to.
pub(crate) enum Spawned {
    /// A running child (it has called `execve`), this PID, unreaped.
    Child(i32),
    /// The kernel or a filter refuses this kind of spawn (now remembered
    /// for the process): spawn another way.
    Refused,
}

/// A spawn with everything the child needs built: its strings and
/// descriptors, and a stack. What the caller must do before the child
/// exists (fork the guardian) goes between [`Ready::new`] and
/// [`Ready::spawn`]: every page this process writes after a `fork` costs
/// a copy-on-write fault, and the preparation writes many.
pub(crate) struct Ready<'a> {
    spec: Spec<'a>,
    prepared: Prepared,
    stack: Stack,
}

impl<'a> Ready<'a> {
    /// Builds the spawn of `spec`.
    pub(crate) fn new(spec: &Spec<'a>) -> io::Result<Ready<'a>> {
        Ok(Ready {
            spec: *spec,
            prepared: prepare(spec)?,
            stack: Stack::map()?,
        })
    }

    /// The child's context, for `parent` (`new_group`: it leads a group
    /// of its own); `empty` must outlive it, as `self`.
    fn context(&self, new_group: bool, parent: libc::pid_t, empty: &libc::sigset_t) -> child::Ctx {
        self.prepared.context(&self.spec, new_group, parent, empty)
    }

    /// Spawns to `place`. An error is the child's (exec failure, bad
    /// working directory, ...); no child is left then.
    pub(crate) fn spawn(self, place: Place<'_>) -> io::Result<Spawned> {
        let empty = empty_mask();
        let new_group = matches!(place, Place::NewGroup);
        let parent = std::process::id() as libc::pid_t;
        let mut ctx = self.context(new_group, parent, &empty);
        let (base, size) = self.stack.usable();
        let cgroup = match place {
            Place::Cgroup(fd) => Some(fd.as_raw_fd()),
            Place::NewGroup => None,
        };
        let mut args = clone3::CloneArgs::vfork(cgroup, base, size);
        let result = {
            let _blocked = Blocked::all();
            // SAFETY: a stack of our own that nothing else uses, `ctx` alive
            // until the vfork ends, signals blocked meanwhile.
            unsafe { clone_child(&mut args, ptr::addr_of_mut!(ctx)) }
        };
        drop(self);
        let pid = match result {
            Ok(pid) => pid,
            Err(e) if clone3::note_refusal(&e) => return Ok(Spawned::Refused),
            Err(e) => return Err(e),
        };
        // SAFETY: the child has exec'd or exited: nothing writes `err` now.
        let err = unsafe { ptr::addr_of!(ctx.err).read_volatile() };
        if err != 0 {
            reap(pid);
            return Err(io::Error::from_raw_os_error(err));
        }
        Ok(Spawned::Child(pid))
    }
}

/// Creates the child on `args` (`clone3`, vfork-like), running
/// `child::entry` on `ctx`; returns once the child has exec'd or exited.
/// A kernel that refuses `CLONE_CLEAR_SIGHAND` (5.3, 5.4) is asked again
/// without it. Async-signal-safe: the keeper makes its member with it.
///
/// # Safety
///
/// As `clone3::clone3`: `args` asks for `CLONE_VM` on a stack nothing else
/// uses, `ctx` stays valid until this returns, and signals should be
/// blocked in the calling thread.
unsafe fn clone_child(args: &mut clone3::CloneArgs, ctx: *mut child::Ctx) -> io::Result<i32> {
    loop {
        // SAFETY: the caller's contract; `child::entry` runs only
        // async-signal-safe code on `ctx` and its own stack.
        let result = unsafe {
            (*ctx).handlers_cleared = args.clears_handlers().into();
            clone3::clone3(args, child::entry, ctx.cast())
        };
        match result {
            Err(e) if args.drop_clear_after(&e) => continue,
            result => return result,
        }
    }
}

/// Kills (if still running) and reaps our unreaped child `pid`.
pub(crate) fn reap(pid: i32) {
    // SAFETY: `pid` is our child and unreaped, so it names that child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        while libc::waitpid(pid, ptr::null_mut(), 0) < 0 && *libc::__errno_location() == libc::EINTR
        {
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<OsString, OsString> {
        pairs.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    #[test]
    fn a_program_with_a_slash_is_the_one_candidate() {
        let found = candidates(OsStr::new("./x"), &env(&[("PATH", "/a:/b")])).unwrap();
        assert_eq!(found, [CString::new("./x").unwrap()]);
    }

    #[test]
    fn the_child_path_is_searched_in_order_and_empty_means_here() {
        let found = candidates(OsStr::new("x"), &env(&[("PATH", "/a::/b")])).unwrap();
        let want: Vec<CString> = ["/a/x", "./x", "/b/x"]
            .iter()
            .map(|s| CString::new(*s).unwrap())
            .collect();
        assert_eq!(found, want);
    }

    #[test]
    fn a_nul_byte_is_invalid_input() {
        let err = candidates(OsStr::new("a\0b"), &env(&[])).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
