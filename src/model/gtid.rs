//! GTID positions and their comparison with the peer's (docs/contract.md "Verdicts of check-mysql": "local GTID history diverged
//! from the peer's"). MariaDB GTIDs are `domain-server-seq`, one sequence per domain;
//! MySQL GTID sets are `uuid:interval[:interval...]` per source server.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One MariaDB GTID, `domain-server-seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MariaGtid {
    pub domain: u32,
    pub server: u32,
    pub seq: u64,
}

impl fmt::Display for MariaGtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server, self.seq)
    }
}

/// Parse a MariaDB GTID list such as `@@gtid_current_pos` (`0-1-42,1-2-7`; empty is none).
pub fn parse_mariadb(text: &str) -> Result<Vec<MariaGtid>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut it = part.splitn(3, '-');
        let (d, s, q) = (it.next(), it.next(), it.next());
        let parsed = match (d, s, q) {
            (Some(d), Some(s), Some(q)) => {
                d.parse().ok().zip(s.parse().ok()).zip(q.parse().ok()).map(
                    |((domain, server), seq)| MariaGtid {
                        domain,
                        server,
                        seq,
                    },
                )
            }
            _ => None,
        };
        out.push(parsed.ok_or_else(|| format!("not a MariaDB GTID: '{part}'"))?);
    }
    Ok(out)
}

/// The furthest GTID of each domain among several positions (for example `gtid_current_pos`
/// and each connection's `Gtid_IO_Pos`): in one domain sequence numbers only grow, so the
/// largest is the furthest point received. Sorted by domain.
pub fn furthest_per_domain<'a>(lists: impl IntoIterator<Item = &'a [MariaGtid]>) -> Vec<MariaGtid> {
    let mut top: BTreeMap<u32, MariaGtid> = BTreeMap::new();
    for g in lists.into_iter().flatten() {
        let e = top.entry(g.domain).or_insert(*g);
        if g.seq > e.seq {
            *e = *g;
        }
    }
    top.into_values().collect()
}

/// A MariaDB GTID list as the server prints it (`0-1-42,1-2-7`).
pub fn render_mariadb(list: &[MariaGtid]) -> String {
    list.iter()
        .map(MariaGtid::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// How the local GTID position relates to the peer's history.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerComparison {
    /// Local GTIDs that the peer lacks although it has moved past them in that domain
    /// (MariaDB), or errant transactions on both sides (MySQL).
    pub diverged: Vec<String>,
    /// Transactions the peer has that we have not applied yet.
    pub behind: u64,
    /// Transactions we have that the peer has not (yet) got.
    pub ahead: u64,
}

impl PeerComparison {
    pub fn is_diverged(&self) -> bool {
        !self.diverged.is_empty()
    }
}

/// Compare the local `gtid_current_pos` with the peer's `gtid_binlog_state` (the last GTID
/// of every server in every domain the peer has logged).
///
/// In one domain sequence numbers only grow (with `gtid_strict_mode`), so a local GTID
/// `D-S-N` that the peer has not logged (its last `D-S-*` is below N) while the peer's domain
/// D has reached N or beyond can never be replicated there: the histories forked.
pub fn compare_mariadb(local_pos: &[MariaGtid], peer_state: &[MariaGtid]) -> PeerComparison {
    let mut cmp = PeerComparison::default();
    let peer_max: BTreeMap<u32, u64> = peer_state.iter().fold(BTreeMap::new(), |mut m, g| {
        let e = m.entry(g.domain).or_insert(0);
        *e = (*e).max(g.seq);
        m
    });
    let local_domains: BTreeSet<u32> = local_pos.iter().map(|g| g.domain).collect();
    for g in local_pos {
        let peer_top = peer_max.get(&g.domain).copied().unwrap_or(0);
        let peer_has = peer_state
            .iter()
            .any(|p| p.domain == g.domain && p.server == g.server && p.seq >= g.seq);
        if !peer_has && peer_top >= g.seq {
            cmp.diverged.push(g.to_string());
        } else if peer_top > g.seq {
            cmp.behind += peer_top - g.seq;
        } else if !peer_has {
            cmp.ahead += g.seq - peer_top;
        }
    }
    for (domain, top) in &peer_max {
        if !local_domains.contains(domain) {
            cmp.behind += top;
        }
    }
    cmp
}

/// A MySQL GTID set: source UUID → sorted, merged, inclusive intervals.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GtidSet(BTreeMap<String, Vec<(u64, u64)>>);

/// Parse a MySQL GTID set such as `@@gtid_executed` (`uuid:1-5:7,\nuuid2:3`; empty is none).
/// Tagged GTIDs (8.3+, `uuid:tag:1-5`) keep the tag as part of the key.
pub fn parse_mysql(text: &str) -> Result<GtidSet, String> {
    let mut set = GtidSet::default();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut fields = part.split(':').map(str::trim);
        let mut key = fields.next().unwrap_or_default().to_ascii_lowercase();
        if key.len() != 36 {
            return Err(format!("not a MySQL GTID set element: '{part}'"));
        }
        let mut intervals = Vec::new();
        for f in fields {
            let (a, b) = match f.split_once('-') {
                Some((a, b)) => (a.parse::<u64>(), b.parse::<u64>()),
                None => (f.parse::<u64>(), f.parse::<u64>()),
            };
            match (a, b) {
                (Ok(a), Ok(b)) if a >= 1 && a <= b => intervals.push((a, b)),
                _ if f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                    key = format!("{key}:{f}");
                }
                _ => return Err(format!("bad interval '{f}' in GTID set element '{part}'")),
            }
        }
        set.0.entry(key).or_default().extend(intervals);
    }
    for iv in set.0.values_mut() {
        iv.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(iv.len());
        for &(a, b) in iv.iter() {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        *iv = merged;
    }
    Ok(set)
}

impl fmt::Display for GtidSet {
    /// `uuid:1-5:7,uuid2:3`, sources in order (the server adds newlines; we do not).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (key, ivs) in &self.0 {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            f.write_str(key)?;
            for &(a, b) in ivs {
                if a == b {
                    write!(f, ":{a}")?;
                } else {
                    write!(f, ":{a}-{b}")?;
                }
            }
        }
        Ok(())
    }
}

impl GtidSet {
    /// Every transaction in `self` or `other`.
    pub fn union(&self, other: &GtidSet) -> GtidSet {
        let mut text = self.to_string();
        if !text.is_empty() && !other.0.is_empty() {
            text.push(',');
        }
        text.push_str(&other.to_string());
        // Rendered sets always parse; merging intervals is parse's job.
        parse_mysql(&text).unwrap_or_default()
    }

    /// Number of transactions in `self` that are not in `other`.
    pub fn count_missing_from(&self, other: &GtidSet) -> u64 {
        let mut n = 0;
        for (uuid, ivs) in &self.0 {
            let theirs = other.0.get(uuid).map(Vec::as_slice).unwrap_or(&[]);
            for &(a, b) in ivs {
                let overlap: u64 = theirs
                    .iter()
                    .map(|&(c, d)| {
                        let (lo, hi) = (a.max(c), b.min(d));
                        if lo <= hi { hi - lo + 1 } else { 0 }
                    })
                    .sum();
                n += (b - a + 1) - overlap;
            }
        }
        n
    }

    /// Source UUIDs (with tag) that have transactions missing from `other`.
    fn sources_missing_from(&self, other: &GtidSet) -> Vec<String> {
        self.0
            .keys()
            .filter(|k| {
                let only = GtidSet(BTreeMap::from([((*k).clone(), self.0[*k].clone())]));
                only.count_missing_from(other) > 0
            })
            .cloned()
            .collect()
    }
}

/// Compare local `gtid_executed` with the peer's. With one UUID per server there is no
/// shared sequence, so "diverged" means each side has transactions the other lacks.
pub fn compare_mysql(local: &GtidSet, peer: &GtidSet) -> PeerComparison {
    let ahead = local.count_missing_from(peer);
    let behind = peer.count_missing_from(local);
    let diverged = if ahead > 0 && behind > 0 {
        local.sources_missing_from(peer)
    } else {
        Vec::new()
    };
    PeerComparison {
        diverged,
        behind,
        ahead,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(s: &str) -> Vec<MariaGtid> {
        parse_mariadb(s).unwrap()
    }

    #[test]
    fn parses_mariadb_lists() {
        assert_eq!(g(""), vec![]);
        assert_eq!(
            g("0-1-42, 1-2-7"),
            vec![
                MariaGtid {
                    domain: 0,
                    server: 1,
                    seq: 42
                },
                MariaGtid {
                    domain: 1,
                    server: 2,
                    seq: 7
                }
            ]
        );
        for bad in ["0-1", "a-b-c", "0-1-2-3", "0--1-2"] {
            assert!(parse_mariadb(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn furthest_received_per_domain() {
        // Applied 0-1-10 here; the IO thread has received up to the peer's 0-2-12.
        let got = furthest_per_domain([g("0-1-10,1-1-3").as_slice(), g("0-2-12").as_slice()]);
        assert_eq!(render_mariadb(&got), "0-2-12,1-1-3");
        assert_eq!(render_mariadb(&furthest_per_domain([g("").as_slice()])), "");
    }

    #[test]
    fn mysql_union_and_display() {
        let a = parse_mysql("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10").unwrap();
        let b = parse_mysql(
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:11-12:20,\n4a2bd3b0-71ca-11e1-9e33-c80aa9429562:1",
        )
        .unwrap();
        assert_eq!(
            a.union(&b).to_string(),
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-12:20,4a2bd3b0-71ca-11e1-9e33-c80aa9429562:1"
        );
        assert_eq!(a.union(&GtidSet::default()), a);
    }

    #[test]
    fn mariadb_in_sync_behind_ahead() {
        // Dual master: peer logged our 0-1-10 then wrote 0-2-11 and 0-2-12.
        let c = compare_mariadb(&g("0-1-10"), &g("0-1-10,0-2-12"));
        assert_eq!((c.diverged.len(), c.behind, c.ahead), (0, 2, 0));
        let c = compare_mariadb(&g("0-2-12"), &g("0-1-10,0-2-12"));
        assert_eq!(c, PeerComparison::default());
        // We wrote 0-1-11 and 0-1-12; the peer has not received them yet.
        let c = compare_mariadb(&g("0-1-12"), &g("0-1-10,0-2-9"));
        assert_eq!((c.diverged.len(), c.behind, c.ahead), (0, 0, 2));
    }

    #[test]
    fn mariadb_fork_is_diverged() {
        // Both wrote seq 11 while disconnected: 0-1-11 here, 0-2-11 on the peer.
        let c = compare_mariadb(&g("0-1-11"), &g("0-1-10,0-2-11"));
        assert_eq!(c.diverged, vec!["0-1-11".to_string()]);
        // The peer moved further still.
        let c = compare_mariadb(&g("0-1-11"), &g("0-1-10,0-2-15"));
        assert!(c.is_diverged());
    }

    #[test]
    fn mariadb_domains_are_independent() {
        let c = compare_mariadb(&g("0-1-5,1-1-3"), &g("0-1-5,1-2-3"));
        assert_eq!(c.diverged, vec!["1-1-3".to_string()]);
        let c = compare_mariadb(&g("0-1-5"), &g("0-1-5,1-2-3"));
        assert_eq!((c.diverged.len(), c.behind), (0, 3));
    }

    const U1: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const U2: &str = "4a2bd3b0-71ca-11e1-9e33-c80aa9429562";

    #[test]
    fn parses_mysql_sets_with_newlines_and_merges() {
        let s = parse_mysql(&format!("{U1}:1-5:7,\n{U2}:3, {U1}:6")).unwrap();
        assert_eq!(s.0[U1], vec![(1, 7)]);
        assert_eq!(s.0[U2], vec![(3, 3)]);
        assert!(parse_mysql("").unwrap().0.is_empty());
        assert!(parse_mysql("nonsense:1-2").is_err());
        assert!(parse_mysql(&format!("{U1}:5-2")).is_err());
    }

    #[test]
    fn mysql_subset_is_behind_not_diverged() {
        let local = parse_mysql(&format!("{U1}:1-10")).unwrap();
        let peer = parse_mysql(&format!("{U1}:1-12,{U2}:1-3")).unwrap();
        let c = compare_mysql(&local, &peer);
        assert_eq!((c.is_diverged(), c.behind, c.ahead), (false, 5, 0));
    }

    #[test]
    fn mysql_errant_both_ways_is_diverged() {
        let local = parse_mysql(&format!("{U1}:1-10,{U2}:1-2")).unwrap();
        let peer = parse_mysql(&format!("{U1}:1-12")).unwrap();
        let c = compare_mysql(&local, &peer);
        assert_eq!(c.diverged, vec![U2.to_string()]);
        assert_eq!((c.behind, c.ahead), (2, 2));
    }
}
