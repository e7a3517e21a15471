//! `notify-master`: catch up on what was received, then take writes (docs/contract.md
//! "notify-master"). The steps are IO; what happens after the wait is
//! `plan::promotion::decide`. With `--peer`, the split-brain guard ([`guard`],
//! `plan::guard`) claims the promotion on both servers, refuses while the peer is writable,
//! and catches up to what the peer has written too.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use mysql::Conn;

use crate::app::notify::{
    self, Context, NotifyError, Outcome, Reporter, Seen, connect_error, dialect_of, exec,
    set_read_only, sql, superseded,
};
use crate::cli::{Format, NotifyMasterArgs};
use crate::deadline::Deadline;
use crate::io::config::{self, NotifySettings};
use crate::io::state;
use crate::model::event::MASTER;
use crate::model::observation::Dialect;
use crate::model::role::{Role, RoleRecord};
use crate::plan::promotion::{self, Decision, Facts, GiveUp, Policy, Wait};
use crate::report::{Severity, SyslogTarget};

mod guard;
mod lease;

/// JSON `guard` of a promotion with `--peer` whose peer gave no answer: promoted without the
/// split-brain guard (the two-node limit).
pub const GUARD_PEER_UNREACHABLE: &str = "peer-unreachable";
/// JSON `guard` of a promotion with `--peer` that saw the peer fenced under the claim.
pub const GUARD_PEER_FENCED: &str = "peer-fenced";

/// Entry point of `notify-master`.
pub fn main() -> ExitCode {
    let args: NotifyMasterArgs = crate::cli::parse_or_exit(MASTER);
    let reporter = Reporter::new(MASTER, &args.report, &args.keepalived_args);
    let mut seen = Seen::default();
    let result = run(&args, &reporter.syslog, &mut seen);
    reporter.finish(&seen, result)
}

/// How long a promotion may take in all ([`promotion::promotion_limit`]); in witness mode
/// 3 × `--timeout` more: the last claim round may start just before the catch-up budget
/// ends, the renewal before unfencing and the give-back of a failed claim each take a round.
fn promotion_limit(settings: &NotifySettings) -> Duration {
    let limit = promotion::promotion_limit(
        settings.timeout,
        settings.catchup_timeout,
        settings.peer.is_some(),
    );
    match settings.witness {
        Some(_) => limit + 3 * settings.timeout,
        None => limit,
    }
}

/// Resolve the settings, then promote within [`promotion_limit`].
pub(crate) fn run(
    args: &NotifyMasterArgs,
    syslog: &SyslogTarget,
    seen: &mut Seen,
) -> Result<Outcome, NotifyError> {
    let settings = config::notify_settings(
        MASTER,
        &args.connection,
        &args.server,
        args.peer.as_deref(),
        &args.witness,
        Some(args),
        None,
        std::env::var("MYSQL_PWD").ok(),
    )?;
    seen.state_dir = Some(settings.state_dir.clone());
    let seq = state::event_seq();
    let limit = promotion_limit(&settings);
    let verbose = args.verbose && args.report.format == Format::Text;
    let ctx = || Context::new(MASTER, syslog, &settings, seq, args.dry_run, verbose);
    match ctx().run_within(limit, promote) {
        Some((result, saw)) => {
            seen.read_only = saw.read_only;
            seen.guard = saw.guard;
            result
        }
        None => {
            // Do not leave the node "promoting" forever: check-mysql passes that state.
            let short = Deadline::new(Duration::from_millis(200));
            if let Ok(_lock) = state::lock(&settings.state_dir, &short) {
                let _ = ctx().record(Role::PromotionFailed);
            }
            Err(NotifyError::Hung { limit })
        }
    }
}

/// notify-master's steps ([`steps`]); in witness mode, a lease claimed by a promotion that
/// did not leave the node writable (`read_only=ON` read back: refused, caught-up timeout,
/// superseded, failed) is given back, so that the other node need not wait for its TTL.
/// Never while the node may be writable: then the check renews, and notify-backup releases
/// after fencing.
fn promote(ctx: &Context) -> Result<Outcome, NotifyError> {
    let mut leased = None;
    let result = steps(ctx, &mut leased);
    if let Some(l) = &leased
        && !matches!(result, Ok(Outcome::Writer(_)))
        && ctx.read_only.get() == Some(true)
    {
        l.give_back(ctx);
    }
    result
}

/// notify-master's steps (docs/contract.md "notify-master"); what happens after the wait is
/// [`promotion::decide`], carried out by [`carry_out`]. `leased`: the witness lease, once
/// claimed.
fn steps(ctx: &Context, leased: &mut Option<lease::Leased>) -> Result<Outcome, NotifyError> {
    // 1. Record "promoting".
    if let Some(newer) = begin(ctx)? {
        return Ok(superseded(&newer));
    }
    // 2. Connect, read what was received.
    let (mut conn, dialect, positions) =
        connect_for_catch_up(ctx).map_err(|e| fail_promotion(ctx, e))?;
    let catchup = Deadline::new(ctx.settings.catchup_timeout);
    let started = Instant::now();
    // With --peer: connect to it, claim, probe it under the claim (may refuse here).
    let mut guarded = match &ctx.settings.peer {
        None => None,
        Some(spec) => match guard::start(ctx, &mut conn, spec, &catchup) {
            Ok(g) => Some(g),
            Err(stop) => return stop.map_err(|e| fail_unless_recorded(ctx, e)),
        },
    };
    // Witness mode: a majority of the lease, or stay fenced.
    if let Some(w) = &ctx.settings.witness {
        match lease::claim(ctx, &mut conn, w, &catchup) {
            Ok(l) => *leased = l,
            Err(stop) => return stop.map_err(|e| fail_unless_recorded(ctx, e)),
        }
    }
    // 3. Catch up, bounded by --catchup-timeout: what was received, then what the peer has
    // written.
    let mut wait = catch_up(ctx, &mut conn, dialect, &positions, &catchup)
        .map_err(|e| fail_promotion(ctx, e))?;
    if let (Wait::CaughtUp, Some(g)) = (&wait, &guarded) {
        wait = g
            .catch_up(ctx, &mut conn, dialect, &catchup)
            .map_err(|e| fail_promotion(ctx, e))?;
    }
    let waited = Duration::from_millis(started.elapsed().as_millis() as u64);
    // The peer's read_only once more, right before unfencing, still under the claim (a
    // refusal takes the state dir's lock itself).
    if let (Some(g), Wait::CaughtUp | Wait::TimedOut) = (guarded.as_mut(), &wait) {
        g.reprobe(ctx)?;
    }
    // Witness mode: the lease must last past the unfence; renewed here if it may not.
    if let (Some(l), Wait::CaughtUp | Wait::TimedOut) = (leased.as_mut(), &wait) {
        l.ensure(ctx).map_err(|e| fail_unless_recorded(ctx, e))?;
    }
    // 4. Under the lock again, only if no newer transition arrived meanwhile: decide.
    let (_lock, wait) = recheck(ctx, wait)?;
    let policy = Policy {
        on_catchup_timeout: ctx.settings.on_catchup_timeout,
        keep_read_only: ctx.settings.keep_read_only,
        dry_run: ctx.dry_run,
    };
    let decision = promotion::decide(Facts { wait }, &policy);
    // 5. Unfence, or not.
    // What the wait was for, for the messages: the peer's position too.
    let mut shown = positions.clone();
    if let Some(g) = &guarded
        && let Some(t) = &g.target
    {
        shown.push(format!("{t} written by peer {}", g.peer));
    }
    let done = Done {
        waited,
        positions: &shown,
        peer: guarded.as_ref().map(|g| g.peer.as_str()),
        alone: guarded.as_ref().is_some_and(|g| g.alone),
    };
    carry_out(ctx, &mut conn, dialect, decision, &done)
}

/// Step 1: record `promoting` under the lock, so that check-mysql passes the fenced node
/// meanwhile and keepalived does not take the VIP away mid-promotion. `Some`: superseded.
fn begin(ctx: &Context) -> Result<Option<RoleRecord>, NotifyError> {
    let _lock = ctx.lock()?;
    // Past this, a promotion still recorded is treated as failed by check-mysql.
    let until =
        promotion::promoting_until(crate::io::state::unix_now(), promotion_limit(&ctx.settings));
    ctx.record_until(Role::Promoting, Some(until))
}

/// A guard refusal has recorded itself; any other failure is recorded as failed here.
fn fail_unless_recorded(ctx: &Context, e: NotifyError) -> NotifyError {
    match e {
        NotifyError::GuardRefused { .. } => e,
        e => fail_promotion(ctx, e),
    }
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
        .map_err(|e| connect_error("cannot promote", e))?;
    let dialect = dialect_of(ctx, &mut conn)?;
    let replicas = notify::replicas(&mut conn, dialect)?;
    let positions = promotion::positions(dialect, &replicas)?;
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

/// Step 3: wait (in slices, to notice a newer transition) until every received transaction
/// has been applied, or `catchup` passes.
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
            let sets = exec(conn, &sql::wait_for(dialect, pos, secs))?;
            let answer = crate::io::mysql::first_value(&sets);
            match sql::waited(dialect, answer.as_deref()) {
                sql::Waited::Applied => break,
                sql::Waited::NotYet => {}
                sql::Waited::Unexpected => {
                    return Err(NotifyError::WaitUnexpected {
                        position: pos.clone(),
                        answer,
                    });
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

/// Step 4: take the lock again (held until the run ends); a newer transition recorded
/// meanwhile supersedes the wait.
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

/// What the wait took and was for, for the messages.
struct Done<'a> {
    waited: Duration,
    positions: &'a [String],
    /// The peer, with `--peer`: the guard's row and the refusal marker are kept up to date.
    peer: Option<&'a str>,
    /// The peer gave no answer: promoted without the split-brain guard (two-node limit).
    alone: bool,
}

impl Done<'_> {
    /// What the catch-up wait was for, when it ran out.
    fn not_caught_up(&self, ctx: &Context) -> String {
        notify::not_caught_up(ctx.settings.catchup_timeout, self.positions)
    }

    /// The loud error of `--on-catchup-timeout promote`.
    fn promoting_anyway(&self, ctx: &Context) {
        ctx.log(
            Severity::Err,
            &format!(
                "{}: promoting anyway (--on-catchup-timeout promote); transactions still in \
                 the relay log will be applied after new writes",
                self.not_caught_up(ctx)
            ),
        );
    }
}

/// After unfencing with `--peer`: record since when this node is writable in its guard
/// row (`sql_log_bin=0`: the row is per server) and delete the refusal marker. The node is
/// writable already, so a failure here does not undo that: it is logged as an error and
/// said in the line (`""`: done). Without the row, check-mysql's yield rule counts this
/// node as the later writer (docs/contract.md "Split brain"): the safe side.
fn writer_since(ctx: &Context, conn: &mut Conn) -> String {
    if let Err(e) = state::set_refusal(&ctx.settings.state_dir, None) {
        ctx.log(
            Severity::Err,
            &format!(
                "cannot delete the refusal marker {}: {e}",
                state::REFUSAL_FILE
            ),
        );
    }
    match notify::exec(conn, sql::SET_WRITER_SINCE) {
        Ok(_) => String::new(),
        Err(e) => {
            ctx.log(
                Severity::Err,
                &format!("promoted, but the split-brain guard's row was not updated: {e}"),
            );
            format!("; guard row NOT updated: {e}")
        }
    }
}

/// Step 5: carry out the decision, under the lock [`recheck`] took.
fn carry_out(
    ctx: &Context,
    conn: &mut Conn,
    dialect: Dialect,
    decision: Decision,
    done: &Done,
) -> Result<Outcome, NotifyError> {
    let waited = humantime::format_duration(done.waited);
    match decision {
        Decision::Superseded(newer) => Ok(superseded(&newer)),
        Decision::StayFenced { because, record } => {
            if let Some(role) = record {
                ctx.record(role)?;
            }
            Err(match because {
                GiveUp::CatchupTimedOut => NotifyError::CatchupTimedOut {
                    limit: ctx.settings.catchup_timeout,
                    positions: done.positions.to_vec(),
                },
            })
        }
        Decision::Report {
            set_writable,
            caught_up,
        } => {
            if !caught_up {
                done.promoting_anyway(ctx);
            }
            let set = if set_writable {
                "SET GLOBAL read_only=OFF and "
            } else {
                ""
            };
            Ok(Outcome::DryRun(format!(
                "caught up: {caught_up} after {waited}; would {set}record writer"
            )))
        }
        Decision::Unfence {
            set_writable,
            record,
            caught_up,
        } => unfence(ctx, conn, dialect, (set_writable, record, caught_up), done),
    }
}

/// Step 5 for [`Decision::Unfence`]: `read_only=OFF` (unless `--keep-read-only`), the guard
/// row's `writer_since`, the role; the line says how, and whether the guard could see the peer.
fn unfence(
    ctx: &Context,
    conn: &mut Conn,
    dialect: Dialect,
    (set_writable, record, caught_up): (bool, Role, bool),
    done: &Done,
) -> Result<Outcome, NotifyError> {
    let waited = humantime::format_duration(done.waited);
    if !caught_up {
        done.promoting_anyway(ctx);
    }
    if set_writable && let Err(e) = set_read_only(ctx, conn, dialect, false) {
        // A definite failure (a missing privilege, read_only that did not change): record
        // it now rather than leave `promoting` until its deadline, during which check-mysql
        // would pass a node that cannot take writes. The lock taken for step 4 is still held.
        let _ = ctx.record(Role::PromotionFailed);
        return Err(e);
    }
    let guard_row = if done.peer.is_some() {
        writer_since(ctx, conn)
    } else {
        String::new()
    };
    ctx.record(record)?;
    // Promoting without the guard must show: in the line and in JSON `guard`.
    let alone = match done.peer {
        Some(peer) if done.alone => {
            ctx.guard.set(Some(GUARD_PEER_UNREACHABLE));
            if ctx.settings.witness.is_some() {
                format!(" (peer {peer} gave no answer: promoted under the witness lease)")
            } else {
                format!(" (peer {peer} gave no answer: promoted without the split-brain guard)")
            }
        }
        Some(_) => {
            ctx.guard.set(Some(GUARD_PEER_FENCED));
            String::new()
        }
        None => String::new(),
    };
    Ok(Outcome::Writer(format!(
        "promoted{} after {waited} of catch-up{}{alone}{guard_row}",
        if set_writable {
            ": read_only=OFF"
        } else {
            " (read_only left as it is)"
        },
        if caught_up { "" } else { " (NOT caught up)" }
    )))
}
