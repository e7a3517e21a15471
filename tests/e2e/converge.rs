//! What the split-brain scenarios (guard.rs, two-node mode; witness.rs, witness mode) assert
//! from the lab's samples, the client's acknowledged writes and the servers: one writer
//! holding the VIP, never two writable nodes in one sample, one history after the heal.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::lab::{Lab, WAIT, check_exit, node_state};
use crate::samples::{Sample, both_writable, describe, one_writer_holding_the_vip};
use crate::writes::{overlapping_writers, server_spans, writer_runs};

pub fn other(node: &str) -> &'static str {
    if node == "a" { "b" } else { "a" }
}

pub fn server_id(node: &str) -> u32 {
    if node == "a" { 1 } else { 2 }
}

/// Waits until the pair has converged: the newest sample taken at or after `since_ms` shows
/// the VIP on exactly one node, writable, the other fenced; and `status` agrees (the writer
/// MASTER with role writer, the other node not MASTER, read_only=ON). Returns the writer.
#[track_caller]
pub fn wait_one_writer(lab: &Lab, since_ms: u64, what: &str) -> &'static str {
    lab.wait(what, WAIT, || {
        let s = lab
            .sample_since(since_ms)
            .ok_or_else(|| format!("no sample since {since_ms}"))?;
        let w = one_writer_holding_the_vip(&s)?;
        let st = lab.status();
        let (wn, on) = (&st["nodes"][w], &st["nodes"][other(w)]);
        if st["vip_on"] == w
            && node_state(wn, "keepalived") == "MASTER"
            && node_state(wn, "role") == "writer"
            && node_state(wn, "read_only") == "OFF"
            && node_state(on, "keepalived") != "MASTER"
            && node_state(on, "read_only") == "ON"
        {
            Ok(w)
        } else {
            Err(format!("sample {s}; status {st}"))
        }
    })
}

/// Never two writable nodes in one sample that ended before `until_ms` (from `up` on; a
/// sample that began before but waited on a hung server may hold what it read after).
/// Returns the number of samples checked and the both-writable samples from `until_ms` on (for
/// the one case where the lab cannot assert it: a hung server resuming, see witness.rs).
#[track_caller]
pub fn assert_never_two_writers_until(lab: &Lab, until_ms: u64) -> (usize, Vec<Sample>) {
    let samples = lab.samples();
    assert!(!samples.is_empty(), "the sampler wrote no sample");
    let (before, after): (Vec<Sample>, Vec<Sample>) = samples
        .into_iter()
        .partition(|s| s.ms + s.span_ms < until_ms);
    let two = both_writable(&before);
    assert!(
        two.is_empty(),
        "{} of {} samples ended before {until_ms} show both nodes writable (read_only=0):\n{}",
        two.len(),
        before.len(),
        describe(&two, 10)
    );
    let later = both_writable(&after).into_iter().cloned().collect();
    (before.len(), later)
}

/// Never two writable nodes in one sample, from `up` to now. Returns the number of samples.
#[track_caller]
pub fn assert_never_two_writers(lab: &Lab) -> usize {
    let samples = lab.samples();
    assert!(!samples.is_empty(), "the sampler wrote no sample");
    let two = both_writable(&samples);
    assert!(
        two.is_empty(),
        "{} of {} samples show both nodes writable (read_only=0):\n{}",
        two.len(),
        samples.len(),
        describe(&two, 10)
    );
    samples.len()
}

/// Every acknowledged write on both nodes once replication caught up; the two servers' writes
/// never overlap in time; replication healthy on both with one GTID history. Returns what the
/// scenario records.
#[track_caller]
pub fn assert_one_history(lab: &Lab, writer: &str) -> Value {
    let acked = lab.acked();
    for node in ["a", "b"] {
        lab.wait(
            &format!("every acknowledged write present on {node}"),
            WAIT,
            || {
                let present: HashSet<u64> = lab
                    .sql(node, "SELECT id FROM kam.writes")
                    .lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect();
                let missing: Vec<u64> = acked
                    .iter()
                    .filter(|a| !present.contains(&a.id))
                    .map(|a| a.id)
                    .collect();
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(format!("{} missing: {missing:?}", missing.len()))
                }
            },
        );
    }
    if let Some((x, y)) = overlapping_writers(&acked) {
        panic!(
            "acknowledged writes of server_id {} ({}..{} ms, {} writes) and server_id {} \
             ({}..{} ms, {} writes) overlap in time; runs of the client's writes: {:?}",
            x.server_id,
            x.from_ms,
            x.to_ms,
            x.count,
            y.server_id,
            y.from_ms,
            y.to_ms,
            y.count,
            writer_runs(&acked)
        );
    }
    let state = lab.wait(
        "replication running without error on both nodes, with the same GTID history",
        WAIT,
        || {
            for n in ["a", "b"] {
                let s = lab.slave_status(n);
                let field = |k: &str| s.get(k).map(String::as_str).unwrap_or("");
                if field("Slave_IO_Running") != "Yes"
                    || field("Slave_SQL_Running") != "Yes"
                    || field("Last_IO_Errno") != "0"
                    || field("Last_SQL_Errno") != "0"
                {
                    return Err(format!("{n}: {s:?}"));
                }
            }
            let (sa, sb) = (
                lab.sql("a", "SELECT @@gtid_binlog_state"),
                lab.sql("b", "SELECT @@gtid_binlog_state"),
            );
            if sa.trim() == sb.trim() {
                Ok(sa.trim().to_string())
            } else {
                Err(format!("gtid_binlog_state a={} b={}", sa.trim(), sb.trim()))
            }
        },
    );
    let st = lab.status();
    for n in ["a", "b"] {
        let code = check_exit(&st["nodes"][n]);
        assert!(
            code != 2 && code != 4,
            "check-mysql on {n} says replication (2) or diverged (4) after the heal: {st}"
        );
    }
    json!({
        "writer": writer,
        "other_keepalived_after_heal": node_state(&st["nodes"][other(writer)], "keepalived"),
        "other_check_exit_after_heal": check_exit(&st["nodes"][other(writer)]),
        "gtid_binlog_state": state,
        "acked_spans": server_spans(&acked)
            .iter()
            .map(|s| json!({"server_id": s.server_id, "from_ms": s.from_ms, "to_ms": s.to_ms, "count": s.count}))
            .collect::<Vec<_>>(),
    })
}

/// The first syslog line of `node` since `since_ms` that contains every one of `needles`;
/// waits for it. Returns its epoch ms and the line.
#[track_caller]
pub fn wait_syslog(
    lab: &Lab,
    node: &str,
    since_ms: u64,
    what: &str,
    needles: &[&str],
) -> (u64, String) {
    lab.wait(what, WAIT, || {
        lab.syslog(node, since_ms)
            .into_iter()
            .find(|l| needles.iter().all(|n| l.contains(n)))
            .map(|l| {
                let ms = l
                    .split(' ')
                    .nth(1)
                    .and_then(|m| m.parse().ok())
                    .unwrap_or(0);
                (ms, l)
            })
            .ok_or_else(|| format!("no line of {node} with {needles:?} since {since_ms}"))
    })
}

/// `server_id` acknowledged no client write begun after `fault` (the client writes through
/// the VIP: a node that lost it, even one still writable, must not take any).
#[track_caller]
pub fn assert_no_client_write_after(lab: &Lab, server_id: u32, fault: &crate::lab::Fault) {
    // Begun after the fault: `at_ms` is taken just before the signal, so a write that began
    // before it may end a few ms after it.
    let late: Vec<_> = lab
        .acked()
        .into_iter()
        .filter(|a| a.server_id == server_id && a.start_ms > fault.at_ms)
        .collect();
    assert!(
        late.is_empty(),
        "server_id {server_id} acknowledged client writes begun after the fault: {late:?}"
    );
}
