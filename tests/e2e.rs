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

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

const LAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/lab/lab");
const LAB_ROOT: &str = "/run/kam-lab";
/// Bound of every wait for a state (generous: CI has 2 busy cores).
const WAIT: Duration = Duration::from_secs(60);
/// How long "the VIP does not move" must hold to count: keepalived acts on a changed verdict
/// within rise (2) x interval (1 s) plus its master-down timer (3 adverts + skew, < 4 s); this
/// is twice that.
const SETTLE: Duration = Duration::from_secs(12);
const POLL: Duration = Duration::from_millis(100);

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

/// Where cargo put the binaries of this build (`target/debug`).
fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_check-mysql"))
        .parent()
        .expect("binary directory")
        .to_path_buf()
}

fn times_file() -> PathBuf {
    bin_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(bin_dir)
        .join("e2e-times.json")
}

/// Adds (or replaces) one scenario's times in `target/e2e-times.json`. Called under [`SERIAL`].
fn record_times(scenario: &str, entry: Value) {
    let path = times_file();
    let mut all = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    all[scenario] = entry;
    let text = serde_json::to_string_pretty(&all).expect("serialise times");
    if let Err(e) = std::fs::write(&path, text + "\n") {
        eprintln!("cannot write {}: {e}", path.display());
    }
}

fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "the e2e tests need root: the lab creates network namespaces and the keepalived_script \
         user (CI runs as root; run `sudo -E cargo test --test e2e`)"
    );
}

/// One acknowledged write of the client: `start end id gtid server_id` in `c/acked.log`.
#[derive(Debug, Clone)]
struct Ack {
    start_ms: u64,
    end_ms: u64,
    id: u64,
    gtid: String,
    server_id: u32,
}

impl Ack {
    /// Sequence number of the write's GTID in domain 0.
    fn seq(&self) -> u64 {
        gtid_seq(&self.gtid)
            .unwrap_or_else(|| panic!("acknowledged GTID '{}' is not 0-S-N", self.gtid))
    }
}

/// The domain-0 sequence number in a GTID list such as `0-1-72` or `0-1-72,1-2-5`.
fn gtid_seq(list: &str) -> Option<u64> {
    list.split(',').find_map(|g| {
        let mut parts = g.trim().split('-');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("0"), Some(_), Some(seq), None) => seq.parse().ok(),
            _ => None,
        }
    })
}

/// What `lab/lab fault` reports.
#[derive(Debug, Clone)]
struct Fault {
    node: String,
    at_ms: u64,
}

/// A running lab; `down` on drop.
struct Lab {
    name: String,
    dir: PathBuf,
    down_done: bool,
}

impl Lab {
    /// `lab/lab up --name NAME --bin-dir target/debug EXTRA...`; A holds the VIP afterwards.
    #[track_caller]
    fn up(name: &str, extra: &[&str]) -> Lab {
        require_root();
        let lab = Lab {
            name: name.to_string(),
            dir: Path::new(LAB_ROOT).join(name),
            down_done: false,
        };
        let bin = bin_dir();
        let mut args = vec!["up", "--bin-dir", bin.to_str().expect("utf-8 path")];
        args.extend_from_slice(extra);
        lab.run(&args);
        assert_eq!(lab.vip(), "a", "after up, A holds the VIP");
        let st = lab.status();
        assert_eq!(st["nodes"]["a"]["role"], "writer", "{st}");
        assert_eq!(st["nodes"]["a"]["read_only"], "OFF", "{st}");
        assert_eq!(st["nodes"]["b"]["keepalived"], "BACKUP", "{st}");
        assert_eq!(st["nodes"]["b"]["read_only"], "ON", "{st}");
        for n in ["a", "b"] {
            assert_eq!(st["nodes"][n]["check_exit"], 0, "check-mysql on {n}: {st}");
        }
        lab
    }

    fn command(&self, args: &[&str]) -> Output {
        Command::new(LAB)
            .args(args)
            .args(["--name", &self.name])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {LAB}: {e}"))
    }

    /// Runs a lab command that must succeed; returns its stdout.
    #[track_caller]
    fn run(&self, args: &[&str]) -> String {
        let out = self.command(args);
        assert!(
            out.status.success(),
            "lab/lab {} --name {} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[track_caller]
    fn status(&self) -> Value {
        let text = self.run(&["status", "--json"]);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("status is not JSON ({e}): {text}"))
    }

    /// Who holds the VIP: "a", "b" or "none". Two holders (split brain) fail the test at once.
    #[track_caller]
    fn vip(&self) -> String {
        let v = self.run(&["vip"]).trim().to_string();
        assert!(
            v == "a" || v == "b" || v == "none",
            "VIP held by '{v}'\n{}",
            self.logs()
        );
        v
    }

    #[track_caller]
    fn fault(&self, args: &[&str]) -> Fault {
        let mut a = vec!["fault"];
        a.extend_from_slice(args);
        let text = self.run(&a);
        let v: Value = serde_json::from_str(text.trim())
            .unwrap_or_else(|e| panic!("fault output is not JSON ({e}): {text}"));
        Fault {
            node: v["node"].as_str().expect("fault node").to_string(),
            at_ms: v["at_ms"].as_u64().expect("fault at_ms"),
        }
    }

    /// Runs SQL as root on a node (unix socket).
    #[track_caller]
    fn sql(&self, node: &str, q: &str) -> String {
        self.run(&["sql", node, q])
    }

    /// Runs SQL as the client's application user, from host C to the node's own address.
    fn client_sql(&self, node: &str, q: &str) -> Result<String, String> {
        let out = self.command(&["sql", node, "--client", q]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(text)
        }
    }

    fn acked(&self) -> Vec<Ack> {
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
    fn acks_on(&self, server_id: u32, since_ms: u64) -> usize {
        self.acked()
            .iter()
            .filter(|a| a.server_id == server_id && a.end_ms > since_ms)
            .count()
    }

    /// Syslog lines of our binaries (`TIME EPOCH_MS NODE <PRI>... binary[pid]: message`)
    /// from `node`, logged at or after `since_ms`.
    fn syslog(&self, node: &str, since_ms: u64) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.join("syslog.log")).unwrap_or_default();
        text.lines()
            .filter(|l| {
                let f: Vec<&str> = l.splitn(4, ' ').collect();
                f.len() == 4 && f[2] == node && f[1].parse::<u64>().is_ok_and(|ms| ms >= since_ms)
            })
            .map(str::to_string)
            .collect()
    }

    fn logs(&self) -> String {
        let out = self.command(&["logs"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn report(&self) -> Value {
        let text = self.run(&["client", "report", "--json"]);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("report is not JSON ({e}): {text}"))
    }

    /// Polls `probe` until it returns `Ok`, for at most `limit`; panics with `what`, the last
    /// observed state and the lab's logs.
    #[track_caller]
    fn wait<T>(
        &self,
        what: &str,
        limit: Duration,
        mut probe: impl FnMut() -> Result<T, String>,
    ) -> T {
        let start = Instant::now();
        loop {
            match probe() {
                Ok(v) => return v,
                Err(last) if start.elapsed() >= limit => panic!(
                    "lab {}: timed out after {limit:?} waiting for: {what}\nlast observed: {last}\n{}",
                    self.name,
                    self.logs()
                ),
                Err(_) => std::thread::sleep(POLL),
            }
        }
    }

    /// Waits until the VIP is on `node`; returns when it was first seen there.
    #[track_caller]
    fn wait_vip(&self, node: &str) -> u64 {
        self.wait(&format!("VIP on {node}"), WAIT, || {
            let v = self.vip();
            if v == node {
                Ok(now_ms())
            } else {
                Err(format!("VIP on {v}"))
            }
        })
    }

    /// The VIP stays where it is (`node`, or "none") for [`SETTLE`]; also checks that a node
    /// that must not hold it never gets it in between.
    #[track_caller]
    fn assert_vip_stays(&self, node: &str, why: &str) {
        let start = Instant::now();
        while start.elapsed() < SETTLE {
            let v = self.vip();
            assert_eq!(v, node, "{why}: the VIP moved to {v}\n{}", self.logs());
            std::thread::sleep(POLL);
        }
    }

    #[track_caller]
    fn wait_node(&self, node: &str, what: &str, f: impl Fn(&Value) -> bool) -> Value {
        self.wait(&format!("{node}: {what}"), WAIT, || {
            let st = self.status();
            if f(&st["nodes"][node]) {
                Ok(st)
            } else {
                Err(st.to_string())
            }
        })
    }

    #[track_caller]
    fn start_client(&self) {
        self.run(&["client", "start"]);
        let since = now_ms().saturating_sub(60_000);
        self.wait(
            "the client writing through the VIP (20 acknowledged writes)",
            WAIT,
            || {
                let n = self.acks_on(1, since);
                if n >= 20 {
                    Ok(())
                } else {
                    Err(format!("{n} acknowledged"))
                }
            },
        );
    }

    /// The domain-0 position that `node`'s last notify-master (after `since_ms`) waited for:
    /// everything its IO thread had received when the promotion began.
    #[track_caller]
    fn promotion_target(&self, node: &str, since_ms: u64) -> u64 {
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
    fn assert_no_acked_write_missing(
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

    /// The node refuses the application user's writes with 1290 (read_only).
    #[track_caller]
    fn assert_fenced(&self, node: &str) {
        let err = self
            .client_sql(node, "INSERT INTO kam.writes (id) VALUES (900000001)")
            .expect_err(&format!("{node} accepted a write from the client user"));
        assert!(
            err.contains("ERROR 1290"),
            "{node} refused the write, but not with 1290: {err}"
        );
    }

    #[track_caller]
    fn stop_client(&self) -> Value {
        self.run(&["client", "stop"]);
        self.report()
    }

    /// `down`, then: no namespace, no state dir, no process of this lab.
    #[track_caller]
    fn down(mut self) {
        self.run(&["down"]);
        self.down_done = true;
        self.assert_gone();
        // A second `down` is harmless.
        self.run(&["down"]);
    }

    #[track_caller]
    fn assert_gone(&self) {
        // `ip netns add` names a namespace by a file in /run/netns.
        let prefix = format!("kam-{}-", self.name);
        let left: Vec<String> = std::fs::read_dir("/run/netns")
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with(&prefix))
                    .collect()
            })
            .unwrap_or_default();
        assert!(left.is_empty(), "namespaces left after down: {left:?}");
        assert!(!self.dir.exists(), "{} left after down", self.dir.display());
        let marks = [
            format!("{}/", self.dir.display()),
            format!("_client-loop --name {}", self.name),
        ];
        let mut procs = Vec::new();
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if marks.iter().any(|m| cmd.contains(m.as_str())) {
                procs.push(format!("{pid}: {cmd}"));
            }
        }
        assert!(
            procs.is_empty(),
            "processes left after down:\n{}",
            procs.join("\n")
        );
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.down_done {
            return;
        }
        if std::thread::panicking() {
            eprintln!(
                "---- lab {} at the failure ----\n{}",
                self.name,
                self.logs()
            );
        }
        let out = self.command(&["down"]);
        if !out.status.success() {
            eprintln!(
                "lab/lab down --name {} failed: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

fn node_state<'a>(n: &'a Value, key: &str) -> &'a str {
    n[key].as_str().unwrap_or("")
}

fn check_exit(n: &Value) -> i64 {
    n["check_exit"].as_i64().unwrap_or(-1)
}

/// First acknowledged write by `server_id` after the fault: ms from the fault.
fn first_write_after(lab: &Lab, server_id: u32, fault: &Fault) -> Option<u64> {
    lab.acked()
        .iter()
        .filter(|a| a.server_id == server_id && a.end_ms > fault.at_ms)
        .map(|a| a.end_ms - fault.at_ms)
        .min()
}

/// A failover to B happened and is complete: B holds the VIP as writer, read_only=OFF, and
/// the client's writes land on B. Returns (fault -> VIP on B, fault -> first write on B).
#[track_caller]
fn wait_failover_to_b(lab: &Lab, fault: &Fault) -> (u64, u64) {
    let vip_at = lab.wait_vip("b");
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

fn times(fault: &Fault, vip_ms: Option<u64>, first_write_ms: Option<u64>, report: &Value) -> Value {
    json!({
        "fault_node": fault.node,
        "fault_to_vip_moved_ms": vip_ms,
        "fault_to_first_write_on_new_writer_ms": first_write_ms,
        "longest_client_outage_ms": report["longest_outage_ms"],
        "acked": report["acked"],
        "failed": report["failed"],
        "acked_by_server_id": report["acked_by_server_id"],
    })
}

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
    let mut t = times(&fault, Some(vip_ms), Some(first_ms), &report);
    t["promotion_waited_for_seq"] = json!(target);
    t["acked_checked_on_new_writer"] = json!(checked);
    t["acked_lost_unreplicated"] = json!(lost);
    t["old_writer_diverged_after_restart"] = json!(old_writer_diverged);
    record_times("kill-writer", t);
    lab.down();
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
    let mut t = times(&fault, Some(vip_ms), Some(first_ms), &report);
    t["promotion_waited_for_seq"] = json!(target);
    t["acked_checked_on_new_writer"] = json!(checked);
    t["acked_lost_unreplicated"] = json!(lost);
    t["resume_to_fenced_note"] = json!(format!(
        "A resumed at {resumed}; it was writable by its own address until notify-backup fenced it"
    ));
    record_times("hang-writer", t);
    lab.down();
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
    let mut t = times(&fault, None, None, &report);
    t["acked_missing_on_standby_after_catch_up"] = json!(missing);
    record_times("kill-standby", t);
    lab.down();
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
    let mut t = times(&fault, None, None, &report);
    t["writer_killed_at_ms"] = json!(kill.at_ms);
    t["vip_after_writer_killed"] = json!("none");
    record_times("diverge", t);
    lab.down();
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
    let mut t = times(&fault, None, None, &report);
    t["vip_after_writer_killed"] = json!("none");
    record_times("break-standby-then-kill-writer", t);
    lab.down();
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
    let mut t = times(&fault, Some(vip_at - fault.at_ms), Some(first_ms), &report);
    t["master_delay_s"] = json!(15);
    t["vip_moved_while_promoting_read_only"] = json!(vip_while_promoting);
    t["promotion_waited_for_seq"] = json!(target);
    t["acked_checked_on_new_writer"] = json!(checked);
    t["acked_lost_unreplicated"] = json!(lost);
    record_times("lag-standby-then-kill-writer", t);
    lab.down();
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
    let mut t = times(&fault, Some(vip_ms), Some(first_ms), &report);
    t["promotion_waited_for_seq"] = json!(target);
    t["acked_checked_on_new_writer"] = json!(checked);
    record_times("notify-down", t);
    lab.down();
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
    record_times(
        "hang-writer-with-unreplicated-writes",
        times(&fault, None, None, &report),
    );
    lab.down();
}

#[test]
fn gtid_seq_reads_domain_zero() {
    assert_eq!(gtid_seq("0-1-72"), Some(72));
    assert_eq!(gtid_seq("1-2-5,0-2-9"), Some(9));
    assert_eq!(gtid_seq("nothing"), None);
    assert_eq!(gtid_seq("1-1-3"), None);
}
