//! Integration tests against real MariaDB servers (see `harness`).
//!
//! Run with `cargo test --test it`. Needs MariaDB 10.11 (`mariadbd`, `mariadb-install-db`):
//! `apt-get install mariadb-server mariadb-client`.

mod check;
mod harness;
