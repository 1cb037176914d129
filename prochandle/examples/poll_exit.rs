//! Polls the lent handle for termination: a pidfd becomes readable when
//! its process exits, so it can sit in any `poll`/`epoll` loop beside
//! sockets and timers.
//!
//! ```text
//! cargo run -p prochandle --example poll_exit
//! ```

#[cfg(target_os = "linux")]
fn main() -> prochandle::Result<()> {
    use std::process::Command;
    use std::time::Instant;

    use rustix::event::{poll, PollFd, PollFlags, Timespec};

    let child = prochandle::Process::spawn(Command::new("sleep").arg("0.3"))?;
    let start = Instant::now();
    let outcome = child.with_handle(|pidfd| {
        let mut ticks = 0;
        loop {
            let mut fds = [PollFd::new(&pidfd, PollFlags::IN)];
            let timeout = Timespec {
                tv_sec: 0,
                tv_nsec: 100_000_000,
            };
            match poll(&mut fds, Some(&timeout)) {
                Ok(0) => ticks += 1, // a real loop would serve other fds here
                Ok(_) => return Ok(ticks),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e),
            }
        }
    });
    match outcome {
        Ok(Ok(ticks)) => println!(
            "pidfd readable after {:?} ({ticks} idle timeouts)",
            start.elapsed()
        ),
        Ok(Err(errno)) => println!("poll failed: {errno}"),
        Err(err) => println!("no handle ({err}); waiting the portable way"),
    }
    println!("{}", child.wait()?);
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("this example polls a Linux pidfd");
}
