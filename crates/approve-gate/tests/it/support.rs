//! Shared setup: the Prism-checked GitHub stand-in, one repository and token per test, a fake
//! runner for the binary, and the checks every run must pass (contract, no token anywhere).

use std::process::{Child, Command, Stdio};

use ops_test::github::{self, GithubState};
use ops_test::harness::{FakeRunner, RunOutput};
use ops_test::sim::{Checked, Exchange};

pub(crate) const OWNER: &str = "octo";

/// The binary under test.
pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_approve-gate")
}

/// The shared, Prism-fronted stand-in.
pub(crate) fn gh() -> &'static Checked<GithubState> {
    github::checked()
}

/// One test's world: its own repository and token on the shared stand-in.
pub(crate) struct World {
    pub(crate) repo: String,
    pub(crate) token: String,
}

impl World {
    /// A repository `octo/<name>` where `alice`, `bob` and `carol` may write, and a token
    /// acting as the workflow's `GITHUB_TOKEN`.
    pub(crate) fn new(name: &str) -> Self {
        let repo = format!("ag-{name}");
        let token = format!("ghs_approvegate{}SECRETvalue", name.replace('-', ""));
        gh().sim.with(|s| {
            s.add_repo(OWNER, &repo);
            for who in ["alice", "bob", "carol"] {
                s.set_permission(OWNER, &repo, who, "write");
            }
            s.set_rate_limit(&token, 1_000);
        });
        Self { repo, token }
    }

    /// `GET /repos/octo/<repo>/<rest>` as a route pattern.
    pub(crate) fn route(&self, method: &str, rest: &str) -> String {
        format!("{method} /repos/{OWNER}/{}{rest}", self.repo)
    }

    /// A fake runner for issue mode with virtual time and no retry sleeps.
    pub(crate) fn runner(&self) -> FakeRunner {
        FakeRunner::new()
            .expect("a temp dir")
            .env("GITHUB_API_URL", gh().url())
            .env("GITHUB_REPOSITORY", format!("{OWNER}/{}", self.repo))
            .env("OPS_POLL_DELAY_SCALE", "0")
            .env("OPS_RETRY_DELAY_SCALE", "0")
            .input("github-token", &self.token)
    }

    /// Like [`World::runner`], but talking to the stand-in directly rather than through Prism,
    /// for transport faults (a dropped connection) that Prism would turn into answers of its own.
    /// The stand-in's own contract check still sees every exchange.
    pub(crate) fn direct_runner(&self) -> FakeRunner {
        self.runner().env("GITHUB_API_URL", gh().sim.url())
    }

    /// Runs the binary and checks what every run must hold.
    pub(crate) fn run(&self, fake: &FakeRunner) -> RunOutput {
        let out = fake.run(bin(), &[]).expect("the binary runs");
        self.check(&out);
        out
    }

    /// Starts the binary without waiting (for tests that act while it waits).
    pub(crate) fn spawn(&self, fake: &FakeRunner) -> Child {
        let mut cmd = Command::new(bin());
        cmd.env_clear()
            .envs(fake.to_env().vars().map(|(k, v)| (k.to_owned(), v.to_owned())))
            .current_dir(fake.workspace())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().expect("the binary starts")
    }

    /// Waits for a spawned binary and reads what it left.
    pub(crate) fn collect(&self, fake: &FakeRunner, child: Child) -> RunOutput {
        let output = child.wait_with_output().expect("the binary ends");
        let out = fake
            .collect(output.status.code(), &output.stdout, &output.stderr)
            .expect("runner files");
        self.check(&out);
        out
    }

    /// This test's exchanges.
    pub(crate) fn exchanges(&self) -> Vec<Exchange> {
        let marker = format!("/{OWNER}/{}", self.repo);
        gh().sim
            .exchanges()
            .into_iter()
            .filter(|e| e.path.contains(&marker))
            .collect()
    }

    /// How many requests matched `method /repos/octo/<repo><rest>`.
    pub(crate) fn count(&self, method: &str, rest: &str) -> usize {
        gh().sim.count(&self.route(method, rest))
    }

    /// Comment bodies on issue `n`.
    pub(crate) fn comments(&self, n: u64) -> Vec<String> {
        gh().sim.with(|s| s.comment_bodies(OWNER, &self.repo, n))
    }

    /// The number of the newest issue, if any.
    pub(crate) fn latest_issue(&self) -> Option<u64> {
        gh().sim.with(|s| s.latest_issue(OWNER, &self.repo))
    }

    /// Whether issue `n` is open.
    pub(crate) fn open(&self, n: u64) -> Option<bool> {
        gh().sim.with(|s| s.issue_open(OWNER, &self.repo, n))
    }

    /// Rate-limit budget the token spent.
    pub(crate) fn spent(&self) -> u64 {
        gh().sim.with(|s| s.budget(&self.token)).used
    }

    /// The checks every run must pass: the contract held for this test's exchanges, and the
    /// token is in no artefact (log, outputs, summary, anything sent to or kept by GitHub).
    fn check(&self, out: &RunOutput) {
        let marker = format!("/{OWNER}/{}", self.repo);
        let violations: Vec<String> = gh()
            .sim
            .violations()
            .iter()
            .filter(|v| v.exchange.contains(&marker))
            .map(ToString::to_string)
            .collect();
        assert!(violations.is_empty(), "contract violations: {violations:#?}");
        assert!(
            !out.stderr.contains("stoplight.io/prism") && !out.stderr.contains("sl-violations"),
            "prism objected:\n{}",
            out.stderr
        );
        assert!(
            !out.all_text().contains(&self.token),
            "the token leaked:\n{}",
            out.all_text()
        );
        for e in self.exchanges() {
            let sent = String::from_utf8_lossy(&e.request_body);
            let got = e.response_text();
            assert!(!sent.contains(&self.token), "token sent in a body: {}", e.line());
            assert!(!got.contains(&self.token), "token in a response: {}", e.line());
            for (_, v) in &e.request_headers {
                assert!(
                    !v.to_str().unwrap_or_default().contains(&self.token),
                    "token in a recorded header: {}",
                    e.line()
                );
            }
        }
    }
}

/// The lines of a log that are not workflow commands.
pub(crate) fn lines(out: &RunOutput) -> Vec<String> {
    out.stderr
        .lines()
        .filter(|l| !l.starts_with("::"))
        .map(str::to_owned)
        .collect()
}

/// Sends `SIG<name>` to a child this test started (by its id).
pub(crate) fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("`kill` runs");
    assert!(status.success(), "kill -{name} failed");
}
