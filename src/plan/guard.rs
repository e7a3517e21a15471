//! notify-master's split-brain guard, two-node mode (issue 11 §1,
//! docs/contract.md "Split brain"), pure: what the peer probe found and whether the claim is
//! held in, whether to unfence out ([`decide`]); the order in which the claim is taken
//! ([`claim_order`]); whether this node has applied everything the peer has written
//! ([`caught_up_with`]); and when a silent replication connection is restarted
//! ([`restart_io`]).
//!
//! The claim is `GET_LOCK('keepalived_mysql.promote', T)` on both servers, the one with the
//! lower `server_id` first, held until notify-master's run ends (a lock dies with its
//! connection). Two notify-masters racing take the first lock in the same place, so one of
//! them holds both or neither: they can never each hold half. Refusing is always safe (the
//! node stays fenced); only [`Step::Proceed`] lets notify-master go on to unfence.

use std::time::Duration;

use crate::model::gtid;
use crate::model::observation::{Dialect, PeerObservation, Refusal};

/// What the peer probe found, reduced to what the guard decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    /// No `--peer` (nor `peer` key): the guard is off.
    NotConfigured,
    /// No answer at all (refused, unreachable, timed out): the two-node guard cannot tell a
    /// dead peer from a cut link, and proceeds without it (the stated limit).
    NoAnswer,
    /// It answered `read_only=1` (MySQL: or `super_read_only=1`).
    Fenced,
    /// It answered `read_only=0`: it takes writes.
    Writable,
    /// It answered with an error (at its connection limit, shutting down, ...) or without a
    /// `read_only` value: it is up, and not provably fenced.
    Unknown,
    /// The guard's table is missing there, or this account may not read it (1146, 1049,
    /// 1142, 1143): `packaging/split-brain.sql` or `packaging/grants.sql` was not run.
    GuardMissing,
    /// The peer refuses this account (credentials, no account for this node's address).
    AccountRefused,
}

impl PeerState {
    /// The state of a probe's answer ([`crate::io::observe::observe_peer`]'s observation).
    pub fn of(peer: &PeerObservation) -> PeerState {
        match peer {
            PeerObservation::NotAsked => PeerState::NotConfigured,
            PeerObservation::Unreachable { .. } => PeerState::NoAnswer,
            PeerObservation::Refused { refusal, .. } => match refusal {
                Refusal::Guard => PeerState::GuardMissing,
                Refusal::Account => PeerState::AccountRefused,
                Refusal::Saturated | Refusal::Other => PeerState::Unknown,
            },
            PeerObservation::Reached { read_only, .. } => match read_only {
                Some(true) => PeerState::Fenced,
                Some(false) => PeerState::Writable,
                None => PeerState::Unknown,
            },
        }
    }
}

/// Whether the claim is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// `GET_LOCK` returned 1 on every server that answered (the local one; the peer's too
    /// unless it gave no answer).
    Held,
    /// Another promotion held it until the catch-up deadline (`GET_LOCK` returned 0).
    Busy,
}

/// Why notify-master stays fenced because of the guard. The exit code of each is decided in
/// `NotifyError::exit` (6 split-brain, 1 down, 78 config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refuse {
    /// The peer is writable: split brain avoided (exit 6, refusal marker written).
    PeerWritable,
    /// Another promotion holds the claim (exit 6, refusal marker written): it is becoming
    /// the writer, or failed and the next transition retries.
    ClaimBusy,
    /// The peer is up but did not say that it is fenced (exit 1).
    PeerUnknown,
    /// The guard's table or its grant is missing on the peer (exit 78).
    GuardMissing,
    /// The peer refuses this account (exit 78: grants.sql's peer-address accounts).
    AccountRefused,
    /// Witness mode: the lease claim did not win a majority of the three voters within the
    /// catch-up budget, or a renewal right before unfencing lost it (exit 6, refusal marker
    /// written): another node holds it, or this node cannot reach a majority.
    LeaseNotHeld,
}

impl Refuse {
    /// Whether to write the refusal marker (`io::state::REFUSAL_FILE`): check-mysql then
    /// fails this node with exit 6 while the peer answers writable.
    pub fn marks(self) -> bool {
        matches!(
            self,
            Refuse::PeerWritable | Refuse::ClaimBusy | Refuse::LeaseNotHeld
        )
    }
}

/// What notify-master does after the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Go on: catch up (with the peer's position when `peer_fenced`), then unfence.
    Proceed { peer_fenced: bool },
    /// Go on without the peer, which gave no answer: logged as a warning (two-node limit).
    ProceedAlone,
    /// Stay fenced, record `promotion-failed`.
    Refuse(Refuse),
}

/// The guard's rule, for the probe under the claim and for the re-probe right before
/// unfencing (issue 11 §1). A writable peer refuses whatever the claim; a missing guard or a
/// refused account is configuration; a peer that answers anything else but "fenced" refuses;
/// a fenced peer proceeds only under the claim; a silent peer proceeds alone unless another
/// promotion holds the claim here.
pub fn decide(peer: PeerState, claim: Claim) -> Step {
    match (peer, claim) {
        (PeerState::Writable, _) => Step::Refuse(Refuse::PeerWritable),
        (PeerState::GuardMissing, _) => Step::Refuse(Refuse::GuardMissing),
        (PeerState::AccountRefused, _) => Step::Refuse(Refuse::AccountRefused),
        (PeerState::Unknown, _) => Step::Refuse(Refuse::PeerUnknown),
        (_, Claim::Busy) => Step::Refuse(Refuse::ClaimBusy),
        (PeerState::Fenced, Claim::Held) => Step::Proceed { peer_fenced: true },
        (PeerState::NoAnswer, _) => Step::ProceedAlone,
        (PeerState::NotConfigured, _) => Step::Proceed { peer_fenced: false },
    }
}

/// Which server's lock is taken first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Local,
    Peer,
}

/// The claim's order: the server with the lower `server_id` first, so that two racing
/// notify-masters (whose "local" and "peer" are swapped) ask in the same order. A peer
/// whose `server_id` is unknown, or equal to ours (a misconfiguration replication refuses
/// anyway), is asked second: the worst case is two claimants each holding one lock until
/// the deadline, and both refuse.
pub fn claim_order(own: u32, peer: Option<u32>) -> [Side; 2] {
    match peer {
        Some(p) if p < own => [Side::Peer, Side::Local],
        _ => [Side::Local, Side::Peer],
    }
}

/// Whether this node has applied everything the peer has written: MariaDB, this node's
/// `gtid_current_pos` against the peer's `gtid_binlog_state` (not `MASTER_GTID_WAIT`, which
/// compares with `gtid_slave_pos`: in a dual master the peer's last GTID may be this node's
/// own write, which `gtid_slave_pos` never shows: verified on MariaDB 10.11); MySQL, this
/// node's `gtid_executed` against the peer's. A diverged history is never caught up. `Err`:
/// a position that is not a GTID list.
pub fn caught_up_with(dialect: Dialect, own: &str, peer: &str) -> Result<bool, String> {
    let cmp = match dialect {
        Dialect::MariaDb => {
            gtid::compare_mariadb(&gtid::parse_mariadb(own)?, &gtid::parse_mariadb(peer)?)
        }
        Dialect::MySql => gtid::compare_mysql(&gtid::parse_mysql(own)?, &gtid::parse_mysql(peer)?),
    };
    Ok(cmp.behind == 0 && !cmp.is_diverged())
}

/// How long a replication connection may receive nothing while the peer is ahead before its
/// IO thread is restarted (issue 11 §1: reconnect rather than wait for `slave_net_timeout`).
pub const SILENT_IO: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether to restart the IO thread now: only once per promotion, only while the peer is
/// ahead, only a thread that says it runs (`Slave_IO_Running=Yes`: one stopped by someone
/// is not started), and only after its received position stayed the same for
/// [`SILENT_IO`].
pub fn restart_io(
    peer_ahead: bool,
    io_running: bool,
    unmoved_for: std::time::Duration,
    restarted: bool,
) -> bool {
    peer_ahead && io_running && !restarted && unmoved_for >= SILENT_IO
}

/// `check-mysql --watch`'s record of a peer that gives no answer (docs/contract.md "Watch
/// mode"): which peer, since when its polls have had no answer, and when the last of them
/// failed, both in milliseconds since boot ([`crate::io::state::uptime_ms`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    pub peer: String,
    pub since_ms: u64,
    pub last_ms: u64,
}

/// A record older than this (its last failed poll) is not used: the watcher that wrote it
/// may have stopped, and the peer may be back.
pub const SILENCE_FRESH: Duration = Duration::from_secs(1);

/// The shortest wait of notify-master's first peer probe, however long the peer has been
/// silent: the peer is always asked afresh.
pub const MIN_PROBE: Duration = Duration::from_millis(100);

impl Silence {
    pub fn render(&self) -> String {
        format!(
            "peer={} since_ms={} last_ms={}\n",
            self.peer, self.since_ms, self.last_ms
        )
    }

    pub fn parse(text: &str) -> Option<Silence> {
        let mut peer = None;
        let (mut since, mut last) = (None, None);
        for field in text.split_whitespace() {
            match field.split_once('=')? {
                ("peer", v) => peer = Some(v.to_string()),
                ("since_ms", v) => since = v.parse().ok(),
                ("last_ms", v) => last = v.parse().ok(),
                _ => {}
            }
        }
        Some(Silence {
            peer: peer?,
            since_ms: since?,
            last_ms: last?,
        })
    }
}

/// How long notify-master's first probe waits for `peer` (issue 12): `--timeout`, less what
/// the watcher has already seen of the same peer's silence, but at least [`MIN_PROBE`]. The
/// peer is declared silent only after `--timeout` of silence in all, as without the watcher
/// (the two-node rule "a peer that does not answer within --timeout is gone"); the watcher
/// only lets part of that silence be counted before notify-master starts. A record of
/// another peer, from the future, or stale ([`SILENCE_FRESH`]) counts nothing.
pub fn probe_budget(
    timeout: Duration,
    peer: &str,
    silence: Option<&Silence>,
    now_ms: Option<u64>,
) -> Duration {
    let (Some(s), Some(now)) = (silence, now_ms) else {
        return timeout;
    };
    let fresh = s.peer == peer
        && s.since_ms <= s.last_ms
        && s.last_ms <= now
        && Duration::from_millis(now - s.last_ms) <= SILENCE_FRESH;
    if !fresh {
        return timeout;
    }
    timeout
        .saturating_sub(Duration::from_millis(now - s.since_ms))
        .max(MIN_PROBE)
        .min(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::observation::GtidVars;
    use std::time::Duration;

    /// The peer's answers as `observe_peer` builds them from the server's row
    /// (`VERSION(), gtid_binlog_state, read_only, server_id, writer_since`) or its error.
    fn reached(read_only: Option<bool>) -> PeerObservation {
        PeerObservation::Reached {
            address: "10.0.0.2:3306".into(),
            dialect: Dialect::MariaDb,
            gtid: GtidVars {
                binlog_state: Some("0-1-10,0-2-41".into()),
                ..GtidVars::default()
            },
            read_only,
            server_id: Some(2),
            writer_since: read_only
                .filter(|on| !on)
                .map(|_| "2026-11-30 01:02:03.456789".into()),
        }
    }
    fn refused(code: u16) -> PeerObservation {
        PeerObservation::Refused {
            address: "10.0.0.2:3306".into(),
            error: format!("ERROR {code}"),
            code,
            refusal: Refusal::of(code),
        }
    }

    #[test]
    fn every_answer_of_the_peer_probe() {
        let rows = [
            (PeerObservation::NotAsked, PeerState::NotConfigured),
            (
                PeerObservation::Unreachable {
                    address: "10.0.0.2:3306".into(),
                    error: "Connection refused".into(),
                },
                PeerState::NoAnswer,
            ),
            (reached(Some(true)), PeerState::Fenced),
            (reached(Some(false)), PeerState::Writable),
            (reached(None), PeerState::Unknown),
            (refused(1040), PeerState::Unknown),
            (refused(1053), PeerState::Unknown),
            (refused(1146), PeerState::GuardMissing),
            (refused(1049), PeerState::GuardMissing),
            (refused(1142), PeerState::GuardMissing),
            (refused(1045), PeerState::AccountRefused),
            (refused(1130), PeerState::AccountRefused),
        ];
        for (obs, expected) in rows {
            assert_eq!(PeerState::of(&obs), expected, "{obs:?}");
        }
    }

    const ALL_PEERS: [PeerState; 7] = [
        PeerState::NotConfigured,
        PeerState::NoAnswer,
        PeerState::Fenced,
        PeerState::Writable,
        PeerState::Unknown,
        PeerState::GuardMissing,
        PeerState::AccountRefused,
    ];
    const ALL_CLAIMS: [Claim; 2] = [Claim::Held, Claim::Busy];

    /// One row per combination: the peer's state, the claim, the step.
    fn table() -> Vec<(PeerState, Claim, Step)> {
        use Claim::{Busy, Held};
        use PeerState::*;
        let go = Step::Proceed { peer_fenced: false };
        let go_fenced = Step::Proceed { peer_fenced: true };
        let no = Step::Refuse;
        vec![
            // No peer: the guard is off (only a claim taken by another run stops it).
            (NotConfigured, Held, go),
            (NotConfigured, Busy, no(Refuse::ClaimBusy)),
            // Silent peer: the two-node limit, proceed alone unless claimed here.
            (NoAnswer, Held, Step::ProceedAlone),
            (NoAnswer, Busy, no(Refuse::ClaimBusy)),
            // Fenced peer: only under the claim (probed under it).
            (Fenced, Held, go_fenced),
            (Fenced, Busy, no(Refuse::ClaimBusy)),
            // Writable peer: never, whatever the claim.
            (Writable, Held, no(Refuse::PeerWritable)),
            (Writable, Busy, no(Refuse::PeerWritable)),
            // Up but not provably fenced.
            (Unknown, Held, no(Refuse::PeerUnknown)),
            (Unknown, Busy, no(Refuse::PeerUnknown)),
            // Configuration.
            (GuardMissing, Held, no(Refuse::GuardMissing)),
            (GuardMissing, Busy, no(Refuse::GuardMissing)),
            (AccountRefused, Held, no(Refuse::AccountRefused)),
            (AccountRefused, Busy, no(Refuse::AccountRefused)),
        ]
    }

    #[test]
    fn every_row_of_the_guard() {
        for (peer, claim, expected) in table() {
            assert_eq!(decide(peer, claim), expected, "{peer:?} {claim:?}");
        }
    }

    #[test]
    fn the_guard_table_has_every_combination_once() {
        let rows = table();
        for peer in ALL_PEERS {
            for claim in ALL_CLAIMS {
                let n = rows
                    .iter()
                    .filter(|(p, c, _)| (*p, *c) == (peer, claim))
                    .count();
                assert_eq!(n, 1, "{peer:?} {claim:?} has {n} rows");
            }
        }
        assert_eq!(rows.len(), ALL_PEERS.len() * ALL_CLAIMS.len());
    }

    /// Only a peer that answered "fenced" under the claim, or that gave no answer at all,
    /// lets a guarded promotion go on.
    #[test]
    fn a_writable_or_unknown_peer_never_proceeds() {
        for (peer, _, step) in table() {
            if matches!(step, Step::Proceed { .. } | Step::ProceedAlone) {
                assert!(
                    matches!(
                        peer,
                        PeerState::NotConfigured | PeerState::NoAnswer | PeerState::Fenced
                    ),
                    "{peer:?} {step:?}"
                );
            }
        }
    }

    /// Two racing notify-masters (server ids 1 and 2, each "local" to itself) ask the two
    /// servers in the same order.
    #[test]
    fn both_claimants_lock_the_lower_server_id_first() {
        use Side::{Local, Peer};
        let rows = [
            (1, Some(2), [Local, Peer]),
            (2, Some(1), [Peer, Local]),
            (7, Some(7), [Local, Peer]),
            (7, None, [Local, Peer]),
        ];
        for (own, peer, order) in rows {
            assert_eq!(claim_order(own, peer), order, "{own} {peer:?}");
        }
        // The first server asked is the same one for both.
        let server = |own: u32, peer: u32, side: Side| if side == Local { own } else { peer };
        assert_eq!(
            server(1, 2, claim_order(1, Some(2))[0]),
            server(2, 1, claim_order(2, Some(1))[0])
        );
    }

    /// own position, the peer's, caught up: rows as the servers print them.
    #[test]
    fn caught_up_with_the_peer() {
        let mariadb = [
            // The peer's last GTID is this node's own write (0-1-6): gtid_current_pos has
            // it, gtid_slave_pos would not (MASTER_GTID_WAIT would wait for ever).
            ("0-1-6", "0-2-4,0-1-6", true),
            ("0-2-4", "0-1-3,0-2-4", true),
            // The peer wrote 0-2-7 that this node has not applied.
            ("0-1-6", "0-1-6,0-2-7", false),
            ("0-2-5", "0-1-3,0-2-7", false),
            // This node is ahead (its write has not reached the peer yet): nothing to wait.
            ("0-1-8", "0-1-6,0-2-7", true),
            // Another domain the peer has and this node lacks.
            ("0-1-6", "0-1-6,1-2-3", false),
            // Diverged: both wrote seq 7.
            ("0-1-7", "0-1-6,0-2-7", false),
            // Fresh pair.
            ("", "", true),
        ];
        for (own, peer, expected) in mariadb {
            assert_eq!(
                caught_up_with(Dialect::MariaDb, own, peer),
                Ok(expected),
                "{own} vs {peer}"
            );
        }
        let u1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        let u2 = "4a2bd3b0-71ca-11e1-9e33-c80aa9429562";
        let mysql = [
            (
                format!("{u1}:1-10,\n{u2}:1-3"),
                format!("{u1}:1-10,{u2}:1-3"),
                true,
            ),
            (format!("{u1}:1-10"), format!("{u1}:1-10,{u2}:1-3"), false),
            (format!("{u1}:1-12"), format!("{u1}:1-10"), true),
        ];
        for (own, peer, expected) in mysql {
            assert_eq!(
                caught_up_with(Dialect::MySql, &own, &peer),
                Ok(expected),
                "{own} vs {peer}"
            );
        }
        assert!(caught_up_with(Dialect::MariaDb, "x", "0-1-1").is_err());
    }

    #[test]
    fn a_silent_connection_is_restarted_once() {
        let s = Duration::from_millis(1000);
        let short = Duration::from_millis(999);
        // peer ahead, IO running, unmoved for, restarted already → restart
        let rows = [
            (true, true, s, false, true),
            (true, true, short, false, false),
            (true, true, s, true, false),
            (false, true, s, false, false),
            (true, false, s, false, false),
        ];
        for (ahead, running, unmoved, restarted, expected) in rows {
            assert_eq!(
                restart_io(ahead, running, unmoved, restarted),
                expected,
                "{ahead} {running} {unmoved:?} {restarted}"
            );
        }
    }

    #[test]
    fn the_watchers_record_of_a_silent_peer_shortens_the_first_probe() {
        let t = Duration::from_millis(800);
        let rec = |since_ms, last_ms| Silence {
            peer: "10.0.0.2:3306".into(),
            since_ms,
            last_ms,
        };
        let ms = Duration::from_millis;
        // (record, now, budget)
        let table: Vec<(Option<Silence>, Option<u64>, Duration)> = vec![
            // No watcher, or no clock: the whole --timeout.
            (None, Some(10_000), t),
            (Some(rec(9_000, 9_900)), None, t),
            // Silent for 500 ms, last seen 100 ms ago: 300 ms more make 800.
            (Some(rec(9_500, 9_900)), Some(10_000), ms(300)),
            // Silent for longer than --timeout: still asked afresh, for MIN_PROBE.
            (Some(rec(5_000, 9_950)), Some(10_000), MIN_PROBE),
            // Stale (the watcher stopped 1.5 s ago): nothing counts.
            (Some(rec(5_000, 8_500)), Some(10_000), t),
            // From the future, or inconsistent: nothing counts.
            (Some(rec(9_500, 10_500)), Some(10_000), t),
            (Some(rec(9_900, 9_500)), Some(10_000), t),
        ];
        for (record, now, want) in table {
            assert_eq!(
                probe_budget(t, "10.0.0.2:3306", record.as_ref(), now),
                want,
                "{record:?} at {now:?}"
            );
        }
        // Another peer's record counts nothing.
        let other = Silence {
            peer: "10.0.0.9:3306".into(),
            ..rec(9_000, 9_990)
        };
        assert_eq!(
            probe_budget(t, "10.0.0.2:3306", Some(&other), Some(10_000)),
            t
        );
        // The file round-trips; garbage is no record.
        let r = rec(1, 2);
        assert_eq!(Silence::parse(&r.render()), Some(r));
        for bad in ["", "peer=x", "peer=x since_ms=1 last_ms=z", "nonsense"] {
            assert_eq!(Silence::parse(bad), None, "{bad:?}");
        }
    }
}
