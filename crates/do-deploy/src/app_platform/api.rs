//! DigitalOcean's App Platform API (`/v2/apps…`), on ops-net's client.
//!
//! Every request carries `Accept: application/json` (the description allows JSON or YAML for some
//! operations, and a proxy that checks it rejects `*/*`). Body-less operations (cancel, rollback
//! commit and revert) are sent without a body. ops-net retries what is safe to retry (GETs, and any
//! request the server refused with a 429 or 503) and never re-sends a POST that may have reached the
//! server. The requests that create something go through ops-net's create
//! ([`ops_net::HttpClient::create`]): creating an app, creating a deployment, and updating an app,
//! which is a `PUT` but starts a deployment per call, so a blind re-send would start two. When the
//! answer to one is lost, the caller's look-up searches for what it created before anything is sent
//! again.
//!
//! The log archives `/logs` points to live on another host under signed URLs: they are fetched with a
//! second client that carries no token.

use std::future::Future;
use std::time::Duration;

use http::header::{ACCEPT, RANGE};
use http::{HeaderValue, Method, StatusCode};
use ops_core::Secret;
use ops_core::secret::redact_url;
use ops_net::{
    Created, ErrorKind, HttpClient, HttpClientBuilder, LostAnswer, Request, Response, RetryPolicy,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::Error;

/// Page size for list calls (the API's maximum is 200).
const PAGE_SIZE: usize = 200;
/// Upper bound on pages walked when looking an app up by name.
const MAX_PAGES: usize = 50;
/// How much of a log archive to ask for: its tail.
const ARCHIVE_TAIL_BYTES: usize = 256 * 1024;

/// An app, as far as deploying needs it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct App {
    /// The app's ID.
    #[serde(default)]
    pub id: String,
    /// Its current spec.
    #[serde(default)]
    pub spec: Value,
    /// Where it serves, once a deployment of an HTTP component is live.
    #[serde(default)]
    pub live_url: Option<String>,
    /// The deployment serving now.
    #[serde(default)]
    pub active_deployment: Option<Deployment>,
    /// The deployment running now, if any.
    #[serde(default)]
    pub in_progress_deployment: Option<Deployment>,
    /// The most recent pending deployment: for a create or update, the one it started.
    #[serde(default)]
    pub pending_deployment: Option<Deployment>,
    /// Set while a rollback waits for commit or revert.
    #[serde(default)]
    pub pinned_deployment: Option<Deployment>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// When a deployment last became active.
    #[serde(default)]
    pub last_deployment_active_at: Option<String>,
}

impl App {
    /// The app's name (from its spec).
    pub fn name(&self) -> &str {
        self.spec.get("name").and_then(Value::as_str).unwrap_or_default()
    }

    /// The ID of the deployment serving now.
    pub fn active_id(&self) -> Option<&str> {
        self.active_deployment
            .as_ref()
            .map(|d| d.id.as_str())
            .filter(|s| !s.is_empty())
    }
}

/// A deployment.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Deployment {
    /// The deployment's ID.
    #[serde(default)]
    pub id: String,
    /// `PENDING_BUILD`, `BUILDING`, …, `ACTIVE`, `SUPERSEDED`, `ERROR`, `CANCELED`.
    #[serde(default)]
    pub phase: String,
    /// What started it.
    #[serde(default)]
    pub cause: Option<String>,
    /// Steps and their statuses.
    #[serde(default)]
    pub progress: Option<Progress>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<String>,
    /// The deployment a rollback redeploys.
    #[serde(default)]
    pub cloned_from: Option<String>,
}

impl Deployment {
    /// Whether the phase is final.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.phase.as_str(),
            "ACTIVE" | "SUPERSEDED" | "ERROR" | "CANCELED"
        )
    }

    /// Whether every step succeeded (a SUPERSEDED deployment that went live once).
    pub fn all_steps_succeeded(&self) -> bool {
        self.progress.as_ref().is_some_and(|p| {
            !p.steps.is_empty() && p.steps.iter().all(|s| s.status.as_deref() == Some("SUCCESS"))
        })
    }
}

/// A deployment's progress.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Progress {
    /// The steps, each with child steps.
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// One step of a deployment.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Step {
    /// The step's name (`build`, `deploy`, …).
    #[serde(default)]
    pub name: String,
    /// `PENDING`, `RUNNING`, `ERROR` or `SUCCESS`.
    #[serde(default)]
    pub status: Option<String>,
    /// Why it failed.
    #[serde(default)]
    pub reason: Option<Reason>,
    /// The component it belongs to.
    #[serde(default)]
    pub component_name: Option<String>,
    /// A readable description to combine with the component name.
    #[serde(default)]
    pub message_base: Option<String>,
    /// Child steps.
    #[serde(default)]
    pub steps: Vec<Self>,
}

impl Step {
    /// `build`, `build › api`, or `Building service › api`.
    pub fn label(&self) -> String {
        let base = self
            .message_base
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(self.name.as_str());
        match self.component_name.as_deref().filter(|s| !s.is_empty()) {
            Some(c) => format!("{base} › {c}"),
            None => base.to_owned(),
        }
    }
}

/// A step's failure reason.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Reason {
    /// A code such as `BuildJobFailed`.
    #[serde(default)]
    pub code: Option<String>,
    /// The message.
    #[serde(default)]
    pub message: Option<String>,
}

/// The answer to `POST /v2/apps/propose`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Proposal {
    /// The spec as App Platform normalised it.
    #[serde(default)]
    pub spec: Value,
    /// Whether a new app could take the name.
    #[serde(default)]
    pub app_name_available: Option<bool>,
    /// Monthly cost in USD.
    #[serde(default)]
    pub app_cost: Option<f64>,
    /// A free name, when the name is taken.
    #[serde(default)]
    pub app_name_suggestion: Option<String>,
}

/// The answer to a rollback validation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RollbackCheck {
    /// Whether the rollback can go ahead.
    #[serde(default)]
    pub valid: bool,
    /// What blocks it.
    #[serde(default)]
    pub error: Option<Condition>,
    /// What makes it less than ideal.
    #[serde(default)]
    pub warnings: Vec<Condition>,
}

/// A rollback condition.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Condition {
    /// `incompatible_phase`, `image_source_missing_digest`, …
    #[serde(default)]
    pub code: Option<String>,
    /// The message.
    #[serde(default)]
    pub message: Option<String>,
    /// The components concerned.
    #[serde(default)]
    pub components: Vec<String>,
}

impl Condition {
    /// `code: message (components a, b)`.
    pub fn describe(&self) -> String {
        let mut text = match (&self.code, &self.message) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.clone(),
            (None, Some(m)) => m.clone(),
            (None, None) => "no reason given".to_owned(),
        };
        if !self.components.is_empty() {
            text.push_str(&format!(" (components: {})", self.components.join(", ")));
        }
        text
    }
}

/// A component's health.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ComponentHealth {
    /// The component.
    #[serde(default)]
    pub name: String,
    /// `HEALTHY`, `UNHEALTHY` or `UNKNOWN`.
    #[serde(default)]
    pub state: Option<String>,
    /// Ready replicas.
    #[serde(default)]
    pub replicas_ready: Option<i64>,
    /// Wanted replicas.
    #[serde(default)]
    pub replicas_desired: Option<i64>,
}

/// What an API call that may be refused for its content answered.
#[derive(Debug)]
pub enum Verdict<T> {
    /// Accepted.
    Ok(T),
    /// Refused with a 4xx and App Platform's message (bad spec, name taken, pinned app).
    Refused {
        /// The status.
        status: StatusCode,
        /// App Platform's message.
        message: String,
    },
}

/// Why a create failed: the API, or the look-up after a lost answer.
#[derive(Debug)]
pub enum CreateError {
    /// The request, or a request of the look-up, failed.
    Api(ops_net::Error),
    /// The look-up could not tell what the request created (several candidates).
    Lookup(Error),
}

impl From<ops_net::Error> for CreateError {
    fn from(e: ops_net::Error) -> Self {
        Self::Api(e)
    }
}

impl CreateError {
    /// The error, an API failure saying what we were doing.
    pub fn into_error(self, context: impl Into<String>) -> Error {
        match self {
            Self::Api(e) => Error::api(context, e),
            Self::Lookup(e) => e,
        }
    }
}

/// What the look-up after a lost answer to a create says: `Ok(Some(_))` when it found what the
/// request created, `Ok(None)` when nothing was created (the request may be sent again).
pub type Found<T> = Result<Option<T>, CreateError>;

/// The App Platform client.
#[derive(Debug, Clone)]
pub struct Api {
    http: HttpClient,
    archives: HttpClient,
    base: String,
}

impl Api {
    /// A client for `base_url` (`https://api.digitalocean.com`; a trailing `/v2` is accepted).
    pub fn new(
        base_url: &str,
        token: Secret,
        policy: RetryPolicy,
        on_retry: impl Fn(&ops_net::RetryEvent) + Send + Sync + Clone + 'static,
    ) -> Result<Self, Error> {
        let base = base_url.trim().trim_end_matches('/');
        let base = base.strip_suffix("/v2").unwrap_or(base).to_owned();
        if url::Url::parse(&base).map(|u| matches!(u.scheme(), "http" | "https")) != Ok(true) {
            return Err(Error::input(
                format!("input `api-url` is not an http(s) URL: `{}`", redact_url(&base)),
                None,
            ));
        }
        let builder = || {
            HttpClientBuilder::default()
                .retry_policy(policy.clone())
                .on_retry(on_retry.clone())
                .default_header(ACCEPT, HeaderValue::from_static("application/json"))
        };
        let http = builder()
            .bearer_token(token)
            .build()
            .map_err(|e| Error::api("could not set up the HTTP client", e))?;
        let archives = builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::api("could not set up the HTTP client", e))?;
        Ok(Self { http, archives, base })
    }

    /// The API client (usage and rate-limit record).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ops_net::Error> {
        self.http.send(Request::get(&self.url(path))?).await?.json()
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: Option<&Value>) -> Result<T, ops_net::Error> {
        let mut request = Request::new(Method::POST, &self.url(path))?;
        if let Some(body) = body {
            request = request.json(body)?;
        }
        self.http.send(request).await?.json()
    }

    /// A request whose 4xx answer is a verdict on what we sent, not a failure of the API.
    async fn judged<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &Value,
    ) -> Result<Verdict<T>, ops_net::Error> {
        let request = Request::new(method.clone(), &self.url(path))?
            .json(body)?
            .accept_any_status();
        let response = self.http.send(request).await?;
        verdict(&method, &redact_url(&self.url(path)), &response)
    }

    /// A judged request that creates something, sent with ops-net's create: `lookup` is asked what
    /// a request whose answer was lost created, and only its `None` lets the request go again.
    async fn judged_create<T, L, F>(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        decode: fn(Value) -> Result<T, ops_net::Error>,
        lookup: L,
    ) -> Result<Created<Verdict<T>>, CreateError>
    where
        L: FnMut(LostAnswer) -> F,
        F: Future<Output = Found<Verdict<T>>>,
    {
        let shown = redact_url(&self.url(path));
        let request = Request::new(method.clone(), &self.url(path))?
            .json(body)?
            .accept_any_status();
        let read = |response: Response| match verdict::<Value>(&method, &shown, &response)? {
            Verdict::Ok(value) => decode(value).map(Verdict::Ok),
            Verdict::Refused { status, message } => Ok(Verdict::Refused { status, message }),
        };
        self.http.create(request, read, lookup).await
    }

    /// `GET /v2/apps/{id}`.
    pub async fn app(&self, id: &str) -> Result<App, ops_net::Error> {
        let body: Value = self.get(&format!("/v2/apps/{id}")).await?;
        app_of(body)
    }

    /// Finds an app by name, walking `GET /v2/apps` page by page.
    pub async fn find_app(&self, name: &str) -> Result<Option<App>, ops_net::Error> {
        for app in self.all_apps(Some(name)).await? {
            if app.name() == name {
                return Ok(Some(app));
            }
        }
        Ok(None)
    }

    /// Every app (stops early at `stop_at`'s name).
    pub async fn all_apps(&self, stop_at: Option<&str>) -> Result<Vec<App>, ops_net::Error> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let body: Value = self
                .get(&format!("/v2/apps?page={page}&per_page={PAGE_SIZE}"))
                .await?;
            let apps: Vec<App> =
                serde_json::from_value(body.get("apps").cloned().unwrap_or(Value::Null)).unwrap_or_default();
            let found = stop_at.is_some_and(|n| apps.iter().any(|a| a.name() == n));
            let more = body.pointer("/links/pages/next").is_some_and(|v| v.is_string());
            let empty = apps.is_empty();
            out.extend(apps);
            if found || !more || empty {
                break;
            }
        }
        Ok(out)
    }

    /// `POST /v2/apps/propose`: validation and cost, changing nothing.
    pub async fn propose(
        &self,
        spec: &Value,
        app_id: Option<&str>,
    ) -> Result<Verdict<Proposal>, ops_net::Error> {
        let mut body = json!({ "spec": spec });
        if let Some(id) = app_id {
            body["app_id"] = json!(id);
        }
        self.judged(Method::POST, "/v2/apps/propose", &body).await
    }

    /// `POST /v2/apps`, as a create: after a lost answer, `lookup` looks for the app (its name is
    /// the marker: no app had it before).
    pub async fn create_app<L, F>(
        &self,
        spec: &Value,
        project_id: Option<&str>,
        lookup: L,
    ) -> Result<Created<Verdict<App>>, CreateError>
    where
        L: FnMut(LostAnswer) -> F,
        F: Future<Output = Found<Verdict<App>>>,
    {
        let mut body = json!({ "spec": spec });
        if let Some(p) = project_id {
            body["project_id"] = json!(p);
        }
        self.judged_create(Method::POST, "/v2/apps", &body, app_of, lookup)
            .await
    }

    /// `PUT /v2/apps/{id}` with `update_all_source_versions` (so a config-only change still picks up
    /// new commits and images, app_action #123). App Platform starts a deployment per update, so this
    /// is a create: never re-sent after it may have arrived; after a lost answer, `lookup` looks for
    /// the deployment it started.
    pub async fn update_app<L, F>(
        &self,
        id: &str,
        spec: &Value,
        lookup: L,
    ) -> Result<Created<Verdict<App>>, CreateError>
    where
        L: FnMut(LostAnswer) -> F,
        F: Future<Output = Found<Verdict<App>>>,
    {
        let body = json!({ "spec": spec, "update_all_source_versions": true });
        self.judged_create(Method::PUT, &format!("/v2/apps/{id}"), &body, app_of, lookup)
            .await
    }

    /// `DELETE /v2/apps/{id}`.
    pub async fn delete_app(&self, id: &str) -> Result<(), ops_net::Error> {
        self.http
            .send(Request::new(
                Method::DELETE,
                &self.url(&format!("/v2/apps/{id}")),
            )?)
            .await
            .map(drop)
    }

    /// `POST /v2/apps/{id}/deployments`, as a create: never re-sent after it may have arrived; after
    /// a lost answer, `lookup` looks for the deployment it started.
    pub async fn create_deployment<L, F>(
        &self,
        app_id: &str,
        force_build: bool,
        lookup: L,
    ) -> Result<Created<Deployment>, CreateError>
    where
        L: FnMut(LostAnswer) -> F,
        F: Future<Output = Found<Deployment>>,
    {
        let request = Request::new(Method::POST, &self.url(&format!("/v2/apps/{app_id}/deployments")))?
            .json(&json!({ "force_build": force_build }))?;
        let read = |response: Response| response.json::<Value>().and_then(deployment_of);
        self.http.create(request, read, lookup).await
    }

    /// The newest deployments first.
    pub async fn deployments(
        &self,
        app_id: &str,
        per_page: usize,
    ) -> Result<Vec<Deployment>, ops_net::Error> {
        let body: Value = self
            .get(&format!(
                "/v2/apps/{app_id}/deployments?page=1&per_page={per_page}"
            ))
            .await?;
        Ok(
            serde_json::from_value(body.get("deployments").cloned().unwrap_or(Value::Null))
                .unwrap_or_default(),
        )
    }

    /// `GET …/deployments/{id}`.
    pub async fn deployment(&self, app_id: &str, id: &str) -> Result<Deployment, ops_net::Error> {
        let body: Value = self.get(&format!("/v2/apps/{app_id}/deployments/{id}")).await?;
        deployment_of(body)
    }

    /// `POST …/deployments/{id}/cancel` (no body).
    pub async fn cancel(&self, app_id: &str, id: &str) -> Result<Deployment, ops_net::Error> {
        let body: Value = self
            .post(&format!("/v2/apps/{app_id}/deployments/{id}/cancel"), None)
            .await?;
        deployment_of(body)
    }

    /// The archive URLs of a deployment's logs of one type (`BUILD`, `DEPLOY`).
    pub async fn log_urls(&self, app_id: &str, id: &str, kind: &str) -> Result<Vec<String>, ops_net::Error> {
        let body: Value = self
            .get(&format!(
                "/v2/apps/{app_id}/deployments/{id}/logs?type={kind}&follow=false"
            ))
            .await?;
        Ok(body
            .get("historic_urls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect())
    }

    /// The tail of a log archive, without the token (the URL is signed).
    pub async fn archive(&self, url: &str) -> Result<String, ops_net::Error> {
        let request = Request::get(url)?.header(
            RANGE,
            HeaderValue::from_str(&format!("bytes=-{ARCHIVE_TAIL_BYTES}"))
                .unwrap_or(HeaderValue::from_static("bytes=0-")),
        );
        Ok(self.archives.send(request).await?.text())
    }

    /// `POST …/rollback/validate`.
    pub async fn validate_rollback(
        &self,
        app_id: &str,
        target: &str,
    ) -> Result<RollbackCheck, ops_net::Error> {
        self.post(
            &format!("/v2/apps/{app_id}/rollback/validate"),
            Some(&json!({ "deployment_id": target })),
        )
        .await
    }

    /// `POST …/rollback`: pinned until committed or reverted.
    pub async fn rollback(&self, app_id: &str, target: &str) -> Result<Deployment, ops_net::Error> {
        let body: Value = self
            .post(
                &format!("/v2/apps/{app_id}/rollback"),
                Some(&json!({ "deployment_id": target, "skip_pin": false })),
            )
            .await?;
        deployment_of(body)
    }

    /// `POST …/rollback/commit` (no body).
    pub async fn commit_rollback(&self, app_id: &str) -> Result<(), ops_net::Error> {
        self.http
            .send(Request::new(
                Method::POST,
                &self.url(&format!("/v2/apps/{app_id}/rollback/commit")),
            )?)
            .await
            .map(drop)
    }

    /// `POST …/rollback/revert` (no body): redeploys the spec from before the rollback.
    pub async fn revert_rollback(&self, app_id: &str) -> Result<Deployment, ops_net::Error> {
        let body: Value = self
            .post(&format!("/v2/apps/{app_id}/rollback/revert"), None)
            .await?;
        deployment_of(body)
    }

    /// `GET …/health`.
    pub async fn health(&self, app_id: &str) -> Result<Vec<ComponentHealth>, ops_net::Error> {
        let body: Value = self.get(&format!("/v2/apps/{app_id}/health")).await?;
        Ok(serde_json::from_value(
            body.pointer("/app_health/components")
                .cloned()
                .unwrap_or(Value::Null),
        )
        .unwrap_or_default())
    }
}

/// A judged answer: a success, App Platform's refusal of what we sent (a 4xx other than 401, 403,
/// 404 and 429), or an error.
fn verdict<T: DeserializeOwned>(
    method: &Method,
    shown: &str,
    response: &Response,
) -> Result<Verdict<T>, ops_net::Error> {
    let status = response.status();
    if status.is_success() {
        return response.json().map(Verdict::Ok);
    }
    if status.is_client_error() && !matches!(status.as_u16(), 401 | 403 | 404 | 429) {
        let body: Value = response.json().unwrap_or(Value::Null);
        let message = body
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| response.text(), str::to_owned);
        return Ok(Verdict::Refused { status, message });
    }
    Err(status_error(method, shown, status, &response.text()))
}

fn app_of(body: Value) -> Result<App, ops_net::Error> {
    let app = body.get("app").cloned().unwrap_or(Value::Null);
    serde_json::from_value(app).map_err(|e| decode_error("app", &e))
}

fn deployment_of(body: Value) -> Result<Deployment, ops_net::Error> {
    let d = body.get("deployment").cloned().unwrap_or(Value::Null);
    serde_json::from_value(d).map_err(|e| decode_error("deployment", &e))
}

fn decode_error(what: &str, e: &serde_json::Error) -> ops_net::Error {
    ErrorKind::Decode {
        method: Method::GET,
        url: String::new(),
        reason: format!("expected `{what}` in the answer: {e}"),
        excerpt: String::new(),
    }
    .into()
}

fn status_error(method: &Method, url: &str, status: StatusCode, body: &str) -> ops_net::Error {
    let excerpt: String = body
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect();
    ErrorKind::Status {
        method: method.clone(),
        url: url.to_owned(),
        status,
        excerpt,
        attempts: ops_net::Attempts::default(),
        rate_limit: None,
        limit: None,
    }
    .into()
}

/// Whether an API failure is worth waiting out while polling (the connection, a 5xx, a rate limit).
pub fn is_transient(error: &ops_net::Error) -> bool {
    match error.kind() {
        ErrorKind::Transport { .. } | ErrorKind::WaitCapExceeded { .. } => true,
        ErrorKind::Status { status, .. } => {
            status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_labels() {
        let step = |base: Option<&str>, component: Option<&str>| Step {
            name: "build".into(),
            message_base: base.map(str::to_owned),
            component_name: component.map(str::to_owned),
            ..Step::default()
        };
        assert_eq!(step(None, None).label(), "build");
        assert_eq!(step(None, Some("api")).label(), "build › api");
        assert_eq!(
            step(Some("Building service"), Some("api")).label(),
            "Building service › api"
        );
    }

    #[test]
    fn deployments_decode_loosely() {
        let d: Deployment = serde_json::from_value(json!({
            "id": "d1", "phase": "ERROR", "unknown": 1,
            "progress": {"steps": [{"name": "build", "status": "ERROR", "reason": {"code": "C", "message": "m"},
                "steps": [{"name": "build", "component_name": "api", "status": "ERROR"}]}]}
        }))
        .unwrap();
        assert!(d.is_terminal());
        assert_eq!(d.progress.unwrap().steps[0].steps[0].label(), "build › api");
    }

    #[test]
    fn base_url_table() {
        for (input, base) in [
            (
                "https://api.digitalocean.com",
                Some("https://api.digitalocean.com"),
            ),
            (
                " https://api.digitalocean.com/v2/ ",
                Some("https://api.digitalocean.com"),
            ),
            ("http://127.0.0.1:4010/", Some("http://127.0.0.1:4010")),
            ("ftp://example.com", None),
            ("not a url", None),
        ] {
            let got = Api::new(
                input,
                Secret::new("t"),
                RetryPolicy::for_tests(),
                |_: &ops_net::RetryEvent| {},
            )
            .ok()
            .map(|api| api.base);
            assert_eq!(got.as_deref(), base, "{input}");
        }
    }

    #[test]
    fn condition_text() {
        let c = Condition {
            code: Some("image_source_missing_digest".into()),
            message: Some("m".into()),
            components: vec!["web".into()],
        };
        assert_eq!(c.describe(), "image_source_missing_digest: m (components: web)");
    }
}
