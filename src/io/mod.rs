//! Everything that talks to the world: files, the kernel, keepalived.

#[allow(unsafe_code)]
pub mod sys;
