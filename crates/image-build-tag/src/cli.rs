//! The command line. Every flag is an action input (`--foo-bar` ⇔ `foo-bar` ⇔ `INPUT_FOO_BAR`); the
//! doc comments are the help text. Metadata inputs keep docker/metadata-action's names and syntax, build
//! inputs follow docker/build-push-action.

use clap::{ArgAction, CommandFactory, Parser, ValueEnum};
use ops_core::Secret;

/// The clap command, for the contract tests.
pub fn command() -> clap::Command {
    Args::command()
}

/// A boolean input with a default of `true`: exactly `true|True|TRUE|false|False|FALSE`.
fn boolean(value: &str) -> Result<bool, String> {
    ops_core::env::parse_bool("value", value).map_err(|_| {
        format!("expected one of `true`, `True`, `TRUE`, `false`, `False`, `FALSE`, got `{value}`")
    })
}

/// Which program builds the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuilderKind {
    /// `docker` when its engine answers, else `buildah`.
    Auto,
    /// Docker: `docker buildx build` when buildx is installed, else `docker build` with BuildKit.
    Docker,
    /// buildah (daemonless).
    Buildah,
}

/// Where the Git reference and commit come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetadataContext {
    /// The workflow run: `GITHUB_REF`, `GITHUB_SHA` and the event payload.
    Workflow,
    /// The checkout in the workspace: `git` tells the ref, the commit and its date.
    Git,
}

/// Computes image tags, labels and annotations (docker/metadata-action compatible), then builds the
/// image, pushes it and verifies the registry holds what was asked.
#[derive(Debug, Parser)]
#[command(name = "image-build-tag", version, about, long_about = None)]
pub struct Args {
    /// Image names to tag, one per line (`name/app`, or `name=name/app,enable=true`).
    #[arg(long = "images", env = "INPUT_IMAGES", value_name = "LINE")]
    pub images: Vec<String>,

    /// Tag rules, one per line, as in docker/metadata-action (`type=semver,pattern={{version}}`).
    #[arg(long = "tags", env = "INPUT_TAGS", value_name = "LINE")]
    pub tags: Vec<String>,

    /// Flavor lines: `latest=auto|true|false`, `prefix=…[,onlatest=true]`, `suffix=…[,onlatest=true]`.
    #[arg(long = "flavor", env = "INPUT_FLAVOR", value_name = "LINE")]
    pub flavor: Vec<String>,

    /// Extra labels, `key=value` per line; they override the generated OCI labels.
    #[arg(long = "labels", env = "INPUT_LABELS", value_name = "LINE")]
    pub labels: Vec<String>,

    /// Extra annotations, `key=value` per line; they override the generated OCI annotations.
    #[arg(long = "annotations", env = "INPUT_ANNOTATIONS", value_name = "LINE")]
    pub annotations: Vec<String>,

    /// Separator of the `tags` and `tag-names` outputs (default: a newline).
    #[arg(long = "sep-tags", env = "INPUT_SEP_TAGS", value_name = "TEXT")]
    pub sep_tags: Option<String>,

    /// Separator of the `labels` output (default: a newline).
    #[arg(long = "sep-labels", env = "INPUT_SEP_LABELS", value_name = "TEXT")]
    pub sep_labels: Option<String>,

    /// Separator of the `annotations` output (default: a newline).
    #[arg(long = "sep-annotations", env = "INPUT_SEP_ANNOTATIONS", value_name = "TEXT")]
    pub sep_annotations: Option<String>,

    /// Target name in the bake files.
    #[arg(
        long = "bake-target",
        env = "INPUT_BAKE_TARGET",
        value_name = "NAME",
        default_value = "docker-metadata-action"
    )]
    pub bake_target: String,

    /// Where the ref and commit come from: `workflow` (the event) or `git` (the checkout).
    #[arg(
        long = "metadata-context",
        env = "INPUT_METADATA_CONTEXT",
        value_enum,
        default_value = "workflow"
    )]
    pub metadata_context: MetadataContext,

    /// Token for the repository data (title, description, license, default branch) and commit dates.
    #[arg(long = "github-token", env = "INPUT_GITHUB_TOKEN", value_name = "TOKEN")]
    pub github_token: Option<Secret>,

    /// Build the image (`false` computes the metadata only, like docker/metadata-action).
    #[arg(long = "build", env = "INPUT_BUILD", value_name = "BOOL", default_value = "true",
          value_parser = boolean, action = ArgAction::Set)]
    pub build: bool,

    /// The builder: `auto`, `docker` or `buildah`.
    #[arg(long = "builder", env = "INPUT_BUILDER", value_enum, default_value = "auto")]
    pub builder: BuilderKind,

    /// Build context directory, relative to the workspace.
    #[arg(
        long = "context",
        env = "INPUT_CONTEXT",
        value_name = "DIR",
        default_value = "."
    )]
    pub context: String,

    /// Dockerfile path (default: `Dockerfile` in the context).
    #[arg(long = "file", env = "INPUT_FILE", value_name = "PATH")]
    pub file: Option<String>,

    /// Build stage to build (`--target`).
    #[arg(long = "target", env = "INPUT_TARGET", value_name = "STAGE")]
    pub target: Option<String>,

    /// Build arguments, `NAME=value` per line.
    #[arg(long = "build-args", env = "INPUT_BUILD_ARGS", value_name = "LINE")]
    pub build_args: Vec<String>,

    /// Build secrets, `id=value` per line; the values are masked and reach the builder through files.
    #[arg(
        long = "secrets",
        env = "INPUT_SECRETS",
        value_name = "LINE",
        hide_env_values = true
    )]
    pub secrets: Vec<Secret>,

    /// Target platforms, comma or newline separated (`linux/amd64,linux/arm64`).
    #[arg(long = "platforms", env = "INPUT_PLATFORMS", value_name = "LIST")]
    pub platforms: Vec<String>,

    /// Push the image to the registry, then verify it there.
    #[arg(long = "push", env = "INPUT_PUSH")]
    pub push: bool,

    /// Load the image into the local Docker engine (docker builder; buildah keeps images locally anyway).
    #[arg(long = "load", env = "INPUT_LOAD")]
    pub load: bool,

    /// Cache sources, one per line (`type=registry,ref=…`, `type=gha`, …).
    #[arg(long = "cache-from", env = "INPUT_CACHE_FROM", value_name = "LINE")]
    pub cache_from: Vec<String>,

    /// Cache destinations, one per line (`type=registry,ref=…,mode=max`, `type=gha`, …).
    #[arg(long = "cache-to", env = "INPUT_CACHE_TO", value_name = "LINE")]
    pub cache_to: Vec<String>,

    /// Provenance attestation (`true`, `false`, `mode=max`…); docker buildx only.
    #[arg(long = "provenance", env = "INPUT_PROVENANCE", value_name = "VALUE")]
    pub provenance: Option<String>,

    /// SBOM attestation (`true`, `false`, `generator=…`); docker buildx only.
    #[arg(long = "sbom", env = "INPUT_SBOM", value_name = "VALUE")]
    pub sbom: Option<String>,

    /// Registry to log in to (`ghcr.io`, `registry.example:5000`; default Docker Hub when a username is set).
    #[arg(long = "registry", env = "INPUT_REGISTRY", value_name = "HOST")]
    pub registry: Option<String>,

    /// Registry user name.
    #[arg(long = "username", env = "INPUT_USERNAME", value_name = "USER")]
    pub username: Option<String>,

    /// Registry password or token (masked).
    #[arg(
        long = "password",
        env = "INPUT_PASSWORD",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub password: Option<Secret>,

    /// After a push, check over the registry API that every tag resolves to the pushed digest and that
    /// the labels are in the image config.
    #[arg(long = "verify", env = "INPUT_VERIFY", value_name = "BOOL", default_value = "true",
          value_parser = boolean, action = ArgAction::Set)]
    pub verify: bool,
}
