//! Watch mode (issue 12): `lab up --watch` runs `check-mysql --watch` on each node (under a
//! restart loop standing in for systemd's `Restart=always`), and keepalived tracks its
//! track file (`track_file`, weight 0), the watcher process (`vrrp_track_process`) and, as
//! the slower safety net, the one-shot `vrrp_script chk_mysql`; VRRPv3 with `advert_int 0.2`.
//!
//! Asserted, as in the other scenarios: where the VIP ends, no acknowledged write lost, never
//! two writable nodes in one sample (up to a resume, where a stopped mariadbd comes back with
//! the `read_only=OFF` it had), and which path moved the VIP (the watcher's flip, the
//! process tracker, or the one-shot check). Times are recorded for the benchmark report,
//! never asserted (bench/failover.sh measures them).

use serde_json::json;

use crate::converge::{
    assert_never_two_writers, assert_never_two_writers_until, assert_no_client_write_after,
    wait_one_writer, wait_syslog,
};
use crate::lab::{Fault, Lab, WAIT, check_exit, node_state, now_ms, serial};
use crate::writes::{wait_b_writes, wait_failover_to_b};

/// `lab up --watch`: A the writer, both watchers running and saying 0.
#[track_caller]
fn watch_up(name: &str) -> Lab {
    let lab = Lab::up(name, &["--watch"]);
    let st = lab.status();
    for n in ["a", "b"] {
        assert_eq!(st["nodes"][n]["watcher"], "running", "watcher on {n}: {st}");
        assert_eq!(st["nodes"][n]["track"], "0", "track file on {n}: {st}");
    }
    lab
}

/// The watcher on `node` flipped its track file to "must not hold the VIP" after `since`:
/// the line it logged.
#[track_caller]
fn watcher_flip(lab: &Lab, node: &str, since_ms: u64) -> String {
    wait_syslog(
        lab,
        node,
        since_ms,
        &format!("{node}'s watcher flipping its track file"),
        &["check-mysql[", "must not hold the VIP"],
    )
    .1
}

/// The writer's mariadbd is killed: its watcher's next polls fail at once (the connection
/// drops), the track file flips, keepalived faults A and sends a priority-0 advert, B takes
/// over after its skew time. A, restarted, comes back fenced.
#[test]
fn watch_killed_writer_fails_over_through_the_track_file() {
    let _serial = serial();
    let lab = watch_up("e2ewkill");
    lab.start_client();
    let fault = lab.fault(&["kill-writer"]);
    assert_eq!(fault.node, "a");
    let (vip_ms, first_ms) = wait_failover_to_b(&lab, &fault);
    let (target, checked, lost) = lab.assert_no_acked_write_missing("b", &fault);
    let flip = watcher_flip(&lab, "a", fault.at_ms);
    lab.run(&["heal", "a"]);
    lab.wait_node(
        "a",
        "back as a standby: BACKUP (check OK) or FAULT (diverged)",
        |n| {
            (node_state(n, "keepalived") == "BACKUP" && check_exit(n) == 0)
                || (node_state(n, "keepalived") == "FAULT" && check_exit(n) == 4)
        },
    );
    lab.assert_fenced("a");
    assert_eq!(lab.vip(), "b");
    let report = lab.stop_client();
    let samples = assert_never_two_writers(&lab);
    lab.record(
        "watch-kill-writer",
        &fault,
        Some((vip_ms, first_ms)),
        &report,
        json!({
            "watcher_flip": flip,
            "promotion_waited_for_seq": target,
            "acked_checked_on_new_writer": checked,
            "acked_lost_unreplicated": lost,
            "samples": samples,
        }),
    );
}

/// The writer stops without dying (`fault`: its mariadbd, or every process of its host), B
/// takes over, then A resumes (`heal a`) writable as it stopped, yields and is fenced; B
/// stays the writer. Asserts and records what both scenarios share; `extra` is added.
#[track_caller]
fn stopped_writer_fails_over_and_yields(
    lab: Lab,
    scenario: &str,
    fault_args: &[&str],
    extra: impl FnOnce(&Lab, &Fault) -> serde_json::Value,
) {
    lab.start_client();
    let fault = lab.fault(fault_args);
    assert_eq!(fault.node, "a");
    // A frozen host keeps the VIP configured on its interface (nothing runs there to remove
    // it; the lab cannot freeze A's kernel, which still answers ARP for it, unlike a host
    // that lost power): B holding it is the takeover.
    let vip_at = lab.wait("the VIP on B", WAIT, || {
        let v = lab.run(&["vip"]).trim().to_string();
        match v.split_whitespace().any(|n| n == "b") {
            true => Ok(now_ms()),
            false => Err(format!("VIP held by '{v}'")),
        }
    });
    let (vip_ms, first_ms) = wait_b_writes(&lab, &fault, vip_at);
    let (target, checked, lost) = lab.assert_no_acked_write_missing("b", &fault);
    let mut fields = extra(&lab, &fault);
    let heal = lab.heal("a");
    let writer = wait_one_writer(&lab, heal.at_ms, "B the one writer after A resumed");
    assert_eq!(writer, "b");
    lab.assert_fenced("a");
    let (before, after) = assert_never_two_writers_until(&lab, heal.at_ms);
    assert_no_client_write_after(&lab, 1, &fault);
    let report = lab.stop_client();
    fields["promotion_waited_for_seq"] = json!(target);
    fields["acked_checked_on_new_writer"] = json!(checked);
    fields["acked_lost_unreplicated"] = json!(lost);
    fields["samples_before_resume"] = json!(before);
    fields["both_writable_after_resume"] =
        json!(after.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    lab.record(scenario, &fault, Some((vip_ms, first_ms)), &report, fields);
}

/// The writer's mariadbd hangs (SIGSTOP): its watcher's poll gets no answer within
/// --poll-timeout, the track file flips, B takes over; notify-master on B counts the silence
/// its own watcher saw of A. After SIGCONT, A (writable as it stopped) yields and is fenced.
#[test]
fn watch_hung_writer_fails_over_and_yields_when_it_resumes() {
    let _serial = serial();
    let lab = watch_up("e2ewhang");
    stopped_writer_fails_over_and_yields(lab, "watch-hang-writer", &["hang-writer"], |lab, f| {
        let probe = lab
            .syslog("b", f.at_ms)
            .into_iter()
            .find(|l| l.contains("notify-master[") && l.contains("no answer"));
        json!({ "watcher_flip": watcher_flip(lab, "a", f.at_ms), "b_notify_master_probe": probe })
    });
}

/// Every process of host A stops at once (keepalived, mariadbd, the watcher: the power-off
/// case, then a resume): only VRRP tells B, when A's adverts stop (3 × advert_int + skew).
/// After the resume A yields and is fenced; B stays the writer.
#[test]
fn watch_frozen_writer_host_fails_over_on_vrrp_alone() {
    let _serial = serial();
    let lab = watch_up("e2ewfrz");
    stopped_writer_fails_over_and_yields(lab, "watch-host-freeze", &["host-freeze"], |_, _| {
        json!({})
    });
}

/// 150 ms stalls of the writer's mariadbd every 5 s for 60 s under the client's writes: each
/// is shorter than --poll-timeout, so no poll fails twice in a row and the VIP never moves.
#[test]
fn watch_short_writer_stalls_never_move_the_vip() {
    let _serial = serial();
    let lab = watch_up("e2ewstl");
    lab.start_client();
    let faults_a = lab.keepalived_entered("a", "FAULT");
    let masters_b = lab.keepalived_entered("b", "MASTER");
    let fault = lab.fault(&["stalls", "150", "5", "60"]);
    assert_eq!(fault.node, "a");
    let stalls = lab.dir.join("stalls.pid");
    lab.wait(
        "the stalls to end (60 s)",
        WAIT + std::time::Duration::from_secs(90),
        || match stalls.exists() {
            false => Ok(()),
            true => Err("stalls under way".to_string()),
        },
    );
    let done = std::fs::read_to_string(lab.dir.join("a").join("stalls.log")).unwrap_or_default();
    assert!(
        done.lines().count() >= 10,
        "the writer was stalled fewer than 10 times:\n{done}"
    );
    assert_eq!(
        lab.keepalived_entered("a", "FAULT"),
        faults_a,
        "A went to FAULT"
    );
    assert_eq!(
        lab.keepalived_entered("b", "MASTER"),
        masters_b,
        "B became MASTER"
    );
    let moved: Vec<String> = lab
        .samples()
        .into_iter()
        .filter(|s| s.ms >= fault.at_ms && s.vip != ["a"])
        .map(|s| s.to_string())
        .collect();
    assert!(moved.is_empty(), "the VIP was not on A alone: {moved:#?}");
    let flips: Vec<String> = lab
        .syslog("a", fault.at_ms)
        .into_iter()
        .filter(|l| l.contains("check-mysql[") && l.contains("must not hold the VIP"))
        .collect();
    assert!(flips.is_empty(), "A's watcher flipped: {flips:#?}");
    assert_eq!(lab.vip(), "a");
    let report = lab.stop_client();
    let samples = assert_never_two_writers(&lab);
    lab.record(
        "watch-stalls",
        &fault,
        None,
        &report,
        json!({ "stalls": done.lines().count(), "samples": samples }),
    );
}

/// The writer's watcher is killed: keepalived's vrrp_track_process faults A at once (a node
/// nobody vouches for at watch speed gives up the VIP), B takes over; the restart loop
/// (systemd's Restart=always in production) brings the watcher back and A rejoins, fenced.
#[test]
fn watch_killed_watcher_faults_the_node_and_it_comes_back() {
    let _serial = serial();
    let lab = watch_up("e2ewwk");
    lab.start_client();
    let fault = lab.fault(&["watcher-kill"]);
    assert_eq!(fault.node, "a");
    let (vip_ms, first_ms) = wait_failover_to_b(&lab, &fault);
    let (target, checked, lost) = lab.assert_no_acked_write_missing("b", &fault);
    let log = std::fs::read_to_string(lab.dir.join("a").join("keepalived.log")).unwrap_or_default();
    let quorum = log
        .lines()
        .find(|l| l.contains("Quorum lost for tracked process"))
        .map(str::to_string);
    assert!(
        quorum.is_some(),
        "A's keepalived did not see the watcher go:\n{log}"
    );
    lab.wait_node("a", "watcher back, BACKUP, fenced", |n| {
        node_state(n, "watcher") == "running"
            && node_state(n, "keepalived") == "BACKUP"
            && node_state(n, "read_only") == "ON"
    });
    lab.assert_fenced("a");
    assert_eq!(lab.vip(), "b");
    let report = lab.stop_client();
    let samples = assert_never_two_writers(&lab);
    lab.record(
        "watch-watcher-kill",
        &fault,
        Some((vip_ms, first_ms)),
        &report,
        json!({
            "keepalived_saw": quorum,
            "promotion_waited_for_seq": target,
            "acked_checked_on_new_writer": checked,
            "acked_lost_unreplicated": lost,
            "samples": samples,
        }),
    );
}

/// The writer's watcher hangs (SIGSTOP: invisible to vrrp_track_process; systemd's watchdog
/// restarts it in production, the lab has none): its track file keeps saying 0, and the VIP
/// stays. When the writer's mariadbd then dies, the one-shot vrrp_script (the safety net)
/// still fails it over, at the one-shot path's speed.
#[test]
fn watch_hung_watcher_leaves_the_one_shot_check_as_the_safety_net() {
    let _serial = serial();
    let lab = watch_up("e2ewws");
    lab.start_client();
    let stop = lab.fault(&["watcher-stop"]);
    assert_eq!(stop.node, "a");
    lab.wait_node("a", "watcher stopped", |n| {
        node_state(n, "watcher") == "stopped"
    });
    lab.assert_vip_stays("a", "a stopped watcher that said 0 is no reason to move");
    let fault = lab.fault(&["kill-writer"]);
    let (vip_ms, first_ms) = wait_failover_to_b(&lab, &fault);
    let (target, checked, lost) = lab.assert_no_acked_write_missing("b", &fault);
    let st = lab.status();
    assert_eq!(
        st["nodes"]["a"]["track"], "0",
        "the stopped watcher wrote nothing: {st}"
    );
    let (_, script) = wait_syslog(
        &lab,
        "a",
        fault.at_ms,
        "the one-shot check failing A",
        &["check-mysql[", "FAIL writer down"],
    );
    let heal = lab.heal("a");
    lab.wait_node("a", "back as a fenced standby with its watcher", |n| {
        node_state(n, "watcher") == "running" && node_state(n, "read_only") == "ON"
    });
    lab.assert_fenced("a");
    assert_eq!(lab.vip(), "b");
    let report = lab.stop_client();
    let samples = assert_never_two_writers(&lab);
    lab.record(
        "watch-watcher-stop",
        &fault,
        Some((vip_ms, first_ms)),
        &report,
        json!({
            "one_shot_check": script,
            "watcher_stopped_at_ms": stop.at_ms,
            "heal_at_ms": heal.at_ms,
            "promotion_waited_for_seq": target,
            "acked_checked_on_new_writer": checked,
            "acked_lost_unreplicated": lost,
            "samples": samples,
        }),
    );
}
