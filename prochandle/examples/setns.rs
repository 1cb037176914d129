//! Runs a command inside a child's UTS and network namespaces, joined
//! through the child's pidfd with one `setns(2)` call (Linux 5.8).
//!
//! The child gets new UTS and network namespaces (`unshare`), names its
//! host `inside-child`, and sleeps. We then spawn `hostname` and `ip link`
//! joined to it. Needs root (creating and joining namespaces takes
//! `CAP_SYS_ADMIN`); says so and exits when not root.
//!
//! ```text
//! sudo cargo run -p prochandle --example setns
//! ```

#[cfg(target_os = "linux")]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    use std::process::Command;
    use std::time::Duration;

    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        println!("this example needs root: joining namespaces requires CAP_SYS_ADMIN");
        return Ok(());
    }
    let target = prochandle::Process::spawn(Command::new("unshare").args([
        "--uts",
        "--net",
        "sh",
        "-c",
        "hostname inside-child && sleep 30",
    ]))?;
    // `unshare` execs the shell in the new namespaces; give it a moment to
    // set the name (a real program would signal readiness through a pipe).
    std::thread::sleep(Duration::from_millis(300));

    let joined = target.with_handle(|pidfd| {
        let raw = pidfd.as_raw_fd();
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "echo \"hostname: $(hostname)\"; ip -brief link 2>/dev/null || cat /proc/net/dev",
        ]);
        // SAFETY: setns is async-signal-safe; the closure allocates nothing.
        // The pidfd is inherited across fork (it is only close-on-exec).
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(raw, libc::CLONE_NEWUTS | libc::CLONE_NEWNET) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.status()
    });
    match joined {
        Ok(Ok(status)) => println!("command in the child's namespaces: {status}"),
        Ok(Err(e)) => println!("could not join: {e}"),
        Err(e) => println!("no pidfd here ({e})"),
    }
    println!(
        "own hostname:   {}",
        String::from_utf8_lossy(&Command::new("hostname").output()?.stdout).trim()
    );
    target.kill()?;
    target.wait()?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("setns through a pidfd is Linux-only");
}
