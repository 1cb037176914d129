//! Exit notification at scale: the `Watcher` against the alternatives.
//!
//! ```text
//! cargo bench -p prochandle --features tokio --bench exit_latency
//! ```
//!
//! For each N it starts N sleeping processes from a helper (so they are not
//! children of the measuring process), watches them with one method, and
//! kills them one at a time, measuring the time from just before `kill` to
//! the moment the method's thread sees the exit. Each (method, N) runs in a
//! fresh process of this binary, so that memory and CPU figures are its
//! own. N is held constant: before each kill a spare sleeper is registered.
//!
//! Methods over non-children:
//! - `watcher`: `prochandle::Watcher` (epoll over pidfds), one thread;
//! - `raw-epoll`: a hand-written epoll loop over pidfds, one-shot, no
//!   re-check: the floor;
//! - `kill-poll`: `kill(pid, 0)` on every PID every 10 ms (sysinfo's way);
//! - `thread-per`: one thread per process blocking in `poll` on its pidfd.
//!
//! Methods over our own children: `watcher`, `async` (the tokio exit
//! future, one task per child) and `tokio-child` (`tokio::process::Child::wait`).
//!
//! Environment: `PROCHANDLE_BENCH_NS` (default `1,100,1000,10000`),
//! `PROCHANDLE_BENCH_SAMPLES` (kills per run, default 100),
//! `PROCHANDLE_BENCH_IDLE_SECS` (idle window, default 10),
//! `PROCHANDLE_BENCH_ROUNDS` (rounds per N below 10,000, default 4; the
//! samples are pooled).

#[cfg(target_os = "linux")]
#[path = "exit_latency/mod.rs"]
mod linux;

#[cfg(target_os = "linux")]
fn main() {
    linux::main();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("exit_latency: this benchmark needs Linux (pidfds and epoll)");
}
