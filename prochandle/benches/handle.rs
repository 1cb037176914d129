//! The costs the core issue sets targets for, each beside its peer:
//!
//! - `with_handle` against reading the raw fd straight out of an `OwnedFd`
//!   (target: within 1 ns);
//! - spawn + wait of `/bin/true` through `Process` against
//!   `std::process::Command` (target: at most 1.03x).
//!
//! Spawning is dominated by `fork`/`exec` and sensitive to whatever else
//! the machine does, so the two spawn benchmarks interleave: each timed
//! iteration of one is paired with an untimed iteration of the other, so
//! both see the same conditions and their ratio is fair.
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

    /// Times `timed`, running `paired` untimed before each iteration.
    fn interleaved(iters: u64, timed: fn(), paired: fn()) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            paired();
            let start = Instant::now();
            timed();
            total += start.elapsed();
        }
        total
    }

    fn spawn_and_wait(c: &mut Criterion) {
        let mut group = c.benchmark_group("spawn+wait /bin/true");
        group.sample_size(100);
        group.bench_function("std::process::Command (peer)", |b| {
            b.iter_custom(|iters| interleaved(iters, std_spawn_wait, prochandle_spawn_wait))
        });
        group.bench_function("prochandle::Process", |b| {
            b.iter_custom(|iters| interleaved(iters, prochandle_spawn_wait, std_spawn_wait))
        });
        group.finish();
    }

    criterion_group!(benches, handle_access, spawn_and_wait);
}

#[cfg(unix)]
criterion::criterion_main!(unix::benches);

#[cfg(not(unix))]
fn main() {
    println!("these benchmarks measure Unix process handles");
}
