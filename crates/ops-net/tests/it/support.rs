//! Local servers that count calls: an axum server that answers from a script or a handler, and a raw
//! TCP server for what axum will not do on purpose (drop a connection, cut a body short).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::HeaderMap;
use ops_net::{HttpClientBuilder, RetryEvent, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// 2026-05-01T12:00:00Z: the pinned "now" of every test client.
pub(crate) const NOW: u64 = 1_777_636_800;

pub(crate) fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

/// A client builder that never sleeps and has a pinned clock.
pub(crate) fn builder() -> HttpClientBuilder {
    HttpClientBuilder::default()
        .retry_policy(RetryPolicy::for_tests())
        .clock(now)
}

/// Collects retry events.
#[derive(Clone, Default)]
pub(crate) struct Events(Arc<Mutex<Vec<RetryEvent>>>);

impl Events {
    pub(crate) fn attach(&self, builder: HttpClientBuilder) -> HttpClientBuilder {
        let events = self.clone();
        builder.on_retry(move |e| events.0.lock().unwrap().push(e.clone()))
    }

    pub(crate) fn all(&self) -> Vec<RetryEvent> {
        self.0.lock().unwrap().clone()
    }

    pub(crate) fn delays(&self) -> Vec<u64> {
        self.all().iter().map(|e| e.delay.as_secs()).collect()
    }

    pub(crate) fn lines(&self) -> Vec<String> {
        self.all().iter().map(ToString::to_string).collect()
    }
}

/// One scripted answer.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    pub(crate) fn status(status: u16) -> Self {
        Self::new(status, "")
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) path_and_query: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

type Handler = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

struct Shared {
    handler: Box<Handler>,
    seen: Mutex<Vec<Seen>>,
    base: String,
}

/// An axum server on `127.0.0.1:0`.
pub(crate) struct Server {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl Server {
    /// Answers with `script` in order; the last reply repeats.
    pub(crate) async fn script(script: Vec<Reply>) -> Self {
        assert!(!script.is_empty());
        Self::handler(move |_, n| script[n.min(script.len() - 1)].clone()).await
    }

    /// Answers with `handler(request, call index)`. `{base}` in a reply's headers or body becomes the
    /// server's base URL, for absolute `Link`s.
    pub(crate) async fn handler(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            seen: Mutex::new(Vec::new()),
            base: format!("http://{addr}"),
        });
        let app = axum::Router::new()
            .fallback(respond)
            .with_state(Arc::clone(&shared));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { shared, addr }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn calls(&self) -> usize {
        self.shared.seen.lock().unwrap().len()
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }
}

async fn respond(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let seen = Seen {
        method: parts.method.to_string(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map(ToString::to_string)
            .unwrap_or_default(),
        headers: parts.headers,
        body,
    };
    let index = {
        let mut log = shared.seen.lock().unwrap();
        log.push(seen.clone());
        log.len() - 1
    };
    let reply = (shared.handler)(&seen, index);
    let mut response = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        response = response.header(name, value.replace("{base}", &shared.base));
    }
    response
        .body(Body::from(reply.body.replace("{base}", &shared.base)))
        .unwrap()
}

/// What the raw server does with one connection.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wire {
    /// Read the request, then close without a word.
    Drop,
    /// Promise 100 bytes, send 10, close.
    Truncate,
    /// A complete response.
    Respond(u16, &'static str),
}

/// A raw TCP server: one request per connection, answered per the script (the last entry repeats).
pub(crate) struct WireServer {
    addr: SocketAddr,
    calls: Arc<AtomicUsize>,
}

impl WireServer {
    pub(crate) async fn start(script: Vec<Wire>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let script = script.clone();
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let mut stream = stream;
                    if !read_request(&mut stream).await {
                        return;
                    }
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    let action = script[n.min(script.len() - 1)];
                    match action {
                        Wire::Drop => drop(stream),
                        Wire::Truncate => {
                            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{\"partial";
                            stream.write_all(head.as_bytes()).await.unwrap();
                            stream.flush().await.unwrap();
                        }
                        Wire::Respond(status, body) => {
                            let head = format!(
                                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                                body.len()
                            );
                            stream.write_all(head.as_bytes()).await.unwrap();
                            stream.flush().await.unwrap();
                        }
                    }
                });
            }
        });
        Self { addr, calls }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// Reads one request (head and a `content-length` body). False if the peer went away first.
async fn read_request(stream: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse::<usize>().unwrap());
            if buf.len() >= end + 4 + length {
                return true;
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A URL on which nothing listens: connections are refused.
pub(crate) async fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/x")
}
