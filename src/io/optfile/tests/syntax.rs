//! The syntax of one file: lines, groups, options, quotes, escapes, errors.

use super::*;
use crate::io::optfile::parse::{fgets_lines, parse_line};

#[test]
fn basic_options() {
    assert_eq!(
        ok("[client]\nuser=foo\npassword=bar\nskip-ssl\n"),
        "--user=foo\n--password=bar\n--skip-ssl\n"
    );
    assert_eq!(ok("[client]\n  user =  foo bar  \t\n"), "--user=foo bar\n");
    assert_eq!(ok("[client]\npassword=\n"), "--password=\n");
    assert_eq!(ok("[client]\nuser=a"), "--user=a\n");
    assert_eq!(ok("[client]\r\nuser=a\r\nb = c \r\n"), "--user=a\n--b=c\n");
}

#[test]
fn groups() {
    let text = "[client]\na=1\n[other]\nb=2\n[CHECK-MySQL]\nc=3\n[check_mysql]\nd=4\n\
                [ client]\ne=5\n[client  ]\nf=6\n[client] trailing\ng=7\n";
    assert_eq!(ok(text), "--a=1\n--c=3\n--f=6\n--g=7\n");
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "g.cnf", text.as_bytes(), 0o600);
    let e = read(&p, GROUPS).unwrap();
    assert_eq!(e[1].group, "check-mysql");
    assert_eq!(e[1].source, p);
    assert_eq!(read(&p, &[]).unwrap(), vec![]);
}

#[test]
fn comments_and_quotes() {
    assert_eq!(
        ok("# c\n; c\n[client]\n  # c\na=x#y\nb=\"x#y\" # c\nc='a#b'\nd=a ; b\n"),
        "--a=x\n--b=x#y\n--c=a#b\n--d=a ; b\n"
    );
    assert_eq!(
        ok(
            "[client]\na=\"q\"\nb='q'\nc=\"mis'\nd=\"\ne=\"\"\nf=\"a\"b\"\ng = a \"b # c\"\nh='a' 'b'\n"
        ),
        "--a=q\n--b=q\n--c=\"mis'\n--d=\"\n--e=\n--f=a\"b\n--g=a \"b # c\"\n--h=a' 'b\n"
    );
    assert_eq!(ok("[client]\nit's=a#b\n"), "--it's=a#b\n");
    assert_eq!(ok("[client]\nk=\"a\\\"#b\"\n"), "--k=a\"#b\n");
}

#[test]
fn escapes() {
    assert_eq!(
        ok("[client]\na=1\\n2\\t3\\\\4\\\"5\\'6\\s7\\r8\\b9\\q\n"),
        "--a=1\n2\t3\\4\"5'6 7\r8\u{8}9\\q\n"
    );
    assert_eq!(ok("[client]\nk=ab\\\n"), "--k=ab\\\n");
    assert_eq!(ok("[client]\nk=\"a\\\"\n"), "--k=a\\\n");
    assert_eq!(ok("[client]\nk=a\\#b\n"), "--k=a\\\n");
}

#[test]
fn keys_are_kept_verbatim() {
    assert_eq!(
        ok("[client]\nskip_ssl\nloose-user=a\nfoo_bar-baz=1\nmy key = v\n"),
        "--skip_ssl\n--loose-user=a\n--foo_bar-baz=1\n--my key=v\n"
    );
}

#[test]
fn odd_equals_lines() {
    assert_eq!(ok("[client]\n=value\n"), "--=value\n");
    assert_eq!(ok("[client]\n =v\n"), "--=v\n=v\n");
    assert_eq!(ok("[client]\n\t  =v # c\n"), "--=v =v\n");
}

#[test]
fn syntax_errors() {
    let e = render("user=x\n[client]\n").unwrap_err();
    assert!(matches!(e, OptionFileError::Syntax { line: 1, .. }), "{e}");
    let e = render("[client]\na=1\n[client\n").unwrap_err();
    assert!(matches!(e, OptionFileError::Syntax { line: 3, .. }), "{e}");
    assert!(e.to_string().contains("my.cnf, line 3"), "{e}");
    assert!(render("[client]\n!include\n").is_err());
    assert!(render("[client]\n!includedir   \n").is_err());
    // Without the newline the keyword is not followed by whitespace: ignored.
    assert_eq!(ok("[client]\n!include"), "");
    assert_eq!(ok("[client]\n!bogus x\n!INCLUDE x\na=1\n"), "--a=1\n");
}

#[test]
fn long_lines_split_like_fgets() {
    let v = "a".repeat(4090);
    assert_eq!(
        ok(&format!("[client]\nuser={v}\nhost=h\n")),
        format!("--user={}\n--a\n--host=h\n", &v[..4089])
    );
    let v = "a".repeat(4089);
    assert_eq!(
        ok(&format!("[client]\nuser={v}\nhost=h\n")),
        format!("--user={v}\n--host=h\n")
    );
}

#[test]
fn nul_and_latin1_space() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "n.cnf",
        b"[client]\nuser=a\0b\n\0x=1\nhost=\xa0h\xa0\n",
        0o600,
    );
    let r = render_like_my_print_defaults(&read(&p, GROUPS).unwrap());
    assert_eq!(r, "--user=a\n--host=h\n");
    let p = write(dir.path(), "u.cnf", b"[client]\nuser=\xe9\n", 0o600);
    assert!(matches!(
        read(&p, GROUPS),
        Err(OptionFileError::Syntax { .. })
    ));
    // Not UTF-8 but in a group nobody asked for: fine.
    let p = write(dir.path(), "v.cnf", b"[other]\nuser=\xe9\n", 0o600);
    assert_eq!(read(&p, GROUPS).unwrap(), vec![]);
}

#[test]
fn last_value_normalizes() {
    let e = |key: &str, value: Option<&str>| OptionEntry {
        group: "client".into(),
        key: key.into(),
        value: value.map(Into::into),
        source: PathBuf::from("/x"),
    };
    let entries = vec![
        e("ssl_ca", Some("/a")),
        e("loose-ssl-ca", Some("/b")),
        e("user", Some("u")),
        e("password", Some("p")),
        e("password", None),
        e("Host", Some("h")),
    ];
    assert_eq!(last_value(&entries, "ssl-ca"), Some("/b"));
    assert_eq!(last_value(&entries, "ssl_ca"), Some("/b"));
    assert_eq!(last_value(&entries, "loose_ssl_ca"), Some("/b"));
    assert_eq!(last_value(&entries, "user"), Some("u"));
    assert_eq!(last_value(&entries, "password"), None);
    assert_eq!(last_value(&entries, "host"), None);
    assert_eq!(last_value(&entries, "port"), None);
}

#[test]
fn error_messages_are_one_line() {
    let errs = [
        OptionFileError::Io {
            path: "/etc/x.cnf".into(),
            cause: std::io::Error::from(std::io::ErrorKind::NotFound).into(),
        },
        OptionFileError::Include {
            path: "/etc/x.cnf".into(),
            line: 2,
            target: "/etc/y.cnf".into(),
            cause: PathCause::new(
                Path::new("/etc/y.cnf"),
                std::io::Error::from_raw_os_error(libc::EACCES),
            ),
        },
        OptionFileError::Syntax {
            path: "/etc/x.cnf".into(),
            line: 3,
            message: "m".into(),
        },
        OptionFileError::Unsafe {
            path: "/etc/x.cnf".into(),
            mode: 0o100644,
        },
    ];
    for e in &errs {
        let s = e.to_string();
        assert!(s.contains("/etc/x.cnf") && !s.contains('\n'), "{s}");
    }
    assert_eq!(
        errs[3].to_string(),
        "option file /etc/x.cnf holds a password and is readable by group or others \
         (mode 0644): run chmod 600 /etc/x.cnf"
    );
}

#[test]
fn never_panics_on_odd_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("odd.cnf");
    let mut inputs: Vec<Vec<u8>> = [
        "",
        "\n",
        "[",
        "]",
        "[]",
        "[\n",
        "=",
        "==",
        " =",
        "\t=\n",
        "!",
        "!\n",
        "! ",
        "!include",
        "!include ",
        "!include \n",
        "!includedir \n",
        "!include  x",
        "#",
        ";",
        "\\",
        "\"",
        "'",
        "[client]\n=",
        "[client]\n \"=\"",
        "[client]\n'#'=#",
        "[client]\n\\",
        "[client]\na=\\",
        "[client]\na=\"",
        "[client]\na='\\'",
        "[client]\n\r",
        "[client]\n\r\n=\r\n",
        "[client]\n #=",
        "[client]\n  = \t",
        "[client]\n!include \0",
        "\0",
        "[\0]",
        "[client]\na=\0\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    inputs.push(vec![0xff; 5000]);
    inputs.push(b"[client]\n".iter().chain(&[b'='; 9000]).copied().collect());
    inputs.push(b"[client]\n".iter().chain(&[b' '; 4100]).copied().collect());
    inputs.push(b"[client]\n".iter().chain(&[0xa0; 4100]).copied().collect());
    let mut bytes: Vec<u8> = (0..=255).collect();
    bytes.extend(b"[client]\n=\n!include x\n");
    inputs.push(bytes);
    // Every short combination of the interesting bytes.
    let alphabet = b"[]=#;!\"'\\ \t\r\n\0a";
    for &a in alphabet {
        for &b in alphabet {
            for &c in alphabet {
                inputs.push(vec![b'[', b'c', b']', b'\n', a, b, c]);
                inputs.push(vec![a, b, c]);
            }
        }
    }
    for input in inputs {
        fs::write(&p, &input).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        let _ = read(&p, &["client", "c", ""]);
        for line in fgets_lines(&input) {
            let _ = parse_line(line);
        }
    }
}
