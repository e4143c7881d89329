//! migrate-check: gate migration pull requests by how the migration tool really runs them.
//!
//! - [`framework`]: detect the framework, load its migrations in the order it applies them, with each
//!   script's transaction mode;
//! - [`sql`]: split statements the way PostgreSQL does, one at a time, and name what they touch;
//! - [`schema`]: the schema replayed from the migrations, so "created in this change" is known;
//! - [`rules`] and [`lint`]: one rule per file, run statement by statement;
//! - [`history`]: gates against the pull request's base (edited, renamed, deleted, out-of-order
//!   migrations; `atlas.sum`, `ops-migrations.sum`, Drizzle's journal, Prisma's lock file);
//! - [`trace`]: apply the migrations to a throwaway database and watch locks, rewrites and downs;
//! - [`report`]: findings, summary, SARIF, JSON and outputs.

mod ahead;
pub mod cli;
pub mod collect;
pub mod comment;
pub mod error;
pub mod fix;
pub mod framework;
pub mod history;
pub mod ignore;
pub mod lint;
pub mod report;
pub mod rules;
pub mod schema;
pub mod sql;
pub mod trace;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ops_core::{Env, ExitStatus, Level, Runner, Secret};

use crate::collect::Collector;
use crate::error::Error;
use crate::framework::Framework;
use crate::lint::{Engine, Item, Pos, Settings, Sink};

/// Runs migrate-check.
pub fn run(args: &cli::Args, env: &Env, runner: &Runner) -> Result<ExitStatus, Error> {
    // Parsing, linting and freeing a statement's tree recurse as deep as the statement nests: run on
    // a stack sized for the deepest statement `sql::depth` lets through (only touched pages count).
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("migrate-check".to_owned())
            .stack_size(sql::depth::STACK_SIZE)
            .spawn_scoped(scope, || run_here(args, env, runner))
        {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // Without a thread, statements near the limit may not fit; the rest still do.
            Err(_) => run_here(args, env, runner),
        }
    })
}

fn run_here(args: &cli::Args, env: &Env, runner: &Runner) -> Result<ExitStatus, Error> {
    let fail_level = report::parse_fail_level(&args.fail_level)?;
    let mut settings = settings(args)?;
    // With a real database, down migrations are compared on it; the static guess stays out.
    settings.static_down = args.database_url.as_deref().is_none_or(|u| u.trim().is_empty());
    let database = args.database_url.as_deref().map(|url| {
        let secret = Secret::new(url.trim());
        // The URL and its `user:password@` always; the password alone, in every form (decoded, as
        // PostgreSQL echoes it), only when masking it cannot blank a word such as `postgres`.
        runner.mask_url("database-url", &secret);
        secret
    });
    let token = args
        .github_token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            runner.mask(t);
            Secret::new(t)
        });
    let workspace = env.workspace();
    let explicit = match args.framework.trim() {
        "" | "auto" => None,
        value => Some(Framework::parse(value).ok_or_else(|| {
            Error::usage_hint(
                format!("unknown `framework` `{value}`"),
                format!(
                    "use `auto` or one of {}",
                    Framework::ALL
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?),
    };
    let (root, framework, reason) = locate(args.path.as_deref(), explicit, &workspace)?;
    let prefix = display_prefix(&workspace, &root);
    runner.info(&format!(
        "{framework} migrations in `{}` ({reason})",
        if prefix.is_empty() {
            "."
        } else {
            prefix.trim_end_matches('/')
        }
    ));
    let set = framework.load(&root)?;

    let explicit_base = args.base_ref.clone().filter(|r| !r.trim().is_empty());
    // On pull requests the base defaults to `origin/$GITHUB_BASE_REF`, fetched when the checkout is
    // shallow; a `base-ref` the user gave is taken as it is.
    let implicit_branch = env
        .non_empty("GITHUB_BASE_REF")
        .filter(|_| explicit_base.is_none());
    let base_ref = explicit_base.or_else(|| implicit_branch.map(|b| format!("origin/{b}")));
    let base = base_ref
        .as_deref()
        .map(|r| history::load_base(&root, framework, r, implicit_branch))
        .transpose()?;

    let mut collector = Collector::new()?;
    for problem in &set.problems {
        let known_before = base.as_ref().is_some_and(|b| b.set.problems.contains(problem));
        if known_before {
            continue;
        }
        let Some(rule) = rules::find(problem.rule) else {
            continue;
        };
        let Some(level) = settings.level(rule, None) else {
            continue;
        };
        let path = match &problem.path {
            Some(p) if root.is_file() => prefix.clone(),
            Some(p) => format!("{prefix}{p}"),
            None => String::new(),
        };
        let line = problem.line.unwrap_or(1);
        collector.push(Item {
            rule,
            level,
            path: Arc::from(path.as_str()),
            from: Pos { line, column: 1 },
            to: Pos { line, column: 1 },
            message: problem.message.clone(),
            help: None,
            fix: None,
        });
    }
    if args.write_sum {
        let path = history::write_ops_sum(&set)?;
        runner.info(&format!("wrote `{}`", display_prefix(&workspace, &path)));
    } else {
        for item in history::check_sums(&set, &settings, &prefix)? {
            collector.push(item);
        }
    }

    let gates = base
        .as_ref()
        .map(|base| history::gates(&base.set, &set, &settings, &prefix))
        .transpose()?;
    let mut engine = Engine::new(&settings, prefix.clone(), &mut collector);
    let reviewed: Vec<usize> = match (&base, gates) {
        (Some(base), Some(gates)) => {
            for item in gates.items {
                engine.push(item);
            }
            for migration in &base.set.migrations {
                engine.expect_replay(&base.set, migration);
            }
            for &i in &gates.new {
                engine.expect_lint(&set, &set.migrations[i]);
            }
            for migration in &base.set.migrations {
                engine.replay(&base.set, migration)?;
            }
            engine.settle();
            for &i in &gates.new {
                engine.lint(&set, &set.migrations[i])?;
            }
            engine.finish_unit();
            gates.new
        }
        _ => {
            for migration in &set.migrations {
                engine.expect_lint(&set, migration);
            }
            for migration in &set.migrations {
                engine.lint(&set, migration)?;
                engine.finish_unit();
                engine.settle();
            }
            (0..set.migrations.len()).collect()
        }
    };
    let statements = engine.stats.statements;
    drop(engine);

    let trace = match &database {
        Some(url) => {
            let base_set = base.as_ref().map(|b| &b.set);
            let (report, found) = trace::run(
                &trace::Plan {
                    url,
                    set: &set,
                    base: base_set,
                    reviewed: &reviewed,
                    seed_rows: args.seed_rows,
                    settings: &settings,
                    prefix: &prefix,
                },
                runner,
            )?;
            for item in found {
                collector.push(item);
            }
            Some(report)
        }
        None => None,
    };

    let collected = collector.finish()?;
    if args.fix {
        let changed = fix::apply(&workspace, &collected)?;
        runner.info(&format!(
            "applied fixes to {changed} file{}",
            if changed == 1 { "" } else { "s" }
        ));
    }

    let outcome = report::Outcome {
        framework,
        root: prefix.trim_end_matches('/').to_owned(),
        migrations: reviewed.len(),
        statements,
        trace,
        base: base.as_ref().map(|b| {
            format!(
                "{} ({})",
                base_ref.clone().unwrap_or_default(),
                &b.commit[..b.commit.len().min(12)]
            )
        }),
    };
    let resolve = |p: &Option<String>| {
        p.as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| workspace.join(s))
    };
    let comment = |markdown: &str, has_findings: bool| -> Result<(), Error> {
        match (&token, args.comment) {
            (Some(token), true) => {
                comment::publish(env, runner, token, &outcome.root, markdown, has_findings)
            }
            (None, true) => {
                runner.info("pull-request comment: no `github-token`, skipped");
                Ok(())
            }
            _ => Ok(()),
        }
    };
    report::report(
        &outcome,
        &collected,
        fail_level,
        resolve(&args.sarif_output).as_deref(),
        resolve(&args.json_output).as_deref(),
        runner,
        &comment,
    )
}

fn settings(args: &cli::Args) -> Result<Settings, Error> {
    if !(9..=30).contains(&args.pg_version) {
        return Err(Error::usage_hint(
            format!("invalid `pg-version` `{}`", args.pg_version),
            "give the PostgreSQL major version, e.g. `16`",
        ));
    }
    let mut settings = Settings {
        pg_version: args.pg_version,
        ..Settings::default()
    };
    for line in &args.rules {
        let (id, level) = line.split_once('=').ok_or_else(|| {
            Error::usage_hint(
                format!("invalid `rules` line `{line}`: expected `rule-id=level`"),
                "write one `rule-id=off|notice|warning|error` per line",
            )
        })?;
        let rule = rules::find(id.trim()).ok_or_else(|| {
            Error::usage_hint(
                format!("invalid `rules` line `{line}`: no rule `{}`", id.trim()),
                "see docs/tools/migrate-check.md for the rule ids",
            )
        })?;
        let level = match level.trim().to_ascii_lowercase().as_str() {
            "off" | "none" => None,
            other => Some(Level::parse(other).ok_or_else(|| {
                Error::usage_hint(
                    format!("invalid `rules` line `{line}`: unknown level `{}`", level.trim()),
                    "use `off`, `notice`, `warning` or `error`",
                )
            })?),
        };
        settings.levels.insert(rule.id, level);
    }
    Ok(settings)
}

fn locate(
    path: Option<&str>,
    explicit: Option<Framework>,
    workspace: &Path,
) -> Result<(PathBuf, Framework, String), Error> {
    match path.filter(|p| !p.trim().is_empty()) {
        Some(path) => {
            let root = workspace.join(path.trim());
            if !root.exists() {
                return Err(Error::usage_hint(
                    format!(
                        "`path` `{path}` does not exist (looked in `{}`)",
                        workspace.display()
                    ),
                    "give the migrations folder relative to the repository root",
                ));
            }
            if let Some(framework) = explicit {
                return Ok((root, framework, "set by `framework`".to_owned()));
            }
            let detection = framework::detect::detect(&root, workspace)?.ok_or_else(|| {
                Error::usage_hint(
                    format!("no migrations found in `{path}`"),
                    "point `path` at the folder that holds the migration files, or set `framework`",
                )
            })?;
            Ok((
                detection.root,
                detection.framework,
                format!("detected from {}", detection.reason),
            ))
        }
        None => {
            let detection = framework::detect::discover(workspace)?;
            let framework = explicit.unwrap_or(detection.framework);
            Ok((
                detection.root,
                framework,
                format!("detected from {}", detection.reason),
            ))
        }
    }
}

/// The migrations root relative to the workspace, with a trailing `/` (a single file: its path).
fn display_prefix(workspace: &Path, root: &Path) -> String {
    let rel = root
        .strip_prefix(workspace)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| {
            root.canonicalize()
                .ok()
                .zip(workspace.canonicalize().ok())
                .and_then(|(r, w)| r.strip_prefix(w).ok().map(Path::to_path_buf))
                .unwrap_or_else(|| root.to_path_buf())
        });
    let text = slash_path(&rel);
    if root.is_file() || text.is_empty() {
        text
    } else {
        format!("{text}/")
    }
}

/// A path with `/` between its parts; an absolute path keeps its one leading `/` (joining the root
/// component like a name gave `//home/…`).
fn slash_path(path: &Path) -> String {
    let mut text = String::new();
    for component in path.components() {
        match component {
            std::path::Component::Prefix(prefix) => text.push_str(&prefix.as_os_str().to_string_lossy()),
            std::path::Component::RootDir => text.push('/'),
            other => {
                if !text.is_empty() && !text.ends_with('/') {
                    text.push('/');
                }
                text.push_str(&other.as_os_str().to_string_lossy());
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_with_single_slashes() {
        for (path, want) in [
            ("db/migrations", "db/migrations"),
            ("/home/runner/db/migrations", "/home/runner/db/migrations"),
            ("/", "/"),
            ("", ""),
            ("./db", "./db"),
        ] {
            assert_eq!(slash_path(Path::new(path)), want, "{path}");
        }
    }

    /// Pins the doubled slash (`//home/…`) shown for a folder outside the workspace, e.g. an absolute
    /// `path` while `GITHUB_WORKSPACE` is unset.
    #[test]
    fn a_folder_outside_the_workspace_is_shown_by_its_absolute_path() {
        let workspace = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let root = elsewhere.path().join("migrations");
        std::fs::create_dir(&root).unwrap();
        let shown = display_prefix(workspace.path(), &root);
        assert!(shown.starts_with('/') && !shown.starts_with("//"), "{shown}");
        assert_eq!(shown, format!("{}/", root.display()));
    }
}
