-- What the split-brain guard of keepalived-mysql needs on each server (issue 11): the table
-- keepalived_mysql.guard, one row per server. notify-master records in it when it unfenced
-- this server (writer_since), notify-backup clears it, and check-mysql reads both servers' rows
-- to decide which one yields when both are writable.
--
-- Run it ONCE as root on EACH node (A, B; and later the witness): it is idempotent, and it
-- writes nothing to the binary log (sql_log_bin=0), so nothing of it replicates or enters the
-- GTID history. Run it before packaging/grants.sql, whose GRANTs on keepalived_mysql.guard
-- need the table to exist on both nodes.
--   mariadb < /usr/share/doc/keepalived-mysql/examples/split-brain.sql
--
-- A missing table is a configuration error (exit 78) that names this file.
SET SESSION sql_log_bin = 0;   -- nothing of this file enters the binlog / GTID history
CREATE DATABASE IF NOT EXISTS keepalived_mysql;
CREATE TABLE IF NOT EXISTS keepalived_mysql.guard (
  id           TINYINT UNSIGNED NOT NULL PRIMARY KEY,   -- always 1: one row per server
  writer_since DATETIME(6) NULL,   -- this server's NOW(6) when notify-master last unfenced it; NULL = fenced
  holder       INT UNSIGNED NOT NULL DEFAULT 0,          -- (witness mode, later) lease holder's server_id
  epoch        BIGINT UNSIGNED NOT NULL DEFAULT 0,       -- (witness mode, later)
  expires      DATETIME(6) NOT NULL DEFAULT '1970-01-01 00:00:01'  -- (witness mode, later)
) ENGINE=InnoDB;
INSERT IGNORE INTO keepalived_mysql.guard (id) VALUES (1);
