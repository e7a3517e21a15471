//! notify-master's split-brain guard with `--peer` (issue 11 §1, docs/contract.md "Split
//! brain"): the IO. Connect to the peer, take the claim on both servers in
//! [`guard::claim_order`], probe the peer under it, catch up to what the peer has written,
//! re-probe right before unfencing. Every decision is [`guard::decide`]'s (and the wait's
//! [`guard::caught_up_with`], [`guard::restart_io`]); a refusal is carried out by
//! [`refuse`].

use std::time::{Duration, Instant};

use mysql::Conn;

use crate::app::notify::{self, Context, NotifyError, Outcome, exec, sql, superseded};
use crate::deadline::Deadline;
use crate::io::mysql::{ConnectionSpec, first_value, query_sets};
use crate::io::observe::peer_history;
use crate::io::state;
use crate::model::observation::{Dialect, Failure, IoState, PeerObservation};
use crate::model::role::Role;
use crate::plan::guard::{self, Claim, PeerState, Refuse, Side, Step};
use crate::plan::promotion::Wait;
use crate::report::Severity;

/// The guard of one promotion: the peer's connection (which holds the peer's half of the
/// claim until it closes, at the end of the run) and what the probe under the claim found.
pub(crate) struct Guarded {
    /// The peer's address (`HOST:PORT`), for messages.
    pub peer: String,
    spec: ConnectionSpec,
    /// `None`: the peer gave no answer (two-node limit: proceeding without it).
    conn: Option<Conn>,
    /// The peer's GTID position to catch up to (its `gtid_binlog_state`, MySQL
    /// `gtid_executed`); `None` when it gave no answer.
    pub target: Option<String>,
    /// The peer gave no answer at some probe: the promotion goes on without the guard (the
    /// two-node limit), which the line and the JSON `guard` field say.
    pub alone: bool,
}

/// Why the guard stopped the promotion: a refusal already recorded (its error), or a newer
/// transition (its outcome).
pub(crate) type Stop = Result<Outcome, NotifyError>;

/// Connect to the peer, take the claim, probe the peer under it. `Err`: the promotion ends
/// here ([`refuse`] has recorded it, or a newer transition superseded it). The claim waits
/// at most until `catchup`, in slices of at most a second.
pub(crate) fn start(
    ctx: &Context,
    local: &mut Conn,
    spec: &ConnectionSpec,
    catchup: &Deadline,
) -> Result<Guarded, Stop> {
    let peer = spec.target();
    let mut g = Guarded {
        peer: peer.clone(),
        spec: spec.clone(),
        conn: None,
        target: None,
        alone: false,
    };
    // First probe: who the peer is (its server_id orders the claim), and whether it is
    // usable at all; refusing before the claim is as safe as refusing under it.
    let first = g.connect_and_probe(ctx);
    let peer_id = match &first {
        PeerObservation::Reached { server_id, .. } => *server_id,
        _ => None,
    };
    if let Step::Refuse(why) = guard::decide(PeerState::of(&first), Claim::Held) {
        return Err(refuse(ctx, why, &peer, &first));
    }
    let own_id = first_value(&exec(local, sql::SERVER_ID).map_err(Err)?)
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    // The peer's address reaches this very server: claiming there would wait for itself.
    if peer_id == Some(own_id) {
        return Err(Err(NotifyError::PeerIsSelf {
            peer,
            server_id: own_id,
        }));
    }
    let claim = g.claim(ctx, local, own_id, peer_id, catchup)?;
    // The probe that counts: under the claim.
    let probe = match g.conn.as_mut() {
        Some(conn) => peer_history(conn, peer.clone()),
        None => first,
    };
    match guard::decide(PeerState::of(&probe), claim) {
        Step::Refuse(why) => Err(refuse(ctx, why, &peer, &probe)),
        Step::ProceedAlone => {
            alone(ctx, &probe);
            g.conn = None;
            g.alone = true;
            Ok(g)
        }
        Step::Proceed { .. } => {
            g.target = peer_position(&probe);
            ctx.progress(&format!(
                "split-brain guard: peer {peer} is fenced, claim held; catching up to what it \
                 has written ({})",
                g.target.as_deref().unwrap_or("nothing")
            ));
            Ok(g)
        }
    }
}

impl Guarded {
    /// Connect to the peer and probe it within `--timeout`; keeps the connection when the
    /// peer answered. On a worker thread: the connection's reads may wait longer (the claim's
    /// `GET_LOCK` slices), so its socket timeout cannot bound the handshake of a hung peer
    /// (which accepts TCP and never answers); the deadline does.
    ///
    /// The wait is `--timeout`, shortened by what `check-mysql --watch` has already seen of
    /// this peer's silence ([`guard::probe_budget`]).
    fn connect_and_probe(&mut self, ctx: &Context) -> PeerObservation {
        let budget = guard::probe_budget(
            ctx.settings.timeout,
            &self.peer,
            state::peer_silence(&ctx.settings.state_dir).as_ref(),
            state::uptime_ms(),
        );
        let deadline = Deadline::new(budget);
        let io = ctx.settings.timeout + Duration::from_secs(1);
        let (spec, peer) = (self.spec.clone(), self.peer.clone());
        let worker = crate::deadline::Worker::start(move || {
            match spec.connect_with_io_timeout(&deadline, io) {
                Ok(mut conn) => {
                    let obs = peer_history(&mut conn, peer);
                    (obs, Some(conn))
                }
                Err(e) => (PeerObservation::failed(peer, e.failure), None),
            }
        });
        match worker.wait(deadline.remaining()) {
            Some((obs, conn)) => {
                if obs.answered() {
                    self.conn = conn;
                }
                obs
            }
            None => {
                let mut failure = Failure::deadline(ctx.settings.timeout);
                if budget < ctx.settings.timeout
                    && let Failure::NoAnswer { cause } = &mut failure
                {
                    cause.push_str(&format!(
                        " (check-mysql --watch had seen it silent before: this probe waited {})",
                        crate::cli::show_duration(budget)
                    ));
                }
                PeerObservation::failed(self.peer.clone(), failure)
            }
        }
    }

    /// `GET_LOCK` on both servers, the lower `server_id` first; on the local one only when
    /// the peer gave no answer. Waits until `catchup`, a second at a time.
    fn claim(
        &mut self,
        ctx: &Context,
        local: &mut Conn,
        own_id: u32,
        peer_id: Option<u32>,
        catchup: &Deadline,
    ) -> Result<Claim, Stop> {
        for side in guard::claim_order(own_id, peer_id) {
            let got = match side {
                Side::Local => lock(ctx, local, catchup).map_err(|e| match e {
                    Locked::Error(e) => Err(notify::query_error(&sql::claim(1.0), e)),
                    Locked::Odd(answer) => Err(NotifyError::WaitUnexpected {
                        position: sql::CLAIM_NAME.into(),
                        answer,
                    }),
                    Locked::Superseded(o) => Ok(o),
                })?,
                Side::Peer => match self.conn.as_mut() {
                    None => true,
                    Some(conn) => match lock(ctx, conn, catchup) {
                        Ok(got) => got,
                        Err(Locked::Superseded(o)) => return Err(Ok(o)),
                        Err(Locked::Odd(answer)) => {
                            let obs = PeerObservation::Refused {
                                address: self.peer.clone(),
                                error: format!(
                                    "GET_LOCK('{}') returned {}",
                                    sql::CLAIM_NAME,
                                    answer.as_deref().unwrap_or("NULL")
                                ),
                                code: 0,
                                refusal: crate::model::observation::Refusal::Other,
                            };
                            return Err(refuse(ctx, Refuse::PeerUnknown, &self.peer, &obs));
                        }
                        // The peer stopped answering mid-claim: probed again below.
                        Err(Locked::Error(e)) => {
                            let obs = PeerObservation::failed(self.peer.clone(), Failure::of(&e));
                            if let Step::Refuse(why) =
                                guard::decide(PeerState::of(&obs), Claim::Held)
                            {
                                return Err(refuse(ctx, why, &self.peer, &obs));
                            }
                            self.conn = None;
                            self.alone = true;
                            true
                        }
                    },
                },
            };
            if !got {
                return Ok(Claim::Busy);
            }
        }
        Ok(Claim::Held)
    }

    /// The re-probe right before unfencing, still under the claim (the peer's connection
    /// holds it): `Err` if the guard now refuses.
    pub(crate) fn reprobe(&mut self, ctx: &Context) -> Result<(), NotifyError> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(());
        };
        let probe = peer_history(conn, self.peer.clone());
        match guard::decide(PeerState::of(&probe), Claim::Held) {
            Step::Refuse(why) => match refuse(ctx, why, &self.peer, &probe) {
                Err(e) => Err(e),
                // Superseded meanwhile: the caller's decision says so too.
                Ok(_) => Ok(()),
            },
            Step::ProceedAlone => {
                alone(ctx, &probe);
                self.alone = true;
                Ok(())
            }
            Step::Proceed { .. } => Ok(()),
        }
    }

    /// Catch up to [`Guarded::target`] (what the peer had written when probed under the
    /// claim), polling this node's own position ([`sql::own_position`]) every 100 ms until
    /// `catchup` passes; a replication connection that receives nothing for
    /// [`guard::SILENT_IO`] while the peer is ahead has its IO thread restarted, once.
    pub(crate) fn catch_up(
        &self,
        ctx: &Context,
        conn: &mut Conn,
        dialect: Dialect,
        catchup: &Deadline,
    ) -> Result<Wait, NotifyError> {
        let Some(target) = self.target.as_deref() else {
            return Ok(Wait::CaughtUp);
        };
        let mut restarted = false;
        let mut received: Option<(Vec<Option<String>>, Instant)> = None;
        loop {
            let own = first_value(&exec(conn, sql::own_position(dialect))?).unwrap_or_default();
            let done = guard::caught_up_with(dialect, &own, target).map_err(|_| {
                NotifyError::WaitUnexpected {
                    position: target.to_string(),
                    answer: Some(own.clone()),
                }
            })?;
            if done {
                return Ok(Wait::CaughtUp);
            }
            if let Some(newer) = ctx.newer()? {
                return Ok(Wait::Superseded(newer));
            }
            if catchup.passed() {
                return Ok(Wait::TimedOut);
            }
            let replicas = notify::replicas(conn, dialect)?;
            let now: Vec<Option<String>> =
                replicas.iter().map(|r| r.received_gtid.clone()).collect();
            let since = match &received {
                Some((before, since)) if *before == now => *since,
                _ => Instant::now(),
            };
            received = Some((now, since));
            let running: Vec<&str> = replicas
                .iter()
                .filter(|r| r.io_running == IoState::Yes)
                .map(|r| r.name.as_str())
                .collect();
            if guard::restart_io(true, !running.is_empty(), since.elapsed(), restarted) {
                restarted = true;
                for name in running {
                    ctx.log(
                        Severity::Warning,
                        &format!(
                            "peer {} is ahead ({target}, here {own}) and replication \
                             connection '{name}' received nothing for {}: restarting its IO \
                             thread",
                            self.peer,
                            humantime::format_duration(guard::SILENT_IO)
                        ),
                    );
                    exec(conn, &sql::restart_io(dialect, name))?;
                }
                received = None;
            }
            std::thread::sleep(catchup.remaining().min(Duration::from_millis(100)));
        }
    }
}

/// How taking a lock failed.
enum Locked {
    /// The statement failed.
    Error(mysql::Error),
    /// `GET_LOCK` answered neither 1 nor 0 (NULL: an error taking it).
    Odd(Option<String>),
    /// A newer transition was recorded meanwhile.
    Superseded(Outcome),
}

/// `GET_LOCK` in slices of at most a second until `catchup` passes (at least one try);
/// `Ok(false)`: another session kept it.
fn lock(ctx: &Context, conn: &mut Conn, catchup: &Deadline) -> Result<bool, Locked> {
    loop {
        let slice = catchup.remaining().min(Duration::from_secs(1));
        let q = sql::claim(slice.as_secs_f64());
        let (sets, error) = query_sets(conn, &q);
        if let Some(e) = error {
            return Err(Locked::Error(e));
        }
        match first_value(&sets).as_deref().map(str::trim) {
            Some("1") => return Ok(true),
            Some("0") => {}
            // NULL: an error taking the lock (killed, out of memory).
            other => return Err(Locked::Odd(other.map(str::to_string))),
        }
        if let Ok(Some(newer)) = ctx.newer() {
            return Err(Locked::Superseded(superseded(&newer)));
        }
        if catchup.passed() {
            return Ok(false);
        }
    }
}

/// The warning of a promotion that goes on without its silent peer: in the two-node mode the
/// two-node limit (a dead peer and a cut link look the same); in witness mode the lease, a
/// majority of this server, the peer and the witness, decides instead ([`alone_line`]).
fn alone(ctx: &Context, probe: &PeerObservation) {
    let why = match probe {
        PeerObservation::Unreachable { address, error } => format!("peer {address}: {error}"),
        other => format!("{other:?}"),
    };
    ctx.log(
        Severity::Warning,
        &alone_line(&why, ctx.settings.witness.is_some()),
    );
}

/// The syslog line of [`alone`] for a peer that gave no answer for `why`, in witness mode or
/// not.
pub(crate) fn alone_line(why: &str, witness: bool) -> String {
    if witness {
        format!(
            "{why}: no answer; the witness lease decides (this node promotes only under a \
             majority of the voters: this server, the peer and the witness)"
        )
    } else {
        format!(
            "{why}: no answer, promoting without the peer (two-node limit: a dead peer and a \
             cut link look the same; use a witness)"
        )
    }
}

/// The peer's position to catch up to, from its probe.
fn peer_position(probe: &PeerObservation) -> Option<String> {
    match probe {
        PeerObservation::Reached { gtid, dialect, .. } => match dialect {
            Dialect::MariaDb => gtid.binlog_state.clone(),
            Dialect::MySql => gtid.executed.clone(),
        }
        .filter(|p| !p.trim().is_empty()),
        _ => None,
    }
}

/// Stay fenced: under the state dir's lock, unless a newer transition is recorded (then
/// `Ok`: superseded), record `promotion-failed` and, for [`Refuse::marks`], the refusal
/// marker saying which peer and when; the error (its exit code: `NotifyError::exit`). A dry
/// run records nothing.
pub(crate) fn refuse(
    ctx: &Context,
    why: Refuse,
    peer: &str,
    probe: &PeerObservation,
) -> Result<Outcome, NotifyError> {
    let error = match probe {
        PeerObservation::Refused { error, .. } | PeerObservation::Unreachable { error, .. } => {
            Some(error.clone())
        }
        PeerObservation::Reached {
            read_only: None, ..
        } => Some("read_only is NULL".into()),
        _ => None,
    };
    refuse_with(ctx, why, peer, error)
}

/// [`refuse`] with the error text given (`error`: what the refusal is about, e.g. the
/// lease's votes).
pub(crate) fn refuse_with(
    ctx: &Context,
    why: Refuse,
    peer: &str,
    error: Option<String>,
) -> Result<Outcome, NotifyError> {
    let err = NotifyError::GuardRefused {
        refuse: why,
        peer: peer.to_string(),
        error,
    };
    if ctx.dry_run {
        return Err(err);
    }
    let _lock = ctx.lock()?;
    if let Some(newer) = ctx.record(Role::PromotionFailed)? {
        return Ok(superseded(&newer));
    }
    if why.marks() {
        let text = format!(
            "peer={peer}\nrefused_at={}\nseq={}\nwhy={err}\n",
            state::unix_now(),
            ctx.seq
        );
        if let Err(e) = state::set_refusal(&ctx.settings.state_dir, Some(&text)) {
            ctx.log(
                Severity::Err,
                &format!(
                    "cannot write the refusal marker {} in {}: {e}",
                    state::REFUSAL_FILE,
                    ctx.settings.state_dir.display()
                ),
            );
        }
    }
    Err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_peer_is_the_two_node_limit_only_without_a_witness() {
        let why = "peer db2:3306: connect timed out";
        // (witness mode, the line says, never says)
        for (witness, says, never) in [
            (false, "two-node limit", "witness lease decides"),
            (true, "the witness lease decides", "two-node limit"),
        ] {
            let line = alone_line(why, witness);
            assert!(line.starts_with(why), "{line}");
            assert!(line.contains(says), "{line}");
            assert!(!line.contains(never), "{line}");
        }
    }
}
