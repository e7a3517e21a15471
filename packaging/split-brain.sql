-- The split-brain guard's table (README "Split brain", docs/contract.md "Split brain").
--
-- Run it as root (an administrator) on EACH node, and later on the witness: it is idempotent,
-- and nothing of it enters the binary log (sql_log_bin=0), so it neither replicates nor adds
-- to the GTID history. The helpers' grants on it are in grants.sql.
--   mariadb < /usr/share/doc/keepalived-mysql/examples/split-brain.sql
--
-- One row per server. notify-master sets writer_since to the server's own clock in UTC
-- (UTC_TIMESTAMP(6)) when it makes the server writable, notify-backup clears it when it
-- fences the server; check-mysql and notify-master on the other node read it (with --peer):
-- when both nodes are writable, the one that became writer later yields (the nodes' clocks
-- must agree: NTP). The helpers write the row with sql_log_bin=0 too.
-- holder, epoch and expires are reserved for the witness mode's lease.

SET SESSION sql_log_bin = 0;
CREATE DATABASE IF NOT EXISTS keepalived_mysql;
CREATE TABLE IF NOT EXISTS keepalived_mysql.guard (
  id           TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  writer_since DATETIME(6) NULL,
  holder       INT UNSIGNED NOT NULL DEFAULT 0,
  epoch        BIGINT UNSIGNED NOT NULL DEFAULT 0,
  expires      DATETIME(6) NOT NULL DEFAULT '1970-01-01 00:00:01'
) ENGINE=InnoDB;
INSERT IGNORE INTO keepalived_mysql.guard (id) VALUES (1);
