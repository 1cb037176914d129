//! The methods measured, each behind the `Method` trait.

use std::collections::{HashMap, VecDeque};
use std::os::fd::OwnedFd;
use std::process::Command;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use prochandle::{asyncio, Process, Watcher};
use rustix::event::{epoll, poll, PollFd, PollFlags};
use rustix::process::{pidfd_open, Pid, PidfdFlags};

type Events = (Sender<(u32, Instant)>, Receiver<(u32, Instant)>);

pub(super) trait Method {
    /// Starts watching one more process; returns its PID.
    fn add_one(&mut self) -> u32;
    /// The next exit seen, and when.
    fn recv(&self) -> (u32, Instant);
    /// The caller has seen the exit of `pid`: release what it held.
    fn done(&mut self, _pid: u32) {}
}

pub(super) fn pid(raw: u32) -> Pid {
    Pid::from_raw(raw as i32).expect("a PID")
}

pub(super) fn recv(rx: &Receiver<(u32, Instant)>) -> (u32, Instant) {
    rx.recv_timeout(Duration::from_secs(60))
        .expect("an exit within a minute")
}

/// `prochandle::Watcher`, one thread in `next`.
pub(super) struct WatcherMethod {
    pub(super) watcher: Arc<Watcher>,
    pub(super) pool: VecDeque<u32>,
    pub(super) rx: Receiver<(u32, Instant)>,
}

impl WatcherMethod {
    pub(super) fn new(pool: VecDeque<u32>) -> Self {
        let watcher = Arc::new(Watcher::new().expect("Watcher::new"));
        let (tx, rx): Events = channel();
        let w = Arc::clone(&watcher);
        thread::spawn(move || loop {
            match w.next(None) {
                Ok(Some(event)) => {
                    let seen = Instant::now();
                    let _ = tx.send((event.process.pid(), seen));
                }
                Ok(None) => thread::sleep(Duration::from_millis(1)),
                Err(e) => panic!("watcher: {e}"),
            }
        });
        WatcherMethod { watcher, pool, rx }
    }
}

impl Method for WatcherMethod {
    fn add_one(&mut self) -> u32 {
        let pid = match self.pool.pop_front() {
            Some(pid) => {
                let p = Process::open(pid).expect("Process::open");
                self.watcher.add(p).expect("Watcher::add");
                pid
            }
            None => {
                let p = Process::spawn(Command::new("sleep").arg("100000")).expect("spawn");
                let pid = p.pid();
                self.watcher.add(p).expect("Watcher::add");
                pid
            }
        };
        pid
    }
    fn recv(&self) -> (u32, Instant) {
        recv(&self.rx)
    }
}

/// The floor: epoll over pidfds, one-shot, nothing else.
pub(super) struct RawEpoll {
    pub(super) epoll: Arc<OwnedFd>,
    pub(super) fds: HashMap<u32, OwnedFd>,
    pub(super) pool: VecDeque<u32>,
    pub(super) rx: Receiver<(u32, Instant)>,
}

impl RawEpoll {
    pub(super) fn new(pool: VecDeque<u32>) -> Self {
        let epoll = Arc::new(epoll::create(epoll::CreateFlags::CLOEXEC).expect("epoll_create1"));
        let (tx, rx): Events = channel();
        let ep = Arc::clone(&epoll);
        thread::spawn(move || {
            let mut events = Vec::with_capacity(256);
            loop {
                events.clear();
                if epoll::wait(&*ep, rustix::buffer::spare_capacity(&mut events), None).is_err() {
                    continue;
                }
                let seen = Instant::now();
                for e in &events {
                    let _ = tx.send((e.data.u64() as u32, seen));
                }
            }
        });
        RawEpoll {
            epoll,
            fds: HashMap::new(),
            pool,
            rx,
        }
    }
}

impl Method for RawEpoll {
    fn add_one(&mut self) -> u32 {
        let raw = self.pool.pop_front().expect("a spare sleeper");
        let fd = pidfd_open(pid(raw), PidfdFlags::empty()).expect("pidfd_open");
        epoll::add(
            &*self.epoll,
            &fd,
            epoll::EventData::new_u64(raw.into()),
            epoll::EventFlags::IN | epoll::EventFlags::ONESHOT,
        )
        .expect("epoll_ctl");
        self.fds.insert(raw, fd);
        raw
    }
    fn recv(&self) -> (u32, Instant) {
        recv(&self.rx)
    }
    fn done(&mut self, pid: u32) {
        self.fds.remove(&pid);
    }
}

/// sysinfo's way: `kill(pid, 0)` on every PID every 10 ms.
pub(super) struct KillPoll {
    pub(super) pids: Arc<Mutex<Vec<u32>>>,
    pub(super) pool: VecDeque<u32>,
    pub(super) rx: Receiver<(u32, Instant)>,
}

impl KillPoll {
    pub(super) fn new(pool: VecDeque<u32>) -> Self {
        let pids = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx): Events = channel();
        let list = Arc::clone(&pids);
        thread::spawn(move || loop {
            thread::sleep(Duration::from_millis(10));
            let mut list = list.lock().unwrap();
            list.retain(|&raw| match rustix::process::test_kill_process(pid(raw)) {
                Err(rustix::io::Errno::SRCH) => {
                    let _ = tx.send((raw, Instant::now()));
                    false
                }
                _ => true,
            });
        });
        KillPoll { pids, pool, rx }
    }
}

impl Method for KillPoll {
    fn add_one(&mut self) -> u32 {
        let raw = self.pool.pop_front().expect("a spare sleeper");
        self.pids.lock().unwrap().push(raw);
        raw
    }
    fn recv(&self) -> (u32, Instant) {
        recv(&self.rx)
    }
}

/// One thread per process, each blocking in `poll` on its pidfd.
pub(super) struct ThreadPer {
    pub(super) pool: VecDeque<u32>,
    pub(super) tx: Sender<(u32, Instant)>,
    pub(super) rx: Receiver<(u32, Instant)>,
}

impl Method for ThreadPer {
    fn add_one(&mut self) -> u32 {
        let raw = self.pool.pop_front().expect("a spare sleeper");
        let fd = pidfd_open(pid(raw), PidfdFlags::empty()).expect("pidfd_open");
        let tx = self.tx.clone();
        thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                let mut fds = [PollFd::new(&fd, PollFlags::IN)];
                while poll(&mut fds, None).is_err() {}
                let _ = tx.send((raw, Instant::now()));
            })
            .expect("spawn a thread");
        raw
    }
    fn recv(&self) -> (u32, Instant) {
        recv(&self.rx)
    }
}

/// Our children on a tokio runtime: the exit future, or tokio's own
/// `Child::wait`.
pub(super) struct TokioChildren {
    pub(super) runtime: tokio::runtime::Handle,
    pub(super) ours: bool,
    pub(super) tx: Sender<(u32, Instant)>,
    pub(super) rx: Receiver<(u32, Instant)>,
}

impl TokioChildren {
    pub(super) fn new(ours: bool) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let runtime = rt.handle().clone();
        thread::spawn(move || rt.block_on(std::future::pending::<()>()));
        let (tx, rx) = channel();
        TokioChildren {
            runtime,
            ours,
            tx,
            rx,
        }
    }
}

impl Method for TokioChildren {
    fn add_one(&mut self) -> u32 {
        let tx = self.tx.clone();
        if self.ours {
            let p = Process::spawn(Command::new("sleep").arg("100000")).expect("spawn");
            let pid = p.pid();
            self.runtime.spawn(async move {
                asyncio::tokio::wait(&p).await.expect("exit future");
                let _ = tx.send((pid, Instant::now()));
            });
            pid
        } else {
            let _guard = self.runtime.enter();
            let mut child = tokio::process::Command::new("sleep")
                .arg("100000")
                .spawn()
                .expect("spawn");
            let pid = child.id().expect("a PID");
            self.runtime.spawn(async move {
                child.wait().await.expect("Child::wait");
                let _ = tx.send((pid, Instant::now()));
            });
            pid
        }
    }
    fn recv(&self) -> (u32, Instant) {
        recv(&self.rx)
    }
}
