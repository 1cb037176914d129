//! Tells whether this system gives process handles, then demonstrates one:
//! starts a child, signals it through the handle and reports its end.
//!
//! ```text
//! cargo run -p prochandle --example check
//! ```

use std::process::{Command, ExitCode};

use prochandle::{capabilities, Availability, Process, Signal};

fn main() -> ExitCode {
    let caps = capabilities();
    println!("platform: {}", caps.platform());
    for (feature, availability) in caps.iter() {
        match availability {
            Availability::Available => println!("  {feature:<18} yes"),
            Availability::Unavailable { reason, .. } => println!("  {feature:<18} no ({reason})"),
        }
    }
    match demonstrate() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn demonstrate() -> prochandle::Result<()> {
    let child = Process::spawn(Command::new("sleep").arg("30"))?;
    match child.with_handle(|handle| format!("{handle:?}")) {
        Ok(handle) => println!("child {} held by a handle: {handle}", child.pid()),
        Err(err) => println!("child {} held by a guarded PID ({err})", child.pid()),
    }
    child.signal(Signal::TERM)?;
    let state = child.wait()?;
    println!("child {}: {state}", state.pid());
    match child.signal(Signal::TERM) {
        Err(err) if err.is_done() => println!("signal after wait: {err} (nothing sent)"),
        other => println!("signal after wait: unexpected {other:?}"),
    }
    Ok(())
}
