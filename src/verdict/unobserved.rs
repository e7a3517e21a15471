//! The verdict when the local server could not be observed: what came back decides
//! (docs/contract.md "Who answered").

use crate::model::observation::{Failure, ObserveError, Refusal};
use crate::model::role::Role;

use super::{Finding, Level, Reason, Situation, Verdict};

impl Verdict {
    /// The verdict when the local server could not be observed, by what came back
    /// ([`Failure`]): no answer is `down`; a server at its connection limit is alive, so a
    /// writer keeps the VIP (moving it would only move the load) while a standby, which
    /// cannot be judged, fails; a refused account is the check's configuration (exit 78).
    /// `user` is the check's account, for the fix in the message.
    pub fn unobserved(role: Role, error: &ObserveError, user: Option<&str>) -> Verdict {
        let (level, kind, situation, message) = match &error.failure {
            Failure::NoAnswer { .. } => (
                Level::Fail,
                Some(Reason::Down),
                Situation::Down,
                error.to_string(),
            ),
            Failure::Answered {
                refusal: Refusal::Saturated,
                code,
                ..
            } if role.holds_vip() && role != Role::PromotionFailed => (
                Level::Warn,
                None,
                Situation::Saturated,
                format!(
                    "saturated: {error}: alive and busy, keeping the VIP (failing over would \
                     move the load, not end it); {}",
                    saturation_fix(*code)
                ),
            ),
            Failure::Answered {
                refusal: Refusal::Saturated,
                code,
                ..
            } => (
                Level::Fail,
                Some(Reason::Down),
                Situation::Saturated,
                format!(
                    "saturated: {error}: this node cannot be observed; {}",
                    saturation_fix(*code)
                ),
            ),
            Failure::Answered {
                refusal: Refusal::Account,
                code,
                ..
            } => (
                Level::Fail,
                Some(Reason::Config),
                Situation::CheckAccount,
                format!(
                    "the server refuses the check's account: {error}: {}",
                    account_fix(*code, user)
                ),
            ),
            Failure::Answered {
                refusal: Refusal::Guard,
                ..
            } => (
                Level::Fail,
                Some(Reason::Config),
                Situation::GuardMissing,
                format!("{error}: {}", super::split::GUARD_FIX),
            ),
            Failure::Answered { .. } => (
                Level::Fail,
                Some(Reason::Down),
                Situation::Down,
                error.to_string(),
            ),
        };
        Verdict {
            role,
            findings: vec![Finding {
                level,
                kind,
                situation,
                message,
            }],
            summary: String::new(),
        }
    }
}

/// How to let the check past a connection limit (error `code`): `CONNECTION ADMIN` passes
/// `max_connections` (1040) and the global `max_user_connections` (1203), not an account's
/// own limits (1226: `MAX_USER_CONNECTIONS`, and the per-hour limits).
pub fn saturation_fix(code: u16) -> &'static str {
    match code {
        crate::model::observation::ER_USER_LIMIT_REACHED => {
            "the check's own account hit its limits: ALTER USER ... WITH MAX_USER_CONNECTIONS 0 \
             MAX_CONNECTIONS_PER_HOUR 0 MAX_QUERIES_PER_HOUR 0 (CONNECTION ADMIN does not pass \
             them)"
        }
        _ => {
            "GRANT CONNECTION ADMIN to the check's account (MariaDB lets it past the limit), or \
             give the helpers their own port (extra_port)"
        }
    }
}

/// What to run when the server refuses the check's own account with error `code`
/// (MariaDB/MySQL error reference; privileges from README "Least privileges").
pub fn account_fix(code: u16, user: Option<&str>) -> String {
    use crate::model::observation::*;
    let who = match user {
        Some(u) if !u.is_empty() => format!("'{u}'@'<host>'"),
        _ if code == ER_ACCESS_DENIED => {
            return "no user= in the option file (the check logged in with an empty user \
                    name): set user= and password= in its [client] group"
                .to_string();
        }
        _ => "the check's account".to_string(),
    };
    match code {
        ER_ACCESS_DENIED => format!(
            "check user= and password= in the option file, or create the account: CREATE USER \
             {who} IDENTIFIED BY '...'; GRANT SLAVE MONITOR, CONNECTION ADMIN ON *.* TO {who}"
        ),
        ER_HOST_NOT_PRIVILEGED => {
            format!(
                "no account for this host: CREATE USER {who} ...; GRANT SLAVE MONITOR, CONNECTION ADMIN ON *.* TO {who}"
            )
        }
        ER_HOST_IS_BLOCKED => {
            "this host is blocked after too many connection errors: run FLUSH HOSTS \
             (mariadb-admin flush-hosts), and raise max_connect_errors"
                .to_string()
        }
        ER_DBACCESS_DENIED => {
            format!("remove database= from the option file, or GRANT USAGE on it to {who}")
        }
        ER_SPECIFIC_ACCESS_DENIED => format!(
            "missing privilege: GRANT SLAVE MONITOR ON *.* TO {who} (MariaDB 10.5+; \
             REPLICATION CLIENT is not enough there; MySQL: REPLICATION CLIENT)"
        ),
        ER_MUST_CHANGE_PASSWORD | ER_MUST_CHANGE_PASSWORD_LOGIN => format!(
            "the password expired: ALTER USER {who} IDENTIFIED BY '...' PASSWORD EXPIRE NEVER, \
             and put it in the option file"
        ),
        ER_ACCOUNT_LOCKED_MYSQL | ER_ACCOUNT_LOCKED_MARIADB => {
            format!("the account is locked: ALTER USER {who} ACCOUNT UNLOCK")
        }
        ER_NOT_SUPPORTED_AUTH_MODE => format!(
            "use an authentication plugin the check speaks (mysql_native_password; \
             caching_sha2_password needs TLS): ALTER USER {who} IDENTIFIED WITH ..."
        ),
        ER_ACCESS_DENIED_NO_PASSWORD => format!(
            "{who} logs in by unix_socket (or another plugin without a password) and this OS \
             user is not it: give the check an account with a password (CREATE USER ... \
             IDENTIFIED BY '...') and put it in the option file"
        ),
        CR_SSL_CONNECTION_ERROR => "TLS could not be set up as configured: compare ssl-mode \
             and ssl-ca in the option file with the server's TLS (have_ssl, its certificate)"
            .to_string(),
        CR_AUTH_PLUGIN_CANNOT_LOAD => format!(
            "the account's authentication plugin is not one the check speaks: use \
             mysql_native_password or ed25519 (ALTER USER {who} IDENTIFIED VIA \
             mysql_native_password USING PASSWORD('...'))"
        ),
        _ => format!("fix the grants of {who} (README, least privileges)"),
    }
}
