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
pub mod check;
pub mod cli;
pub mod deadline;
pub mod exit;
pub mod explain;
pub mod gtid;
pub mod io;
pub mod model;
// Shim: notify.rs still has its own `unsafe` pre_exec block; once spawn_retry calls
// `crate::io::sys::setsid_on_spawn(&mut cmd);` instead, this allow goes.
#[allow(unsafe_code)]
pub mod notify;
pub mod observe;
pub mod reception;
pub mod report;
pub mod verdict;

// Compatibility re-exports at the old paths (issue 10 layout), so that the branches being
// moved in parallel and the tests still compile; the final pass of the move removes them.
pub use io::{config, confpath, optfile, state};

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
