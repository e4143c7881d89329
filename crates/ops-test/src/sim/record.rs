//! The record of what a stand-in saw and said, for assertions on exact bodies, call counts and
//! rate-limit budget.

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

/// One request and the response the stand-in gave to it.
///
/// Authentication headers (`authorization`, `cookie`) are not kept, so a record can be printed.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Position in the record, from 0.
    pub seq: usize,
    /// Request method.
    pub method: Method,
    /// Request path, without the query.
    pub path: String,
    /// Decoded query parameters in order.
    pub query: Vec<(String, String)>,
    /// Request headers minus authentication.
    pub request_headers: HeaderMap,
    /// Request body as sent.
    pub request_body: Bytes,
    /// Route template that handled the request (`/repos/{owner}/{repo}`), if any did.
    pub route: Option<&'static str>,
    /// Response status; 444 when no response was sent ([`crate::sim::Fault::Hang`],
    /// [`crate::sim::Fault::DropConnection`]).
    pub status: StatusCode,
    /// Response headers.
    pub response_headers: HeaderMap,
    /// Response body as the stand-in produced it (before a [`crate::sim::Fault::Truncate`]).
    pub response_body: Bytes,
    /// The injected fault that shaped this exchange, if any (its `Debug` form).
    pub fault: Option<String>,
}

impl Exchange {
    /// The request body as JSON, if it is JSON.
    #[must_use]
    pub fn request_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.request_body).ok()
    }

    /// The response body as JSON, if it is JSON.
    #[must_use]
    pub fn response_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.response_body).ok()
    }

    /// The response body as text (lossy).
    #[must_use]
    pub fn response_text(&self) -> String {
        String::from_utf8_lossy(&self.response_body).into_owned()
    }

    /// First value of a query parameter.
    #[must_use]
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A request header as text.
    #[must_use]
    pub fn request_header(&self, name: &str) -> Option<&str> {
        self.request_headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A response header as text.
    #[must_use]
    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.response_headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `"GET /path"`, for messages.
    #[must_use]
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}
