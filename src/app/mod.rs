//! One module per binary: parse the command line, `run()`, print, and map the outcome to the
//! exit code in one place.

pub mod check;
