//! HTTP client helpers shared by the test modules.

use reqwest::{Client, Method, Response};
use serde_json::Value;

/// A client without retries or redirects, so tests see exactly what a stand-in answers.
pub(crate) fn client() -> Client {
    // reqwest is built without a default crypto provider; a second install is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Sends a request with a bearer token and an optional JSON body.
pub(crate) async fn send(method: Method, url: &str, token: &str, body: Option<&Value>) -> Response {
    let mut req = client().request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.expect("request reaches the server")
}

/// Status and JSON body of a request.
pub(crate) async fn call(method: Method, url: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    let resp = send(method, url, token, body).await;
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub(crate) async fn get(url: &str, token: &str) -> (u16, Value) {
    call(Method::GET, url, token, None).await
}

pub(crate) async fn post(url: &str, token: &str, body: &Value) -> (u16, Value) {
    call(Method::POST, url, token, Some(body)).await
}

/// The URL of `rel="next"` in a `Link` header.
pub(crate) fn next_link(resp: &Response) -> Option<String> {
    let link = resp.headers().get("link")?.to_str().ok()?;
    link.split(',')
        .find(|part| part.contains("rel=\"next\""))
        .and_then(|part| {
            let start = part.find('<')? + 1;
            let end = part.find('>')?;
            Some(part[start..end].to_owned())
        })
}
