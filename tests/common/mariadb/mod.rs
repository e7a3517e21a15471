//! Throwaway `mariadbd` servers: one builder for every test crate.
//!
//! [`Mariadb`] says what the server is: on a loopback TCP port of its own (the default) or on
//! its unix socket only, with the `it` tests' GTID replication settings
//! ([`Mariadb::replication_node`]) or with option files an operator installs
//! ([`Mariadb::include`]). [`Mariadb::start`] gives a running [`Server`].
//!
//! Every [`Server`] owns a temporary directory holding its `my.cnf`, datadir, socket, pid file
//! and error log. Nothing talks to any address but 127.0.0.1. Dropping a [`Server`] kills its
//! process (also when it is paused) and removes the directory, so a test never leaves a server
//! behind, even when it panics; the process also dies with the thread that started it
//! (`PR_SET_PDEATHSIG`), so start (and restart) servers on the test's own thread.
//!
//! The datadir is made by `mariadb-install-db --auth-root-authentication-method=normal`:
//! `root@127.0.0.1` and `root@localhost` (the socket) have no password. Queries (see `sql.rs`)
//! open a fresh connection as root for every call, so they keep working across
//! [`Server::kill`] / [`Server::restart`].
//!
//! A missing MariaDB installation is a test failure that says what to install, never a skip.

mod sql;

use std::collections::HashSet;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::process::{die_with_parent, kill_and_reap, signal};
use super::programs::{is_root, program};

/// How long a server may take to accept connections after it was spawned (2 cores, tests in
/// parallel, so be generous; this is a bound, not an assertion).
const START_WAIT: Duration = Duration::from_secs(120);

/// What to install when `mariadbd`, `mariadb-install-db` or `mariadb` is missing.
pub const INSTALL_HINT: &str = "apt-get install mariadb-server mariadb-client";

/// `mariadbd`, `mariadb-install-db` or `mariadb`, or a failure saying to install MariaDB.
#[track_caller]
pub fn mariadb_program(name: &str) -> PathBuf {
    program(name, INSTALL_HINT)
}

/// Quotes `s` as an SQL string literal.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// Ports handed out in this process. Never reused: a killed server's peer keeps retrying its
/// port, and that traffic must not reach another test's server.
static USED_PORTS: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    h.finish()
}

/// A loopback port that is free now, never handed out before in this process, and below the
/// kernel's ephemeral range (32768+) so that outgoing client connections cannot occupy it.
pub fn free_port() -> u16 {
    let mut used = USED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
    let used = used.get_or_insert_with(HashSet::new);
    for _ in 0..10_000 {
        let port = 20_000 + (random_u64() % 12_000) as u16;
        if used.contains(&port) {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            used.insert(port);
            return port;
        }
    }
    panic!("no free loopback port found in 20000..32000");
}

/// What a [`Server`] is, before it starts.
///
/// Always in `my.cnf`: its own files in its directory (`datadir`, `tmpdir`, `socket`,
/// `pid-file`, `log-error`), `user=root` when the test runs as root, and small memory
/// settings (`performance_schema=OFF`, `innodb_buffer_pool_size=32M`,
/// `innodb_log_file_size=16M`, `innodb_use_native_aio=0`). The rest is chosen here.
#[derive(Clone, Debug)]
pub struct Mariadb {
    server_id: Option<u32>,
    includes: Vec<PathBuf>,
    tcp: bool,
    dir_mode: Option<u32>,
    prefix: &'static str,
}

impl Default for Mariadb {
    fn default() -> Self {
        Mariadb::new()
    }
}

impl Mariadb {
    /// A server on a free loopback TCP port (`bind-address=127.0.0.1`, `skip-name-resolve`),
    /// with no replication settings of its own.
    pub fn new() -> Mariadb {
        Mariadb {
            server_id: None,
            includes: Vec::new(),
            tcp: true,
            dir_mode: None,
            prefix: "kam-it-",
        }
    }

    /// The `it` tests' node of a dual-master pair: `server_id`, `log_bin`, `relay_log`,
    /// `binlog_format=ROW`, `log_slave_updates`, `gtid_strict_mode=ON`, `gtid_domain_id=0`,
    /// `auto_increment_increment=2`, `auto_increment_offset=server_id`, and settings that keep
    /// many servers on 2 cores quick (`sync_binlog=0`, `innodb_flush_log_at_trx_commit=2`,
    /// smaller buffers, `max_connections=40`, `thread_cache_size=4`).
    pub fn replication_node(mut self, server_id: u32) -> Mariadb {
        self.server_id = Some(server_id);
        self
    }

    /// `!include path` at the top of `my.cnf` (what an operator installs, e.g. the packaged
    /// `dual-master.cnf`); the settings above come after it, so they must not contradict it.
    pub fn include(mut self, path: impl Into<PathBuf>) -> Mariadb {
        self.includes.push(path.into());
        self
    }

    /// No TCP at all (`skip_networking=ON`): the server is reached on its unix socket only.
    pub fn socket_only(mut self) -> Mariadb {
        self.tcp = false;
        self
    }

    /// The mode of the server's directory (private by default), e.g. 0755 when another user
    /// must reach the socket.
    pub fn dir_mode(mut self, mode: u32) -> Mariadb {
        self.dir_mode = Some(mode);
        self
    }

    /// The prefix of the server's temporary directory (`kam-it-` by default).
    pub fn dir_prefix(mut self, prefix: &'static str) -> Mariadb {
        self.prefix = prefix;
        self
    }

    /// Initialises a datadir with `mariadb-install-db` and starts `mariadbd`; returns once it
    /// accepts connections. Panics with the error log if the server does not come up. A port
    /// clash is retried on another port.
    #[track_caller]
    pub fn start(self) -> Server {
        self.start_on_ports(free_port)
    }

    /// [`Mariadb::start`] with the candidate TCP ports coming from `next_port`.
    #[track_caller]
    pub fn start_on_ports(self, mut next_port: impl FnMut() -> u16) -> Server {
        let mut dir = tempfile::Builder::new()
            .prefix(self.prefix)
            .tempdir()
            .expect("create temporary server directory");
        if let Some(mode) = self.dir_mode {
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(mode))
                .expect("chmod the server directory");
        }
        let mut last_clash = String::new();
        for attempt in 0..5 {
            let port = if self.tcp { next_port() } else { 0 };
            self.write_config(dir.path(), port);
            if attempt == 0 {
                install_db(dir.path());
            }
            let mut server = Server {
                port,
                server_id: self.server_id.unwrap_or(0),
                tcp: self.tcp,
                dir,
                child: None,
            };
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(StartError::PortClash(log)) if self.tcp => {
                    last_clash = log;
                    dir = server.take_dir();
                }
                Err(StartError::PortClash(msg) | StartError::Failed(msg)) => panic!("{msg}"),
            }
        }
        panic!("mariadbd could not bind a free port after 5 attempts:\n{last_clash}");
    }

    fn write_config(&self, dir: &Path, port: u16) {
        let d = dir.display();
        let mut cnf = String::new();
        for include in &self.includes {
            cnf += &format!("!include {}\n", include.display());
        }
        cnf += "[mysqld]\n";
        if is_root() {
            cnf += "user=root\n";
        }
        cnf += &format!(
            "datadir={d}/data\n\
             tmpdir={d}\n\
             socket={d}/mysqld.sock\n\
             pid-file={d}/mysqld.pid\n\
             log-error={d}/error.log\n\
             performance_schema=OFF\n\
             innodb_buffer_pool_size=32M\n\
             innodb_log_file_size=16M\n\
             innodb_use_native_aio=0\n"
        );
        if self.tcp {
            cnf += &format!("port={port}\nbind-address=127.0.0.1\nskip-name-resolve\n");
        } else {
            cnf += "skip_networking=ON\n";
        }
        if let Some(id) = self.server_id {
            cnf += &format!(
                "server_id={id}\n\
                 log_bin=mariadb-bin\n\
                 relay_log=relay-bin\n\
                 binlog_format=ROW\n\
                 log_slave_updates=ON\n\
                 gtid_strict_mode=ON\n\
                 gtid_domain_id=0\n\
                 auto_increment_increment=2\n\
                 auto_increment_offset={id}\n\
                 innodb_log_buffer_size=2M\n\
                 innodb_flush_log_at_trx_commit=2\n\
                 sync_binlog=0\n\
                 key_buffer_size=1M\n\
                 aria_pagecache_buffer_size=2M\n\
                 max_connections=40\n\
                 thread_cache_size=4\n"
            );
        }
        fs::write(dir.join("my.cnf"), cnf).expect("write my.cnf");
    }
}

fn install_db(dir: &Path) {
    let out = Command::new(mariadb_program("mariadb-install-db"))
        .arg(format!("--defaults-file={}", dir.join("my.cnf").display()))
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run mariadb-install-db ({INSTALL_HINT}): {e}"));
    assert!(
        out.status.success(),
        "mariadb-install-db failed ({}):\n{}\n{}\nmy.cnf:\n{}\nerror log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        fs::read_to_string(dir.join("my.cnf")).unwrap_or_default(),
        fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
}

/// A running `mariadbd` on its own temporary directory (see [`Mariadb`]).
pub struct Server {
    /// TCP port on 127.0.0.1; 0 for a [`Mariadb::socket_only`] server.
    pub port: u16,
    /// [`Mariadb::replication_node`]'s `server_id` (also `auto_increment_offset`); 0 when
    /// the server's `server_id` comes from an included file.
    pub server_id: u32,
    /// Holds `my.cnf`, `data/`, `mysqld.sock`, `mysqld.pid`, `error.log` and option files.
    pub dir: tempfile::TempDir,
    /// Reached over TCP (else on the socket).
    tcp: bool,
    /// `None` after [`Server::kill`].
    child: Option<Child>,
}

/// Why a spawned server did not become ready.
enum StartError {
    /// Another process took the port between [`free_port`] and the server's bind.
    PortClash(String),
    Failed(String),
}

/// packaging/split-brain.sql, run as root on every replication node the kit starts.
pub const SPLIT_BRAIN_SQL: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/packaging/split-brain.sql"
));

impl Server {
    /// A [`Mariadb::replication_node`] with `server_id` on a free loopback port, with the
    /// split-brain guard's table (packaging/split-brain.sql, as an operator installs it).
    #[track_caller]
    pub fn start(server_id: u32) -> Server {
        let s = Mariadb::new().replication_node(server_id).start();
        s.sql(SPLIT_BRAIN_SQL);
        s
    }

    /// Kills the process (if any) and hands out the directory, for a retry on another port.
    fn take_dir(mut self) -> tempfile::TempDir {
        self.stop_process();
        let placeholder = tempfile::Builder::new()
            .prefix("kam-it-empty-")
            .tempdir()
            .expect("create placeholder directory");
        std::mem::replace(&mut self.dir, placeholder)
    }

    /// `dir/my.cnf`.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("my.cnf")
    }

    /// `dir/mysqld.sock`.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("mysqld.sock")
    }

    /// `dir/error.log`.
    pub fn error_log_path(&self) -> PathBuf {
        self.dir.path().join("error.log")
    }

    /// The error log (for failure messages).
    pub fn error_log(&self) -> String {
        fs::read_to_string(self.error_log_path()).unwrap_or_default()
    }

    /// The last `lines` lines of the error log (for failure messages).
    pub fn error_log_tail(&self, lines: usize) -> String {
        let log = self.error_log();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The process id, or `None` after [`Server::kill`].
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `127.0.0.1:PORT`, or the socket's path.
    pub fn address(&self) -> String {
        if self.tcp {
            format!("127.0.0.1:{}", self.port)
        } else {
            self.socket().display().to_string()
        }
    }

    /// `server N (ADDRESS)`, for messages.
    pub fn name(&self) -> String {
        format!("server {} ({})", self.server_id, self.address())
    }

    fn spawn_and_wait(&mut self) -> Result<(), StartError> {
        let log_path = self.error_log_path();
        let log_offset = fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("mariadbd.out"))
            .expect("open mariadbd.out");
        let mut cmd = Command::new(mariadb_program("mariadbd"));
        cmd.arg(format!("--defaults-file={}", self.config_path().display()))
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup mariadbd.out"))
            .stderr(out);
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn mariadbd: {e}"));
        self.child = Some(child);

        let start = Instant::now();
        loop {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                self.child = None;
                let mut log = String::new();
                if let Ok(mut f) = fs::File::open(&log_path) {
                    let _ = f.seek(SeekFrom::Start(log_offset));
                    let _ = f.read_to_string(&mut log);
                }
                let out =
                    fs::read_to_string(self.dir.path().join("mariadbd.out")).unwrap_or_default();
                let cnf = fs::read_to_string(self.config_path()).unwrap_or_default();
                let msg = format!(
                    "mariadbd ({}) exited with {status} during startup.\n\
                     error log:\n{log}\nstdout/stderr:\n{out}\nmy.cnf:\n{cnf}",
                    self.name()
                );
                return Err(
                    if log.contains("Address already in use") || log.contains("Bind on TCP/IP") {
                        StartError::PortClash(msg)
                    } else {
                        StartError::Failed(msg)
                    },
                );
            }
            let probe = self.try_connect(Duration::from_secs(2));
            match probe {
                Ok(()) => return Ok(()),
                Err(e) if start.elapsed() >= START_WAIT => {
                    return Err(StartError::Failed(format!(
                        "mariadbd ({}) did not accept connections within {START_WAIT:?}; last \
                         error: {e}\nerror log tail:\n{}",
                        self.name(),
                        self.error_log_tail(40)
                    )));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// SIGKILL (after SIGCONT, in case it was paused) and wait for the process to go.
    pub fn kill(&mut self) {
        self.stop_process();
    }

    fn stop_process(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_and_reap(&mut child);
        }
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = self
            .pid()
            .unwrap_or_else(|| panic!("server {} is not running", self.server_id));
        if let Err(e) = signal(pid, sig) {
            panic!("kill({pid}, {sig}): {e}");
        }
    }

    /// SIGSTOP: the server hangs (its listen socket still completes TCP handshakes).
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// SIGCONT after [`Server::pause`].
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    /// Starts the server again on the same datadir and port after [`Server::kill`]
    /// (replication restarts by itself, as after a crash). Panics if it does not come up.
    #[track_caller]
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "restart() needs kill() first");
        if let Err(StartError::PortClash(msg) | StartError::Failed(msg)) = self.spawn_and_wait() {
            panic!("restart failed: {msg}");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_process();
    }
}
