//! The split-brain guard's rules in check-mysql (docs/contract.md "Split brain"), pure: a node
//! that notify-master kept fenced because the peer was writable stays out while the peer is
//! writable; and when both nodes are writable, exactly one yields, by a rule both evaluate
//! identically from what both can read ([`yields`]).

use crate::model::lease::{LeaseView, VoterReport};
use crate::model::observation::{GuardRow, Observation, PeerObservation};

use super::{Finding, Judge, Level, Reason, Situation};

/// The fix for a missing guard table or grant (error 1146, 1049, 1142, 1143).
pub const GUARD_FIX: &str = "the split-brain guard's table or its grant is missing there: run \
     packaging/split-brain.sql as root on that server (once, on each node), and the guard \
     grants of packaging/grants.sql";

/// Whether `me` yields to `peer` when both are writable: the node that became writer LATER
/// (its `writer_since`, each on its own server's clock; NULL counts as latest: a node that
/// notify-master did not unfence) yields; on a tie, the HIGHER `server_id` yields (an unknown
/// one counts as highest). Both nodes compare the same two rows, so with distinct server_ids
/// (which replication requires) exactly one of them yields. Two rows that cannot be told
/// apart (same server_id, same time) make both yield: no writer rather than two.
pub fn yields(me: &GuardRow, peer: &GuardRow) -> bool {
    // `None` sorts last in both keys.
    fn key(r: &GuardRow) -> ((u8, &str), (u8, u32)) {
        (
            r.writer_since
                .as_deref()
                .map(str::trim)
                .map_or((1, ""), |t| (0, t)),
            r.server_id.map_or((1, 0), |id| (0, id)),
        )
    }
    key(me) >= key(peer)
}

/// Whether this node yields by history alone: `Some(true)` when its history is strictly
/// contained in the peer's (it lacks transactions the peer has and has none the peer lacks:
/// a writer that froze and resumed after the other took over), `Some(false)` when the peer's
/// is strictly contained in this node's, `None` when neither (equal, or both wrote: then
/// [`yields`] decides). Both nodes compare the same two histories from either side, so they
/// agree; the node that stays has every transaction the other has.
pub fn contains(behind: u64, ahead: u64, diverged: bool) -> Option<bool> {
    match (diverged, behind > 0, ahead > 0) {
        (false, true, false) => Some(true),
        (false, false, true) => Some(false),
        _ => None,
    }
}

impl Judge<'_> {
    /// The guard's findings: a remembered refusal while the peer is writable (exit 6), and
    /// both nodes writable (the later one fails with exit 6, the other is loud).
    pub(super) fn split_brain(&mut self, obs: &Observation, peer: &PeerObservation, refused: bool) {
        let PeerObservation::Reached {
            address,
            read_only: Some(false),
            server_id,
            writer_since,
            ..
        } = peer
        else {
            return;
        };
        let me_id = obs.guard.as_ref().and_then(|g| g.server_id);
        if me_id.is_some() && me_id == *server_id {
            self.add(
                Level::Fail,
                Some(Reason::Config),
                Situation::GuardMissing,
                format!(
                    "--peer {address} is this server (server_id {}): give the other node's \
                     address",
                    server_id.unwrap_or_default()
                ),
            );
            return;
        }
        let writable = !obs.read_only && obs.super_read_only != Some(true);
        if refused && !writable {
            self.add(
                Level::Fail,
                Some(Reason::SplitBrain),
                Situation::PromotionRefused,
                format!(
                    "notify-master refused the writer role: peer {address} is writable (split \
                     brain avoided); this node stays out while the peer is writable"
                ),
            );
            return;
        }
        if writable {
            let them = GuardRow {
                server_id: *server_id,
                writer_since: writer_since.clone(),
            };
            self.two_writers(obs, peer, address, &them);
        }
    }

    /// Both nodes writable: this node yields (FAIL 6) or stays (ALERT) by [`contains`], else
    /// [`yields`]; the message shows what both rules saw.
    fn two_writers(
        &mut self,
        obs: &Observation,
        peer: &PeerObservation,
        address: &str,
        them: &GuardRow,
    ) {
        let me = obs.guard.clone().unwrap_or_default();
        let show = |r: &GuardRow| {
            format!(
                "server_id {}, writer since {}",
                r.server_id.map_or("?".to_string(), |i| i.to_string()),
                r.writer_since.as_deref().unwrap_or("unknown")
            )
        };
        let history =
            super::peer_comparison(obs, peer).map(|c| (c.behind, c.ahead, c.is_diverged()));
        let contained =
            history.and_then(|(behind, ahead, diverged)| contains(behind, ahead, diverged));
        let rule = format!(
            "this node: {}, {}; peer: {}; the node missing the other's transactions yields, \
             else the later writer, then the higher server_id",
            show(&me),
            history.map_or("histories not compared".to_string(), |(b, a, d)| {
                if d {
                    "histories diverged".to_string()
                } else {
                    format!("{b} transaction(s) behind, {a} ahead")
                }
            }),
            show(them)
        );
        if contained.unwrap_or_else(|| yields(&me, them)) {
            self.add(
                Level::Fail,
                Some(Reason::SplitBrain),
                Situation::SplitBrain,
                format!("split brain: peer {address} is also writable; this node yields ({rule})"),
            );
        } else {
            self.add(
                Level::Alert,
                None,
                Situation::SplitBrain,
                format!(
                    "split brain: peer {address} is also writable; it yields, this node stays \
                     the writer ({rule})"
                ),
            );
        }
    }
}

/// Witness mode's findings of one check run (docs/contract.md "Witness mode"), from what the
/// run did with the lease ([`LeaseView`]):
/// - a voter's configuration error (no guard table, a missing grant): FAIL 78, naming the
///   file; also when the lease is held (the guard is not what was configured);
/// - a renewal that did not win a majority: FAIL 6 `lease-lost` (the node fenced itself, or
///   says that it could not);
/// - a peek (fenced, refused) that finds another node holding a majority: FAIL 6
///   `lease-elsewhere`;
/// - a held renewal, or nothing done: no finding (the JSON `lease` object shows it).
pub fn lease_findings(view: &LeaseView) -> Vec<Finding> {
    let mut out = Vec::new();
    let voters = || {
        let all: Vec<String> = view.per_voter.iter().map(VoterReport::phrase).collect();
        if all.is_empty() {
            "no voter answered".to_string()
        } else {
            all.join(", ")
        }
    };
    let holds = view.action == "renew" && view.held;
    if let Some(e) = &view.config_error {
        // A writer that still holds a majority keeps it (the VIP must stay somewhere): the
        // misconfigured voter is said loudly; anywhere else it is the configuration error.
        out.push(Finding {
            level: if holds { Level::Alert } else { Level::Fail },
            kind: (!holds).then_some(Reason::Config),
            situation: Situation::GuardMissing,
            message: format!("witness lease: {e}"),
        });
    }
    match view.action {
        "renew" if !view.held => {
            let fenced = match (view.fenced_itself, &view.note) {
                (Some(true), _) => "fenced itself (read_only=ON)".to_string(),
                (_, Some(why)) => format!("could NOT fence itself: {why}"),
                _ => "could NOT fence itself".to_string(),
            };
            out.push(Finding {
                level: Level::Fail,
                kind: Some(Reason::SplitBrain),
                situation: Situation::LeaseLost,
                message: format!(
                    "lease lost: {fenced}: {} of {} votes, no majority ({})",
                    view.votes,
                    view.voters,
                    voters()
                ),
            });
        }
        "renew" if view.votes < view.voters => out.push(Finding {
            level: Level::Warn,
            kind: None,
            situation: Situation::LeaseDegraded,
            message: format!(
                "lease held on {} of {} voters ({}): one more voter lost and this writer \
                 fences itself",
                view.votes,
                view.voters,
                voters()
            ),
        }),
        "peek" => {
            if let Some(holder) = view.holder {
                out.push(Finding {
                    level: Level::Fail,
                    kind: Some(Reason::SplitBrain),
                    situation: Situation::LeaseElsewhere,
                    message: format!(
                        "notify-master refused the writer role and server_id {holder} holds the \
                         lease on {} of {} voters ({} ms left): this node stays out",
                        view.votes,
                        view.voters,
                        view.expires_in_ms.unwrap_or(0)
                    ),
                });
            }
        }
        _ => {}
    }
    out
}

/// A promotion the guard refused is said by its own finding (`promotion-refused`, with why);
/// the generic `promotion-failed` one beside it would point at the wrong cause.
pub(super) fn explained_refusal(findings: Vec<Finding>) -> Vec<Finding> {
    let refused = findings
        .iter()
        .any(|f| f.situation == Situation::PromotionRefused);
    findings
        .into_iter()
        .filter(|f| !(refused && f.situation == Situation::PromotionFailed))
        .collect()
}

/// Witness mode decides a split brain by the lease, not by `writer_since`: of two writable
/// nodes, the one whose renewal holds a majority stays and the other yields (its renewal did
/// not hold: `lease-lost`, it fenced itself). `findings` are the verdict's; `view` what this
/// run did with the lease. The two-node rule's finding is rewritten to agree: never both
/// nodes failing, never both staying.
pub fn by_lease(findings: Vec<Finding>, view: &LeaseView) -> Vec<Finding> {
    if view.action != "renew" {
        return findings;
    }
    findings
        .into_iter()
        .filter_map(|f| {
            if f.situation != Situation::SplitBrain {
                return Some(f);
            }
            if !view.held {
                // lease-lost already fails this node (exit 6) and says why.
                return None;
            }
            let peer = f
                .message
                .split("; ")
                .next()
                .unwrap_or("split brain: the peer is also writable")
                .to_string();
            Some(Finding {
                level: Level::Alert,
                kind: None,
                situation: Situation::SplitBrain,
                message: format!(
                    "{peer}; this node holds the lease on {} of {} voters and stays the writer \
                     (the peer cannot renew: it fences itself)",
                    view.votes, view.voters
                ),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(server_id: Option<u32>, since: Option<&str>) -> GuardRow {
        GuardRow {
            server_id,
            writer_since: since.map(str::to_string),
        }
    }

    const EARLY: Option<&str> = Some("2026-11-30 01:00:00.000001");
    const LATE: Option<&str> = Some("2026-11-30 01:00:00.000002");

    /// The history rule, from both sides: (behind, ahead, diverged) here is (ahead, behind,
    /// diverged) on the peer, so the two answers are opposite or both undecided.
    #[test]
    fn the_node_missing_the_others_transactions_yields() {
        let rows = [
            ((3, 0, false), Some(true)),
            ((0, 3, false), Some(false)),
            ((0, 0, false), None),
            ((2, 5, false), None),
            ((0, 4, true), None),
            ((4, 0, true), None),
        ];
        for ((behind, ahead, diverged), want) in rows {
            assert_eq!(contains(behind, ahead, diverged), want);
            assert_eq!(
                contains(ahead, behind, diverged),
                want.map(|w| !w),
                "swapped: behind {ahead} ahead {behind}"
            );
        }
    }

    /// Every row is evaluated from both sides: exactly one yields unless the two rows cannot
    /// be told apart, and then both do (never neither).
    #[test]
    fn exactly_one_of_two_writers_yields() {
        // me, peer, me yields
        let rows: &[(GuardRow, GuardRow, bool)] = &[
            // The later writer yields, whatever the server_ids.
            (row(Some(1), LATE), row(Some(2), EARLY), true),
            (row(Some(2), LATE), row(Some(1), EARLY), true),
            (row(Some(1), EARLY), row(Some(2), LATE), false),
            // NULL writer_since (not unfenced by notify-master) counts as latest.
            (row(Some(1), None), row(Some(2), LATE), true),
            (row(Some(2), EARLY), row(Some(1), None), false),
            // Same time, or both unknown: the higher server_id yields.
            (row(Some(2), EARLY), row(Some(1), EARLY), true),
            (row(Some(1), EARLY), row(Some(2), EARLY), false),
            (row(Some(2), None), row(Some(1), None), true),
            (row(Some(1), None), row(Some(2), None), false),
            // An unknown server_id counts as highest.
            (row(None, EARLY), row(Some(7), EARLY), true),
            // Surrounding blanks are not a difference.
            (
                row(Some(1), Some(" 2026-11-30 01:00:00.000001")),
                row(Some(2), EARLY),
                false,
            ),
        ];
        for (me, peer, want) in rows {
            assert_eq!(yields(me, peer), *want, "me {me:?} peer {peer:?}");
            assert_eq!(yields(peer, me), !*want, "swapped: me {peer:?} peer {me:?}");
        }
        // Indistinguishable rows (a misconfiguration: equal server_ids): both yield.
        let same = row(Some(3), EARLY);
        assert!(yields(&same, &same.clone()));
    }

    fn view(action: &'static str, held: bool, holder: Option<u32>) -> LeaseView {
        LeaseView {
            action,
            held,
            holder,
            votes: if held || holder.is_some() { 2 } else { 1 },
            voters: 3,
            fenced_itself: (action == "renew" && !held).then_some(true),
            expires_in_ms: holder.map(|_| 4200),
            ..LeaseView::none(Some(1), 3, "")
        }
    }

    /// What the check did with the lease → (situation, exit class) of its findings.
    #[test]
    fn lease_findings_table() {
        let mut unfenced = view("renew", false, None);
        unfenced.fenced_itself = Some(false);
        unfenced.note = Some("SET GLOBAL read_only=ON: ERROR 1227".into());
        let mut config = view("renew", false, None);
        config.config_error =
            Some("lease voter w:3306: ERROR 1146 (fix: packaging/split-brain.sql)".into());
        let mut degraded = view("renew", true, Some(1));
        degraded.config_error = config.config_error.clone();
        type Row = (LeaseView, Vec<(Situation, Reason)>, &'static str);
        let full = LeaseView {
            votes: 3,
            ..view("renew", true, Some(1))
        };
        let rows: Vec<Row> = vec![
            (full, vec![], ""),
            (
                view("renew", false, None),
                vec![(Situation::LeaseLost, Reason::SplitBrain)],
                "lease lost: fenced itself (read_only=ON): 1 of 3 votes",
            ),
            (
                unfenced,
                vec![(Situation::LeaseLost, Reason::SplitBrain)],
                "could NOT fence itself: SET GLOBAL read_only=ON: ERROR 1227",
            ),
            (
                view("peek", false, Some(2)),
                vec![(Situation::LeaseElsewhere, Reason::SplitBrain)],
                "server_id 2 holds the lease on 2 of 3 voters (4200 ms left)",
            ),
            (view("peek", false, None), vec![], ""),
            (view("none", false, None), vec![], ""),
            (
                config,
                vec![
                    (Situation::GuardMissing, Reason::Config),
                    (Situation::LeaseLost, Reason::SplitBrain),
                ],
                "packaging/split-brain.sql",
            ),
        ];
        // A writer that still holds a majority with one voter misconfigured or gone keeps
        // it: loud (ALERT, the voter's configuration) or degraded (WARN), never failed.
        let got = lease_findings(&degraded);
        let levels: Vec<_> = got.iter().map(|f| (f.situation, f.level)).collect();
        assert_eq!(
            levels,
            [
                (Situation::GuardMissing, Level::Alert),
                (Situation::LeaseDegraded, Level::Warn)
            ],
            "{got:?}"
        );
        for (i, (v, expected, text)) in rows.into_iter().enumerate() {
            let got = lease_findings(&v);
            let kinds: Vec<_> = got.iter().map(|f| (f.situation, f.kind.unwrap())).collect();
            assert_eq!(kinds, expected, "row {i}: {got:?}");
            assert!(got.iter().all(|f| f.level == Level::Fail), "row {i}");
            assert!(
                got.iter().any(|f| f.message.contains(text)) || text.is_empty(),
                "row {i}: {got:?}"
            );
        }
    }

    /// Witness mode: of two writable nodes the lease holder stays and the other yields,
    /// whatever `writer_since` says (the two-node rule's finding is rewritten to agree).
    #[test]
    fn in_witness_mode_the_lease_decides_a_split_brain() {
        let yield_ = Finding {
            level: Level::Fail,
            kind: Some(Reason::SplitBrain),
            situation: Situation::SplitBrain,
            message: "split brain: peer b:3306 is also writable; this node yields (...)".into(),
        };
        let stay = Finding {
            level: Level::Alert,
            kind: None,
            ..yield_.clone()
        };
        let held = LeaseView {
            votes: 3,
            ..view("renew", true, Some(1))
        };
        let lost = view("renew", false, None);
        // findings in, view → (level of the split-brain finding, or none)
        let rows = [
            (yield_.clone(), &held, Some(Level::Alert)),
            (stay.clone(), &held, Some(Level::Alert)),
            (yield_.clone(), &lost, None),
            (stay.clone(), &lost, None),
        ];
        for (f, v, want) in rows {
            let out = by_lease(vec![f.clone()], v);
            let got = out
                .iter()
                .find(|g| g.situation == Situation::SplitBrain)
                .map(|g| g.level);
            assert_eq!(got, want, "{f:?} with {v:?}");
            if want.is_some() {
                assert!(
                    out[0].message.contains("holds the lease on 3 of 3"),
                    "{out:?}"
                );
                assert!(
                    out[0].message.starts_with("split brain: peer b:3306"),
                    "{out:?}"
                );
            }
        }
        // Not a renewal (a fenced node): the two-node finding stands.
        let peek = view("peek", false, Some(2));
        assert_eq!(by_lease(vec![yield_.clone()], &peek), vec![yield_]);
    }
}
