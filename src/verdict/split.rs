//! The split-brain guard's rules in check-mysql (docs/contract.md "Split brain"), pure: a node
//! that notify-master kept fenced because the peer was writable stays out while the peer is
//! writable; and when both nodes are writable, exactly one yields, by a rule both evaluate
//! identically from what both can read ([`yields`]).

use crate::model::lease::LeaseView;
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
        if !writable {
            return;
        }
        let me = obs.guard.clone().unwrap_or_default();
        let them = GuardRow {
            server_id: *server_id,
            writer_since: writer_since.clone(),
        };
        let show = |r: &GuardRow| {
            format!(
                "server_id {}, writer since {}",
                r.server_id.map_or("?".to_string(), |i| i.to_string()),
                r.writer_since.as_deref().unwrap_or("unknown")
            )
        };
        let rule = format!(
            "this node: {}; peer: {}; the later writer yields, then the higher server_id",
            show(&me),
            show(&them)
        );
        if yields(&me, &them) {
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
        view.per_voter
            .iter()
            .map(|v| match &v.note {
                None => format!("{} granted", v.address),
                Some(n) => format!("{} {n}", v.address),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(e) = &view.config_error {
        out.push(Finding {
            level: Level::Fail,
            kind: Some(Reason::Config),
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

/// Witness mode: when both nodes are writable, the lease decides which one stays, not the
/// two-node rule ([`yields`], by `writer_since`). A node whose renewal won a majority in this
/// run stays the writer: the two-node "this node yields" (FAIL 6) becomes a loud note, since
/// the peer cannot hold the lease and fences itself at its own next check. A node whose renewal
/// did not win has failed `lease-lost` (and fenced itself): its two-node "this node stays the
/// writer" note would contradict that and goes. Seen in the lab: a hung writer resuming with
/// `read_only=OFF` after the takeover made the lease holder's check yield to it (exit 6)
/// while the resumed node, without the lease, fenced itself in the same second.
pub fn lease_decides_split(findings: &mut Vec<Finding>, view: &LeaseView) {
    if view.action != "renew" {
        return;
    }
    findings.retain_mut(|f| {
        if f.situation != Situation::SplitBrain {
            return true;
        }
        if !view.held {
            return f.level == Level::Fail;
        }
        if f.level == Level::Fail {
            f.level = Level::Alert;
            f.kind = None;
            f.message = format!(
                "{}; witness mode: this node holds the lease ({} of {} votes), so it stays the \
                 writer and the peer, without it, fences itself",
                f.message.replacen(
                    "this node yields (",
                    "the two-node rule alone would make this node yield (",
                    1
                ),
                view.votes,
                view.voters
            );
        }
        true
    });
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
            fenced_itself: (action == "renew" && !held).then_some(true),
            expires_in_ms: holder.map(|_| 4200),
            ..LeaseView::none(Some(1), 3, "")
        }
    }

    fn split(level: Level, text: &str) -> Finding {
        Finding {
            level,
            kind: (level == Level::Fail).then_some(Reason::SplitBrain),
            situation: Situation::SplitBrain,
            message: text.to_string(),
        }
    }

    /// Both writable in witness mode: the lease holder never yields; a node without the lease
    /// does not claim to stay the writer; without a renewal the two-node rule stands.
    #[test]
    fn the_lease_decides_which_writer_stays() {
        let yields = "split brain: peer b is also writable; this node yields (rule)";
        let stays = "split brain: peer b is also writable; it yields, this node stays the writer";
        let other = Finding {
            level: Level::Warn,
            kind: None,
            situation: Situation::PeerPosition,
            message: "peer down".into(),
        };
        // (view, findings before) -> (levels of the SplitBrain findings after, others kept)
        let rows: Vec<(LeaseView, Vec<Finding>, Vec<Level>)> = vec![
            // Held: the two-node "yield" becomes a note; "stays" is kept.
            (
                view("renew", true, Some(2)),
                vec![split(Level::Fail, yields)],
                vec![Level::Alert],
            ),
            (
                view("renew", true, Some(2)),
                vec![split(Level::Alert, stays)],
                vec![Level::Alert],
            ),
            // Not held: lease-lost decides; the "stays the writer" note goes, a yield stays.
            (
                view("renew", false, None),
                vec![split(Level::Alert, stays)],
                vec![],
            ),
            (
                view("renew", false, None),
                vec![split(Level::Fail, yields)],
                vec![Level::Fail],
            ),
            // No renewal this run (fenced, peek, nothing): the two-node rule stands.
            (
                view("peek", false, Some(1)),
                vec![split(Level::Fail, yields)],
                vec![Level::Fail],
            ),
            (
                view("none", false, None),
                vec![split(Level::Alert, stays)],
                vec![Level::Alert],
            ),
        ];
        for (i, (v, mut findings, want)) in rows.into_iter().enumerate() {
            findings.push(other.clone());
            lease_decides_split(&mut findings, &v);
            let got: Vec<Level> = findings
                .iter()
                .filter(|f| f.situation == Situation::SplitBrain)
                .map(|f| f.level)
                .collect();
            assert_eq!(got, want, "row {i}: {findings:?}");
            assert!(
                findings.contains(&other),
                "row {i}: other findings are kept"
            );
            for f in findings
                .iter()
                .filter(|f| f.situation == Situation::SplitBrain)
            {
                assert_eq!(f.kind.is_some(), f.level == Level::Fail, "row {i}: {f:?}");
                if v.held {
                    assert!(!f.message.contains("; this node yields"), "row {i}: {f:?}");
                }
            }
            if i == 0 {
                assert!(
                    findings[0]
                        .message
                        .contains("this node holds the lease (2 of 3 votes)")
                );
            }
        }
    }

    /// What the check did with the lease → (situation, exit class) of its findings.
    #[test]
    fn lease_findings_table() {
        let mut unfenced = view("renew", false, None);
        unfenced.fenced_itself = Some(false);
        unfenced.note = Some("SET GLOBAL read_only=ON: ERROR 1227".into());
        let mut config = view("renew", true, Some(1));
        config.config_error =
            Some("lease voter w:3306: ERROR 1146 (fix: packaging/split-brain.sql)".into());
        type Row = (LeaseView, Vec<(Situation, Reason)>, &'static str);
        let rows: Vec<Row> = vec![
            (view("renew", true, Some(1)), vec![], ""),
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
                vec![(Situation::GuardMissing, Reason::Config)],
                "packaging/split-brain.sql",
            ),
        ];
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
}
