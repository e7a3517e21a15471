//! One small file per binary: parse → `run()` → print and log → exit code.

pub(crate) mod notify;
pub mod notify_backup;
pub mod notify_master;
