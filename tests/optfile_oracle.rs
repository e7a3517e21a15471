//! Differential test: `keepalived_mysql::io::optfile` against MariaDB's own `my_print_defaults`.
//!
//! Each case is written to a fresh temporary directory (files 0600, directories 0700; `@D@`
//! in a file's text stands for that directory), which also becomes the current directory so
//! that relative `!include` paths resolve the same way for both readers. Then
//! `my_print_defaults --defaults-file=F client check-mysql` must print exactly
//! `render_like_my_print_defaults(read(F, ["client", "check-mysql"]))`, and where it exits
//! non-zero, `read` must return an error.
//!
//! Everything runs in ONE test function because it changes the current directory.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use keepalived_mysql::io::optfile;

const ORACLE: &str = "my_print_defaults";
const GROUPS: [&str; 2] = ["client", "check-mysql"];

struct Case {
    name: &'static str,
    /// Relative path and contents; the first file is the one passed to both readers
    /// unless `main` says otherwise.
    files: Vec<(&'static str, Vec<u8>)>,
    dirs: Vec<&'static str>,
    main: &'static str,
}

fn case(name: &'static str, main_text: impl Into<Vec<u8>>) -> Case {
    Case {
        name,
        files: vec![("main.cnf", main_text.into())],
        dirs: vec![],
        main: "main.cnf",
    }
}

impl Case {
    fn file(mut self, path: &'static str, text: impl Into<Vec<u8>>) -> Self {
        self.files.push((path, text.into()));
        self
    }
    fn dir(mut self, path: &'static str) -> Self {
        self.dirs.push(path);
        self
    }
    fn main(mut self, path: &'static str) -> Self {
        self.main = path;
        self
    }
}

fn cases() -> Vec<Case> {
    let long = "x".repeat(5000);
    let at_limit = "y".repeat(4089); // "user=" + 4089 = 4094 bytes: exactly one fgets piece
    let over_limit = "z".repeat(4090);
    vec![
        case(
            "basic",
            "[client]\nuser=monitor\npassword=s3cret\nhost=10.0.0.2\nport=3306\n",
        ),
        case(
            "whitespace around keys and values",
            "[client]\n  user =  mon itor  \n\tport\t=\t3306\t\nhost= h \n",
        ),
        case(
            "bare keys, dashes and underscores",
            "[client]\nskip-ssl\nskip_ssl\nssl_ca=/a\nssl-ca=/b\nfoo_bar-baz\n",
        ),
        case(
            "comment lines",
            "# top\n; top\n[client]\n# c\n   # indented\n\t; indented\nuser=a\n#user=b\n",
        ),
        case(
            "inline comments and quotes",
            "[client]\na=x#y\nb=x # y\nc=\"x#y\"\nd='x#y' # z\ne=a ; b\nf = a \"b # c\"\n\
             it's=a#b\ng = \"a # b\"  # real\nh=\"a\\\"#b\"\nk#=v\n",
        ),
        case(
            "quote stripping",
            "[client]\na=\"quoted\"\nb='single'\nc=\"mismatch'\nd=\"\ne=\"\"\nf=\"a\"b\"\n\
             g='\nh=  \"  spaced  \"  \ni='a' 'b'\nj=x\"y\"\n",
        ),
        case(
            "escape sequences",
            "[client]\ne1=a\\nb\ne2=a\\tb\ne3=a\\\\b\ne4=a\\\"b\ne5=a\\'b\ne6=a\\sb\n\
             e7=a\\rb\ne8=a\\bb\ne9=a\\qb\ne10=\"q\\sq\"\ne11=\\\\\\\\\n",
        ),
        case(
            "trailing backslashes",
            "[client]\na=ab\\\nb=\"a\\\"\nc=a\\\\\\\nd='a\\'\ne=a\\#b\n",
        ),
        case(
            "empty values",
            "[client]\npassword=\nuser =   \nhost=  # nothing\nsocket=''\nport=\"\"\n",
        ),
        case(
            "group name matching",
            "[CLIENT]\na=1\n[ client]\nb=2\n[client  ]\nc=3\n[client]junk\nd=4\n\
             [Check-MySQL]\ne=5\n[check_mysql]\nf=6\n[check-mysql ] # c\ng=7\n  [client]\nh=8\n",
        ),
        case(
            "groups interleaved with others",
            "[mysqld]\nport=1\n[client]\nport=2\n[mysql]\nport=3\n[check-mysql]\nport=4\n\
             [client-server]\nport=5\n[client]\nuser=u\n[mariadb-client]\nx=1\n",
        ),
        case("option before any group", "user=x\n[client]\nuser=y\n"),
        case("option before group after comments", "# c\n\n  user=x\n[client]\n"),
        case("unterminated group", "[client]\nuser=a\n[check-mysql\nport=1\n"),
        case("empty group name", "[]\na=1\n[ ]\nb=2\n[client]\nc=3\n"),
        case(
            "missing keys",
            "[client]\n=value\n =v\n\t  =v # c\n  = \n=\n",
        ),
        case(
            "loose prefixes",
            "[client]\nloose-user=a\nloose_ssl\nloose-skip-ssl\n--user=x\n-u=y\n",
        ),
        case(
            "odd keys",
            "[client]\nmy key = my value\n\"quoted key\"=1\n'k'\na=b=c\nkey\twith\ttab=v\n",
        ),
        case(
            "long lines split at 4094 bytes",
            format!("[client]\nuser={long}\nhost=h\n# {long}\nport=1\n"),
        ),
        case(
            "line exactly at the fgets limit",
            format!("[client]\nuser={at_limit}\nhost=h\n"),
        ),
        case(
            "line one byte over the fgets limit",
            format!("[client]\nuser={over_limit}\nhost=h\n"),
        ),
        case(
            "CRLF line endings",
            "[client]\r\nuser=a\r\nb = c \r\nskip-ssl\r\n# c\r\n[check-mysql] \r\nx=\"q\"\r\n",
        ),
        case(
            "lone CR is not a line end",
            "[client]\na=1\rb=2\nc=3\n",
        ),
        case(
            "NUL bytes",
            &b"[client]\nuser=a\0b\nhost=h\n\0port=1\nx\0=1\n[check-mysql]\0junk\ny=2\n"[..],
        ),
        case(
            "Latin-1 whitespace",
            &b"[client]\nuser=\xa0a\xa0\nport\xa0=1\nv=a\x0bb\x0c\n\x0bhost=h\x0b\n[client\xa0]\nw=1\n"[..],
        ),
        case("no final newline", "[client]\nuser=a\nskip-ssl"),
        case("empty file", ""),
        case("only comments", "# nothing\n\n; here\n   \n"),
        case(
            "include absolute",
            "[client]\nbefore=1\n!include @D@/inc.cnf\nafter=1\n",
        )
        .file("inc.cnf", "[client]\nincluded=1\n"),
        case("include relative to cwd", "[client]\n!include sub/inc.cnf\n")
            .dir("sub")
            .file("sub/inc.cnf", "[check-mysql]\nrelative=1\n"),
        case(
            "include keeps the parent's group",
            "[client]\na=1\n!include @D@/other.cnf\nb=2\n[mysqld]\n!include @D@/cl.cnf\nc=3\n",
        )
        .file("other.cnf", "[mysqld]\nhidden=1\n")
        .file("cl.cnf", "[client]\nshown=1\n"),
        case(
            "include before any group",
            "!include @D@/inc.cnf\n[client]\nafter=1\n",
        )
        .file("inc.cnf", "[client]\nincluded=1\n"),
        case(
            "include before any group, then an option",
            "!include @D@/inc.cnf\nafter=1\n",
        )
        .file("inc.cnf", "[client]\nincluded=1\n"),
        case(
            "include missing file",
            "[client]\n!include @D@/missing.cnf\nuser=a\n",
        ),
        case(
            "include at EOF without newline loses its last character",
            "[client]\n!include @D@/inc.cnfx",
        )
        .file("inc.cnf", "[client]\nincluded=1\n"),
        case(
            "include at EOF without newline names a missing file",
            "[client]\n!include @D@/inc.cnf",
        )
        .file("inc.cnf", "[client]\nincluded=1\n"),
        case(
            "include argument keeps comments and inner spaces",
            "[client]\n!include @D@/inc.cnf # comment\n!include   @D@/sp ace.cnf   \r\n",
        )
        .file("inc.cnf", "[client]\nincluded=1\n")
        .file("sp ace.cnf", "[client]\nspace=1\n"),
        case(
            "include with tab and spaces after the bang",
            "[client]\n!include\t@D@/inc.cnf\n  !  include @D@/inc.cnf\n",
        )
        .file("inc.cnf", "[client]\nincluded=1\n"),
        case("include without argument", "[client]\n!include\nuser=a\n"),
        case("include with blank argument", "[client]\n!include   \t \nuser=a\n"),
        case("includedir without argument", "[client]\n!includedir \nuser=a\n"),
        case(
            "bare directive keyword at EOF",
            "[client]\nuser=a\n!includedir",
        ),
        case(
            "unknown directives are ignored",
            "[client]\n!INCLUDE @D@/inc.cnf\n!bogus x\n!includex @D@/inc.cnf\n!\nuser=a\n",
        )
        .file("inc.cnf", "[client]\nincluded=1\n"),
        case(
            "includedir order and extensions",
            "[client]\n!includedir @D@/conf.d\nafter=1\n",
        )
        .dir("conf.d")
        .dir("conf.d/sub.cnf")
        .dir("conf.d/nested")
        .file("conf.d/b.cnf", "[client]\nf=b.cnf\n")
        .file("conf.d/a.cnf", "[client]\nf=a.cnf\n")
        .file("conf.d/B.cnf", "[client]\nf=B.cnf\n")
        .file("conf.d/10.cnf", "[client]\nf=10.cnf\n")
        .file("conf.d/9.cnf", "[client]\nf=9.cnf\n")
        .file("conf.d/_u.cnf", "[client]\nf=_u.cnf\n")
        .file("conf.d/.hidden.cnf", "[client]\nf=.hidden.cnf\n")
        .file("conf.d/.cnf", "[client]\nf=.cnf\n")
        .file("conf.d/a.b.cnf", "[client]\nf=a.b.cnf\n")
        .file("conf.d/x.CNF", "[client]\nf=x.CNF\n")
        .file("conf.d/y.cnf.bak", "[client]\nf=y.cnf.bak\n")
        .file("conf.d/z.ini", "[client]\nf=z.ini\n")
        .file("conf.d/noext", "[client]\nf=noext\n")
        .file("conf.d/nested/n.cnf", "[client]\nf=nested\n"),
        case(
            "includedir relative with trailing slash",
            "[client]\n!includedir conf.d/\n",
        )
        .dir("conf.d")
        .file("conf.d/one.cnf", "[check-mysql]\nf=one\n"),
        case(
            "includedir missing",
            "[client]\nuser=a\n!includedir @D@/nope\n",
        ),
        case(
            "includedir on a file",
            "[client]\n!includedir @D@/inc.cnf\n",
        )
        .file("inc.cnf", "[client]\nincluded=1\n"),
        case(
            "error inside an included file stops only that file",
            "[client]\n!include @D@/bad1.cnf\n!include @D@/bad2.cnf\nafter=1\n",
        )
        .file("bad1.cnf", "opt-before-group=1\n[client]\nx=1\n")
        .file("bad2.cnf", "[client]\ny=1\n[broken\nz=1\n"),
        case(
            "broken include directives inside an included file",
            "[client]\n!include @D@/inc.cnf\nafter=1\n",
        )
        .file(
            "inc.cnf",
            "[client]\na=1\n!includedir @D@/nope\nb=2\n",
        ),
        case(
            "nested includes",
            "[client]\n!include @D@/l1.cnf\nmain=1\n",
        )
        .dir("d2")
        .file("l1.cnf", "[client]\nl1=1\n!includedir @D@/d2\nl1b=1\n")
        .file("d2/l2.cnf", "[check-mysql]\nl2=1\n!include @D@/l3.cnf\n")
        .file("l3.cnf", "[client]\nl3=1\n"),
        case(
            "self include stops at depth 10",
            "[client]\nself=1\n!include @D@/main.cnf\n",
        ),
        case("top-level is a directory", "")
            .dir("dir.cnf")
            .main("dir.cnf"),
        case("top-level is missing", "").main("missing.cnf"),
        case(
            "realistic helper config",
            "# /etc/keepalived/mysql-helpers.cnf\n[client]\nuser = keepalived\n\
             password = \"p#ss w'rd\"\nsocket = /run/mysqld/mysqld.sock\n\n\
             [check-mysql]\nmax-lag = 30\nssl-ca = /etc/mysql/ca.pem\nssl_mode=VERIFY_IDENTITY\n\n\
             [notify-master]\nuser = admin\n",
        ),
    ]
}

fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string().replace("\\n", "\\n\n  ")
}

#[test]
fn optfile_agrees_with_my_print_defaults() {
    // Fail (not skip) without the oracle.
    match Command::new(ORACLE).arg("--version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "`{ORACLE} --version` failed ({}); install it: apt-get install mariadb-client",
            out.status
        ),
        Err(e) => panic!(
            "cannot run `{ORACLE}` ({e}): it is the oracle for this test; \
             install it: apt-get install mariadb-client"
        ),
    }

    let original_cwd = std::env::current_dir().unwrap();
    let all = cases();
    assert!(all.len() >= 25);
    let mut failures = Vec::new();
    for case in &all {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let root_str = root.to_str().expect("temp dir path is UTF-8");
        for d in &case.dirs {
            let p = root.join(d);
            fs::create_dir_all(&p).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o700)).unwrap();
        }
        for (name, text) in &case.files {
            let text = replace(text, b"@D@", root_str.as_bytes());
            let p = root.join(name);
            fs::write(&p, &text).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        }
        if case.main != "main.cnf" {
            let _ = fs::remove_file(root.join("main.cnf"));
        }
        let main = root.join(case.main);

        let out = Command::new(ORACLE)
            .arg(format!("--defaults-file={}", main.display()))
            .args(GROUPS)
            .current_dir(root)
            .env_remove("MYSQL_GROUP_SUFFIX")
            .env_remove("MYSQL_HOME")
            .output()
            .unwrap();

        std::env::set_current_dir(root).unwrap();
        let ours = optfile::read(&main, &GROUPS);
        std::env::set_current_dir(&original_cwd).unwrap();

        match (out.status.success(), ours) {
            (true, Ok(entries)) => {
                let rendered = optfile::render_like_my_print_defaults(&entries);
                if rendered.as_bytes() != out.stdout.as_slice() {
                    failures.push(format!(
                        "{}: output differs\n my_print_defaults:\n  {}\n optfile:\n  {}",
                        case.name,
                        show(&out.stdout),
                        show(rendered.as_bytes())
                    ));
                }
            }
            (true, Err(e)) => failures.push(format!(
                "{}: my_print_defaults succeeded with\n  {}\n but optfile failed: {e}",
                case.name,
                show(&out.stdout)
            )),
            (false, Ok(entries)) => failures.push(format!(
                "{}: my_print_defaults failed ({}: {}) but optfile returned {entries:?}",
                case.name,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            (false, Err(_)) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree with {ORACLE}:\n\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}
