//! A stateful stand-in for the Kubernetes API, the test ground of deploys to Kubernetes (DigitalOcean
//! Kubernetes and others). No API server can be installed on our machines, so this plays one, and
//! [kubectl] (a real client nobody here wrote) is pointed at it in this crate's tests to keep it
//! honest.
//!
//! ```no_run
//! use ops_test::kubernetes::{Fate, KubeSim};
//!
//! let kube = KubeSim::start();
//! kube.with(|s| s.script_image("registry.example/web", Fate::ImagePullBackOff));
//! // point a client at kube.url() with any bearer token, apply a Deployment, watch it
//! ```
//!
//! What it keeps: Namespaces (`default` and `kube-system` from the start, others from
//! [`KubeState::add_namespace`] or written by clients); Deployments → ReplicaSets (one per pod
//! template, named and labelled by its `pod-template-hash`, with the revision annotations the
//! Deployment controller writes) → Pods; StatefulSets → Pods `<name>-0…` (labelled with their
//! `controller-revision-hash`); DaemonSets → one Pod per node ([`KubeState::set_nodes`], 2 by
//! default); ConfigMaps, Secrets, Services, Leases and Events. What a test scripts is the [`Fate`]
//! of the pods a workload creates, per workload name ([`KubeState::script_workload`]) or per image:
//! healthy after some seconds, image pull back-off, crash loop, crash after being ready, a
//! container config error, unschedulable. A virtual clock ([`KubeState::advance`], one second a
//! step, and by default one second per request) drives the pods and the controllers: `generation` /
//! `observedGeneration`, the status counters, the Deployment's `Progressing` condition with
//! `NewReplicaSetAvailable` or `ProgressDeadlineExceeded`, and `Available`; a StatefulSet's
//! `currentRevision` / `updateRevision`; a DaemonSet's scheduled, updated and available counts.
//!
//! The API: discovery (`/api`, `/apis`, the resource lists, `/version`, the OpenAPI v3 index and
//! documents kubectl asks for), GET and LIST with label and field selectors, WATCH (`?watch=1`,
//! newline-delimited JSON events from a `resourceVersion`), POST, PUT (a stale `resourceVersion`
//! gets 409), server-side apply (`PATCH` with `application/apply-patch+yaml`, `fieldManager`,
//! `force`, field ownership and conflicts between managers), JSON merge patches (a strategic merge
//! patch is treated as one) and JSON patches, DELETE (a workload's ReplicaSets and Pods go with it;
//! a pod deleted alone is made again by its controller; a namespace takes everything in it along),
//! `?dryRun=All` on every write (validation, admission and conflicts run, nothing is kept), pod
//! logs (`/log?tailLines=`), the workloads' `/status`, and SelfSubjectAccessReviews answered from a
//! table of denied verbs ([`KubeState::deny`]) that requests are held to as well. Writes get the
//! defaults the API server fills (a workload's strategy, a pod template's `restartPolicy`, a
//! container's `imagePullPolicy`…; a Namespace's `kubernetes.io/metadata.name` label, `kubernetes`
//! finalizer and `Active` phase), and a write that changes nothing is not written. Namespaces are
//! written as the rest are (the one cluster-scoped kind served); `default`, `kube-system` and
//! `kube-public` cannot be deleted.
//!
//! Fidelity, honestly: a watch answers at once with what happened since the `resourceVersion` it
//! names (or a bookmark when nothing did) and ends, so a client watches again — client-go's
//! reflector does so without complaint, and its client-side rate limit paces it; a Deployment's
//! rolling update starts all new pods at once and scales old ReplicaSets down as new pods become
//! available (no `maxSurge` arithmetic); pods go at once when deleted (no grace period, no
//! `Terminating`); a deleted namespace goes at once with everything in it (a cluster marks it
//! `Terminating` and its namespace controller empties it first); `minReadySeconds` is not counted
//! (ready is available); a StatefulSet's `volumeClaimTemplates` make no PersistentVolumeClaims, a
//! DaemonSet's `maxSurge` is taken as 0, and nodes have no taints, so every DaemonSet runs
//! everywhere; ControllerRevisions, nodes and the `scale` subresources are not served; server-side
//! apply tracks ownership per map key and replaces lists whole (no list-map merge keys: a
//! container's `env` is part of the `containers` list); request bodies are read as JSON (an apply's
//! as YAML), not protobuf, which kubectl's imperative `create` commands send. Every request is held
//! to the official description as written ([`contract`]), and every answer is checked against it
//! ([`KubeState::violations`]).
//!
//! [kubectl]: https://kubernetes.io/docs/reference/kubectl/

pub mod contract;
mod controller;
mod discovery;
mod fields;
mod routes;
mod store;
mod workloads;

use std::collections::{BTreeMap, HashMap, HashSet};

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::sim::{Api, Clock, Ctx, Reply, Route, Sim, Violation};

pub use self::store::Kind;

/// The Kubernetes stand-in.
pub type KubeSim = Sim<KubeState>;

/// What becomes of the pods of a Deployment (or of an image), as the test scripts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// The image pulls, the container starts and is ready `ready_after` seconds later.
    Healthy {
        /// Seconds from start to ready.
        ready_after: u32,
    },
    /// The pull fails: `ErrImagePull` first, then `ImagePullBackOff`.
    ImagePullBackOff,
    /// The pull fails and keeps failing as `ErrImagePull`.
    ErrImagePull,
    /// The container cannot be created (a missing ConfigMap or Secret key): the message.
    CreateContainerConfigError(String),
    /// The container exits every time it starts: `CrashLoopBackOff`, `restartCount` climbing.
    CrashLoop,
    /// Ready after `ready_after` seconds, then exits `crash_after` seconds later and loops.
    CrashAfterReady {
        /// Seconds from start to ready.
        ready_after: u32,
        /// Seconds it stays ready.
        crash_after: u32,
    },
    /// No node can take the pod: `PodScheduled=False`, reason `Unschedulable`.
    Unschedulable,
}

impl Default for Fate {
    fn default() -> Self {
        Self::Healthy { ready_after: 2 }
    }
}

/// A watch event kept for clients that watch from an older `resourceVersion`.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub(crate) rv: u64,
    pub(crate) resource: &'static str,
    pub(crate) namespace: String,
    pub(crate) kind: &'static str,
    pub(crate) object: Value,
}

/// The stand-in's whole state.
#[derive(Debug)]
pub struct KubeState {
    pub(crate) clock: Clock,
    pub(crate) rv: u64,
    pub(crate) serial: u64,
    /// `(resource, namespace, name)` → object.
    pub(crate) objects: BTreeMap<(&'static str, String, String), Value>,
    pub(crate) changes: Vec<Change>,
    /// Fates by workload (Deployment, StatefulSet, DaemonSet) name.
    pub(crate) by_workload: HashMap<String, Fate>,
    pub(crate) by_image: Vec<(String, Fate)>,
    pub(crate) default_fate: Fate,
    pub(crate) logs: Vec<(String, Vec<String>)>,
    pub(crate) denied: HashSet<(String, String, String)>,
    pub(crate) tokens: Option<HashSet<String>>,
    pub(crate) seconds_per_request: u32,
    pub(crate) rejections: Vec<(String, String, String)>,
    pub(crate) violations: Vec<Violation>,
    /// Pod `(namespace, name)` → what the kubelet knows.
    pub(crate) pods: BTreeMap<(String, String), controller::PodSim>,
    /// Deployment `(namespace, name)` → virtual time of its last progress.
    pub(crate) progress: HashMap<(String, String), i64>,
    /// `(resource, namespace, name)` → who owns which fields.
    pub(crate) managers: HashMap<(&'static str, String, String), fields::Owners>,
    /// How many nodes the cluster pretends to have (`sim-node-1`…).
    pub(crate) nodes: u32,
    /// Pod templates of StatefulSet revisions, by `(namespace, revision name)`: what the
    /// controller keeps in ControllerRevisions, which are not served.
    pub(crate) revisions: HashMap<(String, String), Value>,
}

impl Default for KubeState {
    fn default() -> Self {
        let mut state = Self {
            clock: Clock::default(),
            rv: 100,
            serial: 0,
            objects: BTreeMap::new(),
            changes: Vec::new(),
            by_workload: HashMap::new(),
            by_image: Vec::new(),
            default_fate: Fate::default(),
            logs: Vec::new(),
            denied: HashSet::new(),
            tokens: None,
            seconds_per_request: 1,
            rejections: Vec::new(),
            violations: Vec::new(),
            pods: BTreeMap::new(),
            progress: HashMap::new(),
            managers: HashMap::new(),
            nodes: 2,
            revisions: HashMap::new(),
        };
        state.add_namespace("default");
        state.add_namespace("kube-system");
        state
    }
}

impl KubeState {
    /// Adds a namespace, `Active`, as if the cluster had always had it (`default` and
    /// `kube-system` exist from the start); one that exists is left as it is. Clients may create
    /// namespaces too. A namespace added here takes no serial number, so the names of the pods
    /// made later do not depend on how many a test adds.
    pub fn add_namespace(&mut self, name: &str) {
        if self.has_namespace(name) {
            return;
        }
        let mut object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": name,
            "uid": format!("5eed0000-0000-4000-a000-{:012x}", self.rv + 1),
            "creationTimestamp": self.clock.now_rfc3339(),
        }});
        store::namespace_strategy(&mut object, None);
        self.write(store::NAMESPACES, "", name, object, "ADDED");
    }

    /// Whether the namespace `name` exists.
    #[must_use]
    pub fn has_namespace(&self, name: &str) -> bool {
        self.objects
            .contains_key(&(store::NAMESPACES.resource, String::new(), name.to_owned()))
    }

    /// The fate of the pods of the Deployment, StatefulSet or DaemonSet `name` (in any namespace)
    /// created from now on; it wins over [`KubeState::script_image`].
    pub fn script_workload(&mut self, name: &str, fate: Fate) {
        self.by_workload.insert(name.to_owned(), fate);
    }

    /// [`KubeState::script_workload`], by its older name.
    pub fn script_deployment(&mut self, name: &str, fate: Fate) {
        self.script_workload(name, fate);
    }

    /// How many nodes the cluster has (2 by default, at least 1): a DaemonSet runs a pod on each,
    /// from the next step on, and pods on nodes taken away go.
    pub fn set_nodes(&mut self, nodes: u32) {
        self.nodes = nodes.max(1);
    }

    /// The fate of pods whose first container runs `image` (an exact reference, or a repository
    /// without tag or digest, which matches every tag and digest of it), created from now on.
    pub fn script_image(&mut self, image: &str, fate: Fate) {
        self.by_image.retain(|(i, _)| i != image);
        self.by_image.push((image.to_owned(), fate));
    }

    /// The fate of pods nothing else scripts (healthy, ready two seconds after start, by default).
    pub fn script_default(&mut self, fate: Fate) {
        self.default_fate = fate;
    }

    /// Log lines of the containers of a workload's pods (by its name), or of pods running an
    /// image (matched as in [`KubeState::script_image`]).
    pub fn set_logs(&mut self, workload_or_image: &str, lines: &[&str]) {
        self.logs.retain(|(k, _)| k != workload_or_image);
        self.logs.push((
            workload_or_image.to_owned(),
            lines.iter().map(|l| (*l).to_owned()).collect(),
        ));
    }

    /// Denies `verb` on `resource` of API `group` (`""` for core) to every caller: access reviews
    /// answer `allowed: false` and requests get 403.
    pub fn deny(&mut self, verb: &str, group: &str, resource: &str) {
        self.denied
            .insert((verb.to_owned(), group.to_owned(), resource.to_owned()));
    }

    /// Accepts only these bearer tokens; others and none get 401. By default every caller is
    /// served, token or not: kubectl sends no token to an `http://` server.
    pub fn accept_tokens(&mut self, tokens: &[&str]) {
        self.tokens = Some(tokens.iter().map(|t| (*t).to_owned()).collect());
    }

    /// Virtual seconds each request moves the clock (1 by default; 0 leaves time to
    /// [`KubeState::advance`]).
    pub fn set_seconds_per_request(&mut self, seconds: u32) {
        self.seconds_per_request = seconds;
    }

    /// Makes the API server refuse writes of object `name` of `kind` with 422 and `message`, as
    /// an admission webhook or a validation rule would.
    pub fn reject(&mut self, kind: &str, name: &str, message: &str) {
        self.rejections
            .push((kind.to_owned(), name.to_owned(), message.to_owned()));
    }

    /// Moves virtual time `seconds` forward, one second a step: kubelets and controllers act at
    /// each step.
    pub fn advance(&mut self, seconds: u32) {
        for _ in 0..seconds {
            self.clock.tick(1);
            self.step();
        }
    }

    /// Moves the clock to `unix` seconds at once, without steps (only forward): for a stand-in
    /// served to people, whose clients show ages against the real time.
    pub fn jump_to(&mut self, unix: i64) {
        self.clock.tick(unix - self.clock.now());
    }

    /// Current virtual time, Unix seconds.
    #[must_use]
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// An object as stored, by resource (`deployments`, `pods`, `leases`…), namespace and name;
    /// a Namespace (cluster-scoped) by `("namespaces", "", name)`.
    #[must_use]
    pub fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<Value> {
        let kind = store::Kind::by_resource(resource)?;
        self.objects
            .get(&(kind.resource, namespace.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Every object of a resource in a namespace, by name (Namespaces: in `""`).
    #[must_use]
    pub fn list(&self, resource: &str, namespace: &str) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|((r, ns, _), _)| *r == resource && ns == namespace)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Creates or replaces an object directly (no admission, no field managers), as if another
    /// client had written it: a ConfigMap a test expects, a Lease another run holds, a Namespace.
    /// A namespaced object without `metadata.namespace` goes to `default`.
    pub fn put(&mut self, object: Value) {
        let kind = object["kind"].as_str().and_then(store::Kind::by_kind);
        let (Some(kind), Some(name)) = (kind, object.pointer("/metadata/name").and_then(Value::as_str))
        else {
            return;
        };
        let namespace = if kind.namespaced {
            object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_owned()
        } else {
            String::new()
        };
        let name = name.to_owned();
        let existed = self
            .objects
            .contains_key(&(kind.resource, namespace.clone(), name.clone()));
        let object = self.stamp(kind, &namespace, object, None);
        self.write(
            kind,
            &namespace,
            &name,
            object,
            if existed { "MODIFIED" } else { "ADDED" },
        );
    }

    /// Contract violations found in the stand-in's own answers (requests that break the
    /// description are refused instead, with 400).
    #[must_use]
    pub fn violations(&self) -> Vec<Violation> {
        self.violations.clone()
    }

    /// kubectl (client-go) sends no bearer token over plain http, so without
    /// [`KubeState::accept_tokens`] any caller is served, with or without one.
    fn authorized(&self, ctx: &Ctx) -> bool {
        self.tokens
            .as_ref()
            .is_none_or(|set| ctx.token().is_some_and(|t| set.contains(t)))
    }
}

/// A `Status` error body.
pub(crate) fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Reply {
    let mut body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    });
    if let Some(details) = details {
        body["details"] = details;
    }
    Reply::json(code, &body)
}

fn reason_for(code: StatusCode) -> &'static str {
    match code.as_u16() {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        _ => "InternalError",
    }
}

/// Whether an answer to `path` is described (discovery and the OpenAPI documents are not).
fn described(path: &str) -> bool {
    path.contains("/namespaces/")
        || path == "/api/v1/namespaces"
        || path.ends_with("/selfsubjectaccessreviews")
}

fn is_watch(ctx: &Ctx) -> bool {
    matches!(ctx.query("watch"), Some("1" | "true"))
}

impl Api for KubeState {
    fn routes() -> Vec<Route<Self>> {
        let mut all = discovery::routes();
        all.extend(routes::all());
        all
    }

    fn before(&mut self, ctx: &Ctx) -> Option<Reply> {
        if self.seconds_per_request > 0 {
            self.advance(self.seconds_per_request);
        }
        if !self.authorized(ctx) {
            return Some(status(401, "Unauthorized", "Unauthorized", None));
        }
        if let Some(reply) = routes::forbidden(self, ctx) {
            return Some(reply);
        }
        if described(&ctx.path) {
            return routes::check_request(ctx);
        }
        None
    }

    fn after(&mut self, ctx: &Ctx, reply: &mut Reply) {
        if !described(&ctx.path) || is_watch(ctx) {
            return;
        }
        // A container that wrote nothing has an empty log: the description's `string` body,
        // empty, which the checks (made for JSON bodies) would take for a missing one.
        let text = reply
            .headers
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"text/plain"));
        if text && reply.body.is_empty() && reply.status == StatusCode::OK {
            return;
        }
        match contract::vendored() {
            Ok(c) => {
                let found = contract::check_response(
                    &c,
                    &ctx.method,
                    &ctx.path,
                    reply.status,
                    &reply.headers,
                    &reply.body,
                );
                let seq = self.violations.len();
                self.violations.extend(found.into_iter().map(|mut v| {
                    v.exchange = format!("{} {}", ctx.method, ctx.path);
                    v.seq = v.seq.or(Some(seq));
                    v
                }));
            }
            Err(e) => self.violations.push(Violation {
                seq: None,
                exchange: format!("{} {}", ctx.method, ctx.path),
                operation: String::new(),
                location: "description".to_owned(),
                message: e,
            }),
        }
    }

    fn error(code: StatusCode, message: &str) -> Reply {
        status(code.as_u16(), reason_for(code), message, None)
    }

    fn in_contract(path: &str) -> bool {
        described(path)
    }
}

/// Verb of a request in RBAC's terms.
pub(crate) fn verb(method: &Method, named: bool, watch: bool) -> &'static str {
    match *method {
        Method::GET if watch => "watch",
        Method::GET if named => "get",
        Method::GET => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if named => "delete",
        Method::DELETE => "deletecollection",
        _ => "unknown",
    }
}

/// How `kubectl rollout status` reads a Deployment, StatefulSet or DaemonSet (its
/// `DeploymentStatusViewer`, `StatefulSetStatusViewer` and `DaemonSetStatusViewer`, kubectl
/// 1.32), word for word: the reference the stand-in's tests hold kubectl's real output to, and
/// that a client's own verdict can be compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// Still going; kubectl prints this and waits.
    Waiting(String),
    /// Finished; kubectl prints this and exits 0.
    Done(String),
    /// kubectl prints `error: ` and this, and exits 1.
    Failed(String),
}

/// kubectl's verdict on a workload, by its `kind` (see [`Rollout`]); anything but a StatefulSet
/// or a DaemonSet is read as a Deployment.
#[must_use]
pub fn kubectl_rollout_status(workload: &Value) -> Rollout {
    match workload["kind"].as_str() {
        Some("StatefulSet") => statefulset_rollout_status(workload),
        Some("DaemonSet") => daemonset_rollout_status(workload),
        _ => deployment_rollout_status(workload),
    }
}

fn statefulset_rollout_status(sts: &Value) -> Rollout {
    let num = |v: &Value| v.as_i64().unwrap_or(0);
    let (spec, status) = (&sts["spec"], &sts["status"]);
    if spec["updateStrategy"]["type"] != "RollingUpdate" {
        return Rollout::Failed(
            "rollout status is only available for RollingUpdate strategy type".to_owned(),
        );
    }
    let observed = num(&status["observedGeneration"]);
    if observed == 0 || num(&sts["metadata"]["generation"]) > observed {
        return Rollout::Waiting("Waiting for statefulset spec update to be observed...".to_owned());
    }
    let replicas = spec["replicas"].as_i64();
    let ready = num(&status["readyReplicas"]);
    if let Some(r) = replicas
        && ready < r
    {
        return Rollout::Waiting(format!("Waiting for {} pods to be ready...", r - ready));
    }
    let updated = num(&status["updatedReplicas"]);
    if spec["updateStrategy"]["rollingUpdate"].is_object() {
        if let (Some(r), Some(partition)) = (
            replicas,
            spec["updateStrategy"]["rollingUpdate"]["partition"].as_i64(),
        ) && updated < r - partition
        {
            return Rollout::Waiting(format!(
                "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...",
                r - partition
            ));
        }
        return Rollout::Done(format!(
            "partitioned roll out complete: {updated} new pods have been updated..."
        ));
    }
    let (current, update) = (&status["currentRevision"], &status["updateRevision"]);
    if update != current {
        return Rollout::Waiting(format!(
            "waiting for statefulset rolling update to complete {updated} pods at revision {}...",
            update.as_str().unwrap_or_default()
        ));
    }
    Rollout::Done(format!(
        "statefulset rolling update complete {} pods at revision {}...",
        num(&status["currentReplicas"]),
        current.as_str().unwrap_or_default()
    ))
}

fn daemonset_rollout_status(ds: &Value) -> Rollout {
    let name = ds["metadata"]["name"].as_str().unwrap_or_default();
    let num = |v: &Value| v.as_i64().unwrap_or(0);
    let status = &ds["status"];
    if ds["spec"]["updateStrategy"]["type"] != "RollingUpdate" {
        // kubectl names the StatefulSet's strategy type here; it is spelt the same.
        return Rollout::Failed(
            "rollout status is only available for RollingUpdate strategy type".to_owned(),
        );
    }
    if num(&ds["metadata"]["generation"]) > num(&status["observedGeneration"]) {
        return Rollout::Waiting("Waiting for daemon set spec update to be observed...".to_owned());
    }
    let desired = num(&status["desiredNumberScheduled"]);
    let updated = num(&status["updatedNumberScheduled"]);
    if updated < desired {
        return Rollout::Waiting(format!(
            "Waiting for daemon set \"{name}\" rollout to finish: {updated} out of {desired} new pods have been updated..."
        ));
    }
    let available = num(&status["numberAvailable"]);
    if available < desired {
        return Rollout::Waiting(format!(
            "Waiting for daemon set \"{name}\" rollout to finish: {available} of {desired} updated pods are available..."
        ));
    }
    Rollout::Done(format!("daemon set \"{name}\" successfully rolled out"))
}

fn deployment_rollout_status(deployment: &Value) -> Rollout {
    let name = deployment["metadata"]["name"].as_str().unwrap_or_default();
    let num = |v: &Value| v.as_i64().unwrap_or(0);
    let status = &deployment["status"];
    if num(&deployment["metadata"]["generation"]) > num(&status["observedGeneration"]) {
        return Rollout::Waiting("Waiting for deployment spec update to be observed...".to_owned());
    }
    let timed_out = status["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == json!("Progressing") && c["reason"] == json!("ProgressDeadlineExceeded"))
    });
    if timed_out {
        return Rollout::Failed(format!("deployment \"{name}\" exceeded its progress deadline"));
    }
    let (updated, replicas, available) = (
        num(&status["updatedReplicas"]),
        num(&status["replicas"]),
        num(&status["availableReplicas"]),
    );
    if let Some(desired) = deployment["spec"]["replicas"].as_i64()
        && updated < desired
    {
        return Rollout::Waiting(format!(
            "Waiting for deployment \"{name}\" rollout to finish: {updated} out of {desired} new replicas have been updated..."
        ));
    }
    if replicas > updated {
        return Rollout::Waiting(format!(
            "Waiting for deployment \"{name}\" rollout to finish: {} old replicas are pending termination...",
            replicas - updated
        ));
    }
    if available < updated {
        return Rollout::Waiting(format!(
            "Waiting for deployment \"{name}\" rollout to finish: {available} of {updated} updated replicas are available..."
        ));
    }
    Rollout::Done(format!("deployment \"{name}\" successfully rolled out"))
}
