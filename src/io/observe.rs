//! The check's IO: the local server's state, gathered in one connection and as few round
//! trips as possible (MariaDB: one after the handshake), and the peer's GTID history. What is
//! asked, and how the dialect is told, is [`super::dialect`]'s; no judgement here: that is
//! [`crate::verdict`].

use crate::deadline::Deadline;
use crate::io::dialect::{self, Answer};
use crate::io::mysql::{ConnectionSpec, Session, server_code};
use crate::model::observation::{
    Dialect, Failure, Observation, ObserveError, PeerObservation, Stage,
};

/// Read the local server's state over an open connection; `guarded` (`--peer`): with its
/// split-brain guard row, in the same round trip.
pub fn observe(
    conn: &mut impl Session,
    target: &str,
    guarded: bool,
) -> Result<Observation, ObserveError> {
    let fail = |e: mysql::Error| ObserveError::new(target, Stage::Query, &e);
    let question = if guarded {
        &dialect::CHECK_GUARDED
    } else {
        &dialect::CHECK
    };
    let Answer {
        dialect,
        sets,
        error,
    } = dialect::ask(conn, question).map_err(fail)?;
    match (dialect, error) {
        (Dialect::MariaDb, None) => Ok(dialect::mariadb_observation(&sets)),
        (Dialect::MySql, None) => Ok(dialect::mysql_observation(&sets, sets.get(1))),
        // MySQL before 8.0.22: the variables came back, `SHOW REPLICA STATUS` did not.
        (Dialect::MySql, Some(e))
            if dialect::predates_replica_status(server_code(&e), sets.len(), 1) =>
        {
            let status = dialect::old_status(conn).map_err(fail)?;
            Ok(dialect::mysql_observation(&sets, status.first()))
        }
        (_, Some(e)) => Err(fail(e)),
    }
}

/// Read the peer's GTID history. Never fails: an unreachable or refusing peer is itself the
/// answer.
pub fn observe_peer(spec: &ConnectionSpec, deadline: &Deadline) -> PeerObservation {
    let address = spec.target();
    match spec.connect(deadline) {
        Ok(mut conn) => peer_history(&mut conn, address),
        Err(e) => PeerObservation::failed(address, e.failure),
    }
}

/// The peer probe over an open connection (notify-master keeps that connection: it holds
/// the claim).
pub(crate) fn peer_history(conn: &mut impl Session, address: String) -> PeerObservation {
    match dialect::ask(conn, &dialect::PEER) {
        Ok(Answer {
            dialect,
            sets,
            error: None,
        }) => {
            let p = dialect::peer_state(dialect, &sets);
            PeerObservation::Reached {
                gtid: p.gtid,
                address,
                dialect,
                read_only: p.read_only,
                server_id: p.server_id,
                writer_since: p.writer_since,
            }
        }
        Ok(Answer { error: Some(e), .. }) | Err(e) => {
            PeerObservation::failed(address, Failure::of(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::dialect::{MARIADB_QUERY, MYSQL_OLD_STATUS, MYSQL_QUERY, PEER};
    use crate::io::fake::{Fake, MYSQL_EXECUTED, Server};
    use crate::model::observation::{IoState, Refusal};

    /// server, queries sent, dialect, read_only, super_read_only, position shown
    type Case<'a> = (Server, &'a [&'a str], Dialect, bool, Option<bool>, &'a str);

    /// What the check sends to each server (one query per round trip after the handshake:
    /// MariaDB needs one), and what it reads.
    #[test]
    fn the_check_asks_each_server_in_as_few_round_trips_as_it_can() {
        let old: &[&str] = &[MARIADB_QUERY, MYSQL_QUERY, MYSQL_OLD_STATUS];
        let new: &[&str] = &[MARIADB_QUERY, MYSQL_QUERY];
        let mysql_pos = MYSQL_EXECUTED.replace('\n', "");
        let table: &[Case] = &[
            (
                Server::MariaDb1011,
                &[MARIADB_QUERY],
                Dialect::MariaDb,
                false,
                None,
                "0-2-41",
            ),
            (
                Server::MySql57,
                old,
                Dialect::MySql,
                true,
                Some(true),
                &mysql_pos,
            ),
            (
                Server::MySql8021,
                old,
                Dialect::MySql,
                true,
                Some(true),
                &mysql_pos,
            ),
            (
                Server::MySql8036,
                new,
                Dialect::MySql,
                true,
                Some(true),
                &mysql_pos,
            ),
            (
                Server::MySql84,
                new,
                Dialect::MySql,
                true,
                Some(true),
                &mysql_pos,
            ),
        ];
        for &(server, sent, dialect, read_only, super_read_only, position) in table {
            let mut conn = Fake::new(server);
            let obs = observe(&mut conn, "db:3306", false).unwrap();
            assert_eq!(conn.sent, sent, "{server:?}");
            assert_eq!(
                (obs.dialect, obs.version.as_str(), obs.read_only),
                (dialect, server.version(), read_only),
                "{server:?}"
            );
            assert_eq!(obs.super_read_only, super_read_only, "{server:?}");
            assert_eq!(obs.gtid.display(), position, "{server:?}");
            assert_eq!(obs.replicas.len(), 1, "{server:?}");
            let r = &obs.replicas[0];
            assert_eq!(
                (
                    r.source().as_str(),
                    &r.io_running,
                    r.sql_running,
                    r.seconds_behind
                ),
                ("10.0.0.2:3306", &IoState::Yes, true, Some(0)),
                "{server:?}"
            );
        }
    }

    /// A server that refuses the check's query answered: a query failure, classified.
    #[test]
    fn a_refused_query_is_classified() {
        let mut conn = Fake::refusing(
            Server::MariaDb1011,
            1227,
            "42000",
            "Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) \
             for this operation",
        );
        let e = observe(&mut conn, "db:3306", false).unwrap_err();
        assert_eq!(conn.sent, [MARIADB_QUERY]);
        assert_eq!((e.target.as_str(), e.stage), ("db:3306", Stage::Query));
        assert_eq!(e.failure.code(), Some(1227));
        assert_eq!(e.failure.refusal(), Some(Refusal::Account));
    }

    #[test]
    fn the_peer_history_in_each_dialect() {
        let mut conn = Fake::new(Server::MariaDb1011);
        let PeerObservation::Reached {
            dialect,
            gtid,
            read_only,
            server_id,
            writer_since,
            ..
        } = peer_history(&mut conn, "p".into())
        else {
            panic!("MariaDB peer not reached");
        };
        assert_eq!(dialect, Dialect::MariaDb);
        // In the same round trip: whether the peer is fenced, who it is, since when writable.
        assert_eq!((read_only, server_id), (Some(false), Some(2)));
        assert_eq!(writer_since.as_deref(), Some(crate::io::fake::WRITER_SINCE));
        assert_eq!(gtid.binlog_state.as_deref(), Some("0-1-10,0-2-41"));
        assert_eq!(conn.sent, [PEER.mariadb]);

        let mut conn = Fake::new(Server::MySql57);
        let PeerObservation::Reached {
            dialect,
            gtid,
            read_only,
            server_id,
            ..
        } = peer_history(&mut conn, "p".into())
        else {
            panic!("MySQL peer not reached");
        };
        assert_eq!(dialect, Dialect::MySql);
        assert_eq!((read_only, server_id), (Some(true), Some(2)));
        assert_eq!(gtid.executed, Some(MYSQL_EXECUTED.replace('\n', "")));
        assert_eq!(conn.sent, [PEER.mariadb, PEER.mysql]);

        let mut conn = Fake::refusing(Server::MySql8036, 1040, "08004", "Too many connections");
        let peer = peer_history(&mut conn, "10.0.0.2:3306".into());
        assert!(peer.answered());
        assert!(matches!(
            peer,
            PeerObservation::Refused {
                code: 1040,
                refusal: Refusal::Saturated,
                ..
            }
        ));
    }
}
