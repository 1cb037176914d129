//! Duplicates a descriptor out of a child with `pidfd_getfd(2)` through the
//! lent handle, and reads from it.
//!
//! The child is a shell whose fd 7 is a pipe it never reads; we take a copy
//! of that descriptor, write into the pipe through it, and read the data
//! back out of the pipe's other end, which we kept. Needs Linux 5.6 and
//! ptrace rights over the child (our own child, same user: granted).
//!
//! ```text
//! cargo run -p prochandle --example getfd
//! ```

#[cfg(target_os = "linux")]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    use std::io::{Read, Write};
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    use rustix::process::{pidfd_getfd, PidfdGetfdFlags};

    // A pipe: the child gets the write end as its fd 7.
    let (mut reader, writer) = std::io::pipe()?;
    let writer_fd: OwnedFd = writer.into();
    let raw = writer_fd.as_raw_fd();
    let mut cmd = Command::new("sleep");
    cmd.arg("30");
    // SAFETY: dup2 is async-signal-safe and the closure allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(raw, 7) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = prochandle::Process::spawn(&mut cmd)?;
    drop(writer_fd);

    let stolen = child.with_handle(|pidfd| pidfd_getfd(pidfd, 7, PidfdGetfdFlags::empty()));
    let stolen: OwnedFd = match stolen {
        Ok(Ok(fd)) => fd,
        Ok(Err(errno)) => {
            eprintln!("pidfd_getfd failed: {errno} (needs Linux 5.6 and ptrace rights)");
            child.kill()?;
            child.wait()?;
            return Ok(());
        }
        Err(err) => {
            eprintln!("no pidfd here: {err}");
            child.kill()?;
            child.wait()?;
            return Ok(());
        }
    };
    let mut stolen = std::fs::File::from(stolen);
    stolen.write_all(b"written through the child's own descriptor\n")?;
    drop(stolen);
    child.kill()?;
    child.wait()?;

    let mut text = String::new();
    reader.read_to_string(&mut text)?;
    print!("read back: {text}");
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("pidfd_getfd is Linux-only");
}
