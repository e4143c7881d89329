//! Real servers on 127.0.0.1 free ports, started by the tests: the app (plain HTTP and HTTPS with a
//! generated certificate of known expiry), and a server that drops every connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// The password the login route wants (planted secret).
pub(crate) const PASSWORD: &str = "planted-pass-4711";
/// The token the login route hands out (planted secret).
pub(crate) const TOKEN: &str = "planted-token-Zq81xW";
/// The session cookie the login route sets (planted secret).
pub(crate) const COOKIE: &str = "planted-cookie-77aa";
/// The server-side delay of `/slow`: small and bounded.
pub(crate) const SLOW: Duration = Duration::from_millis(60);

/// What the app serves and counts.
#[derive(Debug, Default)]
pub(crate) struct AppState {
    /// The version `/version` and `x-version` report.
    pub(crate) version: String,
    /// `/flaky` answers 503 this many times, then 200.
    pub(crate) flaky_failures: usize,
    /// Requests `/flaky` saw.
    pub(crate) flaky_hits: AtomicUsize,
    /// Requests to `/slow` in flight now / at most.
    pub(crate) in_flight: AtomicUsize,
    /// The most requests to `/slow` in flight at once.
    pub(crate) max_in_flight: AtomicUsize,
    /// Requests the app saw in all.
    pub(crate) hits: AtomicUsize,
}

/// A server running on the test's runtime.
#[derive(Debug)]
pub(crate) struct Server {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// Its state.
    pub(crate) state: Arc<AppState>,
}

impl Server {
    /// `http://127.0.0.1:PORT` (or `https://`).
    pub(crate) fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }
}

fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/flaky", get(flaky))
        .route("/version", get(version))
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/slow", get(slow))
        .route(
            "/redirect",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/healthz")]) }),
        )
        .route(
            "/broken",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route(
            "/echo-token",
            get(|| async { Json(json!({"status": "degraded", "token": TOKEN})) }),
        )
        .layer(axum::middleware::from_fn_with_state(state.clone(), stamp))
        .with_state(state)
}

/// Every response carries `x-version`, and every request is counted.
async fn stamp(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    state.hits.fetch_add(1, Ordering::SeqCst);
    let mut response = next.run(request).await;
    if let Ok(v) = state.version.parse() {
        response.headers_mut().insert("x-version", v);
    }
    response
}

async fn flaky(State(state): State<Arc<AppState>>) -> Response {
    let n = state.flaky_hits.fetch_add(1, Ordering::SeqCst);
    if n < state.flaky_failures {
        (StatusCode::SERVICE_UNAVAILABLE, "starting").into_response()
    } else {
        "ready".into_response()
    }
}

async fn version(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({"sha": state.version, "name": "app"}))
}

async fn login(body: Json<Value>) -> Response {
    if body.get("password").and_then(Value::as_str) == Some(PASSWORD) {
        (
            [(header::SET_COOKIE, format!("session={COOKIE}; Path=/; HttpOnly"))],
            Json(json!({"token": TOKEN, "user": "smoke"})),
        )
            .into_response()
    } else {
        (StatusCode::UNAUTHORIZED, "bad password").into_response()
    }
}

async fn me(headers: HeaderMap) -> Response {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
    if auth == Some(&format!("Bearer {TOKEN}")) && cookie == Some(&format!("session={COOKIE}")) {
        Json(json!({"user": {"name": "smoke", "id": 7}, "items": [1, 2, 3]})).into_response()
    } else {
        (StatusCode::UNAUTHORIZED, "who are you").into_response()
    }
}

async fn slow(State(state): State<Arc<AppState>>) -> &'static str {
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(SLOW).await;
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    "slow"
}

/// A runtime that serves while the test runs the binary.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("test runtime")
}

/// The app over plain HTTP.
pub(crate) fn http(rt: &tokio::runtime::Runtime, state: AppState) -> Server {
    let state = Arc::new(state);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app(state.clone());
    rt.spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Server { addr, state }
}

/// A CA and a leaf certificate for `names`, valid until `days` days (and an hour) after `now`.
pub(crate) struct Pki {
    /// The CA certificate (PEM), for `ca-cert`.
    pub(crate) ca_pem: String,
    leaf_der: Vec<u8>,
    key_der: Vec<u8>,
}

/// "Now" as whole seconds since the epoch; tests pass it as `SOURCE_DATE_EPOCH` so the tool's clock and
/// the certificate agree exactly.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

impl Pki {
    /// Generates the CA and the leaf.
    pub(crate) fn new(names: &[&str], now: u64, days: u64) -> Self {
        let epoch = rcgen::date_time_ymd(1970, 1, 1);
        let ca_key = rcgen::KeyPair::generate().expect("ca key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "smoke-test CA");
        ca_params.not_before = epoch + Duration::from_secs(now - 86_400);
        ca_params.not_after = epoch + Duration::from_secs(now + 365 * 86_400);
        let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);

        let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut leaf_params = rcgen::CertificateParams::new(names).expect("leaf params");
        leaf_params.not_before = epoch + Duration::from_secs(now - 86_400);
        leaf_params.not_after = epoch + Duration::from_secs(now + days * 86_400 + 3_600);
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).expect("leaf cert");
        Self {
            ca_pem: ca_cert.pem(),
            leaf_der: leaf.der().to_vec(),
            key_der: leaf_key.serialize_der(),
        }
    }
}

/// The app over HTTPS with `pki`'s leaf.
pub(crate) fn https(rt: &tokio::runtime::Runtime, state: AppState, pki: &Pki) -> Server {
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    use tokio_rustls::rustls;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("tls versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(pki.leaf_der.clone())],
            rustls::pki_types::PrivateKeyDer::Pkcs8(pki.key_der.clone().into()),
        )
        .expect("server config");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let state = Arc::new(state);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app(state.clone());
    rt.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let service = TowerToHyperService::new(router.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Server { addr, state }
}

/// A server that reads a little of each request and then closes the connection without answering.
pub(crate) fn dropping(rt: &tokio::runtime::Runtime) -> (SocketAddr, Arc<AtomicUsize>) {
    use tokio::io::AsyncReadExt;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    rt.spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            seen.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 16];
            let _ = tcp.read(&mut buf).await;
            drop(tcp);
        }
    });
    (addr, count)
}

/// A loopback port where nothing listens (bound, then released).
pub(crate) fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}
