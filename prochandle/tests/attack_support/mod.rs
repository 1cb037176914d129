//! Helpers of the `attack_*` tests only (the ones every suite uses are in
//! `prochandle-test-support`).
//!
//! The attack scenarios change process-wide state that must not leak into
//! the test harness (a seccomp filter, a lowered `RLIMIT_NOFILE`, being the
//! init of a PID namespace, counting every open descriptor). So each runs in
//! a child: the test binary re-executes itself for one test, with
//! [`SCENARIO_ENV`] naming the scenario. The test function sees the variable,
//! runs the scenario instead of its parent part, and reports through its exit
//! status (a panic is a failure) and `REPORT` lines on stdout.

#![allow(dead_code)]

#[cfg(target_os = "linux")]
pub mod seccomp;

use std::ffi::CStr;
use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Names the scenario a re-executed test binary should run.
pub const SCENARIO_ENV: &str = "PROCHANDLE_ATTACK_SCENARIO";

/// The scenario this process was started for, if any.
pub fn scenario() -> Option<String> {
    std::env::var(SCENARIO_ENV).ok()
}

/// A command that re-runs this test binary for exactly `test`, in `scenario`.
pub fn reexec(test: &str, scenario: &str) -> Command {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO_ENV, scenario)
        .stdin(Stdio::null());
    cmd
}

/// What a scenario child left behind.
pub struct Outcome {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Outcome {
    /// The values of every `REPORT key=value` pair the child printed.
    pub fn report(&self, key: &str) -> Option<String> {
        let prefix = format!("{key}=");
        self.stdout
            .lines()
            .filter_map(|l| l.find("REPORT ").map(|i| &l[i + 7..]))
            .flat_map(|l| l.split_whitespace())
            .find_map(|kv| kv.strip_prefix(&prefix).map(str::to_owned))
    }

    /// The `REPORT` lines, for the test's own output.
    pub fn report_lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter_map(|l| l.find("REPORT ").map(|i| &l[i..]))
            .collect()
    }

    /// Panics with the child's output unless it exited 0.
    pub fn assert_success(&self, what: &str) {
        assert!(
            self.status.success(),
            "{what}: child ended with {:?} (signal {:?})\n--- stdout\n{}\n--- stderr\n{}",
            self.status.code(),
            self.status.signal(),
            self.stdout,
            self.stderr
        );
    }
}

/// Runs `cmd` to completion, its output going to temporary files (a pipe
/// would stay open as long as any stray grandchild holds it); past `limit`
/// the child is killed (the watchdog) and the test fails, naming the hang.
///
/// The child leads a process group of its own, and whatever is left of that
/// group when it ends is killed: a scenario that fails half-way leaves no
/// strays.
pub fn run_with_watchdog(cmd: &mut Command, limit: Duration) -> io::Result<Outcome> {
    static SERIAL: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let base = std::env::temp_dir().join(format!("prochandle-attack-{}-{n}", std::process::id()));
    let (out_path, err_path) = (base.with_extension("out"), base.with_extension("err"));
    let start = Instant::now();
    let mut child = cmd
        .stdout(std::fs::File::create(&out_path)?)
        .stderr(std::fs::File::create(&err_path)?)
        .process_group(0)
        .spawn()?;
    let group = child.id() as i32;
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // SAFETY: kill with a negative PID signals that process group only.
    unsafe { libc::kill(-group, libc::SIGKILL) };
    let read = |p: &std::path::Path| {
        let mut s = Vec::new();
        let _ = std::fs::File::open(p).and_then(|mut f| f.read_to_end(&mut s));
        let _ = std::fs::remove_file(p);
        String::from_utf8_lossy(&s).into_owned()
    };
    let (stdout, stderr) = (read(&out_path), read(&err_path));
    if timed_out {
        panic!(
            "watchdog: scenario still running after {limit:?} (deadlock?), killed ({status:?})\n\
             --- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
    }
    Ok(Outcome {
        status,
        stdout,
        stderr,
        elapsed: start.elapsed(),
    })
}

/// Makes `cmd` start as PID 1 of a fresh PID namespace, in a fresh mount
/// namespace with its own `/proc` (so `/proc/<pid>` speaks the new
/// namespace's PIDs). Needs root.
///
/// `unshare(CLONE_NEWPID)` moves only later children, so the spawned child
/// unshares and forks: the grandchild is the namespace's init and execs the
/// command; the child waits for it and exits with its status. The init dies
/// with that child (`PR_SET_PDEATHSIG`), and the kernel kills everything in
/// the namespace when its init dies: a killed test leaves no strays.
pub fn in_new_pid_namespace(cmd: &mut Command) -> &mut Command {
    let hook = move || -> io::Result<()> {
        // Only async-signal-safe calls from here on: this runs between fork
        // and exec in a copy of a multi-threaded process.
        // SAFETY: unshare takes a flag word.
        check(unsafe { libc::unshare(libc::CLONE_NEWPID | libc::CLONE_NEWNS) })?;
        // SAFETY: fork in the single-threaded pre-exec child.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid != 0 {
            go_between(pid);
        }
        // SAFETY: prctl takes an option and a signal number.
        check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) })?;
        own_proc(None)
    };
    // SAFETY: the hook only makes async-signal-safe calls (see above).
    unsafe { cmd.pre_exec(hook) }
}

/// The child between the test and a new PID namespace's `init`: drops
/// every descriptor but stdio (std's exec-error pipe among them, so the
/// parent's spawn returns), waits for `init`, and passes on its fate.
/// Async-signal-safe.
fn go_between(init: libc::pid_t) -> ! {
    // SAFETY: close_range, waitpid and _exit are async-signal-safe and get
    // valid arguments.
    unsafe {
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
        let mut status = 0;
        loop {
            let r = libc::waitpid(init, &mut status, 0);
            if r == init {
                break;
            }
            if r < 0 && *libc::__errno_location() != libc::EINTR {
                libc::_exit(126);
            }
        }
        if libc::WIFEXITED(status) {
            libc::_exit(libc::WEXITSTATUS(status));
        }
        libc::_exit(128 + libc::WTERMSIG(status));
    }
}

/// In a mount namespace of its own (already unshared): makes every mount
/// private, so that what follows stays in it, then mounts a fresh procfs
/// over `/proc`, with `options` if any. Async-signal-safe.
fn own_proc(options: Option<&CStr>) -> io::Result<()> {
    let proc_fs = c"proc";
    let none = std::ptr::null();
    let data = options.map_or(std::ptr::null(), |o| o.as_ptr().cast());
    // SAFETY: mount is async-signal-safe; every string is NUL-terminated
    // and lives through the calls.
    unsafe {
        check(libc::mount(
            none,
            c"/".as_ptr(),
            none,
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ))?;
        check(libc::mount(
            proc_fs.as_ptr(),
            c"/proc".as_ptr(),
            proc_fs.as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            data,
        ))
    }
}

/// A system call's 0 as `Ok`, anything else as the `errno` it left.
fn check(ret: libc::c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Makes `cmd` start in a mount namespace of its own where `/proc` is a
/// fresh procfs mounted `hidepid=2` (other users' processes invisible),
/// and as user and group `id` (with no supplementary groups), as a
/// hardened container would run it. Needs root.
pub fn in_hidepid_proc(cmd: &mut Command, id: u32) -> &mut Command {
    let hook = move || -> io::Result<()> {
        // One step at a time, stopping at the first failure: above all,
        // /proc is mounted over only once the mount namespace is our own.
        // SAFETY: unshare, setgroups, setgid and setuid are
        // async-signal-safe system calls, given a flag word, a null group
        // list and IDs; this runs between fork and exec.
        unsafe {
            check(libc::unshare(libc::CLONE_NEWNS))?;
            own_proc(Some(c"hidepid=2"))?;
            check(libc::setgroups(0, std::ptr::null()))?;
            check(libc::setgid(id))?;
            check(libc::setuid(id))?;
        }
        Ok(())
    };
    // SAFETY: the hook only makes async-signal-safe calls (see above).
    unsafe { cmd.pre_exec(hook) }
}

/// The signal masks `SigPnd` | `ShdPnd` of `/proc/<pid>/status`: signals
/// pending for the process. `None` if it is gone.
pub fn pending_signals(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mut mask = 0;
    for line in status.lines() {
        for key in ["SigPnd:", "ShdPnd:"] {
            if let Some(v) = line.strip_prefix(key) {
                mask |= u64::from_str_radix(v.trim(), 16).ok()?;
            }
        }
    }
    Some(mask)
}

/// `sleep` with the given signals blocked, so that any of them sent to it
/// stays visible as pending instead of acting (`SIGKILL` cannot be blocked:
/// it kills, which shows as well).
pub fn sleeper_blocking(signals: &[i32], seconds: &str) -> Command {
    let mut cmd = Command::new("sleep");
    cmd.arg(seconds)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let signals = signals.to_vec();
    let hook = move || -> io::Result<()> {
        // SAFETY: sigset operations on a local set and sigprocmask are
        // async-signal-safe.
        unsafe {
            let mut set = std::mem::zeroed::<libc::sigset_t>();
            libc::sigemptyset(&mut set);
            for &s in &signals {
                libc::sigaddset(&mut set, s);
            }
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    };
    // SAFETY: the hook only makes async-signal-safe calls.
    unsafe { cmd.pre_exec(hook) };
    cmd
}

/// Writes `/proc/sys/kernel/ns_last_pid` so that the next process created in
/// this PID namespace gets `pid` (if it is free).
pub fn next_pid_will_be(pid: u32) -> io::Result<()> {
    std::fs::write("/proc/sys/kernel/ns_last_pid", format!("{}", pid - 1))
}

/// A small deterministic PRNG (xorshift64*), so failures can be replayed
/// from the printed seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn seeded_from_clock() -> (Self, u64) {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(42);
        (Rng::new(seed), seed)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A program that does nothing but `exit(0)`, as cheap to start as a
/// program can be: on x86_64 a 129-byte static ELF written to a temporary
/// file (no dynamic loader, no libc: about 5x faster to spawn than `true`),
/// elsewhere `true`. Write it before starting threads that spawn, so that no
/// forked child holds it open for writing (`ETXTBSY`).
pub fn tiny_exit_program() -> std::path::PathBuf {
    // mov eax, 60 (exit); xor edi, edi; syscall
    tiny_program(
        "exit0",
        &[0xb8, 60, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05],
        "true",
    )
}

/// A program that calls `pause()` forever and opens nothing, so its
/// descriptor table is exactly what it inherited (x86_64; elsewhere
/// `sleep`, which opens locale files of its own).
pub fn tiny_pause_program() -> std::path::PathBuf {
    // again: mov eax, 34 (pause); syscall; jmp again
    tiny_program(
        "pause",
        &[0xb8, 34, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7],
        "sleep",
    )
}

#[allow(unused_variables)]
fn tiny_program(name: &str, code: &[u8], fallback: &str) -> std::path::PathBuf {
    #[cfg(target_arch = "x86_64")]
    {
        let path = std::env::temp_dir().join(format!("ph-{name}-{}", std::process::id()));
        const BASE: u64 = 0x40_0000;
        const EHDR: u16 = 64;
        const PHDR: u16 = 56;
        let size = u64::from(EHDR + PHDR) + code.len() as u64;
        let mut elf = Vec::with_capacity(size as usize);
        elf.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"); // 64-bit, LE
        elf.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        elf.extend_from_slice(&0x3eu16.to_le_bytes()); // EM_X86_64
        elf.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
        elf.extend_from_slice(&(BASE + u64::from(EHDR + PHDR)).to_le_bytes()); // entry
        elf.extend_from_slice(&u64::from(EHDR).to_le_bytes()); // phoff
        elf.extend_from_slice(&0u64.to_le_bytes()); // shoff
        elf.extend_from_slice(&0u32.to_le_bytes()); // flags
        for half in [EHDR, PHDR, 1, 0, 0, 0] {
            // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
            elf.extend_from_slice(&half.to_le_bytes());
        }
        elf.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        elf.extend_from_slice(&5u32.to_le_bytes()); // R + X
        for word in [0, BASE, BASE, size, size, 0x1000] {
            // offset, vaddr, paddr, filesz, memsz, align
            elf.extend_from_slice(&word.to_le_bytes());
        }
        elf.extend_from_slice(code);
        // Written beside and copied into place by `cp`: a file this
        // process has open for writing cannot be run while a fork on another
        // test thread holds that descriptor (ETXTBSY), and rewriting a
        // program another test is running fails the same way. So each
        // program is made once, by a process of its own.
        static MADE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
        let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
        if !made.iter().any(|n| n == name) {
            let source = path.with_extension("src");
            std::fs::write(&source, &elf).expect("write the tiny program");
            prochandle_test_support::named::copy_executable(&source, &path)
                .expect("copy the tiny program into place");
            let _ = std::fs::remove_file(&source);
            made.push(name.to_owned());
        }
        path
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        std::path::PathBuf::from(fallback)
    }
}

/// The PIDs whose parent is this process, from `/proc`.
pub fn our_children() -> Vec<u32> {
    let me = std::process::id();
    let mut kids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.iter().rposition(|&b| b == b')') else {
            continue;
        };
        let rest = String::from_utf8_lossy(&stat[close + 1..]).into_owned();
        if rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()) == Some(me) {
            kids.push(pid);
        }
    }
    kids
}
