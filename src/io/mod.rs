//! Everything that talks to the world: files, the kernel, keepalived.

pub mod config;
pub mod confpath;
pub mod keepalived;
pub mod optfile;
pub mod role;
pub mod state;
#[allow(unsafe_code)]
pub mod sys;
