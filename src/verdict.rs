//! The pure verdict: observation + role + policy → [`Verdict`] (docs/contract.md
//! "Verdicts of check-mysql"). No IO here, so every row of that table is a unit test.

use std::time::Duration;

use crate::exit::Exit;
use crate::gtid;
use crate::observe::{
    Dialect, Failure, IoState, Observation, ObserveError, PeerObservation, Refusal, ReplicaStatus,
};
use crate::reception::Received;
use crate::role::Role;

/// Operator-chosen thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub max_lag: Duration,
    pub allow_no_replica: bool,
    pub allow_read_only: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_lag: Duration::from_secs(120),
            allow_no_replica: false,
            allow_read_only: false,
        }
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Evidence only (`-v`).
    Note,
    /// Degraded: exit 0, but said and logged.
    Warn,
    /// Degraded and loud: exit 0, logged as an error (a writer with broken replication).
    Alert,
    /// The node must not hold the VIP.
    Fail,
}

/// What situation a finding describes: a stable code for JSON, monitoring and `--explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Situation {
    /// Cannot connect, query failed, deadline passed.
    Down,
    /// The local server refuses new connections at a limit (1040, 1203, 1226): alive, busy.
    Saturated,
    /// The local server refuses the check's own account or host (1045, 1044, 1130, 1129,
    /// 1227, 1820, ...): a configuration error.
    CheckAccount,
    /// No replication configured on the writer.
    Standalone,
    /// No replication configured on a standby.
    NoReplication,
    /// The peer cannot be reached (IO thread errno class, or `--peer` probe).
    PeerDown,
    /// `--peer` answered with an error (the check's account on the peer, its connection
    /// limit): the peer is up, but nothing can be compared with it.
    PeerRefused,
    /// IO thread connecting, no error yet.
    Connecting,
    /// IO thread stopped with a replication error (1045, 1236 purged, ...).
    IoError,
    /// IO thread cannot reach the peer (2003, 2013, ...) although the peer answers `--peer`:
    /// the replication path (MASTER_HOST, port, firewall) is broken, not the peer.
    ReplicationPath,
    /// The peer has written transactions this node has not received, and nothing has been
    /// received for a while: a stalled replication connection.
    Stalled,
    /// SQL thread stopped with an error (1062, ...).
    SqlError,
    /// GTID histories forked (1236 "not in the master's binlog", 1950, or `--peer`).
    Diverged,
    /// Replication stopped by an operator, no error.
    Stopped,
    /// Seconds_Behind_Master above `--max-lag`, or NULL.
    Lag,
    /// Behind or ahead of the peer by some transactions (evidence).
    PeerPosition,
    /// A writer with read_only=ON.
    ReadOnlyWriter,
    /// notify-master is catching up.
    Promoting,
    /// notify-master gave up.
    PromotionFailed,
    /// A standby that is not fenced.
    Unfenced,
}

/// One thing the check found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub level: Level,
    /// The class (`replication`, `lag`, `diverged`, `read-only`, `down`, or `ok` for notes).
    #[serde(serialize_with = "exit_name")]
    pub kind: Exit,
    pub situation: Situation,
    pub message: String,
}

fn exit_name<S: serde::Serializer>(e: &Exit, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(e.name())
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub role: Role,
    pub findings: Vec<Finding>,
    /// `io=Yes sql=Yes lag=0s gtid=0-1-42` — the state at a glance.
    pub summary: String,
}

/// Overall status word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// Which failure class decides the exit code when there are several, most urgent first.
const PRECEDENCE: [Exit; 6] = [
    Exit::Config,
    Exit::Down,
    Exit::Diverged,
    Exit::Replication,
    Exit::Lag,
    Exit::ReadOnly,
];

impl Verdict {
    /// The verdict when nothing could be observed and nothing is known about why.
    pub fn down(role: Role, message: impl Into<String>) -> Verdict {
        Verdict {
            role,
            findings: vec![Finding {
                level: Level::Fail,
                kind: Exit::Down,
                situation: Situation::Down,
                message: message.into(),
            }],
            summary: String::new(),
        }
    }

    /// The verdict when the local server could not be observed, by what came back
    /// ([`Failure`]): no answer is `down`; a server at its connection limit is alive, so a
    /// writer keeps the VIP (moving it would only move the load) while a standby, which
    /// cannot be judged, fails; a refused account is the check's configuration (exit 78).
    /// `user` is the check's account, for the fix in the message.
    pub fn unobserved(role: Role, error: &ObserveError, user: Option<&str>) -> Verdict {
        let (level, kind, situation, message) = match &error.failure {
            Failure::NoAnswer { .. } => {
                (Level::Fail, Exit::Down, Situation::Down, error.to_string())
            }
            Failure::Answered {
                refusal: Refusal::Saturated,
                ..
            } if role.holds_vip() => (
                Level::Warn,
                Exit::Ok,
                Situation::Saturated,
                format!(
                    "saturated: {error}: alive and busy, keeping the VIP (failing over would \
                     move the load, not end it)"
                ),
            ),
            Failure::Answered {
                refusal: Refusal::Saturated,
                ..
            } => (
                Level::Fail,
                Exit::Down,
                Situation::Saturated,
                format!("saturated: {error}: this standby cannot be observed"),
            ),
            Failure::Answered {
                refusal: Refusal::Account,
                code,
                ..
            } => (
                Level::Fail,
                Exit::Config,
                Situation::CheckAccount,
                format!(
                    "the server refuses the check's account: {error}: {}",
                    account_fix(*code, user)
                ),
            ),
            Failure::Answered { .. } => {
                (Level::Fail, Exit::Down, Situation::Down, error.to_string())
            }
        };
        Verdict {
            role,
            findings: vec![Finding {
                level,
                kind,
                situation,
                message,
            }],
            summary: String::new(),
        }
    }

    pub fn exit(&self) -> Exit {
        PRECEDENCE
            .into_iter()
            .find(|k| {
                self.findings
                    .iter()
                    .any(|f| f.level == Level::Fail && f.kind == *k)
            })
            .unwrap_or(Exit::Ok)
    }

    pub fn status(&self) -> Status {
        match self.findings.iter().map(|f| f.level).max() {
            Some(Level::Fail) => Status::Fail,
            Some(Level::Warn | Level::Alert) => Status::Warn,
            _ => Status::Ok,
        }
    }

    /// Findings worth a line to people (everything but notes).
    pub fn problems(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.level > Level::Note)
    }
}

/// IO errors that mean "the peer cannot be reached", not "replication is broken":
/// CR_CONNECTION_ERROR 2002, CR_CONN_HOST_ERROR 2003, CR_UNKNOWN_HOST 2005,
/// CR_SERVER_GONE_ERROR 2006, CR_SERVER_LOST 2013, CR_SERVER_LOST_EXTENDED 2055.
pub const PEER_DOWN_ERRNOS: [u32; 6] = [2002, 2003, 2005, 2006, 2013, 2055];
/// ER_MASTER_FATAL_ERROR_READING_BINLOG: the source cannot serve our position.
const ER_SOURCE_FATAL_READING_BINLOG: u32 = 1236;
/// ER_GTID_STRICT_OUT_OF_ORDER (MariaDB): an applied GTID would go backwards in its domain.
const ER_GTID_STRICT_OUT_OF_ORDER: u32 = 1950;

/// What a replication thread's error means: the GTID histories forked (1950, or a 1236 that
/// says so rather than, say, purged binlogs), or another replication failure.
fn thread_error_kind(errno: u32, msg: &str) -> Exit {
    let m = msg.to_ascii_lowercase();
    let diverged = errno == ER_GTID_STRICT_OUT_OF_ORDER
        || (errno == ER_SOURCE_FATAL_READING_BINLOG
            && !m.contains("purged")
            && (m.contains("gtid") || m.contains("not in the master's binlog")));
    if diverged {
        Exit::Diverged
    } else {
        Exit::Replication
    }
}

struct Judge<'a> {
    role: Role,
    policy: &'a Policy,
    findings: Vec<Finding>,
}

impl Judge<'_> {
    fn add(&mut self, level: Level, kind: Exit, situation: Situation, message: String) {
        self.findings.push(Finding {
            level,
            kind,
            situation,
            message,
        });
    }

    /// A problem that fails a standby but only degrades a node that holds the VIP: the VIP
    /// must stay somewhere, and moving it to a standby in a worse state helps nobody.
    fn standby_fails(&mut self, kind: Exit, situation: Situation, loud: bool, message: String) {
        let level = match (self.role.holds_vip(), loud) {
            (false, _) => Level::Fail,
            (true, true) => Level::Alert,
            (true, false) => Level::Warn,
        };
        self.add(level, kind, situation, message);
    }

    fn connection(&mut self, r: &ReplicaStatus, peer: &PeerObservation) {
        let who = if r.name.is_empty() {
            format!("replication from {}", r.source())
        } else {
            format!("replication '{}' from {}", r.name, r.source())
        };
        if r.last_sql_errno != 0 || (!r.sql_running && !r.last_sql_error.is_empty()) {
            let kind = thread_error_kind(r.last_sql_errno, &r.last_sql_error);
            let msg = format!(
                "{who}: SQL thread stopped with error {}: {}",
                r.last_sql_errno, r.last_sql_error
            );
            self.standby_fails(kind, situation_of(kind, Situation::SqlError), true, msg);
            return;
        }
        let peer_unreachable = matches!(peer, PeerObservation::Unreachable { .. });
        if r.io_running != IoState::Yes {
            let io = r.io_running.as_str();
            let transport = PEER_DOWN_ERRNOS.contains(&r.last_io_errno);
            if transport && peer.answered() {
                // The peer answers us, so the IO thread's "cannot reach" is about this node's
                // path to it (MASTER_HOST, port, firewall, a stalled connection).
                let msg = format!(
                    "{who}: IO thread {io} with error {}: {}; but the peer answers --peer: \
                     the replication path is broken, not the peer",
                    r.last_io_errno, r.last_io_error
                );
                self.standby_fails(Exit::Replication, Situation::ReplicationPath, true, msg);
            } else if peer_unreachable || transport {
                let why = match peer {
                    PeerObservation::Unreachable { error, .. } => error.clone(),
                    _ => format!("IO error {}: {}", r.last_io_errno, r.last_io_error),
                };
                self.add(
                    Level::Warn,
                    Exit::Ok,
                    Situation::PeerDown,
                    format!("peer down: {who}: IO thread {io} ({why})"),
                );
            } else if r.last_io_errno != 0 {
                let kind = thread_error_kind(r.last_io_errno, &r.last_io_error);
                let msg = format!(
                    "{who}: IO thread {io} with error {}: {}",
                    r.last_io_errno, r.last_io_error
                );
                self.standby_fails(kind, situation_of(kind, Situation::IoError), true, msg);
            } else if r.io_running == IoState::Connecting {
                self.add(
                    Level::Warn,
                    Exit::Ok,
                    Situation::Connecting,
                    format!("{who}: IO thread connecting"),
                );
            } else {
                let msg = format!("{who}: stopped (IO thread {io}, no error): STOP SLAVE?");
                self.standby_fails(Exit::Replication, Situation::Stopped, false, msg);
            }
            return;
        }
        if !r.sql_running {
            let msg = format!("{who}: SQL thread stopped without error: STOP SLAVE SQL_THREAD?");
            self.standby_fails(Exit::Replication, Situation::Stopped, false, msg);
            return;
        }
        let max = self.policy.max_lag.as_secs();
        match r.seconds_behind {
            Some(s) if s <= max => {}
            lag if self.role.holds_vip() => self.add(
                Level::Note,
                Exit::Lag,
                Situation::Lag,
                format!("{who}: lag {} (writer: not judged)", lag_text(lag)),
            ),
            lag => self.add(
                Level::Fail,
                Exit::Lag,
                Situation::Lag,
                format!("{who}: lag {} above --max-lag {max}s", lag_text(lag)),
            ),
        }
    }
}

/// A replication error that turned out to be a GTID fork is reported as such.
fn situation_of(kind: Exit, otherwise: Situation) -> Situation {
    if kind == Exit::Diverged {
        Situation::Diverged
    } else {
        otherwise
    }
}

/// What to run when the server refuses the check's own account with error `code`
/// (MariaDB/MySQL error reference; privileges from README "Least privileges").
pub fn account_fix(code: u16, user: Option<&str>) -> String {
    use crate::observe::*;
    let who = match user {
        Some(u) if !u.is_empty() => format!("'{u}'@'<host>'"),
        _ if code == ER_ACCESS_DENIED => {
            return "no user= in the option file (the check logged in with an empty user \
                    name): set user= and password= in its [client] group"
                .to_string();
        }
        _ => "the check's account".to_string(),
    };
    match code {
        ER_ACCESS_DENIED => format!(
            "check user= and password= in the option file, or create the account: CREATE USER \
             {who} IDENTIFIED BY '...'; GRANT SLAVE MONITOR ON *.* TO {who}"
        ),
        ER_HOST_NOT_PRIVILEGED => {
            format!(
                "no account for this host: CREATE USER {who} ...; GRANT SLAVE MONITOR ON *.* TO {who}"
            )
        }
        ER_HOST_IS_BLOCKED => {
            "this host is blocked after too many connection errors: run FLUSH HOSTS \
             (mariadb-admin flush-hosts), and raise max_connect_errors"
                .to_string()
        }
        ER_DBACCESS_DENIED => {
            format!("remove database= from the option file, or GRANT USAGE on it to {who}")
        }
        ER_SPECIFIC_ACCESS_DENIED => format!(
            "missing privilege: GRANT SLAVE MONITOR ON *.* TO {who} (MariaDB 10.5+; \
             REPLICATION CLIENT is not enough there; MySQL: REPLICATION CLIENT)"
        ),
        ER_MUST_CHANGE_PASSWORD | ER_MUST_CHANGE_PASSWORD_LOGIN => format!(
            "the password expired: ALTER USER {who} IDENTIFIED BY '...' PASSWORD EXPIRE NEVER, \
             and put it in the option file"
        ),
        ER_ACCOUNT_LOCKED_MYSQL | ER_ACCOUNT_LOCKED_MARIADB => {
            format!("the account is locked: ALTER USER {who} ACCOUNT UNLOCK")
        }
        ER_NOT_SUPPORTED_AUTH_MODE => format!(
            "use an authentication plugin the check speaks (mysql_native_password; \
             caching_sha2_password needs TLS): ALTER USER {who} IDENTIFIED WITH ..."
        ),
        _ => format!("fix the grants of {who} (README, least privileges)"),
    }
}

fn lag_text(lag: Option<u64>) -> String {
    lag.map_or("NULL (unknown)".to_string(), |s| format!("{s}s"))
}

/// Compare local and peer GTID histories, if the peer was reached and both are parseable.
fn peer_comparison(obs: &Observation, peer: &PeerObservation) -> Option<gtid::PeerComparison> {
    let PeerObservation::Reached { dialect, gtid, .. } = peer else {
        return None;
    };
    match (obs.dialect, dialect) {
        (Dialect::MariaDb, Dialect::MariaDb) => {
            let local = gtid::parse_mariadb(obs.gtid.current_pos.as_deref()?).ok()?;
            let state = gtid::parse_mariadb(gtid.binlog_state.as_deref()?).ok()?;
            Some(gtid::compare_mariadb(&local, &state))
        }
        (Dialect::MySql, Dialect::MySql) => {
            let local = gtid::parse_mysql(obs.gtid.executed.as_deref()?).ok()?;
            let theirs = gtid::parse_mysql(gtid.executed.as_deref()?).ok()?;
            Some(gtid::compare_mysql(&local, &theirs))
        }
        _ => None,
    }
}

fn summary(obs: &Observation) -> String {
    let mut parts = Vec::new();
    for r in &obs.replicas {
        let prefix = if r.name.is_empty() {
            String::new()
        } else {
            format!("[{}] ", r.name)
        };
        parts.push(format!(
            "{prefix}io={} sql={} lag={}",
            r.io_running.as_str(),
            if r.sql_running { "Yes" } else { "No" },
            r.seconds_behind
                .map_or("NULL".to_string(), |s| format!("{s}s"))
        ));
    }
    if obs.replicas.is_empty() {
        parts.push("replication=none".to_string());
    }
    parts.push(format!("gtid={}", obs.gtid.display()));
    if obs.read_only {
        parts.push("read_only=ON".to_string());
    }
    parts.join(" ")
}

/// Judge one observation for `role` (docs/contract.md "Verdicts of check-mysql").
///
/// `received` is what the state dir remembers of reception ([`crate::reception::track`]):
/// a received position that has stood still for longer than `--max-lag` while the peer is
/// ahead fails a standby with `lag`, although `Seconds_Behind_Master` may say 0.
pub fn verdict(
    obs: &Observation,
    peer: &PeerObservation,
    role: Role,
    policy: &Policy,
    received: Received,
) -> Verdict {
    let mut j = Judge {
        role,
        policy,
        findings: Vec::new(),
    };

    if obs.replicas.is_empty() {
        if role.holds_vip() {
            j.add(
                Level::Note,
                Exit::Ok,
                Situation::Standalone,
                "standalone: no replication configured".into(),
            );
        } else if policy.allow_no_replica {
            j.add(
                Level::Warn,
                Exit::Ok,
                Situation::NoReplication,
                "no replication configured (allowed by --allow-no-replica)".into(),
            );
        } else {
            j.add(
                Level::Fail,
                Exit::Replication,
                Situation::NoReplication,
                "no replication configured: nothing keeps this standby in sync \
                 (--allow-no-replica to accept)"
                    .into(),
            );
        }
    }
    for r in &obs.replicas {
        j.connection(r, peer);
    }

    if let Some(cmp) = peer_comparison(obs, peer) {
        if cmp.is_diverged() {
            let msg = format!(
                "GTID diverged from peer: {} here but not on the peer, which has moved past it",
                cmp.diverged.join(",")
            );
            j.standby_fails(Exit::Diverged, Situation::Diverged, true, msg);
        } else if cmp.behind > 0 {
            j.add(
                Level::Note,
                Exit::Ok,
                Situation::PeerPosition,
                format!("behind the peer by {} transaction(s)", cmp.behind),
            );
        } else if cmp.ahead > 0 {
            j.add(
                Level::Note,
                Exit::Ok,
                Situation::PeerPosition,
                format!("ahead of the peer by {} transaction(s)", cmp.ahead),
            );
        }
    }
    if let Received::Behind {
        transactions,
        unchanged_for: Some(still),
    } = received
    {
        let still_text = humantime::format_duration(Duration::from_secs(still.as_secs()));
        if still > policy.max_lag {
            let msg = format!(
                "received nothing for {still_text} while the peer is {transactions} \
                 transaction(s) ahead (replication connection stalled?)"
            );
            if role.holds_vip() {
                j.add(
                    Level::Warn,
                    Exit::Lag,
                    Situation::Stalled,
                    format!("{msg} (writer: not judged)"),
                );
            } else {
                j.add(Level::Fail, Exit::Lag, Situation::Stalled, msg);
            }
        } else {
            j.add(
                Level::Warn,
                Exit::Ok,
                Situation::PeerPosition,
                format!(
                    "behind the peer by {transactions} transaction(s), nothing received for \
                     {still_text}"
                ),
            );
        }
    }
    if let PeerObservation::Refused { address, error, .. } = peer {
        // Up (so not "peer down"), but what --peer exists for is off: say so.
        j.add(
            Level::Warn,
            Exit::Ok,
            Situation::PeerRefused,
            format!(
                "peer {address} is up but refused the probe ({error}): no GTID comparison, \
                 no stall detection"
            ),
        );
    }
    if let PeerObservation::Unreachable { address, error } = peer {
        j.add(
            Level::Warn,
            Exit::Ok,
            Situation::PeerDown,
            format!("peer down: {address} unreachable ({error})"),
        );
    }

    let read_only = obs.read_only || obs.super_read_only == Some(true);
    match role {
        Role::Writer if read_only && policy.allow_read_only => j.add(
            Level::Warn,
            Exit::ReadOnly,
            Situation::ReadOnlyWriter,
            "read_only=ON on the writer (allowed by --allow-read-only)".into(),
        ),
        Role::Writer if read_only => j.add(
            Level::Fail,
            Exit::ReadOnly,
            Situation::ReadOnlyWriter,
            "read_only=ON: the writer cannot take writes (--allow-read-only to accept)".into(),
        ),
        Role::Promoting if read_only => j.add(
            Level::Warn,
            Exit::Ok,
            Situation::Promoting,
            "promoting, read-only until caught up".into(),
        ),
        Role::Promoting => j.add(
            Level::Warn,
            Exit::Ok,
            Situation::Promoting,
            "promoting".into(),
        ),
        Role::PromotionFailed => j.add(
            Level::Fail,
            Exit::ReadOnly,
            Situation::PromotionFailed,
            "promotion gave up (catch-up timeout): this node must not hold the VIP".into(),
        ),
        Role::Standby if !read_only => j.add(
            Level::Note,
            Exit::Ok,
            Situation::Unfenced,
            "standby is not fenced (read_only=OFF)".into(),
        ),
        _ => {}
    }

    // One "peer down" line is enough when both the IO thread and the probe say so.
    let mut findings: Vec<Finding> = Vec::new();
    for f in j.findings {
        let dup = f.situation == Situation::PeerDown
            && findings.iter().any(|g| g.situation == Situation::PeerDown);
        if !dup {
            findings.push(f);
        }
    }
    Verdict {
        role,
        findings,
        summary: summary(obs),
    }
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
