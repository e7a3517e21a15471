//! The pure verdict: observation + role + policy → [`Verdict`] (docs/contract.md
//! "Verdicts of check-mysql"). No IO here, so every row of that table is a unit test.

use std::time::Duration;

use crate::model::gtid;
use crate::model::observation::{
    Dialect, IoState, Observation, PeerObservation, Refusal, ReplicaStatus,
};
use crate::model::role::Role;
use reception::Received;

mod finding;
pub mod reception;
pub mod split;
mod unobserved;

pub use finding::{Finding, Level, Policy, Reason, Situation, Status, Verdict};

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
fn thread_error_kind(errno: u32, msg: &str) -> Reason {
    let m = msg.to_ascii_lowercase();
    let diverged = errno == ER_GTID_STRICT_OUT_OF_ORDER
        || (errno == ER_SOURCE_FATAL_READING_BINLOG
            && !m.contains("purged")
            && (m.contains("gtid") || m.contains("not in the master's binlog")));
    if diverged {
        Reason::Diverged
    } else {
        Reason::Replication
    }
}

struct Judge<'a> {
    role: Role,
    policy: &'a Policy,
    findings: Vec<Finding>,
}

impl Judge<'_> {
    fn add(&mut self, level: Level, kind: Option<Reason>, situation: Situation, message: String) {
        self.findings.push(Finding {
            level,
            kind,
            situation,
            message,
        });
    }

    /// A problem that fails a standby but only degrades a node that holds the VIP: the VIP
    /// must stay somewhere, and moving it to a standby in a worse state helps nobody.
    fn standby_fails(&mut self, kind: Reason, situation: Situation, loud: bool, message: String) {
        let level = match (self.role.holds_vip(), loud) {
            (false, _) => Level::Fail,
            (true, true) => Level::Alert,
            (true, false) => Level::Warn,
        };
        self.add(level, Some(kind), situation, message);
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
        if r.io_running != IoState::Yes {
            self.io_thread_down(r, peer, &who);
            return;
        }
        if !r.sql_running {
            let msg = format!("{who}: SQL thread stopped without error: STOP SLAVE SQL_THREAD?");
            self.standby_fails(Reason::Replication, Situation::Stopped, false, msg);
            return;
        }
        let max = self.policy.max_lag.as_secs();
        match r.seconds_behind {
            Some(s) if s <= max => {}
            lag if self.role.holds_vip() => self.add(
                Level::Note,
                Some(Reason::Lag),
                Situation::Lag,
                format!("{who}: lag {} (writer: not judged)", lag_text(lag)),
            ),
            lag => self.add(
                Level::Fail,
                Some(Reason::Lag),
                Situation::Lag,
                format!("{who}: lag {} above --max-lag {max}s", lag_text(lag)),
            ),
        }
    }

    /// An IO thread that is not running: peer down, broken path, replication error,
    /// connecting, or stopped by an operator (docs/contract.md "Verdicts of check-mysql").
    fn io_thread_down(&mut self, r: &ReplicaStatus, peer: &PeerObservation, who: &str) {
        let peer_unreachable = matches!(peer, PeerObservation::Unreachable { .. });
        let io = r.io_running.as_str();
        let transport = PEER_DOWN_ERRNOS.contains(&r.last_io_errno);
        let reconnecting = {
            let e = r.last_io_error.to_ascii_lowercase();
            e.contains("error reconnecting to master") || e.contains("error reconnecting to source")
        };
        if transport && peer.answered() && reconnecting {
            // It was connected and lost the peer (a restart): the server retries every
            // master_connect_retry seconds. If it never gets through, the stall rule fails
            // the standby once the peer writes what this node cannot receive.
            self.add(
                Level::Warn,
                None,
                Situation::Connecting,
                format!(
                    "{who}: IO thread {io}, reconnecting after error {}: {} (the peer answers \
                     --peer; retried every master_connect_retry)",
                    r.last_io_errno, r.last_io_error
                ),
            );
        } else if transport && peer.answered() {
            // The peer answers us, so the IO thread's "cannot reach" is about this node's
            // path to it (MASTER_HOST, port, firewall, a stalled connection).
            let msg = format!(
                "{who}: IO thread {io} with error {}: {}; but the peer answers --peer: \
                 the replication path is broken, not the peer",
                r.last_io_errno, r.last_io_error
            );
            self.standby_fails(Reason::Replication, Situation::ReplicationPath, true, msg);
        } else if peer_unreachable || transport {
            let io_error = if r.last_io_errno != 0 {
                format!("IO error {}: {}", r.last_io_errno, r.last_io_error)
            } else {
                "no IO error".to_string()
            };
            let why = match peer {
                PeerObservation::Unreachable { address, error } => {
                    format!("{io_error}; --peer {address}: {error}")
                }
                _ => io_error,
            };
            self.add(
                Level::Warn,
                None,
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
                None,
                Situation::Connecting,
                format!("{who}: IO thread connecting"),
            );
        } else {
            let msg = format!("{who}: stopped (IO thread {io}, no error): STOP SLAVE?");
            self.standby_fails(Reason::Replication, Situation::Stopped, false, msg);
        }
    }
}

/// A replication error that turned out to be a GTID fork is reported as such.
fn situation_of(kind: Reason, otherwise: Situation) -> Situation {
    if kind == Reason::Diverged {
        Situation::Diverged
    } else {
        otherwise
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

impl Judge<'_> {
    /// A node with no replication configured: fine for a writer, not for a standby.
    fn no_replication(&mut self) {
        if self.role.holds_vip() {
            self.add(
                Level::Note,
                None,
                Situation::Standalone,
                "standalone: no replication configured".into(),
            );
        } else if self.policy.allow_no_replica {
            self.add(
                Level::Warn,
                None,
                Situation::NoReplication,
                "no replication configured (allowed by --allow-no-replica)".into(),
            );
        } else {
            self.add(
                Level::Fail,
                Some(Reason::Replication),
                Situation::NoReplication,
                "no replication configured: nothing keeps this standby in sync \
                 (--allow-no-replica to accept)"
                    .into(),
            );
        }
    }

    /// GTID histories against the peer's: forked, behind or ahead.
    fn compare_with_peer(&mut self, obs: &Observation, peer: &PeerObservation) {
        if let Some(cmp) = peer_comparison(obs, peer) {
            if cmp.is_diverged() {
                let msg = format!(
                    "GTID diverged from peer: {} here but not on the peer, which has moved past it",
                    cmp.diverged.join(",")
                );
                self.standby_fails(Reason::Diverged, Situation::Diverged, true, msg);
            } else if cmp.behind > 0 {
                self.add(
                    Level::Note,
                    None,
                    Situation::PeerPosition,
                    format!("behind the peer by {} transaction(s)", cmp.behind),
                );
            } else if cmp.ahead > 0 {
                self.add(
                    Level::Note,
                    None,
                    Situation::PeerPosition,
                    format!("ahead of the peer by {} transaction(s)", cmp.ahead),
                );
            }
        }
    }

    /// What was received against what the peer wrote, remembered across runs ([`reception::track`]).
    fn reception(&mut self, received: Received) {
        if let Received::Behind {
            transactions,
            unchanged_for: Some(still),
        } = received
        {
            let still_text = humantime::format_duration(Duration::from_secs(still.as_secs()));
            if still > self.policy.max_lag {
                let msg = format!(
                    "received nothing for {still_text} while the peer is {transactions} \
                     transaction(s) ahead (replication connection stalled?)"
                );
                if self.role.holds_vip() {
                    self.add(
                        Level::Warn,
                        Some(Reason::Lag),
                        Situation::Stalled,
                        format!("{msg} (writer: not judged)"),
                    );
                } else {
                    self.add(Level::Fail, Some(Reason::Lag), Situation::Stalled, msg);
                }
            } else {
                self.add(
                    Level::Warn,
                    None,
                    Situation::PeerPosition,
                    format!(
                        "behind the peer by {transactions} transaction(s), nothing received for \
                         {still_text}"
                    ),
                );
            }
        }
    }

    /// What the `--peer` probe itself says: refused (up, nothing to compare) or no answer.
    fn peer_answer(&mut self, peer: &PeerObservation) {
        if let PeerObservation::Refused {
            address,
            error,
            refusal,
            ..
        } = peer
        {
            // Up (so not "peer down"), but what --peer exists for is off: say so, and why.
            let fix = match refusal {
                Refusal::Saturated => {
                    "the peer is at a connection limit: GRANT CONNECTION ADMIN to the check's \
                     account there"
                }
                Refusal::Account => {
                    "the check's account for this node's address is missing or wrong on the peer"
                }
                Refusal::Other => "see the peer's error log",
                Refusal::Guard => {
                    // Without its guard row the peer cannot be proven fenced: a
                    // configuration error on the peer. It fails a standby (78); the writer
                    // keeps the VIP (the VIP must stay somewhere) and says so loudly.
                    let (level, kind) = if self.role.holds_vip() {
                        (Level::Alert, None)
                    } else {
                        (Level::Fail, Some(Reason::Config))
                    };
                    self.add(
                        level,
                        kind,
                        Situation::GuardMissing,
                        format!("peer {address}: {error}: {}", split::GUARD_FIX),
                    );
                    return;
                }
            };
            self.add(
                Level::Warn,
                None,
                Situation::PeerRefused,
                format!(
                    "peer {address} is up but refused the probe ({error}): no GTID comparison, \
                     no stall detection; {fix}"
                ),
            );
        }
        if let PeerObservation::Unreachable { address, error } = peer {
            self.add(
                Level::Warn,
                None,
                Situation::PeerDown,
                format!("peer down: {address} unreachable ({error})"),
            );
        }
    }

    /// `read_only` against the role.
    fn read_only(&mut self, obs: &Observation) {
        let read_only = obs.read_only || obs.super_read_only == Some(true);
        match self.role {
            Role::Writer if read_only && self.policy.allow_read_only => self.add(
                Level::Warn,
                Some(Reason::ReadOnly),
                Situation::ReadOnlyWriter,
                "read_only=ON on the writer (allowed by --allow-read-only)".into(),
            ),
            Role::Writer if read_only => self.add(
                Level::Fail,
                Some(Reason::ReadOnly),
                Situation::ReadOnlyWriter,
                "read_only=ON: the writer cannot take writes (--allow-read-only to accept)".into(),
            ),
            Role::Promoting if read_only => self.add(
                Level::Warn,
                None,
                Situation::Promoting,
                "promoting, read-only until caught up".into(),
            ),
            Role::Promoting => {
                self.add(Level::Warn, None, Situation::Promoting, "promoting".into())
            }
            Role::PromotionFailed => self.add(
                Level::Fail,
                Some(Reason::ReadOnly),
                Situation::PromotionFailed,
                "notify-master gave up the promotion (catch-up timeout, the server unreachable, \
                 or refused by the split-brain guard: its syslog line says which): this node \
                 must not hold the VIP"
                    .into(),
            ),
            Role::Standby if !read_only => self.add(
                Level::Note,
                None,
                Situation::Unfenced,
                "standby is not fenced (read_only=OFF)".into(),
            ),
            _ => {}
        }
    }
}

/// Judge one observation for `role` (docs/contract.md "Verdicts of check-mysql").
///
/// `received` is what the state dir remembers of reception ([`reception::track`]): a received
/// position that has stood still for longer than `--max-lag` while the peer is ahead fails a
/// standby with `lag`, although `Seconds_Behind_Master` may say 0. `refused`: notify-master
/// refused the writer role because the peer was writable, and that is still remembered in the
/// state dir ([`split`]).
pub fn verdict(
    obs: &Observation,
    peer: &PeerObservation,
    role: Role,
    policy: &Policy,
    received: Received,
    refused: bool,
) -> Verdict {
    let mut j = Judge {
        role,
        policy,
        findings: Vec::new(),
    };
    if obs.replicas.is_empty() {
        j.no_replication();
    }
    for r in &obs.replicas {
        j.connection(r, peer);
    }
    j.compare_with_peer(obs, peer);
    j.reception(received);
    j.peer_answer(peer);
    j.read_only(obs);
    j.split_brain(obs, peer, refused);
    Verdict {
        role,
        findings: split::explained_refusal(one_peer_down_line(j.findings)),
        summary: summary(obs),
    }
}

/// One "peer down" line is enough when both the IO thread and the probe say so.
fn one_peer_down_line(all: Vec<Finding>) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    for f in all {
        let dup = f.situation == Situation::PeerDown
            && findings.iter().any(|g| g.situation == Situation::PeerDown);
        if !dup {
            findings.push(f);
        }
    }
    findings
}

#[cfg(test)]
mod tests;
