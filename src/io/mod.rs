//! Everything that talks to the world: servers, files, syslog, keepalived, the kernel.

pub mod config;
pub mod confpath;
pub mod dialect;
pub mod keepalived;
pub mod mysql;
pub mod observe;
pub mod optfile;
pub mod role;
pub mod state;
pub mod syslog;
// The one module allowed `unsafe` (src/lib.rs denies it everywhere else).
#[allow(unsafe_code)]
pub(crate) mod sys;

#[cfg(test)]
mod fake;
