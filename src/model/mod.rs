//! Plain data and pure parsing: no IO here (no file, no network, no clock), so this module
//! imports neither `mysql` nor `std::fs`.

pub mod event;
pub mod gtid;
pub mod lease;
pub mod observation;
pub mod role;
