//! Descriptor hygiene: nothing leaks, nothing is inherited, and running out
//! of descriptors is an error, not a disaster.
//!
//! The counting tests run in a child (this binary re-executed) so that no
//! other test's descriptors come and go in the count, and so that lowering
//! `RLIMIT_NOFILE` stays out of the harness.
#![cfg(target_os = "linux")]

mod attack_support;

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use attack_support::*;
use prochandle::{capabilities, ErrorKind, Process, Signal};
use prochandle_test_support::open_fds;
use prochandle_test_support::procfs::{fd_links, is_pidfd_link};

/// Cycles of the leak test; each runs one of the four operations in turn.
const CYCLES: usize = 100_000;

fn run_scenario_child(test: &str, scenario: &str, limit: Duration) -> Outcome {
    let out = run_with_watchdog(&mut reexec(test, scenario), limit).expect("start child");
    out.assert_success(scenario);
    for line in out.report_lines() {
        println!("{line}");
    }
    out
}

#[test]
fn no_descriptor_leaks_over_100k_cycles() {
    const TEST: &str = "no_descriptor_leaks_over_100k_cycles";
    if scenario().is_some() {
        return leak_cycles();
    }
    let out = run_scenario_child(TEST, "cycles", Duration::from_secs(600));
    assert_eq!(out.report("cycles").as_deref(), Some("100000"));
}

fn leak_cycles() {
    let handles = capabilities().handles();
    let exit0 = tiny_exit_program();
    // A long-lived child and a long-lived non-child (init) to open again
    // and again, and a held `Process` to lend its handle.
    let mut sleeper = Command::new("sleep").arg("600").spawn().unwrap();
    let held = Process::open(sleeper.id()).unwrap();
    let warm = Process::spawn(&mut Command::new(&exit0)).unwrap();
    warm.wait().unwrap();

    let before = open_fds();
    let started = Instant::now();
    let mut counts = [0usize; 4];
    for i in 0..CYCLES {
        cycle(i, &exit0, sleeper.id(), &held, handles);
        counts[i % 4] += 1;
    }
    let elapsed = started.elapsed();
    let after = open_fds();
    assert_eq!(before, after, "descriptors leaked over {CYCLES} cycles");
    drop(held);
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    assert_eq!(our_children(), Vec::<u32>::new(), "a child was left behind");
    if exit0.is_absolute() {
        let _ = std::fs::remove_file(&exit0);
    }
    println!(
        "\nREPORT cycles={CYCLES} spawn_wait={} open_drop={} with_handle={} failed_spawn={} \
         fds_before={before} fds_after={after} seconds={:.1}",
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        elapsed.as_secs_f64()
    );
}

/// Cycle `i` of the leak test, one of four operations in turn: spawn and
/// wait for `exit0`; open a child (`sleeper`) or init and drop it; borrow
/// `held`'s handle; a failed spawn, and a refused non-pidfd descriptor.
fn cycle(i: usize, exit0: &Path, sleeper: u32, held: &Process, handles: bool) {
    match i % 4 {
        0 => {
            let p = Process::spawn(&mut Command::new(exit0)).expect("spawn");
            assert!(p.wait().expect("wait").success());
        }
        1 => {
            let pid = if i % 8 == 1 { 1 } else { sleeper };
            let p = Process::open(pid).expect("open");
            assert_eq!(p.has_handle(), handles);
            drop(p);
        }
        2 => match held.with_handle(|fd| fd.as_raw_fd()) {
            Ok(fd) => assert!(handles && fd >= 0),
            Err(e) => assert!(!handles && e.kind() == ErrorKind::NoHandle),
        },
        _ => {
            let err = Process::spawn(&mut Command::new("/nonexistent/prochandle-attack"))
                .expect_err("spawn of a missing program");
            assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
            // A descriptor that is no pidfd, handed over and refused:
            // refusing must still close it.
            let devnull: OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
            assert!(Process::from_handle(devnull).is_err());
        }
    }
}

/// Descriptors a child would inherit from us right now: those without
/// `FD_CLOEXEC` (the harness may pass some down).
fn inheritable_fds() -> Vec<i32> {
    fd_links("self")
        .into_iter()
        .map(|(fd, _)| fd)
        // SAFETY: F_GETFD on any number is harmless; -1 for closed ones.
        .filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } & libc::FD_CLOEXEC == 0)
        .collect()
}

/// Kills and reaps a probe child.
type Stopper = Box<dyn FnOnce()>;

#[test]
fn children_inherit_no_process_handles() {
    // Written before any thread of ours forks (ETXTBSY).
    let pause = tiny_pause_program();
    let handles = capabilities().handles();
    let stop = Arc::new(AtomicBool::new(false));
    let holders = start_holders(&stop);
    let inherited = inheritable_fds();
    let comm = {
        let name = pause.file_name().unwrap().to_string_lossy().into_owned();
        format!("{}\n", &name[..name.len().min(15)])
    };
    let mut seen = 0;
    for round in 0..20 {
        // Half through std, half through `Process::spawn`.
        let (pid, stop_it) = if round % 2 == 0 {
            spawn_with_std(&pause)
        } else {
            spawn_with_process(&pause)
        };
        wait_for_exec(pid, &comm);
        seen += check_no_handle_inherited(pid, &inherited);
        stop_it();
    }
    stop.store(true, Ordering::Relaxed);
    for h in holders {
        h.join().unwrap();
    }
    if pause.is_absolute() {
        let _ = std::fs::remove_file(&pause);
    }
    assert!(
        seen >= 20 * 3,
        "could not read the children's descriptor tables"
    );
    println!(
        "held {} handles in 4 threads; 20 children inherited none",
        if handles { 32 } else { 0 }
    );
}

/// Four threads holding eight `Process`es each (pidfds, where there are
/// any), using them until `stop`; returns once all hold theirs.
fn start_holders(stop: &Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<()>> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let holders: Vec<_> = (0..4)
        .map(|_| {
            let stop = stop.clone();
            let ready = ready_tx.clone();
            std::thread::spawn(move || {
                let held: Vec<Process> = (0..8)
                    .map(|_| Process::spawn(Command::new("sleep").arg("60")).unwrap())
                    .collect();
                for p in &held {
                    if let Some(fd) = p.handle() {
                        // SAFETY: F_GETFD on a descriptor we hold.
                        let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
                        assert!(flags & libc::FD_CLOEXEC != 0, "a pidfd without FD_CLOEXEC");
                    }
                }
                ready.send(()).unwrap();
                // Keep the handles busy while the main thread spawns.
                while !stop.load(Ordering::Relaxed) {
                    for p in &held {
                        let _ = p.with_handle(|fd| fd.as_raw_fd());
                        assert!(p.try_wait().unwrap().is_none());
                    }
                    std::thread::yield_now();
                }
                for p in &held {
                    p.kill().unwrap();
                    p.wait().unwrap();
                }
            })
        })
        .collect();
    for _ in 0..4 {
        ready_rx.recv().unwrap();
    }
    holders
}

fn spawn_with_std(pause: &Path) -> (u32, Stopper) {
    let mut c = Command::new(pause)
        .arg("60")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let pid = c.id();
    let stop: Stopper = Box::new(move || {
        c.kill().unwrap();
        c.wait().unwrap();
    });
    (pid, stop)
}

fn spawn_with_process(pause: &Path) -> (u32, Stopper) {
    let p = Process::spawn(Command::new(pause).arg("60").stdin(Stdio::null())).unwrap();
    let pid = p.pid();
    let stop: Stopper = Box::new(move || {
        p.kill().unwrap();
        p.wait().unwrap();
    });
    (pid, stop)
}

/// Waits until `pid` has exec'd (its name is `comm`): before that its
/// descriptor table is still our copy, close-on-exec descriptors included.
fn wait_for_exec(pid: u32, comm: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default() != comm {
        assert!(
            Instant::now() < deadline,
            "child never exec'd: {:?} want {comm:?}",
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Asserts that `pid` holds no pidfd and no descriptor beyond stdio and
/// the `inherited` ones; returns how many descriptors it has.
fn check_no_handle_inherited(pid: u32, inherited: &[i32]) -> usize {
    let fds = fd_links(&pid.to_string());
    for (fd, target) in &fds {
        assert!(
            !is_pidfd_link(target),
            "child inherited pidfd {fd} ({target})"
        );
        assert!(
            *fd <= 2 || inherited.contains(fd),
            "child inherited descriptor {fd} ({target})"
        );
    }
    fds.len()
}

#[test]
fn running_out_of_descriptors_is_a_clear_error() {
    const TEST: &str = "running_out_of_descriptors_is_a_clear_error";
    if scenario().is_some() {
        return out_of_descriptors();
    }
    run_scenario_child(TEST, "emfile", Duration::from_secs(60));
}

fn is_out_of_fds(err: &prochandle::Error) -> bool {
    err.raw_os_error() == Some(libc::EMFILE) && err.to_string().contains("file descriptors")
}

fn out_of_descriptors() {
    let handles = capabilities().handles();
    let mut target = Command::new("sleep").arg("60").spawn().unwrap();
    let me = Process::current().unwrap();
    let held = Process::spawn(Command::new("sleep").arg("60")).unwrap();

    fails_clearly_without_descriptors(target.id(), &me, &held);
    let mut kids = our_children();
    kids.sort();
    let mut want = vec![target.id(), held.pid()];
    want.sort();
    assert_eq!(kids, want, "spawn left a child behind");
    // Usable again.
    let p = Process::open(target.id()).expect("open after descriptors came back");
    assert_eq!(p.has_handle(), handles);
    p.kill().unwrap();
    let state = p.wait().unwrap();
    assert_eq!(state.signal(), Some(prochandle::Signal::KILL));
    let _ = target.wait();
    held.kill().unwrap();
    held.wait().unwrap();
    let p = Process::spawn(&mut Command::new("true")).expect("spawn after");
    assert!(p.wait().unwrap().success());
    println!(
        "\nREPORT emfile=ok mode={}",
        if handles { "pidfd" } else { "guarded-pid" }
    );
}

/// With every descriptor used up: opening `target` or init and spawning
/// fail with EMFILE, said as such; `me` and `held` keep working or say
/// why not. The descriptors are free again on return.
fn fails_clearly_without_descriptors(target: u32, me: &Process, held: &Process) {
    let filler = use_up_descriptors(256);
    for pid in [target, 1] {
        let err = Process::open(pid).expect_err("open with no descriptor left");
        assert!(
            is_out_of_fds(&err),
            "unclear error from open: {err} ({err:?})"
        );
    }
    // std's spawn needs no descriptor with inherited stdio, so the child
    // starts; then the handle cannot be had, and it must be killed and
    // reaped, not left behind.
    let err = Process::spawn(Command::new("sleep").arg("60")).expect_err("spawn");
    assert!(
        err.raw_os_error() == Some(libc::EMFILE),
        "unclear error from spawn: {err} ({err:?})"
    );
    // What we already hold keeps working, or says why it cannot; it never
    // takes the missing descriptor for a missing process.
    assert!(me.try_wait().unwrap().is_none());
    for result in [held.signal(Signal::CONT), held.try_wait().map(|_| ())] {
        match result {
            Ok(()) => {}
            Err(e) => assert!(is_out_of_fds(&e), "unclear error: {e} ({e:?})"),
        }
    }
    assert!(
        held.try_wait().map_or(true, |s| s.is_none()),
        "took EMFILE for an exit"
    );
    drop(filler);
}

/// Lowers this process's descriptor limit to `limit` and opens descriptors
/// until none is left; they are free again when the result is dropped.
fn use_up_descriptors(limit: libc::rlim_t) -> Vec<OwnedFd> {
    let mut rlimit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit fill or read the struct we pass.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut rlimit), 0);
        rlimit.rlim_cur = limit;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &rlimit), 0);
    }
    let devnull = std::fs::File::open("/dev/null").unwrap();
    let mut filler: Vec<OwnedFd> = Vec::new();
    loop {
        match devnull.try_clone() {
            Ok(f) => filler.push(f.into()),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    // The original too, or closing it would free one.
    filler.push(devnull.into());
    filler
}
