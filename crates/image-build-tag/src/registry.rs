//! A small client for the registry HTTP API v2 (the OCI distribution spec): the `/v2/` login check,
//! manifests by tag or digest, blobs, and putting a manifest under another tag. Authentication follows
//! the registry's challenge: HTTP basic, or a bearer token from the realm it names (Docker Hub, GHCR,
//! `registry:2` with a token server), with the user name and password from the inputs or from the
//! Docker config (its `auths`, `credHelpers` and `credsStore`).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, StatusCode};
use ops_core::secret::{basic_credential, derived_forms, redact};
use ops_core::{Env, Secret};
use ops_net::{HttpClient, Request};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The media types a manifest is asked for in (indexes and image manifests, OCI and Docker).
pub const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// Where an image lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry as written (`ghcr.io`, `localhost:5000`), `docker.io` when none is.
    pub registry: String,
    /// The repository path in the registry (`library/alpine`, `owner/app`).
    pub repository: String,
    /// The API origin (`https://registry-1.docker.io`, `http://127.0.0.1:5000`).
    pub api: String,
}

/// Splits an image name (no tag) into registry and repository.
pub fn split_image(name: &str) -> ImageRef {
    let (first, rest) = name.split_once('/').unwrap_or(("", name));
    let has_registry = !first.is_empty() && (first.contains(['.', ':']) || first == "localhost");
    let (registry, repository) = if has_registry {
        (first.to_owned(), rest.to_owned())
    } else if name.contains('/') {
        ("docker.io".to_owned(), name.to_owned())
    } else {
        ("docker.io".to_owned(), format!("library/{name}"))
    };
    let host = if is_docker_hub(&registry) {
        "registry-1.docker.io".to_owned()
    } else {
        registry.clone()
    };
    let scheme = if is_loopback(&host) { "http" } else { "https" };
    ImageRef {
        registry,
        repository,
        api: format!("{scheme}://{host}"),
    }
}

/// Docker Hub's names.
pub fn is_docker_hub(registry: &str) -> bool {
    matches!(
        registry,
        "docker.io" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com"
    )
}

/// Registries on this machine are spoken to over plain HTTP, as Docker does.
pub fn is_loopback(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') => name,
        _ => host,
    };
    name == "localhost" || name.starts_with("127.") || name == "[::1]"
}

/// A user name and password for a registry.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or token.
    pub password: Secret,
}

/// The Docker config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path(env: &Env) -> Option<PathBuf> {
    if let Some(dir) = env.non_empty("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    env.non_empty("HOME")
        .map(|home| PathBuf::from(home).join(".docker/config.json"))
}

/// The host a Docker config key names (`https://index.docker.io/v1/` → `docker.io`).
fn config_key_host(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = key.split('/').next().unwrap_or(key);
    if is_docker_hub(host) {
        "docker.io".to_owned()
    } else {
        host.to_owned()
    }
}

fn same_registry(a: &str, b: &str) -> bool {
    config_key_host(a) == config_key_host(b)
}

/// Credentials for `registry` from the Docker config: `credHelpers`, `credsStore`, then `auths`.
pub fn from_docker_config(env: &Env, registry: &str) -> Option<Credentials> {
    let text = std::fs::read_to_string(docker_config_path(env)?).ok()?;
    let config: Value = serde_json::from_str(&text).ok()?;
    let helper = config
        .get("credHelpers")
        .and_then(Value::as_object)
        .and_then(|helpers| helpers.iter().find(|(k, _)| same_registry(k, registry)))
        .and_then(|(_, v)| v.as_str())
        .or_else(|| config.get("credsStore").and_then(Value::as_str));
    if let Some(creds) = helper.and_then(|h| from_helper(h, registry)) {
        return Some(creds);
    }
    let auth = config
        .get("auths")
        .and_then(Value::as_object)?
        .iter()
        .find(|(k, _)| same_registry(k, registry))?
        .1
        .get("auth")?
        .as_str()?;
    let decoded = STANDARD.decode(auth.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some(Credentials {
        username: username.to_owned(),
        password: Secret::new(password),
    })
}

/// `docker-credential-<helper> get`, with the server URL on stdin.
fn from_helper(helper: &str, registry: &str) -> Option<Credentials> {
    let server = if is_docker_hub(registry) {
        "https://index.docker.io/v1/".to_owned()
    } else {
        registry.to_owned()
    };
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(server.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    if !output.status.success() {
        return None;
    }
    let data: Value = serde_json::from_slice(&output.stdout).ok()?;
    Some(Credentials {
        username: data.get("Username")?.as_str()?.to_owned(),
        password: Secret::new(data.get("Secret")?.as_str()?),
    })
}

/// Why a registry call failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry refused the credentials (or asked for some and there were none).
    #[error("{registry} refused the credentials{user}: {detail}")]
    Unauthorized {
        /// The registry.
        registry: String,
        /// ` for user \`x\`` or empty.
        user: String,
        /// What it said.
        detail: String,
    },
    /// Any other unexpected answer.
    #[error("{method} {url} returned {status}: {detail}")]
    Status {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// The status.
        status: StatusCode,
        /// The start of the body.
        detail: String,
    },
    /// The request failed.
    #[error(transparent)]
    Net(#[from] ops_net::Error),
    /// A malformed answer.
    #[error("{0}")]
    Protocol(String),
}

/// A manifest as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// `sha256:…` of the bytes.
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// The bytes.
    pub body: Bytes,
}

impl Manifest {
    /// The body as JSON.
    pub fn json(&self) -> Result<Value, RegistryError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| RegistryError::Protocol(format!("manifest {} is not JSON: {e}", self.digest)))
    }
}

/// `sha256:<hex>` of some bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A client for one repository.
#[derive(Debug)]
pub struct Registry {
    http: HttpClient,
    image: ImageRef,
    credentials: Option<Credentials>,
    auth: Mutex<Option<HeaderValue>>,
    /// What a registry may echo back of our credentials (the password in each of its forms, the Basic
    /// credential, bearer tokens it issued): hidden in every error detail we quote from it.
    masks: Mutex<Vec<Secret>>,
}

impl Registry {
    /// A client for `image`, with optional credentials.
    pub fn new(http: HttpClient, image: ImageRef, credentials: Option<Credentials>) -> Self {
        let masks = credentials
            .iter()
            .flat_map(|c| [c.password.clone(), basic_credential(&c.username, &c.password)])
            .filter(|s| !s.expose().is_empty())
            .collect();
        Self {
            http,
            image,
            credentials,
            auth: Mutex::new(None),
            masks: Mutex::new(masks),
        }
    }

    /// The start of a body the registry sent, with our credentials hidden in every form: a 401 page may
    /// echo the `Authorization` header it got (`Basic base64(user:password)`, `Bearer <token>`).
    fn detail(&self, text: &str) -> String {
        let masks: Vec<String> = self
            .masks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .flat_map(|s| derived_forms(s.expose().trim()))
            .collect();
        // redact before cutting, so a secret cut in half is still hidden
        short(&redact(text, &masks))
    }

    /// The repository.
    pub fn image(&self) -> &ImageRef {
        &self.image
    }

    fn current_auth(&self) -> Option<HeaderValue> {
        self.auth
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_auth(&self, value: HeaderValue) {
        *self
            .auth
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(value);
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.image.api)
    }

    /// Sends a request; on a 401 answers the challenge once and sends it again.
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(http::HeaderName, &str)],
        body: Option<Bytes>,
    ) -> Result<ops_net::Response, RegistryError> {
        let url = self.url(path);
        let build = |auth: Option<HeaderValue>| -> Result<Request, RegistryError> {
            let mut request = Request::new(method.clone(), &url)?.accept_any_status();
            for (name, value) in headers {
                let value = HeaderValue::from_str(value)
                    .map_err(|_| RegistryError::Protocol(format!("invalid header value for `{name}`")))?;
                request = request.header(name.clone(), value);
            }
            if let Some(auth) = auth {
                request = request.header(AUTHORIZATION, auth);
            }
            if let Some(body) = &body {
                request = request.body(body.clone());
            }
            Ok(request)
        };
        let response = self.http.send(build(self.current_auth())?).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let auth = self.answer(&challenge).await?;
        self.set_auth(auth.clone());
        let response = self.http.send(build(Some(auth))?).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(self.unauthorized(&response.text()));
        }
        Ok(response)
    }

    fn unauthorized(&self, detail: &str) -> RegistryError {
        RegistryError::Unauthorized {
            registry: self.image.registry.clone(),
            user: self
                .credentials
                .as_ref()
                .map(|c| format!(" for user `{}`", c.username))
                .unwrap_or_else(|| " (no credentials were given)".to_owned()),
            detail: self.detail(detail),
        }
    }

    fn basic(&self) -> Result<Option<HeaderValue>, RegistryError> {
        let Some(creds) = &self.credentials else {
            return Ok(None);
        };
        // Review point: the password enters this header value and nothing else.
        let encoded = basic_credential(&creds.username, &creds.password);
        let mut value = HeaderValue::from_str(&format!("Basic {}", encoded.expose()))
            .map_err(|_| RegistryError::Protocol("the credentials cannot be sent in a header".to_owned()))?;
        value.set_sensitive(true);
        Ok(Some(value))
    }

    /// The `Authorization` value that answers a challenge.
    async fn answer(&self, challenge: &str) -> Result<HeaderValue, RegistryError> {
        let (scheme, params) = parse_challenge(challenge);
        if scheme.eq_ignore_ascii_case("basic") {
            return self
                .basic()?
                .ok_or_else(|| self.unauthorized("the registry asks for a user name and password"));
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(self.unauthorized(&format!("unsupported authentication challenge `{challenge}`")));
        }
        let realm = params
            .iter()
            .find(|(k, _)| k == "realm")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                RegistryError::Protocol(format!("bearer challenge without a realm: `{challenge}`"))
            })?;
        let mut url = url::Url::parse(&realm)
            .map_err(|e| RegistryError::Protocol(format!("invalid token realm `{realm}`: {e}")))?;
        {
            let mut query = url.query_pairs_mut();
            if let Some((_, service)) = params.iter().find(|(k, _)| k == "service") {
                query.append_pair("service", service);
            }
            // a login check has no repository: ask for a token without a scope, as `docker login` does
            if !self.image.repository.is_empty() {
                let actions = if self.credentials.is_some() {
                    "pull,push"
                } else {
                    "pull"
                };
                query.append_pair(
                    "scope",
                    &format!("repository:{}:{actions}", self.image.repository),
                );
            }
            if let Some(creds) = &self.credentials {
                query.append_pair("account", &creds.username);
            }
        }
        let mut request = Request::get(url.as_str())?.accept_any_status();
        if let Some(basic) = self.basic()? {
            request = request.header(AUTHORIZATION, basic);
        }
        let response = self.http.send(request).await?;
        if response.status() == StatusCode::UNAUTHORIZED || response.status() == StatusCode::FORBIDDEN {
            return Err(self.unauthorized(&response.text()));
        }
        if !response.status().is_success() {
            return Err(RegistryError::Status {
                method: Method::GET,
                url: ops_core::secret::redact_url(url.as_str()),
                status: response.status(),
                detail: self.detail(&response.text()),
            });
        }
        let data: Value = response.json()?;
        let token = data
            .get("token")
            .or_else(|| data.get("access_token"))
            .and_then(Value::as_str)
            .ok_or_else(|| RegistryError::Protocol("the token server sent no token".to_owned()))?;
        self.masks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Secret::new(token));
        let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| RegistryError::Protocol("the token cannot be sent in a header".to_owned()))?;
        value.set_sensitive(true);
        Ok(value)
    }

    fn status_error(&self, method: Method, path: &str, response: &ops_net::Response) -> RegistryError {
        RegistryError::Status {
            method,
            url: self.url(path),
            status: response.status(),
            detail: self.detail(&response.text()),
        }
    }

    /// `GET /v2/`: whether the credentials are accepted.
    pub async fn ping(&self) -> Result<(), RegistryError> {
        let response = self.send(Method::GET, "/v2/", &[], None).await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.status_error(Method::GET, "/v2/", &response))
        }
    }

    /// A manifest by tag or digest; `None` when the registry does not have it.
    pub async fn manifest(&self, reference: &str) -> Result<Option<Manifest>, RegistryError> {
        let path = format!("/v2/{}/manifests/{reference}", self.image.repository);
        let response = self
            .send(Method::GET, &path, &[(ACCEPT, MANIFEST_TYPES)], None)
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(self.status_error(Method::GET, &path, &response));
        }
        let media_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned())
            .unwrap_or_default();
        let body = response.into_bytes();
        let media_type = if media_type.is_empty() {
            serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("mediaType").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default()
        } else {
            media_type
        };
        Ok(Some(Manifest {
            digest: sha256_digest(&body),
            media_type,
            body,
        }))
    }

    /// A blob (an image config).
    pub async fn blob(&self, digest: &str) -> Result<Bytes, RegistryError> {
        let path = format!("/v2/{}/blobs/{digest}", self.image.repository);
        let response = self.send(Method::GET, &path, &[], None).await?;
        if !response.status().is_success() {
            return Err(self.status_error(Method::GET, &path, &response));
        }
        let body = response.into_bytes();
        if sha256_digest(&body) != digest {
            return Err(RegistryError::Protocol(format!(
                "blob {digest} does not match its digest"
            )));
        }
        Ok(body)
    }

    /// Stores `manifest` under `tag` (the registry's way to add a tag without pushing again).
    pub async fn put_manifest(&self, tag: &str, manifest: &Manifest) -> Result<(), RegistryError> {
        let path = format!("/v2/{}/manifests/{tag}", self.image.repository);
        let response = self
            .send(
                Method::PUT,
                &path,
                &[(CONTENT_TYPE, manifest.media_type.as_str())],
                Some(manifest.body.clone()),
            )
            .await?;
        if !response.status().is_success() {
            return Err(self.status_error(Method::PUT, &path, &response));
        }
        Ok(())
    }
}

/// `Bearer realm="https://auth",service="registry",scope="…"` → scheme and parameters.
pub fn parse_challenge(header: &str) -> (String, Vec<(String, String)>) {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = Vec::new();
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && (chars[i] == ',' || chars[i].is_whitespace()) {
            i += 1;
        }
        let key_start = i;
        while i < chars.len() && chars[i] != '=' {
            i += 1;
        }
        let key: String = chars[key_start..i]
            .iter()
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        i += 1;
        let mut value = String::new();
        if chars.get(i) == Some(&'"') {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                value.push(chars[i]);
                i += 1;
            }
            i += 1;
        } else {
            while i < chars.len() && chars[i] != ',' {
                value.push(chars[i]);
                i += 1;
            }
        }
        if !key.is_empty() {
            params.push((key, value.trim().to_owned()));
        }
    }
    (scheme.to_owned(), params)
}

fn short(text: &str) -> String {
    let text = text.trim();
    let cut: String = text.chars().take(300).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A registry on loopback that answers every `/v2/` request it cannot accept with the
    /// `Authorization` header it got, as some proxies' and registries' error pages do. `challenge` is
    /// its `WWW-Authenticate`; `{base}` in it becomes the server's own URL (for a token realm).
    async fn echoing_registry(challenge: &'static str) -> String {
        use axum::http::{HeaderMap, StatusCode};
        use axum::response::IntoResponse;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let realm = challenge.replace("{base}", &base);
        let app = axum::Router::new()
            .route(
                "/token",
                axum::routing::get(|| async { r#"{"token":"issued-bearer-token-77"}"# }),
            )
            .fallback(move |headers: HeaderMap| {
                let realm = realm.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let status = if auth.starts_with("Bearer ") {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::UNAUTHORIZED
                    };
                    (
                        status,
                        [("www-authenticate", realm)],
                        format!("denied: you sent `{auth}`"),
                    )
                        .into_response()
                }
            });
        tokio::spawn(async move { axum::serve(listener, app).await });
        base
    }

    fn registry_at(base: &str) -> Registry {
        let mut image = split_image(&format!("{}/team/app", base.trim_start_matches("http://")));
        image.api = base.to_owned();
        let http = HttpClient::builder()
            .retry_policy(ops_net::RetryPolicy {
                max_attempts: 1,
                ..ops_net::RetryPolicy::for_tests()
            })
            .build()
            .unwrap();
        Registry::new(
            http,
            image,
            Some(Credentials {
                username: "ci-bot".to_owned(),
                password: Secret::new("regi$try-pw 42"),
            }),
        )
    }

    /// A 401 body that echoed the `Authorization` header printed `Basic base64(user:password)`: only
    /// the raw password was masked.
    #[tokio::test]
    async fn an_echoed_basic_credential_is_hidden_in_the_error() {
        let base = echoing_registry(r#"Basic realm="registry""#).await;
        let err = registry_at(&base).ping().await.unwrap_err();
        let shown = format!("{err}\n{err:?}");
        assert!(matches!(err, RegistryError::Unauthorized { .. }), "{shown}");
        assert!(shown.contains("denied: you sent `Basic ***`"), "{shown}");
        for leak in [
            "Y2ktYm90OnJlZ2kkdHJ5LXB3IDQy",
            "regi$try-pw 42",
            "regi%24try-pw%2042",
        ] {
            assert!(!shown.contains(leak), "`{leak}` leaked: {shown}");
        }
    }

    /// The same for a bearer token the registry's token server issued for our credentials.
    #[tokio::test]
    async fn an_echoed_bearer_token_is_hidden_in_the_error() {
        let base = echoing_registry(r#"Bearer realm="{base}/token",service="registry""#).await;
        let err = registry_at(&base).ping().await.unwrap_err();
        let shown = format!("{err}\n{err:?}");
        assert!(shown.contains("denied: you sent `Bearer ***`"), "{shown}");
        assert!(!shown.contains("issued-bearer-token-77"), "{shown}");
    }

    #[test]
    fn image_names_split_into_registry_and_repository() {
        for (name, registry, repository, api) in [
            (
                "alpine",
                "docker.io",
                "library/alpine",
                "https://registry-1.docker.io",
            ),
            (
                "user/app",
                "docker.io",
                "user/app",
                "https://registry-1.docker.io",
            ),
            (
                "docker.io/user/app",
                "docker.io",
                "user/app",
                "https://registry-1.docker.io",
            ),
            ("ghcr.io/owner/app", "ghcr.io", "owner/app", "https://ghcr.io"),
            (
                "localhost:5000/app",
                "localhost:5000",
                "app",
                "http://localhost:5000",
            ),
            (
                "127.0.0.1:41234/team/app",
                "127.0.0.1:41234",
                "team/app",
                "http://127.0.0.1:41234",
            ),
            (
                "registry.example:5000/a/b/c",
                "registry.example:5000",
                "a/b/c",
                "https://registry.example:5000",
            ),
        ] {
            assert_eq!(
                split_image(name),
                ImageRef {
                    registry: registry.to_owned(),
                    repository: repository.to_owned(),
                    api: api.to_owned()
                },
                "{name}"
            );
        }
    }

    #[test]
    fn challenges() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/a:pull""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(
            params,
            [
                ("realm".to_owned(), "https://ghcr.io/token".to_owned()),
                ("service".to_owned(), "ghcr.io".to_owned()),
                ("scope".to_owned(), "repository:o/a:pull".to_owned()),
            ]
        );
        let (scheme, params) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!((scheme.as_str(), params.len()), ("Basic", 1));
    }

    #[test]
    fn docker_config_credentials() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"aHViOmh1YnBhc3M="},"ghcr.io":{"auth":"b2N0bzpnaHBfeHl6"},"localhost:5000":{}}}"#,
        )
        .unwrap();
        let env = Env::from_pairs([("DOCKER_CONFIG", dir.path().display().to_string())]);
        let hub = from_docker_config(&env, "docker.io").unwrap();
        assert_eq!((hub.username.as_str(), hub.password.expose()), ("hub", "hubpass"));
        let ghcr = from_docker_config(&env, "ghcr.io").unwrap();
        assert_eq!(
            (ghcr.username.as_str(), ghcr.password.expose()),
            ("octo", "ghp_xyz")
        );
        assert!(from_docker_config(&env, "localhost:5000").is_none());
        assert!(from_docker_config(&env, "quay.io").is_none());
    }

    #[test]
    fn loopback_hosts() {
        for (host, expected) in [
            ("localhost:5000", true),
            ("127.0.0.1:1234", true),
            ("localhost", true),
            ("[::1]:5000", true),
            ("ghcr.io", false),
            ("registry.example:5000", false),
        ] {
            assert_eq!(is_loopback(host), expected, "{host}");
        }
    }
}
