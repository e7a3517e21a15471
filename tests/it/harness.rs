//! What the `it` tests add to the kit (`tests/common`): a dual-master [`Pair`] of real
//! `mariadbd` servers on 127.0.0.1 with GTID replication, the least-privilege accounts of the
//! helpers, a pausable TCP [`Proxy`], and the self-tests of the kit's MariaDB servers.
//!
//! The servers themselves ([`Server`], built by `common::mariadb::Mariadb`) are the kit's:
//! each on its own temporary directory and loopback port, killed on drop. A missing MariaDB
//! installation is a test failure that says what to install, never a skip.

use std::fs;
use std::io::{Read, Write as _};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::common::mariadb::{Mariadb, Server, free_port, mariadb_program, quote};
use crate::common::process::alive;
use crate::common::wait_until;

/// The replication account [`Pair::dual_master`] creates on both servers.
pub const REPL_USER: &str = "repl";
/// Password of [`REPL_USER`].
pub const REPL_PASSWORD: &str = "repl-secret";

/// Creates `name@127.0.0.1` identified by `password` with exactly `SLAVE MONITOR` and
/// `SELECT` on the split-brain guard's table: the least privileges `check-mysql` needs on
/// MariaDB 10.11 (global variables need no privilege), as packaging/grants.sql documents them.
/// The statement is binlogged, so on a [`Pair`] the user replicates to the other server.
pub fn create_monitor_user(s: &Server, name: &str, password: &str) {
    let (n, p) = (quote(name), quote(password));
    s.sql(&format!(
        "CREATE USER {n}@'127.0.0.1' IDENTIFIED BY {p}; \
         GRANT SLAVE MONITOR ON *.* TO {n}@'127.0.0.1'; \
         GRANT SELECT ON keepalived_mysql.guard TO {n}@'127.0.0.1'"
    ));
}

/// Makes `replica` replicate from `master` over 127.0.0.1 with [`REPL_USER`] and starts it.
/// `use_gtid` is `current_pos` (what the seed runbook 003 uses) or `slave_pos`.
pub fn start_replication(replica: &Server, master: &Server, use_gtid: &str) {
    replica.sql(&format!(
        "CHANGE MASTER TO master_host='127.0.0.1', master_port={}, master_user={}, \
         master_password={}, master_use_gtid={use_gtid}, master_connect_retry=1; START SLAVE",
        master.port,
        quote(REPL_USER),
        quote(REPL_PASSWORD)
    ));
}

/// `Slave_IO_Running=Yes` and `Slave_SQL_Running=Yes` on the default connection.
pub fn replication_running(s: &Server) -> bool {
    s.slave_field("Slave_IO_Running").as_deref() == Some("Yes")
        && s.slave_field("Slave_SQL_Running").as_deref() == Some("Yes")
}

/// Two servers (ids 1 and 2) replicating from each other with GTID.
pub struct Pair {
    /// server_id 1
    pub a: Server,
    /// server_id 2
    pub b: Server,
}

impl Pair {
    /// A running dual-master pair with `master_use_gtid=current_pos` (as in seed 003).
    #[track_caller]
    pub fn dual_master() -> Pair {
        Pair::dual_master_using("current_pos")
    }

    /// A running dual-master pair: [`REPL_USER`] (REPLICATION SLAVE, created on each server
    /// with `sql_log_bin=0`, so both start with empty GTID state), `CHANGE MASTER TO` the
    /// other server with `master_use_gtid=use_gtid` and `master_connect_retry=1`,
    /// `START SLAVE`; returns once both IO and SQL threads run on both.
    #[track_caller]
    pub fn dual_master_using(use_gtid: &str) -> Pair {
        let a = Server::start(1);
        let b = Server::start(2);
        for s in [&a, &b] {
            s.sql(&format!(
                "SET sql_log_bin=0; \
                 CREATE USER {u}@'127.0.0.1' IDENTIFIED BY {p}; \
                 GRANT REPLICATION SLAVE ON *.* TO {u}@'127.0.0.1'; \
                 SET sql_log_bin=1",
                u = quote(REPL_USER),
                p = quote(REPL_PASSWORD)
            ));
        }
        start_replication(&a, &b, use_gtid);
        start_replication(&b, &a, use_gtid);
        let pair = Pair { a, b };
        pair.wait_replicating();
        pair
    }

    /// Waits until IO and SQL threads run on both servers.
    #[track_caller]
    pub fn wait_replicating(&self) {
        wait_until("IO and SQL threads running on both servers", || {
            if replication_running(&self.a) && replication_running(&self.b) {
                Ok(())
            } else {
                Err(self.describe())
            }
        });
    }

    /// Waits until both servers report the same, non-empty or empty, `gtid_current_pos`.
    #[track_caller]
    pub fn wait_synced(&self) {
        wait_until("both servers at the same gtid_current_pos", || {
            let a = self.a.var("gtid_current_pos");
            let b = self.b.var("gtid_current_pos");
            if a == b { Ok(()) } else { Err(self.describe()) }
        });
    }

    /// [`Server::describe`] of both servers.
    pub fn describe(&self) -> String {
        format!("{}\n{}", self.a.describe(), self.b.describe())
    }
}

/// The global privileges of [`create_failover_user`], sorted as the test compares them.
pub const FAILOVER_PRIVILEGES: [&str; 6] = [
    "BINLOG ADMIN",
    "CONNECTION ADMIN",
    "PROCESS",
    "READ_ONLY ADMIN",
    "REPLICATION SLAVE ADMIN",
    "SLAVE MONITOR",
];

/// Creates `name@127.0.0.1` identified by `password` with exactly `READ_ONLY ADMIN`,
/// `SLAVE MONITOR`, `CONNECTION ADMIN`, `PROCESS`, `BINLOG ADMIN`, `REPLICATION SLAVE ADMIN`
/// and `SELECT, UPDATE` on the split-brain guard's table: the least privileges the notify
/// helpers need on MariaDB 10.11, as packaging/grants.sql documents them (`CONNECTION ADMIN`
/// lets them fence a server at `max_connections` and `KILL` other accounts' sessions;
/// `PROCESS` lets notify-backup see those sessions; `BINLOG ADMIN`: the guard's row is written
/// with `sql_log_bin=0`; `REPLICATION SLAVE ADMIN`: notify-master restarts a silent IO
/// thread). On 127.0.0.1 it is also the account notify-master --peer uses on the other
/// server. Binlogged, so it replicates on a [`Pair`]; the guard's table exists on every
/// [`Server::start`].
pub fn create_failover_user(s: &Server, name: &str, password: &str) {
    let (n, p) = (quote(name), quote(password));
    s.sql(&format!(
        "CREATE USER {n}@'127.0.0.1' IDENTIFIED BY {p}; \
         GRANT {} ON *.* TO {n}@'127.0.0.1'; \
         GRANT SELECT, UPDATE ON keepalived_mysql.guard TO {n}@'127.0.0.1'",
        FAILOVER_PRIVILEGES.join(", ")
    ));
}

/// The global privileges of [`create_witness_check_user`], as packaging/grants.sql's witness
/// mode documents them for the check's account.
pub const WITNESS_CHECK_PRIVILEGES: [&str; 3] =
    ["BINLOG ADMIN", "READ_ONLY ADMIN", "SLAVE MONITOR"];

/// Creates `name@127.0.0.1` with the least privileges of check-mysql in witness mode on
/// MariaDB 10.11 (packaging/grants.sql): `SLAVE MONITOR` (the check), `SELECT, UPDATE` on the
/// guard's table and `BINLOG ADMIN` (the lease row, written with `sql_log_bin=0`), `READ_ONLY
/// ADMIN` (the row on a fenced voter, and `SET GLOBAL read_only=ON` when the node fences
/// itself). Binlogged: on a [`Pair`] it replicates to the other server; the witness gets it
/// by its own call.
pub fn create_witness_check_user(s: &Server, name: &str, password: &str) {
    let (n, p) = (quote(name), quote(password));
    s.sql(&format!(
        "CREATE USER {n}@'127.0.0.1' IDENTIFIED BY {p}; \
         GRANT {} ON *.* TO {n}@'127.0.0.1'; \
         GRANT SELECT, UPDATE ON keepalived_mysql.guard TO {n}@'127.0.0.1'",
        WITNESS_CHECK_PRIVILEGES.join(", ")
    ));
}

/// Points B's replication at A through a new [`Proxy`] and waits until B's IO thread runs
/// through it: the proxy then stands for the path from B to A.
#[track_caller]
pub fn replicate_b_through_proxy(p: &Pair) -> Proxy {
    let proxy = Proxy::start(p.a.port);
    p.b.sql(&format!(
        "STOP SLAVE; CHANGE MASTER TO master_port={}; START SLAVE",
        proxy.port
    ));
    p.b.wait_for("replicating from A through the proxy", |s| {
        s.slave_field("Slave_IO_Running").as_deref() == Some("Yes")
            && s.slave_field("Master_Port") == Some(proxy.port.to_string())
    });
    proxy
}

/// A TCP proxy on 127.0.0.1 to a local port that the test can pause: while paused, it reads
/// but forwards nothing, in either direction, and the connections stay open. That is a
/// silently stalled path (a stuck proxy, a half-open connection) as replication sees it.
pub struct Proxy {
    pub port: u16,
    paused: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Connections numbered below this are stalled ([`Proxy::stall_open`]).
    stalled_below: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// How many connections were accepted.
    accepted: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards every connection to `127.0.0.1:target`.
    pub fn start(target: u16) -> Proxy {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let paused = Arc::new(AtomicBool::new(false));
        let p = paused.clone();
        let stalled_below = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let accepted = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (stalled, count) = (stalled_below.clone(), accepted.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let id = count.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                for (from, to) in [
                    (client.try_clone(), server.try_clone()),
                    (server.try_clone(), client.try_clone()),
                ] {
                    let (Ok(mut from), Ok(mut to)) = (from, to) else {
                        continue;
                    };
                    let p = p.clone();
                    let stalled = stalled.clone();
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16384];
                        loop {
                            let n = match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            while p.load(Ordering::SeqCst) || id < stalled.load(Ordering::SeqCst) {
                                std::thread::sleep(Duration::from_millis(10));
                            }
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Proxy {
            port,
            paused,
            stalled_below,
            accepted,
        }
    }

    /// Stall every connection open now for good (data is held, they stay open: a half-open
    /// connection), while new connections are forwarded: what a reconnect gets past.
    pub fn stall_open(&self) {
        let n = self.accepted.load(Ordering::SeqCst);
        self.stalled_below.store(n, Ordering::SeqCst);
    }

    /// Stop forwarding (data is held, connections stay open).
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    /// Forward again, held data first.
    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    /// Let held threads drain and end when the servers close their connections.
    fn drop(&mut self) {
        self.stalled_below.store(0, Ordering::SeqCst);
        self.resume();
    }
}

// ---------------------------------------------------------------------------------------
// Self-tests of the harness and of the kit's MariaDB servers.

#[test]
fn harness_single_server_config_and_queries() {
    let s = Server::start(7);
    assert_eq!(s.var("server_id").as_deref(), Some("7"));
    assert_eq!(s.var("gtid_strict_mode").as_deref(), Some("1"));
    assert_eq!(s.var("log_bin").as_deref(), Some("1"));
    assert_eq!(s.var("log_slave_updates").as_deref(), Some("1"));
    assert_eq!(s.var("binlog_format").as_deref(), Some("ROW"));
    assert_eq!(s.var("auto_increment_offset").as_deref(), Some("7"));
    assert_eq!(s.var("bind_address").as_deref(), Some("127.0.0.1"));
    assert_eq!(
        s.var("port").map(|p| p.parse::<u16>().unwrap()),
        Some(s.port)
    );
    assert!(
        s.slave_status().is_empty(),
        "fresh server has no replication"
    );
    assert_eq!(
        s.sql("SELECT NULL, 'x'"),
        vec![vec![None, Some("x".to_string())]]
    );
    let err = s.try_sql("SELECT * FROM nope.nope").unwrap_err();
    assert!(err.contains("1049") || err.contains("1146"), "{err}");
    // The monitor user can read replication status, but cannot write.
    create_monitor_user(&s, "mon", "mon-pw");
    assert!(s.sql_as("mon", "mon-pw", "SHOW ALL SLAVES STATUS").is_ok());
    let denied = s.sql_as("mon", "mon-pw", "CREATE DATABASE x").unwrap_err();
    assert!(denied.contains("Access denied"), "{denied}");
    let bad = s.sql_as("mon", "wrong", "SELECT 1").unwrap_err();
    assert!(bad.contains("Access denied"), "{bad}");
    // Option files are private and say what they should.
    let f = s.option_file("mon", Some("mon-pw"));
    let meta = fs::metadata(&f).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let body = fs::read_to_string(&f).unwrap();
    assert!(body.contains(&format!("port={}", s.port)) && body.contains("password=mon-pw"));
}

#[test]
#[should_panic(expected = "apt-get install mariadb-server mariadb-client")]
fn harness_missing_program_is_a_failure_with_install_hint() {
    mariadb_program("mariadbd-that-is-not-installed");
}

#[test]
fn harness_retries_start_on_a_port_clash() {
    let taken = free_port();
    let _holder = TcpListener::bind(("127.0.0.1", taken)).expect("hold a port");
    let mut first = true;
    let s = Mariadb::new().replication_node(3).start_on_ports(|| {
        if std::mem::take(&mut first) {
            taken
        } else {
            free_port()
        }
    });
    assert_ne!(s.port, taken);
    assert_eq!(s.var("port").and_then(|p| p.parse().ok()), Some(s.port));
    let log = fs::read_to_string(s.error_log_path()).unwrap();
    assert!(
        log.contains("Address already in use"),
        "first attempt must have clashed:\n{log}"
    );
}

#[test]
fn harness_pair_replicates_both_ways() {
    let p = Pair::dual_master();
    p.a.sql(
        "CREATE DATABASE t; CREATE TABLE t.k (id INT PRIMARY KEY AUTO_INCREMENT, v TEXT); \
         INSERT INTO t.k (v) VALUES ('from a')",
    );
    p.wait_synced();
    p.b.sql("INSERT INTO t.k (v) VALUES ('from b')");
    p.wait_synced();
    for s in [&p.a, &p.b] {
        let rows = s.sql("SELECT id, v FROM t.k ORDER BY id");
        assert_eq!(
            rows,
            vec![
                vec![Some("1".into()), Some("from a".into())],
                vec![Some("2".into()), Some("from b".into())]
            ],
            "server {}",
            s.server_id
        );
    }
    assert_eq!(p.a.var("gtid_current_pos"), p.b.var("gtid_current_pos"));
    assert_eq!(
        p.a.slave_field("Using_Gtid").as_deref(),
        Some("Current_Pos")
    );
}

#[test]
fn harness_kill_pause_restart() {
    let mut p = Pair::dual_master();
    p.a.sql("CREATE DATABASE t");
    p.wait_synced();
    let port = p.b.port;
    p.b.kill();
    assert!(
        p.b.try_sql("SELECT 1").is_err(),
        "killed server must not answer"
    );
    p.a.wait_for("IO thread Connecting with errno 2003", |s| {
        s.slave_field("Slave_IO_Running").as_deref() == Some("Connecting")
            && s.slave_field("Last_IO_Errno").as_deref() == Some("2003")
    });
    p.a.sql("CREATE TABLE t.after_kill (id INT PRIMARY KEY)");
    p.b.restart();
    assert_eq!(p.b.port, port);
    p.wait_replicating();
    p.wait_synced();
    assert_eq!(p.b.sql("SHOW TABLES FROM t").len(), 1);

    p.b.pause();
    let err = p.b.query("root", "", "SELECT 1", Duration::from_secs(1));
    assert!(err.is_err(), "paused server must not answer");
    p.b.resume();
    assert_eq!(p.b.sql("SELECT 1"), vec![vec![Some("1".to_string())]]);
    let pid = p.b.pid().unwrap();
    p.b.pause();
    drop(p); // Drop must kill a paused server
    assert!(!alive(pid), "server process {pid} survived Drop");
}

#[test]
fn harness_socket_only_server_with_an_included_fragment() {
    let fragment = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/dual-master.cnf");
    let s = Mariadb::new()
        .include(fragment)
        .socket_only()
        .dir_mode(0o755)
        .start();
    assert_eq!(s.port, 0);
    let mode = fs::metadata(s.dir.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    // The fragment's settings hold (nothing of the kit's contradicts them) ...
    assert_eq!(s.var("read_only").as_deref(), Some("1"));
    assert_eq!(s.var("server_id").as_deref(), Some("1"));
    assert_eq!(s.var("sync_binlog").as_deref(), Some("1"));
    assert_eq!(s.var("gtid_strict_mode").as_deref(), Some("1"));
    // ... and the server is on its socket only.
    assert_eq!(s.var("skip_networking").as_deref(), Some("1"));
    assert_eq!(
        s.var("socket").as_deref(),
        Some(s.socket().to_str().unwrap())
    );
    let f = s.option_file("root", None);
    let body = fs::read_to_string(&f).unwrap();
    assert!(
        body.contains(&format!("socket={}", s.socket().display())) && !body.contains("port="),
        "{body}"
    );
}
