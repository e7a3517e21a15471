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

/// Read the local server's state over an open connection.
pub fn observe(conn: &mut impl Session, target: &str) -> Result<Observation, ObserveError> {
    let fail = |e: mysql::Error| ObserveError::new(target, Stage::Query, &e);
    let Answer {
        dialect,
        sets,
        error,
    } = dialect::ask(conn, &dialect::CHECK).map_err(fail)?;
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

/// The peer's GTID history over an open connection.
fn peer_history(conn: &mut impl Session, address: String) -> PeerObservation {
    match dialect::ask(conn, &dialect::PEER) {
        Ok(Answer {
            dialect,
            sets,
            error: None,
        }) => PeerObservation::Reached {
            gtid: dialect::peer_gtid(dialect, &sets),
            address,
            dialect,
        },
        Ok(Answer { error: Some(e), .. }) | Err(e) => {
            PeerObservation::failed(address, Failure::of(&e))
        }
    }
}
