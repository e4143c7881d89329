//! Getting into the cluster: short-lived credentials from the DigitalOcean API, kept in memory only,
//! or a `kubeconfig` given as an input (for clusters elsewhere).
//!
//! `cluster` (a name or an ID; a name is looked up in the cluster list) →
//! `GET /v2/kubernetes/clusters/{id}/credentials?expiry_seconds=N`, N being the deploy's `timeout`
//! plus a margin, so the token dies soon after the job. The token is masked at once, goes into the
//! client's configuration in memory (no kubeconfig file, no doctl), and is fetched again when less
//! than [`REFRESH_BEFORE`] of it is left.

use std::time::Duration;

use http::HeaderValue;
use http::header::AUTHORIZATION;
use ops_core::secret::redact_url;
use ops_core::{Runner, Secret};
use serde_json::Value;

use crate::error::Error;

/// A credential with less than this left is fetched again.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(120);
/// Added to the deploy's `timeout` for the credential's lifetime.
pub const MARGIN: Duration = Duration::from_secs(300);
const PER_PAGE: usize = 200;
const MAX_PAGES: usize = 20;

/// Where credentials come from.
pub enum Source {
    /// The DigitalOcean API.
    DigitalOcean {
        /// Its client.
        api: DoApi,
        /// The cluster's ID.
        cluster_id: String,
        /// The cluster's name.
        cluster_name: String,
        /// Lifetime to ask for.
        expiry: Duration,
    },
    /// A kubeconfig given as an input.
    Kubeconfig(Secret),
}

/// A live client and when its credential dies.
pub struct Access {
    source: Source,
    namespace: String,
    client: Option<kube::Client>,
    expires: Option<jiff::Timestamp>,
    /// The API server's address, for the log.
    pub server: String,
    /// How many credentials were fetched.
    pub fetched: u32,
    /// Tells background tasks (the Lease's renewals) about a fresh client.
    watchers: Option<tokio::sync::watch::Sender<kube::Client>>,
}

pub use crate::do_api::Api as DoApi;

/// What a token needs for the calls of a doks deploy.
const SCOPES: &str = "`kubernetes:read`, `kubernetes:access_cluster`";

fn scope_error(what: &str, e: ops_net::Error) -> Error {
    match e.status().map(|s| s.as_u16()) {
        Some(404) => Error::input(format!("could not {what}: no such cluster (404)"), None),
        _ => crate::do_api::scope_error(what, SCOPES, e),
    }
}

impl DoApi {
    /// The cluster's ID and name, from an ID (checked) or a name (looked up in the list).
    pub async fn cluster(&self, wanted: &str) -> Result<(String, String), Error> {
        let looks_like_id = wanted.len() == 36 && wanted.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        if looks_like_id {
            let body: Value = self
                .http
                .get_json(&format!("{}/v2/kubernetes/clusters/{wanted}", self.base))
                .await
                .map_err(|e| scope_error(&format!("read cluster `{wanted}`"), e))?;
            let name = body["kubernetes_cluster"]["name"]
                .as_str()
                .unwrap_or(wanted)
                .to_owned();
            return Ok((wanted.to_owned(), name));
        }
        let mut names = Vec::new();
        for page in 1..=MAX_PAGES {
            let url = format!(
                "{}/v2/kubernetes/clusters?per_page={PER_PAGE}&page={page}",
                self.base
            );
            let body: Value = self
                .http
                .get_json(&url)
                .await
                .map_err(|e| scope_error("list the Kubernetes clusters", e))?;
            let items = body["kubernetes_clusters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for c in &items {
                let name = c["name"].as_str().unwrap_or_default();
                if name == wanted
                    && let Some(id) = c["id"].as_str()
                {
                    return Ok((id.to_owned(), name.to_owned()));
                }
                names.push(format!("`{name}`"));
            }
            if items.len() < PER_PAGE || body.pointer("/links/pages/next").is_none_or(Value::is_null) {
                break;
            }
        }
        Err(Error::input(
            format!(
                "input `cluster`: no Kubernetes cluster is named `{wanted}`; the token sees: {}",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ),
            Some("give the cluster's name as `doctl kubernetes cluster list` shows it, or its ID"),
        ))
    }

    /// Short-lived credentials for the cluster.
    pub async fn credentials(&self, id: &str, expiry: Duration) -> Result<Credentials, Error> {
        let url = format!(
            "{}/v2/kubernetes/clusters/{id}/credentials?expiry_seconds={}",
            self.base,
            expiry.as_secs()
        );
        let body: Value = self
            .http
            .get_json(&url)
            .await
            .map_err(|e| scope_error("get credentials for the cluster", e))?;
        let field = |k: &str| body[k].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        let server = field("server").ok_or_else(|| Error::Runtime {
            message: "the cluster's credentials have no `server`".to_owned(),
            hint: None,
        })?;
        let token = field("token").ok_or_else(|| Error::Runtime {
            message: "the cluster's credentials have no `token` (only token credentials are supported; \
                      client certificates are deprecated by DigitalOcean)"
                .to_owned(),
            hint: None,
        })?;
        let expires = field("expires_at").and_then(|t| t.parse::<jiff::Timestamp>().ok());
        Ok(Credentials {
            server,
            ca: field("certificate_authority_data"),
            token: Secret::new(token),
            expires,
        })
    }
}

/// What the credentials endpoint hands out.
pub struct Credentials {
    /// The API server's URL.
    pub server: String,
    /// Base64 of the CA's PEM.
    pub ca: Option<String>,
    /// The bearer token.
    pub token: Secret,
    /// When it dies.
    pub expires: Option<jiff::Timestamp>,
}

/// DER certificates from base64 of PEM text (or of DER).
fn certificates(b64: &str) -> Result<Vec<Vec<u8>>, String> {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let raw = engine
        .decode(b64.trim())
        .map_err(|e| format!("`certificate_authority_data` is not base64: {e}"))?;
    let Ok(text) = String::from_utf8(raw.clone()) else {
        return Ok(vec![raw]);
    };
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN CERTIFICATE") {
            body = Some(String::new());
        } else if line.starts_with("-----END CERTIFICATE") {
            if let Some(b) = body.take() {
                out.push(
                    engine.decode(b).map_err(|e| {
                        format!("a certificate in `certificate_authority_data` is broken: {e}")
                    })?,
                );
            }
        } else if let Some(b) = body.as_mut() {
            b.push_str(line);
        }
    }
    if out.is_empty() {
        return Err("`certificate_authority_data` holds no PEM certificate".to_owned());
    }
    Ok(out)
}

impl Access {
    /// Prepares access (nothing fetched yet).
    pub fn new(source: Source, namespace: &str) -> Self {
        Self {
            source,
            namespace: namespace.to_owned(),
            client: None,
            expires: None,
            server: String::new(),
            fetched: 0,
            watchers: None,
        }
    }

    /// Where credentials come from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Turns `cluster` (a name or an ID) into the cluster's ID and name.
    pub async fn resolve_cluster(&mut self) -> Result<(), Error> {
        if let Source::DigitalOcean {
            api,
            cluster_id,
            cluster_name,
            ..
        } = &mut self.source
        {
            let (id, name) = api.cluster(cluster_name).await?;
            *cluster_id = id;
            *cluster_name = name;
        }
        Ok(())
    }

    /// The newest client, for tasks that outlive one call (after the first [`Access::client`]).
    pub fn watch(&self) -> Option<tokio::sync::watch::Receiver<kube::Client>> {
        self.watchers.as_ref().map(tokio::sync::watch::Sender::subscribe)
    }

    /// A client whose credential has at least [`REFRESH_BEFORE`] left.
    pub async fn client(&mut self, runner: &Runner) -> Result<kube::Client, Error> {
        let fresh = self.client.is_some()
            && self.expires.is_none_or(|t| {
                let left = t.as_second() - jiff::Timestamp::now().as_second();
                left > REFRESH_BEFORE.as_secs() as i64
            });
        if !fresh {
            if self.client.is_some() {
                runner.info("the cluster credential is about to expire: fetching a new one");
            }
            self.connect(runner).await?;
        }
        self.client.clone().ok_or_else(|| Error::Runtime {
            message: "no client for the cluster".to_owned(),
            hint: None,
        })
    }

    async fn connect(&mut self, runner: &Runner) -> Result<(), Error> {
        let config =
            match &self.source {
                Source::DigitalOcean {
                    api,
                    cluster_id,
                    cluster_name,
                    expiry,
                } => {
                    let creds = api.credentials(cluster_id, *expiry).await?;
                    runner.mask(creds.token.expose());
                    self.fetched += 1;
                    if self.fetched == 1 {
                        runner.info(&format!(
                            "cluster `{cluster_name}` ({cluster_id}): credentials for {}s{}, kept in memory",
                            expiry.as_secs(),
                            creds
                                .expires
                                .map(|t| format!(", valid until {t}"))
                                .unwrap_or_default()
                        ));
                    }
                    self.expires = creds.expires;
                    let uri: http::Uri = creds.server.parse().map_err(|e| Error::Runtime {
                        message: format!("the cluster's `server` is not a URL: {e}"),
                        hint: None,
                    })?;
                    let mut config = kube::Config::new(uri);
                    if let Some(ca) = &creds.ca {
                        config.root_cert = Some(certificates(ca).map_err(|m| Error::Runtime {
                            message: m,
                            hint: None,
                        })?);
                    }
                    let mut value = HeaderValue::from_str(&format!("Bearer {}", creds.token.expose()))
                        .map_err(|_| Error::Runtime {
                            message: "the cluster's token cannot be sent in a header".to_owned(),
                            hint: None,
                        })?;
                    value.set_sensitive(true);
                    config.headers.push((AUTHORIZATION, value));
                    config
                }
                Source::Kubeconfig(text) => {
                    mask_kubeconfig(text.expose(), runner);
                    let kc = kube::config::Kubeconfig::from_yaml(text.expose()).map_err(|e| {
                        Error::input(
                            format!(
                                "input `kubeconfig` is not a kubeconfig: {}",
                                runner.redact(&e.to_string())
                            ),
                            None,
                        )
                    })?;
                    kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                        .await
                        .map_err(|e| {
                            Error::input(
                                format!("input `kubeconfig`: {}", runner.redact(&e.to_string())),
                                None,
                            )
                        })?
                }
            };
        let mut config = config;
        config.default_namespace = self.namespace.clone();
        config.connect_timeout = Some(Duration::from_secs(10));
        config.read_timeout = Some(Duration::from_secs(60));
        self.server = redact_url(&config.cluster_url.to_string());
        let client = kube::Client::try_from(config).map_err(|e| Error::Runtime {
            message: format!(
                "could not set up the Kubernetes client: {}",
                runner.redact(&e.to_string())
            ),
            hint: None,
        })?;
        match &self.watchers {
            Some(tx) => {
                let _ = tx.send(client.clone());
            }
            None => self.watchers = Some(tokio::sync::watch::channel(client.clone()).0),
        }
        self.client = Some(client);
        Ok(())
    }
}

/// Masks a kubeconfig's secrets (tokens, passwords, client keys) before anything could print them.
fn mask_kubeconfig(text: &str, runner: &Runner) {
    let Ok(value) = serde_saphyr::from_str::<Value>(text) else {
        return;
    };
    for user in value["users"].as_array().into_iter().flatten() {
        for key in ["token", "password", "client-key-data"] {
            if let Some(s) = user["user"][key].as_str() {
                runner.mask(s);
            }
        }
    }
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("server", &self.server)
            .field("fetched", &self.fetched)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("server", &self.server)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DigitalOcean {
                cluster_id,
                cluster_name,
                expiry,
                ..
            } => f
                .debug_struct("DigitalOcean")
                .field("cluster_id", cluster_id)
                .field("cluster_name", cluster_name)
                .field("expiry", expiry)
                .finish_non_exhaustive(),
            Self::Kubeconfig(_) => f.write_str("Kubeconfig(…)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_certificates_become_der() {
        use base64::Engine as _;
        let e = base64::engine::general_purpose::STANDARD;
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            e.encode([1u8, 2, 3]),
            e.encode([4u8])
        );
        assert_eq!(
            certificates(&e.encode(pem)).unwrap(),
            vec![vec![1, 2, 3], vec![4]]
        );
        assert!(certificates("%%").unwrap_err().contains("not base64"));
        assert!(
            certificates(&e.encode("hello"))
                .unwrap_err()
                .contains("no PEM certificate")
        );
    }
}
