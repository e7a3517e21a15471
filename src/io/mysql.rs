//! The driver: where and how to connect, running a query into named text columns, and what
//! a driver error means ([`Failure::of`]). Which SQL is sent is [`super::dialect`]'s.

use std::path::PathBuf;
use std::time::Duration;

use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder, SslOpts};

use crate::deadline::Deadline;
use crate::model::observation::{
    CR_AUTH_PLUGIN_CANNOT_LOAD, CR_SSL_CONNECTION_ERROR, Failure, ObserveError, Refusal, Stage,
};

impl Failure {
    /// Classify a driver error. Besides the server's error packets, two client-side failures
    /// also mean that the server answered: TLS that cannot be set up as configured, and an
    /// authentication plugin this client does not speak. They carry the MySQL client error
    /// numbers for them (2026, 2059) and are the check's configuration, not the server's
    /// health.
    pub fn of(e: &mysql::Error) -> Failure {
        use mysql::DriverError as D;
        match e {
            mysql::Error::MySqlError(m) => Failure::Answered {
                code: m.code,
                sqlstate: m.state.clone(),
                message: m.message.clone(),
                refusal: Refusal::of(m.code),
            },
            mysql::Error::DriverError(D::TlsNotSupported) | mysql::Error::TlsError(_) => {
                client_side(CR_SSL_CONNECTION_ERROR, error_text(e))
            }
            mysql::Error::DriverError(
                D::UnknownAuthPlugin(_) | D::OldMysqlPasswordDisabled | D::CleartextPluginDisabled,
            ) => client_side(CR_AUTH_PLUGIN_CANNOT_LOAD, error_text(e)),
            other => Failure::NoAnswer {
                cause: error_text(other),
            },
        }
    }
}

/// A client-side failure after the server answered, under its client error number.
fn client_side(code: u16, message: String) -> Failure {
    Failure::Answered {
        code,
        sqlstate: "HY000".into(),
        message,
        refusal: Refusal::of(code),
    }
}

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
        let opts = self.opts(deadline, io_timeout);
        // The driver panics on an authentication plugin it was built without (MariaDB's
        // `parsec`): that is an answer from the server, not a crash of the check.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Conn::new(opts))) {
            Ok(result) => result.map_err(|e| ObserveError::new(&self.target(), Stage::Connect, &e)),
            Err(panic) => Err(ObserveError {
                target: self.target(),
                stage: Stage::Connect,
                failure: client_side(
                    CR_AUTH_PLUGIN_CANNOT_LOAD,
                    format!(
                        "the account's authentication plugin is not supported by this client ({})",
                        panic_text(&panic)
                    ),
                ),
            }),
        }
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".into())
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
        // The driver's own Display wraps these in `DriverError { ... }`: say just the cause.
        mysql::Error::DriverError(d) => d.to_string(),
        mysql::Error::TlsError(t) => format!("TLS: {t}"),
        other => other.to_string(),
    }
}

pub fn server_code(e: &mysql::Error) -> Option<u16> {
    match e {
        mysql::Error::MySqlError(m) => Some(m.code),
        _ => None,
    }
}

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

/// The first column of the first row of the first result set (`None`: no row, or NULL).
pub fn first_value(sets: &ResultSets) -> Option<String> {
    sets.first()?.first()?.first()?.1.clone()
}

/// A connection that runs queries; [`Conn`] is one, and unit tests script servers' answers
/// with their own.
pub trait Session {
    /// Run a (multi-statement) query, as [`query_sets`] does.
    fn query_sets(&mut self, q: &str) -> (ResultSets, Option<mysql::Error>);
}

impl Session for Conn {
    fn query_sets(&mut self, q: &str) -> (ResultSets, Option<mysql::Error>) {
        query_sets(self, q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// TLS that cannot be set up and an authentication plugin the driver does not speak are
    /// answers from a live server: the check's configuration (2026, 2059), not "down".
    #[test]
    fn client_side_refusals_are_configuration() {
        for (e, code) in [
            (
                mysql::Error::DriverError(mysql::DriverError::TlsNotSupported),
                2026,
            ),
            (
                mysql::Error::DriverError(mysql::DriverError::UnknownAuthPlugin("dialog".into())),
                2059,
            ),
        ] {
            let f = Failure::of(&e);
            assert_eq!(
                (f.code(), f.refusal()),
                (Some(code), Some(Refusal::Account)),
                "{f:?}"
            );
        }
    }
}
