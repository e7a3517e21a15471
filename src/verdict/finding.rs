//! The vocabulary of a verdict: levels, situations, reasons, findings, and how a verdict
//! turns into a status word and an exit code (docs/contract.md "Verdicts of check-mysql",
//! "Exit codes"). Plain data; no IO.

use std::time::Duration;

use crate::exit::Exit;
use crate::model::role::Role;

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
    /// The split-brain guard's table or grants are missing on this node or the peer
    /// (packaging/split-brain.sql, packaging/grants.sql): a configuration error.
    GuardMissing,
    /// notify-master refused the writer role because the peer answers and is writable;
    /// this node stays out (FAULT) while the peer is writable.
    PromotionRefused,
    /// Both nodes are writable: a split brain in progress (a race, or a heal). One yields by
    /// the rule both evaluate identically (docs/contract.md "Split brain").
    SplitBrain,
    /// Witness mode: this writable node could not renew the lease on a majority of the
    /// three voters, so it fenced itself (docs/contract.md "Witness mode").
    LeaseLost,
    /// Witness mode: notify-master refused this node the writer role and another node holds
    /// the lease on a majority: this node stays out, even where it cannot see the peer.
    LeaseElsewhere,
    /// Witness mode: the writer holds the lease, but not on every voter (one is down,
    /// unreachable or misconfigured): one more lost voter and it fences itself.
    LeaseDegraded,
    /// `check-mysql --watch`'s own trouble at a poll: the role file in the state dir cannot
    /// be used (docs/contract.md "Watch mode"); a configuration error, reported without
    /// ending the watcher.
    Watcher,
}

impl Situation {
    /// Every situation, in declaration order (the tests check that none is missing).
    pub const ALL: [Situation; 27] = [
        Situation::Down,
        Situation::Saturated,
        Situation::CheckAccount,
        Situation::Standalone,
        Situation::NoReplication,
        Situation::PeerDown,
        Situation::PeerRefused,
        Situation::Connecting,
        Situation::IoError,
        Situation::ReplicationPath,
        Situation::Stalled,
        Situation::SqlError,
        Situation::Diverged,
        Situation::Stopped,
        Situation::Lag,
        Situation::PeerPosition,
        Situation::ReadOnlyWriter,
        Situation::Promoting,
        Situation::PromotionFailed,
        Situation::Unfenced,
        Situation::GuardMissing,
        Situation::PromotionRefused,
        Situation::SplitBrain,
        Situation::LeaseLost,
        Situation::LeaseElsewhere,
        Situation::LeaseDegraded,
        Situation::Watcher,
    ];
}

/// The class of a problem: what it is about, and which exit code it gives when it fails the
/// node (docs/contract.md "Exit codes"). Only these classes exist for findings: usage errors
/// and success are not findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The check's own configuration (its account refused by the server).
    Config,
    /// The server gave no answer, or cannot be observed.
    Down,
    /// GTID histories forked.
    Diverged,
    /// Replication broken or stopped.
    Replication,
    /// Behind: applied lag, or nothing received while the peer is ahead.
    Lag,
    /// A writer that cannot take writes.
    ReadOnly,
    /// This node must not be the writer: the peer is writable.
    SplitBrain,
}

impl From<Reason> for Exit {
    fn from(r: Reason) -> Exit {
        match r {
            Reason::Config => Exit::Config,
            Reason::Down => Exit::Down,
            Reason::Diverged => Exit::Diverged,
            Reason::Replication => Exit::Replication,
            Reason::Lag => Exit::Lag,
            Reason::ReadOnly => Exit::ReadOnly,
            Reason::SplitBrain => Exit::SplitBrain,
        }
    }
}

/// One thing the check found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub level: Level,
    /// The class, for problems and for notes about one (`None`: a plain note, `"ok"` in
    /// JSON).
    #[serde(serialize_with = "reason_name")]
    pub kind: Option<Reason>,
    pub situation: Situation,
    pub message: String,
}

fn reason_name<S: serde::Serializer>(r: &Option<Reason>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.map_or(Exit::Ok, Exit::from).name())
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
const PRECEDENCE: [Reason; 7] = [
    Reason::Config,
    Reason::Down,
    Reason::Diverged,
    Reason::Replication,
    Reason::Lag,
    Reason::SplitBrain,
    Reason::ReadOnly,
];

impl Verdict {
    pub fn exit(&self) -> Exit {
        PRECEDENCE
            .into_iter()
            .find(|k| {
                self.findings
                    .iter()
                    .any(|f| f.level == Level::Fail && f.kind == Some(*k))
            })
            .map_or(Exit::Ok, Exit::from)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `Situation::ALL` lists every variant: a new one fails to compile here until it is
    /// added to the match and to `ALL`.
    #[test]
    fn all_situations_are_listed() {
        for (i, s) in Situation::ALL.iter().enumerate() {
            let index = match s {
                Situation::Down => 0,
                Situation::Saturated => 1,
                Situation::CheckAccount => 2,
                Situation::Standalone => 3,
                Situation::NoReplication => 4,
                Situation::PeerDown => 5,
                Situation::PeerRefused => 6,
                Situation::Connecting => 7,
                Situation::IoError => 8,
                Situation::ReplicationPath => 9,
                Situation::Stalled => 10,
                Situation::SqlError => 11,
                Situation::Diverged => 12,
                Situation::Stopped => 13,
                Situation::Lag => 14,
                Situation::PeerPosition => 15,
                Situation::ReadOnlyWriter => 16,
                Situation::Promoting => 17,
                Situation::PromotionFailed => 18,
                Situation::Unfenced => 19,
                Situation::GuardMissing => 20,
                Situation::PromotionRefused => 21,
                Situation::SplitBrain => 22,
                Situation::LeaseLost => 23,
                Situation::LeaseElsewhere => 24,
                Situation::LeaseDegraded => 25,
                Situation::Watcher => 26,
            };
            assert_eq!(index, i, "{s:?} out of place in Situation::ALL");
        }
    }

    #[test]
    fn reasons_map_to_their_exit_codes_and_json_names() {
        let rows = [
            (Reason::Config, 78, "config"),
            (Reason::Down, 1, "down"),
            (Reason::Diverged, 4, "diverged"),
            (Reason::Replication, 2, "replication"),
            (Reason::Lag, 3, "lag"),
            (Reason::ReadOnly, 5, "read-only"),
            (Reason::SplitBrain, 6, "split-brain"),
        ];
        for (reason, code, name) in rows {
            let finding = Finding {
                level: Level::Fail,
                kind: Some(reason),
                situation: Situation::Down,
                message: String::new(),
            };
            let json = serde_json::to_value(&finding).unwrap();
            assert_eq!(
                (Exit::from(reason).code(), json["kind"].as_str()),
                (code, Some(name))
            );
        }
        let note = Finding {
            level: Level::Note,
            kind: None,
            situation: Situation::Standalone,
            message: String::new(),
        };
        assert_eq!(serde_json::to_value(&note).unwrap()["kind"], "ok");
    }
}
