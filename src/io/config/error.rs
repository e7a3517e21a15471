//! Configuration errors: every one is exit 78 and names what it is about.

use std::path::PathBuf;

use crate::io::confpath::PathCause;
use crate::io::optfile::OptionFileError;
use crate::io::state::RoleFileError;

/// A configuration problem: exit 78 in every binary (check-mysql's `exit_code`,
/// notify's `NotifyError::exit`). Each variant carries what it is about; its message names
/// it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    OptionFile(#[from] OptionFileError),
    #[error("option file {file}: bad value for {key}: {message}")]
    BadValue {
        file: PathBuf,
        key: String,
        message: String,
    },
    #[error("option file {file}: unknown option '{key}' in [{group}]")]
    UnknownOption {
        file: PathBuf,
        group: String,
        key: String,
    },
    /// The option file named (or the default one) is a directory: my_print_defaults would
    /// read it as empty, so a mistyped path must not silently mean "defaults".
    #[error("option file {} is a directory", path.display())]
    OptionFileIsDirectory { path: PathBuf },
    /// `--ssl-mode` verify-ca or verify-identity without a CA to verify against.
    #[error("--ssl-mode verify-ca/verify-identity needs --ssl-ca (or ssl-ca in the option file)")]
    VerifyNeedsCa,
    /// The CA file (`--ssl-ca` / `ssl-ca`) cannot be read, or is not a file.
    #[error("cannot read ssl-ca {}: {cause}", path.display())]
    SslCaUnreadable {
        path: PathBuf,
        #[source]
        cause: PathCause,
    },
    /// `--peer` or `--witness` on the command line is not `HOST[:PORT]`; `message` is the
    /// parser's explanation (the option file's keys are reported as
    /// [`ConfigError::BadValue`]).
    #[error("--{option}: {message}")]
    BadRemote {
        /// `peer` or `witness`.
        option: &'static str,
        value: String,
        message: String,
    },
    /// Witness mode without a peer: the lease has three voters, this node, the peer and the
    /// witness (docs/contract.md "Witness mode").
    #[error(
        "--witness {witness} needs --peer (or the peer key): witness mode counts votes of \
         three servers, this node, the peer and the witness"
    )]
    WitnessNeedsPeer { witness: String },
    /// The lease timing breaks its invariant (`plan::lease::Timing::validate`): the message
    /// names every value.
    #[error(
        "witness mode: {cause} (--lease-ttl / lease-ttl, --check-interval / check-interval, \
         the timeout of [check-mysql] and of [notify-backup])"
    )]
    LeaseTiming {
        #[source]
        cause: crate::plan::lease::TimingError,
    },
    /// The role file cannot be read or is not a role file (check-mysql deciding its role).
    #[error(transparent)]
    RoleFile(#[from] RoleFileError),
    /// `--vip` is set and the local interface addresses cannot be listed (`getifaddrs`).
    #[error("cannot list local addresses: {cause}")]
    NoLocalAddresses {
        #[source]
        cause: std::io::Error,
    },
}
