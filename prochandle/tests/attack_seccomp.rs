//! Old kernels and locked-down sandboxes, simulated with seccomp.
//!
//! Each environment is a child process (this test binary, re-executed) that
//! installs a seccomp filter before anything probes, then checks:
//! `capabilities()` reports as unavailable exactly what the filter removed
//! (relative to an unfiltered child on the same machine), and picks the
//! tier the environment calls for (a `/proc/<pid>` directory where the
//! pidfd is gone, signalling through `pidfd_send_signal` where only
//! `pidfd_open` is); spawn, open, signal, wait and wait_timeout still work;
//! `with_handle` says `NoHandle` exactly when there is no pidfd; what is
//! gone says `Unsupported` (or an unknown exit status) with a reason; and
//! nothing dies of `SIGSYS`.
//!
//! One environment also changes the mount namespace (root only): `/proc`
//! mounted `hidepid=2`, the child running as `nobody`, as a hardened
//! container would.
//!
//! The filters are raw classic BPF, a few instructions each. Every child
//! runs with `PROCHANDLE_FORCE_PID` removed, so both suite runs test the
//! same thing: the filter, not the switch.
#![cfg(target_os = "linux")]

mod attack_support;

use std::collections::BTreeSet;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use attack_support::seccomp::{install, rule, Action, Rule};
use attack_support::*;
use prochandle::{capabilities, Availability, ErrorKind, ExitStatus, Feature, Process, Signal};
use prochandle_test_support::{is_root, skip, ExeForOthers};

const TEST: &str = "sandboxes_degrade_safely";

/// `_IOWR(0xFF, 11, struct pidfd_info)` with the 64-byte struct of 6.15.
const PIDFD_GET_INFO: u32 = 0xC040_FF0B;
const P_PIDFD: u32 = 3;

/// A simulated environment: its filter, the features it must cost, and
/// the tier (`PinMode::name`) it leaves.
struct Env {
    name: &'static str,
    rules: fn() -> Vec<Rule>,
    removes: Vec<Feature>,
    mode: &'static str,
}

/// Every feature that needs a pidfd: all but the `/proc/<pid>` directory
/// ones (derived, so that a new feature is not forgotten here).
fn all_pidfd() -> Vec<Feature> {
    Feature::ALL
        .iter()
        .copied()
        .filter(|f| !matches!(f, Feature::ProcDirHandle | Feature::ProcDirSignal))
        .collect()
}

/// Every pidfd feature, and `pidfd_send_signal` on `/proc/<pid>` too.
fn all_pidfd_and_signal() -> Vec<Feature> {
    let mut features = all_pidfd();
    features.push(Feature::ProcDirSignal);
    features
}

/// The environment with `/proc` mounted `hidepid=2` (see [`in_hidepid_proc`]).
const HIDEPID: &str = "pidfd_open-eperm-hidepid2";

fn envs() -> Vec<Env> {
    let mut envs = old_kernels();
    envs.extend(sandboxes());
    envs
}

/// Kernels without some pidfd call, each as the syscalls it lacks.
fn old_kernels() -> Vec<Env> {
    use Action::*;
    vec![
        Env {
            name: "kernel-before-5.3",
            rules: || {
                vec![
                    rule(libc::SYS_pidfd_open, Errno(libc::ENOSYS)),
                    rule(libc::SYS_pidfd_send_signal, Errno(libc::ENOSYS)),
                    rule(libc::SYS_pidfd_getfd, Errno(libc::ENOSYS)),
                    rule(libc::SYS_clone3, Errno(libc::ENOSYS)),
                ]
            },
            removes: all_pidfd_and_signal(),
            mode: "proc_dir",
        },
        // Linux 5.1 and 5.2: pidfd_send_signal, but no pidfd_open yet. The
        // directory tier then signals race-free.
        Env {
            name: "kernel-5.1-5.2",
            rules: || {
                vec![
                    rule(libc::SYS_pidfd_open, Errno(libc::ENOSYS)),
                    rule(libc::SYS_pidfd_getfd, Errno(libc::ENOSYS)),
                    rule(libc::SYS_clone3, Errno(libc::ENOSYS)),
                ]
            },
            removes: all_pidfd(),
            mode: "proc_dir",
        },
        Env {
            name: "kernel-5.3",
            rules: || {
                vec![Rule {
                    nr: libc::SYS_waitid,
                    arg: Some((0, P_PIDFD)),
                    action: Errno(libc::EINVAL),
                }]
            },
            removes: vec![Feature::ProcessHandle, Feature::WaitidPidfd],
            mode: "proc_dir",
        },
        Env {
            name: "kernel-5.4",
            rules: || vec![rule(libc::SYS_pidfd_getfd, Errno(libc::ENOSYS))],
            removes: vec![Feature::PidfdGetfd],
            mode: "handle",
        },
        Env {
            name: "kernel-before-6.13",
            rules: || {
                vec![Rule {
                    nr: libc::SYS_ioctl,
                    arg: Some((1, PIDFD_GET_INFO)),
                    action: Errno(libc::ENOTTY),
                }]
            },
            removes: vec![
                Feature::PidfdGetInfo,
                Feature::PidfdInfoExit,
                Feature::PidfdInfoCoredump,
                Feature::PidfdInfoSupportedMask,
            ],
            mode: "handle",
        },
    ]
}

/// Sandboxes that refuse pidfd calls on a kernel that has them.
fn sandboxes() -> Vec<Env> {
    use Action::*;
    vec![
        Env {
            name: "docker-eperm",
            rules: || vec![rule(libc::SYS_pidfd_open, Errno(libc::EPERM))],
            removes: all_pidfd(),
            mode: "proc_dir",
        },
        Env {
            name: HIDEPID,
            rules: || vec![rule(libc::SYS_pidfd_open, Errno(libc::EPERM))],
            removes: all_pidfd(),
            mode: "proc_dir",
        },
        Env {
            name: "android-sigsys",
            rules: || {
                vec![
                    rule(libc::SYS_pidfd_open, Trap),
                    rule(libc::SYS_pidfd_send_signal, Trap),
                    rule(libc::SYS_pidfd_getfd, Trap),
                ]
            },
            removes: all_pidfd_and_signal(),
            mode: "proc_dir",
        },
        // Not in the table: pidfd_open works but the next call
        // traps, so the probe survives a trap half-way, with a pidfd open.
        Env {
            name: "sigsys-after-open",
            rules: || vec![rule(libc::SYS_pidfd_send_signal, Trap)],
            removes: vec![
                Feature::ProcessHandle,
                Feature::PidfdSendSignal,
                Feature::ProcDirSignal,
            ],
            mode: "proc_dir",
        },
        // The probe asks the kernel for the seccomp mode with `prctl`
        // under its SIGSYS handler: a filter that traps `prctl` itself
        // must read as "filtered", and the probe go on guarded.
        Env {
            name: "sigsys-on-prctl",
            rules: || {
                vec![
                    rule(libc::SYS_prctl, Trap),
                    rule(libc::SYS_pidfd_send_signal, Trap),
                ]
            },
            removes: vec![
                Feature::ProcessHandle,
                Feature::PidfdSendSignal,
                Feature::ProcDirSignal,
            ],
            mode: "proc_dir",
        },
    ]
}

// --- the child side ----------------------------------------------------

fn unavailable_now() -> BTreeSet<&'static str> {
    capabilities()
        .iter()
        .filter(|(_, a)| !a.is_available())
        .map(|(f, _)| f.name())
        .collect()
}

fn run_env(name: &str) {
    let (env, all_threads) = match name.strip_suffix("@this-thread") {
        Some(base) => (base, false),
        None => (name, true),
    };
    if env != "baseline" {
        let env = envs().into_iter().find(|e| e.name == env).expect("env");
        install(&(env.rules)(), all_threads).expect("install seccomp filter");
    }
    let caps = capabilities();
    let gone = unavailable_now();
    println!(
        "\nREPORT unavailable={} pin_mode={}",
        gone.iter().copied().collect::<Vec<_>>().join(","),
        caps.pin_mode().name()
    );
    if env == HIDEPID {
        hidden_processes_stay_hidden();
    }
    for (feature, availability) in caps.iter() {
        if let Availability::Unavailable { reason, .. } = availability {
            assert!(!reason.is_empty(), "{feature}: no reason given");
            if name.starts_with("android") || name.starts_with("sigsys") {
                // The one that trapped says so.
                if matches!(feature, Feature::PidfdOpen | Feature::PidfdSendSignal)
                    && reason.contains("SIGSYS")
                {
                    println!("\nREPORT trapped={feature}");
                }
            }
        }
    }
    behaviour(caps.handles(), caps.is_available(Feature::PidfdInfoExit));
}

/// The focused behaviour suite each environment must pass.
fn behaviour(handles: bool, info_exit: bool) {
    own_child(handles);
    someone_elses_process(handles, info_exit);
    from_handle(handles);
}

/// Our own child: spawn, with_handle, wait_timeout, signal, wait.
fn own_child(handles: bool) {
    let child = Process::spawn(Command::new("sleep").arg("30")).expect("spawn");
    assert_eq!(child.has_handle(), handles);
    match child.with_handle(|_| 7) {
        Ok(7) => assert!(handles),
        Err(e) => {
            assert!(!handles, "with_handle failed with a pidfd: {e}");
            assert_eq!(e.kind(), ErrorKind::NoHandle);
        }
        Ok(_) => unreachable!(),
    }
    assert!(child
        .wait_timeout(Duration::from_millis(20))
        .unwrap()
        .is_none());
    assert!(child.try_wait().unwrap().is_none());
    child.signal(Signal::TERM).expect("signal");
    let state = child.wait().expect("wait");
    assert_eq!(state.signal(), Some(prochandle::Signal::TERM));
    assert!(state.usage().is_some());
    assert_eq!(child.kill().unwrap_err().kind(), ErrorKind::Done);
}

/// Someone else's process: open, signal, wait for it; its exit status is
/// known only where `PIDFD_INFO_EXIT` is, and said to be unknown elsewhere.
fn someone_elses_process(handles: bool, info_exit: bool) {
    let mut shell = Command::new("sh")
        .args(["-c", "sleep 30 & echo $!; wait"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    io::BufRead::read_line(
        &mut io::BufReader::new(shell.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let pid: u32 = line.trim().parse().unwrap();
    let other = Process::open(pid).expect("open");
    assert!(!other.is_child());
    assert_eq!(other.has_handle(), handles);
    assert!(other
        .wait_timeout(Duration::from_millis(20))
        .unwrap()
        .is_none());
    other.signal(Signal::TERM).expect("signal a non-child");
    let state = other
        .wait_timeout(Duration::from_secs(10))
        .unwrap()
        .expect("non-child exit seen");
    match state.status() {
        ExitStatus::Signaled { signal, .. } => {
            assert!(handles && info_exit);
            assert_eq!(signal, prochandle::Signal::TERM);
        }
        ExitStatus::Unknown(reason) => {
            // The feature that reports it is gone: said, not made up.
            assert!(
                !(handles && info_exit),
                "status unknown despite PIDFD_INFO_EXIT"
            );
            assert!(!reason.describe().is_empty());
        }
        other => panic!("unexpected status {other:?}"),
    }
    assert_eq!(
        other.signal(Signal::TERM).unwrap_err().kind(),
        ErrorKind::Done
    );
    shell.wait().unwrap();
}

/// `from_handle` works with pidfds, and is `Unsupported`, with a reason,
/// without them.
fn from_handle(handles: bool) {
    if handles {
        let p = Process::spawn(Command::new("sleep").arg("30")).unwrap();
        let pid = p.pid();
        let fd = p.into_handle().expect("a pidfd");
        let p = Process::from_handle(fd).expect("from_handle of a pidfd");
        assert_eq!(p.pid(), pid);
        p.kill().unwrap();
        p.wait().unwrap();
    } else {
        let fd: OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
        let err = Process::from_handle(fd).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        assert!(err.to_string().contains("pidfd"), "unclear message: {err}");
    }
}

/// Under `hidepid=2`, as `nobody`: another user's process is not there to
/// open (`NotFound`, as for a PID nobody has), never a crash or a guess.
fn hidden_processes_stay_hidden() {
    // SAFETY: getuid has no preconditions.
    assert_ne!(unsafe { libc::getuid() }, 0, "still root");
    assert!(
        std::fs::read_dir("/proc/1").is_err(),
        "/proc/1 visible: hidepid=2 not in force"
    );
    let err = Process::open(1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

// --- the parent side ---------------------------------------------------

fn run_child(name: &str) -> Option<Outcome> {
    // The hidepid child runs as nobody, who must be able to reach the
    // binary (a copy where the checkout is private, kept until it ends).
    let exe_for_nobody = (name == HIDEPID).then(ExeForOthers::new);
    let mut cmd = match &exe_for_nobody {
        Some(exe) => exe.reexec(TEST, SCENARIO_ENV, name),
        None => reexec(TEST, name),
    };
    cmd.env_remove(prochandle::FORCE_PID_ENV);
    if name == HIDEPID {
        if !is_root() {
            skip("mounting /proc with hidepid=2 needs root");
            return None;
        }
        in_hidepid_proc(&mut cmd, 65534);
    }
    let out = run_with_watchdog(&mut cmd, Duration::from_secs(60)).expect("start child");
    assert_ne!(
        out.status.signal(),
        Some(libc::SIGSYS),
        "{name}: the process was killed by SIGSYS\n{}",
        out.stderr
    );
    out.assert_success(name);
    Some(out)
}

fn unavailable_in(out: &Outcome) -> BTreeSet<String> {
    out.report("unavailable")
        .expect("unavailable report")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn sandboxes_degrade_safely() {
    if let Some(s) = scenario() {
        return run_env(&s);
    }
    let baseline = unavailable_in(&run_child("baseline").expect("baseline"));
    println!("baseline unavailable: {baseline:?}");
    for env in envs() {
        let Some(out) = run_child(env.name) else {
            continue;
        };
        let got = unavailable_in(&out);
        let mut want = baseline.clone();
        want.extend(env.removes.iter().map(|f| f.name().to_owned()));
        assert_eq!(
            got, want,
            "{}: capabilities() disagree with the filter",
            env.name
        );
        assert_eq!(
            out.report("pin_mode").as_deref(),
            Some(env.mode),
            "{}: the wrong tier",
            env.name
        );
        if matches!(
            env.name,
            "android-sigsys" | "sigsys-after-open" | "sigsys-on-prctl"
        ) {
            assert!(
                out.report("trapped").is_some(),
                "{}: trap not reported",
                env.name
            );
        }
        println!("{}: ok in {:?}, unavailable {got:?}", env.name, out.elapsed);
    }
}

/// A filter on one thread only (no `TSYNC`): the probe must still notice it
/// is filtered, on the thread that probes, and survive the trap.
#[test]
fn sigsys_on_the_probing_thread_only() {
    const TEST: &str = "sigsys_on_the_probing_thread_only";
    if let Some(s) = scenario() {
        // libtest runs the test on a thread of its own, not the main thread:
        // exactly the case where /proc/self/status describes another thread.
        return run_env(&s);
    }
    let mut cmd = reexec(TEST, "android-sigsys@this-thread");
    cmd.env_remove(prochandle::FORCE_PID_ENV);
    let out = run_with_watchdog(&mut cmd, Duration::from_secs(60)).expect("start child");
    assert_ne!(
        out.status.signal(),
        Some(libc::SIGSYS),
        "killed by SIGSYS: the probe missed a filter on its own thread\n{}",
        out.stderr
    );
    out.assert_success("android-sigsys on one thread");
    assert_eq!(
        unavailable_in(&out),
        all_pidfd_and_signal()
            .iter()
            .map(|f| f.name().to_owned())
            .collect()
    );
    assert_eq!(out.report("pin_mode").as_deref(), Some("proc_dir"));
}
