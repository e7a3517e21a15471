//! Everything that talks to the world: servers, files, syslog, keepalived, the kernel.

pub mod dialect;
pub mod mysql;
pub mod observe;
pub mod syslog;

#[cfg(test)]
mod fake;
