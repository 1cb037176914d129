//! The costs the core issue sets targets for, each beside its peer:
//!
//! - `with_handle` against reading the raw fd straight out of an `OwnedFd`
//!   (target: within 1 ns);
//! - spawn + wait of `/bin/true` through `Process` against
//!   `std::process::Command` (target: at most 1.03x).
//!
//! Handle access runs under criterion. Spawning is dominated by
//! `fork`/`exec` and swings with whatever else the machine does, so the two
//! spawn paths run in alternating pairs and are compared by median.
//!
//! `cargo bench -p prochandle --bench handle`

#![allow(missing_docs)] // criterion's macros generate undocumented items

#[cfg(unix)]
mod unix {
    use std::hint::black_box;
    use std::os::fd::{AsFd, AsRawFd, OwnedFd};
    use std::process::Command;
    use std::time::{Duration, Instant};

    use criterion::{criterion_group, Criterion};
    use prochandle::Process;

    fn handle_access(c: &mut Criterion) {
        let process = Process::current().expect("current process");
        let mut group = c.benchmark_group("handle access");
        if process.has_handle() {
            group.bench_function("Process::with_handle", |b| {
                b.iter(|| {
                    black_box(&process)
                        .with_handle(|fd| fd.as_raw_fd())
                        .unwrap()
                })
            });
            group.bench_function("Process::handle", |b| {
                b.iter(|| black_box(&process).handle().unwrap().as_raw_fd())
            });
        }
        let raw: OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
        group.bench_function("OwnedFd::as_fd (peer)", |b| {
            b.iter(|| black_box(&raw).as_fd().as_raw_fd())
        });
        group.finish();
    }

    fn std_spawn_wait() {
        let status = Command::new("/bin/true").spawn().unwrap().wait().unwrap();
        assert!(status.success());
    }

    fn prochandle_spawn_wait() {
        let p = Process::spawn(&mut Command::new("/bin/true")).unwrap();
        assert!(p.wait().unwrap().success());
    }

    /// Spawn+wait of `/bin/true` both ways, alternating which goes first,
    /// one pair at a time, and compared by median: fork and exec swing with
    /// whatever else the machine does, and a mean over separate runs (what
    /// criterion reports) mostly measures those swings.
    pub fn spawn_and_wait_paired() {
        let pairs: usize = std::env::var("PROCHANDLE_BENCH_PAIRS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000);
        let time = |f: fn()| {
            let start = Instant::now();
            f();
            start.elapsed()
        };
        let (mut peer, mut ours) = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
        for i in 0..pairs {
            if i % 2 == 0 {
                peer.push(time(std_spawn_wait));
                ours.push(time(prochandle_spawn_wait));
            } else {
                ours.push(time(prochandle_spawn_wait));
                peer.push(time(std_spawn_wait));
            }
        }
        peer.sort();
        ours.sort();
        let at = |v: &[Duration], q: f64| v[((v.len() - 1) as f64 * q) as usize];
        println!("spawn+wait /bin/true, {pairs} alternating pairs");
        for (name, v) in [
            ("std::process::Command (peer)", &peer),
            ("prochandle::Process", &ours),
        ] {
            println!(
                "  {name:<30} median {:>10.3?}  p90 {:>10.3?}",
                at(v, 0.5),
                at(v, 0.9)
            );
        }
        println!(
            "  ratio prochandle / std, median: {:.3} (target: at most 1.03)",
            at(&ours, 0.5).as_secs_f64() / at(&peer, 0.5).as_secs_f64()
        );
    }

    criterion_group!(benches, handle_access);
}

#[cfg(unix)]
fn main() {
    unix::benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    unix::spawn_and_wait_paired();
}

#[cfg(not(unix))]
fn main() {
    println!("these benchmarks measure Unix process handles");
}
