//! Everything that talks to the world: servers, files, syslog, keepalived, the kernel.

pub mod syslog;
