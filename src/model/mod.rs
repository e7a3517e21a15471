//! Plain data and pure parsing: no file, no network, no clock.

pub mod role;
