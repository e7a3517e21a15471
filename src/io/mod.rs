//! Everything that talks to the world: files, the kernel, keepalived.

pub mod config;
pub mod confpath;
pub mod optfile;
#[allow(unsafe_code)]
pub mod sys;
