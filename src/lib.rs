//! keepalived-mysql: helpers that make a MySQL/MariaDB dual-master pair behind keepalived
//! fail over correctly.
//!
//! The flow of every binary is observation (IO) → verdict (pure) → action/report (IO):
//! [`observe`] gathers an [`observe::Observation`] within one [`deadline::Deadline`],
//! [`verdict::verdict`] turns it into a [`verdict::Verdict`] without IO, and [`report`]
//! prints it, logs it and maps it to an [`exit::Exit`] code.
//!
//! No `unsafe` outside `io::sys`, which wraps each system call in a safe function.

#![deny(unsafe_code)]

pub mod app;
pub mod cli;
pub mod deadline;
pub mod exit;
pub mod io;
pub mod model;
pub mod plan;
pub mod report;
pub mod verdict;

// Compatibility paths for the modules moved by issue 10; the final pass removes them.
pub use app::check;
pub use io::{config, confpath, optfile, state};
pub use model::gtid;
pub use report::explain;
pub use verdict::reception;
pub mod observe {
    pub use crate::io::dialect::{
        MARIADB_PEER_QUERY, MARIADB_QUERY, MYSQL_OLD_STATUS, MYSQL_PEER_QUERY, MYSQL_QUERY,
        mariadb_observation, mysql_observation,
    };
    pub use crate::io::mysql::{
        ConnectionSpec, ResultSets, Row, SslMode, error_text, first_value, query_sets, server_code,
    };
    pub use crate::io::observe::{observe, observe_peer};
    pub use crate::model::observation::*;
}
/// The old path of the notify helpers (issue 10): kept until the final pass of the layout
/// change, so that `crate::notify::…` and `keepalived_mysql::notify::…` (tests/cli.rs) still
/// resolve.
pub mod notify {
    pub(crate) use crate::app::notify::parse_event;
    pub use crate::app::notify_backup::DEFAULT_RETRY_FOR;
    pub use crate::model::event::KeepalivedEvent;
}
/// Old `role` module: the types are `model::role`, the role file `io::state`, the
/// resolution of `--role` `io::role`.
pub mod role {
    pub use crate::cli::{DEFAULT_STATE_DIR, RoleArg};
    pub use crate::io::role::{address_is_local, resolve};
    pub use crate::io::state::{
        ROLE_FILE, RoleFileError, boot_id, read_role, role_file, unix_now, write_role,
    };
    pub use crate::model::role::{Role, RoleDecision, RoleRecord};
}

/// Old `down` module: stopping keepalived is `io::keepalived`, the binary `app::notify_down`.
pub mod down {
    pub use crate::app::notify_down::{BINARY, DEFAULT_TIMEOUT, main};
    pub use crate::io::keepalived::{DownError, Method, Stopped, stop};
}
