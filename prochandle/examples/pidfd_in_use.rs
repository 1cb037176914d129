//! The first question of Go's WithHandle proposal (golang/go#70352): is a
//! pidfd (or HANDLE) in use for this process? Answered the Go way, through
//! `with_handle`, and directly.
//!
//! ```text
//! cargo run -p prochandle --example pidfd_in_use
//! PROCHANDLE_FORCE_PID=1 cargo run -p prochandle --example pidfd_in_use
//! ```

fn main() -> prochandle::Result<()> {
    let me = prochandle::Process::current()?;
    // Go: p.WithHandle(func(uintptr) { pidfdUsed = true })
    let mut in_use = false;
    let _ = me.with_handle(|_| in_use = true);
    println!("handle in use (with_handle): {in_use}");
    println!("handle in use (has_handle):  {}", me.has_handle());
    println!(
        "handles on this system:      {}",
        prochandle::handles_available()
    );
    Ok(())
}
