//! Everything that talks to the world: servers, files, syslog, keepalived, the kernel.

pub mod config;
pub(crate) mod confpath;
pub(crate) mod dialect;
pub mod keepalived;
pub mod lease;
pub(crate) mod mysql;
pub(crate) mod observe;
pub mod optfile;
pub(crate) mod poller;
pub(crate) mod role;
pub(crate) mod state;
pub(crate) mod syslog;
// The one module allowed `unsafe` (src/lib.rs denies it everywhere else).
#[allow(unsafe_code)]
pub(crate) mod sys;

#[cfg(test)]
pub(crate) mod fake;
