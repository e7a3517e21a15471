//! Witness mode (issue 11 §2, docs/contract.md "Witness mode") of check-mysql, notify-master
//! and notify-backup on real servers: A (server_id 1) and B (2) a dual-master [`Pair`], W (3)
//! a standalone witness; every server has packaging/split-brain.sql's guard table
//! (`Server::start`). The check runs as the least-privilege witness check account
//! ([`create_witness_check_user`]), the notify helpers as the failover account, each from its
//! group of one option file per node, with a short lease (`lease-ttl=3s`, `check-interval=1s`,
//! `timeout=400ms`: 1 + 0.4 + 0.4 + 1 = 2.8 s < 3 s). A "cut" is a peer address where nothing
//! listens. No sleeps as assertions: waits are bounded polls, and races are sampled.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::common::mariadb::{Server, free_port};
use crate::common::run::{Run, bin_path, our_bin};
use crate::harness::{Pair, create_failover_user, create_witness_check_user};

/// Kills a run that has not exited by then (a guard against hanging the suite).
const GUARD: Duration = Duration::from_secs(30);

const CHECK_USER: &str = "wcheck";
const CHECK_PASSWORD: &str = "wcheck-pw";
const FAILOVER_USER: &str = "failover";
const FAILOVER_PASSWORD: &str = "failover-pw";

/// A, B replicating, and the witness W, with the helpers' accounts on all three.
fn trio() -> (Pair, Server) {
    let p = Pair::dual_master();
    let w = Server::start(3);
    create_witness_check_user(&p.a, CHECK_USER, CHECK_PASSWORD);
    create_failover_user(&p.a, FAILOVER_USER, FAILOVER_PASSWORD);
    p.wait_synced();
    create_witness_check_user(&w, CHECK_USER, CHECK_PASSWORD);
    create_failover_user(&w, FAILOVER_USER, FAILOVER_PASSWORD);
    (p, w)
}

/// One node's helpers: an option file (one group per binary, peer and witness in each) and a
/// state dir shared by the three, as on a real node.
struct Node {
    name: String,
    _dir: tempfile::TempDir,
    defaults: PathBuf,
    state: tempfile::TempDir,
}

/// The node of `server` whose peer is `127.0.0.1:peer` and witness `127.0.0.1:witness`.
fn node(server: &Server, peer: u16, witness: u16) -> Node {
    let dir = tempfile::Builder::new()
        .prefix("kam-it-witness-")
        .tempdir()
        .expect("temp dir");
    let group = |name: &str, user: &str, password: &str| {
        format!(
            "[{name}]\nuser={user}\npassword={password}\npeer=127.0.0.1:{peer}\n\
             witness=127.0.0.1:{witness}\ntimeout=400ms\nlease-ttl=3s\ncheck-interval=1s\n"
        )
    };
    let body = format!(
        "[client]\nhost=127.0.0.1\nport={}\n{}{}{}",
        server.port,
        group("check-mysql", CHECK_USER, CHECK_PASSWORD),
        group("notify-master", FAILOVER_USER, FAILOVER_PASSWORD),
        group("notify-backup", FAILOVER_USER, FAILOVER_PASSWORD),
    );
    let defaults = dir.path().join("helpers.cnf");
    std::fs::write(&defaults, body).expect("write option file");
    std::fs::set_permissions(&defaults, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let state = tempfile::Builder::new()
        .prefix("kam-it-witness-state-")
        .tempdir()
        .expect("state dir");
    Node {
        name: server.name(),
        _dir: dir,
        defaults,
        state,
    }
}

impl Node {
    fn argv(&self, args: &[&str]) -> Vec<String> {
        let mut all: Vec<String> = vec![
            "--defaults-file".into(),
            self.defaults.display().to_string(),
            "--state-dir".into(),
            self.state.path().display().to_string(),
            "--no-syslog".into(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        all
    }

    fn run(&self, bin: &'static str, args: &[&str]) -> Run<'_> {
        let name = self.name.clone();
        Run::of(
            bin,
            our_bin(bin).env_clear().timeout(GUARD),
            self.argv(args),
            move || format!("node {name}"),
        )
    }

    fn refused(&self) -> bool {
        self.state.path().join("split-brain.refused").exists()
    }
}

fn read_only(s: &Server) -> bool {
    s.sql("SELECT @@GLOBAL.read_only")[0][0].as_deref() == Some("1")
}

/// The guard row's holder on `s`, read as root.
fn holder(s: &Server) -> String {
    s.sql("SELECT holder FROM keepalived_mysql.guard WHERE id = 1")[0][0]
        .clone()
        .unwrap_or_default()
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(r.line()).unwrap_or_else(|e| r.fail(&format!("not one JSON object: {e}")))
}

/// keepalived's vrrp_script on a writer: check-mysql every 500 ms until dropped, so that
/// the writer keeps its lease while a test runs something else.
struct Renewer {
    stop: std::sync::Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Renewer {
    fn start(n: &Node) -> Renewer {
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let argv = n.argv(&["--role", "writer"]);
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let _ = Command::new(bin_path("check-mysql"))
                    .env_clear()
                    .args(&argv)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                std::thread::sleep(Duration::from_millis(500));
            }
        });
        Renewer {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Renewer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// (a) The writer's check renews on all three voters and passes, with the JSON `lease`
/// object; a fenced standby's check leaves the lease alone.
#[test]
fn a_writer_renews_the_lease_and_passes() {
    let (p, w) = trio();
    let a = node(&p.a, p.b.port, w.port);
    let r = a.run("check-mysql", &["--role", "writer", "--format", "json"]);
    r.expect_code(0);
    let v = json(&r);
    let lease = &v["lease"];
    assert_eq!(
        (
            &lease["action"],
            &lease["held"],
            &lease["holder"],
            &lease["votes"],
            &lease["voters"]
        ),
        (
            &serde_json::json!("renew"),
            &serde_json::json!(true),
            &serde_json::json!(1),
            &serde_json::json!(3),
            &serde_json::json!(3)
        ),
        "{lease:#}"
    );
    let left = lease["expires_in_ms"].as_i64().unwrap_or(-1);
    assert!((1..=3000).contains(&left), "{lease:#}");
    let voters = lease["per_voter"].as_array().expect("per_voter");
    assert_eq!(voters.len(), 3, "{lease:#}");
    assert!(voters.iter().all(|v| v["granted"] == true), "{lease:#}");
    for s in [&p.a, &p.b, &w] {
        assert_eq!(holder(s), "1", "{} after the renewal", s.name());
    }

    // B, fenced, is no writer: its check neither renews nor peeks.
    p.b.sql("SET GLOBAL read_only=ON");
    let b = node(&p.b, p.a.port, w.port);
    let r = b.run("check-mysql", &["--role", "standby", "--format", "json"]);
    r.expect_code(0);
    assert_eq!(json(&r)["lease"]["action"], "none", "{}", r.stdout);
    assert_eq!(holder(&p.b), "1", "the standby's check changed nothing");
}

/// (b) A writer that reaches neither the peer nor the witness fences itself: first with
/// addresses where nothing listens, then with B hung (SIGSTOP) and W killed.
#[test]
fn a_writer_cut_off_from_peer_and_witness_fences_itself() {
    let (p, mut w) = trio();
    let cut = node(&p.a, free_port(), free_port());
    cut.run("check-mysql", &["--role", "writer"])
        .expect(6, "FAIL writer split-brain:")
        .output_mentions(&["lease lost: fenced itself (read_only=ON): 1 of 3 votes"]);
    assert!(read_only(&p.a), "A must have fenced itself");

    p.a.sql("SET GLOBAL read_only=OFF");
    let a = node(&p.a, p.b.port, w.port);
    a.run("check-mysql", &["--role", "writer"]).expect_code(0);
    w.kill();
    p.b.pause();
    let r = a.run("check-mysql", &["--role", "writer"]);
    p.b.resume();
    r.expect(6, "FAIL writer split-brain:")
        .output_mentions(&["lease lost: fenced itself"]);
    assert!(read_only(&p.a), "A must have fenced itself");
}

/// (c) B, cut off from A (its peer address does not answer), is refused while A holds the
/// lease, and its check keeps it out; once A's notify-backup has fenced A and released, B
/// promotes at once; when B vanishes without a release (SIGKILL), A promotes only after the
/// TTL.
#[test]
fn a_cut_off_node_is_refused_while_the_writer_holds_the_lease() {
    let (mut p, w) = trio();
    let a = node(&p.a, p.b.port, w.port);
    let b_cut = node(&p.b, free_port(), w.port);
    b_cut.run("notify-backup", &[]).expect(0, "OK standby");
    a.run("check-mysql", &["--role", "writer"]).expect_code(0);
    let renewer = Renewer::start(&a);

    b_cut
        .run("notify-master", &["--catchup-timeout", "1500ms"])
        .expect(6, "FAIL split-brain:")
        .output_mentions(&["no majority of the lease: split brain avoided"]);
    assert!(read_only(&p.b), "B must stay fenced");
    assert!(b_cut.refused(), "B's refusal marker");
    b_cut
        .run("check-mysql", &["--role", "auto"])
        .expect(6, "FAIL")
        .output_mentions(&["server_id 1 holds the lease"]);
    assert!(b_cut.refused(), "the marker stays while A holds the lease");

    drop(renewer);
    a.run("notify-backup", &[]).expect(0, "OK standby");
    for s in [&p.a, &p.b, &w] {
        assert_eq!(holder(s), "0", "{}: released after fencing", s.name());
    }
    // B's peer gives no answer: the lease decided, not the two-node limit (the syslog
    // warning says so too: notify_master::guard's alone_line).
    b_cut
        .run("notify-master", &["--catchup-timeout", "1500ms"])
        .expect(0, "OK writer")
        .output_mentions(&["gave no answer: promoted under the witness lease"]);
    assert!(!read_only(&p.b), "B promoted");

    // B renews, then vanishes without releasing: its rows on A and W live until the TTL.
    b_cut
        .run("check-mysql", &["--role", "writer"])
        .expect_code(0);
    p.b.kill();
    let a_cut = node(&p.a, p.b.port, w.port);
    a_cut
        .run("notify-master", &["--catchup-timeout", "200ms"])
        .expect(6, "FAIL split-brain:")
        .output_mentions(&["no majority of the lease"]);
    assert!(read_only(&p.a), "A stays fenced while B's lease lives");
    a_cut
        .run("notify-master", &["--catchup-timeout", "10s"])
        .expect(0, "OK writer");
    assert!(!read_only(&p.a), "A promoted after B's TTL");
    assert_eq!(holder(&w), "1", "the witness's row is A's");
}

/// (d) Two notify-masters started at once, several rounds, with the peers reachable and in a
/// cut (each one's peer address does not answer, so only the lease stands between them):
/// sampled all along, the two servers are never writable at the same time, and exactly one
/// promotes.
#[test]
fn racing_notify_masters_never_both_unfence() {
    let (p, w) = trio();
    for round in 0..4 {
        let cut = round % 2 == 1;
        let (to_b, to_a) = if cut {
            (free_port(), free_port())
        } else {
            (p.b.port, p.a.port)
        };
        let a = node(&p.a, to_b, w.port);
        let b = node(&p.b, to_a, w.port);
        a.run("notify-backup", &[]).expect(0, "OK standby");
        b.run("notify-backup", &[]).expect(0, "OK standby");
        let done = AtomicBool::new(false);
        let both = Mutex::new(Vec::new());
        let codes = std::thread::scope(|scope| {
            scope.spawn(|| {
                let mut samples = 0u32;
                while !done.load(Ordering::SeqCst) {
                    let (ra, rb) = (read_only(&p.a), read_only(&p.b));
                    samples += 1;
                    if !ra && !rb {
                        both.lock().unwrap().push(samples);
                    }
                }
            });
            let spawn = |n: &Node| {
                Command::new(bin_path("notify-master"))
                    .env_clear()
                    .args(n.argv(&["--catchup-timeout", "1500ms"]))
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("spawn notify-master")
            };
            let (ca, cb) = (spawn(&a), spawn(&b));
            let outs = [ca, cb].map(|c| c.wait_with_output().expect("wait"));
            done.store(true, Ordering::SeqCst);
            outs.map(|o| {
                (
                    o.status.code(),
                    String::from_utf8_lossy(&o.stdout).into_owned(),
                )
            })
        });
        let both = both.into_inner().unwrap();
        assert!(
            both.is_empty(),
            "round {round} (cut: {cut}): both writable at samples {both:?}; {codes:?}"
        );
        let mut exits: Vec<_> = codes.iter().map(|(c, _)| *c).collect();
        exits.sort();
        assert_eq!(
            exits,
            [Some(0), Some(6)],
            "round {round} (cut: {cut}): {codes:?}"
        );
        assert_ne!(
            read_only(&p.a),
            read_only(&p.b),
            "round {round}: exactly one writer"
        );
    }
}

/// (e) notify-backup releases the lease after fencing, and when the local server is
/// killed (provably not running: connection refused); not when it hangs (SIGSTOP), which may
/// resume and commit.
#[test]
fn notify_backup_releases_after_fencing_and_when_killed_not_when_hung() {
    let (mut p, w) = trio();
    let a = node(&p.a, p.b.port, w.port);
    a.run("check-mysql", &["--role", "writer"]).expect_code(0);
    a.run("notify-backup", &[]).expect(0, "OK standby");
    assert!(read_only(&p.a));
    for s in [&p.a, &p.b, &w] {
        assert_eq!(holder(s), "0", "{}: released after fencing", s.name());
    }

    // Hung: no release.
    p.a.sql("SET GLOBAL read_only=OFF");
    a.run("check-mysql", &["--role", "writer"]).expect_code(0);
    p.a.pause();
    let r = a.run("notify-backup", &["--no-retry"]);
    p.a.resume();
    r.expect_code(1);
    for s in [&p.b, &w] {
        assert_eq!(
            holder(s),
            "1",
            "{}: a hung server keeps its lease",
            s.name()
        );
    }

    // Killed: released on the voters that answer (the check remembered server_id 1).
    p.a.sql("SET GLOBAL read_only=OFF");
    a.run("check-mysql", &["--role", "writer"]).expect_code(0);
    p.a.kill();
    a.run("notify-backup", &["--no-retry"]).expect_code(1);
    for s in [&p.b, &w] {
        assert_eq!(
            holder(s),
            "0",
            "{}: released when A is not running",
            s.name()
        );
    }
}

/// A voter where the check's account lacks a lease grant, or the guard's table, is named with
/// its fix; while the other two grant a majority the writer keeps its lease and the VIP
/// (loudly: ALERT, and WARN lease-degraded), rather than leave the pair without a writer.
#[test]
fn a_voter_without_the_lease_grant_or_table_is_named_and_the_writer_stays() {
    let (p, w) = trio();
    let a = node(&p.a, p.b.port, w.port);
    w.sql(&format!(
        "REVOKE UPDATE ON keepalived_mysql.guard FROM '{CHECK_USER}'@'127.0.0.1'"
    ));
    a.run("check-mysql", &["--role", "writer"])
        .expect(0, "WARN writer:")
        .output_mentions(&[
            "witness lease",
            "packaging/grants.sql",
            "lease held on 2 of 3",
        ]);
    w.sql(&format!(
        "GRANT UPDATE ON keepalived_mysql.guard TO '{CHECK_USER}'@'127.0.0.1'; \
         DROP TABLE keepalived_mysql.guard"
    ));
    a.run("check-mysql", &["--role", "writer"])
        .expect(0, "WARN writer:")
        .output_mentions(&["packaging/split-brain.sql", "lease held on 2 of 3"]);
    // Without a majority the configuration error is what the check reports (78), beside
    // the lost lease (the node fenced itself).
    p.b.sql("SET sql_log_bin=0; DROP TABLE keepalived_mysql.guard");
    a.run("check-mysql", &["--role", "writer"])
        .expect(78, "FAIL writer config:")
        .output_mentions(&["packaging/split-brain.sql", "lease lost"]);
}

/// Two writable nodes in witness mode: the lease decides, not `writer_since`. B became writer
/// EARLIER (an old `writer_since`, as a hung writer that resumed would have), A holds the
/// lease: A stays (exit 0, loud) and B, which cannot renew, fences itself (exit 6). Never both
/// failing, never both staying.
#[test]
fn in_witness_mode_the_lease_holder_stays_whatever_writer_since_says() {
    let (p, w) = trio();
    let a = node(&p.a, p.b.port, w.port);
    let b = node(&p.b, p.a.port, w.port);
    for s in [&p.a, &p.b] {
        s.sql("SET GLOBAL read_only=ON");
    }
    p.b.sql(
        "SET sql_log_bin=0; \
         UPDATE keepalived_mysql.guard SET writer_since = '2026-01-01 00:00:00' WHERE id = 1",
    );
    p.a.sql(
        "SET sql_log_bin=0; \
         UPDATE keepalived_mysql.guard SET writer_since = UTC_TIMESTAMP(6) WHERE id = 1",
    );
    p.a.sql("SET GLOBAL read_only=OFF");
    a.run("check-mysql", &["--role", "writer"])
        .expect(0, "OK writer");
    assert_eq!(holder(&w), "1", "A holds the lease");
    p.b.sql("SET GLOBAL read_only=OFF");
    a.run("check-mysql", &["--role", "writer"])
        .expect(0, "WARN writer")
        .output_mentions(&["also writable", "holds the lease", "stays the writer"]);
    b.run("check-mysql", &["--role", "writer"])
        .expect(6, "FAIL writer split-brain")
        .output_mentions(&["lease lost", "fenced itself"]);
    assert_eq!(
        p.b.var("read_only").as_deref(),
        Some("1"),
        "B fenced itself"
    );
    assert_eq!(
        p.a.var("read_only").as_deref(),
        Some("0"),
        "A still the writer"
    );
}

/// notify-master counts a voter that refuses with a configuration error (W without the
/// guard's table) as not voting: with the other two granting, it promotes (the -v steps and
/// syslog name the voter and the file); with the peer cut off too, no majority is won
/// because of W: 78 naming W and the file.
#[test]
fn notify_master_promotes_with_two_voters_when_the_third_is_misconfigured() {
    let (p, w) = trio();
    w.sql("SET sql_log_bin=0; DROP TABLE keepalived_mysql.guard");
    let a = node(&p.a, p.b.port, w.port);
    node(&p.b, p.a.port, w.port)
        .run("notify-backup", &[])
        .expect(0, "OK standby");
    a.run("notify-backup", &[]).expect(0, "OK standby");
    assert!(read_only(&p.a));
    let witness = format!("127.0.0.1:{}", w.port);
    a.run("notify-master", &["-v"])
        .expect_code(0)
        .output_mentions(&[
            "OK writer",
            "without a misconfigured voter",
            &witness,
            "packaging/split-brain.sql",
        ]);
    assert!(!read_only(&p.a), "a must be writable");
    a.run("notify-backup", &[]).expect(0, "OK standby");

    // B cut off from A: its own vote and W's missing table; W is why there is no majority.
    let b = node(&p.b, free_port(), w.port);
    b.run("notify-backup", &[]).expect(0, "OK standby");
    b.run("notify-master", &["--catchup-timeout", "2s"])
        .expect(78, "FAIL config:")
        .output_mentions(&[&witness, "packaging/split-brain.sql"]);
    assert!(read_only(&p.b), "b must stay fenced");
}

/// `check-mysql --watch` in witness mode renews the lease on its own schedule (every
/// check-interval, on its own thread beside the polls), and, cut off from the peer and the
/// witness, fences itself and flips the track file to 6 (split-brain: lease lost).
#[test]
fn the_watcher_renews_the_lease_and_fences_itself_when_cut_off() {
    use crate::common::process::{KillOnDrop, die_with_parent};
    let (p, mut w) = trio();
    let a = node(&p.a, p.b.port, w.port);
    let mut cmd = Command::new(bin_path("check-mysql"));
    cmd.env_clear()
        .args(a.argv(&["--role", "writer", "--watch", "--interval", "50ms"]))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    die_with_parent(&mut cmd);
    let mut watcher = KillOnDrop::new(cmd.spawn().expect("spawn the watcher"));
    let track = a.state.path().join("check-mysql.track");
    let mut wait_track = |want: &str| {
        crate::common::wait_until(&format!("track file says {want}"), || {
            if let Some(s) = watcher.try_wait() {
                return Err(format!("the watcher exited: {s}"));
            }
            let got = std::fs::read_to_string(&track).unwrap_or_default();
            match got.trim() == want {
                true => Ok(()),
                false => Err(format!("says {:?}", got.trim())),
            }
        })
    };
    wait_track("0");
    let expires = |s: &Server| {
        s.sql("SELECT CAST(expires AS CHAR) FROM keepalived_mysql.guard WHERE id = 1")[0][0]
            .clone()
            .unwrap_or_default()
    };
    crate::common::wait_until("the watcher holds the lease on W", || {
        match holder(&w) == "1" {
            true => Ok(()),
            false => Err(format!("holder {}", holder(&w))),
        }
    });
    let first = expires(&w);
    crate::common::wait_until("a renewal on W", || match expires(&w) > first {
        true => Ok(()),
        false => Err(format!("expires still {first}")),
    });
    w.kill();
    p.b.pause();
    wait_track("6");
    p.b.resume();
    assert!(read_only(&p.a), "A must have fenced itself");
}
