//! Command line and action inputs: every flag `--foo-bar` is the input `foo-bar` (`INPUT_FOO_BAR`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, Parser};

use crate::measure::parse_duration;

/// Post-deploy HTTP checks that decide promote or roll back.
///
/// Waits for the service to be ready, checks the version it serves, runs the checks (a checks file
/// and/or the quick `url` check, plus `.hurl` files when hurl is installed), writes a JUnit report and a
/// step summary, and sets `decision=promote|rollback`. Exit 0 promote, 1 rollback, 2 bad input, 3 the
/// tool broke.
#[derive(Debug, Clone, Parser)]
#[command(name = "smoke-test", version, about, long_about = None)]
pub struct Args {
    /// Checks file: a path relative to the workspace, or the YAML itself on several lines
    #[arg(long, env = "INPUT_CHECKS", value_name = "PATH|YAML")]
    pub checks: Option<String>,

    /// Quick check: a URL (or a path relative to `base-url`) that must answer `expect-status`
    #[arg(long, env = "INPUT_URL")]
    pub url: Option<String>,

    /// Status the quick `url` check expects: `200`, `200,204` or `2xx` [default: 200]
    #[arg(long, env = "INPUT_EXPECT_STATUS")]
    pub expect_status: Option<String>,

    /// Text the quick `url` check's body must contain
    #[arg(long, env = "INPUT_EXPECT_BODY")]
    pub expect_body: Option<String>,

    /// Base URL that relative URLs (checks, `url`, `wait-url`, `version-url`) are appended to
    #[arg(long, env = "INPUT_BASE_URL")]
    pub base_url: Option<String>,

    /// Version (commit SHA, tag or image digest) the service must report, so an old instance cannot pass
    #[arg(long, env = "INPUT_EXPECT_VERSION")]
    pub expect_version: Option<String>,

    /// URL (or path) that reports the running version in its body
    #[arg(long, env = "INPUT_VERSION_URL")]
    pub version_url: Option<String>,

    /// Where the version is in `version-url`'s JSON body: JSONPath (`$.sha`) or JSON Pointer (`/sha`); the whole body when unset
    #[arg(long, env = "INPUT_VERSION_FIELD")]
    pub version_field: Option<String>,

    /// Response header that carries the running version, checked on every check's response
    #[arg(long, env = "INPUT_VERSION_HEADER")]
    pub version_header: Option<String>,

    /// Wait until this URL (or path) answers before testing; retries 502, 503, 504, refused and reset connections, and timeouts
    #[arg(long, env = "INPUT_WAIT_URL")]
    pub wait_url: Option<String>,

    /// Overall deadline of the readiness wait, like `2m` [default: 120s]
    #[arg(long, env = "INPUT_WAIT_TIMEOUT", value_parser = parse_duration)]
    pub wait_timeout: Option<Duration>,

    /// Timeout of one readiness attempt [default: 5s]
    #[arg(long, env = "INPUT_WAIT_ATTEMPT_TIMEOUT", value_parser = parse_duration)]
    pub wait_attempt_timeout: Option<Duration>,

    /// Per-request timeout of checks without their own `timeout` [default: 10s]
    #[arg(long, env = "INPUT_TIMEOUT", value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// Checks in flight at once, at most [default: 4]
    #[arg(long, env = "INPUT_CONCURRENCY")]
    pub concurrency: Option<usize>,

    /// Latency thresholds decide only for checks with at least this many samples [default: 20]
    #[arg(long, env = "INPUT_MIN_SAMPLES")]
    pub min_samples: Option<usize>,

    /// Environment name: the JUnit classname and the summary title [default: smoke]
    #[arg(long, env = "INPUT_ENVIRONMENT")]
    pub environment: Option<String>,

    /// Where to write the JUnit XML report (not written when unset)
    #[arg(long, env = "INPUT_JUNIT_REPORT", value_name = "PATH")]
    pub junit_report: Option<PathBuf>,

    /// PEM file of extra CA certificates to trust (private or self-signed endpoints)
    #[arg(long, env = "INPUT_CA_CERT", value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,

    /// `.hurl` files or globs, one per line, run with `hurl` (which must be installed); `{{base_url}}` is set
    #[arg(long, env = "INPUT_HURL", value_name = "GLOB")]
    pub hurl: Vec<String>,
}

/// The clap command, for the contract test and docs.
pub fn command() -> clap::Command {
    Args::command()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::Env;

    #[test]
    fn inputs_reach_flags() {
        let env = Env::from_pairs([
            ("INPUT_URL", " https://app.example.test/healthz "),
            ("INPUT_EXPECT_STATUS", "2xx"),
            ("INPUT_WAIT_TIMEOUT", "90s"),
            ("INPUT_CONCURRENCY", "8"),
            ("INPUT_HURL", "smoke/*.hurl\n\nextra.hurl\n"),
            ("INPUT_CHECKS", ""),
        ]);
        let args = ops_core::cli::parse::<Args>(["smoke-test"], &env).unwrap();
        assert_eq!(args.url.as_deref(), Some("https://app.example.test/healthz"));
        assert_eq!(args.expect_status.as_deref(), Some("2xx"));
        assert_eq!(args.wait_timeout, Some(Duration::from_secs(90)));
        assert_eq!(args.concurrency, Some(8));
        assert_eq!(args.hurl, vec!["smoke/*.hurl", "extra.hurl"]);
        assert_eq!(args.checks, None);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for (var, value) in [("INPUT_WAIT_TIMEOUT", "soon"), ("INPUT_CONCURRENCY", "-1")] {
            let env = Env::from_pairs([(var, value)]);
            let err = ops_core::cli::parse::<Args>(["smoke-test"], &env).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{var}");
        }
    }

    #[test]
    fn every_flag_reads_an_input() {
        for arg in command().get_arguments() {
            if matches!(arg.get_id().as_str(), "help" | "version") {
                continue;
            }
            let long = arg.get_long().unwrap_or_default();
            let expected = format!("INPUT_{}", long.replace('-', "_").to_uppercase());
            assert_eq!(
                arg.get_env().and_then(|e| e.to_str()),
                Some(expected.as_str()),
                "--{long}"
            );
            assert!(arg.get_help().is_some(), "--{long} has no help");
        }
    }
}
