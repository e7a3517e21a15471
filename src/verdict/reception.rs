//! What this node has *received* against what the peer has *written*, remembered across runs
//! so that a stalled replication connection is seen (docs/runbook.md, "stalled").
//!
//! A silently stalled connection (half-open TCP, a stuck proxy) keeps `Slave_IO_Running: Yes`
//! and `Seconds_Behind_Master: 0` until `slave_net_timeout` (MariaDB KB "Replication and
//! Binary Log System Variables": 60 s by default), while the writer moves on. The peer's
//! binlog tells what was written; the received position (`gtid_current_pos` with each
//! connection's `Gtid_IO_Pos`, MySQL `gtid_executed` with `Retrieved_Gtid_Set`) tells what
//! arrived. A position that stands still while the peer is ahead is a stall; one that moves
//! is a busy writer. Pure: the state dir file is read and written by [`crate::io::state`].

use std::time::Duration;

use crate::model::gtid;
use crate::model::observation::{Dialect, Observation, PeerObservation};

/// This run's comparison of the received position with the peer's binlog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reception {
    /// The received position, as text (the server's own notation, canonical).
    pub received: String,
    /// Transactions in the peer's binlog that have not been received here.
    pub behind: u64,
}

/// Compare, when the peer was reached and both positions parse in the same dialect.
pub fn reception(obs: &Observation, peer: &PeerObservation) -> Option<Reception> {
    let PeerObservation::Reached { dialect, gtid, .. } = peer else {
        return None;
    };
    match (obs.dialect, dialect) {
        (Dialect::MariaDb, Dialect::MariaDb) => {
            let mut lists = vec![gtid::parse_mariadb(obs.gtid.current_pos.as_deref()?).ok()?];
            for r in &obs.replicas {
                if let Some(pos) = r.received_gtid.as_deref() {
                    lists.push(gtid::parse_mariadb(pos).ok()?);
                }
            }
            let received = gtid::furthest_per_domain(lists.iter().map(Vec::as_slice));
            let state = gtid::parse_mariadb(gtid.binlog_state.as_deref()?).ok()?;
            Some(Reception {
                received: gtid::render_mariadb(&received),
                behind: gtid::compare_mariadb(&received, &state).behind,
            })
        }
        (Dialect::MySql, Dialect::MySql) => {
            let mut received = gtid::parse_mysql(obs.gtid.executed.as_deref()?).ok()?;
            for r in &obs.replicas {
                if let Some(set) = r.received_gtid.as_deref() {
                    received = received.union(&gtid::parse_mysql(set).ok()?);
                }
            }
            let theirs = gtid::parse_mysql(gtid.executed.as_deref()?).ok()?;
            Some(Reception {
                behind: theirs.count_missing_from(&received),
                received: received.to_string(),
            })
        }
        _ => None,
    }
}

/// What the state dir remembers: a received position first seen, while behind the peer, at
/// `since_ms` (milliseconds since boot: wall-clock steps do not count as time passing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub received: String,
    pub since_ms: u64,
    /// The kernel's boot id when it was set: `since_ms` counts from that boot, so a mark
    /// from another boot (a state dir on persistent storage) compares with nothing.
    pub boot: Option<String>,
}

impl Mark {
    /// `received=<position>` and `since_ms=<n>` lines; anything else is no mark.
    pub fn parse(text: &str) -> Option<Mark> {
        let mut received = None;
        let mut since_ms = None;
        let mut boot = None;
        for line in text.lines() {
            match line.split_once('=') {
                Some(("received", v)) => received = Some(v.trim().to_string()),
                Some(("since_ms", v)) => since_ms = v.trim().parse().ok(),
                Some(("boot", v)) => boot = Some(v.trim().to_string()),
                _ => {}
            }
        }
        Some(Mark {
            received: received?,
            since_ms: since_ms?,
            boot,
        })
    }

    pub fn render(&self) -> String {
        let mut text = format!("received={}\nsince_ms={}\n", self.received, self.since_ms);
        if let Some(b) = &self.boot {
            text.push_str(&format!("boot={b}\n"));
        }
        text
    }
}

/// What the verdict knows about reception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// No `--peer`, the peer was not reached, or the positions do not compare.
    Unknown,
    /// Everything the peer has written has been received.
    CaughtUp,
    /// The peer has written `transactions` that were not received here; `unchanged_for`:
    /// how long the received position has stood still while behind (`None`: first seen in
    /// this run, or it moved since the last run).
    Behind {
        transactions: u64,
        unchanged_for: Option<Duration>,
    },
}

/// The next mark to remember and what this run tells the verdict (`boot`: this boot's id;
/// a mark from another boot is ignored). The clock runs only over
/// consecutive runs that reached the peer: a run that could not compare forgets the mark, so
/// a peer that comes back after an outage is not taken for a stall.
pub fn track(
    previous: Option<&Mark>,
    now: Option<&Reception>,
    now_ms: u64,
    boot: Option<&str>,
) -> (Option<Mark>, Received) {
    let previous = previous.filter(|p| p.boot.as_deref() == boot);
    match now {
        None => (None, Received::Unknown),
        Some(r) if r.behind == 0 => (None, Received::CaughtUp),
        Some(r) => match previous {
            Some(p) if p.received == r.received => (
                Some(p.clone()),
                Received::Behind {
                    transactions: r.behind,
                    unchanged_for: Some(Duration::from_millis(now_ms.saturating_sub(p.since_ms))),
                },
            ),
            _ => (
                Some(Mark {
                    received: r.received.clone(),
                    since_ms: now_ms,
                    boot: boot.map(str::to_string),
                }),
                Received::Behind {
                    transactions: r.behind,
                    unchanged_for: None,
                },
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(received: &str, behind: u64) -> Reception {
        Reception {
            received: received.into(),
            behind,
        }
    }

    fn mark(received: &str, since_ms: u64) -> Mark {
        Mark {
            received: received.into(),
            since_ms,
            boot: None,
        }
    }

    /// One row per rule: (previous mark, this run, now) → (next mark, what the verdict gets).
    #[test]
    fn track_table() {
        let secs = |s| Some(Duration::from_secs(s));
        type Row = (Option<Mark>, Option<Reception>, u64, Option<Mark>, Received);
        let rows: Vec<Row> = vec![
            // Peer not reached: nothing known, and the clock stops.
            (
                Some(mark("0-1-10", 1000)),
                None,
                9000,
                None,
                Received::Unknown,
            ),
            // Caught up: nothing to remember.
            (
                Some(mark("0-1-10", 1000)),
                Some(rec("0-1-12", 0)),
                9000,
                None,
                Received::CaughtUp,
            ),
            // Behind, first seen: the clock starts.
            (
                None,
                Some(rec("0-1-10", 3)),
                5000,
                Some(mark("0-1-10", 5000)),
                Received::Behind {
                    transactions: 3,
                    unchanged_for: None,
                },
            ),
            // Behind at the same position as before: stalled for the time since.
            (
                Some(mark("0-1-10", 5000)),
                Some(rec("0-1-10", 26)),
                35000,
                Some(mark("0-1-10", 5000)),
                Received::Behind {
                    transactions: 26,
                    unchanged_for: secs(30),
                },
            ),
            // Behind, but the position moved (a busy writer): the clock restarts.
            (
                Some(mark("0-1-10", 5000)),
                Some(rec("0-1-14", 2)),
                35000,
                Some(mark("0-1-14", 35000)),
                Received::Behind {
                    transactions: 2,
                    unchanged_for: None,
                },
            ),
            // A clock that went backwards (cannot, since boot; a mark from an earlier boot
            // can) counts as no time.
            (
                Some(mark("0-1-10", 90000)),
                Some(rec("0-1-10", 1)),
                1000,
                Some(mark("0-1-10", 90000)),
                Received::Behind {
                    transactions: 1,
                    unchanged_for: secs(0),
                },
            ),
        ];
        for (prev, now, at, want_mark, want) in rows {
            let got = track(prev.as_ref(), now.as_ref(), at, None);
            assert_eq!(got, (want_mark, want), "prev {prev:?}, now {now:?}");
        }
    }

    /// A mark from another boot counts from another zero: ignored, the clock restarts.
    #[test]
    fn a_mark_from_another_boot_is_ignored() {
        let old = Mark {
            boot: Some("boot-1".into()),
            ..mark("0-1-10", 1000)
        };
        let (next, got) = track(Some(&old), Some(&rec("0-1-10", 5)), 900_000, Some("boot-2"));
        assert_eq!(
            got,
            Received::Behind {
                transactions: 5,
                unchanged_for: None
            }
        );
        assert_eq!(next.and_then(|m| m.boot), Some("boot-2".into()));
        let (_, same_boot) = track(Some(&old), Some(&rec("0-1-10", 5)), 31_000, Some("boot-1"));
        assert_eq!(
            same_boot,
            Received::Behind {
                transactions: 5,
                unchanged_for: Some(Duration::from_secs(30))
            }
        );
    }

    #[test]
    fn mark_round_trips_and_refuses_garbage() {
        let m = mark("0-1-10,1-2-3", 42);
        assert_eq!(Mark::parse(&m.render()), Some(m));
        assert_eq!(Mark::parse("received=0-1-1\n"), None);
        assert_eq!(Mark::parse("since_ms=x\nreceived=0-1-1"), None);
        assert_eq!(Mark::parse(""), None);
    }
}
