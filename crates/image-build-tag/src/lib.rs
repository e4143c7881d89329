//! image-build-tag: image tags, labels and annotations computed as docker/metadata-action computes them
//! (a drop-in replacement with `build: false`), then build (buildah or docker), push, and a check over
//! the registry API that every tag resolves to the pushed digest and that the labels are in the image.
//!
//! - [`meta`]: the metadata (tag types, flavor, expressions, sanitisation, labels);
//! - [`context`] and [`github`]: the Git context and the repository data;
//! - [`outputs`]: the outputs in metadata-action's shapes;
//! - [`build`], [`registry`] and [`verify`]: build, push and verify.

pub mod build;
pub mod cli;
pub mod context;
pub mod error;
pub mod github;
pub mod meta;
pub mod outputs;
pub mod registry;
pub mod verify;

use std::path::PathBuf;

use jiff::Timestamp;
use ops_core::{Env, ExitStatus, Runner, Secret};

use cli::{Args, MetadataContext};
pub use error::Error;
use meta::lines;

/// Settings read from `DOCKER_METADATA_*` variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvSettings {
    /// `DOCKER_METADATA_PR_HEAD_SHA`.
    pub pr_head_sha: bool,
    /// `DOCKER_METADATA_SHORT_SHA_LENGTH`.
    pub short_sha_length: usize,
    /// `DOCKER_METADATA_ANNOTATIONS_LEVELS`.
    pub annotation_levels: Vec<String>,
    /// `DOCKER_METADATA_SET_OUTPUT_ENV`.
    pub set_output_env: bool,
}

fn env_bool(env: &Env, name: &str, default: bool) -> Result<bool, Error> {
    match env.non_empty(name).map(str::trim) {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
        Some(v) => Err(Error::input(format!(
            "`{name}` must be `true` or `false`, got `{v}`"
        ))),
    }
}

impl EnvSettings {
    /// Reads the variables; a malformed one is bad input.
    pub fn from_env(env: &Env) -> Result<Self, Error> {
        let short_sha_length = match env.non_empty("DOCKER_METADATA_SHORT_SHA_LENGTH").map(str::trim) {
            None => 7,
            Some(v) => v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                Error::input(format!(
                    "`DOCKER_METADATA_SHORT_SHA_LENGTH` must be a whole number of characters (at least 1), got `{v}`"
                ))
            })?,
        };
        Ok(Self {
            pr_head_sha: env_bool(env, "DOCKER_METADATA_PR_HEAD_SHA", false)?,
            short_sha_length,
            annotation_levels: outputs::annotation_levels(env.var("DOCKER_METADATA_ANNOTATIONS_LEVELS"))?,
            set_output_env: env_bool(env, "DOCKER_METADATA_SET_OUTPUT_ENV", true)?,
        })
    }
}

/// The input as the runner set it (not trimmed), for line numbers and separators.
fn raw_input<'a>(env: &'a Env, name: &str) -> Option<&'a str> {
    ops_core::env::input_env_names(name)
        .iter()
        .find_map(|key| env.var(key).filter(|v| !v.is_empty()))
}

/// A separator input: kept as written (metadata-action reads it untrimmed), `\n` by default.
fn separator(env: &Env, name: &str, parsed: Option<&String>) -> String {
    raw_input(env, name)
        .map(str::to_owned)
        .or_else(|| parsed.cloned())
        .unwrap_or_else(|| "\n".to_owned())
}

/// The metadata inputs as lines.
pub fn metadata_inputs(args: &Args, env: &Env) -> meta::Inputs {
    let list = |name: &'static str, values: &[String]| lines::list(name, values, raw_input(env, name));
    meta::Inputs {
        images: list("images", &args.images),
        tags: list("tags", &args.tags),
        flavor: list("flavor", &args.flavor),
        labels: list("labels", &args.labels),
        annotations: list("annotations", &args.annotations),
    }
}

/// Runs the tool.
pub fn run(args: &Args, env: &Env, runner: &Runner) -> Result<ExitStatus, Error> {
    // Everything secret is masked before anything could print it.
    if let Some(token) = &args.github_token {
        runner.mask(token.expose());
    }
    if let Some(password) = &args.password {
        // a registry that echoes the `Authorization` header shows `Basic base64(user:password)`
        match args.username.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(username) => runner.mask_basic(username, password),
            None => runner.mask(password.expose()),
        }
    }
    for secret in &args.secrets {
        // a line without `=` is refused below, but it may still be a secret pasted whole
        match secret.expose().split_once('=') {
            Some((_, value)) => runner.mask(value),
            None => runner.mask(secret.expose()),
        }
    }
    let settings = EnvSettings::from_env(env)?;
    let inputs = metadata_inputs(args, env);

    // metadata-action's `context: workflow|git` shares its name with the build context; with
    // `build: false` the two words keep their metadata-action meaning.
    let mut metadata_context = args.metadata_context;
    let build_context = args.context.clone();
    if !args.build && matches!(args.context.as_str(), "workflow" | "git") {
        metadata_context = if args.context == "git" {
            MetadataContext::Git
        } else {
            MetadataContext::Workflow
        };
        runner.info(&format!(
            "`context: {}` is read as docker/metadata-action's `context` (here `metadata-context`), since `build` is false",
            args.context
        ));
    }
    let git = match metadata_context {
        MetadataContext::Workflow => context::workflow(env, settings.pr_head_sha)?,
        MetadataContext::Git => context::git(env, &env.workspace())?,
    };
    for note in &git.notes {
        runner.warning(note);
    }
    let now =
        Timestamp::try_from(env.now()?).map_err(|e| Error::input(format!("\"now\" is out of range: {e}")))?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::dependency("cannot start the async runtime").with_source(e))?;
    let (repo, commit_date) = runtime.block_on(fetch_github(args, env, runner, &git, &inputs, now))?;

    let ctx = meta::Context {
        event_name: git.event_name.clone(),
        sha: git.sha.clone(),
        git_ref: git.git_ref.clone(),
        payload: git.payload.clone(),
        now,
        commit_date,
    };
    {
        let _group = runner.group("Context");
        runner.info(&format!(
            "event: {}\nref: {}\nsha: {}\ncommit date: {}",
            ctx.event_name,
            ctx.git_ref,
            ctx.sha,
            meta::iso_millis(ctx.commit_date)
        ));
    }
    let meta = meta::compute(
        &inputs,
        &ctx,
        &repo,
        &meta::Settings {
            short_sha_length: settings.short_sha_length,
        },
    )?;
    for warning in &meta.warnings {
        runner.warning(warning);
    }
    let shape = outputs::Shape {
        meta: &meta,
        levels: &settings.annotation_levels,
        sep_tags: &separator(env, "sep-tags", args.sep_tags.as_ref()),
        sep_labels: &separator(env, "sep-labels", args.sep_labels.as_ref()),
        sep_annotations: &separator(env, "sep-annotations", args.sep_annotations.as_ref()),
        bake_target: &args.bake_target,
    };
    print_metadata(runner, &shape);
    // Build inputs are checked before anything is written, so bad input leaves no half-done outputs.
    let annotations = shape.annotations();
    let planned = if args.build {
        let request = build::Request::from_args(args, env, &build_context, &meta, &annotations)?;
        let builder = build::resolve(request.builder)?;
        request.check_for(builder)?;
        Some((request, builder))
    } else {
        None
    };
    let bake_dir = temp_dir(env, "meta")?;
    let metadata_outputs = shape.outputs(&bake_dir)?;
    for (name, value) in &metadata_outputs {
        runner.set_output(name, value)?;
        // outside Actions there is no GITHUB_ENV, and printing every output twice helps nobody
        if settings.set_output_env && env.non_empty("GITHUB_ENV").is_some() {
            runner.export_var(&outputs::env_name(name), value)?;
        }
    }
    let mut summary = summary_markdown(&shape);
    let Some((request, builder)) = planned else {
        runner.append_summary(&summary)?;
        return Ok(ExitStatus::Success);
    };
    let result = build::run(&request, builder, env, runner, &runtime)?;
    runner.set_output("digest", &result.digest)?;
    runner.set_output("image-id", &result.image_id)?;
    runner.set_output("image", &result.image)?;
    summary.push_str(&result.summary);
    runner.append_summary(&summary)?;
    Ok(result.status)
}

/// Repository data and, when an input uses `{{commit_date}}`, the commit date.
async fn fetch_github(
    args: &Args,
    env: &Env,
    runner: &Runner,
    git: &context::GitContext,
    inputs: &meta::Inputs,
    now: Timestamp,
) -> Result<(meta::Repo, Timestamp), Error> {
    let payload_date = git
        .commit_date
        .or_else(|| context::payload_commit_date(&git.payload, &git.sha));
    let wants_commit_date = inputs.uses_commit_date();
    let Some((owner, name)) = git.repository.clone() else {
        runner.warning(
            "`GITHUB_REPOSITORY` is not set: the title, description, URL and license labels stay empty, and `type=edge` needs `branch=`",
        );
        return Ok((meta::Repo::default(), payload_date.unwrap_or(now)));
    };
    let gh = ops_net::GitHub::from_env(env, args.github_token.clone())?;
    let repo_call = github::repo(&gh, &owner, &name);
    let needs_api_date = wants_commit_date && payload_date.is_none() && !git.sha.is_empty();
    let date_call = async {
        if needs_api_date {
            Some(github::commit_date(&gh, &owner, &name, &git.sha).await)
        } else {
            None
        }
    };
    let (repo, date) = tokio::join!(repo_call, date_call);
    let repo = repo.map_err(|e| {
        let hint = match e.status().map(|s| s.as_u16()) {
            Some(401 | 403 | 404) => "the repository data needs read access: pass `github-token` (the default `${{ github.token }}` works)",
            _ => "the repository data comes from GITHUB_API_URL; check that it is reachable",
        };
        Error::dependency(format!("cannot read the repository `{owner}/{name}` from the GitHub API"))
            .with_hint(hint)
            .with_source(e)
    })?;
    let commit_date = match (payload_date, date) {
        (Some(date), _) => date,
        (None, Some(Ok(Some(date)))) => date,
        (None, Some(Ok(None))) => now,
        (None, Some(Err(e))) => {
            runner.debug(&format!("no commit date from the GitHub API, using now: {e}"));
            now
        }
        (None, None) => now,
    };
    Ok((repo, commit_date))
}

fn print_metadata(runner: &Runner, shape: &outputs::Shape<'_>) {
    let meta = shape.meta;
    match &meta.version.main {
        Some(version) => {
            let _group = runner.group("Version");
            runner.info(version);
        }
        None => runner.warning("no image version was generated; check the `tags` input"),
    }
    if meta.tags.is_empty() {
        runner.warning("no tag was generated; check the `tags` input");
    } else {
        let _group = runner.group("Tags");
        runner.info(&meta.tags.join("\n"));
    }
    {
        let _group = runner.group("Labels");
        let labels: Vec<String> = meta.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        runner.info(&labels.join("\n"));
    }
    {
        let _group = runner.group("Annotations");
        runner.info(&shape.annotations().join("\n"));
    }
}

fn summary_markdown(shape: &outputs::Shape<'_>) -> String {
    let meta = shape.meta;
    let mut md = String::from("### Image metadata\n\n");
    md.push_str(&format!(
        "Version: `{}`\n\n",
        meta.version.main.as_deref().unwrap_or("(none)")
    ));
    md.push_str("| tag |\n|---|\n");
    for tag in &meta.tags {
        md.push_str(&format!("| `{tag}` |\n"));
    }
    md.push_str("\n<details><summary>Labels</summary>\n\n| label | value |\n|---|---|\n");
    for (k, v) in &meta.labels {
        md.push_str(&format!("| `{k}` | {} |\n", v.replace('|', "\\|")));
    }
    md.push_str("\n</details>\n\n");
    md
}

/// A fresh directory under `RUNNER_TEMP` (removed by the runner after the job).
pub fn temp_dir(env: &Env, purpose: &str) -> Result<PathBuf, Error> {
    let dir = env.runner_temp().join(format!(
        "image-build-tag-{purpose}-{}",
        ops_core::runner::random_token()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| {
        Error::dependency(format!(
            "cannot create the temporary directory `{}`",
            dir.display()
        ))
        .with_source(e)
    })?;
    Ok(dir)
}

/// Parses `id=value` secret lines; the message never shows a value.
pub fn secret_pairs(secrets: &[Secret]) -> Result<Vec<(String, Secret)>, Error> {
    secrets
        .iter()
        .enumerate()
        .map(|(i, s)| match s.expose().split_once('=') {
            Some((id, value)) if valid_secret_id(id.trim()) => Ok((id.trim().to_owned(), Secret::new(value))),
            _ => Err(Error::input(format!(
                "`secrets` line {}: expected `id=value` with an id of letters, digits, `-`, `_` or `.` (the value is not shown)",
                i + 1
            ))),
        })
        .collect()
}

fn valid_secret_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
