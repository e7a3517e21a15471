//! notify-master in witness mode (docs/contract.md "Witness mode", issue 11 §2): claim the
//! lease on a majority of the three voters before unfencing, renew it right before
//! `read_only=OFF` when the claim's `write_until` is near, and give back a claim that did
//! not end in a writable node. The rules are `plan::lease`'s; the rounds `io::lease`'s.

use std::time::Duration;

use mysql::Conn;

use super::guard::{Stop, refuse_with};
use crate::app::notify::{Context, NotifyError, exec, sql, superseded};
use crate::deadline::Deadline;
use crate::io::config::WitnessSettings;
use crate::io::lease::{self, ClockWatch, Lease, Mode, Mono, Round, Timing};
use crate::io::state;
use crate::model::lease::{Tally, VoterReport};
use crate::plan::guard::Refuse;
use crate::plan::lease::ClaimStep;
use crate::report::Severity;

/// How long a claim that did not win waits before the next round: a released lease is
/// free at once, an expired one within the TTL.
pub const CLAIM_RETRY: Duration = Duration::from_millis(250);

/// A lease this promotion holds: the last round that won a majority, and what renews it.
pub(crate) struct Leased {
    pub lease: Lease,
    timing: Timing,
    watch: ClockWatch,
    last: Round,
}

/// The votes of a round, in one phrase: `2 of 3 votes (a:3306 granted, b:3306 held by 1, ...)`.
pub(crate) fn votes(t: &Tally) -> String {
    let per: Vec<String> = t.per_voter.iter().map(VoterReport::phrase).collect();
    format!("{} of {} votes ({})", t.votes, t.voters, per.join(", "))
}

/// Claim the lease ([`Mode::Claim`]) every [`CLAIM_RETRY`] until a round wins a majority or
/// `catchup` passes (at least one round). Not held then: refuse ([`Refuse::LeaseNotHeld`],
/// exit 6, refusal marker). A voter's configuration error: exit 78. A newer transition:
/// superseded. A dry run claims nothing (`Ok(None)`).
pub(crate) fn claim(
    ctx: &Context,
    local: &mut Conn,
    w: &WitnessSettings,
    catchup: &Deadline,
) -> Result<Option<Leased>, Stop> {
    let Some(peer) = &ctx.settings.peer else {
        return Ok(None);
    };
    if ctx.dry_run {
        ctx.step("dry run: the witness lease is not claimed");
        return Ok(None);
    }
    let me = crate::io::mysql::first_value(&exec(local, sql::SERVER_ID).map_err(Err)?)
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    let lease = w.lease(me, &ctx.settings.connection, peer);
    let mut watch = ClockWatch::new();
    loop {
        let round = lease::round(
            &lease,
            Mode::Claim,
            &Deadline::new(ctx.settings.timeout),
            &mut watch,
        )
        .map_err(|e| Err(NotifyError::Lease(e)))?;
        let misconfigured = round.config_errors();
        match crate::plan::lease::claim_step(
            round.tally.votes,
            misconfigured.len(),
            round.tally.voters,
        ) {
            ClaimStep::Misconfigured => {
                return Err(Err(NotifyError::LeaseMisconfigured {
                    error: misconfigured[0].clone(),
                    votes: votes(&round.tally),
                }));
            }
            ClaimStep::Held => {
                for e in misconfigured {
                    let msg = format!(
                        "witness lease held without a misconfigured voter, which did not \
                         vote: {e}"
                    );
                    ctx.step(&msg);
                    ctx.log(Severity::Warning, &msg);
                }
            }
            ClaimStep::NotHeld => {}
        }
        if round.held() {
            let _ = state::remember_lease_id(&ctx.settings.state_dir, me);
            ctx.progress(&format!(
                "witness lease held by server_id {me}: {}",
                votes(&round.tally)
            ));
            return Ok(Some(Leased {
                lease,
                timing: w.timing,
                watch,
                last: round,
            }));
        }
        if let Ok(Some(newer)) = ctx.newer() {
            return Err(Ok(superseded(&newer)));
        }
        if catchup.passed() {
            return Err(refuse_with(
                ctx,
                Refuse::LeaseNotHeld,
                &peer.target(),
                Some(votes(&round.tally)),
            ));
        }
        std::thread::sleep(catchup.remaining().min(CLAIM_RETRY));
    }
}

impl Leased {
    /// Right before `read_only=OFF`: if the last majority's `write_until` is not more than
    /// `--timeout` away (the lock that the unfence takes first may wait that long), renew
    /// ([`Mode::Renew`]) and require a majority; not held: refuse ([`Refuse::LeaseNotHeld`]).
    pub(crate) fn ensure(&mut self, ctx: &Context) -> Result<(), NotifyError> {
        let until = self
            .last
            .write_until(&self.timing)
            .unwrap_or(Mono(Duration::ZERO));
        if !crate::plan::lease::renew_before_unfence(Mono::now(), until, ctx.settings.timeout) {
            return Ok(());
        }
        let round = lease::round(
            &self.lease,
            Mode::Renew,
            &Deadline::new(ctx.settings.timeout),
            &mut self.watch,
        )
        .map_err(NotifyError::Lease)?;
        if round.held() {
            ctx.progress(&format!(
                "witness lease renewed before unfencing: {}",
                votes(&round.tally)
            ));
            self.last = round;
            return Ok(());
        }
        let peer = ctx
            .settings
            .peer
            .as_ref()
            .map(|p| p.target())
            .unwrap_or_default();
        match refuse_with(
            ctx,
            Refuse::LeaseNotHeld,
            &peer,
            Some(format!("renewal before unfencing: {}", votes(&round.tally))),
        ) {
            Err(e) => Err(e),
            Ok(_) => Ok(()),
        }
    }

    /// Give the lease back: the promotion did not end in a writable node (`read_only=ON` read
    /// back), so its votes would only keep the other node out until the TTL. One syslog line.
    pub(crate) fn give_back(&self, ctx: &Context) {
        let outcomes = lease::release(&self.lease, &Deadline::new(ctx.settings.timeout));
        ctx.log_release(
            self.lease.me,
            &outcomes,
            "the promotion did not make this node writable",
        );
    }
}
