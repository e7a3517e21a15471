//! Observation: what the server says, gathered in one connection and as few round trips as
//! possible (MariaDB: one after the handshake). No judgement here: that is [`crate::verdict`].

use std::path::PathBuf;
use std::time::Duration;

use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder, SslOpts};

use crate::deadline::Deadline;

/// Which SQL dialect the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    MariaDb,
    MySql,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::MariaDb => "mariadb",
            Dialect::MySql => "mysql",
        }
    }
}

/// State of a replication IO (receiver) thread as the server prints it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum IoState {
    Yes,
    No,
    Connecting,
    Other(String),
}

impl IoState {
    pub fn parse(text: Option<&str>) -> IoState {
        match text.unwrap_or("") {
            t if t.eq_ignore_ascii_case("yes") => IoState::Yes,
            t if t.eq_ignore_ascii_case("no") => IoState::No,
            t if t.eq_ignore_ascii_case("connecting") => IoState::Connecting,
            t => IoState::Other(t.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            IoState::Yes => "Yes",
            IoState::No => "No",
            IoState::Connecting => "Connecting",
            IoState::Other(s) => s,
        }
    }
}

/// One replication connection (a row of `SHOW ALL SLAVES STATUS` / `SHOW REPLICA STATUS`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplicaStatus {
    /// MariaDB `Connection_name` / MySQL `Channel_Name` ("" for the default connection).
    pub name: String,
    pub source_host: String,
    pub source_port: Option<u16>,
    pub io_running: IoState,
    pub sql_running: bool,
    /// `Seconds_Behind_Master`/`_Source`; `None` is SQL NULL (unknown), never zero.
    pub seconds_behind: Option<u64>,
    pub last_io_errno: u32,
    pub last_io_error: String,
    pub last_sql_errno: u32,
    pub last_sql_error: String,
    /// MariaDB `Gtid_IO_Pos` / MySQL `Retrieved_Gtid_Set`: what the IO thread has received.
    pub received_gtid: Option<String>,
    pub sql_delay: Option<u64>,
}

/// Columns of one result row, by name, as text (`None` = SQL NULL).
pub type Columns = [(String, Option<String>)];

fn column<'a>(cols: &'a Columns, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| {
        cols.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .and_then(|(_, v)| v.as_deref())
    })
}

fn number<T: std::str::FromStr>(cols: &Columns, names: &[&str]) -> Option<T> {
    column(cols, names).and_then(|v| v.trim().parse().ok())
}

impl ReplicaStatus {
    /// `host:port` of the source, IPv6 addresses in brackets (`[::1]:3306`) as for the
    /// check's own targets.
    pub fn source(&self) -> String {
        let host = if self.source_host.contains(':') {
            format!("[{}]", self.source_host)
        } else {
            self.source_host.clone()
        };
        match self.source_port {
            Some(p) => format!("{host}:{p}"),
            None => host,
        }
    }

    /// Read a status row; accepts MariaDB, MySQL < 8.0.22 (`Slave_*`, `*_Master`) and MySQL
    /// 8.0.22+ (`Replica_*`, `*_Source`) column names.
    pub fn from_columns(cols: &Columns) -> ReplicaStatus {
        ReplicaStatus {
            name: column(cols, &["Connection_name", "Channel_Name"])
                .unwrap_or("")
                .to_string(),
            source_host: column(cols, &["Master_Host", "Source_Host"])
                .unwrap_or("")
                .to_string(),
            source_port: number(cols, &["Master_Port", "Source_Port"]),
            io_running: IoState::parse(column(cols, &["Slave_IO_Running", "Replica_IO_Running"])),
            sql_running: column(cols, &["Slave_SQL_Running", "Replica_SQL_Running"])
                .is_some_and(|v| v.eq_ignore_ascii_case("yes")),
            seconds_behind: number(cols, &["Seconds_Behind_Master", "Seconds_Behind_Source"]),
            last_io_errno: number(cols, &["Last_IO_Errno"]).unwrap_or(0),
            last_io_error: column(cols, &["Last_IO_Error"]).unwrap_or("").to_string(),
            last_sql_errno: number(cols, &["Last_SQL_Errno"]).unwrap_or(0),
            last_sql_error: column(cols, &["Last_SQL_Error"]).unwrap_or("").to_string(),
            received_gtid: column(cols, &["Gtid_IO_Pos", "Retrieved_Gtid_Set"])
                .map(|s| s.trim().to_string()),
            sql_delay: number(cols, &["SQL_Delay"]),
        }
    }
}

/// GTID variables; which ones are present depends on the dialect.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GtidVars {
    pub current_pos: Option<String>,
    pub slave_pos: Option<String>,
    pub binlog_pos: Option<String>,
    pub binlog_state: Option<String>,
    pub strict_mode: Option<bool>,
    /// MySQL `gtid_executed`.
    pub executed: Option<String>,
}

impl GtidVars {
    /// The position shown to people: MariaDB `gtid_current_pos`, MySQL `gtid_executed`.
    pub fn display(&self) -> &str {
        self.current_pos
            .as_deref()
            .or(self.executed.as_deref())
            .unwrap_or("")
    }
}

/// Everything the check reads from the local server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Observation {
    pub version: String,
    pub dialect: Dialect,
    pub read_only: bool,
    /// MySQL only.
    pub super_read_only: Option<bool>,
    pub gtid: GtidVars,
    pub replicas: Vec<ReplicaStatus>,
}

/// What the peer says about its GTID history, when `--peer` is given.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum PeerObservation {
    NotAsked,
    /// No answer (see [`Failure::NoAnswer`]): the only evidence that the peer is down.
    Unreachable {
        address: String,
        error: String,
    },
    /// The peer answered with an error (wrong account, at `max_connections`, ...): it is up,
    /// but told us nothing more.
    Refused {
        address: String,
        error: String,
        code: u16,
        refusal: Refusal,
    },
    Reached {
        address: String,
        dialect: Dialect,
        gtid: GtidVars,
    },
}

/// What a server's error number says about the node, for a server that answered (sent an
/// error packet) instead of serving us. Numbers from the MariaDB/MySQL server error
/// references ("MariaDB Error Codes", MySQL "Server Error Message Reference").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    /// A connection limit is reached: the server is alive and busy.
    Saturated,
    /// This account or host is refused: the check's own configuration (credentials, grants,
    /// a blocked host), not the server's health.
    Account,
    /// Any other error (shutting down, out of resources, unknown).
    Other,
}

/// ER_CON_COUNT_ERROR "Too many connections" (`max_connections`).
pub const ER_CON_COUNT: u16 = 1040;
/// ER_TOO_MANY_USER_CONNECTIONS (`max_user_connections`, global).
pub const ER_TOO_MANY_USER_CONNECTIONS: u16 = 1203;
/// ER_USER_LIMIT_REACHED (a per-account `MAX_USER_CONNECTIONS` and the other per-hour limits).
pub const ER_USER_LIMIT_REACHED: u16 = 1226;
/// ER_DBACCESS_DENIED_ERROR: the account may not use the database it named.
pub const ER_DBACCESS_DENIED: u16 = 1044;
/// ER_ACCESS_DENIED_ERROR: wrong user or password.
pub const ER_ACCESS_DENIED: u16 = 1045;
/// ER_HOST_IS_BLOCKED: too many connection errors from this host (`FLUSH HOSTS`).
pub const ER_HOST_IS_BLOCKED: u16 = 1129;
/// ER_HOST_NOT_PRIVILEGED: no account for this host.
pub const ER_HOST_NOT_PRIVILEGED: u16 = 1130;
/// ER_SPECIFIC_ACCESS_DENIED_ERROR: a missing privilege ("you need the X privilege").
pub const ER_SPECIFIC_ACCESS_DENIED: u16 = 1227;
/// ER_NOT_SUPPORTED_AUTH_MODE: the account's authentication plugin is not one we speak.
pub const ER_NOT_SUPPORTED_AUTH_MODE: u16 = 1251;
/// ER_MUST_CHANGE_PASSWORD: the password expired (`ALTER USER ... IDENTIFIED BY`).
pub const ER_MUST_CHANGE_PASSWORD: u16 = 1820;
/// ER_MUST_CHANGE_PASSWORD_LOGIN: the password expired, seen at login.
pub const ER_MUST_CHANGE_PASSWORD_LOGIN: u16 = 1862;
/// MySQL ER_ACCOUNT_HAS_BEEN_LOCKED.
pub const ER_ACCOUNT_LOCKED_MYSQL: u16 = 3118;
/// MariaDB ER_ACCOUNT_HAS_BEEN_LOCKED (10.4+).
pub const ER_ACCOUNT_LOCKED_MARIADB: u16 = 4151;

impl Refusal {
    /// Classify a server error number (see the constants above for each one's source).
    pub fn of(code: u16) -> Refusal {
        match code {
            ER_CON_COUNT | ER_TOO_MANY_USER_CONNECTIONS | ER_USER_LIMIT_REACHED => {
                Refusal::Saturated
            }
            ER_DBACCESS_DENIED
            | ER_ACCESS_DENIED
            | ER_HOST_IS_BLOCKED
            | ER_HOST_NOT_PRIVILEGED
            | ER_SPECIFIC_ACCESS_DENIED
            | ER_NOT_SUPPORTED_AUTH_MODE
            | ER_MUST_CHANGE_PASSWORD
            | ER_MUST_CHANGE_PASSWORD_LOGIN
            | ER_ACCOUNT_LOCKED_MYSQL
            | ER_ACCOUNT_LOCKED_MARIADB => Refusal::Account,
            _ => Refusal::Other,
        }
    }
}

/// Why a server could not be used: the one classification of a connection outcome that
/// every binary uses. A server that sent an error packet is alive; only `NoAnswer` is
/// evidence that it is down.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Failure {
    /// Nothing came back: connection refused, unreachable, DNS, reset, a TLS handshake that
    /// failed (the server's identity is not established, so what it says is no evidence),
    /// or the deadline passed.
    #[error("{cause}")]
    NoAnswer { cause: String },
    /// The server answered with an error.
    #[error("ERROR {code} ({sqlstate}): {message}")]
    Answered {
        code: u16,
        sqlstate: String,
        message: String,
        refusal: Refusal,
    },
}

impl Failure {
    /// Classify a driver error.
    pub fn of(e: &mysql::Error) -> Failure {
        match e {
            mysql::Error::MySqlError(m) => Failure::Answered {
                code: m.code,
                sqlstate: m.state.clone(),
                message: m.message.clone(),
                refusal: Refusal::of(m.code),
            },
            other => Failure::NoAnswer {
                cause: error_text(other),
            },
        }
    }

    /// The deadline passed before the server answered.
    pub fn deadline(timeout: Duration) -> Failure {
        Failure::NoAnswer {
            cause: format!(
                "no answer within --timeout {} (server hung or unreachable)",
                humantime::format_duration(timeout)
            ),
        }
    }

    /// The error number, for a server that answered.
    pub fn code(&self) -> Option<u16> {
        match self {
            Failure::Answered { code, .. } => Some(*code),
            Failure::NoAnswer { .. } => None,
        }
    }

    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Failure::Answered { refusal, .. } => Some(*refusal),
            Failure::NoAnswer { .. } => None,
        }
    }
}

/// At which step observing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Connect,
    Query,
}

/// Why observing a server failed, classified ([`Failure`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObserveError {
    pub target: String,
    pub stage: Stage,
    pub failure: Failure,
}

impl std::fmt::Display for ObserveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.stage {
            Stage::Connect => write!(f, "cannot connect to {}: {}", self.target, self.failure),
            Stage::Query => write!(f, "query on {} failed: {}", self.target, self.failure),
        }
    }
}

impl std::error::Error for ObserveError {}

impl ObserveError {
    pub fn new(target: &str, stage: Stage, e: &mysql::Error) -> ObserveError {
        ObserveError {
            target: target.to_string(),
            stage,
            failure: Failure::of(e),
        }
    }
}

pub use crate::cli::SslMode;

/// Where and how to connect. `Debug` hides the password.
#[derive(Clone, Default)]
pub struct ConnectionSpec {
    /// TCP host; `None` means the unix socket.
    pub host: Option<String>,
    pub port: u16,
    pub socket: Option<PathBuf>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub ssl_mode: SslMode,
    pub ssl_ca: Option<PathBuf>,
}

impl std::fmt::Debug for ConnectionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionSpec")
            .field("target", &self.target())
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("ssl_mode", &self.ssl_mode)
            .finish()
    }
}

impl ConnectionSpec {
    /// `host:port` or the socket path, for messages.
    pub fn target(&self) -> String {
        match (&self.host, &self.socket) {
            (Some(h), _) if h.contains(':') => format!("[{h}]:{}", self.port),
            (Some(h), _) => format!("{h}:{}", self.port),
            (None, Some(s)) => s.display().to_string(),
            (None, None) => "(no address)".to_string(),
        }
    }

    fn opts(&self, deadline: &Deadline, io_timeout: Duration) -> OptsBuilder {
        let t = deadline.socket_timeout();
        let mut b = OptsBuilder::new()
            .user(self.user.clone())
            .pass(self.password.clone())
            // Never switch silently from TCP to a local socket: a check of a remote peer
            // must not end up reading the local server.
            .prefer_socket(false)
            // Known in advance, so the driver does not spend a round trip asking for it.
            .max_allowed_packet(Some(16 * 1024 * 1024))
            .stmt_cache_size(0)
            .tcp_connect_timeout(Some(t))
            .read_timeout(Some(io_timeout))
            .write_timeout(Some(io_timeout))
            .tcp_nodelay(true);
        b = match (&self.host, &self.socket) {
            (Some(h), _) => b.ip_or_hostname(Some(h.clone())).tcp_port(self.port),
            (None, Some(s)) => b.socket(Some(s.to_string_lossy().into_owned())),
            (None, None) => b,
        };
        if self.ssl_mode != SslMode::Disabled && self.host.is_some() {
            let mut ssl = SslOpts::default();
            if let Some(ca) = &self.ssl_ca {
                ssl = ssl.with_root_cert_path(Some(ca.clone()));
            }
            ssl = match self.ssl_mode {
                SslMode::Required => ssl
                    .with_danger_accept_invalid_certs(true)
                    .with_danger_skip_domain_validation(true),
                SslMode::VerifyCa => ssl.with_danger_skip_domain_validation(true),
                _ => ssl,
            };
            b = b.ssl_opts(Some(ssl));
        }
        b
    }

    /// Open one connection; every socket call is bounded by what is left of `deadline`.
    /// (DNS is not: the caller bounds the whole call by running it on a worker thread.)
    pub fn connect(&self, deadline: &Deadline) -> Result<Conn, ObserveError> {
        self.connect_with_io_timeout(deadline, deadline.socket_timeout())
    }

    /// Connect within `deadline`, but let later reads and writes each take up to
    /// `io_timeout` (for statements that wait on purpose, such as MASTER_GTID_WAIT).
    pub fn connect_with_io_timeout(
        &self,
        deadline: &Deadline,
        io_timeout: Duration,
    ) -> Result<Conn, ObserveError> {
        Conn::new(self.opts(deadline, io_timeout))
            .map_err(|e| ObserveError::new(&self.target(), Stage::Connect, &e))
    }
}

/// The server's own message where there is one (e.g. `1045 Access denied ...`).
pub fn error_text(e: &mysql::Error) -> String {
    match e {
        mysql::Error::MySqlError(m) => format!("ERROR {} ({}): {}", m.code, m.state, m.message),
        mysql::Error::IoError(io) if io.kind() == std::io::ErrorKind::WouldBlock => {
            "timed out".to_string()
        }
        mysql::Error::IoError(io) => io.to_string(),
        // A socket timeout inside the packet codec surfaces as EAGAIN.
        mysql::Error::CodecError(c) if c.to_string().contains("os error 11") => {
            "timed out (no answer)".to_string()
        }
        mysql::Error::DriverError(mysql::DriverError::CouldNotConnect(Some((_, desc, _)))) => {
            desc.clone()
        }
        mysql::Error::DriverError(mysql::DriverError::ConnectTimeout) => {
            "connect timed out".to_string()
        }
        other => other.to_string(),
    }
}

pub fn server_code(e: &mysql::Error) -> Option<u16> {
    match e {
        mysql::Error::MySqlError(m) => Some(m.code),
        _ => None,
    }
}

/// The MariaDB query: one round trip, two result sets.
pub const MARIADB_QUERY: &str = "SELECT VERSION(), @@GLOBAL.read_only, \
    @@GLOBAL.gtid_current_pos, @@GLOBAL.gtid_slave_pos, @@GLOBAL.gtid_binlog_pos, \
    @@GLOBAL.gtid_binlog_state, @@GLOBAL.gtid_strict_mode; SHOW ALL SLAVES STATUS";
/// MySQL 8.0.22+; older servers answer the second statement with a syntax error.
pub const MYSQL_QUERY: &str = "SELECT VERSION(), @@GLOBAL.read_only, \
    @@GLOBAL.super_read_only, @@GLOBAL.gtid_executed; SHOW REPLICA STATUS";
pub const MYSQL_OLD_STATUS: &str = "SHOW SLAVE STATUS";
pub const MARIADB_PEER_QUERY: &str = "SELECT VERSION(), @@GLOBAL.gtid_binlog_state";
pub const MYSQL_PEER_QUERY: &str = "SELECT VERSION(), @@GLOBAL.gtid_executed";

const ER_UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;
const ER_PARSE_ERROR: u16 = 1064;

/// One result row as named text columns.
pub type Row = Vec<(String, Option<String>)>;
/// Every result set of a (multi-statement) query.
pub type ResultSets = Vec<Vec<Row>>;

/// Run a (multi-statement) query and return every result set as named text columns.
/// Returns the sets read before an error together with the error.
pub fn query_sets(conn: &mut Conn, q: &str) -> (ResultSets, Option<mysql::Error>) {
    let mut sets = Vec::new();
    let mut result = match conn.query_iter(q) {
        Ok(r) => r,
        Err(e) => return (sets, Some(e)),
    };
    while let Some(set) = result.iter() {
        let mut rows = Vec::new();
        for row in set {
            match row {
                Ok(row) => rows.push(row_columns(row)),
                Err(e) => return (sets, Some(e)),
            }
        }
        sets.push(rows);
    }
    (sets, None)
}

fn row_columns(row: mysql::Row) -> Row {
    let names: Vec<String> = row
        .columns_ref()
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    names
        .into_iter()
        .zip(row.unwrap().into_iter().map(value_text))
        .collect()
}

fn value_text(v: mysql::Value) -> Option<String> {
    use mysql::Value;
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(d) => Some(d.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

fn flag(v: Option<&str>) -> bool {
    matches!(v.map(str::trim), Some("1" | "ON" | "on" | "On"))
}

/// Values of the first row of a result set, positionally.
/// The first column of the first row of the first result set (`None`: no row, or NULL).
pub fn first_value(sets: &ResultSets) -> Option<String> {
    sets.first()?.first()?.first()?.1.clone()
}

fn first_row(sets: &ResultSets, i: usize) -> Vec<Option<String>> {
    sets.get(i)
        .and_then(|s| s.first())
        .map(|r| r.iter().map(|(_, v)| v.clone()).collect())
        .unwrap_or_default()
}

/// Build an observation from the MariaDB query's two result sets.
pub fn mariadb_observation(sets: &ResultSets) -> Observation {
    let v = first_row(sets, 0);
    let at = |i: usize| v.get(i).cloned().flatten();
    Observation {
        version: at(0).unwrap_or_default(),
        dialect: Dialect::MariaDb,
        read_only: flag(at(1).as_deref()),
        super_read_only: None,
        gtid: GtidVars {
            current_pos: at(2),
            slave_pos: at(3),
            binlog_pos: at(4),
            binlog_state: at(5),
            strict_mode: Some(flag(at(6).as_deref())),
            executed: None,
        },
        replicas: replicas(sets.get(1)),
    }
}

/// Build an observation from the MySQL variables row and a status result set.
pub fn mysql_observation(vars: &ResultSets, status: Option<&Vec<Row>>) -> Observation {
    let v = first_row(vars, 0);
    let at = |i: usize| v.get(i).cloned().flatten();
    Observation {
        version: at(0).unwrap_or_default(),
        dialect: Dialect::MySql,
        read_only: flag(at(1).as_deref()),
        super_read_only: Some(flag(at(2).as_deref())),
        gtid: GtidVars {
            executed: at(3).map(|s| s.replace('\n', "")),
            ..GtidVars::default()
        },
        replicas: replicas(status),
    }
}

fn replicas(set: Option<&Vec<Row>>) -> Vec<ReplicaStatus> {
    set.map(|rows| {
        rows.iter()
            .map(|r| ReplicaStatus::from_columns(r))
            .collect()
    })
    .unwrap_or_default()
}

/// Read the local server's state over an open connection.
pub fn observe(conn: &mut Conn, target: &str) -> Result<Observation, ObserveError> {
    let fail = |e: mysql::Error| ObserveError::new(target, Stage::Query, &e);
    let (sets, err) = query_sets(conn, MARIADB_QUERY);
    match err {
        None => return Ok(mariadb_observation(&sets)),
        Some(e) if server_code(&e) == Some(ER_UNKNOWN_SYSTEM_VARIABLE) && sets.is_empty() => {}
        Some(e) => return Err(fail(e)),
    }
    // Not MariaDB: MySQL names.
    let (sets, err) = query_sets(conn, MYSQL_QUERY);
    match err {
        None => Ok(mysql_observation(&sets, sets.get(1))),
        Some(e) if server_code(&e) == Some(ER_PARSE_ERROR) && sets.len() == 1 => {
            let (status, err) = query_sets(conn, MYSQL_OLD_STATUS);
            match err {
                None => Ok(mysql_observation(&sets, status.first())),
                Some(e) => Err(fail(e)),
            }
        }
        Some(e) => Err(fail(e)),
    }
}

impl PeerObservation {
    /// The peer sent us something (its state or an error): it is up.
    pub fn answered(&self) -> bool {
        matches!(
            self,
            PeerObservation::Reached { .. } | PeerObservation::Refused { .. }
        )
    }

    /// The observation for a probe that failed, by what came back.
    pub fn failed(address: String, failure: Failure) -> PeerObservation {
        match failure {
            Failure::NoAnswer { cause } => PeerObservation::Unreachable {
                address,
                error: cause,
            },
            Failure::Answered {
                code,
                refusal,
                ref sqlstate,
                ref message,
            } => PeerObservation::Refused {
                error: format!("ERROR {code} ({sqlstate}): {message}"),
                address,
                code,
                refusal,
            },
        }
    }
}

/// Read the peer's GTID history. Never fails: an unreachable or refusing peer is itself the
/// answer.
pub fn observe_peer(spec: &ConnectionSpec, deadline: &Deadline) -> PeerObservation {
    let address = spec.target();
    let failed = |e: &mysql::Error| PeerObservation::failed(address.clone(), Failure::of(e));
    let mut conn = match spec.connect(deadline) {
        Ok(c) => c,
        Err(e) => return PeerObservation::failed(address.clone(), e.failure),
    };
    let (sets, err) = query_sets(&mut conn, MARIADB_PEER_QUERY);
    let (dialect, sets) = match err {
        None => (Dialect::MariaDb, sets),
        Some(e) if server_code(&e) == Some(ER_UNKNOWN_SYSTEM_VARIABLE) => {
            match query_sets(&mut conn, MYSQL_PEER_QUERY) {
                (sets, None) => (Dialect::MySql, sets),
                (_, Some(e)) => return failed(&e),
            }
        }
        Some(e) => return failed(&e),
    };
    let v = first_row(&sets, 0);
    let state = v.get(1).cloned().flatten();
    let gtid = match dialect {
        Dialect::MariaDb => GtidVars {
            binlog_state: state,
            ..GtidVars::default()
        },
        Dialect::MySql => GtidVars {
            executed: state.map(|s| s.replace('\n', "")),
            ..GtidVars::default()
        },
    };
    PeerObservation::Reached {
        address,
        dialect,
        gtid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every error number the classification names, and what it means for the node.
    #[test]
    fn refusal_classes() {
        let rows: &[(u16, Refusal)] = &[
            (1040, Refusal::Saturated),
            (1203, Refusal::Saturated),
            (1226, Refusal::Saturated),
            (1044, Refusal::Account),
            (1045, Refusal::Account),
            (1129, Refusal::Account),
            (1130, Refusal::Account),
            (1227, Refusal::Account),
            (1251, Refusal::Account),
            (1820, Refusal::Account),
            (1862, Refusal::Account),
            (3118, Refusal::Account),
            (4151, Refusal::Account),
            // Shutting down, killed, unknown: answered, but neither of the above.
            (1053, Refusal::Other),
            (1927, Refusal::Other),
            (1064, Refusal::Other),
        ];
        for &(code, want) in rows {
            assert_eq!(Refusal::of(code), want, "error {code}");
        }
    }

    #[test]
    fn a_peer_that_answered_with_an_error_is_up() {
        let refused = PeerObservation::failed(
            "10.0.0.2:3306".into(),
            Failure::Answered {
                code: 1045,
                sqlstate: "28000".into(),
                message: "Access denied for user 'monitor'@'10.0.0.1' (using password: YES)".into(),
                refusal: Refusal::of(1045),
            },
        );
        assert!(refused.answered());
        assert!(matches!(
            refused,
            PeerObservation::Refused {
                code: 1045,
                refusal: Refusal::Account,
                ..
            }
        ));
        let silent = PeerObservation::failed(
            "10.0.0.2:3306".into(),
            Failure::NoAnswer {
                cause: "Connection refused (os error 111)".into(),
            },
        );
        assert!(!silent.answered());
        assert!(matches!(silent, PeerObservation::Unreachable { .. }));
    }

    /// Driver errors that are not a server's error packet are no answer.
    #[test]
    fn driver_errors_are_no_answer() {
        let io = mysql::Error::IoError(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(matches!(Failure::of(&io), Failure::NoAnswer { .. }));
        let timeout = mysql::Error::DriverError(mysql::DriverError::ConnectTimeout);
        assert!(matches!(Failure::of(&timeout), Failure::NoAnswer { .. }));
        let server = mysql::Error::MySqlError(mysql::MySqlError {
            state: "08004".into(),
            message: "Too many connections".into(),
            code: 1040,
        });
        assert_eq!(
            Failure::of(&server).refusal(),
            Some(Refusal::Saturated),
            "{:?}",
            Failure::of(&server)
        );
    }
}
