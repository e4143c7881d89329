//! smoke-test end to end: the binary against real servers on loopback, through a fake runner.
//!
//! Retry sleeps are off (`OPS_RETRY_DELAY_SCALE=0`); the only waits are the small, bounded server-side
//! delays of `/slow`. No test measures wall time.

mod checks;
mod readiness;
mod reports;
mod servers;
mod tls;

use ops_test::harness::{FakeRunner, RunOutput};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_smoke-test");

/// A runner environment that never sleeps between readiness attempts.
pub(crate) fn fake() -> FakeRunner {
    FakeRunner::new()
        .expect("fake runner")
        .env("OPS_RETRY_DELAY_SCALE", "0")
}

/// Writes a file into the workspace.
pub(crate) fn write(fake: &FakeRunner, name: &str, text: &str) {
    let path = fake.workspace().join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

/// Runs the binary.
pub(crate) fn run(fake: &FakeRunner) -> RunOutput {
    fake.run(BIN, &[]).expect("run smoke-test")
}

/// A compact dump for assertion messages.
pub(crate) fn dump(out: &RunOutput) -> String {
    format!(
        "code {:?}\n--- stderr\n{}\n--- stdout\n{}\n--- outputs\n{:#?}\n--- summary\n{}",
        out.code, out.stderr, out.stdout, out.outputs, out.summary
    )
}
