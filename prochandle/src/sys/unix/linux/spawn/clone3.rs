//! The one raw call of the fast spawn: `clone3(2)` with `CLONE_VM |
//! CLONE_VFORK | CLONE_INTO_CGROUP`, the child on a stack of its own.
//!
//! Why assembly: with `CLONE_VM` the child shares this address space, so
//! it must not return through the C library's `syscall()` wrapper (its
//! frame is the parent's too), and `clone3` takes no function to call as
//! the C library's `clone()` does. The few instructions below make the
//! syscall and, in the child only, call the entry function on the new
//! stack, which never returns. Neither libc nor rustix offers `clone3`.
//! Architectures without such a block report "not available" and the
//! scope spawns through std instead.
//!
//! Whether the kernel has `clone3` at all (5.3) is probed once per
//! process under the `SIGSYS` guard; whether it knows `CLONE_INTO_CGROUP`
//! (5.7) is learnt from the first real call, which fails without creating
//! a child when it does not.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use super::super::sigsys_guard;

/// `CLONE_INTO_CGROUP` from `<linux/sched.h>` (Linux 5.7); libc does not
/// define it.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `CLONE_CLEAR_SIGHAND` from `<linux/sched.h>` (Linux 5.5): the kernel
/// resets every handled signal of the child to its default (ignored ones
/// stay ignored), which the child would otherwise do with one `sigaction`
/// per signal while the parent waits.
const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;

/// False once a kernel refused `CLONE_CLEAR_SIGHAND` (5.3 and 5.4 have
/// `clone3` without it; every kernel with `CLONE_INTO_CGROUP` has it).
static CLEARS_HANDLERS: AtomicBool = AtomicBool::new(true);

/// `struct clone_args` of `<linux/sched.h>`, `CLONE_ARGS_SIZE_VER2` (88
/// bytes): the version that has the `cgroup` field.
#[repr(C)]
#[derive(Default)]
pub(super) struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

impl CloneArgs {
    /// A vfork-style child of ours, in the cgroup open as `cgroup` if one
    /// is given (else in ours), running on `stack..stack + size`;
    /// `SIGCHLD` when it exits.
    pub(super) fn vfork(cgroup: Option<i32>, stack: *mut u8, size: usize) -> CloneArgs {
        let into = if cgroup.is_some() {
            CLONE_INTO_CGROUP
        } else {
            0
        };
        let clear = if cgroup.is_some() || CLEARS_HANDLERS.load(Ordering::Relaxed) {
            CLONE_CLEAR_SIGHAND
        } else {
            0
        };
        CloneArgs {
            flags: (libc::CLONE_VM | libc::CLONE_VFORK) as u64 | into | clear,
            exit_signal: libc::SIGCHLD as u64,
            stack: stack as u64,
            stack_size: size as u64,
            cgroup: cgroup.map_or(0, |fd| fd as u64),
            ..CloneArgs::default()
        }
    }

    /// Whether the child starts with every handled signal at its default.
    pub(super) fn clears_handlers(&self) -> bool {
        self.flags & CLONE_CLEAR_SIGHAND != 0
    }

    /// After `EINVAL` from a call with `CLONE_CLEAR_SIGHAND` but without
    /// `CLONE_INTO_CGROUP`: the kernel may predate the flag (5.3, 5.4), so
    /// it is dropped for this call and the ones after; true if that was
    /// the case and the call is worth retrying. (`EINVAL` comes before any
    /// child is created.)
    pub(super) fn drop_clear_after(&mut self, err: &io::Error) -> bool {
        let retry = err.raw_os_error() == Some(libc::EINVAL)
            && self.clears_handlers()
            && self.flags & CLONE_INTO_CGROUP == 0;
        if retry {
            CLEARS_HANDLERS.store(false, Ordering::Relaxed);
            self.flags &= !CLONE_CLEAR_SIGHAND;
        }
        retry
    }
}

/// The child's entry: called on the new stack with the context pointer;
/// it must end in `execve` or `_exit`.
pub(super) type Entry = extern "C" fn(*mut libc::c_void) -> !;

const UNKNOWN: u8 = 0;
const AVAILABLE: u8 = 1;
const MISSING: u8 = 2;

/// What this process knows about `clone3` with `CLONE_INTO_CGROUP`.
static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Whether the fast spawn may be tried: this architecture has the
/// assembly, the kernel has `clone3`, and no earlier call showed it
/// lacking `CLONE_INTO_CGROUP` or refused by a filter.
pub(super) fn available() -> bool {
    if !cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        return false;
    }
    match STATE.load(Ordering::Relaxed) {
        AVAILABLE => true,
        MISSING => false,
        _ => {
            let found = probe();
            STATE.store(if found { AVAILABLE } else { MISSING }, Ordering::Relaxed);
            found
        }
    }
}

/// Probes `clone3` under `guard`, a guarded section someone else opened
/// (the feature probe's: one look at the thread's seccomp state for
/// both), unless this process already knows the answer.
pub(crate) fn probe_within(guard: &sigsys_guard::Guard) {
    if STATE.load(Ordering::Relaxed) == UNKNOWN {
        let found = probe_with(guard);
        // A refusal noted meanwhile by a real call stands.
        let _ = STATE.compare_exchange(
            UNKNOWN,
            if found { AVAILABLE } else { MISSING },
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }
}

fn probe() -> bool {
    let guard = sigsys_guard::begin();
    let found = probe_with(&guard);
    sigsys_guard::end(guard);
    found
}

/// `clone3(NULL, 0)`: a kernel with the call answers `EINVAL` (the size
/// is below the first version's); a kernel without it, or a filter that
/// removes it, `ENOSYS` or `EPERM`. A filter that traps is caught by the
/// guard. No process is ever created.
fn probe_with(guard: &sigsys_guard::Guard) -> bool {
    let probed = sigsys_guard::call(guard, || {
        // SAFETY: a null argument with size 0 is rejected before the
        // kernel reads anything; nothing is created.
        let r = unsafe { libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0usize) };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    });
    matches!(probed.result, Err(e) if e.raw_os_error() == Some(libc::EINVAL))
}

/// Records that a call failed in a way that says the kernel (or a filter)
/// will not do this kind of spawn; returns whether `err` was such.
pub(super) fn note_refusal(err: &io::Error) -> bool {
    let refused = matches!(
        err.raw_os_error(),
        Some(libc::ENOSYS | libc::EPERM | libc::EINVAL | libc::E2BIG | libc::EOPNOTSUPP)
    );
    if refused {
        STATE.store(MISSING, Ordering::Relaxed);
    }
    refused
}

/// Makes the call. Returns the child's PID in the parent, after the child
/// has called `execve` successfully or exited (`CLONE_VFORK`).
///
/// # Safety
///
/// `args` must ask for `CLONE_VM` with a stack that nothing else uses
/// until this returns; `entry` must run only async-signal-safe code that
/// touches no memory but `ctx` and its own stack, and must not return;
/// `ctx` must stay valid until this returns. Signals should be blocked in
/// the calling thread, so that no handler of ours runs in the child.
pub(super) unsafe fn clone3(
    args: &mut CloneArgs,
    entry: Entry,
    ctx: *mut libc::c_void,
) -> io::Result<i32> {
    // SAFETY: the caller's contract; `raw` makes the syscall with these.
    let ret = unsafe { raw(args, entry, ctx) };
    if ret < 0 {
        Err(io::Error::from_raw_os_error((-ret) as i32))
    } else {
        Ok(ret as i32)
    }
}

#[cfg(target_arch = "x86_64")]
unsafe fn raw(args: &mut CloneArgs, entry: Entry, ctx: *mut libc::c_void) -> isize {
    let ret: isize;
    // SAFETY: the syscall preserves every register but rax, rcx and r11
    // (declared). In the child (rax = 0) the kernel has set rsp to the top
    // of the new stack (16-byte aligned: the caller's size is a multiple
    // of 16), so `call` leaves the alignment the ABI wants; the entry never
    // returns (ud2 would trap if it did). The parent falls through to 2.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov rdi, r12",
            "xor ebp, ebp",
            "call r13",
            "ud2",
            "2:",
            inlateout("rax") libc::SYS_clone3 as isize => ret,
            in("rdi") args as *mut CloneArgs,
            in("rsi") std::mem::size_of::<CloneArgs>(),
            in("r12") ctx,
            in("r13") entry,
            lateout("rcx") _,
            lateout("r11") _,
        );
    }
    ret
}

#[cfg(target_arch = "aarch64")]
unsafe fn raw(args: &mut CloneArgs, entry: Entry, ctx: *mut libc::c_void) -> isize {
    let ret: isize;
    // SAFETY: `svc 0` preserves every register but x0. In the child (x0 =
    // 0) sp is the top of the new stack (16-byte aligned); the frame and
    // link registers are cleared so nothing unwinds into the parent's
    // frames, and the entry never returns (brk would trap if it did).
    unsafe {
        std::arch::asm!(
            "svc 0",
            "cbnz x0, 2f",
            "mov x0, x10",
            "mov x29, xzr",
            "mov x30, xzr",
            "blr x11",
            "brk 1",
            "2:",
            in("x8") libc::SYS_clone3,
            inlateout("x0") args as *mut CloneArgs => ret,
            in("x1") std::mem::size_of::<CloneArgs>(),
            in("x10") ctx,
            in("x11") entry,
        );
    }
    ret
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
unsafe fn raw(_args: &mut CloneArgs, _entry: Entry, _ctx: *mut libc::c_void) -> isize {
    // `available()` is false here, so this is never reached.
    -(libc::ENOSYS as isize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_args_has_the_size_of_version_2() {
        // CLONE_ARGS_SIZE_VER2 in <linux/sched.h>.
        assert_eq!(std::mem::size_of::<CloneArgs>(), 88);
    }
}
