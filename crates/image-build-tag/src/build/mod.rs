//! Build, push and verify.
//!
//! 1. The builder is chosen (`auto`: docker when its engine answers, else buildah).
//! 2. Credentials: with `username`/`password`, the registry's `/v2/` is asked first, so a wrong password
//!    fails in a second instead of after the build; docker gets `docker login --password-stdin`,
//!    buildah a private auth file. Secrets reach the builder as files, never on a command line.
//! 3. The build; a failing build is the outcome "failed" (exit 1), with the builder's last lines.
//! 4. The push (buildx pushes while building; buildah pushes once per image and adds the other tags
//!    over the registry API, so every tag holds the same manifest). A refused push is exit 3.
//! 5. Verification over the registry API: every tag resolves to the pushed digest, every label is in
//!    the image config. A mismatch is exit 1.

pub mod buildah;
pub mod docker;
pub mod process;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ops_core::{Env, ExitStatus, Runner, Secret};
use ops_net::{HttpClient, RetryPolicy};
use serde_json::Value;

use crate::cli::{Args, BuilderKind};
use crate::error::Error;
use crate::meta::Meta;
use crate::registry::{self, Credentials, Registry, RegistryError};
use crate::verify;
use process::Invocation;

/// A registry login from the inputs.
#[derive(Debug, Clone)]
pub struct Login {
    /// The registry host (`docker.io` when not given).
    pub registry: String,
    /// The user.
    pub username: String,
    /// The password or token.
    pub password: Secret,
}

/// Everything the build needs, validated.
#[derive(Debug, Clone)]
pub struct Request {
    /// The builder asked for.
    pub builder: BuilderKind,
    /// The build context (absolute).
    pub context: PathBuf,
    /// The Dockerfile, when given.
    pub file: Option<PathBuf>,
    /// `--target`.
    pub target: Option<String>,
    /// `NAME=value` lines.
    pub build_args: Vec<String>,
    /// `(id, value)`.
    pub secrets: Vec<(String, Secret)>,
    /// Platforms.
    pub platforms: Vec<String>,
    /// Push.
    pub push: bool,
    /// Load into the Docker engine.
    pub load: bool,
    /// Cache sources.
    pub cache_from: Vec<String>,
    /// Cache destinations.
    pub cache_to: Vec<String>,
    /// `provenance`.
    pub provenance: Option<String>,
    /// `sbom`.
    pub sbom: Option<String>,
    /// The login, when given.
    pub login: Option<Login>,
    /// Verify after the push.
    pub verify: bool,
    /// The enabled images.
    pub images: Vec<String>,
    /// Every `image:tag`.
    pub tags: Vec<String>,
    /// The tag names (without images).
    pub tag_names: Vec<String>,
    /// Labels.
    pub labels: Vec<(String, String)>,
    /// Annotations with their level (`manifest:key=value`).
    pub annotations: Vec<String>,
}

/// Files the builder reads and writes, in a private temporary directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    /// `(id, path)` of each secret.
    pub secrets: Vec<(String, PathBuf)>,
    /// Where the builder writes the image ID.
    pub iidfile: PathBuf,
    /// Where buildx writes its metadata.
    pub metadata_file: PathBuf,
    /// buildah's auth file, when there are credentials.
    pub authfile: Option<PathBuf>,
}

impl Files {
    /// The paths inside `dir` (nothing is written).
    pub fn in_dir(dir: &Path, secret_ids: &[String], authfile: bool) -> Self {
        Self {
            secrets: secret_ids
                .iter()
                .map(|id| (id.clone(), dir.join("secrets").join(id)))
                .collect(),
            iidfile: dir.join("iid"),
            metadata_file: dir.join("metadata.json"),
            authfile: authfile.then(|| dir.join("auth.json")),
        }
    }
}

fn split_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

fn not_false(value: &Option<String>) -> Option<String> {
    value.clone().filter(|v| !v.trim().is_empty())
}

impl Request {
    /// Validates the build inputs; nothing is run yet.
    pub fn from_args(
        args: &Args,
        env: &Env,
        context: &str,
        meta: &Meta,
        annotations: &[String],
    ) -> Result<Self, Error> {
        let workspace = env.workspace();
        let context_path = if context == "." {
            workspace.clone()
        } else {
            workspace.join(context)
        };
        if !context_path.is_dir() {
            let mut error = Error::input(format!("the build context `{context}` is not a directory"));
            if matches!(context, "workflow" | "git") {
                error = error.with_hint(format!(
                    "docker/metadata-action's `context: {context}` is `metadata-context: {context}` here; `context` is the build context"
                ));
            }
            return Err(error);
        }
        let file = match &args.file {
            Some(file) => {
                let path = workspace.join(file);
                if !path.is_file() {
                    return Err(Error::input(format!("the Dockerfile `{file}` does not exist")));
                }
                Some(path)
            }
            None => {
                if !["Dockerfile", "Containerfile"]
                    .iter()
                    .any(|f| context_path.join(f).is_file())
                {
                    return Err(Error::input(format!(
                        "there is no `Dockerfile` (or `Containerfile`) in the build context `{context}`"
                    ))
                    .with_hint("set `file` to the Dockerfile's path"));
                }
                None
            }
        };
        for (i, arg) in args.build_args.iter().enumerate() {
            let name = arg.split_once('=').map_or(arg.as_str(), |(n, _)| n);
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(Error::input(format!(
                    "`build-args` line {} (`{arg}`): expected `NAME=value`",
                    i + 1
                )));
            }
        }
        let login = match (&args.username, &args.password) {
            (Some(username), Some(password)) => Some(Login {
                registry: args.registry.clone().unwrap_or_else(|| "docker.io".to_owned()),
                username: username.clone(),
                password: password.clone(),
            }),
            (None, None) => {
                if args.registry.is_some() {
                    return Err(
                        Error::input("`registry` is set without `username` and `password`").with_hint(
                            "set both, or leave `registry` out to use the Docker config's credentials",
                        ),
                    );
                }
                None
            }
            (Some(_), None) => return Err(Error::input("`username` is set without `password`")),
            (None, Some(_)) => return Err(Error::input("`password` is set without `username`")),
        };
        if args.push {
            if meta.images.is_empty() {
                return Err(Error::input("`push` needs at least one image in `images`"));
            }
            if meta.tags.is_empty() {
                return Err(Error::input(
                    "`push` is true but no tag was generated; check the `tags` input",
                ));
            }
        }
        Ok(Self {
            builder: args.builder,
            context: context_path,
            file,
            target: args.target.clone(),
            build_args: args.build_args.clone(),
            secrets: crate::secret_pairs(&args.secrets)?,
            platforms: split_list(&args.platforms),
            push: args.push,
            load: args.load,
            cache_from: args.cache_from.clone(),
            cache_to: args.cache_to.clone(),
            provenance: not_false(&args.provenance),
            sbom: not_false(&args.sbom),
            login,
            verify: args.verify,
            images: meta.images.clone(),
            tags: meta.tags.clone(),
            tag_names: meta.tag_names.clone(),
            labels: meta.labels.clone(),
            annotations: annotations.to_vec(),
        })
    }

    /// What the chosen builder cannot do; bad input (exit 2).
    pub fn check_for(&self, builder: Builder) -> Result<(), Error> {
        let unsupported = |what: &str, hint: &str| {
            Err(Error::input(format!(
                "{what} is not supported by the {} builder",
                builder.name()
            ))
            .with_hint(hint.to_owned()))
        };
        match builder {
            Builder::Buildah => {
                if self.provenance.as_deref().is_some_and(|p| p != "false") {
                    return unsupported(
                        "`provenance`",
                        "use `builder: docker` with buildx for attestations",
                    );
                }
                if self.sbom.as_deref().is_some_and(|p| p != "false") {
                    return unsupported("`sbom`", "use `builder: docker` with buildx for attestations");
                }
                if self.cache_from.len() > 1 || self.cache_to.len() > 1 {
                    return unsupported(
                        "more than one `cache-from` or `cache-to` line",
                        "give one registry repository each",
                    );
                }
                for line in self.cache_from.iter().chain(&self.cache_to) {
                    if buildah::cache_repository(line).is_none() {
                        return Err(Error::input(format!(
                            "the cache `{line}` is not supported by the buildah builder; expected `type=registry,ref=<repository>`"
                        )));
                    }
                }
            }
            Builder::Docker { buildx: false } => {
                if self.platforms.len() > 1 {
                    return unsupported(
                        "more than one platform",
                        "install buildx (docker/setup-buildx-action)",
                    );
                }
                if !self.cache_to.is_empty() {
                    return unsupported("`cache-to`", "install buildx (docker/setup-buildx-action)");
                }
                if self.provenance.is_some() || self.sbom.is_some() {
                    return unsupported(
                        "`provenance`/`sbom`",
                        "install buildx (docker/setup-buildx-action)",
                    );
                }
            }
            Builder::Docker { buildx: true } => {}
        }
        Ok(())
    }
}

/// The resolved builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builder {
    /// docker, with or without buildx.
    Docker {
        /// `docker buildx` is installed.
        buildx: bool,
    },
    /// buildah.
    Buildah,
}

impl Builder {
    /// Its name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Docker { buildx: true } => "docker (buildx)",
            Self::Docker { buildx: false } => "docker",
            Self::Buildah => "buildah",
        }
    }
}

fn answers(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn docker_engine_answers() -> bool {
    answers("docker", &["version", "--format", "{{.Server.Version}}"])
}

/// Picks the builder.
pub fn resolve(kind: BuilderKind) -> Result<Builder, Error> {
    let docker = || Builder::Docker {
        buildx: answers("docker", &["buildx", "version"]),
    };
    match kind {
        BuilderKind::Buildah => Ok(Builder::Buildah),
        BuilderKind::Docker => {
            if !docker_engine_answers() {
                return Err(
                    Error::dependency("the Docker engine does not answer (`docker version` failed)")
                        .with_hint("start Docker, or use `builder: buildah`"),
                );
            }
            Ok(docker())
        }
        BuilderKind::Auto => {
            if docker_engine_answers() {
                Ok(docker())
            } else if answers("buildah", &["--version"]) {
                Ok(Builder::Buildah)
            } else {
                Err(Error::dependency("neither a Docker engine nor buildah is available")
                    .with_hint("install buildah (`scripts/setup-image-build-tag`, or `apt-get install buildah`) or start Docker"))
            }
        }
    }
}

/// What the build step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// 0, or 1 when the build failed or the registry does not hold what was pushed.
    pub status: ExitStatus,
    /// The pushed (or reported) manifest digest.
    pub digest: String,
    /// The image ID.
    pub image_id: String,
    /// `image@digest` of the first image.
    pub image: String,
    /// Markdown for the step summary.
    pub summary: String,
}

/// Removes the private directory (secret files, auth file) however the run ends.
struct Private(PathBuf);

impl Drop for Private {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::dependency(format!("cannot create `{}`", parent.display())).with_source(e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options
        .open(path)
        .map_err(|e| Error::dependency(format!("cannot write `{}`", path.display())).with_source(e))?;
    file.write_all(contents)
        .map_err(|e| Error::dependency(format!("cannot write `{}`", path.display())).with_source(e))
}

/// buildah's auth file: the Docker config's `auths` (so private base images still pull) plus the login.
fn auth_file(env: &Env, login: &Login) -> Vec<u8> {
    use base64::Engine;
    let mut auths = registry::docker_config_path(env)
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|c| c.get("auths").cloned())
        .and_then(|a| a.as_object().cloned())
        .unwrap_or_default();
    // Review point: the password is written to a 0600 file in a private directory, removed at the end.
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        login.username,
        login.password.expose()
    ));
    auths.insert(login.registry.clone(), serde_json::json!({ "auth": encoded }));
    serde_json::json!({ "auths": auths }).to_string().into_bytes()
}

fn registry_error(error: RegistryError, login: Option<&Login>) -> Error {
    let hint = match &error {
        RegistryError::Unauthorized { .. } if login.is_some() => {
            "check the `username` and `password` inputs (for ghcr.io: `${{ github.actor }}` and `${{ secrets.GITHUB_TOKEN }}` with `packages: write`)"
        }
        RegistryError::Unauthorized { .. } => {
            "set `registry`, `username` and `password`, or log in before this step"
        }
        _ => "check that the registry is reachable and accepts pushes",
    };
    Error::dependency(error.to_string()).with_hint(hint)
}

/// Credentials for a registry: the login when it is for that registry, else the Docker config's, which
/// are masked (with their Basic credential) before the registry can echo them.
fn credentials_for(
    env: &Env,
    runner: &Runner,
    login: Option<&Login>,
    registry_host: &str,
) -> Option<Credentials> {
    match login {
        Some(login) if same_host(&login.registry, registry_host) => Some(Credentials {
            username: login.username.clone(),
            password: login.password.clone(),
        }),
        _ => {
            let found = registry::from_docker_config(env, registry_host)?;
            runner.mask_basic(&found.username, &found.password);
            Some(found)
        }
    }
}

fn same_host(a: &str, b: &str) -> bool {
    a == b || (registry::is_docker_hub(a) && registry::is_docker_hub(b))
}

/// The tag names (every image gets them all).
fn tag_names(req: &Request) -> Vec<&str> {
    req.tag_names.iter().map(String::as_str).collect()
}

/// Builds, pushes and verifies.
pub fn run(
    req: &Request,
    builder: Builder,
    env: &Env,
    runner: &Runner,
    rt: &tokio::runtime::Runtime,
) -> Result<Outcome, Error> {
    runner.info(&format!("builder: {}", builder.name()));
    let work = Private(crate::temp_dir(env, "build")?);
    let secret_ids: Vec<String> = req.secrets.iter().map(|(id, _)| id.clone()).collect();
    let files = Files::in_dir(
        &work.0,
        &secret_ids,
        req.login.is_some() && builder == Builder::Buildah,
    );
    for ((_, value), (_, path)) in req.secrets.iter().zip(&files.secrets) {
        // Review point: a secret's value is written to a 0600 file the builder mounts, and nowhere else.
        write_private(path, value.expose().as_bytes())?;
    }
    let http = HttpClient::builder()
        .retry_policy(RetryPolicy::from_env(env)?)
        .build()?;
    if let Some(login) = &req.login {
        runner.mask_basic(&login.username, &login.password);
        // the login check asks for a token for the first image on that registry, or for none
        let target = req
            .images
            .iter()
            .map(|i| registry::split_image(i))
            .find(|i| same_host(&i.registry, &login.registry))
            .unwrap_or_else(|| {
                let mut any = registry::split_image(&format!("{}/x", login.registry));
                any.repository.clear();
                any
            });
        let check = Registry::new(
            http.clone(),
            target,
            Some(Credentials {
                username: login.username.clone(),
                password: login.password.clone(),
            }),
        );
        rt.block_on(check.ping())
            .map_err(|e| registry_error(e, Some(login)))?;
        runner.info(&format!("logged in to {} as {}", login.registry, login.username));
        match builder {
            Builder::Docker { .. } => {
                let inv = Invocation::new("docker", docker::login(&login.registry, &login.username));
                let done = process::run(runner, &inv, &req.context, Some(login.password.expose()), false)?;
                if !done.success {
                    return Err(Error::dependency(format!(
                        "`docker login {}` failed: {}",
                        login.registry,
                        done.last(5)
                    ))
                    .with_hint("check the `username` and `password` inputs"));
                }
            }
            Builder::Buildah => {
                if let Some(path) = &files.authfile {
                    write_private(path, &auth_file(env, login))?;
                }
            }
        }
    }

    let mut outcome = Outcome {
        status: ExitStatus::Success,
        digest: String::new(),
        image_id: String::new(),
        image: String::new(),
        summary: String::new(),
    };
    let build_inv = match builder {
        Builder::Docker { buildx: true } => Invocation::new("docker", docker::buildx(req, &files)),
        Builder::Docker { buildx: false } => {
            let mut inv = Invocation::new("docker", docker::build(req, &files));
            inv.env.push(("DOCKER_BUILDKIT".to_owned(), "1".to_owned()));
            inv
        }
        Builder::Buildah => Invocation::new("buildah", buildah::build(req, &files)),
    };
    let built = {
        let _group = runner.group("Build");
        process::run(runner, &build_inv, &req.context, None, false)?
    };
    if !built.success {
        let code = built
            .code
            .map_or_else(|| "a signal".to_owned(), |c| format!("exit code {c}"));
        runner.error(&format!(
            "the image build failed ({} ended with {code}):\n{}",
            builder.name(),
            built.last(15)
        ));
        outcome.status = ExitStatus::Failed;
        outcome.summary = format!("### Build\n\n:x: the build failed with {}\n", builder.name());
        return Ok(outcome);
    }
    outcome.image_id = std::fs::read_to_string(&files.iidfile)
        .unwrap_or_default()
        .trim()
        .to_owned();
    let mut pushed: Vec<(String, String)> = Vec::new();
    match builder {
        Builder::Docker { buildx: true } => {
            let (digest, config) =
                docker::metadata_digests(&std::fs::read_to_string(&files.metadata_file).unwrap_or_default());
            if let Some(config) = config.filter(|_| outcome.image_id.is_empty()) {
                outcome.image_id = config;
            }
            outcome.digest = digest.unwrap_or_default();
            if req.push {
                if outcome.digest.is_empty() {
                    return Err(Error::dependency(
                        "buildx pushed but reported no digest in its metadata file",
                    ));
                }
                pushed = req
                    .images
                    .iter()
                    .map(|i| (i.clone(), outcome.digest.clone()))
                    .collect();
            }
        }
        Builder::Docker { buildx: false } => {
            if req.push {
                let _group = runner.group("Push");
                for image in &req.images {
                    let mut digest = None;
                    for tag in tag_names(req) {
                        let reference = format!("{image}:{tag}");
                        let done = process::run(
                            runner,
                            &Invocation::new("docker", docker::push(&reference)),
                            &req.context,
                            None,
                            false,
                        )?;
                        if !done.success {
                            return Err(push_refused(&reference, &done));
                        }
                        digest = digest.or_else(|| docker::pushed_digest(&done.tail));
                    }
                    let digest = digest.ok_or_else(|| {
                        Error::dependency(format!("`docker push` reported no digest for `{image}`"))
                    })?;
                    pushed.push((image.clone(), digest));
                }
            }
        }
        Builder::Buildah => {
            if req.push {
                let _group = runner.group("Push");
                for image in &req.images {
                    let names = tag_names(req);
                    let Some((first, rest)) = names.split_first() else {
                        continue;
                    };
                    let destination = format!("{image}:{first}");
                    let digest_file = work.0.join("digest");
                    let inv =
                        Invocation::new("buildah", buildah::push(req, &files, &destination, &digest_file));
                    let done = process::run(runner, &inv, &req.context, None, false)?;
                    if !done.success {
                        return Err(push_refused(&destination, &done));
                    }
                    let digest = std::fs::read_to_string(&digest_file)
                        .unwrap_or_default()
                        .trim()
                        .to_owned();
                    if digest.is_empty() {
                        return Err(Error::dependency(format!(
                            "`buildah push` reported no digest for `{destination}`"
                        )));
                    }
                    let image_ref = registry::split_image(image);
                    let creds = credentials_for(env, runner, req.login.as_ref(), &image_ref.registry);
                    let client = Registry::new(http.clone(), image_ref, creds);
                    if !rest.is_empty() {
                        let manifest = rt
                            .block_on(client.manifest(&digest))
                            .map_err(|e| registry_error(e, req.login.as_ref()))?
                            .ok_or_else(|| {
                                Error::dependency(format!(
                                    "the registry does not have the pushed `{image}@{digest}`"
                                ))
                            })?;
                        for tag in rest {
                            rt.block_on(client.put_manifest(tag, &manifest))
                                .map_err(|e| registry_error(e, req.login.as_ref()))?;
                            runner.info(&format!("tagged {image}:{tag}"));
                        }
                    }
                    pushed.push((image.clone(), digest));
                }
            }
        }
    }
    if let Some((image, digest)) = pushed.first() {
        if outcome.image_id.is_empty() {
            // a multi-platform list has no single image ID; like buildx, name it by the index digest
            outcome.image_id = digest.clone();
        }
        outcome.digest = digest.clone();
        outcome.image = format!("{image}@{digest}");
    } else if !outcome.digest.is_empty()
        && let Some(image) = req.images.first()
    {
        outcome.image = format!("{image}@{}", outcome.digest);
    }
    let mut summary = format!("### Build\n\nbuilder: {}\n\n", builder.name());
    if !outcome.image_id.is_empty() {
        let _ = writeln!(summary, "image ID: `{}`\n", outcome.image_id);
    }
    if !outcome.image.is_empty() {
        let _ = writeln!(summary, "image: `{}`\n", outcome.image);
    }
    if req.push && req.verify {
        let _group = runner.group("Verify");
        let mut mismatches = Vec::new();
        let mut tags = 0;
        let mut configs = 0;
        for (image, digest) in &pushed {
            let image_ref = registry::split_image(image);
            let creds = credentials_for(env, runner, req.login.as_ref(), &image_ref.registry);
            let client = Registry::new(http.clone(), image_ref, creds);
            let names: Vec<String> = tag_names(req).into_iter().map(str::to_owned).collect();
            let report = rt
                .block_on(verify::check(
                    &client,
                    &verify::Expected {
                        image,
                        digest,
                        tags: &names,
                        labels: &req.labels,
                    },
                ))
                .map_err(|e| registry_error(e, req.login.as_ref()))?;
            tags += report.tags_checked;
            configs += report.configs_checked;
            mismatches.extend(report.mismatches);
        }
        if mismatches.is_empty() {
            runner.info(&format!(
                "verified: {tags} tag(s) resolve to the pushed digest and {configs} image config(s) carry all {} labels",
                req.labels.len()
            ));
            let _ = writeln!(
                summary,
                ":white_check_mark: verified {tags} tag(s) and the labels of {configs} image config(s)\n"
            );
        } else {
            let annotations = mismatches
                .iter()
                .map(|m| {
                    ops_core::runner::Annotation::new(ops_core::Level::Error, format!("registry check: {m}"))
                })
                .collect();
            runner.annotate(annotations, "see the log");
            let _ = writeln!(summary, ":x: the registry does not hold what was pushed:\n");
            for m in &mismatches {
                let _ = writeln!(summary, "- {m}");
            }
            outcome.status = ExitStatus::Failed;
        }
    }
    outcome.summary = summary;
    Ok(outcome)
}

fn push_refused(reference: &str, done: &process::Finished) -> Error {
    Error::dependency(format!(
        "the registry refused the push of `{reference}`:\n{}",
        done.last(8)
    ))
    .with_hint("check the registry's address, that it accepts pushes, and the credentials")
}

#[cfg(test)]
mod tests;
