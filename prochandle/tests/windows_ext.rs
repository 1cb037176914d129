//! The Windows extension trait: priority classes, job objects (a kill-on-
//! close job takes a whole process tree down with it), creation time, and
//! what the image path, command line, parent and session say.
//! Runs under Wine in CI.
#![cfg(windows)]

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use prochandle::windows::{JobObject, PriorityClass, ProcessExt};
use prochandle::Process;
use prochandle_test_support::{sleeper, within, Reaped, PATIENCE};

#[test]
fn priority_class_round_trips_on_a_child() {
    let p = Reaped::spawn(sleeper(30));
    assert_eq!(p.priority_class().unwrap(), PriorityClass::Normal);
    for class in [
        PriorityClass::BelowNormal,
        PriorityClass::Idle,
        PriorityClass::AboveNormal,
    ] {
        p.set_priority_class(class).unwrap();
        assert_eq!(p.priority_class().unwrap(), class);
    }
}

#[test]
fn priority_class_can_be_set_through_a_process_opened_by_pid() {
    let p = Reaped::spawn(sleeper(30));
    // open() asks for fewer rights than SetPriorityClass needs: the trait
    // widens a duplicate of the same handle.
    let opened = Process::open(p.pid()).unwrap();
    opened
        .set_priority_class(PriorityClass::BelowNormal)
        .unwrap();
    assert_eq!(p.priority_class().unwrap(), PriorityClass::BelowNormal);
}

#[test]
fn a_process_assigned_to_a_job_is_in_it() {
    let p = Reaped::spawn(sleeper(30));
    let job = JobObject::new().unwrap();
    assert!(!p.is_in_job(&job).unwrap());
    p.assign_to_job(&job).unwrap();
    assert!(p.is_in_job(&job).unwrap());
    assert_eq!(job.process_ids().unwrap(), vec![p.pid()]);
}

#[test]
fn terminating_a_job_ends_its_processes_with_the_given_code() {
    let p = Reaped::spawn(sleeper(30));
    let job = JobObject::new().unwrap();
    p.assign_to_job(&job).unwrap();
    job.terminate(42).unwrap();
    let state = p.wait_timeout(PATIENCE).unwrap().expect("exit");
    assert_eq!(state.exit_code(), Some(42));
}

#[test]
fn dropping_a_kill_on_close_job_kills_the_whole_tree() {
    // cmd sleeps a second, then starts a long ping: the ping is cmd's
    // child and is started after cmd joined the job, so it is in it too.
    let mut cmd = Command::new("cmd");
    cmd.args(["/c", "ping -n 2 127.0.0.1 >NUL & ping -n 60 127.0.0.1 >NUL"])
        .stdin(Stdio::null());
    let root = Reaped::new(Process::spawn(&mut cmd).unwrap());
    let job = JobObject::kill_on_close().unwrap();
    root.assign_to_job(&job).unwrap();

    let pids = within(PATIENCE, || {
        let pids = job.process_ids().unwrap();
        (pids.len() >= 2).then_some(pids)
    })
    .unwrap_or_else(|| panic!("the grandchild never started: {:?}", job.process_ids()));
    assert!(pids.contains(&root.pid()), "{pids:?}");
    let members: Vec<Reaped<Process>> = pids
        .iter()
        .map(|&pid| Reaped::new(Process::open(pid).expect("open a job member")))
        .collect();
    for m in &members {
        assert!(m.try_wait().unwrap().is_none(), "{} still runs", m.pid());
    }

    drop(job);
    for m in &members {
        assert!(
            m.wait_timeout(PATIENCE).unwrap().is_some(),
            "PID {} survived its kill-on-close job",
            m.pid()
        );
    }
}

#[test]
fn creation_time_is_when_the_process_started() {
    let before = SystemTime::now();
    let p = Reaped::spawn(sleeper(30));
    let after = SystemTime::now();
    let created = p.creation_time().unwrap();
    // FILETIME ticks are 100 ns, but the clock behind them may be coarser
    // (about 15 ms on Windows): allow a little slack either side.
    let slack = Duration::from_millis(100);
    assert!(
        created + slack >= before && created <= after + slack,
        "{created:?} not in {before:?}..{after:?}"
    );
    let me = Process::current().unwrap();
    assert!(me.creation_time().unwrap() <= created);
}

#[test]
fn image_path_command_line_parent_and_session_describe_the_child() {
    let p = Reaped::spawn(sleeper(30));
    let image = p.image_path().unwrap();
    assert!(image.is_absolute(), "{}", image.display());
    let name = image.file_name().unwrap().to_string_lossy().to_lowercase();
    assert_eq!(name, "ping.exe", "{}", image.display());
    match p.command_line() {
        Ok(line) => {
            let line = line.to_string_lossy();
            assert!(
                line.contains("127.0.0.1") && line.contains("-n 31"),
                "{line:?}"
            );
        }
        // Wine 8 has no ProcessCommandLineInformation: said as such.
        Err(err) => assert_eq!(err.kind(), prochandle::ErrorKind::Unsupported, "{err}"),
    }
    assert_eq!(p.parent_pid().unwrap(), std::process::id());
    let me = Process::current().unwrap();
    assert_eq!(p.session_id().unwrap(), me.session_id().unwrap());
}

#[test]
fn a_process_opened_by_pid_is_described_too() {
    let p = Reaped::spawn(sleeper(30));
    // open() holds only PROCESS_QUERY_LIMITED_INFORMATION among the query
    // rights: every one of these works with it.
    let opened = Process::open(p.pid()).unwrap();
    assert_eq!(opened.image_path().unwrap(), p.image_path().unwrap());
    assert_eq!(opened.parent_pid().unwrap(), std::process::id());
    match opened.command_line() {
        Ok(line) => assert_eq!(line, p.command_line().unwrap()),
        Err(err) => assert_eq!(err.kind(), prochandle::ErrorKind::Unsupported, "{err}"),
    }
}
