//! Everything that talks to the world.

pub mod dialect;
pub mod mysql;
pub mod observe;

#[cfg(test)]
mod fake;
