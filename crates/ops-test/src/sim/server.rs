//! The server every stand-in runs on: routing, the request pipeline (faults, contract checks,
//! handler, record, triggers) and the two ways to run it (own thread, or the caller's runtime).

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::Extension;
use axum::routing::{MethodFilter, MethodRouter};
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinSet;

use super::contract::{Contract, ContractMode, Violation};
use super::fault::{Fault, FaultRule, Matcher, path_params};
use super::record::Exchange;

/// A route handler: runs with the stand-in's state locked; it must not block.
pub type Handler<S> = fn(&mut S, &Ctx) -> Reply;

/// One operation a stand-in serves.
#[derive(Debug)]
pub struct Route<S> {
    /// HTTP method.
    pub method: Method,
    /// Path template in OpenAPI/axum syntax, e.g. `/repos/{owner}/{repo}`.
    pub template: &'static str,
    /// What answers it.
    pub handler: Handler<S>,
}

impl<S> Route<S> {
    /// A route for `method` and `template`.
    #[must_use]
    pub fn new(method: Method, template: &'static str, handler: Handler<S>) -> Self {
        Self {
            method,
            template,
            handler,
        }
    }
}

/// What a stand-in's state type provides to the shared server.
pub trait Api: Send + Sized + 'static {
    /// The operations served.
    fn routes() -> Vec<Route<Self>>;

    /// Runs before the handler (authentication, exhausted rate limits); a reply short-circuits.
    fn before(&mut self, _ctx: &Ctx) -> Option<Reply> {
        None
    }

    /// Runs after the handler, and on every other reply the API gives (rate-limit headers,
    /// conditional requests, spending budget).
    fn after(&mut self, _ctx: &Ctx, _reply: &mut Reply) {}

    /// The API's error body for `status`.
    fn error(status: StatusCode, message: &str) -> Reply;

    /// Whether `path` belongs to the described API (and so to contract checks); a stand-in may
    /// serve helpers beside it, such as the log archives a real API hands out links to.
    fn in_contract(_path: &str) -> bool {
        true
    }

    /// The reply for an injected [`Fault::Status`], [`Fault::RateLimited`] or
    /// [`Fault::SecondaryRateLimit`]; the default is the API's error body with `retry-after`.
    fn fault_reply(&mut self, ctx: &Ctx, fault: &Fault) -> Reply {
        let mut reply = match fault {
            Fault::Status(code) => {
                let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Self::error(status, status.canonical_reason().unwrap_or("injected fault"))
            }
            Fault::RateLimited { retry_after } => {
                Self::error(StatusCode::TOO_MANY_REQUESTS, "API rate limit exceeded")
                    .header("retry-after", &retry_after.to_string())
            }
            Fault::SecondaryRateLimit { retry_after } => Self::error(
                StatusCode::FORBIDDEN,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            )
            .header("retry-after", &retry_after.to_string()),
            _ => Self::error(StatusCode::INTERNAL_SERVER_ERROR, "injected fault"),
        };
        self.after(ctx, &mut reply);
        reply
    }
}

/// A request as the handlers see it.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Request method.
    pub method: Method,
    /// Request path without the query.
    pub path: String,
    /// Decoded query parameters in order.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: HeaderMap,
    /// Request body.
    pub body: Bytes,
    /// Path parameters of the matched route template.
    pub params: Vec<(String, String)>,
    /// Base URL clients use for this API (the stand-in, or a proxy in front of it): links in
    /// bodies and `Link` headers point here.
    pub public_url: String,
    /// Base URL of the stand-in itself, for things a real API serves from another host (log archives).
    pub own_url: String,
}

impl Ctx {
    /// A path parameter (empty if the route has none of that name).
    #[must_use]
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// First value of a query parameter.
    #[must_use]
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A request header as text.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The credential of `Authorization: Bearer <t>` or `Authorization: token <t>`.
    #[must_use]
    pub fn token(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    }

    /// The body as JSON; `None` when it is empty or not JSON.
    #[must_use]
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `page` and `per_page` from the query, with the API's default and maximum page size.
    #[must_use]
    pub fn page(&self, default_per_page: usize, max_per_page: usize) -> (usize, usize) {
        let num = |name| self.query(name).and_then(|v| v.parse::<usize>().ok());
        let page = num("page").unwrap_or(1).max(1);
        let per_page = num("per_page").unwrap_or(default_per_page).clamp(1, max_per_page);
        (page, per_page)
    }
}

/// A response as the handlers produce it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: StatusCode,
    /// Headers (content type included).
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Reply {
    /// A JSON reply.
    #[must_use]
    pub fn json(status: u16, body: &Value) -> Self {
        Self::text(status, "application/json; charset=utf-8", body.to_string())
    }

    /// A reply with a body of the given content type.
    #[must_use]
    pub fn text(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        Self::empty(status)
            .header(CONTENT_TYPE.as_str(), content_type)
            .with_body(body.into())
    }

    /// A reply without a body.
    #[must_use]
    pub fn empty(status: u16) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    fn with_body(mut self, body: Bytes) -> Self {
        self.body = body;
        self
    }

    /// Adds a header (replacing one of the same name); invalid names or values are skipped.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.set_header(name, value);
        self
    }

    /// Sets a header in place; invalid names or values are skipped.
    pub fn set_header(&mut self, name: &str, value: &str) {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.headers.insert(n, v);
        }
    }

    /// The body as JSON, if it is JSON.
    #[must_use]
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    fn into_response(self, truncate: bool) -> Response<Body> {
        let len = self.body.len();
        let body = if truncate {
            Body::new(Truncated {
                first: Some(self.body.slice(..len / 2)),
                flushed: false,
            })
        } else {
            Body::from(self.body)
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        if truncate {
            // The full length is announced so the client notices the missing half.
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(len));
        }
        response
    }
}

/// A body that yields its first half and then fails, which makes hyper close the connection.
/// Between the two it reports "not ready" once, so hyper flushes the headers and the first half
/// to the client before it gives up (otherwise it drops them unsent).
struct Truncated {
    first: Option<Bytes>,
    flushed: bool,
}

impl http_body::Body for Truncated {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(chunk) = self.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        if !self.flushed {
            self.flushed = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(Some(Err(std::io::Error::other("truncated by an injected fault"))))
    }
}

type Action<S> = Box<dyn FnOnce(&mut S) + Send>;

struct Trigger<S> {
    matcher: Matcher,
    after: usize,
    seen: usize,
    action: Option<Action<S>>,
}

struct Core<S> {
    state: S,
    exchanges: Vec<Exchange>,
    faults: Vec<FaultRule>,
    triggers: Vec<Trigger<S>>,
    contract: Option<(Arc<Contract>, ContractMode)>,
    violations: Vec<Violation>,
    public_url: String,
    own_url: String,
}

type Shared<S> = Arc<Mutex<Core<S>>>;

/// Poisoning only means an earlier handler panicked; the record is still worth reading.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running stand-in: an HTTP server on `127.0.0.1` plus its state, record, faults and triggers.
/// Dropping it stops the server.
pub struct Sim<S: Api> {
    core: Shared<S>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl<S: Api> fmt::Debug for Sim<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl<S: Api + Default> Sim<S> {
    /// Starts the stand-in with its default state on its own thread and tokio runtime, so it
    /// works from sync tests and from any async runtime alike.
    #[must_use]
    pub fn start() -> Self {
        Self::start_with(S::default())
    }

    /// Starts the stand-in with its default state on the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    #[must_use]
    pub fn spawn() -> Self {
        Self::spawn_with(S::default())
    }
}

impl<S: Api> Sim<S> {
    /// Like [`Sim::start`], with a prepared state.
    ///
    /// # Panics
    /// When no loopback port can be bound or no thread spawned.
    #[must_use]
    pub fn start_with(state: S) -> Self {
        Self::start_on(0, state).expect("a loopback port can be bound for a stand-in")
    }

    /// Like [`Sim::start_with`], on a chosen port of 127.0.0.1 (0: a free one).
    ///
    /// # Errors
    /// When the port cannot be bound or the server thread cannot start.
    pub fn start_on(port: u16, state: S) -> std::io::Result<Self> {
        let (listener, core, router, addr) = Self::bind(port, state)?;
        let pipeline: Arc<dyn Pipeline> = core.clone();
        let (tx, rx) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("ops-sim-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a current-thread tokio runtime can be built");
                runtime.block_on(serve(listener, router, pipeline, rx));
            })?;
        Ok(Self {
            core,
            addr,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    /// Like [`Sim::spawn`], with a prepared state.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    #[must_use]
    pub fn spawn_with(state: S) -> Self {
        let (listener, core, router, addr) =
            Self::bind(0, state).expect("a loopback port can be bound for a stand-in");
        let (tx, rx) = oneshot::channel();
        let pipeline: Arc<dyn Pipeline> = core.clone();
        tokio::spawn(serve(listener, router, pipeline, rx));
        Self {
            core,
            addr,
            stop: Some(tx),
            thread: None,
        }
    }

    fn bind(port: u16, state: S) -> std::io::Result<(std::net::TcpListener, Shared<S>, Router, SocketAddr)> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        // tokio takes the listener over on the server's runtime, which needs it non-blocking.
        listener.set_nonblocking(true)?;
        let url = format!("http://{addr}");
        let core = Arc::new(Mutex::new(Core {
            state,
            exchanges: Vec::new(),
            faults: Vec::new(),
            triggers: Vec::new(),
            contract: None,
            violations: Vec::new(),
            public_url: url.clone(),
            own_url: url,
        }));
        let router = router(&core);
        Ok((listener, core, router, addr))
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sets the base URL written into bodies and `Link` headers, for when clients reach the
    /// stand-in through a proxy (such as Prism).
    pub fn set_public_url(&self, url: &str) {
        lock(&self.core).public_url = url.trim_end_matches('/').to_owned();
    }

    /// Runs `f` on the state (to script outcomes or read it). Keep it short: requests wait.
    pub fn with<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        f(&mut lock(&self.core).state)
    }

    /// Every exchange so far, in order.
    #[must_use]
    pub fn exchanges(&self) -> Vec<Exchange> {
        lock(&self.core).exchanges.clone()
    }

    /// Exchanges whose request matches `route` (see [`Matcher`]).
    #[must_use]
    pub fn exchanges_matching(&self, route: &str) -> Vec<Exchange> {
        let m = Matcher::parse(route);
        lock(&self.core)
            .exchanges
            .iter()
            .filter(|e| m.matches(&e.method, &e.path))
            .cloned()
            .collect()
    }

    /// How many requests matched `route`.
    #[must_use]
    pub fn count(&self, route: &str) -> usize {
        let m = Matcher::parse(route);
        lock(&self.core)
            .exchanges
            .iter()
            .filter(|e| m.matches(&e.method, &e.path))
            .count()
    }

    /// Forgets the record (not the state).
    pub fn clear_record(&self) {
        let mut core = lock(&self.core);
        core.exchanges.clear();
        core.violations.clear();
    }

    /// Queues a fault for the next `times` requests matching `route`. Faults fire in the order
    /// they were queued; a request gets at most one.
    pub fn inject(&self, route: &str, fault: Fault, times: usize) {
        lock(&self.core).faults.push(FaultRule {
            matcher: Matcher::parse(route),
            fault,
            remaining: times,
        });
    }

    /// How many injected faults have not fired yet.
    #[must_use]
    pub fn faults_left(&self) -> usize {
        lock(&self.core).faults.iter().map(|f| f.remaining).sum()
    }

    /// Runs `action` on the state once the `n`-th request matching `route` has been answered
    /// (`n == 0`: now). This is how outcomes arrive "later" without timers: a comment after
    /// three polls, an approval after the second check.
    pub fn after(&self, route: &str, n: usize, action: impl FnOnce(&mut S) + Send + 'static) {
        let mut core = lock(&self.core);
        if n == 0 {
            action(&mut core.state);
        } else {
            core.triggers.push(Trigger {
                matcher: Matcher::parse(route),
                after: n,
                seen: 0,
                action: Some(Box::new(action)),
            });
        }
    }

    /// Checks every following exchange against `contract`; see [`ContractMode`].
    pub fn check_contract(&self, contract: Arc<Contract>, mode: ContractMode) {
        lock(&self.core).contract = Some((contract, mode));
    }

    /// Contract violations found so far.
    #[must_use]
    pub fn violations(&self) -> Vec<Violation> {
        lock(&self.core).violations.clone()
    }
}

impl<S: Api> Drop for Sim<S> {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The server may already be gone; nothing to do then.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread was already reported by the panic hook.
            let _ = thread.join();
        }
    }
}

/// Where a handler leaves its reply for the pipeline (axum only picks the route).
#[derive(Clone, Default)]
struct Slot(Arc<Mutex<Option<Handled>>>);

/// A handler's reply and the route template that produced it.
type Handled = (Reply, Option<&'static str>);

fn router<S: Api>(core: &Shared<S>) -> Router {
    let not_found: Handler<S> = |_, _| S::error(StatusCode::NOT_FOUND, "Not Found");
    let endpoint = |template: Option<&'static str>, handler: Handler<S>| {
        let core = Arc::clone(core);
        move |Extension(ctx): Extension<Arc<Ctx>>, Extension(slot): Extension<Slot>| {
            let core = Arc::clone(&core);
            async move {
                let reply = dispatch(&core, &ctx, template, handler);
                *lock(&slot.0) = Some((reply, template));
                StatusCode::OK
            }
        }
    };
    let mut by_path: Vec<(&'static str, MethodRouter)> = Vec::new();
    for Route {
        method,
        template,
        handler,
    } in S::routes()
    {
        let Ok(filter) = MethodFilter::try_from(method) else {
            continue;
        };
        let at = by_path
            .iter()
            .position(|(t, _)| *t == template)
            .unwrap_or_else(|| {
                by_path.push((template, MethodRouter::new().fallback(endpoint(None, not_found))));
                by_path.len() - 1
            });
        let (t, mr) = by_path.remove(at);
        by_path.insert(at, (t, mr.on(filter, endpoint(Some(template), handler))));
    }
    let mut router = Router::new();
    for (template, mr) in by_path {
        router = router.route(template, mr);
    }
    router.fallback(endpoint(None, not_found))
}

fn dispatch<S: Api>(
    core: &Shared<S>,
    ctx: &Ctx,
    template: Option<&'static str>,
    handler: Handler<S>,
) -> Reply {
    let mut ctx = ctx.clone();
    if let Some(t) = template {
        ctx.params = path_params(t, &ctx.path).unwrap_or_default();
    }
    let state = &mut lock(core).state;
    let mut reply = match state.before(&ctx) {
        Some(reply) => reply,
        None => handler(state, &ctx),
    };
    state.after(&ctx, &mut reply);
    reply
}

async fn serve(
    listener: std::net::TcpListener,
    router: Router,
    pipeline: Arc<dyn Pipeline>,
    mut stop: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    // Connection tasks live in this set so that stopping the server aborts them too.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    connections.spawn(connection(stream, router.clone(), Arc::clone(&pipeline)));
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn connection(stream: tokio::net::TcpStream, router: Router, pipeline: Arc<dyn Pipeline>) {
    // Notified by a request that must end the connection without an answer.
    let kill = Arc::new(Notify::new());
    let service = {
        let kill = Arc::clone(&kill);
        hyper::service::service_fn(move |req| {
            handle(router.clone(), Arc::clone(&pipeline), Arc::clone(&kill), req)
        })
    };
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        () = kill.notified() => {}
    }
}

/// The pipeline of one request. The state type is only reached through the router's handlers
/// and the state-erased [`Pipeline`], so this need not be generic.
async fn handle(
    router: Router,
    pipeline: Arc<dyn Pipeline>,
    kill: Arc<Notify>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = req.into_parts();
    // A client that hangs up mid-body is answered with what arrived.
    let body = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let query = parts
        .uri
        .query()
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let (public_url, own_url) = pipeline.urls();
    let ctx = Ctx {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        query,
        headers: parts.headers.clone(),
        body,
        params: Vec::new(),
        public_url,
        own_url,
    };
    let fault = pipeline.take_fault(&ctx);
    let note = fault.as_ref().map(|f| format!("{f:?}"));

    if let Some(Fault::Hang | Fault::DropConnection) = fault {
        let silent = StatusCode::from_u16(444).unwrap_or(StatusCode::BAD_GATEWAY);
        pipeline.finish(&ctx, None, &Reply::empty(silent.as_u16()), note, false);
        if fault == Some(Fault::DropConnection) {
            kill.notify_one();
        }
        return std::future::pending().await;
    }
    if let Some(Fault::Delay(delay)) = &fault {
        tokio::time::sleep(*delay).await;
    }

    let (mut reply, route, handled) = match &fault {
        Some(f) if !f.runs_handler() => (pipeline.fault_reply(&ctx, f), None, false),
        _ => match pipeline.reject_request(&ctx) {
            Some(reply) => (reply, None, false),
            None => {
                let slot = Slot::default();
                let mut request = Request::new(Body::empty());
                *request.method_mut() = parts.method;
                *request.uri_mut() = parts.uri;
                request.extensions_mut().insert(Arc::new(ctx.clone()));
                request.extensions_mut().insert(slot.clone());
                let mut svc = router.clone();
                // Router is always ready and its error type is Infallible.
                let _ = tower_service::Service::call(&mut svc, request).await;
                let taken = lock(&slot.0).take();
                match taken {
                    Some((reply, route)) => (reply, route, true),
                    None => (Reply::empty(500), None, false),
                }
            }
        },
    };
    if let Some(Fault::SetJson { pointer, value }) = &fault
        && let Some(mut json) = reply.body_json()
        && let Some(slot) = json.pointer_mut(pointer)
    {
        *slot = value.clone();
        reply.body = Bytes::from(json.to_string());
        reply.headers.remove(CONTENT_LENGTH);
    }
    // Only answers of the stand-in itself are held to the contract, not injected failures.
    let checked = handled || matches!(fault, Some(Fault::SetJson { .. }));
    let reply = pipeline
        .finish(&ctx, route, &reply, note, checked)
        .unwrap_or(reply);
    // The work is done and recorded; the answer is lost on the way back.
    match fault {
        Some(Fault::ProcessThenDrop) => {
            kill.notify_one();
            return std::future::pending().await;
        }
        Some(Fault::ProcessThenHang) => return std::future::pending().await,
        _ => {}
    }
    Ok(reply.into_response(fault == Some(Fault::Truncate)))
}

/// The state-independent view of a core that the pipeline needs.
trait Pipeline: Send + Sync {
    fn urls(&self) -> (String, String);
    fn take_fault(&self, ctx: &Ctx) -> Option<Fault>;
    fn fault_reply(&self, ctx: &Ctx, fault: &Fault) -> Reply;
    fn reject_request(&self, ctx: &Ctx) -> Option<Reply>;
    /// Records the exchange and fires triggers; returns a replacement reply when an enforced
    /// contract check rejects the response.
    fn finish(
        &self,
        ctx: &Ctx,
        route: Option<&'static str>,
        reply: &Reply,
        fault: Option<String>,
        check: bool,
    ) -> Option<Reply>;
}

impl<S: Api> Pipeline for Mutex<Core<S>> {
    fn urls(&self) -> (String, String) {
        let core = lock(self);
        (core.public_url.clone(), core.own_url.clone())
    }

    fn take_fault(&self, ctx: &Ctx) -> Option<Fault> {
        let mut core = lock(self);
        let rule = core
            .faults
            .iter_mut()
            .find(|r| r.remaining > 0 && r.matcher.matches(&ctx.method, &ctx.path))?;
        rule.remaining -= 1;
        let fault = rule.fault.clone();
        core.faults.retain(|r| r.remaining > 0);
        Some(fault)
    }

    fn fault_reply(&self, ctx: &Ctx, fault: &Fault) -> Reply {
        lock(self).state.fault_reply(ctx, fault)
    }

    fn reject_request(&self, ctx: &Ctx) -> Option<Reply> {
        let mut core = lock(self);
        let (contract, mode) = core.contract.clone()?;
        if !S::in_contract(&ctx.path) {
            return None;
        }
        let found = contract.check_request(&ctx.method, &ctx.path, &ctx.query, &ctx.headers, &ctx.body);
        if found.is_empty() {
            return None;
        }
        let seq = core.exchanges.len();
        let message = summary(&found);
        core.violations
            .extend(found.into_iter().map(|v| v.at(seq, &ctx.method, &ctx.path)));
        (mode == ContractMode::Enforce).then(|| {
            let mut reply = S::error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("contract violation: {message}"),
            );
            core.state.after(ctx, &mut reply);
            reply
        })
    }

    fn finish(
        &self,
        ctx: &Ctx,
        route: Option<&'static str>,
        reply: &Reply,
        fault: Option<String>,
        check: bool,
    ) -> Option<Reply> {
        let mut core = lock(self);
        let core = &mut *core;
        let seq = core.exchanges.len();
        let mut replacement = None;
        if check
            && S::in_contract(&ctx.path)
            && let Some((contract, mode)) = core.contract.clone()
        {
            let found =
                contract.check_response(&ctx.method, &ctx.path, reply.status, &reply.headers, &reply.body);
            if !found.is_empty() {
                let message = summary(&found);
                core.violations
                    .extend(found.into_iter().map(|v| v.at(seq, &ctx.method, &ctx.path)));
                if mode == ContractMode::Enforce {
                    replacement = Some(S::error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &format!("contract violation: {message}"),
                    ));
                }
            }
        }
        let mut request_headers = ctx.headers.clone();
        request_headers.remove(AUTHORIZATION);
        request_headers.remove(COOKIE);
        let sent = replacement.as_ref().unwrap_or(reply);
        core.exchanges.push(Exchange {
            seq,
            method: ctx.method.clone(),
            path: ctx.path.clone(),
            query: ctx.query.clone(),
            request_headers,
            request_body: ctx.body.clone(),
            route,
            status: sent.status,
            response_headers: sent.headers.clone(),
            response_body: sent.body.clone(),
            fault,
        });
        let mut due = Vec::new();
        for trigger in &mut core.triggers {
            if trigger.matcher.matches(&ctx.method, &ctx.path) {
                trigger.seen += 1;
                if trigger.seen == trigger.after
                    && let Some(action) = trigger.action.take()
                {
                    due.push(action);
                }
            }
        }
        core.triggers.retain(|t| t.action.is_some());
        for action in due {
            action(&mut core.state);
        }
        replacement
    }
}

fn summary(found: &[Violation]) -> String {
    found
        .iter()
        .map(|v| format!("{}: {}", v.location, v.message))
        .collect::<Vec<_>>()
        .join("; ")
}
