//! Everything that talks to the world: files, the kernel, keepalived.

pub mod config;
pub mod confpath;
pub mod keepalived;
pub mod optfile;
pub mod role;
pub mod state;
// The one module allowed `unsafe` (src/lib.rs denies it everywhere else).
#[allow(unsafe_code)]
pub(crate) mod sys;
