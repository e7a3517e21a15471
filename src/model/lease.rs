//! The witness lease's plain data (issue 11 §2): what one voter answered to a claim, and what
//! a round of claims amounts to. No IO, no clock: local times are [`Mono`] readings that the
//! caller took.
//!
//! Three voters (A, B and the witness W, told apart by `@@server_id`) each keep one row,
//! `keepalived_mysql.guard` (id = 1; packaging/split-brain.sql): `holder` (the claimant's
//! server_id, 0 = free), `epoch` (counts holder changes) and `expires` (that voter's own
//! `NOW(6)` plus the TTL, in UTC). The rules are [`crate::plan::lease`]'s; the SQL is
//! `io::dialect::lease`'s.

use std::time::Duration;

/// A reading of the local monotonic clock: the time since an origin fixed for the process
/// (`io::lease::Mono::now`). Only differences of two readings mean anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Mono(pub Duration);

impl Mono {
    /// `self - earlier`, zero if `earlier` is later.
    pub fn since(self, earlier: Mono) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    pub fn plus(self, d: Duration) -> Mono {
        Mono(self.0 + d)
    }
}

/// The guard row of one voter as read back right after the conditional UPDATE, in the same
/// round trip. Times are that voter's clock, in microseconds since 1970-01-01 UTC (the
/// session's `time_zone` is `+00:00`, so no daylight-saving step can move them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardRow {
    /// `@@server_id` of the voter: who answered.
    pub server_id: u32,
    /// Rows the UPDATE changed (`ROW_COUNT()`): 1 when the vote was granted.
    pub changed: u64,
    /// `holder` after the UPDATE: the claimant's server_id, 0 = free.
    pub holder: u32,
    /// `epoch` after the UPDATE.
    pub epoch: u64,
    /// `expires`, microseconds since the epoch on the voter's clock.
    pub expires_us: i64,
    /// The voter's `NOW(6)` when it answered, microseconds since the epoch.
    pub now_us: i64,
}

impl GuardRow {
    /// How long the row stays held by `holder` on the voter's own clock, in milliseconds
    /// (negative: expired that long ago).
    pub fn expires_in_ms(&self) -> i64 {
        (self.expires_us - self.now_us).div_euclid(1000)
    }
}

/// One voter's answer to a claim or renewal, with the local times around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vote {
    /// The UPDATE matched: the row is ours until `row.expires_us` on the voter's clock.
    Granted(Answered),
    /// The UPDATE matched nothing: another claimant holds the row, unexpired on the voter's
    /// clock (`row.holder`).
    Held(Answered),
    /// No answer within the round's share of the deadline (down, hung, unreachable): a lost
    /// vote.
    NoAnswer { cause: String },
    /// The voter answered with an error (missing table or privilege, read-only without
    /// READ_ONLY ADMIN, ...): a lost vote; see [`VoterError`].
    Failed(VoterError),
    /// Not asked: the claim stopped at an earlier voter that another claimant holds
    /// ([`crate::plan::lease::after_vote`]).
    NotAsked,
}

/// A voter that answered, and when (local clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answered {
    pub row: GuardRow,
    /// Just before the statement was sent.
    pub sent: Mono,
    /// When the answer had been read.
    pub received: Mono,
}

/// A voter's error on the lease statements, classified.
///
/// Which file fixes it: [`VoterErrorKind::file`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoterError {
    pub code: u16,
    pub message: String,
    pub kind: VoterErrorKind,
}

/// What a voter's error means for the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoterErrorKind {
    /// No `keepalived_mysql.guard` table (or no row id = 1): run packaging/split-brain.sql
    /// on that voter. A configuration error (exit 78).
    NoGuardTable,
    /// The account lacks a privilege the lease needs (table SELECT/UPDATE, BINLOG ADMIN,
    /// READ_ONLY ADMIN): packaging/grants.sql. A configuration error (exit 78).
    Privilege,
    /// The account or its password is refused (1045, 1130, ...): the option file or
    /// packaging/grants.sql's accounts. A configuration error (exit 78).
    Account,
    /// Anything else (shutting down, too many connections, ...): a lost vote, not a
    /// configuration error.
    Other,
}

/// One voter's line in the report (issue 11 "Interface": the JSON `lease` object).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VoterReport {
    /// Where the voter is (`host:port`).
    pub address: String,
    /// `@@server_id` of the voter, when it answered.
    pub server_id: Option<u32>,
    /// The row's holder after this round (0 = free); `None` when the voter did not answer.
    pub holder: Option<u32>,
    /// Whether the vote counts for us this round.
    pub granted: bool,
    /// `expires - NOW(6)` on the voter's clock, in milliseconds.
    pub expires_in_ms: Option<i64>,
    /// Why the vote does not count, when it does not (`held by 2`, `no answer: ...`,
    /// `clock jumped ...`).
    pub note: Option<String>,
}

impl VoterReport {
    /// The voter in one phrase for messages: `a:3306 granted`, or its note
    /// (`b:3306 held by 2`, `w:3306 no answer: ...`).
    pub fn phrase(&self) -> String {
        match &self.note {
            None => format!("{} granted", self.address),
            Some(n) => format!("{} {n}", self.address),
        }
    }
}

/// What a round amounts to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// The claimant (its server_id).
    pub me: u32,
    /// Votes that count for us.
    pub votes: usize,
    /// Voters configured (3 in witness mode): the majority is of these, not of those that
    /// answered.
    pub voters: usize,
    /// `votes` is a majority of `voters`.
    pub held: bool,
    /// One line per voter, in claim order.
    pub per_voter: Vec<VoterReport>,
}

impl VoterErrorKind {
    /// The packaged file that fixes a configuration error; `None` for [`VoterErrorKind::Other`]
    /// (not a configuration error).
    pub fn file(self) -> Option<&'static str> {
        match self {
            VoterErrorKind::NoGuardTable => Some("packaging/split-brain.sql"),
            VoterErrorKind::Privilege | VoterErrorKind::Account => Some("packaging/grants.sql"),
            VoterErrorKind::Other => None,
        }
    }
}

/// What check-mysql did with the lease on one run, and what it found: the JSON `lease`
/// object (issue 11 "Interface": holder, votes per voter, expires_in_ms) and the input of
/// the verdict's lease rules (`verdict::split::lease_findings`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LeaseView {
    /// `renew` (a writable node), `peek` (a fenced node with the refusal marker), `none`.
    pub action: &'static str,
    /// This server's `@@server_id` (the claimant), when it answered.
    pub me: Option<u32>,
    /// Whether this node holds a majority after a renewal.
    pub held: bool,
    /// Who holds a majority: this node after a renewal that held it, another node found by a
    /// peek; `None`: nobody that this run could see.
    pub holder: Option<u32>,
    /// Votes of `holder` (of ours, after a renewal that did not hold).
    pub votes: usize,
    /// Voters configured (3).
    pub voters: usize,
    /// The shortest time left of `holder`'s votes, on the voters' clocks, in milliseconds.
    pub expires_in_ms: Option<i64>,
    /// One line per voter.
    pub per_voter: Vec<VoterReport>,
    /// After a renewal that did not hold: whether the node set `read_only=ON` itself
    /// (`Some(false)`: it could not; the message says why).
    pub fenced_itself: Option<bool>,
    /// Why nothing was done, why fencing failed, or the round's configuration error.
    pub note: Option<String>,
    /// A voter's answer that is a configuration error (no guard table or row, a missing
    /// privilege, a refused account): the check fails with 78, naming the file.
    pub config_error: Option<String>,
}

impl LeaseView {
    /// Nothing done (a fenced node without refusal, or the local server not reached).
    pub fn none(me: Option<u32>, voters: usize, why: impl Into<String>) -> LeaseView {
        LeaseView {
            action: "none",
            me,
            held: false,
            holder: None,
            votes: 0,
            voters,
            expires_in_ms: None,
            per_voter: Vec::new(),
            fenced_itself: None,
            note: Some(why.into()),
            config_error: None,
        }
    }
}
