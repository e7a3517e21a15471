//! keepalived `notify_backup` / `notify_fault` / `notify_stop`: fence. See `--help`.
fn main() -> std::process::ExitCode {
    keepalived_mysql::app::notify_backup::main()
}
