//! The doks target: Kubernetes manifests applied to a DigitalOcean Kubernetes cluster (or any cluster
//! given a `kubeconfig`), followed to the truth, and rolled back whole on failure.
//!
//! The flow: **plan** (read and check the manifests, put the `images` in; nothing contacted) →
//! credentials in memory ([`access`]) → **preflight** (a SelfSubjectAccessReview for every verb and
//! resource the deploy will use; a missing permission is exit 2 before any write) → the **lock** (a
//! Lease, [`lease`]) → a server-side **dry run** of every object (the API server's own validation:
//! a refusal is exit 2, nothing changed) → the **release record** with the previous state of every
//! object ([`release`]) → **apply** (server-side apply, one field manager) → **follow** every
//! workload at once under the one `timeout`, failing fast on hopeless pods, then **observe**
//! ([`follow`]) → on failure, the evidence, then the previous state applied again and waited for
//! with the same rules → **report**.

pub mod access;
pub mod cluster;
pub mod follow;
pub mod lease;
pub mod manifests;
pub mod release;
pub mod rollout;

use std::collections::BTreeSet;
use std::io::Read as _;
use std::time::Duration;

use kube::core::ApiResource;
use ops_core::{Env, ExitStatus, Runner};
use serde_json::{Value, json};

use self::access::{Access, DoApi, Source};
use self::cluster::{Cluster, KubeError};
use self::follow::{Failure, Rules, Workload};
use self::manifests::Object;
use self::release::Record;
use crate::cli::{Action, Args};
use crate::clock::Clock;
use crate::error::Error;
use crate::flow::{Cancel, Deadline, Ending, Identity, Limit, Outputs, cell, github};

fn input(message: impl Into<String>, hint: Option<&str>) -> Error {
    Error::input(message, hint)
}

/// What the run will do, checked before anything is contacted.
pub struct Plan {
    /// The app: names the Lease and the release records.
    pub app: String,
    /// The namespace of the Lease and the records (and of objects that name none).
    pub namespace: String,
    /// The objects, in application order, images substituted (empty for a rollback).
    pub objects: Vec<Object>,
    /// Where credentials come from.
    pub source: Source,
    /// For `action: rollback`: the release to go back to (`None`: the one before the current).
    pub rollback_to: Option<Option<u64>>,
    /// Wait rules.
    pub rules: Rules,
}

/// Runs a doks action.
pub fn run(args: &Args, env: &Env, runner: &Runner, _clock: Clock) -> Result<ExitStatus, Error> {
    let plan = plan(args, env, runner, || {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    })?;
    let runtime = crate::flow::runtime()?;
    runtime.block_on(deploy(args, env, runner, plan))
}

/// The app's name: `app-name`, else the repository's name, as a Kubernetes name.
fn app_name(args: &Args, env: &Env) -> Result<String, Error> {
    if let Some(name) = args.app_name.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if !manifests::valid_name(name) || name.len() > 200 || name.contains('.') {
            return Err(input(
                format!(
                    "input `app-name`: `{name}` is not a valid name here (lowercase letters, digits and `-`)"
                ),
                None,
            ));
        }
        return Ok(name.to_owned());
    }
    let repo = env
        .non_empty("GITHUB_REPOSITORY")
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or("app");
    let mut name: String = repo
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name = name.trim_matches('-').chars().take(200).collect();
    if name.is_empty() {
        name = "app".to_owned();
    }
    Ok(name)
}

/// Checks every input, reads the manifests and puts the images in; nothing is contacted.
pub fn plan(
    args: &Args,
    env: &Env,
    runner: &Runner,
    stdin: impl FnOnce() -> std::io::Result<String>,
) -> Result<Plan, Error> {
    if let Some(k) = &args.kubeconfig {
        runner.mask(k.expose());
    }
    if let Some(t) = &args.token {
        runner.mask(t.expose());
    }
    let rollback_to = match args.action {
        Action::Deploy => None,
        Action::Rollback => Some(
            match args.release.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(r) => Some(r.trim_start_matches('v').parse::<u64>().map_err(|_| {
                    input(
                        format!("input `release`: expected a release number such as `7`, got `{r}`"),
                        None,
                    )
                })?),
            },
        ),
        other => {
            return Err(input(
                format!(
                    "input `action`: `{}` is an App Platform action; doks has `deploy` and `rollback`",
                    format!("{other:?}").to_lowercase()
                ),
                None,
            ));
        }
    };
    let namespace = args.namespace.trim().to_owned();
    if !manifests::valid_name(&namespace) || namespace.contains('.') || namespace.len() > 63 {
        return Err(input(
            format!(
                "input `namespace`: `{namespace}` is not a valid namespace name (lowercase letters, digits and `-`, at most 63)"
            ),
            None,
        ));
    }
    let app = app_name(args, env)?;
    let cluster = args.cluster.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let source = match (cluster, &args.kubeconfig) {
        (Some(_), Some(_)) => {
            return Err(input(
                "inputs `cluster` and `kubeconfig` can't both be set: choose one",
                None,
            ));
        }
        (None, None) => {
            return Err(input(
                "input required for `target: doks` and not supplied: `cluster` (the DOKS cluster's name or ID, with \
                 `token`), or `kubeconfig`",
                Some("cluster: my-cluster\ntoken: ${{ secrets.DIGITALOCEAN_TOKEN }}"),
            ));
        }
        (None, Some(k)) => Source::Kubeconfig(k.clone()),
        (Some(c), None) => {
            let token = args.token.clone().ok_or_else(|| {
                input(
                    "input required for `cluster` and not supplied: `token` (a DigitalOcean token with \
                     `kubernetes:read` and `kubernetes:access_cluster`)",
                    None,
                )
            })?;
            let policy = ops_net::RetryPolicy::from_env(env).map_err(|e| input(e.to_string(), None))?;
            Source::DigitalOcean {
                api: DoApi::new(&args.api_url, token, policy)?,
                cluster_id: String::new(),
                cluster_name: c.to_owned(),
                expiry: args.timeout + access::MARGIN,
            }
        }
    };
    let rules = Rules {
        max_restarts: i64::from(args.max_restarts),
        unschedulable_grace: args.unschedulable_grace,
        poll: args.poll_interval.max(Duration::from_millis(200)),
    };
    if rollback_to.is_some() {
        return Ok(Plan {
            app,
            namespace,
            objects: Vec::new(),
            source,
            rollback_to,
            rules,
        });
    }
    let paths: Vec<String> = args
        .manifests
        .as_deref()
        .unwrap_or("")
        .lines()
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if paths.is_empty() {
        return Err(input(
            "input required for `target: doks` and not supplied: `manifests` (files or folders of Kubernetes \
             manifests, one per line; `-` reads standard input)",
            Some("manifests: k8s/"),
        ));
    }
    let files = manifests::read(&paths, &env.workspace(), stdin).map_err(|e| input(e.0, None))?;
    let mut objects = manifests::parse(&files, &namespace).map_err(|e| input(e.0, None))?;
    for v in manifests::secret_values(&objects) {
        runner.mask(&v);
    }
    let images = manifests::images(&args.images).map_err(|e| input(e.0, None))?;
    for i in &images {
        if !i.pinned {
            if args.allow_mutable_tags {
                runner.warning(&format!(
                    "image `{}` is a tag, not a digest: what runs may change under the same name",
                    i.reference
                ));
            } else {
                return Err(input(
                    format!(
                        "input `images`: `{}` is a tag; pin it by digest (`repository@sha256:…`)",
                        i.reference
                    ),
                    Some("image-build-tag outputs the digest; or set `allow-mutable-tags: true`"),
                ));
            }
        }
    }
    let substitution = manifests::substitute(&mut objects, &images).map_err(|e| input(e.0, None))?;
    for (name, reference, containers) in &substitution.applied {
        runner.info(&format!(
            "image `{name}` ({reference}) → {}",
            containers.join(", ")
        ));
    }
    for (at, image) in &substitution.untouched {
        if image.contains("@sha256:") {
            continue;
        }
        // `:latest` or no tag at all: whatever was pushed last runs, and a rollback cannot bring back
        // what ran before.
        if manifests::floating(image) && !args.allow_mutable_tags {
            return Err(input(
                format!(
                    "{at} runs `{image}`, which is not in `images` and is `latest` (or has no tag): what \
                     runs could not be rolled back"
                ),
                Some(
                    "add it to `images` pinned by digest, pin it in the manifest, or set `allow-mutable-tags: true`",
                ),
            ));
        }
        runner.warning(&format!(
            "{at} runs `{image}`, which is not in `images` and not pinned by digest"
        ));
    }
    if !objects.iter().any(Object::is_workload) {
        runner.warning(
            "the manifests declare no Deployment, StatefulSet or DaemonSet: there is no rollout to wait for",
        );
    }
    Ok(Plan {
        app,
        namespace,
        objects,
        source,
        rollback_to,
        rules,
    })
}

/// An object ready to apply: the object and its resource.
struct Item {
    object: Object,
    ar: ApiResource,
}

fn kube_error(context: &str, e: &KubeError, runner: &Runner) -> Error {
    let text = runner.redact(&format!("{context}: {e}"));
    match e {
        KubeError::Status { code: 401, .. } => input(
            text,
            Some("the credentials were refused; check `token` or `kubeconfig`"),
        ),
        KubeError::Status { code: 403, .. } => input(
            text,
            Some("give the deploy's identity that permission (a Role and RoleBinding)"),
        ),
        KubeError::Status { .. } => Error::Runtime {
            message: text,
            hint: None,
        },
        KubeError::Transport(_) => Error::Runtime {
            message: text,
            hint: Some(
                "check that the runner can reach the cluster's API server, then run the job again".to_owned(),
            ),
        },
    }
}

async fn resolve(cluster: &Cluster, objects: &[Object], runner: &Runner) -> Result<Vec<Item>, Error> {
    let mut items = Vec::new();
    for o in objects {
        let (ar, namespaced) = cluster::resource(&cluster.client, &o.api_version, &o.kind)
            .await
            .map_err(|e| match &e {
                KubeError::Status {
                    code: 404, message, ..
                } => input(format!("`{}`: {message}", o.source), None),
                _ => kube_error(
                    &format!("`{}`: could not look up {}", o.source, o.kind),
                    &e,
                    runner,
                ),
            })?;
        let mut object = o.clone();
        if !namespaced && object.namespace.is_some() {
            object.namespace = None;
            if let Some(m) = object.body["metadata"].as_object_mut() {
                m.remove("namespace");
            }
        }
        items.push(Item { object, ar });
    }
    Ok(items)
}

/// `(verb, group, resource, namespace)`.
type Permission = (&'static str, String, String, Option<String>);

fn permissions(items: &[Item], namespace: &str) -> Vec<Permission> {
    let mut set: BTreeSet<Permission> = BTreeSet::new();
    let ns = Some(namespace.to_owned());
    for (verb, group, resource) in [
        ("get", "coordination.k8s.io", "leases"),
        ("create", "coordination.k8s.io", "leases"),
        ("update", "coordination.k8s.io", "leases"),
        ("delete", "coordination.k8s.io", "leases"),
        ("list", "", "secrets"),
        ("get", "", "secrets"),
        ("create", "", "secrets"),
        ("update", "", "secrets"),
        ("delete", "", "secrets"),
    ] {
        set.insert((verb, group.to_owned(), resource.to_owned(), ns.clone()));
    }
    for i in items {
        let o_ns = i.object.namespace.clone();
        for verb in ["get", "create", "patch", "delete"] {
            set.insert((verb, i.ar.group.clone(), i.ar.plural.clone(), o_ns.clone()));
        }
        if i.object.is_workload() {
            set.insert(("list", String::new(), "pods".to_owned(), o_ns.clone()));
            set.insert(("list", String::new(), "events".to_owned(), o_ns.clone()));
            if i.object.kind == "StatefulSet" {
                set.insert(("delete", String::new(), "pods".to_owned(), o_ns.clone()));
            }
            if i.object.kind == "Deployment" {
                set.insert(("list", "apps".to_owned(), "replicasets".to_owned(), o_ns.clone()));
            }
        }
    }
    set.into_iter().collect()
}

async fn preflight(cluster: &Cluster, runner: &Runner, perms: &[Permission]) -> Result<(), Error> {
    let mut missing = Vec::new();
    for (verb, group, resource, ns) in perms {
        let (allowed, reason) = cluster
            .can(verb, group, resource, ns.as_deref())
            .await
            .map_err(|e| {
                kube_error(
                    "could not check permissions (SelfSubjectAccessReview)",
                    &e,
                    runner,
                )
            })?;
        if !allowed {
            let what = if group.is_empty() {
                resource.clone()
            } else {
                format!("{resource}.{group}")
            };
            missing.push(format!(
                "`{verb}` on `{what}`{}{}",
                ns.as_deref()
                    .map(|n| format!(" in namespace `{n}`"))
                    .unwrap_or_default(),
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({reason})")
                }
            ));
        }
    }
    if missing.is_empty() {
        runner.info(&format!(
            "preflight: {} permission(s) checked, all allowed",
            perms.len()
        ));
        return Ok(());
    }
    Err(input(
        format!(
            "the cluster credentials lack permissions this deploy needs; nothing was changed. Missing: {}",
            missing.join(", ")
        ),
        Some(
            "grant them with a Role and RoleBinding for the deploy's identity (a DigitalOcean token gets the role of its user)",
        ),
    ))
}

fn identity_json(id: &Identity) -> Value {
    json!({"repository": id.repository, "run": id.describe(), "run_url": id.run_url, "sha": id.sha,
           "actor": id.actor, "started": id.started})
}

fn object_ref(o: &Object) -> Value {
    json!({"apiVersion": o.api_version, "kind": o.kind, "namespace": o.namespace, "name": o.name})
}

fn object_from_value(v: &Value, default_ns: &str, source: &str) -> Option<Object> {
    manifests::object(v.clone(), source, default_ns).ok()
}

/// What the run ended with, for the report.
struct Outcome {
    ending: Ending,
    release: String,
    previous: String,
    rows: Vec<(String, String, String)>,
    diagnostics: String,
}

async fn deploy(args: &Args, env: &Env, runner: &Runner, plan: Plan) -> Result<ExitStatus, Error> {
    let cancel = Cancel::listen();
    let deadline = Deadline::start(Limit::new("timeout", args.timeout));
    let identity = Identity::from_env(env);
    let mut access = Access::new(plan.source, &plan.namespace);
    access.resolve_cluster().await?;
    let client = access.client(runner).await?;
    let cluster = Cluster { client };
    runner.info(&format!(
        "cluster API server {}, namespace `{}`, app `{}`",
        access.server, plan.namespace, plan.app
    ));
    let items = resolve(&cluster, &plan.objects, runner).await?;
    preflight(&cluster, runner, &permissions(&items, &plan.namespace)).await?;
    let what = match plan.rollback_to {
        None => format!("deploy of `{}` to namespace `{}`", plan.app, plan.namespace),
        Some(Some(r)) => format!("rollback of `{}` to release {r}", plan.app),
        Some(None) => format!("rollback of `{}` to the previous release", plan.app),
    };
    let fresh = access.watch().ok_or_else(|| Error::Runtime {
        message: "no client for the cluster".to_owned(),
        hint: None,
    })?;
    let who = identity.describe();
    let take = || {
        lease::acquire(
            &cluster,
            runner,
            &cancel,
            &plan.namespace,
            &plan.app,
            &who,
            args.lock_stale,
            Limit::new("lock-timeout", args.lock_timeout),
            fresh.clone(),
        )
    };
    let mut taken = take().await;
    // The namespace does not exist yet: the manifests may create it (then it is applied first, so
    // the Lease has somewhere to live), or it is a mistake.
    if let Err(lease::LockError::Api(KubeError::Status { code: 404, .. })) = &taken {
        let Some(ns) = items
            .iter()
            .find(|i| i.object.kind == "Namespace" && i.object.name == plan.namespace)
        else {
            return Err(input(
                format!(
                    "namespace `{}` does not exist in the cluster (input `namespace`); nothing was changed",
                    plan.namespace
                ),
                Some("create it (`kubectl create namespace …`) or add a Namespace object to `manifests`"),
            ));
        };
        cluster.apply(&ns.ar, &ns.object, false).await.map_err(|e| {
            kube_error(
                &format!(
                    "`{}`: could not create namespace `{}`",
                    ns.object.source, plan.namespace
                ),
                &e,
                runner,
            )
        })?;
        runner.info(&format!(
            "created namespace `{}` ({}) first: the deploy lock and the release records live in it",
            plan.namespace, ns.object.source
        ));
        taken = take().await;
    }
    let held = |reason: String| Outcome {
        ending: Ending::Failed { reason },
        release: String::new(),
        previous: String::new(),
        rows: vec![],
        diagnostics: String::new(),
    };
    let lock = match taken {
        Ok(l) => l,
        Err(lease::LockError::Held(m)) => return report(runner, &what, &held(m)).await,
        Err(lease::LockError::Cancelled(sig)) => {
            let m = format!("cancelled by {sig} while waiting for the deploy lock; nothing was changed");
            return report(runner, &what, &held(m)).await;
        }
        Err(lease::LockError::Api(e)) => {
            return Err(kube_error("could not take the deploy lock (Lease)", &e, runner));
        }
    };
    let record = match &args.github_token {
        Some(token) => {
            let reference = env.non_empty("GITHUB_SHA").unwrap_or("HEAD").to_owned();
            let environment = args.environment.clone().unwrap_or_else(|| plan.app.clone());
            github::start(
                env,
                runner,
                token,
                github::Plan {
                    reference: &reference,
                    environment: &environment,
                    transient: false,
                    description: &format!("DOKS: {} in {}", plan.app, plan.namespace),
                    payload: json!({ "app": plan.app, "namespace": plan.namespace }),
                },
            )
            .await
        }
        None => None,
    };
    let ctx = Ctx {
        args,
        runner,
        cancel: &cancel,
        deadline,
        identity: &identity,
        namespace: &plan.namespace,
        app: &plan.app,
        rules: plan.rules,
        lock: &lock,
    };
    let result = locked(&ctx, &mut access, &cluster, items, plan.rollback_to).await;
    let cluster_now = Cluster {
        client: access
            .client(runner)
            .await
            .unwrap_or_else(|_| cluster.client.clone()),
    };
    lock.release(&cluster_now, runner).await;
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            if let Some(r) = &record {
                r.status(runner, "error", None, &runner.redact(&e.to_string()))
                    .await;
            }
            return Err(e);
        }
    };
    if let Some(r) = &record {
        r.status(
            runner,
            outcome.ending.github_state(),
            None,
            &outcome.ending.headline(),
        )
        .await;
    }
    report(runner, &what, &outcome).await
}

async fn report(runner: &Runner, what: &str, o: &Outcome) -> Result<ExitStatus, Error> {
    Outputs {
        release_id: o.release.clone(),
        previous_release: o.previous.clone(),
    }
    .write(runner, &o.ending)?;
    runner.set_output(
        "workloads",
        &serde_json::to_string(
            &o.rows
                .iter()
                .map(|(w, result, evidence)| json!({"workload": w, "result": result, "evidence": evidence}))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default(),
    )?;
    o.ending.announce(runner, what);
    runner.append_summary(&runner.redact(&summary(what, o)))?;
    Ok(o.ending.exit_status())
}

fn summary(what: &str, o: &Outcome) -> String {
    let mut s = format!("### do-deploy: {}\n\n", cell(what));
    s.push_str(&match &o.ending {
        Ending::Live => format!("**Live**: release {}.\n\n", cell(&o.release)),
        Ending::RolledBack { reason } => format!("**Failed and rolled back**: {}\n\n", cell(reason)),
        Ending::Failed { reason } => format!("**Failed**: {}\n\n", cell(reason)),
        Ending::RollbackFailed { reason, rollback } => format!(
            "**Failed, and the rollback failed too — check the cluster now.** {}; rollback: {}\n\n",
            cell(reason),
            cell(rollback)
        ),
    });
    if !o.rows.is_empty() {
        s.push_str("| workload | result | evidence |\n|---|---|---|\n");
        for (w, r, e) in &o.rows {
            s.push_str(&format!("| `{}` | {} | {} |\n", cell(w), cell(r), cell(e)));
        }
        s.push('\n');
    }
    if !o.previous.is_empty() || !o.release.is_empty() {
        s.push_str(&format!(
            "Release {}{}.\n",
            if o.release.is_empty() {
                "—".to_owned()
            } else {
                cell(&o.release)
            },
            if o.previous.is_empty() {
                String::new()
            } else {
                format!(", previous {}", cell(&o.previous))
            }
        ));
    }
    if !o.diagnostics.is_empty() {
        s.push_str(&format!(
            "\n<details><summary>Diagnostics</summary>\n\n```text\n{}\n```\n\n</details>\n",
            o.diagnostics.replace("```", "'''")
        ));
    }
    s
}

/// What the locked part of a run needs.
struct Ctx<'a> {
    args: &'a Args,
    runner: &'a Runner,
    cancel: &'a Cancel,
    deadline: Deadline,
    identity: &'a Identity,
    namespace: &'a str,
    app: &'a str,
    rules: Rules,
    lock: &'a lease::Lock,
}

/// Everything done while holding the lock.
async fn locked(
    ctx: &Ctx<'_>,
    access: &mut Access,
    cluster: &Cluster,
    mut items: Vec<Item>,
    rollback_to: Option<Option<u64>>,
) -> Result<Outcome, Error> {
    let runner = ctx.runner;
    let records = release::list(cluster, ctx.namespace, ctx.app)
        .await
        .map_err(|e| kube_error("could not read the release records", &e, runner))?;
    let current = records.iter().rev().find(|r| r.status == release::DEPLOYED);
    let next_id = records.last().map_or(1, |r| r.id + 1);
    let mut deletions: Vec<Item> = Vec::new();
    if let Some(target) = rollback_to {
        let target = match target {
            Some(id) => records.iter().find(|r| r.id == id).ok_or_else(|| {
                input(
                    format!(
                        "input `release`: no release {id} of `{}` in namespace `{}`; kept: {}",
                        ctx.app,
                        ctx.namespace,
                        records
                            .iter()
                            .map(|r| format!("{} ({})", r.id, r.status))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None,
                )
            })?,
            None => records
                .iter()
                .rev()
                .filter(|r| r.status == release::DEPLOYED || r.status == "superseded")
                .find(|r| current.is_none_or(|c| r.id < c.id))
                .ok_or_else(|| {
                    input(
                        format!(
                            "no release of `{}` before the current one to roll back to",
                            ctx.app
                        ),
                        None,
                    )
                })?,
        };
        let objects: Vec<Object> = target
            .objects
            .iter()
            .filter_map(|v| object_from_value(v, ctx.namespace, &format!("release {}", target.id)))
            .collect();
        items = resolve(cluster, &objects, runner).await?;
        let keep: BTreeSet<_> = items.iter().map(|i| i.object.key()).collect();
        if let Some(c) = current {
            let gone: Vec<Object> = c
                .objects
                .iter()
                .filter_map(|v| object_from_value(v, ctx.namespace, &format!("release {}", c.id)))
                .filter(|o| !keep.contains(&o.key()))
                .collect();
            deletions = resolve(cluster, &gone, runner).await?;
        }
        runner.info(&format!(
            "rolling back to release {} ({} object(s))",
            target.id,
            items.len()
        ));
    }
    // The API server's own validation of every object, before anything is written.
    let declared: BTreeSet<&str> = items
        .iter()
        .filter(|i| i.object.kind == "Namespace")
        .map(|i| i.object.name.as_str())
        .collect();
    let mut unchecked = 0;
    for i in &items {
        if let Err(e) = cluster.apply(&i.ar, &i.object, true).await {
            // An object in a namespace the manifests create: a dry run cannot see the namespace yet
            // (a real API server answers the same); the apply itself will check it.
            if let (KubeError::Status { code: 404, .. }, Some(ns)) = (&e, i.object.namespace.as_deref())
                && declared.contains(ns)
            {
                unchecked += 1;
                continue;
            }
            let message = format!(
                "`{}`: {} was refused by the API server (dry run): {e}",
                i.object.source,
                i.object.reference()
            );
            return Err(match e {
                KubeError::Status { code, .. } if code < 500 && code != 429 => input(
                    runner.redact(&message),
                    Some("fix the manifest; nothing was changed"),
                ),
                _ => kube_error(
                    &format!("`{}`: dry run of {}", i.object.source, i.object.reference()),
                    &e,
                    runner,
                ),
            });
        }
    }
    runner.info(&format!(
        "dry run: the API server accepts {} object(s){}",
        items.len() - unchecked,
        if unchecked > 0 {
            format!("; {unchecked} in namespaces the manifests create are checked when applied")
        } else {
            String::new()
        }
    ));
    // The previous state of everything the apply touches.
    let mut previous = Vec::new();
    let mut created = Vec::new();
    for i in items.iter().chain(&deletions) {
        match cluster
            .get(&i.ar, i.object.namespace.as_deref(), &i.object.name)
            .await
        {
            Ok(Some(live)) => previous.push(release::trim(&live)),
            Ok(None) => created.push(object_ref(&i.object)),
            Err(e) => {
                return Err(kube_error(
                    &format!("could not read {}", i.object.reference()),
                    &e,
                    runner,
                ));
            }
        }
    }
    let about = json!({
        "run": ctx.identity.describe(), "identity": identity_json(ctx.identity),
        "rollback_of": rollback_to.map(|_| current.map(|c| c.id)),
    });
    let record = Record {
        id: next_id,
        status: "pending".to_owned(),
        objects: items.iter().map(|i| i.object.body.clone()).collect(),
        previous,
        created,
        about,
    };
    release::create(cluster, ctx.namespace, ctx.app, &record)
        .await
        .map_err(|e| kube_error("could not write the release record", &e, runner))?;
    let release_id = next_id.to_string();
    let previous_id = current.map(|c| c.id.to_string()).unwrap_or_default();
    runner.info(&format!(
        "release {release_id} of `{}` recorded (Secret `{}`){}",
        ctx.app,
        release::secret_name(ctx.app, next_id),
        if previous_id.is_empty() {
            String::new()
        } else {
            format!("; previous release {previous_id}")
        }
    ));
    let workloads: Vec<Workload> = items
        .iter()
        .filter(|i| i.object.is_workload())
        .map(|i| Workload {
            kind: i.object.kind.clone(),
            name: i.object.name.clone(),
            namespace: i
                .object
                .namespace
                .clone()
                .unwrap_or_else(|| ctx.namespace.to_owned()),
            ar: i.ar.clone(),
        })
        .collect();
    // Apply.
    let mut applied = 0;
    let mut failure: Option<Failure> = None;
    for i in &items {
        match cluster.apply(&i.ar, &i.object, false).await {
            Ok(_) => {
                applied += 1;
                runner.info(&format!("applied {} ({})", i.object.reference(), i.object.source));
            }
            Err(e) => {
                failure = Some(Failure {
                    reason: runner.redact(&format!(
                        "`{}`: applying {} failed: {e}",
                        i.object.source,
                        i.object.reference()
                    )),
                    workload: None,
                    cancelled: false,
                    lost: false,
                });
                break;
            }
        }
    }
    if failure.is_none() {
        for d in &deletions {
            if let Err(e) = cluster
                .delete(&d.ar, d.object.namespace.as_deref(), &d.object.name)
                .await
            {
                failure = Some(Failure {
                    reason: format!("deleting {} failed: {e}", d.object.reference()),
                    workload: None,
                    cancelled: false,
                    lost: false,
                });
                break;
            }
            runner.info(&format!(
                "deleted {} (not in the release rolled back to)",
                d.object.reference()
            ));
        }
    }
    // Going back to an older release: pods of a broken revision a StatefulSet keeps are replaced.
    if failure.is_none() && rollback_to.is_some() {
        for w in &workloads {
            if let Err(e) = follow::unstick(cluster, runner, w).await {
                failure = Some(Failure {
                    reason: format!("replacing the stuck pods of {} failed: {e}", w.reference()),
                    workload: Some(w.reference()),
                    cancelled: false,
                    lost: false,
                });
                break;
            }
        }
    }
    // Follow, then observe.
    if failure.is_none() {
        if let Err(f) = follow::wait(
            access,
            runner,
            ctx.cancel,
            &ctx.deadline,
            &workloads,
            Some(ctx.lock),
            ctx.rules,
            "rollout",
        )
        .await
        {
            failure = Some(f);
        } else if let Err(f) = follow::observe(
            access,
            runner,
            ctx.cancel,
            &workloads,
            Some(ctx.lock),
            ctx.rules,
            ctx.args.observe.min(ctx.deadline.remaining()),
        )
        .await
        {
            failure = Some(f);
        }
    }
    // The credential may have been renewed while following: use the newest.
    let cluster = &Cluster {
        client: access
            .client(runner)
            .await
            .unwrap_or_else(|_| cluster.client.clone()),
    };
    if let Some(lost) = ctx.lock.lost() {
        runner.warning(&lost);
    }
    let Some(failure) = failure else {
        let _ = release::set_status(cluster, ctx.namespace, ctx.app, next_id, release::DEPLOYED).await;
        if let Some(c) = current {
            let _ = release::set_status(cluster, ctx.namespace, ctx.app, c.id, "superseded").await;
        }
        // The records read under the lock, and this one: no other run has written since.
        let ids: Vec<u64> = records.iter().map(|r| r.id).chain([next_id]).collect();
        if let Ok(n) = release::prune(cluster, ctx.namespace, ctx.app, &ids, ctx.args.keep_releases).await
            && n > 0
        {
            runner.info(&format!(
                "pruned {n} old release record(s) (`keep-releases` {})",
                ctx.args.keep_releases
            ));
        }
        let rows = workloads
            .iter()
            .map(|w| (w.reference(), "rolled out".to_owned(), String::new()))
            .collect();
        return Ok(Outcome {
            ending: Ending::Live,
            release: release_id,
            previous: previous_id,
            rows,
            diagnostics: String::new(),
        });
    };
    // Failure: evidence first, then the previous state back.
    let fresh = access
        .client(runner)
        .await
        .unwrap_or_else(|_| cluster.client.clone());
    let cl = Cluster { client: fresh };
    let mut diagnostics = String::new();
    if !failure.cancelled {
        for w in &workloads {
            if failure.workload.as_deref().is_none_or(|f| f == w.reference()) {
                diagnostics.push_str(&follow::diagnose(&cl, w, ctx.args.log_lines as i64).await);
            }
        }
        let diagnostics_masked = runner.redact(&diagnostics);
        if !diagnostics_masked.trim().is_empty() {
            let _g = runner.group(&format!(
                "diagnostics: {}",
                failure.workload.as_deref().unwrap_or("every workload")
            ));
            runner.untrusted(&diagnostics_masked);
        }
        diagnostics = diagnostics_masked;
    }
    let rows_for = |result: &str| -> Vec<(String, String, String)> {
        workloads
            .iter()
            .map(|w| {
                let failed = failure.workload.as_deref() == Some(&w.reference());
                (
                    w.reference(),
                    if failed {
                        format!("failed, {result}")
                    } else {
                        result.to_owned()
                    },
                    if failed {
                        failure.reason.clone()
                    } else {
                        String::new()
                    },
                )
            })
            .collect()
    };
    if failure.lost {
        let _ = release::set_status(&cl, ctx.namespace, ctx.app, next_id, "failed").await;
        return Ok(Outcome {
            ending: Ending::Failed {
                reason: format!(
                    "{}; stopped without rolling back: that run now deploys to the namespace",
                    failure.reason
                ),
            },
            release: release_id,
            previous: previous_id,
            rows: rows_for("stopped"),
            diagnostics,
        });
    }
    if !ctx.args.rollback || applied == 0 {
        let _ = release::set_status(&cl, ctx.namespace, ctx.app, next_id, "failed").await;
        let reason = if applied == 0 {
            format!("{}; nothing was changed", failure.reason)
        } else {
            format!("{}; `rollback` is off", failure.reason)
        };
        return Ok(Outcome {
            ending: Ending::Failed { reason },
            release: release_id,
            previous: previous_id,
            rows: rows_for("not rolled back"),
            diagnostics,
        });
    }
    runner.warning(&format!(
        "{}: restoring the previous state of {} object(s)",
        failure.reason,
        items.len()
    ));
    match restore(ctx, access, &record, &items).await {
        Ok(()) => {
            let _ = release::set_status(&cl, ctx.namespace, ctx.app, next_id, "rolled-back").await;
            Ok(Outcome {
                ending: Ending::RolledBack {
                    reason: failure.reason.clone(),
                },
                release: release_id,
                previous: previous_id,
                rows: rows_for("rolled back"),
                diagnostics,
            })
        }
        Err(e) => {
            let _ = release::set_status(&cl, ctx.namespace, ctx.app, next_id, "failed").await;
            Ok(Outcome {
                ending: Ending::RollbackFailed {
                    reason: failure.reason.clone(),
                    rollback: e,
                },
                release: release_id,
                previous: previous_id,
                rows: rows_for("ROLLBACK FAILED"),
                diagnostics,
            })
        }
    }
}

/// Applies the recorded previous state again, deletes what the release created, and waits for the
/// workloads with the same rules (under a deadline of its own: the `timeout` again, as the deploy's may
/// be spent). Cancellation does not stop it.
async fn restore(ctx: &Ctx<'_>, access: &mut Access, record: &Record, items: &[Item]) -> Result<(), String> {
    let runner = ctx.runner;
    let client = access.client(runner).await.map_err(|e| e.to_string())?;
    let cluster = Cluster { client };
    let mut restored = Vec::new();
    for prev in &record.previous {
        let Some(o) = object_from_value(prev, ctx.namespace, "previous state") else {
            continue;
        };
        let Some(i) = items.iter().find(|i| i.object.key() == o.key()) else {
            continue;
        };
        cluster
            .apply(&i.ar, &o, false)
            .await
            .map_err(|e| format!("restoring {} failed: {e}", o.reference()))?;
        runner.info(&format!("restored {}", o.reference()));
        restored.push(Workload {
            kind: o.kind.clone(),
            name: o.name.clone(),
            namespace: o.namespace.clone().unwrap_or_else(|| ctx.namespace.to_owned()),
            ar: i.ar.clone(),
        });
    }
    for c in &record.created {
        let key = (
            c["apiVersion"]
                .as_str()
                .unwrap_or("")
                .rsplit_once('/')
                .map_or("", |(g, _)| g)
                .to_owned(),
            c["kind"].as_str().unwrap_or("").to_owned(),
            c["namespace"].as_str().unwrap_or("").to_owned(),
            c["name"].as_str().unwrap_or("").to_owned(),
        );
        let Some(i) = items.iter().find(|i| i.object.key() == key) else {
            continue;
        };
        cluster
            .delete(&i.ar, i.object.namespace.as_deref(), &i.object.name)
            .await
            .map_err(|e| {
                format!(
                    "deleting {} (new in this release) failed: {e}",
                    i.object.reference()
                )
            })?;
        runner.info(&format!("deleted {} (new in this release)", i.object.reference()));
    }
    let workloads: Vec<Workload> = restored
        .into_iter()
        .filter(|w| matches!(w.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet"))
        .collect();
    for w in &workloads {
        follow::unstick(&cluster, runner, w)
            .await
            .map_err(|e| format!("replacing the stuck pods of {} failed: {e}", w.reference()))?;
    }
    let deadline = Deadline::start(Limit::new("timeout", ctx.args.timeout));
    follow::wait(
        access,
        runner,
        &Cancel::never(),
        &deadline,
        &workloads,
        None,
        ctx.rules,
        "rollback",
    )
    .await
    .map_err(|f| format!("the previous state did not roll out: {}", f.reason))?;
    runner.info(&format!(
        "rollback: the previous state of {} workload(s) is rolled out",
        workloads.len()
    ));
    Ok(())
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("app", &self.app)
            .field("namespace", &self.namespace)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}
