//! Seccomp filters for the attack scenarios: raw classic BPF, a few
//! instructions each, simulating old kernels and locked-down sandboxes.

use std::io;

/// What a filter rule does to a matching syscall.
#[derive(Clone, Copy)]
pub enum Action {
    Errno(i32),
    Trap,
}

/// One rule: syscall number, optionally "and argument `index` equals
/// `value`" (low 32 bits).
pub struct Rule {
    pub nr: i64,
    pub arg: Option<(u32, u32)>,
    pub action: Action,
}

pub fn rule(nr: i64, action: Action) -> Rule {
    Rule {
        nr,
        arg: None,
        action,
    }
}

const BPF_LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const BPF_JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const BPF_RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
const RET_ALLOW: u32 = 0x7fff_0000;
const RET_TRAP: u32 = 0x0003_0000;
const RET_ERRNO: u32 = 0x0005_0000;
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;
/// `struct seccomp_data`: nr at 0, arch at 4, args at 16 + 8 * i.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;

fn op(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

fn compile(rules: &[Rule]) -> Vec<libc::sock_filter> {
    let mut prog = vec![
        op(BPF_LD_W_ABS, 0, 0, OFF_ARCH),
        op(BPF_JEQ_K, 1, 0, AUDIT_ARCH),
        op(BPF_RET_K, 0, 0, RET_ALLOW),
    ];
    for r in rules {
        let ret = match r.action {
            Action::Errno(e) => RET_ERRNO | e as u32,
            Action::Trap => RET_TRAP,
        };
        prog.push(op(BPF_LD_W_ABS, 0, 0, OFF_NR));
        match r.arg {
            None => {
                prog.push(op(BPF_JEQ_K, 0, 1, r.nr as u32));
            }
            Some((index, value)) => {
                prog.push(op(BPF_JEQ_K, 0, 3, r.nr as u32));
                prog.push(op(BPF_LD_W_ABS, 0, 0, 16 + 8 * index));
                prog.push(op(BPF_JEQ_K, 0, 1, value));
            }
        }
        prog.push(op(BPF_RET_K, 0, 0, ret));
    }
    prog.push(op(BPF_RET_K, 0, 0, RET_ALLOW));
    prog
}

/// Installs the filter on every thread of this process (`TSYNC`), as a
/// container runtime or Android's zygote would have before we start.
pub fn install(rules: &[Rule], all_threads: bool) -> io::Result<()> {
    let prog = compile(rules);
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let flags: libc::c_ulong = if all_threads { 1 } else { 0 }; // SECCOMP_FILTER_FLAG_TSYNC
                                                                // SAFETY: `fprog` points to `prog`, both alive across the call; the
                                                                // kernel copies the program.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            1 as libc::c_ulong, // SECCOMP_SET_MODE_FILTER
            flags,
            &fprog as *const libc::sock_fprog,
        )
    };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
