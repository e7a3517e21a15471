//! The role a check judges by: `--role`, else the role file, else the VIP on a local
//! interface, else standby (docs/contract.md "Roles").

use std::net::IpAddr;
use std::path::Path;

use crate::cli::RoleArg;
use crate::io::config::ConfigError;
use crate::io::state::{read_role, role_file, unix_now};
use crate::io::sys;
use crate::model::role::{Role, RoleDecision};

/// Is `addr` configured on a local interface?
pub fn address_is_local(addr: IpAddr) -> std::io::Result<bool> {
    Ok(sys::local_addresses()?.contains(&addr))
}

/// Resolve `--role` (docs/contract.md "Roles": role file, else VIP on a local interface, else standby).
/// Errors: [`ConfigError::RoleFile`], [`ConfigError::NoLocalAddresses`] (exit 78).
pub fn resolve(
    arg: RoleArg,
    state_dir: &Path,
    vip: Option<IpAddr>,
) -> Result<RoleDecision, ConfigError> {
    let decided = |role: Role, source: String| Ok(RoleDecision { role, source });
    match arg {
        RoleArg::Writer => return decided(Role::Writer, "--role".into()),
        RoleArg::Standby => return decided(Role::Standby, "--role".into()),
        RoleArg::Auto => {}
    }
    let recorded = read_role(state_dir)?;
    // A role recorded before a reboot says nothing about now (the VIP is gone with the boot).
    let stale = recorded
        .as_ref()
        .is_some_and(|r| r.boot.is_some() && !r.this_boot());
    if let Some(rec) = recorded.filter(|_| !stale) {
        let source = format!("role file {}", role_file(state_dir).display());
        if rec.role == Role::Promoting && rec.until.is_some_and(|u| u < unix_now()) {
            return decided(
                Role::PromotionFailed,
                format!("{source}: promoting past its deadline (notify-master killed or stuck)"),
            );
        }
        return decided(rec.role, source);
    }
    if let Some(vip) = vip {
        return match address_is_local(vip) {
            Ok(true) => decided(Role::Writer, format!("VIP {vip} is local")),
            Ok(false) => decided(Role::Standby, format!("VIP {vip} is not local")),
            Err(cause) => Err(ConfigError::NoLocalAddresses { cause }),
        };
    }
    let why = if stale {
        "default (role file from a previous boot ignored, no --vip)"
    } else {
        "default (no role file, no --vip)"
    };
    decided(Role::Standby, why.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::state::{RoleFileError, boot_id, write_role};
    use crate::model::role::RoleRecord;

    #[test]
    fn role_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_role(dir.path()).unwrap(), None);
        for role in [
            Role::Writer,
            Role::Standby,
            Role::Promoting,
            Role::PromotionFailed,
        ] {
            let rec = RoleRecord {
                role,
                seq: 7,
                until: None,
                boot: boot_id(),
            };
            write_role(dir.path(), &rec).unwrap();
            assert_eq!(read_role(dir.path()).unwrap(), Some(rec));
            let d = resolve(RoleArg::Auto, dir.path(), None).unwrap();
            assert_eq!(d.role, role);
        }
    }

    #[test]
    fn promoting_past_its_deadline_counts_as_failed() {
        let dir = tempfile::tempdir().unwrap();
        let now = unix_now();
        let rec = |until| RoleRecord {
            role: Role::Promoting,
            seq: 3,
            until: Some(until),
            boot: boot_id(),
        };
        write_role(dir.path(), &rec(now + 60)).unwrap();
        assert_eq!(read_role(dir.path()).unwrap(), Some(rec(now + 60)));
        assert_eq!(
            resolve(RoleArg::Auto, dir.path(), None).unwrap().role,
            Role::Promoting
        );
        write_role(dir.path(), &rec(now - 1)).unwrap();
        let d = resolve(RoleArg::Auto, dir.path(), None).unwrap();
        assert_eq!(d.role, Role::PromotionFailed);
        assert!(d.source.contains("past its deadline"), "{}", d.source);
    }

    #[test]
    fn a_role_from_a_previous_boot_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let old = RoleRecord {
            role: Role::Writer,
            seq: u64::MAX,
            until: None,
            boot: Some("00000000-0000-0000-0000-000000000000".into()),
        };
        write_role(dir.path(), &old).unwrap();
        assert!(!read_role(dir.path()).unwrap().unwrap().this_boot());
        let d = resolve(RoleArg::Auto, dir.path(), None).unwrap();
        assert_eq!(d.role, Role::Standby);
        assert!(d.source.contains("previous boot"), "{}", d.source);
        let now = RoleRecord {
            boot: boot_id(),
            ..old
        };
        assert!(now.this_boot());
        write_role(dir.path(), &now).unwrap();
        assert_eq!(
            resolve(RoleArg::Auto, dir.path(), None).unwrap().role,
            Role::Writer
        );
    }

    #[test]
    fn bad_role_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(role_file(dir.path()), "role=king\n").unwrap();
        assert!(
            read_role(dir.path())
                .unwrap_err()
                .to_string()
                .contains("unknown role")
        );
    }

    /// Anything but a missing role file stops the role from being decided: a check must not
    /// judge a writer by standby rules because the file could not be read. (Permission
    /// denied needs a user other than root: tests/it/config_paths.rs.)
    #[test]
    fn an_unreadable_role_file_is_an_error() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // The state dir missing altogether: no role yet.
        assert_eq!(read_role(&d.join("none")).unwrap(), None);
        std::fs::write(d.join("file"), "").unwrap();
        std::fs::create_dir_all(d.join("dir-role/role")).unwrap();
        symlink(d.join("loop-b"), d.join("loop-a")).unwrap();
        symlink(d.join("loop-a"), d.join("loop-b")).unwrap();
        std::fs::create_dir(d.join("looping-role")).unwrap();
        symlink("role", d.join("looping-role/role")).unwrap();
        std::fs::create_dir(d.join("dangling-role")).unwrap();
        symlink("/nonexistent/role", d.join("dangling-role/role")).unwrap();
        for (state, cause) in [
            ("file", "file is a file"),
            ("dir-role", "is a directory"),
            ("loop-a", "loop-a is a symlink loop"),
            ("looping-role", "role is a symlink loop"),
            ("dangling-role", "which does not exist"),
        ] {
            let state = d.join(state);
            let e = read_role(&state).unwrap_err();
            assert!(matches!(e, RoleFileError::Read { .. }), "{e}");
            let msg = e.to_string();
            let path = role_file(&state);
            assert!(
                msg.starts_with(&format!("cannot read role file {}: ", path.display())),
                "{msg}"
            );
            assert!(msg.contains(cause), "{msg}");
            let err = resolve(RoleArg::Auto, &state, None).unwrap_err();
            assert!(matches!(err, ConfigError::RoleFile(_)), "{err}");
            assert_eq!(err.to_string(), msg);
        }
    }

    #[test]
    fn explicit_role_wins_and_default_is_standby() {
        let dir = tempfile::tempdir().unwrap();
        write_role(
            dir.path(),
            &RoleRecord {
                role: Role::Writer,
                seq: 1,
                until: None,
                boot: boot_id(),
            },
        )
        .unwrap();
        let d = resolve(RoleArg::Standby, dir.path(), None).unwrap();
        assert_eq!(d.role, Role::Standby);
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            resolve(RoleArg::Auto, empty.path(), None).unwrap().role,
            Role::Standby
        );
    }

    #[test]
    fn loopback_is_local_and_documentation_address_is_not() {
        assert!(address_is_local("127.0.0.1".parse().unwrap()).unwrap());
        // 192.0.2.0/24 is reserved for documentation: never configured here. Nothing is sent.
        assert!(!address_is_local("192.0.2.77".parse().unwrap()).unwrap());
        let empty = tempfile::tempdir().unwrap();
        let d = resolve(
            RoleArg::Auto,
            empty.path(),
            Some("127.0.0.1".parse().unwrap()),
        )
        .unwrap();
        assert_eq!(d.role, Role::Writer);
    }
}
