//! The split-brain guard, witness mode (issue 11 §2, §3): `up --witness` adds host W (a third
//! MariaDB, server_id 3) and `witness`, `lease-ttl` (6 s) and `check-interval` (1 s) in the
//! helpers' groups. A node may be writable only while it holds the lease on a majority of A, B
//! and W. Every scenario asserts, as guard.rs's do (converge.rs):
//! - never two nodes with `read_only=0` in one sample of the sampler, from `up` to the end;
//! - the VIP ends on exactly one node, the writable one, the other fenced;
//! - no acknowledged client write lost, and the two servers' acknowledged writes never overlap
//!   in time;
//! - after the heal: replication running on both without error, one GTID history.
//!
//! Times (fault -> VIP moved, fault -> first acknowledged write on the new writer, longest
//! client outage) go to `target/e2e-times.json` under `witness-*` names, never asserted.

use serde_json::{Value, json};

use crate::converge::{
    assert_never_two_writers, assert_never_two_writers_until, assert_no_client_write_after,
    assert_one_history, wait_one_writer, wait_syslog,
};
use crate::guard::reaches;
use crate::lab::{Fault, Lab, WAIT, check_exit, node_state, now_ms, serial};
use crate::writes::wait_b_writes;

/// The nodes holding the VIP, as `lab vip` prints them (two holders are a state on the way
/// here: an isolated node may hold it in its own namespace, where nobody reaches it).
fn vip_holders(lab: &Lab) -> Vec<String> {
    lab.run(&["vip"])
        .split_whitespace()
        .filter(|v| *v != "none")
        .map(str::to_string)
        .collect()
}

/// A failover to B is complete: B holds the VIP, is the writer with read_only=OFF and the
/// client's writes land on it; A may still hold the VIP where nobody reaches it (isolated).
/// Returns (fault -> VIP first seen on B, fault -> first write acknowledged by B).
#[track_caller]
fn wait_takeover_by_b(lab: &Lab, fault: &Fault) -> (u64, u64) {
    let vip_at = lab.wait("the VIP on B", WAIT, || {
        let h = vip_holders(lab);
        if h.iter().any(|n| n == "b") {
            Ok(now_ms())
        } else {
            Err(format!("VIP on {h:?}"))
        }
    });
    wait_b_writes(lab, fault, vip_at)
}

/// The lease as `lab status` shows `node`'s check-mysql seeing it.
fn lease(st: &Value, node: &str) -> Value {
    st["nodes"][node]["lease"].clone()
}

/// The heal, then the end state every scenario shares: one writer (`writer`) holding the VIP,
/// the other fenced; never two writers in a sample; one history. Returns what to record.
#[track_caller]
fn heal_and_converge(lab: &Lab, writer: &str, why: &str) -> Value {
    let heal = lab.heal("all");
    let after = wait_one_writer(lab, heal.at_ms, "one writer holding the VIP after the heal");
    assert_eq!(after, writer, "{why}");
    let sid = if writer == "a" { 1 } else { 2 };
    lab.wait(
        "the client's writes going on on the writer after the heal",
        WAIT,
        || {
            let n = lab.acks_on(sid, heal.at_ms);
            if n >= 10 {
                Ok(())
            } else {
                Err(format!("{n} acknowledged by {writer} since the heal"))
            }
        },
    );
    let mut extra = json!({ "heal_at_ms": heal.at_ms });
    extra["lease_after_heal"] = lease(&lab.status(), writer);
    extra
}

/// The tail every scenario shares: stop the client, never two writers, one history.
#[track_caller]
fn finish(
    lab: Lab,
    scenario: &str,
    fault: &Fault,
    failover: Option<(u64, u64)>,
    writer: &str,
    mut extra: Value,
) {
    let report = lab.stop_client();
    let samples = assert_never_two_writers(&lab);
    let history = assert_one_history(&lab, writer);
    if let (Value::Object(e), Value::Object(h)) = (&mut extra, history) {
        e.extend(h);
    }
    extra["samples"] = json!(samples);
    lab.record(scenario, fault, failover, &report, extra);
}

/// [`finish`] for the hung writer: the samples after the resume were checked by the caller.
#[track_caller]
fn finish_resumed(
    lab: Lab,
    scenario: &str,
    fault: &Fault,
    failover: Option<(u64, u64)>,
    writer: &str,
    mut extra: Value,
) {
    let report = lab.stop_client();
    let history = assert_one_history(&lab, writer);
    if let (Value::Object(e), Value::Object(h)) = (&mut extra, history) {
        e.extend(h);
    }
    lab.record(scenario, fault, failover, &report, extra);
}

/// (a) VRRP blocked mid-run under load, witness mode: B stops hearing A and becomes MASTER;
/// its notify-master refuses (A writable, A holds the lease), B stays fenced; A stays the
/// writer, and after the heal too.
#[test]
fn witness_vrrp_blocked_mid_run_keeps_one_writer() {
    let _serial = serial();
    let lab = Lab::up("e2ewvrrp", &["--witness"]);
    lab.start_client();
    let masters_before = lab.keepalived_entered("b", "MASTER");
    let fault = lab.fault(&["vrrp-block"]);
    lab.wait("B's keepalived MASTER (it no longer hears A)", WAIT, || {
        if lab.keepalived_entered("b", "MASTER") > masters_before {
            Ok(())
        } else {
            Err("B not MASTER yet".to_string())
        }
    });
    let (_, refusal) = wait_syslog(
        &lab,
        "b",
        fault.at_ms,
        "B's notify-master refusing the writer role",
        &["notify-master[", "split brain avoided"],
    );
    let writer = wait_one_writer(&lab, fault.at_ms, "A alone writable and holding the VIP");
    assert_eq!(
        writer, "a",
        "the writer keeps its role while VRRP is blocked"
    );
    lab.assert_fenced("b");
    let st = lab.status();
    assert_eq!(lease(&st, "a")["held"], true, "A holds the lease: {st}");
    let mut extra = heal_and_converge(&lab, "a", "after the heal, A (the writer) stays the writer");
    extra["b_refusal"] = json!(refusal);
    finish(lab, "witness-vrrp-block-mid-run", &fault, None, "a", extra);
}

/// (b) `cut-ab` under load: A and B no longer reach each other, both reach W and C reaches
/// both. A keeps renewing on A and W (a majority) and stays the writer; B becomes MASTER but
/// cannot win W (A holds it): its notify-master refuses, B stays fenced. After the heal A is
/// still the writer.
#[test]
fn witness_cut_ab_keeps_the_writer_with_the_majority() {
    let _serial = serial();
    let lab = Lab::up("e2ewcut", &["--witness"]);
    let (a, b, w) = lab.addresses();
    let w = w.expect("the witness's address");
    lab.start_client();
    let masters_before = lab.keepalived_entered("b", "MASTER");
    let fault = lab.fault(&["cut-ab"]);
    assert!(
        !reaches(&lab, "a", &b) && !reaches(&lab, "b", &a),
        "cut-ab: A and B cut"
    );
    assert!(
        reaches(&lab, "a", &w) && reaches(&lab, "b", &w),
        "cut-ab: both reach W"
    );
    assert!(
        reaches(&lab, "c", &a) && reaches(&lab, "c", &b),
        "cut-ab: C reaches both"
    );
    lab.wait("B's keepalived MASTER (it no longer hears A)", WAIT, || {
        if lab.keepalived_entered("b", "MASTER") > masters_before {
            Ok(())
        } else {
            Err("B not MASTER yet".to_string())
        }
    });
    let (refused_ms, refusal) = wait_syslog(
        &lab,
        "b",
        fault.at_ms,
        "B's notify-master refusing: no majority of the lease (A holds W)",
        &["notify-master[", "split brain avoided"],
    );
    let st = lab.status();
    let a_lease = lease(&st, "a");
    assert_eq!(a_lease["held"], true, "A renews on A and W: {st}");
    assert_eq!(a_lease["holder"], 1, "{st}");
    assert_eq!(node_state(&st["nodes"]["a"], "read_only"), "OFF", "{st}");
    assert_eq!(node_state(&st["nodes"]["b"], "read_only"), "ON", "{st}");
    lab.assert_fenced("b");
    lab.wait("A still taking writes during the cut", WAIT, || {
        let n = lab.acks_on(1, refused_ms);
        if n >= 10 {
            Ok(())
        } else {
            Err(format!("{n} acknowledged by A since B refused"))
        }
    });
    let mut extra = heal_and_converge(
        &lab,
        "a",
        "after the heal, A (the lease holder) stays the writer",
    );
    extra["b_refusal"] = json!(refusal);
    extra["a_lease_during_cut"] = a_lease;
    finish(lab, "witness-cut-ab", &fault, None, "a", extra);
}

/// (c) `isolate-a` with its carrier up: A reaches nobody (B, W, C). Its check cannot renew a
/// majority and fences A at once; B's notify-master wins B and W once A's rows there expired
/// (the TTL) and B becomes the writer. After the heal A comes back fenced and catches up; B
/// stays the writer (chk_writer's +20).
#[test]
fn witness_isolated_writer_fences_itself_and_b_takes_over() {
    let _serial = serial();
    let lab = Lab::up("e2ewiso", &["--witness"]);
    let (a, b, w) = lab.addresses();
    let w = w.expect("the witness's address");
    lab.start_client();
    let fault = lab.fault(&["isolate-a"]);
    assert_eq!(fault.node, "a");
    assert!(!reaches(&lab, "a", &b), "isolate-a: A reaches B");
    assert!(!reaches(&lab, "a", &w), "isolate-a: A reaches W");
    assert!(!reaches(&lab, "c", &a), "isolate-a: C reaches A");
    assert!(
        reaches(&lab, "c", &b) && reaches(&lab, "b", &w),
        "isolate-a: C and W reach B"
    );
    let (fenced_ms, fenced) = wait_syslog(
        &lab,
        "a",
        fault.at_ms,
        "A's check-mysql losing the lease and fencing A",
        &["check-mysql[", "lease lost: fenced itself"],
    );
    let failover = wait_takeover_by_b(&lab, &fault);
    let (claimed_ms, claimed) = wait_syslog(
        &lab,
        "b",
        fault.at_ms,
        "B's notify-master holding the lease",
        &["notify-master[", "witness lease held by server_id 2"],
    );
    let (target, checked, lost) = lab.assert_no_acked_write_missing("b", &fault);
    let mut extra = heal_and_converge(
        &lab,
        "b",
        "after the heal, B (the writer) stays the writer and A catches up fenced",
    );
    lab.assert_fenced("a");
    extra["a_fenced_itself_after_ms"] = json!(fenced_ms - fault.at_ms);
    extra["b_lease_claimed_after_ms"] = json!(claimed_ms - fault.at_ms);
    extra["a_fenced_line"] = json!(fenced);
    extra["b_claim_line"] = json!(claimed);
    extra["promotion_waited_for_seq"] = json!(target);
    extra["acked_checked_on_new_writer"] = json!(checked);
    extra["acked_lost_unreplicated"] = json!(lost);
    finish(lab, "witness-isolate-a", &fault, Some(failover), "b", extra);
}

/// (d) The writer's mariadbd is killed (SIGKILL), witness mode: A's notify-backup finds its
/// server provably not running and releases the lease, so B's notify-master wins a majority
/// without waiting for the TTL; B becomes the writer with every acknowledged write it had
/// received. After the heal (A restarted, fenced by my.cnf) A catches up; B stays the writer.
#[test]
fn witness_killed_writer_fails_over_to_b() {
    let _serial = serial();
    let lab = Lab::up("e2ewkill", &["--witness"]);
    lab.start_client();
    let fault = lab.fault(&["kill-writer"]);
    assert_eq!(fault.node, "a");
    let failover = wait_takeover_by_b(&lab, &fault);
    let (target, checked, lost) = lab.assert_no_acked_write_missing("b", &fault);
    let (_, claimed) = wait_syslog(
        &lab,
        "b",
        fault.at_ms,
        "B's notify-master holding the lease",
        &["notify-master[", "witness lease held by server_id 2"],
    );
    let released = lab
        .syslog("a", fault.at_ms)
        .into_iter()
        .find(|l| l.contains("notify-backup[") && l.contains("lease released"));
    let mut extra = heal_and_converge(&lab, "b", "after the heal, B stays the writer");
    lab.assert_fenced("a");
    extra["a_release_line"] = json!(released);
    extra["b_claim_line"] = json!(claimed);
    extra["promotion_waited_for_seq"] = json!(target);
    extra["acked_checked_on_new_writer"] = json!(checked);
    extra["acked_lost_unreplicated"] = json!(lost);
    finish(
        lab,
        "witness-kill-writer",
        &fault,
        Some(failover),
        "b",
        extra,
    );
}

/// (e) The writer's mariadbd hangs (SIGSTOP), witness mode: its check times out (no renewal:
/// the local server does not answer), keepalived moves A to FAULT; notify-backup cannot fence
/// a hung server and does not release (it may resume), so B's notify-master wins W once A's
/// row there expired (the TTL). After SIGCONT, A is fenced (its check finds it writable
/// without the lease, and notify-backup's retry) and catches up; B stays the writer.
///
/// The one relaxation: a stopped mariadbd cannot be fenced, so it resumes with the
/// `read_only=OFF` it had when it stopped, until notify-backup's background retry (queued on
/// its socket) or its own check fences it. Measured: one sample (200 ms) with both nodes
/// writable right after SIGCONT. "Never two writable nodes" is asserted up to the SIGCONT;
/// the samples after it are recorded (`both_writable_after_resume`), and no write of the
/// client (through the VIP) is acknowledged by A after the fault.
#[test]
fn witness_hung_writer_fails_over_to_b() {
    let _serial = serial();
    let lab = Lab::up("e2ewhang", &["--witness"]);
    lab.start_client();
    let fault = lab.fault(&["hang-writer"]);
    assert_eq!(fault.node, "a");
    let failover = wait_takeover_by_b(&lab, &fault);
    let (target, checked, lost) = lab.assert_no_acked_write_missing("b", &fault);
    let (claimed_ms, claimed) = wait_syslog(
        &lab,
        "b",
        fault.at_ms,
        "B's notify-master holding the lease",
        &["notify-master[", "witness lease held by server_id 2"],
    );
    let st = lab.status();
    assert_eq!(st["nodes"]["a"]["mysqld"], "stopped", "{st}");
    assert_eq!(
        check_exit(&st["nodes"]["a"]),
        1,
        "a hung server is 'down': {st}"
    );
    let mut extra = heal_and_converge(&lab, "b", "after SIGCONT, B stays the writer");
    lab.assert_fenced("a");
    let resumed_ms = extra["heal_at_ms"].as_u64().expect("heal_at_ms");
    let (before, after) = assert_never_two_writers_until(&lab, resumed_ms);
    assert_no_client_write_after(&lab, 1, &fault);
    // The lease holder never yields to the resumed node, which has no lease (it fences
    // itself): before the fix, B's check said "this node yields" (exit 6) by writer_since.
    let b_log = lab.syslog("b", resumed_ms);
    assert!(
        !b_log
            .iter()
            .any(|l| l.contains("check-mysql[") && l.contains("this node yields")),
        "B, the lease holder, yielded to the resumed A: {b_log:#?}"
    );
    extra["b_saw_the_resumed_writer"] = json!(
        b_log
            .iter()
            .find(|l| l.contains("this node holds the lease"))
            .cloned()
    );
    extra["samples_before_resume"] = json!(before);
    extra["both_writable_after_resume"] =
        json!(after.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    extra["b_lease_claimed_after_ms"] = json!(claimed_ms - fault.at_ms);
    extra["b_claim_line"] = json!(claimed);
    extra["promotion_waited_for_seq"] = json!(target);
    extra["acked_checked_on_new_writer"] = json!(checked);
    extra["acked_lost_unreplicated"] = json!(lost);
    finish_resumed(
        lab,
        "witness-hung-writer",
        &fault,
        Some(failover),
        "b",
        extra,
    );
}
