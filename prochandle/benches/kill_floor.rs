//! `Scope::kill` until the scope is empty, against the floor: a cgroup
//! made by hand, one write of `1` to its `cgroup.kill`, then waiting for
//! `populated 0` in its `cgroup.events` (`poll` for `POLLPRI`, re-read on
//! each wake-up).
//!
//! Both sides kill the same tree (a shell and N - 1 sleeping leaves, one in
//! ten in a session of its own) at N = 10, 100 and 1,000, in alternating
//! pairs (which side goes first alternates too), so that whatever the
//! machine does meanwhile falls on both. Each row prints the median and
//! the quartiles of each side and the ratio of the medians, with the
//! quartiles of the per-pair ratios as its spread. Target: at most 1.2x.
//!
//! Only the time from the kill until the kernel reports the cgroup
//! unpopulated is measured; growing the tree, reaping it and removing the
//! cgroup are not. This bench process is the child subreaper, so every
//! orphan is reaped here.
//!
//! Linux, as root, cgroup v2 with `cgroup.kill` (5.14+):
//! `cargo bench -p prochandle --bench kill_floor`; `-- --pairs K` sets the
//! pairs per row (default 41, 41, 15). A few minutes.

#![allow(missing_docs)]

#[cfg(target_os = "linux")]
mod linux {
    use std::fs::File;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileExt;
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::time::{Duration, Instant};

    use prochandle::{MechanismKind, ScopeOptions};
    use prochandle_test_support::TreeMark;

    /// The tree's shell script: `n - 1` sleeping leaves, one in ten in a
    /// session of its own, then wait.
    fn script(n: usize) -> String {
        format!(
            "i=1; while [ $i -lt {n} ]; do \
               if [ $((i % 10)) -eq 0 ]; then setsid sleep 1000 & else sleep 1000 & fi; \
               i=$((i+1)); done; wait"
        )
    }

    /// Waits until all `n` are alive, then 12 ms more: the kernel sends at
    /// most one `cgroup.events` notification per 10 ms per cgroup, and
    /// the tree's first process made one when it joined; a kill within
    /// 10 ms of it has its "populated 0" held back until then, on both
    /// sides alike (the floor, which waits for the notification alone,
    /// most). This bench measures the kill, not that delay.
    fn until_grown(mark: &TreeMark, n: usize) {
        while mark.live().len() < n {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(12));
    }

    /// Reaps every child of this process (blocking), orphans included.
    fn reap_all() {
        // SAFETY: waitpid with a null status pointer; this bench owns every
        // child of its process.
        while unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) } > 0 {}
    }

    /// One `Scope::kill` of a tree of `n`.
    fn scope_kill(n: usize) -> Duration {
        let scope = ScopeOptions::new()
            .mechanism(MechanismKind::Cgroup)
            .create()
            .expect("a cgroup scope with cgroup.kill");
        let mark = TreeMark::new();
        let mut shell = Command::new("sh");
        shell.args(["-c", &script(n)]);
        mark.apply(&mut shell);
        scope.spawn(&mut shell).expect("spawn the tree").release();
        until_grown(&mark, n);
        let start = Instant::now();
        scope.kill().expect("kill");
        let elapsed = start.elapsed();
        reap_all();
        elapsed
    }

    /// A cgroup made by hand next to the scopes' (a child of ours).
    struct HandMade {
        dir: PathBuf,
    }

    impl HandMade {
        fn new(serial: usize) -> HandMade {
            let own = std::fs::read_to_string("/proc/self/cgroup").expect("/proc/self/cgroup");
            let path = own
                .lines()
                .find_map(|l| l.strip_prefix("0::"))
                .expect("a cgroup v2 line");
            let dir = mount_point()
                .join(path.trim_start_matches('/'))
                .join(format!("kill-floor-{}-{serial}", std::process::id()));
            std::fs::create_dir(&dir).expect("mkdir the hand-made cgroup");
            HandMade { dir }
        }
    }

    impl Drop for HandMade {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }

    /// Where cgroup2 is mounted (`/sys/fs/cgroup`, or `.../unified` on a
    /// hybrid system).
    fn mount_point() -> PathBuf {
        let info = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
        info.lines()
            .find_map(|l| {
                let (left, right) = l.split_once(" - ")?;
                right
                    .starts_with("cgroup2 ")
                    .then(|| PathBuf::from(left.split(' ').nth(4).unwrap_or("")))
            })
            .expect("a cgroup2 mount")
    }

    fn populated(events: &File) -> bool {
        let mut buf = [0u8; 256];
        let n = events.read_at(&mut buf, 0).expect("read cgroup.events");
        String::from_utf8_lossy(&buf[..n])
            .lines()
            .any(|l| l.trim() == "populated 1")
    }

    /// One raw kill of a tree of `n` in a hand-made cgroup: the shell moves
    /// itself in (`echo 0 > cgroup.procs`) before it starts the leaves.
    fn raw_kill(n: usize, serial: usize) -> Duration {
        let cgroup = HandMade::new(serial);
        let procs = cgroup.dir.join("cgroup.procs");
        let mark = TreeMark::new();
        let mut shell = Command::new("sh");
        shell.args(["-c", "echo 0 > \"$1\" && exec sh -c \"$2\"", "sh"]);
        shell.arg(&procs).arg(script(n));
        mark.apply(&mut shell);
        let child = shell.spawn().expect("spawn the tree");
        drop(child);
        until_grown(&mark, n);
        let mut kill = open(&cgroup.dir, "cgroup.kill", true);
        let events = open(&cgroup.dir, "cgroup.events", false);
        let start = Instant::now();
        kill.write_all(b"1").expect("write cgroup.kill");
        while populated(&events) {
            let mut fd = libc::pollfd {
                fd: events.as_raw_fd(),
                events: libc::POLLPRI,
                revents: 0,
            };
            // SAFETY: one valid pollfd, no timeout.
            unsafe { libc::poll(&mut fd, 1, -1) };
        }
        let elapsed = start.elapsed();
        reap_all();
        elapsed
    }

    fn open(dir: &Path, name: &str, write: bool) -> File {
        std::fs::OpenOptions::new()
            .read(!write)
            .write(write)
            .open(dir.join(name))
            .unwrap_or_else(|e| panic!("open {name}: {e}"))
    }

    fn quartiles(mut v: Vec<f64>) -> [f64; 3] {
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        [at(0.25), at(0.5), at(0.75)]
    }

    pub fn run(pairs: Option<usize>) {
        // SAFETY: prctl with an option and an integer; this bench owns its
        // process.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) };
        if ScopeOptions::new()
            .mechanism(MechanismKind::Cgroup)
            .create()
            .is_err()
        {
            println!("no cgroup with cgroup.kill here (root, cgroup v2, 5.14+): not measured");
            return;
        }
        println!("Scope::kill until empty against cgroup.kill + populated 0 (ms; q1 median q3)");
        println!(
            "{:>5} {:>5}  {:>20}  {:>20}  {:>8}  {:>20}",
            "N", "pairs", "Scope::kill", "raw floor", "ratio", "per-pair ratio"
        );
        let mut serial = 0;
        for (n, default_pairs) in [(10, 41), (100, 41), (1000, 15)] {
            let k = pairs.unwrap_or(default_pairs);
            let (mut ours, mut floor, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            for i in 0..k {
                serial += 1;
                let (o, f) = if i % 2 == 0 {
                    let o = scope_kill(n);
                    (o, raw_kill(n, serial))
                } else {
                    let f = raw_kill(n, serial);
                    (scope_kill(n), f)
                };
                let (o, f) = (o.as_secs_f64() * 1e3, f.as_secs_f64() * 1e3);
                ours.push(o);
                floor.push(f);
                ratios.push(o / f);
            }
            let [o1, o, o3] = quartiles(ours);
            let [f1, f, f3] = quartiles(floor);
            let [r1, r, r3] = quartiles(ratios);
            println!(
                "{n:>5} {k:>5}  {o1:>6.2} {o:>6.2} {o3:>6.2}  {f1:>6.2} {f:>6.2} {f3:>6.2}  \
                 {:>7.2}x  {r1:>6.2} {r:>6.2} {r3:>6.2}",
                o / f
            );
        }
        println!("target: at most 1.2x at every N");
    }
}

#[cfg(target_os = "linux")]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pairs = args
        .iter()
        .position(|a| a == "--pairs")
        .and_then(|i| args.get(i + 1)?.parse().ok());
    linux::run(pairs);
}

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("this benchmark measures Linux cgroups");
}
