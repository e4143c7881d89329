//! A stateful stand-in for DigitalOcean's API: App Platform (`/v2/apps…`), the Droplets and Load
//! Balancers a fleet deploy reads and changes (`/v2/droplets`, `/v2/load_balancers…`, see [`NewDroplet`]
//! and [`NewLoadBalancer`]), and the Kubernetes clusters and credentials a deploy to DOKS reads
//! (`/v2/kubernetes/clusters…`, see [`NewKubernetesCluster`]).
//!
//! ```no_run
//! use ops_test::digitalocean::{DoSim, Outcome, Phase};
//! use serde_json::json;
//!
//! let dosim = DoSim::start();
//! let app = dosim.with(|s| s.add_app(json!({"name": "web", "services": [{"name": "api"}]})));
//! dosim.with(|s| s.script_deployment(Outcome::fail_at(Phase::Deploying, "health check failed")));
//! // point the tool at dosim.url() (the `api-url` input), run it, then read dosim.exchanges()
//! # let _ = app;
//! ```
//!
//! Served: apps list/get/create/update/delete, propose (spec validation), deployments
//! create/list/get/cancel, logs (aggregate and per component) whose `historic_urls` the stand-in
//! also serves (under `/sim/logs/`, outside the API and its contract), rollback
//! validate/create/commit/revert, and app health; Droplets listed (by tag or name, 20 a page by
//! default, at most 200); Load Balancers listed and read, and their Droplets added and removed (422 for
//! a balancer that targets a tag); Kubernetes clusters listed (20 a page by default, at most 200) and
//! read, and credentials issued for them (a fresh token each time, for `expiry_seconds` or 7 days,
//! at most [`DoState::cap_credential_lifetime`]; see [`DoState::issued_credentials`]). A bearer token is required and every answer carries `ratelimit-*`
//! headers; a token can be made to lack scopes ([`DoState::withhold_scopes`]), which gets the 403 a
//! custom-scoped token gets.
//!
//! Every request is held to DigitalOcean's description as written, Prism or not: a body App Platform
//! would refuse (a number where the spec takes a string, such as an env `value` or an image `tag`;
//! an unknown enum value; a name outside its pattern) gets App Platform's 400 before any handler runs,
//! so no test or demo passes what the real API refuses. Unknown fields pass this check; the stricter
//! [`crate::sim::Contract::check_request`] behind Prism reports them.
//!
//! Deployments move through PENDING_BUILD → BUILDING → PENDING_DEPLOY → DEPLOYING → ACTIVE in
//! virtual time: one phase per `GET` of the deployment (see [`DoState::set_polls_per_phase`]) or
//! per [`DoState::advance`]. A scripted [`Outcome`] ends one in ERROR (with
//! `progress.steps[].reason`) or stalls it.

mod doks;
mod fleet;
mod json;
mod routes;
mod schema;
mod scopes;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::OnceLock;

use http::StatusCode;
use serde_json::{Value, json};

pub use self::doks::{
    ClusterState, DEFAULT_CREDENTIAL_SECONDS, IssuedCredentials, KubernetesCluster, NewKubernetesCluster,
    PLACEHOLDER_CA_PEM,
};
pub use self::fleet::{
    Droplet, DropletStatus, HealthCheck, HealthProtocol, LbTarget, NetworkType, NewDroplet, NewLoadBalancer,
};
pub use self::schema::app_spec_fields;
pub(crate) use self::schema::fill_gaps;
use crate::sim::{Api, Checked, Clock, Ctx, Reply, Route, Sim, Spec};

/// The DigitalOcean stand-in.
pub type DoSim = Sim<DoState>;

/// The shared, Prism-fronted DigitalOcean stand-in of this test process (started on first use).
///
/// Tests share it; apps get unique ids, so tests do not see each other's state.
///
/// # Panics
/// When Prism cannot start; the message says how to install it (`scripts/setup-node`).
#[must_use]
pub fn checked() -> &'static Checked<DoState> {
    static CELL: OnceLock<Result<Checked<DoState>, String>> = OnceLock::new();
    match CELL.get_or_init(|| Checked::start(Spec::DigitalOcean).map_err(|e| e.to_string())) {
        Ok(checked) => checked,
        Err(e) => panic!("the Prism-checked DigitalOcean stand-in is unavailable: {e}"),
    }
}

/// A deployment phase, as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `PENDING_BUILD`
    PendingBuild,
    /// `BUILDING`
    Building,
    /// `PENDING_DEPLOY`
    PendingDeploy,
    /// `DEPLOYING`
    Deploying,
    /// `ACTIVE`
    Active,
    /// `SUPERSEDED`
    Superseded,
    /// `ERROR`
    Error,
    /// `CANCELED`
    Canceled,
}

impl Phase {
    /// The API's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingBuild => "PENDING_BUILD",
            Self::Building => "BUILDING",
            Self::PendingDeploy => "PENDING_DEPLOY",
            Self::Deploying => "DEPLOYING",
            Self::Active => "ACTIVE",
            Self::Superseded => "SUPERSEDED",
            Self::Error => "ERROR",
            Self::Canceled => "CANCELED",
        }
    }

    /// Whether the deployment has stopped moving.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Active | Self::Superseded | Self::Error | Self::Canceled
        )
    }

    fn next(self) -> Self {
        match self {
            Self::PendingBuild => Self::Building,
            Self::Building => Self::PendingDeploy,
            Self::PendingDeploy => Self::Deploying,
            Self::Deploying => Self::Active,
            other => other,
        }
    }

    /// Whether the phase belongs to the build half (a failure there is a build failure).
    fn is_build(self) -> bool {
        matches!(self, Self::PendingBuild | Self::Building)
    }
}

/// How a deployment ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Through every phase to ACTIVE.
    Succeed,
    /// To ERROR when leaving `phase`, with this reason on the failing progress step.
    FailAt {
        /// The phase that fails.
        phase: Phase,
        /// `progress.steps[].reason.code`.
        code: String,
        /// `progress.steps[].reason.message`.
        message: String,
    },
    /// Stays in `phase` for good (until cancelled or superseded).
    StallAt(Phase),
}

impl Outcome {
    /// Fails at `phase` with a generic code and this message.
    #[must_use]
    pub fn fail_at(phase: Phase, message: &str) -> Self {
        let code = if phase.is_build() {
            "BuildJobFailed"
        } else {
            "DeployContainerHealthChecksFailed"
        };
        Self::FailAt {
            phase,
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }
}

/// A token's rate-limit budget (DigitalOcean: 5,000 per hour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Requests per window.
    pub limit: u64,
    /// Requests spent in this window.
    pub used: u64,
    /// End of the window, Unix seconds (virtual time).
    pub reset: i64,
}

impl Budget {
    /// Requests left.
    #[must_use]
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct App {
    pub(crate) id: String,
    pub(crate) spec: Value,
    pub(crate) project_id: String,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) active: Option<String>,
    pub(crate) in_progress: Option<String>,
    pub(crate) pinned: Option<String>,
    /// The spec from before a rollback, restored by a revert.
    pub(crate) before_rollback: Option<Value>,
}

#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    pub(crate) id: String,
    pub(crate) app_id: String,
    pub(crate) spec: Value,
    pub(crate) phase: Phase,
    pub(crate) outcome: Outcome,
    /// The phase an ERROR happened in.
    pub(crate) failed_in: Option<Phase>,
    pub(crate) polls: u32,
    pub(crate) cause: String,
    pub(crate) kind: String,
    pub(crate) cloned_from: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) phase_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct ComponentHealth {
    pub(crate) name: String,
    pub(crate) state: String,
    pub(crate) ready: i64,
    pub(crate) desired: i64,
}

/// Everything the DigitalOcean stand-in knows; script it through [`Sim::with`].
#[derive(Debug)]
pub struct DoState {
    pub(crate) clock: Clock,
    counter: u64,
    pub(crate) apps: Vec<App>,
    pub(crate) deployments: Vec<Deployment>,
    scripted: VecDeque<Outcome>,
    polls_per_phase: u32,
    accepted_tokens: Option<HashSet<String>>,
    budgets: HashMap<String, Budget>,
    limit: u64,
    pub(crate) logs: HashMap<(String, String), String>,
    pub(crate) health: HashMap<String, Vec<ComponentHealth>>,
    pub(crate) spec_rejections: VecDeque<String>,
    /// Live URLs by app name, for apps whose "live URL" is a real local server (demos).
    pub(crate) ingress: HashMap<String, String>,
    pub(crate) droplets: Vec<Droplet>,
    droplets_made: u64,
    pub(crate) load_balancers: Vec<fleet::LoadBalancer>,
    pub(crate) watchers: HashMap<String, fleet::Watcher>,
    /// Scopes each token lacks.
    withheld: HashMap<String, HashSet<String>>,
    pub(crate) kubernetes_clusters: Vec<KubernetesCluster>,
    node_droplets_made: u64,
    credential_cap: Option<u64>,
    issued: Vec<IssuedCredentials>,
    credential_hook: Option<doks::CredentialHook>,
}

impl Default for DoState {
    fn default() -> Self {
        Self {
            clock: Clock::default(),
            counter: 0,
            apps: Vec::new(),
            deployments: Vec::new(),
            scripted: VecDeque::new(),
            polls_per_phase: 1,
            accepted_tokens: None,
            budgets: HashMap::new(),
            limit: 5_000,
            logs: HashMap::new(),
            health: HashMap::new(),
            spec_rejections: VecDeque::new(),
            ingress: HashMap::new(),
            droplets: Vec::new(),
            droplets_made: 0,
            load_balancers: Vec::new(),
            watchers: HashMap::new(),
            withheld: HashMap::new(),
            kubernetes_clusters: Vec::new(),
            node_droplets_made: 0,
            credential_cap: None,
            issued: Vec::new(),
            credential_hook: None,
        }
    }
}

/// Virtual seconds a phase takes, so timestamps in bodies move like a real rollout's.
const PHASE_SECONDS: i64 = 20;

impl DoState {
    pub(crate) fn uuid(&mut self, kind: u16) -> String {
        self.counter += 1;
        format!(
            "{:08x}-{kind:04x}-4000-8000-{:012x}",
            0x5eed_0000_u32, self.counter
        )
    }

    pub(crate) fn app(&self, id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.id == id)
    }

    pub(crate) fn app_mut(&mut self, id: &str) -> Option<&mut App> {
        self.apps.iter_mut().find(|a| a.id == id)
    }

    pub(crate) fn deployment(&self, id: &str) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.id == id)
    }

    /// Current virtual time (Unix seconds).
    #[must_use]
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Moves the clock to `unix` seconds at once (only forward): to line the stand-in's timestamps,
    /// such as a credential's `expires_at`, up with a client's clock.
    pub fn jump_to(&mut self, unix: i64) {
        self.clock.tick(unix - self.clock.now());
    }

    /// Adds an app that is already deployed (one ACTIVE deployment); returns its id.
    pub fn add_app(&mut self, spec: Value) -> String {
        let id = self.create_app(spec, String::new());
        let dep = self.create_deployment(&id, "initial deployment", "MANUAL", None);
        if let Some(d) = self.deployments.iter_mut().find(|d| d.id == dep) {
            d.outcome = Outcome::Succeed;
        }
        while self.deployment(&dep).is_some_and(|d| !d.phase.is_terminal()) {
            self.step(&dep);
        }
        id
    }

    /// The outcome of the next deployment created (by any request); queued in order.
    pub fn script_deployment(&mut self, outcome: Outcome) {
        self.scripted.push_back(outcome);
    }

    /// How many `GET`s of a deployment move it one phase (default 1; 0 means never: only
    /// [`DoState::advance`] moves it).
    pub fn set_polls_per_phase(&mut self, polls: u32) {
        self.polls_per_phase = polls;
    }

    /// Moves every unfinished deployment one phase.
    pub fn advance(&mut self) {
        let ids: Vec<String> = self
            .deployments
            .iter()
            .filter(|d| !d.phase.is_terminal())
            .map(|d| d.id.clone())
            .collect();
        for id in ids {
            self.step(&id);
        }
    }

    /// Moves one deployment one phase.
    pub fn advance_deployment(&mut self, id: &str) {
        self.step(id);
    }

    /// A deployment's phase.
    #[must_use]
    pub fn phase(&self, deployment_id: &str) -> Option<Phase> {
        self.deployment(deployment_id).map(|d| d.phase)
    }

    /// The deployment an app is pinned to (after a rollback, until commit or revert).
    #[must_use]
    pub fn pinned(&self, app_id: &str) -> Option<String> {
        self.app(app_id).and_then(|a| a.pinned.clone())
    }

    /// The app's active deployment.
    #[must_use]
    pub fn active(&self, app_id: &str) -> Option<String> {
        self.app(app_id).and_then(|a| a.active.clone())
    }

    /// Ids of an app's deployments, oldest first.
    #[must_use]
    pub fn deployment_ids(&self, app_id: &str) -> Vec<String> {
        self.deployments
            .iter()
            .filter(|d| d.app_id == app_id)
            .map(|d| d.id.clone())
            .collect()
    }

    /// Text served at a deployment's historic log URL for `log_type` (`BUILD`, `DEPLOY`, `RUN`).
    pub fn set_logs(&mut self, deployment_id: &str, log_type: &str, text: &str) {
        self.logs
            .insert((deployment_id.to_owned(), log_type.to_owned()), text.to_owned());
    }

    /// What `/health` reports for one component.
    pub fn set_health(&mut self, app_id: &str, component: &str, healthy: bool, ready: i64, desired: i64) {
        let list = self.health.entry(app_id.to_owned()).or_default();
        list.retain(|c| c.name != component);
        list.push(ComponentHealth {
            name: component.to_owned(),
            state: if healthy { "HEALTHY" } else { "UNHEALTHY" }.to_owned(),
            ready,
            desired,
        });
    }

    /// Makes the app named `app_name` (now or once created) report `url` as its live URL, so a client
    /// that follows `live_url` reaches a real server, e.g. `http://127.0.0.1:8080`.
    pub fn set_live_url(&mut self, app_name: &str, url: &str) {
        self.ingress
            .insert(app_name.to_owned(), url.trim_end_matches('/').to_owned());
    }

    /// The next propose/create/update is rejected with this validation message.
    pub fn reject_next_spec(&mut self, message: &str) {
        self.spec_rejections.push_back(message.to_owned());
    }

    /// Only these bearer tokens are accepted (by default any is).
    pub fn accept_only_tokens(&mut self, tokens: &[&str]) {
        self.accepted_tokens = Some(tokens.iter().map(|t| (*t).to_owned()).collect());
    }

    /// Requests per hour for every token (default 5,000).
    pub fn set_rate_limit(&mut self, limit: u64) {
        self.limit = limit;
        for b in self.budgets.values_mut() {
            b.limit = limit;
        }
    }

    /// A token's budget as the stand-in counts it.
    pub fn budget(&mut self, token: &str) -> Budget {
        *self.budget_entry(token)
    }

    fn budget_entry(&mut self, token: &str) -> &mut Budget {
        let (now, limit) = (self.clock.now(), self.limit);
        let b = self.budgets.entry(token.to_owned()).or_insert(Budget {
            limit,
            used: 0,
            reset: now + 3_600,
        });
        if now >= b.reset {
            *b = Budget {
                limit,
                used: 0,
                reset: now + 3_600,
            };
        }
        b
    }

    pub(crate) fn create_app(&mut self, spec: Value, project_id: String) -> String {
        let id = self.uuid(0xa);
        let now = self.now();
        self.apps.push(App {
            id: id.clone(),
            spec,
            project_id,
            created_at: now,
            updated_at: now,
            active: None,
            in_progress: None,
            pinned: None,
            before_rollback: None,
        });
        id
    }

    /// Starts a deployment of the app's current spec; an unfinished one is superseded.
    pub(crate) fn create_deployment(
        &mut self,
        app_id: &str,
        cause: &str,
        kind: &str,
        cloned_from: Option<String>,
    ) -> String {
        let id = self.uuid(0xd);
        let now = self.now();
        let outcome = self.scripted.pop_front().unwrap_or(Outcome::Succeed);
        let spec = self.app(app_id).map(|a| a.spec.clone()).unwrap_or_default();
        for d in self
            .deployments
            .iter_mut()
            .filter(|d| d.app_id == app_id && !d.phase.is_terminal())
        {
            d.phase = Phase::Superseded;
            d.phase_at = now;
        }
        self.deployments.push(Deployment {
            id: id.clone(),
            app_id: app_id.to_owned(),
            spec,
            phase: Phase::PendingBuild,
            outcome,
            failed_in: None,
            polls: 0,
            cause: cause.to_owned(),
            kind: kind.to_owned(),
            cloned_from,
            created_at: now,
            updated_at: now,
            phase_at: now,
        });
        if let Some(app) = self.app_mut(app_id) {
            app.in_progress = Some(id.clone());
        }
        id
    }

    /// A `GET` of the deployment: counts towards the next phase.
    pub(crate) fn poll(&mut self, id: &str) {
        let per = self.polls_per_phase;
        let Some(d) = self.deployments.iter_mut().find(|d| d.id == id) else {
            return;
        };
        if per == 0 || d.phase.is_terminal() {
            return;
        }
        d.polls += 1;
        if d.polls >= per {
            d.polls = 0;
            self.step(id);
        }
    }

    fn step(&mut self, id: &str) {
        self.clock.tick(PHASE_SECONDS);
        let now = self.clock.now();
        let Some(d) = self.deployments.iter_mut().find(|d| d.id == id) else {
            return;
        };
        if d.phase.is_terminal() {
            return;
        }
        let next = match &d.outcome {
            Outcome::StallAt(p) if *p == d.phase => return,
            Outcome::FailAt { phase, .. } if *phase == d.phase => {
                d.failed_in = Some(d.phase);
                Phase::Error
            }
            _ => d.phase.next(),
        };
        d.phase = next;
        d.phase_at = now;
        d.updated_at = now;
        let (app_id, dep_id) = (d.app_id.clone(), d.id.clone());
        if next.is_terminal() {
            let previous = self.app(&app_id).and_then(|a| a.active.clone());
            if next == Phase::Active
                && let Some(prev) = previous
                && let Some(p) = self.deployments.iter_mut().find(|p| p.id == prev)
            {
                p.phase = Phase::Superseded;
                p.phase_at = now;
            }
            if let Some(app) = self.app_mut(&app_id) {
                if app.in_progress.as_deref() == Some(dep_id.as_str()) {
                    app.in_progress = None;
                }
                if next == Phase::Active {
                    app.active = Some(dep_id);
                }
                app.updated_at = now;
            }
        }
    }
}

/// DigitalOcean's error body.
pub(crate) fn error(status: StatusCode, message: &str) -> Reply {
    let id = match status.as_u16() {
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        422 => "unprocessable_entity",
        429 => "too_many_requests",
        500..=599 => "server_error",
        _ => "bad_request",
    };
    Reply::json(
        status.as_u16(),
        &json!({ "id": id, "message": message, "request_id": "5eed0000-sim" }),
    )
}

impl Api for DoState {
    fn routes() -> Vec<Route<Self>> {
        routes::all()
    }

    fn before(&mut self, ctx: &Ctx) -> Option<Reply> {
        self.clock.tick(1);
        if !Self::in_contract(&ctx.path) {
            return None;
        }
        let accepted = ctx
            .token()
            .is_some_and(|t| self.accepted_tokens.as_ref().is_none_or(|set| set.contains(t)));
        if !accepted {
            return Some(error(StatusCode::UNAUTHORIZED, "Unable to authenticate you"));
        }
        let budget = *self.budget_entry(ctx.token().unwrap_or_default());
        if budget.remaining() == 0 {
            return Some(error(StatusCode::TOO_MANY_REQUESTS, "API Rate limit exceeded."));
        }
        if let Some(withheld) = ctx.token().and_then(|t| self.withheld.get(t))
            && scopes::forbidden(ctx, withheld)
        {
            // DigitalOcean's words for a token without the scope (its description's example).
            return Some(error(
                StatusCode::FORBIDDEN,
                "You do not have access for the attempted action.",
            ));
        }
        schema::check(ctx)
    }

    fn after(&mut self, ctx: &Ctx, reply: &mut Reply) {
        if !Self::in_contract(&ctx.path) {
            return;
        }
        let budget = self.budget_entry(ctx.token().unwrap_or_default());
        if budget.used < budget.limit {
            budget.used += 1;
        }
        let b = *budget;
        reply.set_header("ratelimit-limit", &b.limit.to_string());
        reply.set_header("ratelimit-remaining", &b.remaining().to_string());
        reply.set_header("ratelimit-reset", &b.reset.to_string());
    }

    fn error(status: StatusCode, message: &str) -> Reply {
        error(status, message)
    }

    fn in_contract(path: &str) -> bool {
        !path.starts_with("/sim/")
    }
}
