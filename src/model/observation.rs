//! What the check observes, as plain data: the server's state (its dialect, replication
//! connections, GTID variables) and the one classification of a failed connection. No IO
//! here (that is [`crate::io`]) and no judgement (that is [`crate::verdict`]).
//!
//! A driver error becomes a [`Failure`] in `io::mysql` (`Failure::of`), the only place that
//! knows the driver.

use std::time::Duration;

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
    /// This server's side of the split-brain guard, read in the same round trip when
    /// `--peer` is given (docs/contract.md "Split brain"); `None`: not asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardRow>,
}

/// A server's side of the split-brain guard: who it is, and since when notify-master has had
/// it writable (`keepalived_mysql.guard.writer_since`, that server's `UTC_TIMESTAMP(6)` as
/// `YYYY-MM-DD HH:MM:SS.ffffff`; `None`: NULL, fenced by notify-backup or never promoted).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GuardRow {
    pub server_id: Option<u32>,
    pub writer_since: Option<String>,
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
        /// `@@read_only` (MySQL: or `super_read_only`): whether the peer is fenced.
        read_only: Option<bool>,
        /// `@@server_id`.
        server_id: Option<u32>,
        /// `keepalived_mysql.guard.writer_since` on the peer, as the peer's `DATETIME(6)`
        /// text: when notify-master last unfenced it; `None`: NULL (fenced by notify-backup,
        /// or never promoted by notify-master).
        writer_since: Option<String>,
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
    /// The split-brain guard's table is missing or the account may not read or write it:
    /// `packaging/split-brain.sql` was not run on that server, or `packaging/grants.sql`'s
    /// guard grants are missing (a configuration error, docs/contract.md "Split brain").
    Guard,
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
/// ER_ACCESS_DENIED_NO_PASSWORD_ERROR: refused by an authentication plugin that takes no
/// password (`unix_socket`: the OS user is not the account).
pub const ER_ACCESS_DENIED_NO_PASSWORD: u16 = 1698;
/// CR_SSL_CONNECTION_ERROR (client error reference): TLS could not be set up as configured
/// (the server offers no TLS, or its certificate does not verify against `--ssl-ca`).
pub const CR_SSL_CONNECTION_ERROR: u16 = 2026;
/// CR_AUTH_PLUGIN_CANNOT_LOAD (client error reference): the account's authentication plugin
/// is not one this client speaks (PAM `dialog`, for example).
pub const CR_AUTH_PLUGIN_CANNOT_LOAD: u16 = 2059;
/// ER_NO_SUCH_TABLE: `keepalived_mysql.guard` does not exist (split-brain.sql not run).
pub const ER_NO_SUCH_TABLE: u16 = 1146;
/// ER_BAD_DB_ERROR: the `keepalived_mysql` database does not exist.
pub const ER_BAD_DB: u16 = 1049;
/// ER_TABLEACCESS_DENIED_ERROR: no SELECT/UPDATE on the guard table.
pub const ER_TABLEACCESS_DENIED: u16 = 1142;
/// ER_COLUMNACCESS_DENIED_ERROR: no privilege on a column of the guard table.
pub const ER_COLUMNACCESS_DENIED: u16 = 1143;
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
            | ER_ACCOUNT_LOCKED_MARIADB
            | ER_ACCESS_DENIED_NO_PASSWORD
            | CR_SSL_CONNECTION_ERROR
            | CR_AUTH_PLUGIN_CANNOT_LOAD => Refusal::Account,
            // Only the guard's statements name a table.
            ER_NO_SUCH_TABLE | ER_BAD_DB | ER_TABLEACCESS_DENIED | ER_COLUMNACCESS_DENIED => {
                Refusal::Guard
            }
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
        // The error text is the failure's own (its Display), as for the local server.
        let error = failure.to_string();
        match failure {
            Failure::NoAnswer { .. } => PeerObservation::Unreachable { address, error },
            Failure::Answered { code, refusal, .. } => PeerObservation::Refused {
                error,
                address,
                code,
                refusal,
            },
        }
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
            (1698, Refusal::Account),
            (2026, Refusal::Account),
            (2059, Refusal::Account),
            // The split-brain guard's table or its grants are missing.
            (1146, Refusal::Guard),
            (1049, Refusal::Guard),
            (1142, Refusal::Guard),
            (1143, Refusal::Guard),
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
}
