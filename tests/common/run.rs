//! Running this crate's binaries and asserting on what they did: [`Run`] holds one finished
//! run (command line, exit code, output) and what explains a failed expectation.

/// Path of one of this crate's binaries (`check-mysql`, `notify-master`, `notify-backup`,
/// `notify-down`) as built by cargo for this test run.
pub fn bin_path(name: &str) -> &'static str {
    match name {
        "check-mysql" => env!("CARGO_BIN_EXE_check-mysql"),
        "notify-master" => env!("CARGO_BIN_EXE_notify-master"),
        "notify-backup" => env!("CARGO_BIN_EXE_notify-backup"),
        "notify-down" => env!("CARGO_BIN_EXE_notify-down"),
        other => panic!("no binary named {other} in this crate"),
    }
}

/// One of this crate's binaries (see [`bin_path`]), to run with a guard timeout.
pub fn our_bin(name: &str) -> assert_cmd::Command {
    assert_cmd::Command::new(bin_path(name))
}

/// One finished run of one of our binaries: its command line, exit code and output, and what
/// explains a failed expectation (the state of what it acted on, read when it fails).
pub struct Run<'c> {
    pub bin: &'static str,
    pub args: Vec<String>,
    /// `None`: killed by the guard or a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    context: Box<dyn Fn() -> String + 'c>,
}

impl<'c> Run<'c> {
    /// Records a finished run and prints it (captured by the test runner; shown when the test
    /// fails, or with --nocapture).
    pub fn new(
        bin: &'static str,
        args: Vec<String>,
        code: Option<i32>,
        stdout: String,
        stderr: String,
        context: impl Fn() -> String + 'c,
    ) -> Self {
        println!(
            "$ {bin} {}\n  exit {code:?}\n  stdout: {stdout:?}\n  stderr: {stderr:?}",
            args.join(" ")
        );
        Run {
            bin,
            args,
            code,
            stdout,
            stderr,
            context: Box::new(context),
        }
    }

    /// Runs `cmd` (one of our binaries, `bin`, with `args`) to completion.
    pub fn of(
        bin: &'static str,
        cmd: &mut assert_cmd::Command,
        args: Vec<String>,
        context: impl Fn() -> String + 'c,
    ) -> Self {
        let out = cmd
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("run {bin}: {e}"));
        Run::new(
            bin,
            args,
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            context,
        )
    }

    /// Explains failures with `text` (a snapshot) instead.
    pub fn explained_by(mut self, text: String) -> Self {
        self.context = Box::new(move || text.clone());
        self
    }

    /// Panics with `why`, the run's details and its context.
    #[track_caller]
    pub fn fail(&self, why: &str) -> ! {
        panic!(
            "{why}\n{} {}\nexit code: {}\nstdout: {:?}\nstderr: {:?}\n{}",
            self.bin,
            self.args.join(" "),
            self.code
                .map_or("none (killed by the guard or a signal)".into(), |c| c
                    .to_string()),
            self.stdout,
            self.stderr,
            (self.context)()
        )
    }

    /// The single text line (stdout without its trailing newline).
    pub fn line(&self) -> &str {
        self.stdout.trim_end_matches('\n')
    }

    /// Exit code is `code` and stdout is exactly one line that starts with `prefix`
    /// (e.g. `OK writer`, `FAIL standby replication`).
    #[track_caller]
    pub fn expect(&self, code: i32, prefix: &str) -> &Self {
        if self.code != Some(code) {
            self.fail(&format!(
                "expected exit code {code} and a line `{prefix}...`"
            ));
        }
        self.expect_line(prefix)
    }

    /// Exit code is `code` and the first stdout line starts with `prefix` (for `--explain`
    /// and `-v`, which add lines after it).
    #[track_caller]
    pub fn expect_head(&self, code: i32, prefix: &str) -> &Self {
        if self.code != Some(code) || !self.stdout.starts_with(prefix) {
            self.fail(&format!(
                "expected exit code {code} and a first line `{prefix}...`"
            ));
        }
        self
    }

    /// Exit code is `code`, whatever the output.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        if self.code != Some(code) {
            self.fail(&format!("expected exit code {code}"));
        }
        self
    }

    /// Stdout is exactly one line starting with `prefix`.
    #[track_caller]
    pub fn expect_line(&self, prefix: &str) -> &Self {
        if self.line().lines().count() != 1 || !self.line().starts_with(prefix) {
            self.fail(&format!(
                "expected exactly one stdout line starting with `{prefix}`"
            ));
        }
        self
    }

    /// Exit 0 with one line `OK <role>` or `WARN <role>` (where the contract does not say
    /// which).
    #[track_caller]
    pub fn expect_pass(&self, role: &str) -> &Self {
        if self.code != Some(0) {
            self.fail(&format!("expected exit code 0 (OK or WARN {role})"));
        }
        let (ok, warn) = (format!("OK {role}"), format!("WARN {role}"));
        if self.line().lines().count() != 1
            || !(self.line().starts_with(&ok) || self.line().starts_with(&warn))
        {
            self.fail(&format!(
                "expected one line starting with `{ok}` or `{warn}`"
            ));
        }
        self
    }

    /// Stdout mentions every word (case-insensitive).
    #[track_caller]
    pub fn stdout_mentions(&self, words: &[&str]) -> &Self {
        let out = self.stdout.to_lowercase();
        if let Some(w) = words.iter().find(|w| !out.contains(&w.to_lowercase())) {
            self.fail(&format!("stdout does not mention `{w}`"));
        }
        self
    }

    /// Stdout or stderr mentions every word (case-insensitive).
    #[track_caller]
    pub fn output_mentions(&self, words: &[&str]) -> &Self {
        let out = format!("{}\n{}", self.stdout, self.stderr).to_lowercase();
        if let Some(w) = words.iter().find(|w| !out.contains(&w.to_lowercase())) {
            self.fail(&format!("neither stdout nor stderr mentions `{w}`"));
        }
        self
    }

    /// The command line, exit code and output, for messages of assertions made outside `Run`.
    pub fn transcript(&self) -> String {
        format!(
            "$ {} {}\nexit code: {:?}\nstdout:\n{}\nstderr:\n{}",
            self.bin,
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}
