//! The DigitalOcean calls of a fleet deploy: the Droplets with a tag (paginated, 200 a page) and a
//! Load Balancer (by ID or name; its Droplets taken out and put back). On ops-net's client: GETs are
//! retried when safe; adding or removing a Droplet is idempotent on the balancer.

use http::Method;
use ops_net::Request;
use serde_json::{Value, json};

use crate::error::Error;

const PER_PAGE: usize = 200;
const MAX_PAGES: usize = 50;

/// A Droplet: its ID, name and IPv4 addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Droplet {
    /// The Droplet's ID.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its public IPv4 address.
    pub public: Option<String>,
    /// Its private (VPC) IPv4 address.
    pub private: Option<String>,
}

/// A Load Balancer as a deploy needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balancer {
    /// Its ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Set when it targets a tag (Droplets cannot be removed from it).
    pub tag: Option<String>,
    /// The Droplets it sends to (when it targets IDs).
    pub droplet_ids: Vec<u64>,
    /// Health check: protocol, port, path.
    pub check: (String, u16, String),
    /// Seconds between checks.
    pub interval: u64,
    /// Failures before a Droplet is taken out.
    pub unhealthy_threshold: u64,
    /// Successes before it is put back.
    pub healthy_threshold: u64,
}

pub use crate::do_api::Api;
use crate::do_api::scope_error;

impl Api {
    /// Every Droplet with `tag`, in ID order.
    pub async fn droplets_by_tag(&self, tag: &str) -> Result<Vec<Droplet>, Error> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let mut url = url::Url::parse(&format!("{}/v2/droplets", self.base))
                .map_err(|e| Error::input(format!("input `api-url`: {e}"), None))?;
            url.query_pairs_mut()
                .append_pair("tag_name", tag)
                .append_pair("per_page", &PER_PAGE.to_string())
                .append_pair("page", &page.to_string());
            let body: Value = self.http.get_json(url.as_str()).await.map_err(|e| {
                scope_error(
                    &format!("list the Droplets tagged `{tag}`"),
                    "`droplet:read`, `tag:read`",
                    e,
                )
            })?;
            let items = body
                .get("droplets")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let n = items.len();
            for d in items {
                let Some(id) = d.get("id").and_then(Value::as_u64) else {
                    continue;
                };
                let ip = |kind: &str| {
                    d.pointer("/networks/v4")
                        .and_then(Value::as_array)
                        .and_then(|v| {
                            v.iter()
                                .find(|n| n.get("type").and_then(Value::as_str) == Some(kind))
                                .and_then(|n| n.get("ip_address").and_then(Value::as_str))
                        })
                        .map(str::to_owned)
                };
                out.push(Droplet {
                    id,
                    name: d
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    public: ip("public"),
                    private: ip("private"),
                });
            }
            let has_next = body
                .pointer("/links/pages/next")
                .and_then(Value::as_str)
                .is_some();
            if !has_next || n < PER_PAGE {
                break;
            }
        }
        out.sort_by_key(|d| d.id);
        out.dedup_by_key(|d| d.id);
        Ok(out)
    }

    /// A Load Balancer by ID, or by name through the list.
    pub async fn balancer(&self, id_or_name: &str) -> Result<Balancer, Error> {
        let looks_like_id =
            id_or_name.len() == 36 && id_or_name.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        let lb: Value = if looks_like_id {
            let body: Value = self
                .http
                .get_json(&format!("{}/v2/load_balancers/{id_or_name}", self.base))
                .await
                .map_err(|e| match e.status().map(|s| s.as_u16()) {
                    Some(404) => Error::input(
                        format!("input `load-balancer`: no Load Balancer `{id_or_name}`"),
                        None,
                    ),
                    _ => scope_error(
                        &format!("read Load Balancer `{id_or_name}`"),
                        "`load_balancer:read`",
                        e,
                    ),
                })?;
            body.get("load_balancer").cloned().unwrap_or(Value::Null)
        } else {
            let mut found = None;
            for page in 1..=MAX_PAGES {
                let body: Value = self
                    .http
                    .get_json(&format!(
                        "{}/v2/load_balancers?per_page={PER_PAGE}&page={page}",
                        self.base
                    ))
                    .await
                    .map_err(|e| scope_error("list the Load Balancers", "`load_balancer:read`", e))?;
                let items = body
                    .get("load_balancers")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let n = items.len();
                found = items
                    .into_iter()
                    .find(|l| l.get("name").and_then(Value::as_str) == Some(id_or_name));
                if found.is_some() || n < PER_PAGE {
                    break;
                }
            }
            found.ok_or_else(|| {
                Error::input(
                    format!("input `load-balancer`: no Load Balancer named `{id_or_name}`"),
                    None,
                )
            })?
        };
        let hc = lb.get("health_check").cloned().unwrap_or(Value::Null);
        let num = |v: &Value, k: &str, d: u64| v.get(k).and_then(Value::as_u64).unwrap_or(d);
        Ok(Balancer {
            id: lb
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            name: lb
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            tag: lb
                .get("tag")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            droplet_ids: lb
                .get("droplet_ids")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default(),
            check: (
                hc.get("protocol")
                    .and_then(Value::as_str)
                    .unwrap_or("http")
                    .to_owned(),
                u16::try_from(num(&hc, "port", 80)).unwrap_or(80),
                hc.get("path").and_then(Value::as_str).unwrap_or("/").to_owned(),
            ),
            interval: num(&hc, "check_interval_seconds", 10),
            unhealthy_threshold: num(&hc, "unhealthy_threshold", 5),
            healthy_threshold: num(&hc, "healthy_threshold", 3),
        })
    }

    /// Takes Droplets out of (`remove`) or puts them back into a Droplet-ID balancer.
    pub async fn balancer_droplets(&self, lb: &str, ids: &[u64], remove: bool) -> Result<(), Error> {
        let method = if remove { Method::DELETE } else { Method::POST };
        let request = Request::new(method, &format!("{}/v2/load_balancers/{lb}/droplets", self.base))
            .and_then(|r| r.json(&json!({ "droplet_ids": ids })))
            .map_err(|e| Error::api("could not build the request", e))?;
        let what = if remove {
            "take Droplets out of"
        } else {
            "put Droplets back into"
        };
        self.http.send(request).await.map_err(|e| {
            scope_error(
                &format!("{what} Load Balancer `{lb}`"),
                "`load_balancer:update`",
                e,
            )
        })?;
        Ok(())
    }
}
