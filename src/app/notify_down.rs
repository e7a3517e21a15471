//! `notify-down`: stop keepalived on this node so that the peer takes the VIP
//! (docs/contract.md "notify-down"). Parse, [`run`], then print, log, and exit with the code
//! `ending` maps the outcome to.

use std::process::ExitCode;
use std::time::Instant;

use crate::app::notify::parse_event;
use crate::cli::{Format, NotifyDownArgs};
use crate::deadline::Deadline;
use crate::exit::Exit;
use crate::io::keepalived::{self, DownError, Stopped};
use crate::model::event::KeepalivedEvent;
use crate::report::{self, NotifyReport, Severity, SyslogTarget};

pub const BINARY: &str = "notify-down";
/// How long notify-down waits for keepalived to exit: longer than a check, as keepalived
/// sends its last adverts and runs its notify_stop scripts first (defined in cli.rs, which
/// builds the help text from it).
pub use crate::cli::DEFAULT_DOWN_TIMEOUT as DEFAULT_TIMEOUT;

/// Entry point of `notify-down`.
pub fn main() -> ExitCode {
    let args: NotifyDownArgs = crate::cli::parse_or_exit(BINARY);
    let started = Instant::now();
    let syslog = SyslogTarget::from(&args.report);
    let event = parse_event(BINARY, &args.keepalived_args);
    let result = run(&args, &syslog);
    let (line, severity, exit) = ending(&result);
    match args.report.format {
        Format::Text => println!("{line}"),
        Format::Json => println!("{}", json(&args, &result, exit, started)),
    }
    let origin = KeepalivedEvent::describe(&event);
    report::syslog(BINARY, &syslog, severity, &format!("{line} ({origin})"));
    exit.into()
}

/// Stop keepalived within `--timeout`; the warning that it is being stopped goes to syslog
/// first.
pub fn run(args: &NotifyDownArgs, syslog: &SyslogTarget) -> Result<Stopped, DownError> {
    let deadline = Deadline::new(args.timeout.unwrap_or(DEFAULT_TIMEOUT));
    let announce = |m: &str| report::syslog(BINARY, syslog, Severity::Warning, m);
    keepalived::stop(&args.pidfile, args.dry_run, &deadline, announce)
}

/// The one output line, its syslog severity, and the exit code: the one place where an
/// outcome becomes an exit code.
fn ending(result: &Result<Stopped, DownError>) -> (String, Severity, Exit) {
    match result {
        Ok(Stopped::Stopped(m)) => (format!("OK {m}"), Severity::Warning, Exit::Ok),
        Ok(Stopped::NotRunning(m)) => (format!("OK {m}"), Severity::Warning, Exit::Ok),
        Ok(Stopped::DryRun(m)) => (format!("DRY-RUN: {m}"), Severity::Info, Exit::Ok),
        Err(e @ DownError::Refused(_)) => {
            (format!("FAIL config: {e}"), Severity::Err, Exit::Config)
        }
        Err(e @ DownError::NotStopped(_)) => (format!("FAIL down: {e}"), Severity::Err, Exit::Down),
    }
}

/// The `--format json` object.
fn json(
    args: &NotifyDownArgs,
    result: &Result<Stopped, DownError>,
    exit: Exit,
    started: Instant,
) -> String {
    let message = match result {
        Ok(stopped) => stopped.message().to_string(),
        Err(e) => e.to_string(),
    };
    // notify-down keeps no role and does not talk to the server.
    NotifyReport {
        outcome: result.as_ref().map_or("failed", Stopped::name),
        role: None,
        read_only: None,
        seq: None,
        elapsed_ms: started.elapsed().as_millis(),
        message: &message,
        exit_code: exit.code(),
        reason: exit.name(),
        keepalived_args: &args.keepalived_args,
    }
    .json()
}
