//! Shared test support: the Prism-checked stand-ins, a runner set up like an action step, and the
//! checks every run must pass (no token anywhere, no contract violation).

use std::sync::{Mutex, MutexGuard, PoisonError};

use ops_test::digitalocean::{self, DoState};
use ops_test::harness::{FakeRunner, RunOutput};
use ops_test::sim::{Checked, Sim};
use serde_json::Value;

/// The token every run uses; it must never appear in anything the tool leaves behind.
pub(crate) const TOKEN: &str = "dop_v1_5eed0000deadbeefcafef00d0123456789abcdef0123456789abcdef01";
/// The GitHub token of the runs that record GitHub deployments.
pub(crate) const GH_TOKEN: &str = "ghs_5eedGitHubTokenNeverPrinted0123456789";
/// A digest for image references.
pub(crate) const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The stand-in's deployment scripting (outcomes, polls per phase, faults) is global to it, and
/// the stand-in is shared by every test of this binary: tests that script it take turns.
static TURN: Mutex<()> = Mutex::new(());

/// The Prism-fronted DigitalOcean stand-in, and this test's turn at it.
pub(crate) struct Stand {
    pub(crate) checked: &'static Checked<DoState>,
    _turn: MutexGuard<'static, ()>,
}

impl Stand {
    pub(crate) fn take() -> Self {
        let turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
        let checked = digitalocean::checked();
        checked.sim.with(|s| s.set_polls_per_phase(1));
        Self { checked, _turn: turn }
    }

    pub(crate) fn sim(&self) -> &Sim<DoState> {
        &self.checked.sim
    }

    /// Through Prism (contract checked on the way in and out).
    pub(crate) fn url(&self) -> String {
        self.checked.url().to_owned()
    }

    /// Straight to the stand-in, for transport faults Prism would turn into its own answers; the
    /// stand-in's own contract check still sees every exchange.
    pub(crate) fn direct_url(&self) -> String {
        self.checked.sim.url()
    }

    /// Adds a live app with one service; returns its ID.
    pub(crate) fn app(&self, spec: &Value) -> String {
        self.sim().with(|s| s.add_app(spec.clone()))
    }

    /// The active deployment of an app.
    pub(crate) fn active(&self, app: &str) -> Option<String> {
        self.sim().with(|s| s.active(app))
    }

    /// Exchanges of one route as `count` sees them.
    pub(crate) fn count(&self, route: &str) -> usize {
        self.sim().count(route)
    }
}

impl Drop for Stand {
    fn drop(&mut self) {
        self.checked.sim.with(|s| s.set_polls_per_phase(1));
    }
}

/// A runner for do-deploy against `url`, with retries and polls that never sleep.
pub(crate) fn runner(url: &str) -> FakeRunner {
    FakeRunner::new()
        .expect("fake runner")
        .input("token", TOKEN)
        .input("api-url", url)
        .env("OPS_RETRY_DELAY_SCALE", "0")
}

/// Writes the spec file at the default path.
pub(crate) fn spec_file(runner: &FakeRunner, yaml: &str) {
    let dir = runner.workspace().join(".do");
    std::fs::create_dir_all(&dir).expect("mkdir .do");
    std::fs::write(dir.join("app.yaml"), yaml).expect("write spec");
}

/// Runs the binary.
pub(crate) fn run(runner: &FakeRunner) -> RunOutput {
    runner
        .run(env!("CARGO_BIN_EXE_do-deploy"), &[])
        .expect("run do-deploy")
}

/// Everything a run leaves behind must be free of the tokens, and every exchange must match
/// DigitalOcean's description (Prism's rejections would show up as its problem documents).
pub(crate) fn clean(stand: &Stand, out: &RunOutput) {
    let text = visible(out);
    assert!(!text.contains(TOKEN), "the DigitalOcean token leaked:\n{text}");
    assert!(!text.contains(GH_TOKEN), "the GitHub token leaked:\n{text}");
    assert!(
        !text.contains("stoplight.io/prism") && !text.contains("VIOLATIONS"),
        "Prism objected to an exchange:\n{text}"
    );
    let violations = stand.sim().violations();
    assert!(violations.is_empty(), "contract violations: {violations:#?}");
    for exchange in stand.sim().exchanges() {
        let recorded = format!(
            "{:?} {:?} {}",
            exchange.request_headers,
            exchange.query,
            String::from_utf8_lossy(&exchange.request_body)
        );
        assert!(
            !recorded.contains(TOKEN),
            "the token reached a request body or header"
        );
    }
}

/// Everything a run left, minus the `::add-mask::` commands: the masks themselves go to the runner,
/// which hides them.
pub(crate) fn visible(out: &RunOutput) -> String {
    out.all_text()
        .lines()
        .filter(|l| !l.trim_start().starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The output, or "" when unset.
pub(crate) fn output<'a>(out: &'a RunOutput, name: &str) -> &'a str {
    out.outputs.get(name).map_or("", String::as_str)
}

/// Log and summary, for messages.
pub(crate) fn log(out: &RunOutput) -> String {
    format!(
        "--- stderr\n{}\n--- stdout\n{}\n--- summary\n{}",
        out.stderr, out.stdout, out.summary
    )
}

/// A service app spec as YAML and as JSON (the stand-in stores what it is sent).
pub(crate) fn service_spec(name: &str, tag: &str) -> (String, Value) {
    let yaml = format!(
        "name: {name}\nregion: ams\nservices:\n  - name: api\n    http_port: 8080\n    instance_count: 1\n    image:\n      registry_type: GHCR\n      registry: octo\n      repository: api\n      tag: {tag}\n"
    );
    let json = serde_json::json!({
        "name": name, "region": "ams",
        "services": [{"name": "api", "http_port": 8080, "instance_count": 1,
            "image": {"registry_type": "GHCR", "registry": "octo", "repository": "api", "tag": tag}}]
    });
    (yaml, json)
}
