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
use crate::io::config::{ConfigError, NotifySettings};
use crate::io::confpath::PathCause;
use crate::io::mysql::error_text;
use crate::io::state::{self, RoleFileError, StateError};
use crate::model::event::{KeepalivedEvent, accepted_states};
use crate::model::observation::ObserveError;
use crate::model::role::{Role, RoleRecord};
use crate::plan::promotion::NotGtid;
use crate::report::{self, NotifyReport, Severity, SyslogTarget};

mod server;

pub(crate) use crate::io::dialect::notify as sql;
pub(crate) use server::{connect_error, dialect_of, exec, replicas, set_read_only};

/// Why a notify helper did not reach its goal. Each variant carries what the failure is
/// about; its message (the text after `FAIL <reason>: `) is its `Display`. The exit code of
/// each is decided in one place, [`NotifyError::exit`].
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The settings cannot be resolved (exit 78).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The state dir's lock cannot be taken. A state dir that cannot be used is a
    /// configuration error (exit 78); [`StateError::Busy`], another helper holding the lock
    /// until the deadline, is like a server that does not answer (exit 1: notify-backup
    /// retries).
    #[error(transparent)]
    State(#[from] StateError),
    /// The role file cannot be read, or is not a role file (exit 78).
    #[error(transparent)]
    RoleFile(#[from] RoleFileError),
    /// The role file cannot be written in the state dir `dir` (exit 78).
    #[error("cannot write role file in {}: {cause}", dir.display())]
    WriteRole {
        dir: PathBuf,
        #[source]
        cause: PathCause,
    },
    /// Connecting failed because the server refuses this account
    /// ([`Refusal::Account`](crate::model::observation::Refusal::Account): credentials,
    /// grants, a blocked host, TLS or the authentication plugin). `what` is what could not be
    /// done. Exit 78: fix the option file or the grants.
    #[error(
        "{what}: {error}: the server refuses this account: fix user= and password= in the \
         option file or the account's grants (README, least privileges of the notify \
         helpers)"
    )]
    Refused {
        what: &'static str,
        error: ObserveError,
    },
    /// Connecting failed because the server is at its connection limit
    /// ([`Refusal::Saturated`](crate::model::observation::Refusal::Saturated)): it is up but
    /// could not be reached (exit 1, so notify-backup retries); the message names the grant
    /// that avoids it.
    #[error(
        "{what}: {error}: the server is at its connection limit: GRANT CONNECTION ADMIN to \
         this account so that it gets past it (README, least privileges of the notify \
         helpers)"
    )]
    Saturated {
        what: &'static str,
        error: ObserveError,
    },
    /// Connecting failed otherwise: no answer, or another error from the server (exit 1).
    #[error("{what}: {error}")]
    Connect {
        what: &'static str,
        error: ObserveError,
    },
    /// A query was refused for lack of a privilege, or the account was refused mid-run
    /// (README "Least privileges"): fix the grants (exit 78). `statement` is the statement
    /// sent (`query failed` for the detection of the server's dialect).
    #[error("{statement}: {} (see README, least privileges)", error_text(error))]
    Privilege {
        statement: String,
        error: mysql::Error,
    },
    /// A query failed otherwise (exit 1). `statement` as in [`NotifyError::Privilege`].
    #[error("{statement}: {}", error_text(error))]
    Query {
        statement: String,
        error: mysql::Error,
    },
    /// `read_only` read back after setting it is still the old value `now_on`: another
    /// session changed it (exit 1).
    #[error("read_only is still {} after setting it", if *now_on { "ON" } else { "OFF" })]
    ReadOnlyUnchanged { now_on: bool },
    /// A replication connection's received position is not a GTID list, so it cannot be
    /// waited for (exit 1).
    #[error(transparent)]
    BadPosition(#[from] NotGtid),
    /// Waiting for `position` to be applied returned `answer` (`None`: NULL), which is
    /// neither "applied" nor "not yet" (exit 1).
    #[error("waiting for {position} returned {}", answer.as_deref().unwrap_or("NULL"))]
    WaitUnexpected {
        position: String,
        answer: Option<String>,
    },
    /// notify-master: the promotion did not finish within `limit`
    /// ([`crate::plan::promotion::promotion_limit`]); recorded as failed, the node stays
    /// read-only (exit 1).
    #[error(
        "promotion did not finish within {}: recorded as failed, node stays read-only",
        humantime::format_duration(*limit)
    )]
    Hung { limit: Duration },
    /// notify-master: the received transactions (`positions`) were not applied within
    /// `--catchup-timeout` (`limit`) and `--on-catchup-timeout fail`: the node stays
    /// read-only (exit 3).
    #[error(
        "{}: promotion given up, node stays read-only; check-mysql now fails it so the VIP \
         can move. Fix replication (check-mysql -v), then restart keepalived here",
        not_caught_up(*limit, positions)
    )]
    CatchupTimedOut {
        limit: Duration,
        positions: Vec<String>,
    },
    /// notify-backup: the server `target` did not answer within `--timeout` (`timeout`), so
    /// fencing is not confirmed (exit 1: notify-backup retries).
    #[error(
        "no answer from {target} within --timeout {}: fencing not confirmed",
        humantime::format_duration(*timeout)
    )]
    FenceUnconfirmed { target: String, timeout: Duration },
    /// notify-backup: the first attempt failed with `error` (which could not reach the
    /// server) and the background retry was started as process `pid`, for up to
    /// `retry_for`. Exit: `error`'s (1).
    #[error(
        "{error}; retrying in the background (PID {pid}) for up to {}",
        humantime::format_duration(*retry_for)
    )]
    RetryStarted {
        error: Box<NotifyError>,
        pid: u32,
        retry_for: Duration,
    },
    /// notify-backup: the first attempt failed with `error` (which could not reach the
    /// server) and the background retry could not be started (`cause`). Exit: `error`'s (1).
    #[error("{error}; cannot retry in the background: {cause}")]
    RetryNotStarted {
        error: Box<NotifyError>,
        cause: std::io::Error,
    },
    /// notify-backup's background retry: `--retry-for` passed and the server `target` never
    /// answered (exit 1).
    #[error(
        "gave up fencing {target}: the server never answered; it may take writes by its \
         own address until someone runs notify-backup"
    )]
    GaveUp { target: String },
}

impl NotifyError {
    /// The exit code of each failure (docs/contract.md "notify-master", "notify-backup"):
    /// the one place it is decided.
    pub fn exit(&self) -> Exit {
        match self {
            NotifyError::State(StateError::Busy { .. }) => Exit::Down,
            NotifyError::Config(_)
            | NotifyError::State(_)
            | NotifyError::RoleFile(_)
            | NotifyError::WriteRole { .. }
            | NotifyError::Refused { .. }
            | NotifyError::Privilege { .. } => Exit::Config,
            NotifyError::Saturated { .. }
            | NotifyError::Connect { .. }
            | NotifyError::Query { .. }
            | NotifyError::ReadOnlyUnchanged { .. }
            | NotifyError::BadPosition(_)
            | NotifyError::WaitUnexpected { .. }
            | NotifyError::Hung { .. }
            | NotifyError::FenceUnconfirmed { .. }
            | NotifyError::GaveUp { .. } => Exit::Down,
            NotifyError::RetryStarted { error, .. }
            | NotifyError::RetryNotStarted { error, .. } => error.exit(),
            NotifyError::CatchupTimedOut { .. } => Exit::Lag,
        }
    }
}

/// What the catch-up wait of `--catchup-timeout` `limit` was for, when it ran out.
pub(crate) fn not_caught_up(limit: Duration, positions: &[String]) -> String {
    format!(
        "catch-up not finished after --catchup-timeout {} (waiting for {})",
        humantime::format_duration(limit),
        positions.join(" ")
    )
}

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
    fn message(&self) -> &str {
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
        }
    }

    /// Run `work` on a worker thread and give up at `limit`: a hung server must not keep a
    /// keepalived hook running. The result and the `read_only` it saw; `None` when it did
    /// not finish in time.
    pub fn run_within(
        self,
        limit: Duration,
        work: fn(&Context) -> Result<Outcome, NotifyError>,
    ) -> Option<(Result<Outcome, NotifyError>, Option<bool>)> {
        Worker::start(move || {
            let result = work(&self);
            (result, self.read_only.get())
        })
        .wait(limit)
    }

    pub fn log(&self, severity: Severity, msg: &str) {
        report::syslog(self.binary, &self.syslog, severity, msg);
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
        NotifyReport {
            outcome: result.as_ref().map_or("failed", Outcome::name),
            role: recorded.as_ref().map(|r| r.role.as_str()),
            read_only: seen.read_only,
            seq: recorded.as_ref().map(|r| r.seq),
            elapsed_ms: self.started.elapsed().as_millis(),
            message: &message,
            exit_code: exit.code(),
            reason: exit.name(),
            keepalived_args: self.keepalived_args,
        }
        .json()
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
mod tests {
    use super::*;
    use crate::model::observation::{Failure, Refusal, Stage};

    fn connect(code: Option<u16>) -> ObserveError {
        ObserveError {
            target: "db:3306".into(),
            stage: Stage::Connect,
            failure: match code {
                Some(code) => Failure::Answered {
                    code,
                    sqlstate: "28000".into(),
                    message: "no".into(),
                    refusal: Refusal::of(code),
                },
                None => Failure::NoAnswer {
                    cause: "refused".into(),
                },
            },
        }
    }

    fn query(code: u16) -> mysql::Error {
        mysql::Error::MySqlError(mysql::MySqlError {
            state: "42000".into(),
            message: "no".into(),
            code,
        })
    }

    fn busy() -> StateError {
        StateError::Busy {
            dir: "/run/s".into(),
        }
    }

    /// Every failure, its exit code and its message (docs/contract.md "Output of the notify
    /// helpers", the exit codes of notify-master and notify-backup): the messages are the
    /// ones the helpers printed when these were strings.
    #[test]
    fn every_failure_has_one_exit_code_and_its_message() {
        let secs = Duration::from_secs;
        let rows: Vec<(NotifyError, Exit, &str)> = vec![
            (
                NotifyError::Config(ConfigError::VerifyNeedsCa),
                Exit::Config,
                "--ssl-mode verify-ca/verify-identity needs --ssl-ca (or ssl-ca in the option \
                 file)",
            ),
            (
                NotifyError::State(StateError::CreateDir {
                    dir: "/run/s".into(),
                    cause: std::io::Error::from_raw_os_error(libc::EACCES).into(),
                }),
                Exit::Config,
                "cannot create state dir /run/s: permission denied",
            ),
            (
                NotifyError::State(busy()),
                Exit::Down,
                "state dir /run/s stayed locked by another helper until the deadline",
            ),
            (
                NotifyError::RoleFile(RoleFileError::Bad {
                    path: "/run/s/role".into(),
                    message: "bad".into(),
                }),
                Exit::Config,
                "role file /run/s/role: bad",
            ),
            (
                NotifyError::WriteRole {
                    dir: "/run/s".into(),
                    cause: std::io::Error::from_raw_os_error(libc::EROFS).into(),
                },
                Exit::Config,
                "cannot write role file in /run/s: read-only file system",
            ),
            (
                NotifyError::Refused {
                    what: "cannot promote",
                    error: connect(Some(1045)),
                },
                Exit::Config,
                "cannot promote: cannot connect to db:3306: ERROR 1045 (28000): no: the server \
                 refuses this account: fix user= and password= in the option file or the \
                 account's grants (README, least privileges of the notify helpers)",
            ),
            (
                NotifyError::Saturated {
                    what: "cannot promote",
                    error: connect(Some(1040)),
                },
                Exit::Down,
                "cannot promote: cannot connect to db:3306: ERROR 1040 (28000): no: the server \
                 is at its connection limit: GRANT CONNECTION ADMIN to this account so that it \
                 gets past it (README, least privileges of the notify helpers)",
            ),
            (
                NotifyError::Connect {
                    what: "cannot promote",
                    error: connect(None),
                },
                Exit::Down,
                "cannot promote: cannot connect to db:3306: refused",
            ),
            (
                NotifyError::Privilege {
                    statement: "SET GLOBAL read_only=ON".into(),
                    error: query(1227),
                },
                Exit::Config,
                "SET GLOBAL read_only=ON: ERROR 1227 (42000): no (see README, least privileges)",
            ),
            (
                NotifyError::Query {
                    statement: "query failed".into(),
                    error: query(1064),
                },
                Exit::Down,
                "query failed: ERROR 1064 (42000): no",
            ),
            (
                NotifyError::ReadOnlyUnchanged { now_on: true },
                Exit::Down,
                "read_only is still ON after setting it",
            ),
            (
                NotifyError::ReadOnlyUnchanged { now_on: false },
                Exit::Down,
                "read_only is still OFF after setting it",
            ),
            (
                NotifyError::BadPosition(NotGtid {
                    connection: "a".into(),
                    position: "x".into(),
                }),
                Exit::Down,
                "connection 'a': received position 'x' is not a GTID list",
            ),
            (
                NotifyError::WaitUnexpected {
                    position: "0-1-5".into(),
                    answer: None,
                },
                Exit::Down,
                "waiting for 0-1-5 returned NULL",
            ),
            (
                NotifyError::WaitUnexpected {
                    position: "0-1-5".into(),
                    answer: Some("-1".into()),
                },
                Exit::Down,
                "waiting for 0-1-5 returned -1",
            ),
            (
                NotifyError::Hung { limit: secs(70) },
                Exit::Down,
                "promotion did not finish within 1m 10s: recorded as failed, node stays \
                 read-only",
            ),
            (
                NotifyError::CatchupTimedOut {
                    limit: secs(60),
                    positions: vec!["0-1-5".into(), "1-2-7".into()],
                },
                Exit::Lag,
                "catch-up not finished after --catchup-timeout 1m (waiting for 0-1-5 1-2-7): \
                 promotion given up, node stays read-only; check-mysql now fails it so the VIP \
                 can move. Fix replication (check-mysql -v), then restart keepalived here",
            ),
            (
                NotifyError::FenceUnconfirmed {
                    target: "db:3306".into(),
                    timeout: secs(5),
                },
                Exit::Down,
                "no answer from db:3306 within --timeout 5s: fencing not confirmed",
            ),
            (
                NotifyError::RetryStarted {
                    error: Box::new(NotifyError::State(busy())),
                    pid: 42,
                    retry_for: secs(3600),
                },
                Exit::Down,
                "state dir /run/s stayed locked by another helper until the deadline; retrying \
                 in the background (PID 42) for up to 1h",
            ),
            (
                NotifyError::RetryNotStarted {
                    error: Box::new(NotifyError::State(busy())),
                    cause: std::io::Error::from_raw_os_error(libc::EAGAIN),
                },
                Exit::Down,
                "state dir /run/s stayed locked by another helper until the deadline; cannot \
                 retry in the background: Resource temporarily unavailable (os error 11)",
            ),
            (
                NotifyError::GaveUp {
                    target: "db:3306".into(),
                },
                Exit::Down,
                "gave up fencing db:3306: the server never answered; it may take writes by its \
                 own address until someone runs notify-backup",
            ),
        ];
        for (error, exit, message) in rows {
            assert_eq!(error.to_string(), message, "{error:?}");
            assert_eq!(exit_of(&Err(error)), exit, "{message}");
        }
        let m = || "m".to_string();
        for ok in [
            Outcome::Writer(m()),
            Outcome::Fenced(m()),
            Outcome::Superseded(m()),
            Outcome::DryRun(m()),
        ] {
            assert_eq!(exit_of(&Ok(ok)), Exit::Ok);
        }
    }

    #[test]
    fn the_background_retry_says_so_unless_it_gave_up() {
        let line = |r: Result<Outcome, NotifyError>| retry_line(&r).0;
        assert_eq!(
            line(Ok(Outcome::Fenced("fenced: read_only=ON".into()))),
            "OK standby: fenced: read_only=ON (background retry)"
        );
        assert_eq!(
            line(Ok(Outcome::Superseded("x".into()))),
            "OK superseded: x"
        );
        assert_eq!(
            line(Err(NotifyError::Privilege {
                statement: "x".into(),
                error: query(1227),
            })),
            "FAIL config: x: ERROR 1227 (42000): no (see README, least privileges) (background \
             retry)"
        );
        assert_eq!(
            line(Err(NotifyError::GaveUp {
                target: "db:3306".into()
            })),
            "FAIL down: gave up fencing db:3306: the server never answered; it may take writes \
             by its own address until someone runs notify-backup"
        );
    }
}
