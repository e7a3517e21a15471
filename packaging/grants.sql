-- Least privileges of the keepalived-mysql helpers and of replication, MariaDB 10.11.
--
-- Run packaging/split-brain.sql FIRST, as root on EACH node: the GRANTs on keepalived_mysql.guard
-- below fail (error 1146) where that table does not exist yet.
--
-- Run it ONCE, on one node, as an administrator, while replication runs in both directions:
-- these statements are written to the binary log and replicate to the other node. (Run on both
-- nodes, each CREATE USER would replicate to a node that already has that user, and the SQL
-- thread would stop with error 1396.) Replace every CHANGE-ME password, and the 192.0.2.x documentation addresses
-- with the nodes' own. The same passwords go into /etc/keepalived/mysql-helpers.cnf.
--   mariadb < /usr/share/doc/keepalived-mysql/examples/grants.sql
--
-- Applications must get neither READ_ONLY ADMIN nor SUPER: both ignore read_only, the fence
-- that notify-backup puts on the standby.

-- check-mysql: SHOW ALL SLAVES STATUS needs SLAVE MONITOR (MariaDB 10.5.2+; before, REPLICATION
-- CLIENT, which since 10.5 gets error 1227). Reading @@read_only and the @@gtid_* variables needs
-- nothing. CONNECTION ADMIN lets the check in on a server at max_connections (MariaDB keeps one
-- connection beyond the limit for such accounts; on busy servers prefer extra_port).
CREATE USER 'keepalived_check'@'localhost' IDENTIFIED BY 'CHANGE-ME-check';
GRANT SLAVE MONITOR, CONNECTION ADMIN ON *.* TO 'keepalived_check'@'localhost';
-- With --peer, the check logs in on the other node over TCP (to read @@gtid_binlog_state, which
-- needs no privilege): one account per node address. With --peer it also reads the split-brain
-- guard's row (split-brain.sql), locally and on the peer: SELECT on that table only.
CREATE USER 'keepalived_check'@'192.0.2.11' IDENTIFIED BY 'CHANGE-ME-check';
CREATE USER 'keepalived_check'@'192.0.2.12' IDENTIFIED BY 'CHANGE-ME-check';
GRANT SELECT ON keepalived_mysql.guard TO 'keepalived_check'@'localhost';
GRANT SELECT ON keepalived_mysql.guard TO 'keepalived_check'@'192.0.2.11';
GRANT SELECT ON keepalived_mysql.guard TO 'keepalived_check'@'192.0.2.12';
-- MySQL 8.0: GRANT REPLICATION CLIENT, CONNECTION_ADMIN ON *.* TO 'keepalived_check'@'localhost';
--            (SHOW REPLICA STATUS; MySQL has no SLAVE MONITOR)

-- notify-master and notify-backup: SET GLOBAL read_only needs READ_ONLY ADMIN (MariaDB 10.11:
-- SUPER no longer implies it); SHOW ALL SLAVES STATUS needs SLAVE MONITOR; MASTER_GTID_WAIT
-- and GET_LOCK need nothing more; CONNECTION ADMIN: fencing must work on a server at
-- max_connections, and notify-backup's KILL CONNECTION of other accounts' sessions needs it
-- (1095 without it; PROCESS does not do). PROCESS: notify-backup ends the client sessions that
-- could still commit (a write already past the read_only check, an open write transaction), and
-- seeing other accounts' threads in PROCESSLIST and reading INNODB_TRX needs PROCESS (without
-- either grant notify-backup exits 78, unless --keep-sessions). The split-brain guard
-- (split-brain.sql): SELECT and UPDATE on its table; BINLOG ADMIN, because the guard's row is
-- written with SET SESSION sql_log_bin=0 (MariaDB 10.5.2+, error 1227 without it); REPLICATION
-- SLAVE ADMIN, because notify-master --peer restarts an IO thread that receives nothing while
-- the peer is ahead (STOP/START SLAVE 'name' IO_THREAD; error 1227 without it). Verified on
-- MariaDB 10.11.19.
CREATE USER 'keepalived_failover'@'localhost' IDENTIFIED BY 'CHANGE-ME-failover';
GRANT READ_ONLY ADMIN, SLAVE MONITOR, CONNECTION ADMIN, PROCESS, BINLOG ADMIN,
  REPLICATION SLAVE ADMIN ON *.* TO 'keepalived_failover'@'localhost';
GRANT SELECT, UPDATE ON keepalived_mysql.guard TO 'keepalived_failover'@'localhost';
-- With --peer, notify-master logs in on the other node over TCP: it reads the peer's
-- read_only, server_id, gtid_binlog_state and guard row, and takes the claim (GET_LOCK) there.
-- One account per node address, with SELECT on the guard's table only.
CREATE USER 'keepalived_failover'@'192.0.2.11' IDENTIFIED BY 'CHANGE-ME-failover';
CREATE USER 'keepalived_failover'@'192.0.2.12' IDENTIFIED BY 'CHANGE-ME-failover';
GRANT SELECT ON keepalived_mysql.guard TO 'keepalived_failover'@'192.0.2.11';
GRANT SELECT ON keepalived_mysql.guard TO 'keepalived_failover'@'192.0.2.12';
-- MySQL 8.0: GRANT SYSTEM_VARIABLES_ADMIN, REPLICATION CLIENT, CONNECTION_ADMIN, PROCESS, REPLICATION_SLAVE_ADMIN ON *.* TO 'keepalived_failover'@'localhost';
--            (SET GLOBAL read_only and super_read_only need SYSTEM_VARIABLES_ADMIN, which also
--             covers SET SESSION sql_log_bin; WAIT_FOR_EXECUTED_GTID_SET needs nothing more)

-- Witness mode (--witness W; docs/contract.md "Witness mode"). Only then: uncomment. Every
-- helper writes the lease row (keepalived_mysql.guard) on three voters, this node, the peer
-- and the witness, with a conditional UPDATE under SET SESSION sql_log_bin=0, also on fenced
-- (read_only=ON) voters; check-mysql sets read_only=ON itself when it loses the lease. So, on
-- A and B (replicated from here), every check and failover account, local and peer-address,
-- needs SELECT, UPDATE on the table, BINLOG ADMIN (sql_log_bin; error 1227 without it) and
-- READ_ONLY ADMIN (the row on a read-only voter, error 1290 without it; SET GLOBAL read_only).
-- The table grants keep those accounts to this one row. Verified on MariaDB 10.11.19.
--   GRANT BINLOG ADMIN, READ_ONLY ADMIN ON *.* TO 'keepalived_check'@'localhost',
--     'keepalived_check'@'192.0.2.11', 'keepalived_check'@'192.0.2.12';
--   GRANT SELECT, UPDATE ON keepalived_mysql.guard TO 'keepalived_check'@'localhost',
--     'keepalived_check'@'192.0.2.11', 'keepalived_check'@'192.0.2.12';
--   GRANT BINLOG ADMIN, READ_ONLY ADMIN ON *.* TO 'keepalived_failover'@'192.0.2.11',
--     'keepalived_failover'@'192.0.2.12';
--   GRANT SELECT, UPDATE ON keepalived_mysql.guard TO 'keepalived_failover'@'192.0.2.11',
--     'keepalived_failover'@'192.0.2.12';
--
-- The witness W (a third MariaDB 10.5.2+, any small one; not replicating with A or B): run
-- packaging/split-brain.sql there as root, then these, as root on W (replace the addresses
-- with A's and B's as W sees them, and the passwords with those of the nodes' option file):
--   CREATE USER 'keepalived_check'@'192.0.2.11' IDENTIFIED BY 'CHANGE-ME-check';
--   CREATE USER 'keepalived_check'@'192.0.2.12' IDENTIFIED BY 'CHANGE-ME-check';
--   CREATE USER 'keepalived_failover'@'192.0.2.11' IDENTIFIED BY 'CHANGE-ME-failover';
--   CREATE USER 'keepalived_failover'@'192.0.2.12' IDENTIFIED BY 'CHANGE-ME-failover';
--   GRANT BINLOG ADMIN, READ_ONLY ADMIN ON *.* TO 'keepalived_check'@'192.0.2.11',
--     'keepalived_check'@'192.0.2.12', 'keepalived_failover'@'192.0.2.11',
--     'keepalived_failover'@'192.0.2.12';
--   GRANT SELECT, UPDATE ON keepalived_mysql.guard TO 'keepalived_check'@'192.0.2.11',
--     'keepalived_check'@'192.0.2.12', 'keepalived_failover'@'192.0.2.11',
--     'keepalived_failover'@'192.0.2.12';
-- (MySQL cannot be a voter that is also fenced: super_read_only refuses the row's UPDATE
-- from every account; witness mode is MariaDB only.)

-- Replication: each node's IO thread logs in on the other one. REPLICATION SLAVE only (it reads
-- the binary log; it cannot read or change data).
CREATE USER 'repl'@'192.0.2.11' IDENTIFIED BY 'CHANGE-ME-repl';
CREATE USER 'repl'@'192.0.2.12' IDENTIFIED BY 'CHANGE-ME-repl';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'192.0.2.11';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'192.0.2.12';
-- MySQL 8.0: the same (GRANT REPLICATION SLAVE ON *.* ...; 8.0.26+ also calls it REPLICATION
--            REPLICA). Its caching_sha2_password accounts need TLS or GET_MASTER_PUBLIC_KEY=1
--            on the replica.

-- Then, on each node, point replication at the other one (node A shown; on node B use
-- master_host='192.0.2.11'). master_use_gtid=slave_pos: the server finds the position from
-- the GTIDs it has applied, so no binlog file or position is ever copied by hand.
--   CHANGE MASTER TO master_host='192.0.2.12', master_user='repl',
--                    master_password='CHANGE-ME-repl', master_use_gtid=slave_pos,
--                    master_connect_retry=5;
--   START SLAVE;
