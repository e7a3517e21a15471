//! One small module per binary: parse the arguments, run, print and log, and map the
//! outcome to the exit code in one place.

pub mod notify_down;
