//! One small module per binary: parse the arguments, `run()`, print and log, and map the
//! outcome to the exit code in one place.

pub mod check;
pub(crate) mod notify;
pub mod notify_backup;
pub mod notify_down;
pub mod notify_master;
pub mod watch;
