//! `notify-backup`: fence this node (docs/contract.md "notify-backup"), and when the server
//! cannot be fenced now, retry in the background (rule 5 of "Notify hooks run concurrently").
//! Whether to retry is `plan::fencing`.

use std::process::ExitCode;
use std::time::Duration;

use crate::app::notify::{
    Context, NotifyError, Outcome, Reporter, Seen, connect_error, dialect_of, end_sessions, exec,
    read_back, sessions_to_end, sql, superseded, try_read_only_on,
};
use crate::cli::{Format, NotifyBackupArgs};
use crate::deadline::Deadline;
use crate::exit::Exit;
use crate::io::config::{self, ConfigError, NotifySettings};
use crate::io::state;
use crate::model::event::BACKUP;
use crate::model::role::Role;
use crate::plan::fencing::{self, AfterAttempt, Attempt, Next, RetryPolicy};
use crate::report::{Severity, SyslogTarget};

/// How long notify-backup keeps trying to fence a server it cannot reach.
pub use crate::cli::DEFAULT_RETRY_FOR;

/// Entry point of `notify-backup`.
pub fn main() -> ExitCode {
    let args: NotifyBackupArgs = crate::cli::parse_or_exit(BACKUP);
    let reporter = Reporter::new(BACKUP, &args.report, &args.keepalived_args);
    let mut seen = Seen::default();
    let result = run(&args, &reporter.syslog, &mut seen);
    reporter.finish(&seen, result)
}

/// Resolve the settings, then fence once, starting the background retry when
/// [`fencing::after_attempt`] says so; or, as that retry, retry.
pub(crate) fn run(
    args: &NotifyBackupArgs,
    syslog: &SyslogTarget,
    seen: &mut Seen,
) -> Result<Outcome, NotifyError> {
    // Fencing needs only the connection, --timeout and the state dir: a bad guard setting
    // must not leave the node writable. It is reported after fencing ([`with_guard_error`]).
    let (settings, guard_error) = config::notify_settings_apart(
        BACKUP,
        &args.connection,
        &args.server,
        args.peer.as_deref(),
        &args.witness,
        None,
        Some(args.keep_sessions),
        std::env::var("MYSQL_PWD").ok(),
    )?;
    seen.state_dir = Some(settings.state_dir.clone());
    let result = fence_and_retry(args, &settings, syslog, seen);
    match guard_error {
        None => result,
        Some(error) => Err(with_guard_error(result, error)),
    }
}

/// The run's result when the guard's settings are bad (`error`): fenced (or superseded, or a
/// dry run) is exit 78 with the error; a failed fence keeps its own exit code (and retry).
fn with_guard_error(result: Result<Outcome, NotifyError>, error: ConfigError) -> NotifyError {
    match result {
        Ok(outcome) => NotifyError::DoneGuardSettings {
            done: outcome.message().to_string(),
            error,
        },
        Err(fence) => NotifyError::FailedGuardSettings {
            fence: Box::new(fence),
            error,
        },
    }
}

/// Fence once, starting the background retry when [`fencing::after_attempt`] says so; or, as
/// that retry, retry.
fn fence_and_retry(
    args: &NotifyBackupArgs,
    settings: &NotifySettings,
    syslog: &SyslogTarget,
    seen: &mut Seen,
) -> Result<Outcome, NotifyError> {
    let settings = settings.clone();
    if let (Some(seq), Some(until)) = (args.retry_seq, args.retry_until) {
        seen.background_retry = true;
        return retry(&settings, syslog, seq, until);
    }
    let seq = state::event_seq();
    let verbose = args.verbose && args.report.format == Format::Text;
    let (result, read_only) = fence_once(&settings, syslog, seq, args.dry_run, verbose);
    seen.read_only = read_only;
    let policy = RetryPolicy {
        dry_run: args.dry_run,
        no_retry: args.no_retry,
    };
    match (fencing::after_attempt(attempt(&result), &policy), result) {
        // A hung or stopped server must still be fenced when it comes back: nothing else
        // would do it (keepalived runs notify-backup once per transition).
        (AfterAttempt::StartRetry, Err(error)) => {
            let retry_for = args.retry_for.unwrap_or(DEFAULT_RETRY_FOR);
            let until = crate::io::state::unix_now() + retry_for.as_secs();
            let error = Box::new(error);
            Err(match spawn_retry(seq, until) {
                Ok(pid) => NotifyError::RetryStarted {
                    error,
                    pid,
                    retry_for,
                },
                Err(cause) => NotifyError::RetryNotStarted { error, cause },
            })
        }
        (_, result) => result,
    }
}

/// How an attempt to fence ended, as far as retrying goes: only a server that could not be
/// reached (or a lock that stayed busy), the failures of exit 1, is worth another try.
fn attempt(result: &Result<Outcome, NotifyError>) -> Attempt {
    match result {
        Ok(_) => Attempt::Done,
        Err(e) if e.exit() == Exit::Down => Attempt::CannotReach,
        Err(_) => Attempt::MustBeFixed,
    }
}

/// One attempt to record standby and fence, bounded by `--timeout`; the result and the
/// `read_only` it saw.
fn fence_once(
    settings: &NotifySettings,
    syslog: &SyslogTarget,
    seq: u64,
    dry_run: bool,
    verbose: bool,
) -> (Result<Outcome, NotifyError>, Option<bool>) {
    Context::new(BACKUP, syslog, settings, seq, dry_run, verbose)
        .run_within(settings.timeout, fence)
        .map(|(result, saw)| (result, saw.read_only))
        .unwrap_or_else(|| {
            let no_answer = NotifyError::FenceUnconfirmed {
                target: settings.connection.target(),
                timeout: settings.timeout,
            };
            (Err(no_answer), None)
        })
}

/// Record standby, then `read_only=ON`, all under the lock so that a promotion that is
/// finishing cannot interleave; in witness mode, then release the lease ([`release`]): after
/// fencing is confirmed, or when the local server is provably not running.
fn fence(ctx: &Context) -> Result<Outcome, NotifyError> {
    let deadline = Deadline::new(ctx.settings.timeout);
    let mut me = None;
    let result = fence_now(ctx, &deadline, &mut me);
    if ctx.settings.witness.is_some() && !ctx.dry_run {
        match (&result, me) {
            (Ok(Outcome::Fenced(_)), Some(me)) => release(ctx, me, &deadline, "after fencing"),
            (Err(NotifyError::Connect { error, .. }), _)
                if crate::plan::lease::provably_not_running(&error.failure.to_string()) =>
            {
                match state::lease_id(&ctx.settings.state_dir) {
                    Some(me) => release(
                        ctx,
                        me,
                        &deadline,
                        &format!("this server is not running: {}", error.failure),
                    ),
                    None => ctx.log(
                        Severity::Warning,
                        &format!(
                            "lease not released: this server is not running, and its server_id \
                             is not remembered in {} ({}): the lease expires by its TTL",
                            ctx.settings.state_dir.display(),
                            state::LEASE_ID_FILE
                        ),
                    ),
                }
            }
            _ => {}
        }
    }
    result
}

/// Witness mode: give back this server's (`me`) lease rows on every voter within what is
/// left of `deadline` (less 100 ms, for the report), and log what each voter did in one
/// syslog line (`why`: after fencing, or the server is not running). A voter that does not
/// answer is a warning, not a failure: its row expires by its TTL.
fn release(ctx: &Context, me: u32, deadline: &Deadline, why: &str) {
    let (Some(w), Some(peer)) = (&ctx.settings.witness, &ctx.settings.peer) else {
        return;
    };
    let lease = w.lease(me, &ctx.settings.connection, peer);
    let share = Deadline::new(
        deadline
            .remaining()
            .saturating_sub(Duration::from_millis(100)),
    );
    let outcomes = crate::io::lease::release(&lease, &share);
    ctx.step(&ctx.log_release(me, &outcomes, why));
}

/// [`fence`]'s steps within `deadline`; `me` gets this server's `@@server_id` once fenced
/// (witness mode only: the lease's claimant id to release).
fn fence_now(
    ctx: &Context,
    deadline: &Deadline,
    me: &mut Option<u32>,
) -> Result<Outcome, NotifyError> {
    let deadline = *deadline;
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
            e,
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
        return dry_run(ctx, &mut conn);
    }
    let keep = ctx.settings.keep_sessions;
    let mut ended: Vec<u64> = Vec::new();
    set_read_only_on(ctx, &mut conn, dialect, &deadline, &mut ended)?;
    read_back(ctx, &mut conn, true)?;
    clear_writer_since(ctx, &mut conn)?;
    if ctx.settings.witness.is_some() {
        *me = crate::io::mysql::first_value(&exec(&mut conn, sql::SERVER_ID)?)
            .and_then(|t| t.trim().parse().ok());
    }
    if keep {
        return Ok(Outcome::Fenced(
            "fenced: read_only=ON; client sessions kept (--keep-sessions)".into(),
        ));
    }
    end_the_rest(ctx, &mut conn, ended)
}

/// `--dry-run`: what fencing would do, changing nothing.
fn dry_run(ctx: &Context, conn: &mut mysql::Conn) -> Result<Outcome, NotifyError> {
    let sessions = if ctx.settings.keep_sessions {
        "; client sessions kept (--keep-sessions)".to_string()
    } else {
        let ids = sessions_to_end(conn, ctx.read_only.get() == Some(true))?;
        format!(
            " and end {} client session(s) that could still commit{}",
            ids.len(),
            list(&ids)
        )
    };
    Ok(Outcome::DryRun(format!(
        "would record standby and SET GLOBAL read_only=ON{sessions}"
    )))
}

/// Step 3: `SET GLOBAL read_only=ON` within `deadline`. It waits for the write statements
/// already running (MariaDB 10.11: for the backup lock each of them holds), and one waiting
/// on a row lock held by an idle transaction would commit before the SET is done. So the SET
/// waits a bounded time (`fencing::set_wait`): short writes finish by themselves; what still
/// blocks it then is ended (unless `--keep-sessions`; noted in `ended`), and the SET tried
/// again, all within --timeout.
fn set_read_only_on(
    ctx: &Context,
    conn: &mut mysql::Conn,
    dialect: crate::model::observation::Dialect,
    deadline: &Deadline,
    ended: &mut Vec<u64>,
) -> Result<(), NotifyError> {
    let keep = ctx.settings.keep_sessions;
    loop {
        let Some(wait) = fencing::set_wait(deadline.remaining()) else {
            return Err(NotifyError::FenceBlocked {
                timeout: ctx.settings.timeout,
                ended: ended.len(),
                keep_sessions: keep,
            });
        };
        if try_read_only_on(conn, dialect, wait)? {
            return Ok(());
        }
        ctx.step(&format!(
            "SET GLOBAL read_only=ON did not get its lock within {}",
            humantime::format_duration(wait)
        ));
        if !keep {
            let ids = sessions_to_end(conn, false)?;
            end(ctx, conn, &ids, ended)?;
        }
    }
}

/// Step 4: read_only refuses a statement when it starts: one that passed the check before,
/// or a transaction already open, could still commit where read_only does not refuse COMMIT
/// (MySQL, an account with READ_ONLY ADMIN). End those sessions too; `ended` already holds
/// those of step 3.
fn end_the_rest(
    ctx: &Context,
    conn: &mut mysql::Conn,
    mut ended: Vec<u64>,
) -> Result<Outcome, NotifyError> {
    let ids = sessions_to_end(conn, true)?;
    end(ctx, conn, &ids, &mut ended)?;
    if !ended.is_empty() {
        ctx.log(
            crate::report::Severity::Warning,
            &format!(
                "ended {} client session(s) that could still commit{}",
                ended.len(),
                list(&ended)
            ),
        );
    }
    Ok(Outcome::Fenced(format!(
        "fenced: read_only=ON; ended {} client session(s) that could still commit",
        ended.len()
    )))
}

/// End the sessions `ids` ([`end_sessions`]), noting each in `ended` once (a session ended
/// before the SET may still be listed, being killed, after it).
fn end(
    ctx: &Context,
    conn: &mut mysql::Conn,
    ids: &[u64],
    ended: &mut Vec<u64>,
) -> Result<(), NotifyError> {
    ctx.step(&format!(
        "{} client session(s) could still commit{}",
        ids.len(),
        list(ids)
    ));
    end_sessions(conn, ids)?;
    for id in ids {
        if !ended.contains(id) {
            ended.push(*id);
        }
    }
    Ok(())
}

/// ` (ids 12, 15)`, or nothing when there are none.
fn list(ids: &[u64]) -> String {
    if ids.is_empty() {
        return String::new();
    }
    let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
    format!(" (ids {})", ids.join(", "))
}

/// After fencing: clear this node's `writer_since` in its split-brain guard row
/// (`sql_log_bin=0`), so that the peer's check and notify-master read it as fenced
/// (docs/contract.md "Split brain"). Not fatal: the node is fenced, and a fenced node is no
/// writer to the check whatever its row says. A failure is a syslog warning, except a
/// missing guard table or grant when a peer is configured (the guard is on, so it is a
/// configuration error: exit 78 after fencing, naming packaging/split-brain.sql or
/// grants.sql). Without a peer the guard is off and the table is optional.
fn clear_writer_since(ctx: &Context, conn: &mut mysql::Conn) -> Result<(), NotifyError> {
    match exec(conn, sql::CLEAR_WRITER_SINCE) {
        Ok(_) => {
            ctx.step("cleared writer_since in keepalived_mysql.guard");
            Ok(())
        }
        Err(e @ (NotifyError::GuardTable { .. } | NotifyError::Privilege { .. }))
            if ctx.settings.peer.is_some() =>
        {
            Err(NotifyError::FencedGuardUncleared { error: Box::new(e) })
        }
        Err(e) => {
            ctx.log(
                Severity::Warning,
                &format!("fenced, but the split-brain guard's row was not cleared: {e}"),
            );
            Ok(())
        }
    }
}

/// Start this binary again, detached (own session, no stdio), as the retry of transition
/// `seq`. keepalived does not wait for notify scripts, and this process must exit within
/// its deadline, so the retry cannot be this process.
fn spawn_retry(seq: u64, until: u64) -> std::io::Result<u32> {
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
    // Its own session: keepalived's process group ends with the hook, the retry must not.
    crate::io::sys::setsid_on_spawn(&mut cmd);
    cmd.spawn().map(|c| c.id())
}

/// The background retry: once a second, until fenced, superseded by a newer transition, or
/// `until` passes ([`fencing::next`]). Each attempt is bounded like the first one. Reported
/// to syslog only ([`Seen::background_retry`]).
fn retry(
    settings: &NotifySettings,
    syslog: &SyslogTarget,
    seq: u64,
    until: u64,
) -> Result<Outcome, NotifyError> {
    // This process's last attempt; none yet.
    let mut last: Option<Result<Outcome, NotifyError>> = None;
    loop {
        // The first attempt, by the process that started this one, did not reach the server.
        let tried = last.as_ref().map_or(Attempt::CannotReach, attempt);
        match (
            fencing::next(tried, crate::io::state::unix_now() >= until),
            last,
        ) {
            (Next::Stop, Some(result)) => return result,
            (Next::GiveUp, _) => {
                return Err(NotifyError::GaveUp {
                    target: settings.connection.target(),
                });
            }
            // (`Stop` without an attempt of this process cannot happen: `tried` was
            // `CannotReach`.)
            (Next::TryAgain | Next::Stop, _) => {
                std::thread::sleep(Duration::from_secs(1));
                last = Some(fence_once(settings, syslog, seq, false, false).0);
            }
        }
    }
}
