//! `--explain`: for each problem, the next step an operator should take, pointing at the
//! runbook section that has the details (docs/runbook.md, installed under /usr/share/doc).

use crate::verdict::{Finding, Level, Situation};

/// Where the packages install the runbook.
pub const RUNBOOK: &str = "/usr/share/doc/keepalived-mysql/runbook.md";

/// Each situation's next step, and the runbook section (anchor) that explains it. Situations
/// without a row (standalone, peer position) need no step.
const ADVICE: &[(Situation, &str, &str)] = &[
    (
        Situation::Down,
        "check the server (systemctl status mariadb, error log, SHOW PROCESSLIST for locks); \
             keep keepalived stopped here until it is healthy",
        "down",
    ),
    (
        Situation::Saturated,
        "the server is at a connection limit (max_connections, max_user_connections): \
             GRANT CONNECTION ADMIN ON *.* to the check's account (MariaDB lets it past the \
             limit), or give the check its own port (extra_port, extra_max_connections); \
             then find who holds the connections (SHOW PROCESSLIST)",
        "saturated",
    ),
    (
        Situation::CheckAccount,
        "the message names the fix for this error (the GRANT, FLUSH HOSTS, ALTER USER); \
             run it as an administrator, on this node only (SET sql_log_bin=0 first if the \
             account differs per node)",
        "check-account",
    ),
    (
        Situation::ReplicationPath,
        "the peer answers, but this node's IO thread cannot reach it: compare \
             Master_Host/Master_Port (SHOW SLAVE STATUS) with the peer's address, test the \
             path from this host (mariadb -h HOST -P PORT -u repl -p), look at firewalls",
        "replication-path",
    ),
    (
        Situation::Stalled,
        "the replication connection receives nothing while the peer writes: \
             STOP SLAVE IO_THREAD; START SLAVE IO_THREAD; and set slave_net_timeout / \
             master_heartbeat_period (packaging/dual-master.cnf) so the server notices by itself",
        "stalled",
    ),
    (
        Situation::PeerDown,
        "repair the other node; replication reconnects by itself",
        "peer-down",
    ),
    (
        Situation::PeerRefused,
        "create the check's account on the peer for this node's address (no privilege \
             needed; CONNECTION ADMIN if the peer may be at max_connections), or fix its \
             password in the option file",
        "peer-refused",
    ),
    (
        Situation::Connecting,
        "wait a few seconds; if it lasts, look at the other node and the IO error",
        "connecting",
    ),
    (
        Situation::IoError,
        "1045: fix the replication user's password; 1236 purged: rebuild this node \
             from the writer",
        "io-error",
    ),
    (
        Situation::SqlError,
        "compare the row named in the error on both nodes; skip one event only if you \
             know why, else rebuild this node from the writer",
        "sql-error",
    ),
    (
        Situation::Diverged,
        "decide which node's history wins (normally the writer's), save the other's extra \
             transactions, rebuild the other node from the winner",
        "diverged",
    ),
    (
        Situation::Stopped,
        "START SLAVE, unless stopped on purpose",
        "stopped",
    ),
    (
        Situation::Lag,
        "find what the SQL thread is doing (SHOW PROCESSLIST, SQL_Delay); this node must \
             not take the VIP until it catches up",
        "lag",
    ),
    (
        Situation::ReadOnlyWriter,
        "check the role file and notify-master's log; run notify-master here if this node \
             should be the writer",
        "read-only-writer",
    ),
    (
        Situation::Promoting,
        "wait for notify-master to finish catching up",
        "promoting",
    ),
    (
        Situation::PromotionFailed,
        "fix what stops the SQL thread from catching up, then restart keepalived here",
        "promotion-failed",
    ),
    (
        Situation::NoReplication,
        "CHANGE MASTER TO ... master_use_gtid=slave_pos; START SLAVE",
        "no-replication",
    ),
    (
        Situation::Unfenced,
        "run notify-backup (SET GLOBAL read_only=ON)",
        "unfenced",
    ),
    (
        Situation::Watcher,
        "check-mysql --watch cannot use the role file the line names: let the notify helpers \
             rewrite it (a keepalived transition) or remove it (the role then comes from \
             --vip); the watcher goes on",
        "watcher",
    ),
    (
        Situation::GuardMissing,
        "run packaging/split-brain.sql as root on the node the message names (each node \
             once), then the guard grants of packaging/grants.sql",
        "guard-missing",
    ),
    (
        Situation::PromotionRefused,
        "nothing while the other node is the writer: this node stays out (FAULT) until the \
             peer is no longer writable; if keepalived made both nodes MASTER, VRRP between \
             them is blocked: allow IP protocol 112 (or unicast peers) between the nodes",
        "promotion-refused",
    ),
    (
        Situation::SplitBrain,
        "both nodes were writable: the yielding node is being fenced by keepalived; find \
             why both became MASTER (VRRP blocked, a network cut) and compare the writes of \
             both nodes since the later one became writer",
        "split-brain",
    ),
    (
        Situation::LeaseLost,
        "this node could not renew the witness lease on a majority (the message lists each \
             voter's answer) and set read_only=ON itself; keepalived fences it and the peer \
             takes over. Find what cut it off (network to the peer and the witness, a voter \
             down or lacking a grant), then let it rejoin as standby",
        "lease-lost",
    ),
    (
        Situation::LeaseElsewhere,
        "nothing while the other node holds the lease: this node stays out (FAULT); if the \
             other node is in fact gone, its lease expires within the TTL and this node may \
             take over",
        "lease-elsewhere",
    ),
    (
        Situation::LeaseDegraded,
        "bring the voter the message names back (the witness or the peer: its server, the \
             network to it, its guard table and grants): until then the writer survives no \
             further loss",
        "lease-degraded",
    ),
];

/// The next step for a situation, and the runbook section (anchor) that explains it.
pub fn advice(s: Situation) -> Option<(&'static str, &'static str)> {
    ADVICE
        .iter()
        .find(|(situation, _, _)| *situation == s)
        .map(|(_, step, anchor)| (*step, *anchor))
}

/// The `--explain` lines for a verdict's problems, once per situation.
pub fn lines(findings: &[Finding]) -> Vec<String> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for f in findings.iter().filter(|f| f.level > Level::Note) {
        if seen.contains(&f.situation) {
            continue;
        }
        seen.push(f.situation);
        if let Some((step, anchor)) = advice(f.situation) {
            out.push(format!(
                "next step ({anchor}): {step}; see {RUNBOOK}#{anchor}"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every anchor the advice names is a section of the runbook.
    #[test]
    fn anchors_exist_in_the_runbook() {
        let runbook = include_str!("../../docs/runbook.md");
        let all = crate::verdict::Situation::ALL;
        for s in all {
            let needs_no_step = matches!(s, Situation::Standalone | Situation::PeerPosition);
            assert_eq!(advice(s).is_none(), needs_no_step, "{s:?} has no next step");
            if let Some((_, anchor)) = advice(s) {
                assert!(
                    runbook.contains(&format!("\n## {anchor}\n")),
                    "runbook has no section `## {anchor}`"
                );
                // The anchor is the situation's JSON code, so monitoring can link it too.
                assert_eq!(serde_json::to_value(s).unwrap(), anchor);
            }
        }
    }
}
