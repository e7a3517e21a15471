//! keepalived's notify arguments, and which keepalived state goes to which helper
//! (keepalived.conf(5), `notify`; docs/contract.md "keepalived states"). Pure.
//!
//! MASTER goes to notify-master; BACKUP, FAULT, STOP and DELETED to notify-backup; notify-down
//! takes any state. Any other state is a usage error (exit 64) and changes nothing.

use crate::cli::{BACKUP_STATES, DOWN_STATES, MASTER_STATES};

/// Name of the helper keepalived runs on MASTER.
pub const MASTER: &str = "notify-master";
/// Name of the helper keepalived runs on BACKUP, FAULT, STOP and DELETED.
pub const BACKUP: &str = "notify-backup";

/// The keepalived states `binary` acts on: MASTER for notify-master; BACKUP, FAULT, STOP and
/// DELETED for notify-backup (DELETED, sent for an instance a reload removes when it has
/// `notify_deleted`, fences like STOP); any state for notify-down, which stops keepalived
/// whatever the state. For any other binary, none. A state not listed is a usage error (64).
pub fn accepted_states(binary: &str) -> &'static [&'static str] {
    match binary {
        MASTER => MASTER_STATES,
        BACKUP => BACKUP_STATES,
        crate::app::notify_down::BINARY => DOWN_STATES,
        _ => &[],
    }
}

/// keepalived's notify arguments: `TYPE NAME STATE [PRIORITY]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepalivedEvent {
    pub kind: String,
    pub name: String,
    pub state: String,
    pub priority: Option<String>,
}

impl KeepalivedEvent {
    /// Parse the arguments when present; refuse a state this binary does not handle.
    pub fn parse(args: &[String], accepted: &[&str]) -> Result<Option<KeepalivedEvent>, String> {
        match args {
            [] => Ok(None),
            [kind, name, state, rest @ ..] => {
                let kind_ok = ["INSTANCE", "GROUP"].contains(&kind.to_ascii_uppercase().as_str());
                if !kind_ok {
                    return Err(format!(
                        "keepalived TYPE must be INSTANCE or GROUP, not '{kind}'"
                    ));
                }
                let upper = state.to_ascii_uppercase();
                if !accepted.contains(&upper.as_str()) {
                    return Err(format!(
                        "keepalived state {state} is not handled here (expects {})",
                        accepted.join("/")
                    ));
                }
                Ok(Some(KeepalivedEvent {
                    kind: kind.clone(),
                    name: name.clone(),
                    state: upper,
                    priority: rest.first().cloned(),
                }))
            }
            _ => Err("keepalived arguments are TYPE NAME STATE [PRIORITY]".into()),
        }
    }

    pub fn describe(event: &Option<KeepalivedEvent>) -> String {
        match event {
            None => "no keepalived arguments".into(),
            Some(e) => format!(
                "keepalived {} {} {}{}",
                e.kind,
                e.name,
                e.state,
                e.priority
                    .as_ref()
                    .map_or(String::new(), |p| format!(" priority {p}"))
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keepalived_arguments() {
        assert_eq!(KeepalivedEvent::parse(&[], &["MASTER"]).unwrap(), None);
        let e = KeepalivedEvent::parse(&args(&["INSTANCE", "VI_1", "MASTER", "100"]), &["MASTER"])
            .unwrap()
            .unwrap();
        assert_eq!(
            (e.state.as_str(), e.priority.as_deref()),
            ("MASTER", Some("100"))
        );
        let e = KeepalivedEvent::parse(&args(&["GROUP", "G", "fault"]), &["BACKUP", "FAULT"])
            .unwrap()
            .unwrap();
        assert_eq!(e.state, "FAULT");
        for bad in [
            vec!["INSTANCE", "VI_1", "BACKUP"],
            vec!["INSTANCE", "VI_1"],
            vec!["HOST", "VI_1", "MASTER"],
        ] {
            assert!(
                KeepalivedEvent::parse(&args(&bad), &["MASTER"]).is_err(),
                "{bad:?}"
            );
        }
    }

    /// The routing rule (README "keepalived states"): MASTER → notify-master; BACKUP, FAULT,
    /// STOP, DELETED → notify-backup; notify-down takes any; every other state is refused
    /// (exit 64). Written out state by state, so that a change to the constants shows here.
    #[test]
    fn every_keepalived_state_for_every_binary() {
        let binaries = [MASTER, BACKUP, crate::app::notify_down::BINARY];
        // state, then accepted by notify-master, notify-backup, notify-down.
        let table: &[(&str, [bool; 3])] = &[
            ("MASTER", [true, false, true]),
            ("BACKUP", [false, true, true]),
            ("FAULT", [false, true, true]),
            ("STOP", [false, true, true]),
            ("DELETED", [false, true, true]),
            // keepalived always sends upper case; lower case is taken as the same state.
            ("deleted", [false, true, true]),
            ("master", [true, false, true]),
            // Not keepalived notify states; notify-down accepted them before.
            ("DOWN", [false, false, true]),
            ("UP", [false, false, true]),
            // What keepalived's notify_script_exec sends for a state it has no name for, and
            // its notify FIFO's event names: never a notify script's state.
            ("{UNKNOWN}", [false, false, false]),
            ("MASTER_RX_LOWER_PRI", [false, false, false]),
            ("MASTER_PRIORITY", [false, false, false]),
            ("", [false, false, false]),
        ];
        // Every state keepalived can send is in the table.
        for state in crate::cli::KEEPALIVED_STATES {
            assert!(
                table.iter().any(|(s, _)| *s == state),
                "{state} not in the table"
            );
        }
        for (state, expected) in table {
            for (binary, accept) in binaries.iter().zip(expected) {
                let parsed = KeepalivedEvent::parse(
                    &args(&["INSTANCE", "VI_1", state, "100"]),
                    accepted_states(binary),
                );
                match (parsed, accept) {
                    (Ok(Some(e)), true) => {
                        assert_eq!(e.state, state.to_ascii_uppercase(), "{binary} {state}")
                    }
                    (Err(msg), false) => {
                        assert!(msg.contains("not handled here"), "{binary} {state}: {msg}")
                    }
                    (other, _) => panic!(
                        "{binary} with state {state:?}: expected {}, got {other:?}",
                        if *accept { "accepted" } else { "a usage error" }
                    ),
                }
            }
        }
        // Without arguments every binary runs (keepalived's notify_* scripts get none).
        for binary in binaries {
            assert_eq!(
                KeepalivedEvent::parse(&[], accepted_states(binary)),
                Ok(None)
            );
        }
        assert!(accepted_states("check-mysql").is_empty());
    }
}
