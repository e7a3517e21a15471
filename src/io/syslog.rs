//! Syslog (facility daemon, RFC 3164 format over the local socket): keepalived sends a
//! script's stdout to /dev/null, so syslog is the channel that reaches operators.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::ReportArgs;

/// Where and whether to log.
#[derive(Debug, Clone)]
pub struct SyslogTarget {
    pub enabled: bool,
    /// `None`: the system's /dev/log.
    pub socket: Option<PathBuf>,
}

impl From<&ReportArgs> for SyslogTarget {
    /// `--no-syslog`, and the hidden `--syslog-socket` of the tests.
    fn from(args: &ReportArgs) -> Self {
        SyslogTarget {
            enabled: !args.no_syslog,
            socket: args.syslog_socket.clone(),
        }
    }
}

/// Severity of a syslog message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Err,
    Warning,
    Info,
}

/// Send one message (facility daemon, ident = binary). Failures to log are not fatal: the
/// verdict must still be given. From a terminal the message is also echoed on stderr.
pub fn syslog(binary: &str, target: &SyslogTarget, severity: Severity, message: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("{binary}: {message}");
    }
    if !target.enabled {
        return;
    }
    let formatter = syslog::Formatter3164 {
        facility: syslog::Facility::LOG_DAEMON,
        hostname: None,
        process: binary.to_string(),
        pid: std::process::id(),
    };
    let logger = match &target.socket {
        Some(p) => syslog::unix_custom(formatter, p),
        None => syslog::unix(formatter),
    };
    if let Ok(mut logger) = logger {
        let _ = match severity {
            Severity::Err => logger.err(message),
            Severity::Warning => logger.warning(message),
            Severity::Info => logger.info(message),
        };
    }
}
