//! The witness lease's IO (issue 11 §2): one claim or renewal round on the three voters,
//! and the release. The rules are [`crate::plan::lease`]'s, the statements
//! [`crate::io::dialect::lease`]'s.
//!
//! **A round** ([`round`]):
//! 1. A **renewal** (`Mode::Renew`, the writer's check) runs every voter's whole exchange
//!    (connect, [`dialect::lease::PREPARE`]: binlog off and UTC for the session, the voter's
//!    `@@server_id`; then the one conditional UPDATE and its read-back,
//!    [`dialect::lease::claim`]) on its own thread ([`Worker`]), all at once, each within the
//!    full deadline. `t_sent` is read from the local monotonic clock before any of them
//!    starts. A voter that does not answer in time is a lost vote and costs the others
//!    nothing: a renewal never stops early and never gives back, so the order decides nothing.
//! 2. A **claim** (`Mode::Claim`, notify-master) connects and prepares every voter at once,
//!    until every voter answered or soon after a majority is ready
//!    ([`plan::lease::claim_connect_phase`]: at most half the deadline); then, sequentially in
//!    ascending server_id (the witness has its own), sends each ready voter the claim.
//!    `t_sent` is read just before the first of these statements is sent. Each voter may take
//!    its share of what is left of the deadline (what is left / voters left), so that one hung
//!    voter cannot use up the others' time; one that overruns is a lost vote (counting a vote
//!    that was in fact granted as lost is always safe).
//!    Why sequential and in one shared order: see [`plan::lease::after_vote`] — a claim stops
//!    at the first voter another claimant holds, so the first contested voter decides and two
//!    claimants cannot each keep a minority that blocks both until the TTL. A voter left out
//!    of the connect phase leaves the others asked in a subset of that same order.
//! 3. The tally ([`plan::lease::tally`]): a majority of the voters configured. Each answering
//!    voter's clock is compared with ours ([`ClockWatch`]); one that jumped forward does not
//!    count for one TTL.
//! 4. A failed claim gives back the votes it won ([`plan::lease::release_won_votes`]); a
//!    failed renewal never does (fence first, then [`release`]).
//!
//! Ready for the binaries: [`Lease`], [`round`], [`release`], [`Round`], and the re-exported
//! pure pieces ([`Timing`] for the start-up check, [`ClockWatch`]).

use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

use mysql::Conn;

use crate::deadline::Worker;
use crate::io::dialect;
use crate::io::mysql::{ResultSets, Session};
use crate::model::observation::Failure;
use crate::plan;
use crate::plan::lease::{Ballot, Next, Reading};

pub use crate::deadline::Deadline;
pub use crate::exit::Exit;
pub use crate::io::mysql::ConnectionSpec;
pub use crate::model::lease::{
    Answered, GuardRow, Mono, Tally, Vote, VoterError, VoterErrorKind, VoterReport,
};
pub use crate::plan::lease::{
    ClockWatch, DEFAULT_MARGIN, DEFAULT_TTL, Jump, Mode, Timing, TimingError, majority,
};

static ORIGIN: OnceLock<Instant> = OnceLock::new();

impl Mono {
    /// The local monotonic clock now (`std::time::Instant`, CLOCK_MONOTONIC on Linux), as
    /// the time since a fixed instant of this process. Readings of different processes are
    /// not comparable: a binary that keeps readings across runs (the check) needs a
    /// system-wide clock instead (CLOCK_BOOTTIME, which also counts suspended time).
    pub fn now() -> Mono {
        let origin = *ORIGIN.get_or_init(Instant::now);
        Mono(origin.elapsed())
    }
}

/// The lease as one claimant sees it.
#[derive(Debug, Clone)]
pub struct Lease {
    /// The claimant: its own server's `@@server_id` (never 0: 0 marks a free row).
    pub me: u32,
    /// How long each granted row stays ours on the voter's clock ([`DEFAULT_TTL`]).
    pub ttl: Duration,
    /// [`Timing::margin`]; also the clock-jump threshold ([`ClockWatch`]).
    pub margin: Duration,
    /// The voters (A, B, W: three distinct servers), in any order: rounds order them by
    /// server_id.
    pub voters: Vec<ConnectionSpec>,
}

/// Why a round could not be run, or what a voter's answer says about the configuration.
/// Every variant is a configuration error: [`LeaseError::exit`] is 78.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    /// A voter refused the lease statements for a reason the operator fixes with `file`.
    #[error("lease voter {address}: ERROR {code}: {message} (fix: {file})")]
    Config {
        address: String,
        code: u16,
        message: String,
        /// `packaging/split-brain.sql` (no guard table or row) or `packaging/grants.sql`
        /// (a missing privilege or account).
        file: &'static str,
    },
    /// Two voter addresses reach the same server: the majority would be counted twice.
    #[error(
        "lease voters {first} and {second} are the same server (server_id {server_id}): \
         witness mode needs three distinct servers with distinct server_id"
    )]
    SameVoter {
        first: String,
        second: String,
        server_id: u32,
    },
    #[error("the claimant's server_id is 0: 0 marks a free lease row; set server_id")]
    NoServerId,
    /// Witness mode has exactly three voters: the two nodes and the witness.
    #[error("the lease needs exactly 3 voters (the two nodes and the witness), not {count}")]
    VoterCount { count: usize },
}

impl LeaseError {
    /// The exit code: always [`Exit::Config`] (78).
    pub fn exit(&self) -> Exit {
        Exit::Config
    }
}

/// One round's outcome.
#[derive(Debug, Clone)]
pub struct Round {
    pub mode: Mode,
    /// On the local monotonic clock, no later than any voter computed its expiry: a claim's
    /// just before its first claim statement was sent (`None` when no voter was ready); a
    /// renewal's just before its voters' workers started (always `Some`).
    pub t_sent: Option<Mono>,
    /// The votes, per voter in claim order (a renewal: those that answered in server_id
    /// order), then the voters that did not answer, with the majority decision.
    pub tally: Tally,
    /// The voters whose votes this round gave back (a failed claim).
    pub released: Vec<String>,
    /// The voter answers that are configuration errors, in claim order (see
    /// [`Round::config_error`]).
    config: Vec<LeaseError>,
}

impl Round {
    /// Whether this round won a majority. A voter that refused with a configuration error
    /// did not vote: the other two may still be a majority.
    pub fn held(&self) -> bool {
        self.tally.held
    }

    /// The local instant by which the writer must have stopped writing, if it holds the
    /// lease: `t_sent + ttl − margin` ([`Timing::write_until`]).
    pub fn write_until(&self, timing: &Timing) -> Option<Mono> {
        self.t_sent
            .filter(|_| self.held())
            .map(|t| timing.write_until(t))
    }

    /// A voter's answer that is the operator's to fix (exit 78, naming the file): no guard
    /// table, a missing privilege, a refused account. The round still counted the other
    /// voters.
    pub fn config_error(&self) -> Option<&LeaseError> {
        self.config.first()
    }

    /// Every such answer ([`Round::config_error`]), one per voter.
    pub fn config_errors(&self) -> &[LeaseError] {
        &self.config
    }
}

/// A voter after [`dialect::lease::PREPARE`]: ready for the claim, or already a lost vote.
enum Reached {
    Ready(Prepared),
    Lost(Ballot),
}

/// A voter's connection after [`dialect::lease::PREPARE`].
struct Prepared {
    address: String,
    server_id: u32,
    conn: Conn,
}

/// What a voter answered to the claim statement, and when (local monotonic clock): just
/// before it was sent and just after the answer was read.
struct Exchange {
    sent: Mono,
    received: Mono,
    answer: (ResultSets, Option<mysql::Error>),
}

fn voter_error(f: &Failure) -> Option<VoterError> {
    match f {
        Failure::Answered { code, message, .. } => Some(VoterError {
            code: *code,
            message: message.clone(),
            kind: dialect::lease::kind_of(*code),
        }),
        Failure::NoAnswer { .. } => None,
    }
}

/// The vote of a voter whose attempt failed with `e`.
fn failed_vote(e: &mysql::Error) -> Vote {
    let f = Failure::of(e);
    match voter_error(&f) {
        Some(v) => Vote::Failed(v),
        None => Vote::NoAnswer {
            cause: f.to_string(),
        },
    }
}

/// A lost vote: `address` gave no answer, for `cause`.
fn no_answer(address: String, cause: String) -> Ballot {
    Ballot {
        address,
        vote: Vote::NoAnswer { cause },
        discarded: None,
    }
}

/// A duration for messages, to the millisecond.
fn show_ms(d: Duration) -> String {
    humantime::format_duration(Duration::from_millis(d.as_millis() as u64)).to_string()
}

/// A claim's connect phase: connect and prepare every voter at once, and wait until every
/// voter answered or [`plan::lease::claim_connect_phase`] ends the phase (soon after a
/// majority is ready; at most half of what is left of the deadline, so that a hung voter, one
/// whose kernel completes the TCP handshake but that never sends the greeting, leaves the
/// claims their time). A voter not ready by then is a lost vote. One entry per voter, in
/// `voters`' order.
fn prepare_all(voters: &[ConnectionSpec], deadline: &Deadline) -> Vec<Reached> {
    let budget = deadline.remaining();
    let phase = Deadline::new(budget);
    let (tx, rx) = mpsc::channel();
    for (i, spec) in voters.iter().enumerate() {
        let (tx, spec, d) = (tx.clone(), spec.clone(), *deadline);
        // Abandoned when the phase ends first: the process exits soon after (as a Worker).
        std::thread::spawn(move || {
            let _ = tx.send((i, prepare(&spec, &d)));
        });
    }
    drop(tx);
    let mut got: Vec<Option<Reached>> = voters.iter().map(|_| None).collect();
    let mut majority_ready = None;
    let mut end = plan::lease::claim_connect_phase(budget, None);
    while got.iter().any(Option::is_none) {
        let Ok((i, r)) = rx.recv_timeout(end.saturating_sub(phase.elapsed())) else {
            break;
        };
        got[i] = Some(r);
        let ready = got
            .iter()
            .filter(|r| matches!(r, Some(Reached::Ready(_))))
            .count();
        if majority_ready.is_none() && plan::lease::majority(ready, voters.len()) {
            majority_ready = Some(phase.elapsed());
            end = plan::lease::claim_connect_phase(budget, majority_ready);
        }
    }
    voters
        .iter()
        .zip(got)
        .map(|(spec, r)| {
            r.unwrap_or_else(|| {
                Reached::Lost(no_answer(
                    spec.target(),
                    format!(
                        "not connected within the claim's connect phase ({} of {})",
                        show_ms(end),
                        show_ms(budget)
                    ),
                ))
            })
        })
        .collect()
}

fn prepare(spec: &ConnectionSpec, deadline: &Deadline) -> Reached {
    match try_prepare(spec, deadline) {
        Ok(p) => Reached::Ready(p),
        Err(b) => Reached::Lost(*b),
    }
}

fn try_prepare(spec: &ConnectionSpec, deadline: &Deadline) -> Result<Prepared, Box<Ballot>> {
    let address = spec.target();
    let lost = |vote| {
        Box::new(Ballot {
            address: address.clone(),
            vote,
            discarded: None,
        })
    };
    let mut conn = spec.connect(deadline).map_err(|e| {
        lost(match voter_error(&e.failure) {
            Some(v) => Vote::Failed(v),
            None => Vote::NoAnswer {
                cause: e.failure.to_string(),
            },
        })
    })?;
    let (sets, error) = conn.query_sets(dialect::lease::PREPARE);
    if let Some(e) = error {
        return Err(lost(failed_vote(&e)));
    }
    let server_id = dialect::lease::server_id(&sets).ok_or_else(|| {
        lost(Vote::Failed(VoterError {
            code: 0,
            message: "no @@server_id in the answer".into(),
            kind: VoterErrorKind::Other,
        }))
    })?;
    Ok(Prepared {
        address,
        server_id,
        conn,
    })
}

/// One claim (`Mode::Claim`: a fenced node before it unfences) or renewal (`Mode::Renew`:
/// the writer's check) round on all voters, within `deadline`. `watch` keeps the voters'
/// clock readings between rounds (one per process; a fresh one compares nothing).
///
/// A claim asks in ascending server_id order ([`claim_in_order`]); a renewal asks every voter
/// at once ([`renew_in_parallel`]; [`plan::lease::in_parallel`] says why).
///
/// `Err` only when the round cannot be counted at all: the claimant's server_id is 0, there
/// are not exactly 3 voters, or two voters are the same server. A voter's own configuration
/// error is in [`Round::config_error`].
pub fn round(
    lease: &Lease,
    mode: Mode,
    deadline: &Deadline,
    watch: &mut ClockWatch,
) -> Result<Round, LeaseError> {
    if lease.me == 0 {
        return Err(LeaseError::NoServerId);
    }
    if lease.voters.len() != 3 {
        return Err(LeaseError::VoterCount {
            count: lease.voters.len(),
        });
    }
    let claim = dialect::lease::claim(lease.me, lease.ttl.as_micros() as u64);
    let (t_sent, ballots, granted) = if plan::lease::in_parallel(mode) {
        let (t_sent, ballots) = renew_in_parallel(lease, &claim, deadline, watch)?;
        (Some(t_sent), ballots, Vec::new())
    } else {
        claim_in_order(lease, mode, &claim, deadline, watch)?
    };
    let config = config_errors(&ballots);
    let tally = plan::lease::tally(lease.me, &ballots);
    let released = if plan::lease::release_won_votes(mode, tally.held) {
        give_back(lease, granted, deadline)
    } else {
        Vec::new()
    };
    Ok(Round {
        mode,
        t_sent,
        tally,
        released,
        config,
    })
}

/// A claim: connect and prepare every voter at once ([`prepare_all`]), then ask those that
/// are ready one after the other in ascending server_id, stopping as
/// [`plan::lease::after_vote`] says. Returns `t_sent` (just before the first claim statement
/// was sent; `None` when no voter was ready), one ballot per voter (claim order, then those
/// not ready) and the connections of the voters that granted (to give the votes back).
#[allow(clippy::type_complexity)]
fn claim_in_order(
    lease: &Lease,
    mode: Mode,
    claim: &str,
    deadline: &Deadline,
    watch: &mut ClockWatch,
) -> Result<(Option<Mono>, Vec<Ballot>, Vec<(String, Conn)>), LeaseError> {
    let (reached, lost) = voters_in_order(lease, deadline)?;
    let mut t_sent = None;
    let mut stopped = false;
    let mut ballots = Vec::new();
    let mut granted = Vec::new();
    let count = reached.len();
    for (i, p) in reached.into_iter().enumerate() {
        if stopped {
            ballots.push(Ballot {
                address: p.address,
                vote: Vote::NotAsked,
                discarded: None,
            });
            continue;
        }
        let share = deadline.remaining() / (count - i) as u32;
        let (ballot, sent, conn) = ask(lease, claim, p, share, watch);
        t_sent.get_or_insert(sent);
        stopped = plan::lease::after_vote(mode, &ballot.vote) == Next::Stop;
        if let (Vote::Granted(_), Some(conn)) = (&ballot.vote, conn) {
            granted.push((ballot.address.clone(), conn));
        }
        ballots.push(ballot);
    }
    ballots.extend(lost);
    Ok((t_sent, ballots, granted))
}

/// A renewal: every voter's whole exchange (connect, [`dialect::lease::PREPARE`], the claim
/// statement and its read-back) on its own thread, all at once, each within the full
/// `deadline`: a voter that does not answer (a cut that drops packets, a hung server) costs
/// the others nothing. Returns `t_sent`, read before any of them starts (so every voter
/// computed its expiry after it: conservative by the connect time), and one ballot per voter:
/// those that answered in ascending server_id, then the others in `lease.voters`' order.
///
/// Two addresses of one server are found only after the statements were sent (a renewal is
/// idempotent on a voter; the round is then `Err` and counts nothing).
fn renew_in_parallel(
    lease: &Lease,
    claim: &str,
    deadline: &Deadline,
    watch: &mut ClockWatch,
) -> Result<(Mono, Vec<Ballot>), LeaseError> {
    let t_sent = Mono::now();
    let workers: Vec<_> = lease
        .voters
        .iter()
        .map(|spec| {
            let (spec, q, d) = (spec.clone(), claim.to_string(), *deadline);
            Worker::start(move || renew_one(&spec, &q, &d))
        })
        .collect();
    let mut answered = Vec::new();
    let mut lost = Vec::new();
    for (spec, w) in lease.voters.iter().zip(workers) {
        match w.wait(deadline.remaining()) {
            Some(Ok((address, server_id, x))) => answered.push((address, server_id, x)),
            Some(Err(b)) => lost.push(*b),
            None => lost.push(no_answer(
                spec.target(),
                format!(
                    "no answer within the deadline ({})",
                    show_ms(deadline.budget())
                ),
            )),
        }
    }
    answered.sort_by_key(|(_, server_id, _)| *server_id);
    if let Some(w) = answered.windows(2).find(|w| w[0].1 == w[1].1) {
        return Err(LeaseError::SameVoter {
            first: w[0].0.clone(),
            second: w[1].0.clone(),
            server_id: w[0].1,
        });
    }
    let mut ballots: Vec<Ballot> = answered
        .into_iter()
        .map(|(address, server_id, x)| judge(lease, address, server_id, x, watch))
        .collect();
    ballots.extend(lost);
    Ok((t_sent, ballots))
}

/// One voter's renewal exchange, on a renewal's worker: its address, server_id and answer,
/// or the ballot of a voter that could not be asked.
fn renew_one(
    spec: &ConnectionSpec,
    claim: &str,
    deadline: &Deadline,
) -> Result<(String, u32, Exchange), Box<Ballot>> {
    let Prepared {
        address,
        server_id,
        mut conn,
    } = try_prepare(spec, deadline)?;
    let sent = Mono::now();
    let answer = conn.query_sets(claim);
    let received = Mono::now();
    Ok((
        address,
        server_id,
        Exchange {
            sent,
            received,
            answer,
        },
    ))
}

/// The voters that answered, prepared and in ascending `server_id` order (the order every
/// claimant asks in), and a ballot for each one that did not; `Err` for two addresses of one
/// voter.
fn voters_in_order(
    lease: &Lease,
    deadline: &Deadline,
) -> Result<(Vec<Prepared>, Vec<Ballot>), LeaseError> {
    let mut lost = Vec::new();
    let mut reached = Vec::new();
    for p in prepare_all(&lease.voters, deadline) {
        match p {
            Reached::Ready(p) => reached.push(p),
            Reached::Lost(b) => lost.push(b),
        }
    }
    reached.sort_by_key(|p| p.server_id);
    if let Some(w) = reached
        .windows(2)
        .find(|w| w[0].server_id == w[1].server_id)
    {
        return Err(LeaseError::SameVoter {
            first: w[0].address.clone(),
            second: w[1].address.clone(),
            server_id: w[0].server_id,
        });
    }
    Ok((reached, lost))
}

/// Send `claim` to one prepared voter and wait at most `share` for its vote. Returns the
/// ballot, when the statement was sent (monotonic), and the connection when it is still
/// usable (to give a granted vote back).
fn ask(
    lease: &Lease,
    claim: &str,
    p: Prepared,
    share: Duration,
    watch: &mut ClockWatch,
) -> (Ballot, Mono, Option<Conn>) {
    let Prepared {
        address,
        server_id,
        mut conn,
    } = p;
    let sent = Mono::now();
    let q = claim.to_string();
    let answer = Worker::start(move || {
        let r = conn.query_sets(&q);
        (conn, r)
    })
    .wait(share);
    let received = Mono::now();
    match answer {
        None => {
            let cause = format!(
                "no answer within its share of the deadline ({})",
                show_ms(share)
            );
            (no_answer(address, cause), sent, None)
        }
        Some((conn, answer)) => {
            let x = Exchange {
                sent,
                received,
                answer,
            };
            (judge(lease, address, server_id, x, watch), sent, Some(conn))
        }
    }
}

/// The ballot of voter `server_id` at `address` from its answer to the claim statement; its
/// clock reading goes to `watch`, which may discard the vote.
fn judge(
    lease: &Lease,
    address: String,
    server_id: u32,
    x: Exchange,
    watch: &mut ClockWatch,
) -> Ballot {
    let Exchange {
        sent,
        received,
        answer,
    } = x;
    let vote = match answer {
        (_, Some(e)) => failed_vote(&e),
        (sets, None) => match dialect::lease::guard_row(&sets) {
            Err(e) => Vote::Failed(e),
            Ok(row) => {
                let a = Answered {
                    row,
                    sent,
                    received,
                };
                if row.holder == lease.me && row.expires_us > row.now_us {
                    Vote::Granted(a)
                } else {
                    Vote::Held(a)
                }
            }
        },
    };
    let discarded = match &vote {
        Vote::Granted(a) | Vote::Held(a) => watch.observe(
            server_id,
            Reading {
                voter_now_us: a.row.now_us,
                sent,
                received,
            },
            lease.margin,
            lease.ttl,
        ),
        _ => None,
    };
    Ballot {
        address,
        vote,
        discarded,
    }
}

/// The voters whose refusal is a configuration error (missing table or grant).
fn config_errors(ballots: &[Ballot]) -> Vec<LeaseError> {
    ballots
        .iter()
        .filter_map(|b| match &b.vote {
            Vote::Failed(e) => e.kind.file().map(|file| LeaseError::Config {
                address: b.address.clone(),
                code: e.code,
                message: e.message.clone(),
                file,
            }),
            _ => None,
        })
        .collect()
}

/// Give back the votes of a claim that did not win a majority, over the connections that
/// won them, within `deadline`; the addresses where that worked.
fn give_back(lease: &Lease, granted: Vec<(String, Conn)>, deadline: &Deadline) -> Vec<String> {
    let q = dialect::lease::release(lease.me);
    let mut released = Vec::new();
    for (address, mut conn) in granted {
        let q = q.clone();
        let done = Worker::start(move || conn.query_sets(&q)).wait(deadline.remaining());
        if matches!(done, Some((_, None))) {
            released.push(address);
        }
    }
    released
}

/// What [`release`] did on one voter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    /// The row was ours; it is free now.
    Released,
    /// The row was not ours (free, or another claimant's): nothing changed.
    NotOurs,
    /// The voter did not answer in time: the row (if ours) expires by its TTL.
    NoAnswer { cause: String },
    /// The voter refused (see [`VoterErrorKind::file`]).
    Failed(VoterError),
}

/// Give back every row `lease.me` holds: on all voters at once (order does not matter for
/// giving back), each within `deadline`. Only after fencing (notify-backup): a writer that
/// releases while still writable would let the other claimant win a majority at once.
/// Returns one outcome per voter, in `lease.voters`' order.
pub fn release(lease: &Lease, deadline: &Deadline) -> Vec<(String, Released)> {
    let q = dialect::lease::release(lease.me);
    on_every_voter(
        lease,
        deadline,
        move |spec, d| release_one(spec, &q, d),
        || Released::NoAnswer {
            cause: "no answer within the deadline".into(),
        },
    )
}

/// Run `one` on every voter at once, each on its own thread within `deadline`; a voter that
/// has not answered by then gets `late()`. One result per voter, in `lease.voters`' order.
fn on_every_voter<T: Send + 'static>(
    lease: &Lease,
    deadline: &Deadline,
    one: impl Fn(&ConnectionSpec, &Deadline) -> T + Send + Sync + Clone + 'static,
    late: impl Fn() -> T,
) -> Vec<(String, T)> {
    let workers: Vec<_> = lease
        .voters
        .iter()
        .map(|spec| {
            let (spec, d, one) = (spec.clone(), *deadline, one.clone());
            Worker::start(move || one(&spec, &d))
        })
        .collect();
    lease
        .voters
        .iter()
        .zip(workers)
        .map(|(spec, w)| {
            (
                spec.target(),
                w.wait(deadline.remaining()).unwrap_or_else(&late),
            )
        })
        .collect()
}

fn release_one(spec: &ConnectionSpec, q: &str, deadline: &Deadline) -> Released {
    let refused = |f: &Failure| match voter_error(f) {
        Some(v) => Released::Failed(v),
        None => Released::NoAnswer {
            cause: f.to_string(),
        },
    };
    let mut conn = match spec.connect(deadline) {
        Ok(c) => c,
        Err(e) => return refused(&e.failure),
    };
    let (_, error) = conn.query_sets(dialect::lease::PREPARE);
    if let Some(e) = error {
        return refused(&Failure::of(&e));
    }
    match conn.query_sets(q) {
        (_, Some(e)) => refused(&Failure::of(&e)),
        (sets, None) => match dialect::lease::released(&sets) {
            Some(n) if n > 0 => Released::Released,
            _ => Released::NotOurs,
        },
    }
}

/// What [`peek`] read on one voter.
pub type Peeked = (String, Result<GuardRow, String>);

/// Read every voter's guard row without claiming it ([`dialect::lease::PEEK`]), all at once,
/// each within `deadline`: one entry per voter in `lease.voters`' order; `Err` says why a
/// voter gave no row. Changes nothing (a fenced, refused node's check: who holds the lease).
pub fn peek(lease: &Lease, deadline: &Deadline) -> Vec<Peeked> {
    on_every_voter(lease, deadline, peek_one, || {
        Err("no answer within the deadline".into())
    })
}

fn peek_one(spec: &ConnectionSpec, deadline: &Deadline) -> Result<GuardRow, String> {
    let mut conn = spec.connect(deadline).map_err(|e| e.failure.to_string())?;
    match conn.query_sets(dialect::lease::PEEK) {
        (_, Some(e)) => Err(Failure::of(&e).to_string()),
        (sets, None) => dialect::lease::guard_row(&sets).map_err(|e| e.message),
    }
}

/// This server as the check's lease work sees it: its connection, `@@server_id` and
/// `read_only` ([`dialect::lease::LOCAL`]).
pub struct Local {
    pub conn: Conn,
    pub server_id: u32,
    pub read_only: Option<bool>,
}

/// Connect to this server and read [`Local`]; `Err`: why not (a [`Failure`]).
pub fn local(spec: &ConnectionSpec, deadline: &Deadline) -> Result<Local, Failure> {
    let mut conn = spec.connect(deadline).map_err(|e| e.failure)?;
    match conn.query_sets(dialect::lease::LOCAL) {
        (_, Some(e)) => Err(Failure::of(&e)),
        (sets, None) => {
            let (server_id, read_only) = dialect::lease::local(&sets);
            Ok(Local {
                conn,
                server_id: server_id.unwrap_or(0),
                read_only,
            })
        }
    }
}

/// One line for syslog of what [`release`] did on each voter (notify-backup), and whether
/// every voter answered (`false`: a warning; the rows not given back expire by their TTL).
pub fn release_line(me: u32, outcomes: &[(String, Released)]) -> (String, bool) {
    let mut all_answered = true;
    let parts: Vec<String> = outcomes
        .iter()
        .map(|(address, r)| match r {
            Released::Released => format!("{address} released"),
            Released::NotOurs => format!("{address} not ours"),
            Released::NoAnswer { cause } => {
                all_answered = false;
                format!("{address} no answer ({cause}; expires by its TTL)")
            }
            Released::Failed(e) => {
                all_answered = false;
                format!("{address} ERROR {}: {}", e.code, e.message)
            }
        })
        .collect();
    (
        format!("lease released (server_id {me}): {}", parts.join(", ")),
        all_answered,
    )
}
