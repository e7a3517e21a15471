//! keepalived `notify_master`: catch up, then take writes. See `--help`.
fn main() -> std::process::ExitCode {
    keepalived_mysql::app::notify_master::main()
}
