//! End-to-end failover tests on a real two-host lab (`lab/lab`): hosts A and B are network
//! namespaces running MariaDB (dual master, GTID) and keepalived with our binaries as its
//! `script_user`; host C writes through the VIP all along. One lab per test (`--name` per
//! test), torn down by a Drop guard even when the test panics.
//!
//! Run with `cargo test --test e2e`, as root (the lab creates network namespaces and a system
//! user). Needs `apt-get install mariadb-server mariadb-client keepalived iproute2 iptables
//! python3`; a missing one fails the test with the package to install.
//!
//! The labs run one at a time (a static mutex): with 2 cores, two labs at once would make
//! keepalived's 1-second checks compete for CPU, and a slow check is not what these tests are
//! about. Assertions are on outcomes — where the VIP ends, which acknowledged rows the new
//! writer has, what the fenced node refuses, that nothing is left after `down`. Waits are
//! bounded polls for a state. Times (fault -> VIP moved, longest client outage) are recorded
//! in `target/e2e-times.json` for the benchmark report, never asserted.

#[path = "../common/mod.rs"]
mod common;
mod converge;
mod guard;
mod lab;
mod samples;
mod watch;
mod witness;
mod writes;

use std::collections::HashSet;

use serde_json::json;

use lab::{Lab, WAIT, check_exit, node_state, now_ms, serial};
use writes::{Ack, gtid_seq, wait_failover_to_b};

/// Scenario 1: The writer's mysqld is killed: the VIP moves to B, which applies everything it had
/// received before taking writes; A, restarted, comes back fenced and rejoins as standby.
#[test]
fn kill_writer_fails_over_to_the_standby() {
    let _serial = serial();
    let lab = Lab::up("e2ekill", &[]);
    lab.start_client();
    let fault = lab.fault(&["kill-writer"]);
    assert_eq!(fault.node, "a");
    let (vip_ms, first_ms) = wait_failover_to_b(&lab, &fault);
    let (target, checked, lost) = lab.assert_no_acked_write_missing("b", &fault);

    // A comes back fenced (read_only in my.cnf) and replicates from B: a healthy standby
    // (BACKUP). Or, if SIGKILL struck between a commit and its dump to B, A has a GTID that B
    // never got: then its check says `diverged` and it stays in FAULT. Either way: fenced,
    // and the VIP stays on B.
    lab.run(&["heal", "a"]);
    let st = lab.wait_node(
        "a",
        "back as a standby: BACKUP (check OK) or FAULT (diverged)",
        |n| {
            (node_state(n, "keepalived") == "BACKUP" && check_exit(n) == 0)
                || (node_state(n, "keepalived") == "FAULT" && check_exit(n) == 4)
        },
    );
    let old_writer_diverged = check_exit(&st["nodes"]["a"]) == 4;
    lab.assert_fenced("a");
    assert_eq!(
        lab.vip(),
        "b",
        "nopreempt: the VIP stays on B when A returns"
    );
    let report = lab.stop_client();
    lab.record(
        "kill-writer",
        &fault,
        Some((vip_ms, first_ms)),
        &report,
        json!({
            "promotion_waited_for_seq": target,
            "acked_checked_on_new_writer": checked,
            "acked_lost_unreplicated": lost,
            "old_writer_diverged_after_restart": old_writer_diverged,
        }),
    );
}

/// Scenario 2: The writer's mysqld hangs (SIGSTOP): its check times out, the VIP moves to B. When A
/// resumes it is fenced (notify-backup on its way back to BACKUP) and refuses writes.
#[test]
fn hung_writer_fails_over_and_is_fenced_when_it_resumes() {
    let _serial = serial();
    let lab = Lab::up("e2ehang", &[]);
    lab.start_client();
    let fault = lab.fault(&["hang-writer"]);
    assert_eq!(fault.node, "a");
    let (vip_ms, first_ms) = wait_failover_to_b(&lab, &fault);
    let (target, checked, lost) = lab.assert_no_acked_write_missing("b", &fault);
    let st = lab.status();
    assert_eq!(st["nodes"]["a"]["mysqld"], "stopped", "{st}");
    assert_eq!(
        check_exit(&st["nodes"]["a"]),
        1,
        "a hung server is 'down': {st}"
    );

    let resumed = now_ms();
    lab.run(&["heal", "a"]);
    lab.wait_node("a", "fenced after resuming (read_only=ON)", |n| {
        node_state(n, "read_only") == "ON"
    });
    lab.assert_fenced("a");
    lab.wait_node("a", "BACKUP again", |n| {
        node_state(n, "keepalived") == "BACKUP"
    });
    assert_eq!(lab.vip(), "b");
    let report = lab.stop_client();
    let note = format!(
        "A resumed at {resumed}; it was writable by its own address until notify-backup fenced it"
    );
    lab.record(
        "hang-writer",
        &fault,
        Some((vip_ms, first_ms)),
        &report,
        json!({
            "promotion_waited_for_seq": target,
            "acked_checked_on_new_writer": checked,
            "acked_lost_unreplicated": lost,
            "resume_to_fenced_note": note,
        }),
    );
}

/// Scenario 3: The standby's mysqld is killed: B goes to FAULT, the VIP never leaves A, and writes go
/// on. B restarted comes back fenced, catches up with every acknowledged write, BACKUP.
#[test]
fn killed_standby_leaves_the_writer_alone() {
    let _serial = serial();
    let lab = Lab::up("e2esby", &[]);
    lab.start_client();
    let fault = lab.fault(&["kill-standby"]);
    assert_eq!(fault.node, "b");
    lab.wait_node("b", "FAULT", |n| node_state(n, "keepalived") == "FAULT");
    lab.assert_vip_stays("a", "the writer keeps the VIP when the standby dies");
    let st = lab.status();
    assert_eq!(st["nodes"]["a"]["keepalived"], "MASTER", "{st}");
    assert_eq!(
        check_exit(&st["nodes"]["a"]),
        0,
        "writer with its peer down is OK: {st}"
    );
    assert!(lab.acks_on(1, fault.at_ms) >= 20, "writes go on on A");

    lab.run(&["heal", "b"]);
    lab.wait_node("b", "back as a healthy standby (BACKUP, check OK)", |n| {
        node_state(n, "keepalived") == "BACKUP" && check_exit(n) == 0
    });
    lab.assert_fenced("b");
    let report = lab.stop_client();
    let acked = lab.acked();
    let missing = lab.wait(
        "every acknowledged write on B after it caught up",
        WAIT,
        || {
            let on_b: HashSet<u64> = lab
                .sql("b", "SELECT id FROM kam.writes")
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect();
            let missing: Vec<u64> = acked
                .iter()
                .filter(|a| !on_b.contains(&a.id))
                .map(|a| a.id)
                .collect();
            if missing.is_empty() {
                Ok(0)
            } else {
                Err(format!("missing on B: {missing:?}"))
            }
        },
    );
    assert_eq!(lab.vip(), "a");
    lab.record(
        "kill-standby",
        &fault,
        None,
        &report,
        json!({
            "acked_missing_on_standby_after_catch_up": missing,
        }),
    );
}

/// Scenario 4: Conflicting writes on both nodes diverge their GTID histories: the writer keeps the VIP
/// (degraded, logged as an error), the standby fails `diverged` and can never take the VIP —
/// not even when the writer then dies.
#[test]
fn diverged_standby_is_never_eligible() {
    let _serial = serial();
    let lab = Lab::up("e2ediv", &[]);
    lab.start_client();
    let fault = lab.fault(&["diverge"]);
    assert_eq!(fault.node, "b");
    let st = lab.wait_node("b", "FAULT with check-mysql exit 4 (diverged)", |n| {
        node_state(n, "keepalived") == "FAULT" && check_exit(n) == 4
    });
    assert!(
        node_state(&st["nodes"]["b"], "check").starts_with("FAIL standby diverged"),
        "{st}"
    );
    let st = lab.wait_node(
        "a",
        "WARN writer (its SQL thread hit the standby's GTID)",
        |n| node_state(n, "check").starts_with("WARN writer"),
    );
    assert_eq!(
        check_exit(&st["nodes"]["a"]),
        0,
        "the writer keeps the VIP: {st}"
    );
    assert_eq!(lab.vip(), "a");
    let before = lab.acks_on(1, fault.at_ms);
    lab.wait("writes going on on A", WAIT, || {
        let n = lab.acks_on(1, fault.at_ms);
        if n >= before + 20 {
            Ok(())
        } else {
            Err(format!("{n}"))
        }
    });
    // Syslog says why, on both nodes, at error severity (<27> = daemon.err).
    let b_log = lab.syslog("b", fault.at_ms);
    assert!(
        b_log
            .iter()
            .any(|l| l.contains("<27>") && l.contains("check-mysql[") && l.contains("diverged")),
        "no check-mysql error about divergence from b: {b_log:#?}"
    );
    let a_log = lab.syslog("a", fault.at_ms);
    assert!(
        a_log
            .iter()
            .any(|l| l.contains("<27>") && l.contains("check-mysql[") && l.contains("1950")),
        "no check-mysql error about the out-of-order GTID from a: {a_log:#?}"
    );

    // The writer dies: B is not eligible, so no node holds the VIP.
    let kill = lab.fault(&["kill-writer"]);
    lab.wait("A to release the VIP", WAIT, || {
        let v = lab.vip();
        if v == "none" {
            Ok(())
        } else {
            Err(format!("VIP on {v}"))
        }
    });
    lab.assert_vip_stays("none", "a diverged standby must not take the VIP");
    let st = lab.status();
    assert_eq!(st["nodes"]["b"]["keepalived"], "FAULT", "{st}");
    assert_eq!(check_exit(&st["nodes"]["b"]), 4, "{st}");
    lab.assert_fenced("b");
    let report = lab.stop_client();
    lab.record(
        "diverge",
        &fault,
        None,
        &report,
        json!({
            "writer_killed_at_ms": kill.at_ms,
            "vip_after_writer_killed": "none",
        }),
    );
}

/// Scenario 5: The standby's SQL thread stops on a duplicate key (a row written there with
/// sql_log_bin=0), then the writer dies: the broken standby must not take the VIP, and its
/// syslog says why.
#[test]
fn broken_standby_does_not_take_the_vip_when_the_writer_dies() {
    let _serial = serial();
    let lab = Lab::up("e2ebrk", &[]);
    lab.start_client();
    let broken = lab.fault(&["break-standby"]);
    assert_eq!(broken.node, "b");
    lab.wait_node("b", "FAULT with check-mysql exit 2 (replication)", |n| {
        node_state(n, "keepalived") == "FAULT" && check_exit(n) == 2
    });
    let fault = lab.fault(&["kill-writer"]);
    assert_eq!(fault.node, "a");
    let released = lab.wait("A to release the VIP", WAIT, || {
        let v = lab.vip();
        if v == "none" {
            Ok(now_ms())
        } else {
            Err(format!("VIP on {v}"))
        }
    });
    lab.assert_vip_stays(
        "none",
        "a standby whose SQL thread is stopped must not take the VIP",
    );
    let st = lab.status();
    let b = &st["nodes"]["b"];
    assert_eq!(b["keepalived"], "FAULT", "{st}");
    assert_eq!(check_exit(b), 2, "{st}");
    assert!(node_state(b, "check").contains("1062"), "{st}");
    let b_log = lab.syslog("b", broken.at_ms);
    assert!(
        b_log.iter().any(|l| l.contains("check-mysql[")
            && l.contains("FAIL standby replication")
            && l.contains("1062")),
        "no syslog line from b's check-mysql saying why: {b_log:#?}"
    );
    lab.assert_fenced("b");
    let report = lab.stop_client();
    let late: Vec<Ack> = lab
        .acked()
        .into_iter()
        .filter(|a| a.server_id == 2 || a.start_ms > released)
        .collect();
    assert!(
        late.is_empty(),
        "no write may be acknowledged by the broken standby, nor once the VIP is gone: {late:?}"
    );
    lab.record(
        "break-standby-then-kill-writer",
        &fault,
        None,
        &report,
        json!({
            "vip_after_writer_killed": "none",
        }),
    );
}

/// Scenario 6: The standby lags (MASTER_DELAY 15 s, --max-lag 3s) and fails `lag`; then the writer
/// dies. What happens (docs/contract.md "Verdicts of check-mysql"): with the peer gone, Seconds_Behind_Master is NULL
/// (the IO thread is not running), so the standby passes as "peer down" and keepalived moves
/// the VIP to it; notify-master then keeps it read-only ("promoting") until the relay log is
/// applied. So the VIP moves before the standby is writable; the outcome asserted is that
/// it takes no write before catching up and loses no acknowledged write that it had received.
#[test]
fn lagging_standby_takes_no_write_before_catching_up() {
    let _serial = serial();
    let lab = Lab::up("e2elag", &["--max-lag", "3s"]);
    lab.start_client();
    let lag = lab.fault(&["lag-standby", "15"]);
    assert_eq!(lag.node, "b");
    let st = lab.wait_node("b", "FAULT with check-mysql exit 3 (lag)", |n| {
        node_state(n, "keepalived") == "FAULT" && check_exit(n) == 3
    });
    assert!(
        node_state(&st["nodes"]["b"], "check").starts_with("FAIL standby lag"),
        "{st}"
    );
    let fault = lab.fault(&["kill-writer"]);
    let vip_at = lab.wait_vip("b");
    let st = lab.status();
    let vip_while_promoting = node_state(&st["nodes"]["b"], "role") == "promoting";
    let (_, first_ms) = wait_failover_to_b(&lab, &fault);
    let (target, checked, lost) = lab.assert_no_acked_write_missing("b", &fault);
    let report = lab.stop_client();
    lab.record(
        "lag-standby-then-kill-writer",
        &fault,
        Some((vip_at - fault.at_ms, first_ms)),
        &report,
        json!({
            "master_delay_s": 15,
            "vip_moved_while_promoting_read_only": vip_while_promoting,
            "promotion_waited_for_seq": target,
            "acked_checked_on_new_writer": checked,
            "acked_lost_unreplicated": lost,
        }),
    );
}

/// Scenario 7: `notify-down` stops keepalived on the writer: keepalived releases the VIP (notify_stop
/// fences A), B takes over; A keeps running MariaDB, read-only.
#[test]
fn notify_down_moves_the_vip_and_fences_the_old_writer() {
    let _serial = serial();
    let lab = Lab::up("e2edown", &[]);
    lab.start_client();
    let fault = lab.fault(&["down-writer"]);
    assert_eq!(fault.node, "a");
    let (vip_ms, first_ms) = wait_failover_to_b(&lab, &fault);
    let st = lab.wait_node("a", "keepalived stopped and read_only=ON", |n| {
        node_state(n, "keepalived") == "stopped" && node_state(n, "read_only") == "ON"
    });
    assert_eq!(st["nodes"]["a"]["vip"], false, "{st}");
    assert_eq!(st["nodes"]["a"]["mysqld"], "running", "{st}");
    lab.assert_fenced("a");
    let (target, checked, lost) = lab.assert_no_acked_write_missing("b", &fault);
    assert_eq!(lost, 0, "a clean stop loses no acknowledged write");
    let report = lab.stop_client();
    lab.record(
        "notify-down",
        &fault,
        Some((vip_ms, first_ms)),
        &report,
        json!({
            "promotion_waited_for_seq": target,
            "acked_checked_on_new_writer": checked,
        }),
    );
}

/// The writer's replication stream to the standby is cut, it acknowledges writes the standby
/// never receives, then it hangs. The VIP moves to B; notify-backup (notify_fault) cannot fence
/// the hung server. When A resumes, its history has diverged from B's, so its check fails and
/// it stays in FAULT: no new transition, no new notify-backup. notify-backup's background
/// retry must fence it, or a client that reaches A by its own address writes on both nodes.
#[test]
fn hung_writer_that_stays_in_fault_is_fenced_when_it_resumes() {
    let _serial = serial();
    let lab = Lab::up("e2eunf", &[]);
    lab.start_client();
    let cut = lab.fault(&["cut-replication"]);
    lab.wait("writes on A that B does not receive", WAIT, || {
        let n = lab.acks_on(1, cut.at_ms);
        if n >= 10 { Ok(()) } else { Err(format!("{n}")) }
    });
    let fault = lab.fault(&["hang-writer"]);
    lab.wait_vip("b");
    // Resume only once notify_fault's fencing has given up (until then it may still land).
    lab.wait(
        "A's notify-backup giving up on the hung server",
        WAIT,
        || {
            let gave_up = lab
                .syslog("a", fault.at_ms)
                .iter()
                .any(|l| l.contains("notify-backup[") && l.contains("FAIL down"));
            if gave_up {
                Ok(())
            } else {
                Err("no FAIL line from notify-backup yet".into())
            }
        },
    );
    lab.run(&["heal", "a"]);
    lab.wait_node(
        "a",
        "its check-mysql verdict after resuming (not down)",
        |n| node_state(n, "mysqld") == "running" && check_exit(n) != 1,
    );
    lab.wait_node("a", "fenced after resuming (read_only=ON)", |n| {
        node_state(n, "read_only") == "ON"
    });
    lab.assert_fenced("a");
    let report = lab.stop_client();
    lab.record(
        "hang-writer-with-unreplicated-writes",
        &fault,
        None,
        &report,
        json!({}),
    );
}

#[test]
fn gtid_seq_reads_domain_zero() {
    assert_eq!(gtid_seq("0-1-72"), Some(72));
    assert_eq!(gtid_seq("1-2-5,0-2-9"), Some(9));
    assert_eq!(gtid_seq("nothing"), None);
    assert_eq!(gtid_seq("1-1-3"), None);
}
