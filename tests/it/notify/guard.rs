//! The split-brain guard of `notify-master --peer` and `notify-backup` (issue 11 §1,
//! docs/contract.md "Split brain") on a real dual-master [`Pair`]: refusal while the peer is
//! writable, catch-up to what the peer has written (through a stalled replication
//! connection that only the IO thread restart gets past), two notify-masters racing, the
//! two-node limit (a silent peer), a missing guard table, and the guard's row.

use std::time::{Duration, Instant};

use super::{GUARD, Node, count, expect_field, json_object, read_only, with_table};
use crate::common::WAIT;
use crate::common::mariadb::{Server, free_port};
use crate::harness::{Pair, create_failover_user, replicate_b_through_proxy};

/// `127.0.0.1:PORT` of `s`, as `--peer` takes it.
fn peer_of(s: &Server) -> String {
    format!("127.0.0.1:{}", s.port)
}

/// `writer_since` of `s`'s guard row (`None`: NULL).
fn writer_since(s: &Server) -> Option<String> {
    s.sql("SELECT CAST(writer_since AS CHAR) FROM keepalived_mysql.guard WHERE id = 1")[0][0]
        .clone()
}

/// Both nodes as the failover account (the least privileges of packaging/grants.sql, also
/// used on the peer over TCP), fenced by notify-backup.
fn fenced_failover_nodes(p: &Pair) -> (Node<'_>, Node<'_>) {
    create_failover_user(&p.a, "failover", "failover-pw");
    p.wait_synced();
    let a = Node::as_user(&p.a, "failover", Some("failover-pw"));
    let b = Node::as_user(&p.b, "failover", Some("failover-pw"));
    for n in [&a, &b] {
        n.run("notify-backup", &["--peer", &peer_of(other(p, n.server))])
            .expect(0, "OK standby");
    }
    (a, b)
}

fn other<'p>(p: &'p Pair, s: &Server) -> &'p Server {
    if s.server_id == p.a.server_id {
        &p.b
    } else {
        &p.a
    }
}

#[test]
fn refuses_while_the_peer_is_writable() {
    let p = Pair::dual_master();
    with_table(&p);
    let b = Node::new(&p.b);
    b.run("notify-backup", &[]).expect(0, "OK standby");
    assert!(!read_only(&p.a), "a must be writable for this test");
    let peer = peer_of(&p.a);

    let r = b.run("notify-master", &["--peer", &peer]);
    r.expect(6, "FAIL split-brain:")
        .output_mentions(&[&format!("peer {peer} is writable: split brain avoided")]);
    b.expect_read_only(true);
    b.expect_role("promotion-failed");
    let marker = std::fs::read_to_string(b.state_dir().join("split-brain.refused"))
        .unwrap_or_else(|e| r.fail(&format!("no refusal marker: {e}")));
    if !marker.contains(&peer) {
        r.fail(&format!("the marker should name the peer: {marker:?}"));
    }
    // The check fails this node while the peer is writable.
    b.run("check-mysql", &["--role", "auto", "--peer", &peer])
        .expect(6, "FAIL");
    // A writable peer is refused whatever the claim; fenced, the node promotes and the
    // marker goes.
    p.a.sql("SET GLOBAL read_only=ON");
    b.run("notify-master", &["--peer", &peer])
        .expect(0, "OK writer");
    b.expect_read_only(false);
    assert!(
        !b.state_dir().join("split-brain.refused").exists(),
        "a successful promotion deletes the refusal marker\n{}",
        b.describe()
    );
}

/// Replication A → B runs through a proxy whose open connections stall (a half-open
/// connection: B's IO thread says Yes and receives nothing). A writes, then is fenced. B's
/// relay log has nothing to wait for, but the peer has written more: notify-master must
/// catch up to the peer's position, which only its restart of the IO thread (a new
/// connection through the proxy) makes possible well before slave_net_timeout (60 s).
#[test]
fn catches_up_to_what_the_fenced_peer_wrote() {
    let p = Pair::dual_master();
    with_table(&p);
    let proxy = replicate_b_through_proxy(&p);
    p.a.sql("INSERT INTO t.k (v) VALUES ('before the stall')");
    p.wait_synced();
    let (a, b) = fenced_failover_nodes(&p);
    p.a.sql("SET GLOBAL read_only=OFF");

    proxy.stall_open();
    p.a.sql("INSERT INTO t.k (v) VALUES ('while the path is stalled')");
    let total = count(&p.a, "t.k");
    a.run("notify-backup", &["--peer", &peer_of(&p.b)])
        .expect(0, "OK standby");
    assert_ne!(count(&p.b, "t.k"), total, "b must not have the write yet");

    let r = b.run_guarded(
        "notify-master",
        &["--peer", &peer_of(&p.a), "--catchup-timeout", "20s"],
        None,
        Duration::from_secs(60),
    );
    r.expect(0, "OK writer");
    // Applied before read_only=OFF: no polling here.
    let applied = count(&p.b, "t.k");
    if applied != total {
        r.fail(&format!(
            "b is writable with {applied} rows, the peer wrote {total}: not caught up"
        ));
    }
    b.expect_read_only(false);
    b.expect_role("writer");
    // The guard's row says since when (written without the binlog: a's row is untouched).
    assert!(writer_since(&p.b).is_some(), "{}", b.describe());
    assert_eq!(writer_since(&p.a), None, "{}", a.describe());
    // notify-backup clears it again.
    b.run("notify-backup", &["--peer", &peer_of(&p.a)])
        .expect(0, "OK standby");
    assert_eq!(writer_since(&p.b), None, "{}", b.describe());
}

/// Both keepalived become MASTER at once (VRRP blocked): notify-master starts on A and on B
/// together, each with the other as its peer. In every round at most one ends writable (also
/// at every sample taken while they run), and the other exits 6.
#[test]
fn racing_promotions_never_both_unfence() {
    let p = Pair::dual_master();
    with_table(&p);
    let (a, b) = fenced_failover_nodes(&p);
    let (to_a, to_b) = (peer_of(&p.a), peer_of(&p.b));
    for round in 1..=5 {
        let mut ma = a.spawn(
            "notify-master",
            &["--peer", &to_b, "--catchup-timeout", "10s"],
        );
        let mut mb = b.spawn(
            "notify-master",
            &["--peer", &to_a, "--catchup-timeout", "10s"],
        );
        // Sample both read_only flags while they run (bounded by WAIT).
        let start = Instant::now();
        loop {
            let both = !read_only(&p.a) && !read_only(&p.b);
            assert!(
                !both,
                "round {round}: both writable at once\n{}",
                p.describe()
            );
            let done = ma.child.try_wait().is_some() && mb.child.try_wait().is_some();
            if done || start.elapsed() > WAIT {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let (ra, rb) = (ma.wait(), mb.wait());
        let codes = (ra.code, rb.code);
        let (winner, loser, lost) = match codes {
            (Some(0), Some(6)) => (&a, &b, &rb),
            (Some(6), Some(0)) => (&b, &a, &ra),
            _ => ra.fail(&format!(
                "round {round}: expected one exit 0 and one exit 6, got {codes:?}\n{}",
                rb.transcript()
            )),
        };
        println!(
            "round {round}: server {} promoted; the other said {:?}",
            winner.server.server_id,
            lost.line()
        );
        winner.expect_read_only(false);
        winner.expect_role("writer");
        loser.expect_read_only(true);
        loser.expect_role("promotion-failed");
        lost.output_mentions(&["split brain avoided"]);
        // Fence both for the next round.
        a.run("notify-backup", &["--peer", &to_b])
            .expect(0, "OK standby");
        b.run("notify-backup", &["--peer", &to_a])
            .expect(0, "OK standby");
    }
}

/// The stated two-node limit: a peer that gives no answer is taken as down.
#[test]
fn a_silent_peer_does_not_stop_the_promotion() {
    let p = Pair::dual_master();
    let b = Node::new(&p.b);
    b.run("notify-backup", &[]).expect(0, "OK standby");
    let nobody = format!("127.0.0.1:{}", free_port());
    let alone = format!("(peer {nobody} gave no answer: promoted without the split-brain guard)");
    b.run("notify-master", &["--peer", &nobody])
        .expect(0, "OK writer")
        .output_mentions(&[&alone]);
    b.expect_read_only(false);
    assert!(writer_since(&p.b).is_some(), "{}", b.describe());
    // JSON says it too; a peer seen fenced says so.
    b.run("notify-backup", &[]).expect(0, "OK standby");
    let r = b.run("notify-master", &["--peer", &nobody, "--format", "json"]);
    r.expect_code(0);
    let v = json_object(&r);
    expect_field(&r, &v, "guard", serde_json::json!("peer-unreachable"));
    if !v["message"].as_str().unwrap_or_default().contains(&alone) {
        r.fail("the JSON message must say the peer gave no answer");
    }
    p.a.sql("SET GLOBAL read_only=ON");
    b.run("notify-backup", &[]).expect(0, "OK standby");
    let r = b.run(
        "notify-master",
        &["--peer", &peer_of(&p.a), "--format", "json"],
    );
    r.expect_code(0);
    expect_field(
        &r,
        &json_object(&r),
        "guard",
        serde_json::json!("peer-fenced"),
    );
}

/// `check-mysql --watch`'s fresh record that the same peer has given no answer for a while
/// shortens notify-master's first probe of it: a hung peer (it accepts TCP and never
/// answers) is then given only what is left of `--timeout` (here the minimum, 100 ms), and
/// the promotion goes on as with any silent peer. Without the record it waits `--timeout`.
#[test]
fn the_watchers_record_of_a_silent_peer_shortens_the_first_probe() {
    use std::os::unix::net::UnixDatagram;
    let p = Pair::dual_master();
    let b = Node::new(&p.b);
    b.run("notify-backup", &[]).expect(0, "OK standby");
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = format!("127.0.0.1:{}", hung.local_addr().unwrap().port());
    let uptime = std::fs::read_to_string("/proc/uptime").unwrap();
    let now_ms = (uptime
        .split_whitespace()
        .next()
        .unwrap()
        .parse::<f64>()
        .unwrap()
        * 1000.0) as u64;
    std::fs::write(
        b.state_dir().join("check-mysql.peer-silent"),
        format!("peer={peer} since_ms={} last_ms={now_ms}\n", now_ms - 5000),
    )
    .unwrap();
    let logs = tempfile::tempdir().unwrap();
    let sock_path = logs.path().join("syslog.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_nonblocking(true).unwrap();
    b.run_guarded("notify-master", &["--peer", &peer], Some(&sock_path), GUARD)
        .expect(0, "OK writer");
    b.expect_read_only(false);
    let mut logged = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = sock.recv(&mut buf) {
        logged.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(
        logged.iter().any(|m| m
            .contains("check-mysql --watch had seen it silent before: this probe waited 100ms")),
        "{logged:#?}"
    );
}

/// `writer_since` is UTC whatever the server's time zone: a node in another zone, or a
/// daylight-saving change, must not make the earlier writer look later to the yield rule.
#[test]
fn writer_since_is_utc_whatever_the_time_zone() {
    let s = Server::start(2);
    s.sql("SET GLOBAL time_zone = '+05:00'");
    let b = Node::new(&s);
    b.run("notify-backup", &[]).expect(0, "OK standby");
    let nobody = format!("127.0.0.1:{}", free_port());
    b.run("notify-master", &["--peer", &nobody])
        .expect(0, "OK writer");
    let hours = s.sql(
        "SELECT TIMESTAMPDIFF(HOUR, writer_since, UTC_TIMESTAMP(6)) \
         FROM keepalived_mysql.guard WHERE id = 1",
    )[0][0]
        .clone();
    assert_eq!(
        hours.as_deref(),
        Some("0"),
        "writer_since must be UTC (hours behind UTC_TIMESTAMP)\n{}",
        b.describe()
    );
}

/// `--peer` naming this very server (node A's configuration copied to B): a configuration
/// error naming it, not a claim that waits for itself; the node stays fenced.
#[test]
fn a_peer_that_is_this_server_is_a_config_error() {
    let s = Server::start(2);
    let b = Node::new(&s);
    b.run("notify-backup", &[]).expect(0, "OK standby");
    let me = peer_of(&s);
    b.run("notify-master", &["--peer", &me, "--catchup-timeout", "2s"])
        .expect(78, "FAIL config:")
        .output_mentions(&[&format!("--peer {me} is this server (server_id 2)")]);
    b.expect_read_only(true);
    b.expect_role("promotion-failed");
}

/// split-brain.sql not run on the peer: a configuration error naming the file, and the
/// node stays fenced.
#[test]
fn missing_guard_table_on_the_peer_is_a_config_error() {
    let p = Pair::dual_master();
    p.a.sql("SET sql_log_bin=0; DROP TABLE keepalived_mysql.guard");
    let b = Node::new(&p.b);
    b.run("notify-backup", &[]).expect(0, "OK standby");
    let r = b.run_guarded("notify-master", &["--peer", &peer_of(&p.a)], None, GUARD);
    r.expect(78, "FAIL config:")
        .output_mentions(&["packaging/split-brain.sql"]);
    b.expect_read_only(true);
    b.expect_role("promotion-failed");
}
