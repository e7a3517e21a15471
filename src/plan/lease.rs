//! The witness lease's rules (issue 11 §2, after the split-brain design note
//! "Candidate: a lease row on each of three voters"): pure, table-tested. Who holds a
//! majority ([`tally`]), when a claim stops and what it gives back ([`after_vote`],
//! [`release_won_votes`]), the timing invariant and the writer's deadline ([`Timing`]), and
//! the clock-jump narrowing ([`clock_jump`], [`ClockWatch`]).
//!
//! **Safety argument.** Each voter grants its row to one claimant at a time (one conditional
//! UPDATE, atomic on that voter) until its *own* clock passes `expires = NOW(6) + ttl`. Any
//! two majorities of three voters share a voter. A claimant that won a majority in a round
//! whose first statement it sent at `t_sent` (local monotonic clock) holds each of those rows
//! until at least `t_sent + ttl` in real time (every voter computed `expires` after `t_sent`),
//! so nobody else can win a majority before then. The writer stops writing by
//! `t_sent + ttl − margin` ([`Timing::write_until`]); the margin absorbs the rate difference
//! of the clocks and small steps of a voter's clock. The one unsafe case is a voter whose wall
//! clock steps forward by more than the margin: it expires our row early and may grant it to
//! the other claimant, which then needs only one more voter. [`ClockWatch`] narrows it.

use std::collections::HashMap;
use std::time::Duration;

use crate::model::lease::{GuardRow, Mono, Tally, Vote, VoterErrorKind, VoterReport};

/// Whether `votes` is a majority of `voters` (more than half of the voters *configured*, not
/// of those that answered: a voter that does not answer is a lost vote, never a smaller
/// electorate).
pub fn majority(votes: usize, voters: usize) -> bool {
    voters > 0 && votes * 2 > voters
}

/// What notify-master does after a claim round ([`claim_step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimStep {
    /// A majority: go on (a misconfigured voter, if any, is a syslog warning).
    Held,
    /// No majority, and a voter's configuration error is why: with its vote the others'
    /// grants would have been a majority. Exit 78 naming the voter and the file; no further
    /// round can win until the operator fixes it.
    Misconfigured,
    /// No majority for another reason (another claimant holds a voter, a voter does not
    /// answer): try again until the catch-up deadline, then refuse (exit 6).
    NotHeld,
}

/// After a claim round that won `votes` of `voters`, `misconfigured` of which refused with a
/// configuration error (no guard table, a missing grant, a refused account). Such a voter
/// does not vote, like one that does not answer: the majority is still of all the voters
/// configured, so two voters that grant are enough and safety is unchanged.
pub fn claim_step(votes: usize, misconfigured: usize, voters: usize) -> ClaimStep {
    if majority(votes, voters) {
        ClaimStep::Held
    } else if misconfigured > 0 && majority(votes + misconfigured, voters) {
        ClaimStep::Misconfigured
    } else {
        ClaimStep::NotHeld
    }
}

/// A claim (a fenced node that wants to become the writer: notify-master before
/// `read_only=OFF`) or a renewal (the writer's check, on every run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Claim,
    Renew,
}

/// What the round does after a voter's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Ask the next voter in the order.
    Continue,
    /// Ask no further voter: the claim yields.
    Stop,
}

/// After a voter's answer: a **claim** stops at the first voter that another claimant holds;
/// a renewal always asks every voter (it only asks for rows that are already ours, and must
/// keep as many as it can).
///
/// Why: voters are asked one after the other in one order that every claimant shares
/// (ascending server_id). The claimant that wins a contested voter first goes on; the other,
/// finding it held, yields instead of taking the voters further down the order. Asked in
/// parallel, or with no yield, two claimants with one voter down could win one voter each and
/// block each other until the TTL; with the shared order and the yield, the first contested
/// voter decides.
pub fn after_vote(mode: Mode, vote: &Vote) -> Next {
    match (mode, vote) {
        (Mode::Claim, Vote::Held(_)) => Next::Stop,
        _ => Next::Continue,
    }
}

/// How a round asks its voters: a **claim** in the shared order, one voter after the other
/// ([`after_vote`] says why); a **renewal** all at once, each voter's whole exchange
/// (connect, prepare, UPDATE and read-back) on its own thread within the full deadline. A
/// renewal asks every voter and never yields or gives back, so the order decides nothing,
/// and asked in series one unreachable voter (a cut that drops packets) would use up the time
/// of the others: the writer would fence itself although it held a majority.
pub fn in_parallel(mode: Mode) -> bool {
    mode == Mode::Renew
}

/// When a **claim**'s connect phase ends (the time since it began), unless every voter
/// answered before: the voters are connected and prepared in parallel, then asked in
/// ascending server_id order, which needs the server_ids of the voters that will be asked.
/// `budget` is the round's deadline, `majority_ready` when a majority of the voters was ready
/// (connected and prepared), if it is yet.
///
/// Without a majority ready: half the budget (the claims keep the other half). With one: the
/// phase waits for the rest only as long again as the majority took, but at least an eighth
/// of the budget (a healthy voter a few milliseconds behind still votes), and never past
/// half. So a voter that does not answer at all (a cut that drops packets) costs a claim at
/// most an eighth of its budget, or twice a slow majority's connect time, instead of half.
/// Safe whatever it returns: a voter left out is a lost vote, and the voters asked are still
/// asked in the one shared order (a subset of it).
pub fn claim_connect_phase(budget: Duration, majority_ready: Option<Duration>) -> Duration {
    let half = budget / 2;
    match majority_ready {
        None => half,
        Some(t) => (t * 2).max(budget / 8).min(half),
    }
}

/// Whether to give back the votes a round won when it did not win a majority: yes for a
/// failed **claim** (the claimant is fenced and not writing, and its minority votes would
/// only delay the other claimant until the TTL); never for a failed **renewal**: the writer
/// may still be writing, and a vote given back before it has fenced would let the other
/// claimant win a majority with that voter while this one writes. A writer that lost its
/// majority fences first; notify-backup releases after fencing.
pub fn release_won_votes(mode: Mode, held: bool) -> bool {
    mode == Mode::Claim && !held
}

/// One voter's answer for [`tally`]: its address, its vote, and why it is discarded this
/// round, if it is ([`ClockWatch`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    pub address: String,
    pub vote: Vote,
    pub discarded: Option<String>,
}

/// Count a round's votes for `me` over all `ballots` (one per configured voter, in claim
/// order): a vote counts when the voter granted it, the row's holder is `me`, and the voter
/// is not discarded. `held` is a majority of all ballots.
pub fn tally(me: u32, ballots: &[Ballot]) -> Tally {
    let per_voter: Vec<VoterReport> = ballots.iter().map(|b| report(me, b)).collect();
    let votes = per_voter.iter().filter(|r| r.granted).count();
    Tally {
        me,
        votes,
        voters: ballots.len(),
        held: majority(votes, ballots.len()),
        per_voter,
    }
}

fn report(me: u32, b: &Ballot) -> VoterReport {
    let answered = match &b.vote {
        Vote::Granted(a) | Vote::Held(a) => Some(a.row),
        _ => None,
    };
    let granted =
        matches!(&b.vote, Vote::Granted(a) if a.row.holder == me) && b.discarded.is_none();
    let note = match (&b.vote, &b.discarded) {
        (_, Some(why)) => Some(why.clone()),
        (Vote::Granted(a), None) if a.row.holder != me => {
            Some(format!("granted, but holder reads {}", a.row.holder))
        }
        (Vote::Granted(_), None) => None,
        (Vote::Held(a), None) => Some(format!("held by {}", a.row.holder)),
        (Vote::NoAnswer { cause }, None) => Some(format!("no answer: {cause}")),
        (Vote::Failed(e), None) => Some(match e.kind {
            VoterErrorKind::NoGuardTable => format!(
                "ERROR {}: {} (run packaging/split-brain.sql on this voter)",
                e.code, e.message
            ),
            VoterErrorKind::Privilege => format!(
                "ERROR {}: {} (the lease grants of packaging/grants.sql are missing)",
                e.code, e.message
            ),
            VoterErrorKind::Account => format!(
                "ERROR {}: {} (the account of the option file / packaging/grants.sql)",
                e.code, e.message
            ),
            VoterErrorKind::Other => format!("ERROR {}: {}", e.code, e.message),
        }),
        (Vote::NotAsked, None) => Some("not asked: the claim yielded earlier".into()),
    };
    VoterReport {
        address: b.address.clone(),
        server_id: answered.map(|r| r.server_id),
        holder: answered.map(|r| r.holder),
        granted,
        expires_in_ms: answered.map(|r| r.expires_in_ms()),
        note,
    }
}

/// Default lease TTL: 6 s. With the defaults below (keepalived `interval 1`, `--timeout
/// 800ms` for the check and for notify-backup, margin 1 s) the invariant needs
/// 1 + 0.8 + 0.8 + 1 = 3.6 s < 6 s, which leaves 2.4 s for keepalived to act on a failed
/// check (track_file → FAULT → spawning notify-backup) and for scheduling on a loaded host;
/// `interval 2` (packaging's example) still fits (4.6 s). A longer TTL only lengthens the one
/// failover that must wait for it, a writer that vanished silently (power off): 6 s is in the
/// range of VRRP's own 3 × advert_int + skew detection and far below MHA's or MaxScale's
/// defaults (split-brain-notes "Published failover figures").
pub const DEFAULT_TTL: Duration = Duration::from_secs(6);
/// Default margin: 1 s. It absorbs rate differences of the clocks (NTP slews at most
/// 500 ppm: 3 ms over a 6 s TTL), a voter's NOW(6) being read up to one round trip after the
/// statement was sent, and small steps of a voter's clock; steps larger than it are what
/// [`ClockWatch`] looks for. It must stay well above the check's round-trip time.
pub const DEFAULT_MARGIN: Duration = Duration::from_secs(1);

/// The settings the lease's safety depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// How long a voter's row stays ours after the voter granted it, on the voter's clock.
    pub ttl: Duration,
    /// keepalived's `vrrp_script` `interval` of the check that renews (whole seconds:
    /// keepalived's unit).
    pub renew_interval_secs: u32,
    /// check-mysql's `--timeout`: the longest a renewal round (and the check) can take.
    pub check_deadline: Duration,
    /// notify-backup's `--timeout`: the longest fencing can take once the check failed.
    pub fencing_deadline: Duration,
    /// Kept between the writer's own deadline and the earliest expiry on any voter.
    pub margin: Duration,
}

/// Settings that break the timing invariant: a configuration error (exit 78 at start-up).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimingError {
    #[error(
        "lease TTL {} is too short: it must exceed the check interval {} + check deadline \
         (--timeout) {} + fencing deadline {} + margin {} = {}, or the writer could still be \
         writing when its lease expires on a voter",
        show(*ttl), show(*interval), show(*check), show(*fencing), show(*margin), show(*sum)
    )]
    TooShort {
        ttl: Duration,
        interval: Duration,
        check: Duration,
        fencing: Duration,
        margin: Duration,
        sum: Duration,
    },
    #[error("the lease margin must be more than zero (it is what absorbs clock differences)")]
    NoMargin,
    #[error("the check interval must be at least 1 s (keepalived's vrrp_script interval)")]
    NoInterval,
}

fn show(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

impl Timing {
    /// The defaults' timing for a check run every `renew_interval_secs` with the given
    /// deadlines ([`DEFAULT_TTL`], [`DEFAULT_MARGIN`]).
    pub fn with_defaults(
        renew_interval_secs: u32,
        check_deadline: Duration,
        fencing_deadline: Duration,
    ) -> Timing {
        Timing {
            ttl: DEFAULT_TTL,
            renew_interval_secs,
            check_deadline,
            fencing_deadline,
            margin: DEFAULT_MARGIN,
        }
    }

    pub fn renew_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.renew_interval_secs))
    }

    /// The invariant `renew interval + check deadline + fencing deadline + margin < ttl`
    /// (split-brain-notes "Timing invariant"; Patroni's `loop_wait + 2 × retry_timeout <=
    /// ttl` is the same idea). Why: the writer's last successful renewal sent its first
    /// statement at `t_sent`; the next check starts at most one interval later, fails within
    /// its deadline, and fencing then finishes within its own; all that must be over, with
    /// the margin to spare, before `t_sent + ttl`, the earliest the lease can expire on a voter.
    pub fn validate(&self) -> Result<(), TimingError> {
        if self.renew_interval_secs == 0 {
            return Err(TimingError::NoInterval);
        }
        if self.margin.is_zero() {
            return Err(TimingError::NoMargin);
        }
        let sum = self.renew_interval() + self.check_deadline + self.fencing_deadline + self.margin;
        if sum >= self.ttl {
            return Err(TimingError::TooShort {
                ttl: self.ttl,
                interval: self.renew_interval(),
                check: self.check_deadline,
                fencing: self.fencing_deadline,
                margin: self.margin,
                sum,
            });
        }
        Ok(())
    }

    /// The writer must have stopped writing by `t_sent + ttl − margin` on its monotonic
    /// clock, where `t_sent` is when it sent the first statement of its last round that won a
    /// majority (split-brain-notes, "A writer renews on every check").
    pub fn write_until(&self, t_sent: Mono) -> Mono {
        t_sent.plus(self.ttl.saturating_sub(self.margin))
    }

    /// Whether a writer whose last majority was sent at `t_sent` may still write at `now`.
    pub fn may_write(&self, t_sent: Mono, now: Mono) -> bool {
        now < self.write_until(t_sent)
    }
}

/// One voter's clock as seen in one round: its `NOW(6)` and the local monotonic times just
/// before the statement was sent and just after the answer was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub voter_now_us: i64,
    pub sent: Mono,
    pub received: Mono,
}

/// How a voter's clock moved between two readings compared with the local monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jump {
    /// Within the margin of the local advance.
    None,
    /// The voter's clock advanced more than the margin beyond anything the local clock allows
    /// (`by`: how much beyond): it may have expired rows early. Unsafe.
    Forward { by: Duration },
    /// The voter's clock advanced less than the local clock allows by more than the margin:
    /// its rows last longer (a later failover), never shorter. Safe; reported only.
    Backward { by: Duration },
}

/// Compare a voter's `NOW(6)` advance between two rounds with the local monotonic advance.
/// The voter read its clock somewhere between `sent` and `received` of each round, so its
/// true advance lies within `[cur.sent − prev.received, cur.received − prev.sent]`; only
/// beyond that window by more than `margin` is a jump.
pub fn clock_jump(prev: Reading, cur: Reading, margin: Duration) -> Jump {
    let advance = cur.voter_now_us - prev.voter_now_us;
    let most = micros(cur.received.since(prev.sent)) + micros(margin);
    let least = micros(cur.sent.since(prev.received)) - micros(margin);
    if advance > most {
        Jump::Forward {
            by: Duration::from_micros((advance - most + micros(margin)) as u64),
        }
    } else if advance < least {
        Jump::Backward {
            by: Duration::from_micros((least + micros(margin) - advance) as u64),
        }
    } else {
        Jump::None
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// Readings older than this are not compared: over a long gap the clocks' rate difference
/// alone (NTP: up to 500 ppm) could reach the margin.
pub const MAX_COMPARE_GAP: Duration = Duration::from_secs(60);

/// The clock-jump narrowing: remembers each voter's last [`Reading`] and discards, for one
/// TTL from the moment it was seen, a voter whose clock jumped forward.
///
/// Why one TTL: a voter whose clock stepped forward may have expired our row early and
/// granted it to the other claimant, and any grant it made around the step lasts at most one
/// TTL of its clock. Not counting it while such a grant can still be alive means that our
/// majority never rests on a voter that may have been granting to someone else at the same
/// time. This narrows the unsafe case to a step that happens between two of our rounds and is
/// used by the other claimant before our next round sees it; it does not close it.
#[derive(Debug, Clone, Default)]
pub struct ClockWatch {
    last: HashMap<u32, Reading>,
    discarded_until: HashMap<u32, Mono>,
}

impl ClockWatch {
    pub fn new() -> ClockWatch {
        ClockWatch::default()
    }

    /// Record voter `server_id`'s reading of this round; the reason it is discarded this
    /// round, if it is (a forward jump now, or one seen less than `ttl` ago).
    pub fn observe(
        &mut self,
        server_id: u32,
        cur: Reading,
        margin: Duration,
        ttl: Duration,
    ) -> Option<String> {
        if let Some(prev) = self.last.insert(server_id, cur) {
            let fresh = cur.sent.since(prev.sent) <= MAX_COMPARE_GAP;
            if let (true, Jump::Forward { by }) = (fresh, clock_jump(prev, cur, margin)) {
                self.discarded_until
                    .insert(server_id, cur.received.plus(ttl));
                return Some(format!(
                    "discarded: its clock jumped forward by {} beyond our monotonic clock",
                    show(Duration::from_millis(by.as_millis() as u64))
                ));
            }
        }
        match self.discarded_until.get(&server_id) {
            Some(&until) if cur.received < until => Some(format!(
                "discarded for {} more: its clock jumped forward less than one TTL ago",
                show(Duration::from_millis(
                    until.since(cur.received).as_millis() as u64
                ))
            )),
            _ => None,
        }
    }
}

/// What check-mysql does with the lease on one run (docs/contract.md "Witness mode").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckAction {
    /// A writable node (`read_only=OFF`) renews on every run ([`Mode::Renew`]): it may stay
    /// writable only while it holds a majority.
    Renew,
    /// A fenced node that notify-master refused (the refusal marker is present) looks at the
    /// rows without writing them: it stays out while another node holds a majority.
    Peek,
    /// A fenced node without a refusal: the lease is not its business.
    Nothing,
}

/// [`CheckAction`] from this server's `read_only` (`None`: unknown, e.g. no answer) and
/// whether the refusal marker is present. An unknown `read_only` renews: a node that may be
/// writable must prove its majority.
pub fn check_action(read_only: Option<bool>, refusal_marker: bool) -> CheckAction {
    match (read_only, refusal_marker) {
        (Some(true), true) => CheckAction::Peek,
        (Some(true), false) => CheckAction::Nothing,
        (Some(false) | None, _) => CheckAction::Renew,
    }
}

/// Who holds the lease on a majority of the voters, from rows read without claiming (a
/// peek): one entry per configured voter, `None` for a voter that did not answer. A row
/// counts for its holder while unexpired on that voter's clock (`expires > NOW(6)`); 0
/// (free) and `me` are never "another holder". `Some((holder, votes))` when another node
/// holds a majority of `rows.len()`.
pub fn held_elsewhere(me: u32, rows: &[Option<GuardRow>]) -> Option<(u32, usize)> {
    let live: Vec<u32> = rows
        .iter()
        .flatten()
        .filter(|r| r.holder != 0 && r.holder != me && r.expires_us > r.now_us)
        .map(|r| r.holder)
        .collect();
    live.iter()
        .map(|&h| (h, live.iter().filter(|&&x| x == h).count()))
        .find(|&(_, n)| majority(n, rows.len()))
}

/// Whether a local server that could not be reached is provably not running (so that
/// notify-backup may release its lease at once): the connection was refused
/// (`ECONNREFUSED`, errno 111: nothing listens on the port or socket) or the socket file is
/// absent (`ENOENT`, errno 2). Not a deadline or a hang: a hung server (SIGSTOP, a stuck
/// disk) may resume and commit, so it keeps its lease until the TTL. `cause` is the
/// driver's text of the IO error (`... (os error 111)`).
pub fn provably_not_running(cause: &str) -> bool {
    cause.contains("(os error 111)") || cause.contains("(os error 2)")
}

/// Whether notify-master must renew the lease before `SET GLOBAL read_only=OFF`: when the
/// time left until `write_until` (the last majority's `t_sent + ttl − margin`) is not more
/// than `step`, the longest the remaining steps can take before the SET (taking the state
/// dir's lock: `--timeout`).
pub fn renew_before_unfence(now: Mono, write_until: Mono, step: Duration) -> bool {
    now.plus(step) >= write_until
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lease::{Answered, GuardRow, VoterError};

    const NOW: i64 = 1_796_003_045_833_625;

    fn ms(n: u64) -> Mono {
        Mono(Duration::from_millis(n))
    }

    /// A voter's row as the read-back after the UPDATE shows it.
    fn row(server_id: u32, holder: u32, expires_in_us: i64) -> GuardRow {
        GuardRow {
            server_id,
            changed: 1,
            holder,
            epoch: 3,
            expires_us: NOW + expires_in_us,
            now_us: NOW,
        }
    }

    fn granted(server_id: u32, holder: u32) -> Vote {
        Vote::Granted(Answered {
            row: row(server_id, holder, 6_000_000),
            sent: ms(0),
            received: ms(1),
        })
    }

    fn held(server_id: u32, holder: u32, expires_in_us: i64) -> Vote {
        Vote::Held(Answered {
            row: GuardRow {
                changed: 0,
                ..row(server_id, holder, expires_in_us)
            },
            sent: ms(0),
            received: ms(1),
        })
    }

    fn none() -> Vote {
        Vote::NoAnswer {
            cause: "connect timed out".into(),
        }
    }

    fn failed(kind: VoterErrorKind) -> Vote {
        Vote::Failed(VoterError {
            code: 1227,
            message: "Access denied; you need BINLOG ADMIN".into(),
            kind,
        })
    }

    fn ballot(vote: Vote) -> Ballot {
        Ballot {
            address: "db:3306".into(),
            vote,
            discarded: None,
        }
    }

    #[test]
    fn a_renewal_asks_in_parallel_and_a_claim_in_order() {
        assert!(in_parallel(Mode::Renew));
        assert!(!in_parallel(Mode::Claim));
    }

    #[test]
    fn a_claims_connect_phase_ends_soon_after_a_majority_is_ready() {
        let ms = Duration::from_millis;
        // (budget, when a majority was ready) → the phase ends at
        for (budget, majority, end) in [
            // No majority yet: half, as before.
            (ms(800), None, ms(400)),
            (ms(480), None, ms(240)),
            // A quick majority (local voters): an eighth of the budget for the third.
            (ms(800), Some(ms(3)), ms(100)),
            (ms(480), Some(ms(0)), ms(60)),
            // A slow majority: as long again as it took.
            (ms(800), Some(ms(80)), ms(160)),
            // Never past half.
            (ms(800), Some(ms(300)), ms(400)),
            (ms(800), Some(ms(400)), ms(400)),
            (ms(800), Some(ms(900)), ms(400)),
        ] {
            assert_eq!(
                claim_connect_phase(budget, majority),
                end,
                "{budget:?} {majority:?}"
            );
        }
    }

    #[test]
    fn a_misconfigured_voter_does_not_vote() {
        use ClaimStep::*;
        // (votes won, voters refusing with a configuration error, voters) → step
        for (votes, misconfigured, voters, step) in [
            (3, 0, 3, Held),
            (2, 0, 3, Held),
            (2, 1, 3, Held),
            (1, 1, 3, Misconfigured),
            (1, 2, 3, Misconfigured),
            (0, 1, 3, NotHeld),
            (1, 0, 3, NotHeld),
            (0, 0, 3, NotHeld),
            (0, 3, 3, Misconfigured),
        ] {
            assert_eq!(
                claim_step(votes, misconfigured, voters),
                step,
                "{votes} votes, {misconfigured} misconfigured of {voters}"
            );
        }
    }

    #[test]
    fn majority_is_of_the_configured_voters() {
        let rows = [
            (0, 3, false),
            (1, 3, false),
            (2, 3, true),
            (3, 3, true),
            (1, 2, false),
            (2, 2, true),
            (0, 0, false),
        ];
        for (votes, voters, expected) in rows {
            assert_eq!(majority(votes, voters), expected, "{votes}/{voters}");
        }
    }

    /// (votes of A id 1, B id 2, W id 3; discarded voter) → (held, votes, holders,
    /// expires_in_ms per voter). The claimant is 1.
    #[test]
    fn tally_table() {
        type Row = (
            [Vote; 3],
            Option<usize>,
            bool,
            usize,
            [Option<u32>; 3],
            [Option<i64>; 3],
        );
        let rows: Vec<Row> = vec![
            // All three grant.
            (
                [granted(1, 1), granted(2, 1), granted(3, 1)],
                None,
                true,
                3,
                [Some(1), Some(1), Some(1)],
                [Some(6000), Some(6000), Some(6000)],
            ),
            // B holds for 2 (1.5 s left on B's clock), A and W grant.
            (
                [granted(1, 1), held(2, 2, 1_500_000), granted(3, 1)],
                None,
                true,
                2,
                [Some(1), Some(2), Some(1)],
                [Some(6000), Some(1500), Some(6000)],
            ),
            // W down: A and B are a majority.
            (
                [granted(1, 1), granted(2, 1), none()],
                None,
                true,
                2,
                [Some(1), Some(1), None],
                [Some(6000), Some(6000), None],
            ),
            // Two voters down: one vote is not a majority of three.
            (
                [granted(1, 1), none(), none()],
                None,
                false,
                1,
                [Some(1), None, None],
                [Some(6000), None, None],
            ),
            // 2 holds A and W; the claim yielded at A.
            (
                [held(1, 2, 4_000_000), Vote::NotAsked, Vote::NotAsked],
                None,
                false,
                0,
                [Some(2), None, None],
                [Some(4000), None, None],
            ),
            // W lacks a grant: a lost vote (the round reports it as configuration).
            (
                [
                    granted(1, 1),
                    granted(2, 1),
                    failed(VoterErrorKind::Privilege),
                ],
                None,
                true,
                2,
                [Some(1), Some(1), None],
                [Some(6000), Some(6000), None],
            ),
            // W's clock jumped: its grant does not count, A's alone is no majority.
            (
                [granted(1, 1), none(), granted(3, 1)],
                Some(2),
                false,
                1,
                [Some(1), None, Some(1)],
                [Some(6000), None, Some(6000)],
            ),
            // A grant whose read-back names another holder does not count.
            (
                [granted(1, 1), granted(2, 2), none()],
                None,
                false,
                1,
                [Some(1), Some(2), None],
                [Some(6000), Some(6000), None],
            ),
            // An expired row read back (-250 ms on B's clock) held by 2: not ours.
            (
                [granted(1, 1), held(2, 2, -250_000), granted(3, 1)],
                None,
                true,
                2,
                [Some(1), Some(2), Some(1)],
                [Some(6000), Some(-250), Some(6000)],
            ),
        ];
        for (i, (votes, discarded, held, n, holders, expires)) in rows.into_iter().enumerate() {
            let ballots: Vec<Ballot> = votes
                .into_iter()
                .enumerate()
                .map(|(v, vote)| Ballot {
                    discarded: (Some(v) == discarded).then(|| "clock jumped".to_string()),
                    ..ballot(vote)
                })
                .collect();
            let t = tally(1, &ballots);
            assert_eq!((t.held, t.votes, t.voters), (held, n, 3), "row {i}: {t:?}");
            let got_holders: Vec<_> = t.per_voter.iter().map(|r| r.holder).collect();
            let got_expires: Vec<_> = t.per_voter.iter().map(|r| r.expires_in_ms).collect();
            assert_eq!(got_holders, holders, "row {i}");
            assert_eq!(got_expires, expires, "row {i}");
            for r in &t.per_voter {
                assert_eq!(r.granted, r.note.is_none(), "row {i}: {r:?}");
            }
        }
    }

    #[test]
    fn notes_name_the_file_to_fix() {
        let t = tally(
            1,
            &[
                ballot(failed(VoterErrorKind::NoGuardTable)),
                ballot(failed(VoterErrorKind::Privilege)),
                ballot(held(3, 2, 10)),
            ],
        );
        let notes: Vec<String> = t.per_voter.iter().filter_map(|r| r.note.clone()).collect();
        assert!(notes[0].contains("packaging/split-brain.sql"), "{notes:?}");
        assert!(notes[1].contains("packaging/grants.sql"), "{notes:?}");
        assert_eq!(notes[2], "held by 2");
    }

    #[test]
    fn a_claim_yields_at_the_first_held_voter_a_renewal_never_does() {
        let rows = [
            (Mode::Claim, granted(1, 1), Next::Continue),
            (Mode::Claim, held(1, 2, 5), Next::Stop),
            (Mode::Claim, none(), Next::Continue),
            (Mode::Claim, failed(VoterErrorKind::Other), Next::Continue),
            (Mode::Renew, granted(1, 1), Next::Continue),
            (Mode::Renew, held(1, 2, 5), Next::Continue),
            (Mode::Renew, none(), Next::Continue),
        ];
        for (mode, vote, next) in rows {
            assert_eq!(after_vote(mode, &vote), next, "{mode:?} {vote:?}");
        }
    }

    #[test]
    fn only_a_failed_claim_gives_its_votes_back() {
        let rows = [
            (Mode::Claim, false, true),
            (Mode::Claim, true, false),
            (Mode::Renew, false, false),
            (Mode::Renew, true, false),
        ];
        for (mode, held, release) in rows {
            assert_eq!(release_won_votes(mode, held), release, "{mode:?} {held}");
        }
    }

    /// (ttl, interval s, check, fencing, margin) → ok, or the error's text names every value.
    #[test]
    fn timing_invariant_table() {
        let s = Duration::from_secs;
        let msec = Duration::from_millis;
        type Row = (
            Duration,
            u32,
            Duration,
            Duration,
            Duration,
            Result<(), &'static str>,
        );
        let rows: [Row; 8] = [
            // The defaults with interval 1 and 2.
            (s(6), 1, msec(800), msec(800), s(1), Ok(())),
            (s(6), 2, msec(800), msec(800), s(1), Ok(())),
            // The notes' example: 1 + 2 + 1 (+ fencing 1) < 6.
            (s(6), 1, s(2), s(1), s(1), Ok(())),
            // Equal is not enough.
            (
                s(6),
                2,
                s(1),
                s(2),
                s(1),
                Err(
                    "lease TTL 6s is too short: it must exceed the check interval 2s + check \
                     deadline (--timeout) 1s + fencing deadline 2s + margin 1s = 6s",
                ),
            ),
            (
                s(3),
                2,
                msec(800),
                msec(800),
                s(1),
                Err(
                    "lease TTL 3s is too short: it must exceed the check interval 2s + check \
                     deadline (--timeout) 800ms + fencing deadline 800ms + margin 1s = 4s 600ms",
                ),
            ),
            (
                s(6),
                0,
                msec(800),
                msec(800),
                s(1),
                Err("the check interval"),
            ),
            (s(6), 1, msec(800), msec(800), s(0), Err("the lease margin")),
            (s(30), 5, s(5), s(5), s(2), Ok(())),
        ];
        for (ttl, interval, check, fencing, margin, expected) in rows {
            let t = Timing {
                ttl,
                renew_interval_secs: interval,
                check_deadline: check,
                fencing_deadline: fencing,
                margin,
            };
            match (t.validate(), expected) {
                (Ok(()), Ok(())) => {}
                (Err(e), Err(text)) => {
                    assert!(e.to_string().starts_with(text), "{t:?}: {e}")
                }
                (got, _) => panic!("{t:?}: {got:?}, expected {expected:?}"),
            }
        }
        assert_eq!(
            Timing::with_defaults(1, msec(800), msec(800)).validate(),
            Ok(())
        );
    }

    #[test]
    fn the_writer_stops_at_t_sent_plus_ttl_minus_margin() {
        let t = Timing::with_defaults(1, Duration::from_millis(800), Duration::from_millis(800));
        let rows = [
            (ms(1000), ms(1000), true),
            (ms(1000), ms(5999), true),
            (ms(1000), ms(6000), false),
            (ms(1000), ms(9000), false),
        ];
        for (t_sent, now, may) in rows {
            assert_eq!(t.write_until(t_sent), ms(6000));
            assert_eq!(t.may_write(t_sent, now), may, "{now:?}");
        }
    }

    /// Two readings of a voter (its NOW(6), and our sent/received around it) → jump.
    #[test]
    fn clock_jump_table() {
        let r = |now_ms: i64, sent: u64, received: u64| Reading {
            voter_now_us: NOW + now_ms * 1000,
            sent: ms(sent),
            received: ms(received),
        };
        let margin = Duration::from_secs(1);
        let d = Duration::from_millis;
        let rows = [
            // One second apart on both clocks.
            (r(0, 0, 2), r(1000, 1000, 1002), Jump::None),
            // The voter read its clock late in a slow round: within the window.
            (r(0, 0, 2), r(1700, 1000, 1800), Jump::None),
            // Up to the margin beyond the window is tolerated.
            (r(0, 0, 2), r(2002, 1000, 1002), Jump::None),
            // 3 ms more than that is a forward jump.
            (
                r(0, 0, 2),
                r(2005, 1000, 1002),
                Jump::Forward { by: d(1003) },
            ),
            // The clock was stepped 30 s ahead.
            (
                r(0, 0, 2),
                r(31000, 1000, 1002),
                Jump::Forward { by: d(29998) },
            ),
            // Stepped back 5 s: safe, only reported.
            (
                r(0, 0, 2),
                r(-4000, 1000, 1002),
                Jump::Backward { by: d(4998) },
            ),
            // Stood still for a second: within the margin.
            (r(0, 0, 2), r(0, 1000, 1002), Jump::None),
        ];
        for (i, (prev, cur, jump)) in rows.into_iter().enumerate() {
            assert_eq!(clock_jump(prev, cur, margin), jump, "row {i}");
        }
    }

    #[test]
    fn a_voter_that_jumped_is_discarded_for_one_ttl() {
        let margin = Duration::from_secs(1);
        let ttl = Duration::from_secs(6);
        let r = |now_ms: i64, at: u64| Reading {
            voter_now_us: NOW + now_ms * 1000,
            sent: ms(at),
            received: ms(at + 1),
        };
        let mut w = ClockWatch::new();
        // (voter, reading) → discarded?
        let rows = [
            (3, r(0, 0), false), // first reading: nothing to compare
            (2, r(0, 0), false), // another voter
            (3, r(1000, 1000), false),
            (3, r(11000, 2000), true),  // stepped 9 s ahead
            (2, r(2000, 2000), false),  // the others are not affected
            (3, r(12000, 3000), true),  // still within one TTL of the jump
            (3, r(16000, 7000), true),  // received 7001 < 2001 + 6000
            (3, r(17000, 8000), false), // received 8001: one TTL later, counted again
            // 120 s on the voter's clock, 62 s on ours: over a minute apart, not compared.
            (3, r(137_000, 70_000), false),
        ];
        for (i, (voter, reading, discarded)) in rows.into_iter().enumerate() {
            let got = w.observe(voter, reading, margin, ttl);
            assert_eq!(got.is_some(), discarded, "row {i}: {got:?}");
        }
    }

    #[test]
    fn what_the_check_does_with_the_lease() {
        let rows = [
            (Some(false), false, CheckAction::Renew),
            (Some(false), true, CheckAction::Renew),
            (None, false, CheckAction::Renew),
            (Some(true), true, CheckAction::Peek),
            (Some(true), false, CheckAction::Nothing),
        ];
        for (read_only, marker, action) in rows {
            assert_eq!(
                check_action(read_only, marker),
                action,
                "{read_only:?} {marker}"
            );
        }
    }

    /// Rows as the peek reads them (holder, expires − now in µs) → who holds a majority,
    /// seen by claimant 2.
    #[test]
    fn held_elsewhere_table() {
        let r = |holder: u32, left_us: i64| {
            Some(GuardRow {
                changed: 0,
                ..row(3, holder, left_us)
            })
        };
        type Rows = [Option<GuardRow>; 3];
        let table: [(Rows, Option<(u32, usize)>); 7] = [
            ([r(1, 5_000_000), r(1, 4_000_000), r(1, 100)], Some((1, 3))),
            ([r(1, 5_000_000), None, r(1, 100)], Some((1, 2))),
            // One of its rows expired on that voter's clock: no majority.
            ([r(1, 5_000_000), None, r(1, -1)], None),
            ([r(1, 5_000_000), None, None], None),
            // Free rows and our own never count as another holder.
            ([r(0, 5_000_000), r(0, 5_000_000), r(0, 1)], None),
            ([r(2, 5_000_000), r(2, 5_000_000), r(1, 1)], None),
            ([None, None, None], None),
        ];
        for (i, (rows, expected)) in table.into_iter().enumerate() {
            assert_eq!(held_elsewhere(2, &rows), expected, "row {i}");
        }
    }

    /// The driver's texts of a failed connect (mysql crate 25, Linux) → provably not running.
    #[test]
    fn only_refused_or_absent_is_provably_not_running() {
        let rows = [
            (
                "Input/output error: Connection refused (os error 111)",
                true,
            ),
            (
                "Input/output error: No such file or directory (os error 2)",
                true,
            ),
            (
                "no answer within --timeout 800ms (server hung or unreachable)",
                false,
            ),
            ("Input/output error: connection timed out", false),
            (
                "Input/output error: Connection reset by peer (os error 104)",
                false,
            ),
            ("Input/output error: No route to host (os error 113)", false),
        ];
        for (cause, gone) in rows {
            assert_eq!(provably_not_running(cause), gone, "{cause}");
        }
    }

    #[test]
    fn renew_when_the_lease_would_run_out_before_the_unfence() {
        let step = Duration::from_millis(800);
        let rows = [
            (ms(0), ms(5000), false),
            (ms(4199), ms(5000), false),
            (ms(4200), ms(5000), true),
            (ms(6000), ms(5000), true),
        ];
        for (now, until, renew) in rows {
            assert_eq!(renew_before_unfence(now, until, step), renew, "{now:?}");
        }
    }
}
