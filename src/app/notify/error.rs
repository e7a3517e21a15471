//! Why a notify helper did not reach its goal, typed; the exit code of each failure is decided
//! in one place ([`NotifyError::exit`]).

use crate::exit::Exit;
use crate::io::config::ConfigError;
use crate::io::confpath::PathCause;
use crate::io::mysql::error_text;
use crate::io::state::{RoleFileError, StateError};
use crate::model::observation::ObserveError;
use crate::plan::guard::Refuse;
use crate::plan::promotion::NotGtid;
use std::path::PathBuf;
use std::time::Duration;

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
    /// Connecting failed because the server is at a connection limit
    /// ([`Refusal::Saturated`](crate::model::observation::Refusal::Saturated)): it is up but
    /// could not be reached (exit 1, so notify-backup retries); the message names what
    /// avoids it (as check-mysql's `saturation_fix` does: `CONNECTION ADMIN` passes
    /// `max_connections`, not the account's own limits of error 1226).
    #[error("{what}: {error}: {}", saturation_advice(error))]
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
    /// notify-backup: the client sessions that could still commit cannot be listed: the
    /// account lacks `PROCESS` (exit 78). `read_only_on`: whether `read_only=ON` was set
    /// already (it was not when a statement held the lock the SET needs). A fence that
    /// leaves in-flight writes is not the fence configured; `--keep-sessions` is the way to
    /// want that.
    #[error(
        "{}, but the client sessions that could still commit cannot be listed: {}: GRANT \
         PROCESS to this account (README, least privileges of the notify helpers), or pass \
         --keep-sessions",
        if *read_only_on { "read_only=ON" } else { "read_only not set (a statement holds the lock it needs)" },
        error_text(error)
    )]
    SessionsUnseen {
        read_only_on: bool,
        error: mysql::Error,
    },
    /// notify-backup: session `id`, which could still commit, cannot be ended: the account
    /// lacks `CONNECTION ADMIN`, which `KILL` of another account's session needs (exit 78).
    #[error(
        "session {id}, which could still commit, cannot be ended: {}: GRANT CONNECTION ADMIN \
         to this account (README, least privileges of the notify helpers), or pass \
         --keep-sessions",
        error_text(error)
    )]
    CannotEndSession { id: u64, error: mysql::Error },
    /// notify-backup: `SET GLOBAL read_only=ON` did not get its lock within `--timeout`
    /// (`timeout`), after `ended` client sessions that could still commit were ended
    /// (`keep_sessions`: none were, `--keep-sessions`). What still holds it cannot be seen in
    /// the processlist (exit 1: notify-backup retries).
    #[error(
        "SET GLOBAL read_only=ON did not get its lock within --timeout {}: fencing not \
         confirmed ({})",
        humantime::format_duration(*timeout),
        held_by(*ended, *keep_sessions)
    )]
    FenceBlocked {
        timeout: Duration,
        ended: usize,
        keep_sessions: bool,
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
    /// A guard statement on this server (the guard's row) failed because
    /// `keepalived_mysql.guard` is missing (1146, 1049) or this account may not use it (1142,
    /// 1143): exit 78, naming the file that fixes it.
    #[error(
        "{statement}: {}: run packaging/split-brain.sql on this server (table) and \
         packaging/grants.sql (grants on keepalived_mysql.guard)",
        error_text(error)
    )]
    GuardTable {
        statement: String,
        error: mysql::Error,
    },
    /// notify-backup with `--peer`: the node is fenced, but its guard row could not be
    /// cleared because the guard's table or grant is missing (`error`, a
    /// [`NotifyError::GuardTable`] or [`NotifyError::Privilege`]): exit 78, no retry.
    #[error("fenced: read_only=ON, but the split-brain guard's row was not cleared: {error}")]
    FencedGuardUncleared { error: Box<NotifyError> },
    /// notify-backup: the split-brain guard's settings are bad (`error`: a bad `--peer` or
    /// `--witness`, a witness without a peer, a lease timing that breaks its invariant), but
    /// fencing does not need them: it was done (`done`, the outcome's message: fenced,
    /// superseded, or a dry run), skipping what needs the bad value (the lease's release;
    /// with a bad peer a missing guard table is only a warning). Exit 78, no retry.
    #[error(
        "{done}; but the split-brain guard's settings are bad, so what needs them was \
         skipped: {error}"
    )]
    DoneGuardSettings { done: String, error: ConfigError },
    /// notify-backup: fencing failed (`fence`, whose exit code and retry this keeps), and the
    /// split-brain guard's settings are bad too (`error`).
    #[error("{fence}; the split-brain guard's settings are bad too: {error}")]
    FailedGuardSettings {
        fence: Box<NotifyError>,
        error: ConfigError,
    },
    /// notify-master with `--peer`: the guard refused to unfence (`plan::guard::Refuse`); the
    /// node stays read-only and `promotion-failed` is recorded. `peer` is its address,
    /// `error` what it answered (for the refusals that are about an error).
    #[error("{}", refusal_text(*refuse, peer, error.as_deref()))]
    GuardRefused {
        refuse: Refuse,
        peer: String,
        error: Option<String>,
    },
    /// notify-master with `--peer`: the peer's address reaches this very server (the same
    /// `server_id`; typically an option file or keepalived.conf copied from the other node):
    /// the guard would claim against itself (exit 78). The node stays read-only.
    #[error(
        "--peer {peer} is this server (server_id {server_id}): give the other node's address \
         (an option file or keepalived.conf copied from the other node?)"
    )]
    PeerIsSelf { peer: String, server_id: u32 },
    /// Witness mode: the lease cannot be used as configured (a voter without the guard table
    /// or a grant, a refused account, two voters that are one server, server_id 0): exit 78,
    /// naming the file that fixes it. The node stays read-only.
    #[error("witness lease: {0}")]
    Lease(crate::io::lease::LeaseError),
    /// Witness mode, notify-master: no majority of the lease because a voter refused with a
    /// configuration error (`error`, naming the voter and the file that fixes it): with its
    /// vote the others' grants would have been a majority (`plan::lease::claim_step`). Exit
    /// 78; the node stays read-only.
    #[error("witness lease: no majority without a misconfigured voter: {error}; {votes}")]
    LeaseMisconfigured {
        error: crate::io::lease::LeaseError,
        votes: String,
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
            | NotifyError::Privilege { .. }
            | NotifyError::SessionsUnseen { .. }
            | NotifyError::CannotEndSession { .. } => Exit::Config,
            NotifyError::Saturated { .. }
            | NotifyError::Connect { .. }
            | NotifyError::Query { .. }
            | NotifyError::ReadOnlyUnchanged { .. }
            | NotifyError::BadPosition(_)
            | NotifyError::WaitUnexpected { .. }
            | NotifyError::Hung { .. }
            | NotifyError::FenceUnconfirmed { .. }
            | NotifyError::FenceBlocked { .. }
            | NotifyError::GaveUp { .. } => Exit::Down,
            NotifyError::RetryStarted { error, .. }
            | NotifyError::RetryNotStarted { error, .. }
            | NotifyError::FencedGuardUncleared { error } => error.exit(),
            NotifyError::DoneGuardSettings { .. } => Exit::Config,
            NotifyError::FailedGuardSettings { fence, .. } => fence.exit(),
            NotifyError::CatchupTimedOut { .. } => Exit::Lag,
            NotifyError::GuardTable { .. }
            | NotifyError::Lease(_)
            | NotifyError::LeaseMisconfigured { .. }
            | NotifyError::PeerIsSelf { .. } => Exit::Config,
            NotifyError::GuardRefused { refuse, .. } => match refuse {
                Refuse::PeerWritable | Refuse::ClaimBusy | Refuse::LeaseNotHeld => Exit::SplitBrain,
                Refuse::PeerUnknown => Exit::Down,
                Refuse::GuardMissing | Refuse::AccountRefused => Exit::Config,
            },
        }
    }
}

/// What holds the lock of a [`NotifyError::FenceBlocked`] fence.
fn held_by(ended: usize, keep_sessions: bool) -> String {
    if keep_sessions {
        "a running write statement, LOCK TABLES, FLUSH TABLES WITH READ LOCK, BACKUP STAGE or \
         DDL holds it; client sessions kept: --keep-sessions"
            .to_string()
    } else {
        format!(
            "ended {ended} client session(s) that could still commit; LOCK TABLES, FLUSH \
             TABLES WITH READ LOCK, BACKUP STAGE or DDL in another session holds it"
        )
    }
}

/// The message of [`NotifyError::GuardRefused`]: one line that says why the node stays
/// read-only and what fixes it.
fn refusal_text(refuse: Refuse, peer: &str, error: Option<&str>) -> String {
    let error = error.unwrap_or("no error text");
    match refuse {
        Refuse::PeerWritable => format!(
            "peer {peer} is writable: split brain avoided; node stays read-only, refusal \
             recorded (check-mysql fails this node while the peer is writable)"
        ),
        Refuse::ClaimBusy => format!(
            "another promotion holds the claim GET_LOCK('{}') on this node or peer {peer}: \
             split brain avoided; node stays read-only, refusal recorded",
            crate::io::dialect::notify::CLAIM_NAME
        ),
        Refuse::LeaseNotHeld => format!(
            "no majority of the lease: split brain avoided; node stays read-only, refusal \
             recorded ({error})"
        ),
        Refuse::PeerUnknown => format!(
            "peer {peer} answered with an error, so it is not provably fenced: node stays \
             read-only: {error}"
        ),
        Refuse::GuardMissing => format!(
            "peer {peer}: {error}: the split-brain guard's table or grant is missing there: \
             run packaging/split-brain.sql on {peer} and packaging/grants.sql"
        ),
        Refuse::AccountRefused => format!(
            "peer {peer} refuses this account: {error}: create the account for this node's \
             address there (packaging/grants.sql, the peer-address accounts)"
        ),
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

/// What gets a notify helper past the connection limit in `error`.
fn saturation_advice(error: &ObserveError) -> &'static str {
    if error.failure.code() == Some(crate::model::observation::ER_USER_LIMIT_REACHED) {
        "this account hit its own limits: ALTER USER ... WITH MAX_USER_CONNECTIONS 0 \
         MAX_CONNECTIONS_PER_HOUR 0 MAX_QUERIES_PER_HOUR 0 (CONNECTION ADMIN does not pass them)"
    } else {
        "the server is at its connection limit: GRANT CONNECTION ADMIN to this account so that \
         it gets past it (README, least privileges of the notify helpers)"
    }
}
