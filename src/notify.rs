//! `notify-master` and `notify-backup`: promotion and fencing, serialised through the state
//! dir (docs/contract.md "Notify hooks run concurrently").
//!
//! Every transition takes the state dir's lock, compares its event stamp with the one
//! recorded, and records itself. notify-master releases the lock while it waits for catch-up
//! and takes it again before unfencing: if a newer BACKUP/FAULT/STOP was recorded meanwhile,
//! it leaves the node fenced.
//!
//! Which keepalived state goes to which helper (keepalived.conf(5), `notify`): MASTER to
//! notify-master; BACKUP, FAULT, STOP and DELETED to notify-backup; any other state is a
//! usage error (exit 64) and changes nothing. See [`accepted_states`] (in
//! [`crate::model::event`]).

use std::cell::Cell;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mysql::Conn;

use crate::cli::{Format, NotifyBackupArgs, NotifyMasterArgs, ReportArgs};
use crate::config::{self, ConfigError, NotifySettings};
use crate::confpath::PathCause;
use crate::deadline::{Deadline, Worker};
use crate::exit::Exit;
use crate::observe::{
    self, Dialect, Failure, ObserveError, Refusal, ReplicaStatus, error_text, query_sets,
};
use crate::plan::fencing::{self, AfterAttempt, Attempt, Next, RetryPolicy};
use crate::plan::promotion::{self, Decision, Facts, GiveUp, Policy, Wait};
use crate::report::{self, NotifyReport, Severity, SyslogTarget};
use crate::role::{self, Role, RoleRecord};
use crate::state;

pub use crate::model::event::{BACKUP, KeepalivedEvent, MASTER, accepted_states};

/// Why a notify helper did not reach its goal.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The state dir or the role file in it cannot be used (exit 78).
    #[error("{0}")]
    State(String),
    #[error("{0}")]
    Down(String),
    #[error("{0}")]
    CatchupTimedOut(String),
    /// The account lacks a privilege (README "Least privileges"): fix the grants.
    #[error("{0}")]
    Privilege(String),
}

impl NotifyError {
    pub fn exit(&self) -> Exit {
        match self {
            NotifyError::Config(_) | NotifyError::State(_) | NotifyError::Privilege(_) => {
                Exit::Config
            }
            NotifyError::Down(_) => Exit::Down,
            NotifyError::CatchupTimedOut(_) => Exit::Lag,
        }
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
    fn line(&self) -> String {
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

/// How a run of notify-master or notify-backup ended: its result, and the server's
/// `read_only` as last seen (`None` when the server was not reached), for the JSON object.
struct Ending {
    result: Result<Outcome, NotifyError>,
    read_only: Option<bool>,
}

impl Ending {
    /// Ended before reaching the server (configuration error, deadline passed).
    fn unseen(result: Result<Outcome, NotifyError>) -> Ending {
        Ending {
            result,
            read_only: None,
        }
    }
}

struct Context<'a> {
    binary: &'static str,
    syslog: &'a SyslogTarget,
    settings: &'a NotifySettings,
    seq: u64,
    dry_run: bool,
    /// Print each step (`-v`, text format only: JSON output is one object).
    verbose: bool,
    /// The server's `read_only` as last seen by this run.
    read_only: Cell<Option<bool>>,
}

impl Context<'_> {
    fn log(&self, severity: Severity, msg: &str) {
        report::syslog(self.binary, self.syslog, severity, msg);
    }

    /// A step worth showing with `-v`; not logged.
    fn step(&self, msg: &str) {
        if self.verbose {
            println!("  {msg}");
        }
    }

    /// A step worth showing with `-v` and logging (a promotion's progress).
    fn progress(&self, msg: &str) {
        self.step(msg);
        self.log(Severity::Info, msg);
    }

    /// The state dir's lock; none in a dry run, which must not create the dir or the file.
    /// A state dir that cannot be used is a configuration error (78); one that another
    /// helper kept locked is like a server that does not answer (1; notify-backup retries).
    fn lock(&self) -> Result<Option<state::StateLock>, NotifyError> {
        if self.dry_run {
            return Ok(None);
        }
        state::lock(
            &self.settings.state_dir,
            &Deadline::new(self.settings.timeout),
        )
        .map(Some)
        .map_err(|e| match e {
            state::StateError::Busy { .. } => NotifyError::Down(e.to_string()),
            _ => NotifyError::State(e.to_string()),
        })
    }

    /// The recorded transition, if it is newer than ours. Stamps count from boot, so only
    /// a record of this boot can be newer.
    fn newer(&self) -> Result<Option<RoleRecord>, NotifyError> {
        let rec = role::read_role(&self.settings.state_dir)
            .map_err(|e| NotifyError::State(e.to_string()))?;
        Ok(rec.filter(|r| r.this_boot() && r.seq > self.seq))
    }

    /// Record `role` under the lock the caller holds, unless a newer transition is there.
    fn record(&self, role: Role) -> Result<Option<RoleRecord>, NotifyError> {
        self.record_until(role, None)
    }

    fn record_until(
        &self,
        role: Role,
        until: Option<u64>,
    ) -> Result<Option<RoleRecord>, NotifyError> {
        if let Some(newer) = self.newer()? {
            return Ok(Some(newer));
        }
        if !self.dry_run {
            role::write_role(
                &self.settings.state_dir,
                &RoleRecord {
                    role,
                    seq: self.seq,
                    until,
                    boot: role::boot_id(),
                },
            )
            .map_err(|e| {
                let dir = &self.settings.state_dir;
                NotifyError::State(format!(
                    "cannot write role file in {}: {}",
                    dir.display(),
                    PathCause::new(dir, e)
                ))
            })?;
        }
        Ok(None)
    }
}

fn superseded(rec: &RoleRecord) -> Outcome {
    Outcome::Superseded(format!(
        "a newer transition ({}, seq {}) was recorded first: nothing done",
        rec.role.as_str(),
        rec.seq
    ))
}

/// `1`/`ON` as read back from `@@read_only`.
fn is_on(value: Option<&str>) -> bool {
    matches!(value, Some("1" | "ON"))
}

/// What a failed connection means for a notify helper, by the one classification of
/// [`observe::Failure`]: the server refusing this account is a configuration error (78, with
/// what to fix); a server at its connection limit is up but could not be reached (1, so
/// notify-backup retries), and the message names the grant that avoids it; no answer is down.
fn connect_error(what: &str, e: &ObserveError) -> NotifyError {
    match e.failure.refusal() {
        Some(Refusal::Account) => NotifyError::Privilege(format!(
            "{what}: {e}: the server refuses this account: fix user= and password= in the \
             option file or the account's grants (README, least privileges of the notify \
             helpers)"
        )),
        Some(Refusal::Saturated) => NotifyError::Down(format!(
            "{what}: {e}: the server is at its connection limit: GRANT CONNECTION ADMIN to \
             this account so that it gets past it (README, least privileges of the notify \
             helpers)"
        )),
        _ => NotifyError::Down(format!("{what}: {e}")),
    }
}

/// A failed query, classified as [`connect_error`] does: a refused account or a missing
/// privilege is a configuration error (78).
fn query_error(what: &str, e: &mysql::Error) -> NotifyError {
    match Failure::of(e).refusal() {
        Some(Refusal::Account) => NotifyError::Privilege(format!(
            "{what}: {} (see README, least privileges)",
            error_text(e)
        )),
        _ => NotifyError::Down(format!("{what}: {}", error_text(e))),
    }
}

/// The server's dialect, noting its `read_only` in `ctx` (one round trip).
fn dialect_of(ctx: &Context, conn: &mut Conn) -> Result<Dialect, NotifyError> {
    let (sets, err) = query_sets(conn, "SELECT VERSION(), @@GLOBAL.read_only");
    if let Some(e) = err {
        return Err(query_error("query failed", &e));
    }
    let row = sets.first().and_then(|rows| rows.first());
    let column = |i: usize| row.and_then(|r| r.get(i)).and_then(|(_, v)| v.as_deref());
    if column(1).is_some() {
        ctx.read_only.set(Some(is_on(column(1))));
    }
    Ok(if column(0).unwrap_or_default().contains("MariaDB") {
        Dialect::MariaDb
    } else {
        Dialect::MySql
    })
}

fn exec(conn: &mut Conn, q: &str) -> Result<observe::ResultSets, NotifyError> {
    match query_sets(conn, q) {
        (sets, None) => Ok(sets),
        (_, Some(e)) => Err(query_error(q, &e)),
    }
}

/// `SET GLOBAL read_only`, and on MySQL `super_read_only` (which also fences SUPER users);
/// the value read back is noted in `ctx`.
fn set_read_only(
    ctx: &Context,
    conn: &mut Conn,
    dialect: Dialect,
    on: bool,
) -> Result<(), NotifyError> {
    let q = match (dialect, on) {
        (Dialect::MariaDb, true) => "SET GLOBAL read_only=ON",
        (Dialect::MariaDb, false) => "SET GLOBAL read_only=OFF",
        (Dialect::MySql, true) => "SET GLOBAL super_read_only=ON",
        (Dialect::MySql, false) => "SET GLOBAL super_read_only=OFF, GLOBAL read_only=OFF",
    };
    exec(conn, q)?;
    // Read it back: the statement can succeed on a server where another session changes it.
    let sets = exec(conn, "SELECT @@GLOBAL.read_only")?;
    let now = observe::first_value(&sets);
    let now_on = is_on(now.as_deref());
    ctx.read_only.set(now.is_some().then_some(now_on));
    if now_on != on {
        return Err(NotifyError::Down(format!(
            "read_only is still {} after setting it",
            if now_on { "ON" } else { "OFF" }
        )));
    }
    Ok(())
}

/// Run `work` on a worker thread and give up at `limit`: a hung server must not keep a
/// keepalived hook running.
fn bounded<T: Send + 'static>(
    limit: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    Worker::start(work).wait(limit)
}

/// What a run of notify-master or notify-backup reports, and where.
struct Reporter<'a> {
    binary: &'static str,
    report: &'a ReportArgs,
    syslog: SyslogTarget,
    event: Option<KeepalivedEvent>,
    keepalived_args: &'a [String],
    started: Instant,
}

impl Reporter<'_> {
    /// Print the line (or, with `--format json`, the object) and log it; the exit code.
    /// `state_dir` is where the role is recorded, once the settings are known.
    fn finish(&self, state_dir: Option<&Path>, ending: Ending) -> ExitCode {
        let origin = KeepalivedEvent::describe(&self.event);
        let (line, severity, exit) = match &ending.result {
            Ok(outcome) => (
                outcome.line(),
                match outcome {
                    Outcome::Superseded(_) => Severity::Warning,
                    _ => Severity::Info,
                },
                Exit::Ok,
            ),
            Err(e) => (
                format!("FAIL {}: {e}", e.exit().name()),
                Severity::Err,
                e.exit(),
            ),
        };
        match self.report.format {
            Format::Text => println!("{line}"),
            Format::Json => {
                let message = match &ending.result {
                    Ok(outcome) => outcome.message().to_string(),
                    Err(e) => e.to_string(),
                };
                // What the role file holds now; a record of another boot counts as none,
                // as it does for the check and the helpers.
                let recorded = state_dir
                    .and_then(|dir| role::read_role(dir).ok().flatten())
                    .filter(RoleRecord::this_boot);
                let json = NotifyReport {
                    outcome: ending.result.as_ref().map_or("failed", Outcome::name),
                    role: recorded.as_ref().map(|r| r.role.as_str()),
                    read_only: ending.read_only,
                    seq: recorded.as_ref().map(|r| r.seq),
                    elapsed_ms: self.started.elapsed().as_millis(),
                    message: &message,
                    exit_code: exit.code(),
                    reason: exit.name(),
                    keepalived_args: self.keepalived_args,
                };
                println!("{}", json.json());
            }
        }
        report::syslog(
            self.binary,
            &self.syslog,
            severity,
            &format!("{line} ({origin})"),
        );
        exit.into()
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

// ---------------------------------------------------------------- notify-backup

/// How long notify-backup keeps trying to fence a server it cannot reach.
pub use crate::cli::DEFAULT_RETRY_FOR;

/// Entry point of `notify-backup`.
pub fn backup_main() -> ExitCode {
    let args: NotifyBackupArgs = crate::cli::parse_or_exit(BACKUP);
    let reporter = Reporter {
        binary: BACKUP,
        report: &args.report,
        syslog: SyslogTarget::from(&args.report),
        event: parse_event(BACKUP, &args.keepalived_args),
        keepalived_args: &args.keepalived_args,
        started: Instant::now(),
    };
    let syslog = &reporter.syslog;
    let settings = match config::notify_settings(
        BACKUP,
        &args.connection,
        &args.server,
        None,
        std::env::var("MYSQL_PWD").ok(),
    ) {
        Ok(s) => s,
        Err(e) => return reporter.finish(None, Ending::unseen(Err(e.into()))),
    };
    if let (Some(seq), Some(until)) = (args.retry_seq, args.retry_until) {
        return retry_fence(&settings, syslog, seq, until);
    }
    let seq = state::event_seq();
    let verbose = args.verbose && args.report.format == Format::Text;
    let Ending { result, read_only } = fence_once(&settings, syslog, seq, args.dry_run, verbose);
    let policy = RetryPolicy {
        dry_run: args.dry_run,
        no_retry: args.no_retry,
    };
    let result = match (fencing::after_attempt(attempt(&result), &policy), result) {
        // A hung or stopped server must still be fenced when it comes back: nothing else
        // would do it (keepalived runs notify-backup once per transition).
        (AfterAttempt::StartRetry, Err(NotifyError::Down(msg))) => {
            let retry_for = args.retry_for.unwrap_or(DEFAULT_RETRY_FOR);
            let until = role::unix_now() + retry_for.as_secs();
            let retry = match spawn_retry(seq, until) {
                Ok(pid) => format!(
                    "retrying in the background (PID {pid}) for up to {}",
                    humantime::format_duration(retry_for)
                ),
                Err(e) => format!("cannot retry in the background: {e}"),
            };
            Err(NotifyError::Down(format!("{msg}; {retry}")))
        }
        (_, result) => result,
    };
    reporter.finish(Some(&settings.state_dir), Ending { result, read_only })
}

/// One bounded attempt to record standby and fence.
fn fence_once(
    settings: &NotifySettings,
    syslog: &SyslogTarget,
    seq: u64,
    dry_run: bool,
    verbose: bool,
) -> Ending {
    let worker_settings = settings.clone();
    let worker_syslog = syslog.clone();
    bounded(settings.timeout, move || {
        let ctx = Context {
            binary: BACKUP,
            syslog: &worker_syslog,
            settings: &worker_settings,
            seq,
            dry_run,
            verbose,
            read_only: Cell::new(None),
        };
        let result = fence(&ctx);
        Ending {
            result,
            read_only: ctx.read_only.get(),
        }
    })
    .unwrap_or_else(|| {
        Ending::unseen(Err(NotifyError::Down(format!(
            "no answer from {} within --timeout {}: fencing not confirmed",
            settings.connection.target(),
            humantime::format_duration(settings.timeout)
        ))))
    })
}

/// Start this binary again, detached (own session, no stdio), as the retry of transition
/// `seq`. keepalived does not wait for notify scripts, and this process must exit within
/// its deadline, so the retry cannot be this process.
fn spawn_retry(seq: u64, until: u64) -> std::io::Result<u32> {
    use std::os::unix::process::CommandExt;
    // The real path (from /proc/self/exe), so that ps and /proc/PID/comm name the binary.
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.args([
        "--retry-seq",
        &seq.to_string(),
        "--retry-until",
        &until.to_string(),
    ])
    .args(std::env::args_os().skip(1))
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null());
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn().map(|c| c.id())
}

/// How an attempt to fence ended, as far as retrying goes: only a server that could not be
/// reached (or a lock that stayed busy) is worth another try.
fn attempt(result: &Result<Outcome, NotifyError>) -> Attempt {
    match result {
        Ok(_) => Attempt::Done,
        Err(NotifyError::Down(_)) => Attempt::CannotReach,
        Err(_) => Attempt::MustBeFixed,
    }
}

/// The background retry: once a second, until fenced, superseded by a newer transition, or
/// `until` passes ([`fencing::next`]). Each attempt is bounded like the first one.
fn retry_fence(settings: &NotifySettings, syslog: &SyslogTarget, seq: u64, until: u64) -> ExitCode {
    // The first attempt, by the process that started this one, did not reach the server.
    let mut last: Result<Outcome, NotifyError> = Err(NotifyError::Down(String::new()));
    loop {
        match fencing::next(attempt(&last), role::unix_now() >= until) {
            Next::TryAgain => {
                std::thread::sleep(Duration::from_secs(1));
                last = fence_once(settings, syslog, seq, false, false).result;
            }
            Next::GiveUp => {
                report::syslog(
                    BACKUP,
                    syslog,
                    Severity::Err,
                    &format!(
                        "FAIL down: gave up fencing {}: the server never answered; it may take \
                         writes by its own address until someone runs notify-backup",
                        settings.connection.target()
                    ),
                );
                return Exit::Down.into();
            }
            Next::Stop => match last {
                Ok(outcome) => {
                    let line = match &outcome {
                        Outcome::Fenced(m) => format!("OK standby: {m} (background retry)"),
                        other => other.line(),
                    };
                    report::syslog(BACKUP, syslog, Severity::Warning, &line);
                    return Exit::Ok.into();
                }
                Err(e) => {
                    let exit = e.exit();
                    let msg = format!("FAIL {}: {e} (background retry)", exit.name());
                    report::syslog(BACKUP, syslog, Severity::Err, &msg);
                    return exit.into();
                }
            },
        }
    }
}

/// Record standby, then `read_only=ON`, all under the lock so that a promotion that is
/// finishing cannot interleave.
fn fence(ctx: &Context) -> Result<Outcome, NotifyError> {
    let deadline = Deadline::new(ctx.settings.timeout);
    let _lock = ctx.lock()?;
    if let Some(newer) = ctx.record(Role::Standby)? {
        return Ok(superseded(&newer));
    }
    ctx.step(&if ctx.dry_run {
        "dry run: role file left as it is".to_string()
    } else {
        format!(
            "recorded role standby (seq {}) in {}",
            ctx.seq,
            ctx.settings.state_dir.display()
        )
    });
    let target = ctx.settings.connection.target();
    let mut conn = ctx.settings.connection.connect(&deadline).map_err(|e| {
        connect_error(
            "role recorded as standby, but the server could not be fenced",
            &e,
        )
    })?;
    let dialect = dialect_of(ctx, &mut conn)?;
    ctx.step(&format!(
        "connected to {target} ({}): read_only is {}",
        dialect.as_str(),
        match ctx.read_only.get() {
            Some(true) => "ON",
            Some(false) => "OFF",
            None => "unknown",
        }
    ));
    if ctx.dry_run {
        return Ok(Outcome::DryRun(
            "would record standby and SET GLOBAL read_only=ON".into(),
        ));
    }
    set_read_only(ctx, &mut conn, dialect, true)?;
    Ok(Outcome::Fenced("fenced: read_only=ON".into()))
}

// ---------------------------------------------------------------- notify-master

/// How long a promotion may take in all ([`promotion::promotion_limit`]).
fn promotion_limit(settings: &NotifySettings) -> Duration {
    promotion::promotion_limit(settings.timeout, settings.catchup_timeout)
}

/// Entry point of `notify-master`.
pub fn master_main() -> ExitCode {
    let args: NotifyMasterArgs = crate::cli::parse_or_exit(MASTER);
    let reporter = Reporter {
        binary: MASTER,
        report: &args.report,
        syslog: SyslogTarget::from(&args.report),
        event: parse_event(MASTER, &args.keepalived_args),
        keepalived_args: &args.keepalived_args,
        started: Instant::now(),
    };
    let syslog = &reporter.syslog;
    let settings = match config::notify_settings(
        MASTER,
        &args.connection,
        &args.server,
        Some(&args),
        std::env::var("MYSQL_PWD").ok(),
    ) {
        Ok(s) => s,
        Err(e) => return reporter.finish(None, Ending::unseen(Err(e.into()))),
    };
    let seq = state::event_seq();
    let limit = promotion_limit(&settings);
    let dry_run = args.dry_run;
    let verbose = args.verbose && args.report.format == Format::Text;
    let worker_settings = settings.clone();
    let worker_syslog = syslog.clone();
    let ending = bounded(limit, move || {
        let ctx = Context {
            binary: MASTER,
            syslog: &worker_syslog,
            settings: &worker_settings,
            seq,
            dry_run,
            verbose,
            read_only: Cell::new(None),
        };
        let result = promote(&ctx);
        Ending {
            result,
            read_only: ctx.read_only.get(),
        }
    });
    let ending = match ending {
        Some(ending) => ending,
        None => {
            // Do not leave the node "promoting" forever: check-mysql passes that state.
            let ctx = Context {
                binary: MASTER,
                syslog,
                settings: &settings,
                seq,
                dry_run,
                verbose,
                read_only: Cell::new(None),
            };
            let short = Deadline::new(Duration::from_millis(200));
            if let Ok(_lock) = state::lock(&settings.state_dir, &short) {
                let _ = ctx.record(Role::PromotionFailed);
            }
            Ending::unseen(Err(NotifyError::Down(format!(
                "promotion did not finish within {}: recorded as failed, node stays read-only",
                humantime::format_duration(limit)
            ))))
        }
    };
    reporter.finish(Some(&settings.state_dir), ending)
}

/// What the IO threads have received, per connection, as GTID lists.
fn received_positions(
    conn: &mut Conn,
    dialect: Dialect,
) -> Result<Vec<ReplicaStatus>, NotifyError> {
    let q = match dialect {
        Dialect::MariaDb => "SHOW ALL SLAVES STATUS",
        Dialect::MySql => "SHOW REPLICA STATUS",
    };
    let sets = exec(conn, q)?;
    Ok(sets
        .first()
        .map(|rows| {
            rows.iter()
                .map(|r| ReplicaStatus::from_columns(r))
                .collect()
        })
        .unwrap_or_default())
}

/// Wait (in slices, to notice a newer transition) until every received transaction has been
/// applied, or `--catchup-timeout` passes.
fn catch_up(
    ctx: &Context,
    conn: &mut Conn,
    dialect: Dialect,
    positions: &[String],
    catchup: &Deadline,
) -> Result<Wait, NotifyError> {
    let started = Instant::now();
    let mut last_log = Instant::now();
    for pos in positions {
        loop {
            let slice = catchup.remaining().min(Duration::from_secs(1));
            let secs = slice.as_secs_f64().max(0.001);
            let q = match dialect {
                Dialect::MariaDb => format!("SELECT MASTER_GTID_WAIT('{pos}', {secs:.3})"),
                Dialect::MySql => format!("SELECT WAIT_FOR_EXECUTED_GTID_SET('{pos}', {secs:.3})"),
            };
            let sets = exec(conn, &q)?;
            let answer = observe::first_value(&sets);
            match (dialect, answer.as_deref()) {
                (Dialect::MariaDb, Some("0")) | (Dialect::MySql, Some("0")) => break,
                (Dialect::MariaDb, Some("-1")) | (Dialect::MySql, Some("1")) => {}
                (_, other) => {
                    return Err(NotifyError::Down(format!(
                        "waiting for {pos} returned {}",
                        other.unwrap_or("NULL")
                    )));
                }
            }
            if let Some(newer) = ctx.newer()? {
                return Ok(Wait::Superseded(newer));
            }
            if catchup.passed() {
                return Ok(Wait::TimedOut);
            }
            if last_log.elapsed() >= Duration::from_secs(5) {
                last_log = Instant::now();
                ctx.progress(&format!(
                    "catching up: waiting for {pos} to be applied ({}s so far)",
                    started.elapsed().as_secs()
                ));
            }
        }
    }
    Ok(Wait::CaughtUp)
}

/// Step 1: record `promoting` under the lock, so that check-mysql passes the fenced node
/// meanwhile and keepalived does not take the VIP away mid-promotion. `Some`: superseded.
fn begin(ctx: &Context) -> Result<Option<RoleRecord>, NotifyError> {
    let _lock = ctx.lock()?;
    // Past this, a promotion still recorded is treated as failed by check-mysql.
    let until = promotion::promoting_until(role::unix_now(), promotion_limit(ctx.settings));
    ctx.record_until(Role::Promoting, Some(until))
}

/// A promotion that fails after it was recorded is recorded as failed (best effort).
fn fail_promotion(ctx: &Context, e: NotifyError) -> NotifyError {
    if let Ok(_lock) = ctx.lock() {
        let _ = ctx.record(Role::PromotionFailed);
    }
    e
}

/// Step 2: connect (reads may wait up to one catch-up slice plus the normal timeout), and
/// read the dialect and the received positions to wait for.
fn connect_for_catch_up(ctx: &Context) -> Result<(Conn, Dialect, Vec<String>), NotifyError> {
    let deadline = Deadline::new(ctx.settings.timeout);
    let io = ctx.settings.timeout + Duration::from_secs(1);
    let mut conn = ctx
        .settings
        .connection
        .connect_with_io_timeout(&deadline, io)
        .map_err(|e| connect_error("cannot promote", &e))?;
    let dialect = dialect_of(ctx, &mut conn)?;
    let replicas = received_positions(&mut conn, dialect)?;
    let positions = promotion::positions(dialect, &replicas).map_err(NotifyError::Down)?;
    ctx.progress(&format!(
        "promoting: {} replication connection(s), waiting for {} to be applied",
        replicas.len(),
        if positions.is_empty() {
            "nothing".to_string()
        } else {
            positions.join(" ")
        }
    ));
    Ok((conn, dialect, positions))
}

/// Step 4: take the lock again; a newer transition recorded meanwhile supersedes the wait.
fn recheck(ctx: &Context, wait: Wait) -> Result<(Option<state::StateLock>, Wait), NotifyError> {
    if let Wait::Superseded(_) = wait {
        return Ok((None, wait));
    }
    let lock = ctx.lock()?;
    match ctx.newer()? {
        Some(newer) => Ok((lock, Wait::Superseded(newer))),
        None => Ok((lock, wait)),
    }
}

/// What the catch-up wait was for, when it ran out.
fn not_caught_up(ctx: &Context, positions: &[String]) -> String {
    format!(
        "catch-up not finished after --catchup-timeout {} (waiting for {})",
        humantime::format_duration(ctx.settings.catchup_timeout),
        positions.join(" ")
    )
}

/// notify-master's steps (docs/contract.md "notify-master"); what happens after the wait is
/// [`promotion::decide`].
fn promote(ctx: &Context) -> Result<Outcome, NotifyError> {
    if let Some(newer) = begin(ctx)? {
        return Ok(superseded(&newer));
    }
    let (mut conn, dialect, positions) =
        connect_for_catch_up(ctx).map_err(|e| fail_promotion(ctx, e))?;
    // Step 3: catch up, bounded by --catchup-timeout.
    let catchup = Deadline::new(ctx.settings.catchup_timeout);
    let started = Instant::now();
    let wait = catch_up(ctx, &mut conn, dialect, &positions, &catchup)
        .map_err(|e| fail_promotion(ctx, e))?;
    let waited =
        humantime::format_duration(Duration::from_millis(started.elapsed().as_millis() as u64));
    // Steps 4 and 5: unfence under the lock, only if no newer transition arrived meanwhile.
    let (_lock, wait) = recheck(ctx, wait)?;
    let policy = Policy {
        on_catchup_timeout: ctx.settings.on_catchup_timeout,
        keep_read_only: ctx.settings.keep_read_only,
        dry_run: ctx.dry_run,
    };
    let keep = if ctx.settings.keep_read_only {
        " (read_only left as it is)"
    } else {
        ": read_only=OFF"
    };
    match promotion::decide(Facts { wait }, &policy) {
        Decision::Superseded(newer) => Ok(superseded(&newer)),
        Decision::StayFenced { because, record } => {
            if let Some(role) = record {
                ctx.record(role)?;
            }
            Err(match because {
                GiveUp::CatchupTimedOut => NotifyError::CatchupTimedOut(format!(
                    "{}: promotion given up, node stays read-only; check-mysql now fails \
                     it so the VIP can move. Fix replication (check-mysql -v), then restart \
                     keepalived here",
                    not_caught_up(ctx, &positions)
                )),
            })
        }
        Decision::Report {
            set_writable,
            caught_up,
        } => {
            if !caught_up {
                promoting_anyway(ctx, &positions);
            }
            Ok(Outcome::DryRun(format!(
                "caught up: {caught_up} after {waited}; would {}record writer",
                if set_writable {
                    "SET GLOBAL read_only=OFF and "
                } else {
                    ""
                }
            )))
        }
        Decision::Unfence {
            set_writable,
            record,
            caught_up,
        } => {
            if !caught_up {
                promoting_anyway(ctx, &positions);
            }
            if set_writable {
                set_read_only(ctx, &mut conn, dialect, false)?;
            }
            ctx.record(record)?;
            Ok(Outcome::Writer(format!(
                "promoted{keep} after {waited} of catch-up{}",
                if caught_up { "" } else { " (NOT caught up)" }
            )))
        }
    }
}

/// The loud error of `--on-catchup-timeout promote`.
fn promoting_anyway(ctx: &Context, positions: &[String]) {
    ctx.log(
        Severity::Err,
        &format!(
            "{}: promoting anyway (--on-catchup-timeout promote); transactions still in the \
             relay log will be applied after new writes",
            not_caught_up(ctx, positions)
        ),
    );
}
