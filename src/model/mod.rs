//! Plain data and pure parsing: imports neither `mysql` nor `std::fs`.

pub mod event;
