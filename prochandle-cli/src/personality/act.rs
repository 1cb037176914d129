//! What pgrep prints, pkill sends and pidwait waits for, once the
//! matches are pinned.

use prochandle::linux::ProcessExt;
use prochandle::ErrorKind;

use super::kill::errno_text;
use super::pgrep::{Mode, Request};
use super::tasks::Found;
use crate::output;
use crate::target::Target;

/// Acts on the matches; the exit status (0 if something matched and, for
/// pkill, was signalled).
pub fn act(request: &Request, found: Vec<Found>) -> u8 {
    if found.is_empty() {
        warn_long_name(request);
    }
    let done = match request.mode {
        Mode::Pgrep => print(request, &found),
        Mode::Pkill => signal(request, &found),
        Mode::Pidwait => wait(request, &found),
    };
    u8::from(done == 0)
}

/// A name longer than the kernel keeps (15 bytes) matches nothing
/// without `-f`: say so, as procps does.
fn warn_long_name(request: &Request) {
    let long = request.pattern_text.as_ref().is_some_and(|p| p.len() > 15);
    if long && !request.criteria.full {
        output::error(
            "pattern that searches for process name longer than 15 characters will result in zero matches",
        );
        eprintln!(
            "Try `{} -f' option to match against the complete command line.",
            output::program()
        );
    }
}

/// The ID pgrep prints: the PID (with `-w` the thread's ID), or with
/// `--identity` the process's identity.
fn id_of(request: &Request, found: &Found) -> String {
    if request.identity && !request.lightweight {
        Target::of_process(&found.process).to_string()
    } else {
        found.proc.pid.to_string()
    }
}

fn print(request: &Request, found: &[Found]) -> usize {
    if request.count {
        output::line(found.len());
        return found.len();
    }
    if request.quiet || found.is_empty() {
        return found.len();
    }
    let entries: Vec<String> = found
        .iter()
        .map(|m| {
            let id = id_of(request, m);
            if request.list_full {
                format!("{id} {}", m.proc.command_line())
            } else if request.list_name {
                format!("{id} {}", m.proc.comm)
            } else {
                id
            }
        })
        .collect();
    output::line(entries.join(&request.delimiter));
    found.len()
}

/// The name pkill and pidwait echo: the command line with `-a` (procps
/// takes `--list-full` in all three), else the process name.
fn echoed(request: &Request, found: &Found) -> String {
    if request.list_full {
        found.proc.command_line().to_owned()
    } else {
        found.proc.comm.clone()
    }
}

/// Signals each match through its pin; the number signalled. One that
/// has exited takes the signal, as kill(2) lets a zombie take it.
/// `-c` prints how many matched, signalled or not, as procps. With `-w`
/// each matching thread sends the signal to its whole process, as
/// procps' `kill(TID)` does; a thread that has exited since it matched
/// is passed over in silence (procps' `ESRCH`).
fn signal(request: &Request, found: &[Found]) -> usize {
    let mut sent = 0;
    for m in found {
        if m.thread_gone() {
            continue;
        }
        let result = match request.value {
            Some(value) => m.process.signal_with_value(request.signal, value),
            None => m.process.signal(request.signal),
        };
        match result {
            Ok(()) => sent += 1,
            Err(err) if err.kind() == ErrorKind::Done => sent += 1,
            Err(err) => {
                output::error(format!(
                    "killing pid {} failed: {}",
                    m.proc.pid,
                    errno_text(&err)
                ));
                continue;
            }
        }
        if request.echo {
            output::line(format_args!(
                "{} killed (pid {})",
                echoed(request, m),
                m.proc.pid
            ));
        }
    }
    if request.count {
        output::line(found.len());
    }
    sent
}

/// Waits for every match to exit, each through its pin; the number
/// matched.
fn wait(request: &Request, found: &[Found]) -> usize {
    if request.echo {
        for m in found {
            output::line(format_args!(
                "waiting for {} (pid {})",
                echoed(request, m),
                m.proc.pid
            ));
        }
    }
    if request.count {
        output::line(found.len());
    }
    for m in found {
        if !m.is_process() {
            m.wait_thread();
        } else if let Err(err) = m.process.wait() {
            if err.kind() != ErrorKind::Done {
                output::error(format!("waiting for pid {} failed: {err}", m.proc.pid));
            }
        }
    }
    found.len()
}
