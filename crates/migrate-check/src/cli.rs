//! Command line and action inputs: every flag `--foo-bar` is the input `foo-bar` (`INPUT_FOO_BAR`).

use clap::{CommandFactory, Parser};

/// Gate database migrations: framework-aware static rules, history gates against the pull request's
/// base, and an optional trace on a real PostgreSQL.
#[derive(Debug, Clone, Parser)]
#[command(name = "migrate-check", version, about, long_about = None)]
pub struct Args {
    /// Migrations folder (or a single `.sql` file), relative to the workspace; found automatically when
    /// omitted
    #[arg(long, env = "INPUT_PATH")]
    pub path: Option<String>,

    /// Migration framework: `auto`, `drizzle`, `prisma`, `golang-migrate`, `sqlx`, `flyway`, `goose`,
    /// `dbmate`, `node-pg-migrate`, `diesel`, `atlas` or `sql`
    #[arg(long, env = "INPUT_FRAMEWORK", default_value = "auto")]
    pub framework: String,

    /// Git ref of the pull request's base (e.g. `origin/main`) for the history gates; defaults to
    /// `origin/$GITHUB_BASE_REF` on pull requests; without one every migration is checked
    #[arg(long, env = "INPUT_BASE_REF")]
    pub base_ref: Option<String>,

    /// PostgreSQL URL to trace the migrations on (a throwaway database is created and dropped); the
    /// password is masked
    #[arg(long, env = "INPUT_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Rows to insert into each existing table before tracing, so scans and rewrites show real cost
    #[arg(long, env = "INPUT_SEED_ROWS", default_value_t = 0)]
    pub seed_rows: u64,

    /// Lowest level that fails the check: `error`, `warning`, `notice` or `never`
    #[arg(long, env = "INPUT_FAIL_LEVEL", default_value = "error")]
    pub fail_level: String,

    /// PostgreSQL major version the migrations will run on (decides, e.g., whether a default rewrites)
    #[arg(long, env = "INPUT_PG_VERSION", default_value_t = 16)]
    pub pg_version: u32,

    /// Rule levels, one `rule-id=off|notice|warning|error` per line
    #[arg(long, env = "INPUT_RULES")]
    pub rules: Vec<String>,

    /// Write a SARIF 2.1.0 report to this file
    #[arg(long, env = "INPUT_SARIF_OUTPUT")]
    pub sarif_output: Option<String>,

    /// Write the JSON report (`version: 1`) to this file
    #[arg(long, env = "INPUT_JSON_OUTPUT")]
    pub json_output: Option<String>,

    /// Write (or update) `ops-migrations.sum` in the migrations folder instead of checking it
    #[arg(long, env = "INPUT_WRITE_SUM")]
    pub write_sum: bool,

    /// Apply machine-applicable fixes to the migration files (for local use; review the diff)
    #[arg(long, env = "INPUT_FIX")]
    pub fix: bool,

    /// Keep one comment on the pull request up to date with the findings (needs `github-token` with
    /// `pull-requests: write`)
    #[arg(long, env = "INPUT_COMMENT")]
    pub comment: bool,

    /// Token for the pull-request comment
    #[arg(long, env = "INPUT_GITHUB_TOKEN")]
    pub github_token: Option<String>,
}

/// The clap command (for the contract tests).
pub fn command() -> clap::Command {
    Args::command()
}
