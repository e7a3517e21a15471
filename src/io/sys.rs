//! Every `unsafe` block of the crate, each behind a small safe wrapper. The rest of the crate
//! is `#![deny(unsafe_code)]` (src/lib.rs): a new system call gets its wrapper here, with a
//! `// SAFETY:` comment on each block that says why it is sound.

use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

/// The effective uid, which the kernel checks permissions against.
pub fn geteuid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// `flock(fd, LOCK_EX | LOCK_NB)`: take an exclusive lock without waiting. The error is the
/// OS error as is: `EWOULDBLOCK` when another open file description holds the lock.
pub fn try_lock_exclusive(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: flock on a valid fd that the borrow keeps open for the call.
    if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `flock(fd, LOCK_UN)`. Closing the fd releases the lock anyway; a failure is ignored.
pub fn unlock(fd: BorrowedFd<'_>) {
    // SAFETY: flock on a valid fd that the borrow keeps open for the call.
    unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_UN) };
}

/// The addresses configured on local interfaces (`getifaddrs`), IPv4 and IPv6.
pub fn local_addresses() -> io::Result<Vec<IpAddr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut found = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list returned by getifaddrs, not freed yet.
        let ifa = unsafe { &*cur };
        if !ifa.ifa_addr.is_null() {
            // SAFETY: ifa_addr points to a sockaddr whose family tells its real type.
            let local = unsafe {
                match (*ifa.ifa_addr).sa_family as i32 {
                    libc::AF_INET => {
                        let sin = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                        Some(IpAddr::from(
                            u32::from_be(sin.sin_addr.s_addr).to_be_bytes(),
                        ))
                    }
                    libc::AF_INET6 => {
                        let sin6 = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                        Some(IpAddr::from(sin6.sin6_addr.s6_addr))
                    }
                    _ => None,
                }
            };
            found.extend(local);
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: `head` came from getifaddrs and is freed once; nothing points into it now.
    unsafe { libc::freeifaddrs(head) };
    Ok(found)
}

/// `pidfd_open(pid, 0)`: a file descriptor that pins process `pid`, so that a signal sent
/// through it never reaches a process that reused the PID.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: a plain syscall; on success the return value is a new fd that we own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just returned by the kernel and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// `pidfd_send_signal(fd, signal, NULL, 0)`. Signal 0 checks permission without signalling.
pub fn pidfd_send_signal(fd: BorrowedFd<'_>, signal: i32) -> io::Result<()> {
    // SAFETY: a plain syscall on a valid fd that the borrow keeps open; no siginfo.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `poll` one fd for `POLLIN`, at most `timeout_ms` (negative: no limit). `Ok(true)`: it is
/// readable (for a pidfd: the process exited); `Ok(false)`: the time ran out; `Err`: poll
/// failed (`EINTR` included: the caller decides whether to poll again).
pub fn poll_readable(fd: BorrowedFd<'_>, timeout_ms: i32) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, and nfds says one.
    match unsafe { libc::poll(&mut p, 1, timeout_ms) } {
        r if r > 0 => Ok(true),
        0 => Ok(false),
        _ => Err(io::Error::last_os_error()),
    }
}

/// The running user's home directory, from the password database (never `$HOME`).
pub fn home_of_current_user() -> Option<PathBuf> {
    // SAFETY: getuid cannot fail; the pointers are handed over by `passwd_home`, valid and
    // sized as getpwuid_r requires.
    passwd_home(|pwd, buf, len, result| unsafe {
        libc::getpwuid_r(libc::getuid(), pwd, buf, len, result)
    })
}

/// The home directory of the user named `user`, from the password database.
pub fn home_of_user(user: &[u8]) -> Option<PathBuf> {
    let name = CString::new(user).ok()?;
    // SAFETY: `name` outlives the call; the other pointers are handed over by `passwd_home`,
    // valid and sized as getpwnam_r requires.
    passwd_home(|pwd, buf, len, result| unsafe {
        libc::getpwnam_r(name.as_ptr(), pwd, buf, len, result)
    })
}

/// Run a `getpw*_r` lookup with a buffer of our own and return the entry's home directory.
fn passwd_home(
    lookup: impl FnOnce(*mut libc::passwd, *mut libc::c_char, usize, *mut *mut libc::passwd) -> i32,
) -> Option<PathBuf> {
    let mut buf = vec![0 as libc::c_char; 16384];
    // SAFETY: an all-zero passwd is a valid value for the out-parameter.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // Every pointer is valid for the duration of the call and `buf.len()` is the buffer's
    // real size; the lookup writes only into `pwd` and `buf`.
    let rc = lookup(&mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
    if rc != 0 || result.is_null() || pwd.pw_dir.is_null() {
        return None;
    }
    // SAFETY: on success pw_dir points to a NUL-terminated string inside `buf`, which is
    // still alive.
    let dir = unsafe { CStr::from_ptr(pwd.pw_dir) };
    Some(PathBuf::from(OsStr::from_bytes(dir.to_bytes())))
}

/// Make the child that `cmd` spawns the leader of a new session (`setsid` between fork and
/// exec): it loses the controlling terminal and outlives the caller's process group.
pub fn setsid_on_spawn(cmd: &mut Command) -> &mut Command {
    // SAFETY: the closure runs between fork and exec and only calls setsid, which is
    // async-signal-safe; it allocates nothing and touches no lock.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn loopback_is_a_local_address() {
        let all = local_addresses().unwrap();
        assert!(all.contains(&"127.0.0.1".parse().unwrap()), "{all:?}");
    }

    #[test]
    fn root_has_a_home_and_nobody_else_is_invented() {
        assert!(home_of_user(b"root").is_some());
        assert_eq!(home_of_user(b"no-such-user-xyz"), None);
        assert_eq!(home_of_user(b"nul\0inside"), None);
    }

    #[test]
    fn a_child_leads_its_own_session() {
        let out = setsid_on_spawn(&mut Command::new("/bin/sh"))
            .args(["-c", "echo $$; cat /proc/$$/stat"])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&out.stdout);
        let (pid, stat) = out.split_once('\n').unwrap();
        // Fields after the command name: state, ppid, pgrp, session.
        let session = stat[stat.rfind(')').unwrap() + 1..]
            .split_whitespace()
            .nth(3);
        assert_eq!(session, Some(pid.trim()), "{out}");
    }

    #[test]
    fn pidfd_of_a_child_sees_it_exit() {
        let mut child = Command::new("/bin/sleep").arg("30").spawn().unwrap();
        let pidfd = pidfd_open(child.id() as i32).unwrap();
        pidfd_send_signal(pidfd.as_fd(), 0).unwrap();
        assert!(!poll_readable(pidfd.as_fd(), 0).unwrap());
        pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL).unwrap();
        assert!(poll_readable(pidfd.as_fd(), 10_000).unwrap());
        child.wait().unwrap();
    }
}
