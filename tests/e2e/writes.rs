//! The client's acknowledged writes (`c/acked.log`), and what a new writer must hold of them.

use std::collections::HashSet;

use crate::lab::{Fault, Lab, WAIT, node_state};

/// One acknowledged write of the client: `start end id gtid server_id` in `c/acked.log`.
#[derive(Debug, Clone)]
pub struct Ack {
    pub start_ms: u64,
    pub end_ms: u64,
    pub id: u64,
    pub gtid: String,
    pub server_id: u32,
}

impl Ack {
    /// Sequence number of the write's GTID in domain 0.
    pub fn seq(&self) -> u64 {
        gtid_seq(&self.gtid)
            .unwrap_or_else(|| panic!("acknowledged GTID '{}' is not 0-S-N", self.gtid))
    }
}

/// The domain-0 sequence number in a GTID list such as `0-1-72` or `0-1-72,1-2-5`.
pub fn gtid_seq(list: &str) -> Option<u64> {
    list.split(',').find_map(|g| {
        let mut parts = g.trim().split('-');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("0"), Some(_), Some(seq), None) => seq.parse().ok(),
            _ => None,
        }
    })
}

impl Lab {
    pub fn acked(&self) -> Vec<Ack> {
        let text = std::fs::read_to_string(self.dir.join("c/acked.log")).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                Some(Ack {
                    start_ms: f.first()?.parse().ok()?,
                    end_ms: f.get(1)?.parse().ok()?,
                    id: f.get(2)?.parse().ok()?,
                    gtid: f.get(3)?.to_string(),
                    server_id: f.get(4)?.parse().ok()?,
                })
            })
            .collect()
    }

    /// Acknowledged writes by `server_id` that ended after `since_ms`.
    pub fn acks_on(&self, server_id: u32, since_ms: u64) -> usize {
        self.acked()
            .iter()
            .filter(|a| a.server_id == server_id && a.end_ms > since_ms)
            .count()
    }

    /// The domain-0 position that `node`'s last notify-master (after `since_ms`) waited for:
    /// everything its IO thread had received when the promotion began.
    #[track_caller]
    pub fn promotion_target(&self, node: &str, since_ms: u64) -> u64 {
        let lines = self.syslog(node, since_ms);
        let line = lines
            .iter()
            .rev()
            .find(|l| l.contains("notify-master[") && l.contains("waiting for "))
            .unwrap_or_else(|| {
                panic!(
                    "no notify-master 'waiting for' line from {node}:\n{}",
                    self.logs()
                )
            });
        let what = line
            .split("waiting for ")
            .nth(1)
            .and_then(|r| r.split(" to be applied").next())
            .unwrap_or_default();
        gtid_seq(what).unwrap_or_else(|| panic!("no domain-0 GTID in: {line}"))
    }

    /// The acknowledged writes that the new writer must have: every write acknowledged with a
    /// GTID at or below what its IO thread had received when notify-master began. Asserts
    /// none is missing, and that the new writer took no write before it had caught up (its
    /// own writes come after that position). Returns (target, checked, lost): `lost` counts
    /// writes the old writer acknowledged that never reached the new one (asynchronous
    /// replication: not promised, reported).
    #[track_caller]
    pub fn assert_no_acked_write_missing(
        &self,
        new_writer: &str,
        fault: &Fault,
    ) -> (u64, usize, usize) {
        let target = self.promotion_target(new_writer, fault.at_ms);
        let present: HashSet<u64> = self
            .sql(new_writer, "SELECT id FROM kam.writes")
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect();
        let acked = self.acked();
        let new_sid = if new_writer == "a" { 1 } else { 2 };
        let must: Vec<&Ack> = acked.iter().filter(|a| a.seq() <= target).collect();
        let missing: Vec<u64> = must
            .iter()
            .filter(|a| !present.contains(&a.id))
            .map(|a| a.id)
            .collect();
        assert!(
            missing.is_empty(),
            "{} acknowledged writes at or below 0-?-{target} (received by {new_writer} before \
             promotion) are missing on it: ids {missing:?}",
            missing.len()
        );
        let early: Vec<&Ack> = acked
            .iter()
            .filter(|a| a.server_id == new_sid && a.end_ms > fault.at_ms && a.seq() <= target)
            .collect();
        assert!(
            early.is_empty(),
            "{new_writer} acknowledged writes before applying what it had received \
             (GTID <= {target}): {early:?}"
        );
        let lost = acked
            .iter()
            .filter(|a| a.seq() > target && a.server_id != new_sid && !present.contains(&a.id))
            .count();
        (target, must.len(), lost)
    }
}

/// First acknowledged write by `server_id` after the fault: ms from the fault.
pub fn first_write_after(lab: &Lab, server_id: u32, fault: &Fault) -> Option<u64> {
    lab.acked()
        .iter()
        .filter(|a| a.server_id == server_id && a.end_ms > fault.at_ms)
        .map(|a| a.end_ms - fault.at_ms)
        .min()
}

/// A failover to B happened and is complete: B holds the VIP as writer, read_only=OFF, and
/// the client's writes land on B. Returns (fault -> VIP on B, fault -> first write on B).
#[track_caller]
pub fn wait_failover_to_b(lab: &Lab, fault: &Fault) -> (u64, u64) {
    let vip_at = lab.wait_vip("b");
    wait_b_writes(lab, fault, vip_at)
}

/// The rest of a failover to B once the VIP was seen on B at `vip_at` (epoch ms): B is the
/// writer with read_only=OFF and the client's writes land on it. Returns (fault -> VIP on B,
/// fault -> first write on B).
#[track_caller]
pub fn wait_b_writes(lab: &Lab, fault: &Fault, vip_at: u64) -> (u64, u64) {
    lab.wait_node("b", "writer with read_only=OFF", |n| {
        node_state(n, "role") == "writer" && node_state(n, "read_only") == "OFF"
    });
    lab.wait("the client's writes landing on B", WAIT, || {
        let n = lab.acks_on(2, fault.at_ms);
        if n >= 10 {
            Ok(())
        } else {
            Err(format!("{n} acknowledged by B"))
        }
    });
    let first = first_write_after(lab, 2, fault).expect("a write acknowledged by B");
    (vip_at.saturating_sub(fault.at_ms), first)
}

/// The time span of one server's acknowledged writes: from the start of its first to the end
/// of its last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub server_id: u32,
    pub from_ms: u64,
    pub to_ms: u64,
    pub count: usize,
}

/// Per server, the span of its acknowledged writes, in order of server_id.
pub fn server_spans(acks: &[Ack]) -> Vec<Span> {
    let mut spans: std::collections::BTreeMap<u32, Span> = std::collections::BTreeMap::new();
    for a in acks {
        let s = spans.entry(a.server_id).or_insert(Span {
            server_id: a.server_id,
            from_ms: a.start_ms,
            to_ms: a.end_ms,
            count: 0,
        });
        s.from_ms = s.from_ms.min(a.start_ms);
        s.to_ms = s.to_ms.max(a.end_ms);
        s.count += 1;
    }
    spans.into_values().collect()
}

/// The runs of consecutive acknowledged writes (in order of their start) by one server: how
/// the client's writes moved between the servers. For assertion messages.
pub fn writer_runs(acks: &[Ack]) -> Vec<Span> {
    let mut sorted: Vec<&Ack> = acks.iter().collect();
    sorted.sort_by_key(|a| (a.start_ms, a.end_ms));
    let mut runs: Vec<Span> = Vec::new();
    for a in sorted {
        match runs.last_mut() {
            Some(r) if r.server_id == a.server_id => {
                r.to_ms = r.to_ms.max(a.end_ms);
                r.count += 1;
            }
            _ => runs.push(Span {
                server_id: a.server_id,
                from_ms: a.start_ms,
                to_ms: a.end_ms,
                count: 1,
            }),
        }
    }
    runs
}

/// Two servers whose acknowledged writes overlap in time: each server's writes span an
/// interval (first start .. last end) and two of them intersect. In the split-brain scenarios
/// the writer changes at most once, so each server's writes form one period; an overlap means
/// the client wrote on both (the VIP went back and forth between two writable nodes).
/// Touching ends (one server's last write ended when the other's first began) do not overlap.
pub fn overlapping_writers(acks: &[Ack]) -> Option<(Span, Span)> {
    let spans = server_spans(acks);
    for (i, x) in spans.iter().enumerate() {
        for y in &spans[i + 1..] {
            if x.from_ms < y.to_ms && y.from_ms < x.to_ms {
                return Some((*x, *y));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(start_ms: u64, end_ms: u64, server_id: u32) -> Ack {
        Ack {
            start_ms,
            end_ms,
            id: start_ms,
            gtid: format!("0-{server_id}-{start_ms}"),
            server_id,
        }
    }

    #[test]
    fn one_server_or_none_never_overlaps() {
        assert_eq!(overlapping_writers(&[]), None);
        let a = [ack(0, 10, 1), ack(20, 30, 1), ack(40, 50, 1)];
        assert_eq!(overlapping_writers(&a), None);
        assert_eq!(
            server_spans(&a),
            vec![Span {
                server_id: 1,
                from_ms: 0,
                to_ms: 50,
                count: 3
            }]
        );
    }

    #[test]
    fn a_then_b_does_not_overlap_even_when_touching() {
        let acks = [
            ack(0, 10, 1),
            ack(20, 30, 1),
            ack(30, 40, 2),
            ack(50, 60, 2),
        ];
        assert_eq!(overlapping_writers(&acks), None);
        assert_eq!(writer_runs(&acks).len(), 2);
    }

    #[test]
    fn writes_going_back_and_forth_overlap() {
        // A, B, A: B's span lies inside A's.
        let acks = [ack(0, 10, 1), ack(20, 30, 2), ack(40, 50, 1)];
        let (x, y) = overlapping_writers(&acks).expect("overlap");
        assert_eq!((x.server_id, y.server_id), (1, 2));
        assert_eq!((x.from_ms, x.to_ms, y.from_ms, y.to_ms), (0, 50, 20, 30));
        let runs = writer_runs(&acks);
        assert_eq!(
            runs.iter().map(|r| r.server_id).collect::<Vec<_>>(),
            vec![1, 2, 1]
        );
    }

    #[test]
    fn concurrent_writes_on_two_servers_overlap() {
        // Out of order in the log; intervals intersect.
        let acks = [ack(100, 150, 2), ack(0, 120, 1)];
        assert!(overlapping_writers(&acks).is_some());
    }
}
