//! What notify-master and notify-backup share: their result ([`Outcome`], [`NotifyError`],
//! mapped to the exit code in one place, [`exit_of`]), the [`Context`] of a run (the state
//! dir's lock and role file, serialising transitions: docs/contract.md "Notify hooks run
//! concurrently"), the SQL they send ([`sql`], in [`server`]) and the reporting of a run ([`Reporter`]: the
//! line or the JSON object, and syslog).
//!
//! Every transition takes the state dir's lock, compares its event stamp with the one
//! recorded, and records itself. notify-master releases the lock while it waits for catch-up
//! and takes it again before unfencing: if a newer BACKUP/FAULT/STOP was recorded meanwhile,
//! it leaves the node fenced.

use std::cell::Cell;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::cli::{Format, ReportArgs};
use crate::deadline::{Deadline, Worker};
use crate::exit::Exit;
use crate::io::config::NotifySettings;
use crate::io::confpath::PathCause;
use crate::io::state::{self};
use crate::model::event::{KeepalivedEvent, accepted_states};
use crate::model::role::{Role, RoleRecord};
use crate::report::{self, NotifyReport, Severity, SyslogTarget};

mod server;

pub(crate) use crate::io::dialect::notify as sql;
pub(crate) use server::{
    connect_error, dialect_of, end_sessions, exec, query_error, read_back, replicas,
    sessions_to_end, set_read_only, try_read_only_on,
};

mod error;

pub use error::NotifyError;
pub(crate) use error::not_caught_up;

/// The exit code of a run of notify-master or notify-backup: the one place it is decided.
pub(crate) fn exit_of(result: &Result<Outcome, NotifyError>) -> Exit {
    match result {
        Ok(_) => Exit::Ok,
        Err(e) => e.exit(),
    }
}

/// What a notify helper achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The node is the writer (read_only=OFF unless --keep-read-only).
    Writer(String),
    /// The node is fenced (read_only=ON).
    Fenced(String),
    /// A newer transition was recorded first: nothing done.
    Superseded(String),
    /// --dry-run: what would have been done.
    DryRun(String),
}

impl Outcome {
    pub(crate) fn line(&self) -> String {
        match self {
            Outcome::Writer(m) => format!("OK writer: {m}"),
            Outcome::Fenced(m) => format!("OK standby: {m}"),
            Outcome::Superseded(m) => format!("OK superseded: {m}"),
            Outcome::DryRun(m) => format!("DRY-RUN: {m}"),
        }
    }

    /// `outcome` in JSON.
    fn name(&self) -> &'static str {
        match self {
            Outcome::Writer(_) => "writer",
            Outcome::Fenced(_) => "fenced",
            Outcome::Superseded(_) => "superseded",
            Outcome::DryRun(_) => "dry-run",
        }
    }

    /// The line without its leading words: `message` in JSON.
    pub(crate) fn message(&self) -> &str {
        match self {
            Outcome::Writer(m)
            | Outcome::Fenced(m)
            | Outcome::Superseded(m)
            | Outcome::DryRun(m) => m,
        }
    }
}

pub(crate) fn superseded(rec: &RoleRecord) -> Outcome {
    Outcome::Superseded(format!(
        "a newer transition ({}, seq {}) was recorded first: nothing done",
        rec.role.as_str(),
        rec.seq
    ))
}

/// What a run saw that its report needs besides the result.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Where the role is recorded, once the settings are known (JSON `role`, `seq`).
    pub state_dir: Option<PathBuf>,
    /// The server's `read_only` as last seen; `None` when the server was not reached.
    pub read_only: Option<bool>,
    /// This run is notify-backup's detached background retry: it reports to syslog only.
    pub background_retry: bool,
    /// JSON `guard`: how notify-master's split-brain guard let the promotion through
    /// (`peer-fenced`, `peer-unreachable`); `None`: no promotion with `--peer`.
    pub guard: Option<&'static str>,
}

/// What a run saw besides its result ([`Context::run_within`]).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Saw {
    /// The server's `read_only` as last seen.
    pub read_only: Option<bool>,
    /// [`Seen::guard`].
    pub guard: Option<&'static str>,
}

/// One transition's run: its settings and stamp, and what it saw of the server.
pub(crate) struct Context {
    pub binary: &'static str,
    pub syslog: SyslogTarget,
    pub settings: NotifySettings,
    pub seq: u64,
    pub dry_run: bool,
    /// Print each step (`-v`, text format only: JSON output is one object).
    pub verbose: bool,
    /// The server's `read_only` as last seen by this run.
    pub read_only: Cell<Option<bool>>,
    /// [`Seen::guard`], once notify-master promoted with `--peer`.
    pub guard: Cell<Option<&'static str>>,
}

impl Context {
    pub fn new(
        binary: &'static str,
        syslog: &SyslogTarget,
        settings: &NotifySettings,
        seq: u64,
        dry_run: bool,
        verbose: bool,
    ) -> Context {
        Context {
            binary,
            syslog: syslog.clone(),
            settings: settings.clone(),
            seq,
            dry_run,
            verbose,
            read_only: Cell::new(None),
            guard: Cell::new(None),
        }
    }

    /// Run `work` on a worker thread and give up at `limit`: a hung server must not keep a
    /// keepalived hook running. The result and what it saw ([`Saw`]); `None` when it did
    /// not finish in time.
    pub fn run_within(
        self,
        limit: Duration,
        work: fn(&Context) -> Result<Outcome, NotifyError>,
    ) -> Option<(Result<Outcome, NotifyError>, Saw)> {
        Worker::start(move || {
            let result = work(&self);
            let saw = Saw {
                read_only: self.read_only.get(),
                guard: self.guard.get(),
            };
            (result, saw)
        })
        .wait(limit)
    }

    pub fn log(&self, severity: Severity, msg: &str) {
        report::syslog(self.binary, &self.syslog, severity, msg);
    }

    /// Log what a lease release did on each voter ([`crate::io::lease::release_line`]) in
    /// one syslog line ending in `(why)`: info when every voter answered, else a warning (a
    /// row not given back expires by its TTL). Returns the line without `why`.
    pub(crate) fn log_release(
        &self,
        me: u32,
        outcomes: &[(String, crate::io::lease::Released)],
        why: &str,
    ) -> String {
        let (line, all_answered) = crate::io::lease::release_line(me, outcomes);
        let severity = if all_answered {
            Severity::Info
        } else {
            Severity::Warning
        };
        self.log(severity, &format!("{line} ({why})"));
        line
    }

    /// A step worth showing with `-v`; not logged.
    pub fn step(&self, msg: &str) {
        if self.verbose {
            println!("  {msg}");
        }
    }

    /// A step worth showing with `-v` and logging (a promotion's progress).
    pub fn progress(&self, msg: &str) {
        self.step(msg);
        self.log(Severity::Info, msg);
    }

    /// The state dir's lock; none in a dry run, which must not create the dir or the file.
    /// A state dir that cannot be used is a configuration error (78); one that another
    /// helper kept locked is like a server that does not answer (1; notify-backup retries).
    pub fn lock(&self) -> Result<Option<state::StateLock>, NotifyError> {
        if self.dry_run {
            return Ok(None);
        }
        state::lock(
            &self.settings.state_dir,
            &Deadline::new(self.settings.timeout),
        )
        .map(Some)
        .map_err(NotifyError::State)
    }

    /// The recorded transition, if it is newer than ours. Stamps count from boot, so only
    /// a record of this boot can be newer.
    pub fn newer(&self) -> Result<Option<RoleRecord>, NotifyError> {
        let rec = crate::io::state::read_role(&self.settings.state_dir)?;
        Ok(rec.filter(|r| r.this_boot() && r.seq > self.seq))
    }

    /// Record `role` under the lock the caller holds, unless a newer transition is there.
    pub fn record(&self, role: Role) -> Result<Option<RoleRecord>, NotifyError> {
        self.record_until(role, None)
    }

    pub fn record_until(
        &self,
        role: Role,
        until: Option<u64>,
    ) -> Result<Option<RoleRecord>, NotifyError> {
        if let Some(newer) = self.newer()? {
            return Ok(Some(newer));
        }
        if !self.dry_run {
            crate::io::state::write_role(
                &self.settings.state_dir,
                &RoleRecord {
                    role,
                    seq: self.seq,
                    until,
                    boot: crate::io::state::boot_id(),
                },
            )
            .map_err(|e| {
                let dir = &self.settings.state_dir;
                NotifyError::WriteRole {
                    dir: dir.clone(),
                    cause: PathCause::new(dir, e),
                }
            })?;
        }
        Ok(None)
    }
}

/// What a run of notify-master or notify-backup reports, and where.
pub(crate) struct Reporter<'a> {
    binary: &'static str,
    report: &'a ReportArgs,
    pub syslog: SyslogTarget,
    event: Option<KeepalivedEvent>,
    keepalived_args: &'a [String],
    started: Instant,
}

impl Reporter<'_> {
    /// Starts the clock; a bad keepalived argument is a usage error (exit 64) here.
    pub fn new<'a>(
        binary: &'static str,
        report: &'a ReportArgs,
        keepalived_args: &'a [String],
    ) -> Reporter<'a> {
        Reporter {
            binary,
            report,
            syslog: SyslogTarget::from(report),
            event: parse_event(binary, keepalived_args),
            keepalived_args,
            started: Instant::now(),
        }
    }

    /// Print the line (or, with `--format json`, the object) and log it; the exit code. The
    /// background retry only logs, without keepalived's arguments.
    pub fn finish(&self, seen: &Seen, result: Result<Outcome, NotifyError>) -> ExitCode {
        let exit = exit_of(&result);
        if seen.background_retry {
            let (line, severity) = retry_line(&result);
            report::syslog(self.binary, &self.syslog, severity, &line);
            return exit.into();
        }
        let (line, severity) = match &result {
            Ok(outcome @ Outcome::Superseded(_)) => (outcome.line(), Severity::Warning),
            Ok(outcome) => (outcome.line(), Severity::Info),
            Err(e) => (format!("FAIL {}: {e}", exit.name()), Severity::Err),
        };
        match self.report.format {
            Format::Text => println!("{line}"),
            Format::Json => println!("{}", self.json(seen, &result, exit)),
        }
        let origin = KeepalivedEvent::describe(&self.event);
        report::syslog(
            self.binary,
            &self.syslog,
            severity,
            &format!("{line} ({origin})"),
        );
        exit.into()
    }

    fn json(&self, seen: &Seen, result: &Result<Outcome, NotifyError>, exit: Exit) -> String {
        let message = match result {
            Ok(outcome) => outcome.message().to_string(),
            Err(e) => e.to_string(),
        };
        // What the role file holds now; a record of another boot counts as none, as it does
        // for the check and the helpers.
        let recorded = seen
            .state_dir
            .as_deref()
            .and_then(|dir| crate::io::state::read_role(dir).ok().flatten())
            .filter(RoleRecord::this_boot);
        let report = NotifyReport {
            outcome: result.as_ref().map_or("failed", Outcome::name),
            role: recorded.as_ref().map(|r| r.role.as_str()),
            read_only: seen.read_only,
            seq: recorded.as_ref().map(|r| r.seq),
            elapsed_ms: self.started.elapsed().as_millis(),
            message: &message,
            exit_code: exit.code(),
            reason: exit.name(),
            keepalived_args: self.keepalived_args,
        };
        // `guard` after the shared report's fields (notify-master only, so it is added here
        // rather than in `report::NotifyReport`, which notify-down shares).
        #[derive(serde::Serialize)]
        struct WithGuard<'a> {
            #[serde(flatten)]
            report: &'a NotifyReport<'a>,
            guard: &'static str,
        }
        match seen.guard {
            None => report.json(),
            Some(guard) => serde_json::to_string(&WithGuard {
                report: &report,
                guard,
            })
            .unwrap_or_else(|_| report.json()),
        }
    }
}

/// The background retry's syslog line: it says it is the retry, except when it gave up.
fn retry_line(result: &Result<Outcome, NotifyError>) -> (String, Severity) {
    match result {
        Ok(Outcome::Fenced(m)) => (
            format!("OK standby: {m} (background retry)"),
            Severity::Warning,
        ),
        Ok(other) => (other.line(), Severity::Warning),
        Err(e @ NotifyError::GaveUp { .. }) => {
            (format!("FAIL {}: {e}", e.exit().name()), Severity::Err)
        }
        Err(e) => (
            format!("FAIL {}: {e} (background retry)", e.exit().name()),
            Severity::Err,
        ),
    }
}

/// keepalived's arguments for `binary`, or the one-line usage error and exit 64 (nothing is
/// printed on stdout, in either format, and nothing is changed).
pub(crate) fn parse_event(binary: &str, args: &[String]) -> Option<KeepalivedEvent> {
    match KeepalivedEvent::parse(args, accepted_states(binary)) {
        Ok(e) => e,
        Err(msg) => {
            eprintln!("{binary}: usage error: {msg}");
            std::process::exit(Exit::Usage.code());
        }
    }
}

#[cfg(test)]
mod tests;
