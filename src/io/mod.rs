//! Everything that talks to the world: files, the kernel, keepalived.

pub mod config;
pub mod confpath;
#[allow(unsafe_code)]
pub mod sys;
