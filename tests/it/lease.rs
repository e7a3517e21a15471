//! The witness lease (issue 11 §2, `keepalived_mysql::io::lease`) on real servers: three
//! voters A (server_id 1), B (2) and W (3), each with packaging/split-brain.sql's guard
//! table (`Server::start` runs it), reached as the least-privilege lease account
//! ([`create_lease_user`]). The lease tests need no replication between the voters; one test
//! runs a replicating pair to show that the lease row neither replicates nor enters the GTID
//! history.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use keepalived_mysql::io::lease::{
    self, ClockWatch, ConnectionSpec, Deadline, Lease, Mode, Mono, Released, Round,
};

use crate::common::mariadb::{Server, quote};
use crate::common::wait_until;
use crate::harness::{Pair, Proxy};

const USER: &str = "keepalived_lease";
const PASSWORD: &str = "lease-secret";

/// The least privileges of the lease on MariaDB 10.11 (as io::dialect::lease documents
/// them): the conditional UPDATE and its read-back on the guard table, `BINLOG ADMIN` for
/// `SET SESSION sql_log_bin = 0`, `READ_ONLY ADMIN` to write the row on a read-only voter.
/// Created with `sql_log_bin=0` so that it stays local (the voters need not replicate).
const GRANTS: &str = "GRANT SELECT, UPDATE ON keepalived_mysql.guard TO {u}@'127.0.0.1'; \
     GRANT BINLOG ADMIN, READ_ONLY ADMIN ON *.* TO {u}@'127.0.0.1'";

fn create_lease_user(s: &Server) {
    let u = quote(USER);
    s.sql(&format!(
        "SET sql_log_bin=0; CREATE USER {u}@'127.0.0.1' IDENTIFIED BY {p}; {g}; SET sql_log_bin=1",
        p = quote(PASSWORD),
        g = GRANTS.replace("{u}", &u)
    ));
}

fn spec(s: &Server) -> ConnectionSpec {
    ConnectionSpec {
        host: Some("127.0.0.1".into()),
        port: s.port,
        user: Some(USER.into()),
        password: Some(PASSWORD.into()),
        ..ConnectionSpec::default()
    }
}

/// Three voters, A (1), B (2), W (3), with the lease account.
struct Voters {
    a: Server,
    b: Server,
    w: Server,
}

impl Voters {
    fn start() -> Voters {
        let v = Voters {
            a: Server::start(1),
            b: Server::start(2),
            w: Server::start(3),
        };
        for s in v.all() {
            create_lease_user(s);
        }
        v
    }

    fn all(&self) -> [&Server; 3] {
        [&self.a, &self.b, &self.w]
    }

    /// The lease of claimant `me`, voters listed W, B, A (rounds order them by server_id).
    fn lease(&self, me: u32, ttl: Duration) -> Lease {
        Lease {
            me,
            ttl,
            margin: Duration::from_millis(200),
            voters: vec![spec(&self.w), spec(&self.b), spec(&self.a)],
        }
    }

    /// holder and epoch on every voter, for messages.
    fn rows(&self) -> String {
        self.all()
            .iter()
            .map(|s| {
                let r = s.sql(
                    "SELECT holder, epoch, CAST(expires AS CHAR), CAST(UTC_TIMESTAMP(6) AS CHAR) \
                     FROM keepalived_mysql.guard WHERE id = 1",
                );
                format!("{}: {:?}", s.name(), r)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The guard row's holder on `s`, read as root.
fn holder_of(s: &Server) -> String {
    s.sql("SELECT holder FROM keepalived_mysql.guard WHERE id = 1")[0][0]
        .clone()
        .unwrap_or_default()
}

fn deadline() -> Deadline {
    Deadline::new(Duration::from_secs(2))
}

#[track_caller]
fn run(lease: &Lease, mode: Mode) -> Round {
    lease::round(lease, mode, &deadline(), &mut ClockWatch::new()).expect("round")
}

fn holders(r: &Round) -> Vec<Option<u32>> {
    r.tally.per_voter.iter().map(|v| v.holder).collect()
}

/// A claim wins all three votes, in server_id order, with the expiry on each voter's clock;
/// a second claimant loses while the first holds, wins once the first releases, and wins
/// again after the holder's TTL passed on the voters' clocks.
#[test]
fn a_second_claimant_wins_only_after_a_release_or_the_ttl() {
    let v = Voters::start();
    let one = v.lease(1, Duration::from_secs(60));
    let two = v.lease(2, Duration::from_secs(60));

    // Configuration errors that make a round meaningless (78, before any claim).
    let twice = Lease {
        voters: vec![spec(&v.a), spec(&v.w), spec(&v.a)],
        ..one.clone()
    };
    let nobody = Lease {
        me: 0,
        ..one.clone()
    };
    let two_voters = Lease {
        voters: vec![spec(&v.a), spec(&v.b)],
        ..one.clone()
    };
    for (bad, what) in [
        (twice, "server_id 1"),
        (nobody, "server_id is 0"),
        (two_voters, "exactly 3"),
    ] {
        let e = lease::round(&bad, Mode::Claim, &deadline(), &mut ClockWatch::new()).unwrap_err();
        assert!(e.to_string().contains(what), "{e}");
        assert_eq!(e.exit().code(), 78);
    }
    for s in v.all() {
        assert_eq!(holder_of(s), "0", "no row was claimed\n{}", v.rows());
    }

    let r = run(&one, Mode::Claim);
    assert!(r.held(), "{:#?}\n{}", r.tally, v.rows());
    assert_eq!(r.tally.votes, 3);
    let ids: Vec<_> = r.tally.per_voter.iter().map(|p| p.server_id).collect();
    assert_eq!(
        ids,
        [Some(1), Some(2), Some(3)],
        "claims go in server_id order"
    );
    for p in &r.tally.per_voter {
        let left = p.expires_in_ms.unwrap();
        assert!((58_000..=60_000).contains(&left), "{p:?}");
    }
    assert!(r.t_sent.is_some() && r.config_error().is_none());
    // Renewing keeps it (and moves no epoch).
    let r = run(&one, Mode::Renew);
    assert!(r.held() && r.tally.votes == 3, "{:#?}", r.tally);

    // 2 yields at the first voter, which 1 holds: nothing else asked, nothing taken.
    let r = run(&two, Mode::Claim);
    assert!(!r.held(), "{:#?}", r.tally);
    assert_eq!(holders(&r), [Some(1), None, None]);
    assert!(matches!(r.tally.per_voter[1].note.as_deref(), Some(n) if n.starts_with("not asked")));
    assert!(r.released.is_empty());
    // A renewal by 2 (it holds nothing) asks everyone and wins nothing either.
    let r = run(&two, Mode::Renew);
    assert_eq!((r.held(), r.tally.votes), (false, 0), "{:#?}", r.tally);
    assert_eq!(holders(&r), [Some(1), Some(1), Some(1)]);

    // 1 releases (after fencing, as notify-backup will): 2 wins at once.
    let released = lease::release(&one, &deadline());
    assert!(
        released.iter().all(|(_, r)| *r == Released::Released),
        "{released:?}"
    );
    let r = run(&two, Mode::Claim);
    assert!(
        r.held() && r.tally.votes == 3,
        "{:#?}\n{}",
        r.tally,
        v.rows()
    );
    let epochs: Vec<String> = v
        .all()
        .iter()
        .map(|s| {
            s.sql("SELECT epoch FROM keepalived_mysql.guard")[0][0]
                .clone()
                .unwrap()
        })
        .collect();
    assert_eq!(
        epochs,
        ["2", "2", "2"],
        "one holder change per claim: 0→1→2"
    );
    // Releasing what it does not hold changes nothing.
    let again = lease::release(&one, &deadline());
    assert!(
        again.iter().all(|(_, r)| *r == Released::NotOurs),
        "{again:?}"
    );

    // 2 now holds with a 1 s TTL and vanishes silently (no release): 1 loses until the TTL
    // has passed on the voters' clocks, then wins.
    let short = v.lease(2, Duration::from_secs(1));
    assert!(run(&short, Mode::Renew).held());
    let r = run(&one, Mode::Claim);
    assert!(!r.held(), "{:#?}", r.tally);
    wait_until(
        "1's claim wins once 2's 1 s lease expired on the voters",
        || {
            let r = run(&one, Mode::Claim);
            if r.held() {
                Ok(r)
            } else {
                Err(format!("{:#?}\n{}", r.tally, v.rows()))
            }
        },
    );
}

/// A failed claim gives back the minority votes it won; a failed renewal keeps them.
#[test]
fn a_failed_claim_gives_back_its_minority_votes() {
    let mut v = Voters::start();
    let one = v.lease(1, Duration::from_secs(60));
    let two = v.lease(2, Duration::from_secs(60));
    // 2 holds B's row (written as root, binlog off: as if 2 had won B and then lost its
    // way to A and W).
    v.b.sql(
        "SET sql_log_bin=0; UPDATE keepalived_mysql.guard SET holder = 2, epoch = epoch + 1, \
         expires = UTC_TIMESTAMP(6) + INTERVAL 60 SECOND WHERE id = 1",
    );
    // W is down: 1 wins A, is refused at B, and W does not answer → 1 of 3, gives A back.
    v.w.kill();
    let r = run(&one, Mode::Claim);
    assert!(!r.held(), "{:#?}", r.tally);
    assert_eq!(r.tally.votes, 1, "{:#?}", r.tally);
    assert_eq!(r.released, [v.a.address()], "{:#?}", r.tally);
    assert_eq!(
        v.a.sql("SELECT holder FROM keepalived_mysql.guard")[0][0].as_deref(),
        Some("0"),
        "A's vote was given back"
    );
    // Renewing as 2 wins A (free again) and B: a majority with W down.
    let r = run(&two, Mode::Renew);
    assert!(r.held() && r.tally.votes == 2, "{:#?}", r.tally);
    // A failed renewal never gives back what it won: free A again, renew as 1 → it wins A
    // only (B is 2's, W is down) and keeps it.
    v.a.sql("SET sql_log_bin=0; UPDATE keepalived_mysql.guard SET holder = 0 WHERE id = 1");
    let r = run(&one, Mode::Renew);
    assert_eq!((r.held(), r.tally.votes), (false, 1), "{:#?}", r.tally);
    assert!(r.released.is_empty());
    assert_eq!(
        v.a.sql("SELECT holder FROM keepalived_mysql.guard")[0][0].as_deref(),
        Some("1")
    );
}

/// Two claimants racing in threads, each claiming, renewing twice and releasing, for many
/// rounds: their holds never overlap ([`race`]). A hold runs from the end of the round that won it to
/// just before its release (or its `write_until`, if earlier), on one monotonic clock.
#[test]
fn racing_claimants_never_both_hold_a_majority() {
    race(Voters::start());
}

/// The same race with W killed: two voters, where claims asked in parallel could split 1–1;
/// the shared order and the yield keep one winner per contest, so both still win holds.
#[test]
fn racing_claimants_with_a_voter_down_never_both_hold_a_majority() {
    let mut v = Voters::start();
    v.w.kill();
    race(v);
}

/// Claimants 1 and 2 race for 60 claims each on `v`; asserts that their holds never
/// overlap and that the lease was won.
fn race(v: Voters) {
    const ROUNDS: usize = 60;
    let holds: Arc<Mutex<Vec<(u32, Mono, Mono)>>> = Arc::default();
    let timing = lease::Timing {
        ttl: Duration::from_secs(3),
        renew_interval_secs: 1,
        check_deadline: Duration::from_millis(500),
        fencing_deadline: Duration::from_millis(500),
        margin: Duration::from_millis(200),
    };
    timing.validate().unwrap();
    let threads: Vec<_> = [1u32, 2]
        .into_iter()
        .map(|me| {
            let lease = Lease {
                margin: timing.margin,
                ..v.lease(me, timing.ttl)
            };
            let holds = holds.clone();
            std::thread::spawn(move || {
                let mut watch = ClockWatch::new();
                let mut wins = 0;
                for _ in 0..ROUNDS {
                    let r = lease::round(&lease, Mode::Claim, &deadline(), &mut watch).unwrap();
                    if !r.held() {
                        continue;
                    }
                    wins += 1;
                    let start = Mono::now();
                    let mut until = r.write_until(&timing).unwrap();
                    for _ in 0..2 {
                        let r = lease::round(&lease, Mode::Renew, &deadline(), &mut watch).unwrap();
                        assert!(r.held(), "{me}: renewal lost: {:#?}", r.tally);
                        until = r.write_until(&timing).unwrap();
                    }
                    let end = Mono::now().min(until);
                    holds.lock().unwrap().push((me, start, end));
                    lease::release(&lease, &deadline());
                }
                wins
            })
        })
        .collect();
    let wins: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let mut holds = holds.lock().unwrap().clone();
    holds.sort_by_key(|h| h.1);
    assert!(wins.iter().sum::<usize>() > 0, "nobody ever won: {wins:?}");
    eprintln!(
        "racing claimants: wins per claimant {wins:?}, {} holds",
        holds.len()
    );
    for pair in holds.windows(2) {
        let ((m1, _, end1), (m2, start2, _)) = (pair[0], pair[1]);
        assert!(
            end1 <= start2,
            "{m1} held until {end1:?} but {m2} held from {start2:?} (wins {wins:?})"
        );
    }
}

/// With a voter killed, or hung (SIGSTOP: its kernel still completes TCP handshakes), the
/// other two are a majority, within the deadline; with two voters gone there is none.
#[test]
fn two_voters_are_a_majority_when_the_third_is_down_or_hung() {
    let mut v = Voters::start();
    let one = v.lease(1, Duration::from_secs(10));
    assert!(run(&one, Mode::Claim).held());

    v.w.pause();
    let d = Deadline::new(Duration::from_millis(800));
    let r = lease::round(&one, Mode::Renew, &d, &mut ClockWatch::new()).unwrap();
    v.w.resume();
    assert!(r.held() && r.tally.votes == 2, "{:#?}", r.tally);
    assert!(matches!(r.tally.per_voter[2].note.as_deref(), Some(n) if n.starts_with("no answer")));
    // Bounded by the deadline (a generous bound, not a timing assertion: the hung voter
    // alone would hold a round forever).
    assert!(d.elapsed() < Duration::from_secs(10), "{:?}", d.elapsed());

    v.w.kill();
    let r = run(&one, Mode::Renew);
    assert!(r.held() && r.tally.votes == 2, "{:#?}", r.tally);
    assert_eq!(holders(&r), [Some(1), Some(1), None]);
    // A second claimant still cannot win.
    assert!(!run(&v.lease(2, Duration::from_secs(10)), Mode::Claim).held());

    v.b.kill();
    let r = run(&one, Mode::Renew);
    assert_eq!((r.held(), r.tally.votes), (false, 1), "{:#?}", r.tally);
}

/// A voter that accepts the TCP connection and then says nothing (B behind a paused
/// [`Proxy`]: what a cut that drops packets looks like once the socket is open) costs the
/// other two nothing: a renewal with the check's budget (3/5 of an 800 ms `--timeout`) runs
/// every voter's exchange at once, each within the whole deadline, and holds with A and W; a
/// claim stops waiting for B soon after A and W are ready and wins them in server_id order.
#[test]
fn a_silent_voter_does_not_use_up_the_others_time() {
    let v = Voters::start();
    let proxy = Proxy::start(v.b.port);
    let b_silent = ConnectionSpec {
        port: proxy.port,
        ..spec(&v.b)
    };
    let one = Lease {
        voters: vec![spec(&v.w), b_silent.clone(), spec(&v.a)],
        ..v.lease(1, Duration::from_secs(10))
    };
    assert!(run(&one, Mode::Claim).held(), "{}", v.rows());
    proxy.pause();

    let d = Deadline::new(Duration::from_millis(480));
    let r = lease::round(&one, Mode::Renew, &d, &mut ClockWatch::new()).unwrap();
    assert!(r.held() && r.tally.votes == 2, "{:#?}", r.tally);
    // A and W, who answered, in server_id order; then B, a lost vote that had the whole
    // deadline (not a share of it).
    let ids: Vec<_> = r.tally.per_voter.iter().map(|p| p.server_id).collect();
    assert_eq!(ids, [Some(1), Some(3), None], "{:#?}", r.tally);
    let b = &r.tally.per_voter[2];
    assert_eq!(b.address, b_silent.target());
    assert_eq!(
        b.note.as_deref(),
        Some("no answer: no answer within the deadline (480ms)"),
        "{:#?}",
        r.tally
    );
    assert!(r.write_until(&timing()).is_some());
    // Bounded by the deadline (a generous bound, not a timing assertion).
    assert!(d.elapsed() < Duration::from_secs(10), "{:?}", d.elapsed());

    // A claim (after a release: nobody holds) with B silent: A and W, in order.
    lease::release(
        &Lease {
            voters: vec![spec(&v.a), spec(&v.w), spec(&v.b)],
            ..one.clone()
        },
        &deadline(),
    );
    let d = Deadline::new(Duration::from_millis(800));
    let r = lease::round(&one, Mode::Claim, &d, &mut ClockWatch::new()).unwrap();
    assert!(r.held() && r.tally.votes == 2, "{:#?}", r.tally);
    let ids: Vec<_> = r.tally.per_voter.iter().map(|p| p.server_id).collect();
    assert_eq!(ids, [Some(1), Some(3), None], "{:#?}", r.tally);
    assert!(
        matches!(r.tally.per_voter[2].note.as_deref(),
            Some(n) if n.starts_with("no answer: not connected within the claim's connect phase")),
        "{:#?}",
        r.tally
    );
    proxy.resume();
}

/// A timing like the check's: 1 s interval, 800 ms deadlines.
fn timing() -> lease::Timing {
    lease::Timing::with_defaults(1, Duration::from_millis(800), Duration::from_millis(800))
}

/// Fenced voters (read_only=ON on all three) grant to the lease account, and these grants are
/// the least: without each one, the voter refuses with the error the docs name, the round
/// reports a configuration error (exit 78) naming packaging/grants.sql, and that voter does
/// not vote (the other two, granting, are still a majority). A voter without the guard table
/// names packaging/split-brain.sql.
#[test]
fn read_only_voters_grant_with_exactly_the_documented_privileges() {
    let v = Voters::start();
    for s in v.all() {
        s.sql("SET GLOBAL read_only=ON");
    }
    let one = v.lease(1, Duration::from_secs(30));
    let r = run(&one, Mode::Claim);
    assert!(
        r.held() && r.tally.votes == 3,
        "{:#?}\n{}",
        r.tally,
        v.rows()
    );
    assert!(
        lease::release(&one, &deadline())
            .iter()
            .all(|(_, r)| *r == Released::Released)
    );

    let u = format!("{}@'127.0.0.1'", quote(USER));
    let rows = [
        ("SELECT ON keepalived_mysql.guard", 1143),
        ("UPDATE ON keepalived_mysql.guard", 1142),
        ("BINLOG ADMIN ON *.*", 1227),
        ("READ_ONLY ADMIN ON *.*", 1290),
    ];
    for (grant, code) in rows {
        v.w.sql(&format!("SET sql_log_bin=0; REVOKE {grant} FROM {u}"));
        let r = run(&one, Mode::Claim);
        let w = r
            .tally
            .per_voter
            .iter()
            .find(|p| p.address == v.w.address())
            .unwrap();
        let e = r
            .config_error()
            .unwrap_or_else(|| panic!("{grant}: {:#?}", r.tally));
        assert_eq!(e.exit().code(), 78);
        let lease::LeaseError::Config {
            code: got, file, ..
        } = e
        else {
            panic!("{e:?}")
        };
        assert_eq!(
            (*got, *file),
            (code, "packaging/grants.sql"),
            "{grant}: {e}"
        );
        // W does not vote; A and B are still a majority (notify-master goes on with a
        // warning naming W: plan::lease::claim_step), so nothing is given back.
        assert!(!w.granted && r.held(), "{grant}: {:#?}", r.tally);
        assert!(r.released.is_empty(), "{grant}: {:?}", r.released);
        lease::release(&one, &deadline());
        v.w.sql(&format!("SET sql_log_bin=0; GRANT {grant} TO {u}"));
        assert!(run(&one, Mode::Claim).held(), "{grant} granted again");
        lease::release(&one, &deadline());
    }

    v.w.sql("SET sql_log_bin=0; DROP TABLE keepalived_mysql.guard");
    let r = run(&one, Mode::Claim);
    let e = r.config_error().expect("no guard table");
    assert!(
        matches!(
            e,
            lease::LeaseError::Config {
                code: 1146,
                file: "packaging/split-brain.sql",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("packaging/split-brain.sql"), "{e}");
    let w = &r.tally.per_voter;
    assert!(
        w.iter()
            .any(|p| matches!(&p.note, Some(n) if n.contains("split-brain.sql")))
    );
    assert!(r.held(), "A and B are a majority without W: {:#?}", r.tally);
}

/// On a replicating pair (A and B, W apart), claims, renewals and releases never reach the
/// binary log: gtid_binlog_pos and the binlog position do not move on either node, B's own
/// row is untouched by A's, and replication keeps running without error while a later
/// ordinary write still arrives.
#[test]
fn the_lease_row_neither_replicates_nor_enters_the_gtid_history() {
    let pair = Pair::dual_master();
    let w = Server::start(3);
    for s in [&pair.a, &pair.b, &w] {
        create_lease_user(s);
    }
    pair.a
        .sql("CREATE DATABASE t; CREATE TABLE t.marker (id INT PRIMARY KEY) ENGINE=InnoDB");
    pair.wait_synced();
    let positions = || -> Vec<_> {
        [&pair.a, &pair.b]
            .iter()
            .map(|s| (s.var("gtid_binlog_pos"), s.sql("SHOW MASTER STATUS")))
            .collect()
    };
    let before = positions();
    // B's row is held by 9 (binlog off): if A's row changes replicated, B would show them (or
    // its SQL thread would stop on a row that does not match).
    pair.b.sql(
        "SET sql_log_bin=0; UPDATE keepalived_mysql.guard SET holder = 9, \
         expires = UTC_TIMESTAMP(6) + INTERVAL 1 HOUR WHERE id = 1",
    );
    let one = Lease {
        me: 1,
        ttl: Duration::from_secs(30),
        margin: Duration::from_millis(200),
        voters: vec![spec(&pair.a), spec(&pair.b), spec(&w)],
    };
    // Renewals ask every voter (a claim would yield at B, which 9 holds): A and W grant.
    let r = run(&one, Mode::Renew);
    assert!(r.held(), "{:#?}", r.tally);
    assert_eq!(holders(&r), [Some(1), Some(9), Some(1)]);
    assert!(run(&one, Mode::Renew).held());
    lease::release(&one, &deadline());
    assert!(run(&one, Mode::Renew).held());
    assert_eq!(
        positions(),
        before,
        "gtid_binlog_pos and the binlog position did not move on A or B"
    );

    // Replication still flows: a later ordinary write arrives, and B's row is still its own.
    pair.a.sql("INSERT INTO t.marker VALUES (1)");
    pair.b.wait_for("the marker row replicated to B", |b| {
        b.try_sql("SELECT id FROM t.marker").map(|r| r.len()) == Ok(1)
    });
    assert_eq!(
        pair.b.sql("SELECT holder FROM keepalived_mysql.guard")[0][0].as_deref(),
        Some("9"),
        "A's lease row did not replicate to B"
    );
    assert_eq!(
        pair.a.sql("SELECT holder FROM keepalived_mysql.guard")[0][0].as_deref(),
        Some("1")
    );
    pair.wait_replicating();
    for s in [&pair.a, &pair.b] {
        assert_eq!(
            s.slave_field("Last_SQL_Errno").as_deref(),
            Some("0"),
            "{}",
            s.describe()
        );
    }
}

/// The cost of one renewal round against 3 local servers (each voter's connect, prepare,
/// UPDATE and read-back on its own thread, all at once): median and 90th percentile of 200
/// rounds. Not a test of anything: `cargo test --test it lease_round_cost -- --ignored
/// --nocapture`.
#[test]
#[ignore]
fn lease_round_cost() {
    let v = Voters::start();
    let one = v.lease(1, Duration::from_secs(6));
    assert!(run(&one, Mode::Claim).held());
    let mut watch = ClockWatch::new();
    // The median and 90th percentile of 200 rounds' wall time in `mode`.
    let mut cost = |mode: Mode| {
        let mut times: Vec<Duration> = (0..200)
            .map(|_| {
                let start = Mono::now();
                let r = lease::round(&one, mode, &deadline(), &mut watch).unwrap();
                assert!(r.held(), "{:#?}", r.tally);
                Mono::now().since(start)
            })
            .collect();
        times.sort();
        (times[100], times[180])
    };
    let renew = cost(Mode::Renew);
    let claim = cost(Mode::Claim);
    println!(
        "lease rounds, 3 local voters, 200 rounds each (median, p90): renewal (all voters \
         at once) {renew:?}; claim (connect in parallel, 3 claims in series) {claim:?}"
    );
}
