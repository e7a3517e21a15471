//! The split-brain guard, two-node mode (issue 11 §1, §3): VRRP blocked between A and B while
//! MySQL traffic flows, mid-run under client load and from the start, then healed. What is
//! asserted, from the lab's sampler (`samples.log`: both nodes' `@@read_only` and the VIP's
//! holders every 200 ms) and the client's logs:
//! - never two nodes with `read_only=0` in one sample, from `up` to the end;
//! - after the fault and after the heal: the VIP on exactly one node, the writable one, the
//!   other fenced and not MASTER;
//! - no acknowledged write lost (every one on both nodes once replication caught up);
//! - the two servers' acknowledged writes never overlap in time;
//! - after the heal: replication running on both nodes without error, the same GTID history
//!   (`@@gtid_binlog_state`) on both, and neither check-mysql says `replication` or `diverged`.
//!
//! The lab's default is the guard on (`peer` in the notify helpers' groups, `chk_writer` with
//! `check-mysql --is-writer`, `garp_master_refresh 2`), as in the example configs. The
//! helpers shared with witness mode's scenarios (witness.rs) are in converge.rs.

use serde_json::json;

use crate::converge::{
    assert_never_two_writers, assert_one_history, other, server_id, wait_one_writer,
};
use crate::lab::{Fault, Lab, WAIT, serial};

/// (a) VRRP blocked mid-run under client load: B stops hearing A and becomes MASTER; its
/// notify-master finds A writable and refuses ("split brain avoided"), its check fails it
/// (FAULT), the VIP stays with A alone. (c) After the heal A is still the one writer.
#[test]
fn vrrp_blocked_mid_run_keeps_one_writer() {
    let _serial = serial();
    let lab = Lab::up("e2evrrp", &[]);
    lab.start_client();
    let masters_before = lab.keepalived_entered("b", "MASTER");
    let fault = lab.fault(&["vrrp-block"]);
    assert_eq!(fault.node, "both");
    lab.wait("B's keepalived MASTER (it no longer hears A)", WAIT, || {
        if lab.keepalived_entered("b", "MASTER") > masters_before {
            Ok(())
        } else {
            Err("B not MASTER yet".to_string())
        }
    });
    lab.wait(
        "B's notify-master refusing the writer role (A is writable)",
        WAIT,
        || {
            let log = lab.syslog("b", fault.at_ms);
            if log
                .iter()
                .any(|l| l.contains("notify-master[") && l.contains("split brain avoided"))
            {
                Ok(())
            } else {
                Err(format!("{log:#?}"))
            }
        },
    );
    let writer = wait_one_writer(&lab, fault.at_ms, "A alone writable and holding the VIP");
    assert_eq!(
        writer, "a",
        "the writer keeps its role while VRRP is blocked"
    );
    lab.assert_fenced("b");

    let heal = lab.heal("all");
    let writer = wait_one_writer(
        &lab,
        heal.at_ms,
        "one writer holding the VIP after the heal",
    );
    assert_eq!(
        writer, "a",
        "after the heal, the node that was writing stays the writer"
    );
    let report = lab.stop_client();
    let samples = assert_never_two_writers(&lab);
    let mut extra = assert_one_history(&lab, writer);
    extra["heal_at_ms"] = json!(heal.at_ms);
    extra["samples"] = json!(samples);
    extra["acked_on_writer_after_heal"] = json!(lab.acks_on(server_id(writer), heal.at_ms));
    lab.record("vrrp-block-mid-run", &fault, None, &report, extra);
}

/// (b) `up --vrrp-blocked`: both keepalived start at once and both become MASTER; their
/// notify-masters race, and the claim lets exactly one unfence; the other refuses and goes to
/// FAULT. The client then writes to the winner. (c) After the heal the winner stays the writer
/// (chk_writer's +20) and writes go on there.
#[test]
fn vrrp_blocked_from_the_start_keeps_one_writer() {
    let _serial = serial();
    let lab = Lab::start("e2evblk", &["--vrrp-blocked"]);
    let started = lab.samples().first().map(|s| s.ms).unwrap_or_default();
    for n in ["a", "b"] {
        assert!(
            lab.keepalived_entered(n, "MASTER") >= 1,
            "with VRRP blocked from the start, {n}'s keepalived became MASTER too\n{}",
            lab.logs()
        );
    }
    let writer = wait_one_writer(&lab, started, "one writer holding the VIP after the race");
    let loser = other(writer);
    lab.assert_fenced(loser);
    lab.start_client_on(server_id(writer));
    let fault = Fault {
        node: "both".to_string(),
        at_ms: started,
    };

    let heal = lab.heal("all");
    let after = wait_one_writer(
        &lab,
        heal.at_ms,
        "one writer holding the VIP after the heal",
    );
    assert_eq!(
        after, writer,
        "after the heal, the node that was writing stays the writer"
    );
    lab.wait(
        "the client's writes going on on the writer after the heal",
        WAIT,
        || {
            let n = lab.acks_on(server_id(writer), heal.at_ms);
            if n >= 10 {
                Ok(())
            } else {
                Err(format!("{n} acknowledged by {writer} since the heal"))
            }
        },
    );
    let report = lab.stop_client();
    let samples = assert_never_two_writers(&lab);
    let mut extra = assert_one_history(&lab, writer);
    extra["heal_at_ms"] = json!(heal.at_ms);
    extra["samples"] = json!(samples);
    extra["race_loser"] = json!(loser);
    lab.record("vrrp-blocked-from-start", &fault, None, &report, extra);
}

/// Whether a TCP connection from `from`'s namespace to `to_ip`:3306 opens within 1 s.
pub fn reaches(lab: &Lab, from: &str, to_ip: &str) -> bool {
    std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.namespace(from),
            "timeout",
            "1",
            "bash",
            "-c",
        ])
        .arg(format!("exec 3<>/dev/tcp/{to_ip}/3306"))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The lab's network faults drop what they name (the guard's scenarios, and witness mode's
/// later, rely on them): `cut-ab` every packet between A and B while C reaches both;
/// `isolate-a` everything to and from A with its link up; `vrrp-block` VRRP only (B's
/// keepalived becomes MASTER, MySQL still flows); `heal` undoes each. Holds with or without
/// the guard: after the heal the VIP is on A alone (today A wins the election, with the guard
/// B stays out).
#[test]
fn lab_network_faults_drop_what_they_name() {
    let _serial = serial();
    let lab = Lab::up("e2enet", &[]);
    let (a, b, _) = lab.addresses();
    let c_sees = |node_ip: &str| reaches(&lab, "c", node_ip);
    assert!(reaches(&lab, "a", &b) && reaches(&lab, "b", &a) && c_sees(&a) && c_sees(&b));

    lab.fault(&["cut-ab"]);
    assert!(!reaches(&lab, "a", &b), "cut-ab: A still reaches B");
    assert!(!reaches(&lab, "b", &a), "cut-ab: B still reaches A");
    assert!(c_sees(&a) && c_sees(&b), "cut-ab: C must still reach both");
    lab.heal("all");
    assert!(
        reaches(&lab, "a", &b) && reaches(&lab, "b", &a),
        "heal all after cut-ab"
    );

    let isolated = lab.fault(&["isolate-a"]);
    assert_eq!(isolated.node, "a");
    assert!(!reaches(&lab, "a", &b) && !reaches(&lab, "b", &a) && !c_sees(&a));
    assert!(c_sees(&b), "isolate-a: C must still reach B");
    let link = lab.run_ip(&["-n", &lab.namespace("a"), "link", "show", "eth0"]);
    assert!(
        link.contains("LOWER_UP"),
        "isolate-a keeps A's carrier up: {link}"
    );
    lab.heal("a");
    lab.wait("A reachable again after heal a", WAIT, || {
        if c_sees(&a) && reaches(&lab, "a", &b) {
            Ok(())
        } else {
            Err("not yet".to_string())
        }
    });
    lab.wait("the VIP on A alone after the isolation", WAIT, || {
        // Not Lab::vip, which fails at once on two holders: here that is a state on the way.
        let v = lab.run(&["vip"]);
        if v.trim() == "a" {
            Ok(())
        } else {
            Err(format!("VIP on {}", v.trim()))
        }
    });

    let masters = lab.keepalived_entered("b", "MASTER");
    lab.fault(&["vrrp-block"]);
    assert!(
        reaches(&lab, "a", &b) && reaches(&lab, "b", &a),
        "vrrp-block drops VRRP only"
    );
    lab.wait("B's keepalived MASTER (it no longer hears A)", WAIT, || {
        if lab.keepalived_entered("b", "MASTER") > masters {
            Ok(())
        } else {
            Err("B not MASTER yet".to_string())
        }
    });
    lab.heal("all");
    lab.wait("the VIP on A alone after the heal", WAIT, || {
        // Not Lab::vip, which fails at once on two holders: here that is a state on the way.
        let v = lab.run(&["vip"]);
        if v.trim() == "a" {
            Ok(())
        } else {
            Err(format!("VIP on {}", v.trim()))
        }
    });
    lab.down();
}
