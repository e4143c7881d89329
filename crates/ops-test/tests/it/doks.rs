//! DigitalOcean Kubernetes in the DigitalOcean stand-in: clusters in pages, one cluster and the 404
//! of an unknown one, credentials (their shape, a fresh token each time, the lifetime asked for or 7
//! days, a cap that makes them about to expire), the scopes each operation needs, and the 400 of a
//! request the description refuses. Shapes are checked through Prism and the Rust contract check;
//! `ops-sim digitalocean --kubernetes-cluster` serves a cluster.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use ops_test::digitalocean::{self, ClusterState, DoSim, DoState, IssuedCredentials, NewKubernetesCluster};
use ops_test::kubernetes::KubeSim;
use ops_test::sim::{Checked, Contract, ContractMode, Spec, rfc3339};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{client, get};

/// DigitalOcean's own example of `certificate_authority_data` starts so: `-----BEGIN CERTIFICATE-----`.
const PEM_IN_BASE64: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t";

/// Status, body and Prism's objection (if any) of one exchange through Prism.
async fn through(url: &str, path: &str, token: &str) -> (u16, Value, Option<String>) {
    let resp = client()
        .request(Method::GET, format!("{url}{path}"))
        .bearer_auth(token)
        .header("accept", "application/json")
        .send()
        .await
        .expect("prism answers");
    let status = resp.status().as_u16();
    let objection = resp
        .headers()
        .get("sl-violations")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.contains("\"Error\""))
        .map(str::to_owned);
    let text = resp.text().await.expect("body");
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    let rejected = body["type"]
        .as_str()
        .is_some_and(|t| t.contains("stoplight.io/prism/errors"))
        .then(|| body["validation"].to_string());
    (status, body, objection.or(rejected))
}

/// Expects `want` with no objection from Prism.
async fn expect(url: &str, want: u16, path: &str, token: &str) -> Value {
    let (status, body, objection) = through(url, path, token).await;
    assert_eq!(status, want, "{path}: {body}");
    assert_eq!(objection, None, "prism objected to {path}");
    body
}

/// No Rust contract violation on an exchange whose path holds `marker`.
fn clean(checked: &Checked<DoState>, marker: &str) {
    let found: Vec<String> = checked
        .sim
        .violations()
        .iter()
        .filter(|v| v.exchange.contains(marker))
        .map(ToString::to_string)
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// A stand-in of its own, with the Rust contract check on every request and answer.
fn observed() -> DoSim {
    let dosim = DoSim::start();
    dosim.check_contract(
        Contract::vendored(Spec::DigitalOcean).expect("the vendored description loads"),
        ContractMode::Observe,
    );
    dosim
}

fn no_violations(dosim: &DoSim) {
    let found: Vec<String> = dosim.violations().iter().map(ToString::to_string).collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn names(page: &Value) -> Vec<String> {
    page["kubernetes_clusters"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["name"].as_str().expect("a name").to_owned())
        .collect()
}

#[tokio::test]
async fn clusters_come_in_pages_with_links_and_a_total() {
    let dosim = observed();
    let ids: Vec<String> = dosim.with(|s| {
        (1..=5)
            .map(|i| {
                s.add_kubernetes_cluster(NewKubernetesCluster::new(
                    &format!("c-{i}"),
                    &format!("http://127.0.0.1:{}", 6440 + i),
                ))
            })
            .collect()
    });
    let base = format!("{}/v2/kubernetes/clusters", dosim.url());
    let (status, first) = get(&format!("{base}?per_page=2"), "tok").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(names(&first), ["c-1", "c-2"]);
    assert_eq!(first["meta"]["total"], 5);
    let mut seen = names(&first);
    let mut next = first["links"]["pages"]["next"].as_str().map(str::to_owned);
    assert_eq!(
        first["links"]["pages"]["last"].as_str(),
        Some(format!("{base}?page=3&per_page=2").as_str())
    );
    let mut pages = 1;
    while let Some(url) = next {
        assert!(
            url.starts_with(&base),
            "links point where the client called: {url}"
        );
        let (status, page) = get(&url, "tok").await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["meta"]["total"], 5);
        assert!(page["links"]["pages"]["prev"].is_string(), "{}", page["links"]);
        seen.extend(names(&page));
        next = page["links"]["pages"]["next"].as_str().map(str::to_owned);
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["c-1", "c-2", "c-3", "c-4", "c-5"]);

    // 20 a page by default: all five, and no pages to link.
    let (_, all) = get(&base, "tok").await;
    assert_eq!(names(&all).len(), 5);
    assert_eq!(all["links"], json!({}));
    let c = &all["kubernetes_clusters"][0];
    assert_eq!(c["id"], ids[0].as_str());
    assert!(is_uuid(&ids[0]), "{}", ids[0]);
    assert_eq!(
        (&c["region"], &c["version"], &c["endpoint"], &c["status"]),
        (
            &json!("nyc1"),
            &json!("1.32.2-do.0"),
            &json!("http://127.0.0.1:6441"),
            &json!({"state": "running"})
        )
    );
    let pool = &c["node_pools"][0];
    assert_eq!(pool["count"], 3);
    assert_eq!(pool["nodes"].as_array().unwrap().len(), 3);
    assert!(
        pool["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["status"]["state"] == "running" && is_uuid(n["id"].as_str().unwrap()))
    );
    assert_eq!(c["tags"], json!(["k8s", format!("k8s:{}", ids[0])]));
    let (_, empty) = get(&format!("{base}?page=9"), "tok").await;
    assert_eq!((names(&empty).len(), &empty["meta"]["total"]), (0, &json!(5)));
    no_violations(&dosim);
    // More than 200 a page is refused before the handler, as DigitalOcean does.
    let (status, body) = get(&format!("{base}?per_page=201"), "tok").await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn a_cluster_is_read_by_id_and_an_unknown_one_is_digitaloceans_404() {
    let checked = digitalocean::checked();
    let (url, tok) = (checked.url().to_owned(), "doks-read");
    let id = checked.sim.with(|s| {
        s.add_kubernetes_cluster(
            NewKubernetesCluster::new("doks-read", "http://127.0.0.1:6443")
                .region("fra1")
                .version("1.31.5-do.0")
                .state(ClusterState::Degraded)
                .nodes(1),
        )
    });
    let got = expect(&url, 200, &format!("/v2/kubernetes/clusters/{id}"), tok).await;
    let c = &got["kubernetes_cluster"];
    assert_eq!(
        (
            c["id"].as_str(),
            c["name"].as_str(),
            c["region"].as_str(),
            c["version"].as_str()
        ),
        (
            Some(id.as_str()),
            Some("doks-read"),
            Some("fra1"),
            Some("1.31.5-do.0")
        )
    );
    assert_eq!(c["endpoint"], "http://127.0.0.1:6443");
    assert_eq!(c["ipv4"], "127.0.0.1");
    assert_eq!(c["status"]["state"], "degraded");
    assert_eq!(c["node_pools"][0]["count"], 1);
    checked
        .sim
        .with(|s| s.set_kubernetes_state(&id, ClusterState::Running));
    let got = expect(&url, 200, &format!("/v2/kubernetes/clusters/{id}"), tok).await;
    assert_eq!(got["kubernetes_cluster"]["status"]["state"], "running");

    // Found by name in the list, as a client given a name does (other tests add clusters too).
    let mut next = Some(format!("{url}/v2/kubernetes/clusters?per_page=200"));
    let mut found = Vec::new();
    while let Some(page_url) = next {
        let page = expect(&url, 200, &page_url[url.len()..], tok).await;
        found.extend(
            page["kubernetes_clusters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["name"] == "doks-read")
                .map(|c| c["id"].clone()),
        );
        next = page["links"]["pages"]["next"].as_str().map(str::to_owned);
    }
    assert_eq!(found, [json!(id)]);

    let unknown = "5eed0000-dead-4000-8000-000000000000";
    for path in [
        format!("/v2/kubernetes/clusters/{unknown}"),
        format!("/v2/kubernetes/clusters/{unknown}/credentials"),
    ] {
        let body = expect(&url, 404, &path, tok).await;
        assert_eq!(body["id"], "not_found", "{body}");
        assert_eq!(
            body["message"],
            "The resource you were accessing could not be found."
        );
    }
    clean(checked, &id);
    clean(checked, unknown);
}

#[tokio::test]
async fn credentials_are_fresh_each_call_and_last_what_was_asked_or_seven_days() {
    let checked = digitalocean::checked();
    let url = checked.url().to_owned();
    let id = checked.sim.with(|s| {
        s.add_kubernetes_cluster(NewKubernetesCluster::new("doks-creds", "http://127.0.0.1:16443"))
    });
    let path = format!("/v2/kubernetes/clusters/{id}/credentials");
    let short = expect(&url, 200, &format!("{path}?expiry_seconds=1800"), "doks-creds").await;
    let keys: HashSet<&str> = short.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        HashSet::from([
            "server",
            "certificate_authority_data",
            "client_certificate_data",
            "client_key_data",
            "token",
            "expires_at"
        ])
    );
    assert_eq!(short["server"], "http://127.0.0.1:16443");
    assert!(
        short["certificate_authority_data"]
            .as_str()
            .unwrap()
            .starts_with(PEM_IN_BASE64)
    );
    assert_eq!(
        (&short["client_certificate_data"], &short["client_key_data"]),
        (&Value::Null, &Value::Null)
    );
    let default = expect(&url, 200, &path, "doks-creds").await;
    let zero = expect(&url, 200, &format!("{path}?expiry_seconds=0"), "doks-creds").await;

    let issued: Vec<IssuedCredentials> = checked.sim.with(|s| {
        s.issued_credentials()
            .iter()
            .filter(|c| c.cluster_id == id)
            .cloned()
            .collect()
    });
    assert_eq!(issued.len(), 3);
    let asked: Vec<Option<u64>> = issued.iter().map(|c| c.expiry_seconds).collect();
    assert_eq!(asked, [Some(1_800), None, Some(0)]);
    let lifetimes: Vec<i64> = issued.iter().map(IssuedCredentials::lifetime).collect();
    assert_eq!(lifetimes, [1_800, 604_800, 604_800]);
    for (answer, record) in [&short, &default, &zero].iter().zip(&issued) {
        assert_eq!(answer["token"], record.token.as_str());
        assert_eq!(answer["expires_at"], rfc3339(record.expires_at).as_str());
        assert!(record.token.starts_with("doks-"), "{}", record.token);
    }
    let tokens: HashSet<&str> = issued.iter().map(|c| c.token.as_str()).collect();
    assert_eq!(tokens.len(), 3, "a fresh token on every call");
    // expires_at is the stand-in's clock plus the lifetime, readable as RFC 3339.
    let now = checked.sim.with(|s| s.now());
    assert!(issued[0].issued_at <= now && now - issued[0].issued_at < 60);
    clean(checked, &id);
}

#[tokio::test]
async fn a_lifetime_cap_hands_out_credentials_about_to_expire() {
    let kube = Arc::new(KubeSim::start());
    let dosim = observed();
    let id = dosim.with(|s| {
        s.add_kubernetes_cluster(
            NewKubernetesCluster::new("edge", &kube.url()).certificate_authority("custom"),
        )
    });
    // The Kubernetes stand-in takes only the newest token DigitalOcean handed out.
    let told = Arc::new(Mutex::new(Vec::<String>::new()));
    let (sink, kube_side) = (Arc::clone(&told), Arc::clone(&kube));
    dosim.with(|s| {
        s.on_kubernetes_credentials(move |issued| {
            sink.lock().unwrap().push(issued.token.clone());
            kube_side.with(|k| k.accept_tokens(&[&issued.token]));
        });
        s.cap_credential_lifetime(Some(90));
    });
    // Only the first credential is capped.
    dosim.after("GET /v2/kubernetes/clusters/*/credentials", 1, |s| {
        s.cap_credential_lifetime(None);
    });
    let creds = format!(
        "{}/v2/kubernetes/clusters/{id}/credentials?expiry_seconds=1800",
        dosim.url()
    );
    let (status, first) = get(&creds, "tok").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["server"], kube.url().as_str());
    assert_eq!(
        first["certificate_authority_data"], "Y3VzdG9t",
        "base64 of `custom`"
    );
    let (_, second) = get(&creds, "tok").await;
    let issued = dosim.with(|s| s.issued_credentials().to_vec());
    let lifetimes: Vec<i64> = issued.iter().map(IssuedCredentials::lifetime).collect();
    assert_eq!(lifetimes, [90, 1_800]);
    assert_eq!(first["expires_at"], issued[0].expires_at_rfc3339().as_str());
    assert_eq!(
        *told.lock().unwrap(),
        [issued[0].token.clone(), issued[1].token.clone()],
        "told of each before the client had it"
    );

    // The refreshed token reaches the cluster; the first no longer does.
    let version = format!("{}/version", kube.url());
    let token = |v: &Value| v["token"].as_str().unwrap().to_owned();
    assert_eq!(get(&version, &token(&second)).await.0, 200);
    assert_eq!(get(&version, &token(&first)).await.0, 401);

    // A cluster can be pointed elsewhere, e.g. at a stand-in started later.
    assert!(dosim.with(|s| s.set_kubernetes_server(&id, "http://127.0.0.1:1/")));
    let (_, moved) = get(&creds, "tok").await;
    assert_eq!(moved["server"], "http://127.0.0.1:1");
    // Its clock can be lined up with a client's.
    dosim.with(|s| s.jump_to(1_800_000_000));
    let (_, later) = get(&creds, "tok").await;
    let last = dosim.with(|s| s.issued_credentials().last().cloned().unwrap());
    assert!(last.issued_at >= 1_800_000_000);
    assert_eq!(later["expires_at"], rfc3339(last.issued_at + 1_800).as_str());
    no_violations(&dosim);
}

#[tokio::test]
async fn reading_clusters_and_getting_credentials_need_their_own_scopes() {
    let checked = digitalocean::checked();
    let url = checked.url().to_owned();
    let id = checked.sim.with(|s| {
        s.withhold_scopes("doks-no-read", &["kubernetes:read"]);
        s.withhold_scopes("doks-no-access", &["kubernetes:access_cluster"]);
        s.add_kubernetes_cluster(NewKubernetesCluster::new("doks-scopes", "http://127.0.0.1:26443"))
    });
    let (list, one, creds) = (
        "/v2/kubernetes/clusters".to_owned(),
        format!("/v2/kubernetes/clusters/{id}"),
        format!("/v2/kubernetes/clusters/{id}/credentials?expiry_seconds=600"),
    );
    for path in [&list, &one] {
        let forbidden = expect(&url, 403, path, "doks-no-read").await;
        assert_eq!(forbidden["id"], "forbidden");
        assert_eq!(
            forbidden["message"],
            "You do not have access for the attempted action."
        );
        expect(&url, 200, path, "doks-no-access").await;
    }
    expect(&url, 200, &creds, "doks-no-read").await;
    let forbidden = expect(&url, 403, &creds, "doks-no-access").await;
    assert_eq!(forbidden["id"], "forbidden");
    let tokens: Vec<(String, Option<u64>)> = checked.sim.with(|s| {
        s.issued_credentials()
            .iter()
            .filter(|c| c.cluster_id == id)
            .map(|c| (c.cluster_id.clone(), c.expiry_seconds))
            .collect()
    });
    assert_eq!(
        tokens,
        [(id.clone(), Some(600))],
        "nothing issued to the token without the scope"
    );
    clean(checked, &id);
}

#[tokio::test]
async fn requests_the_description_refuses_get_400_and_no_credential() {
    // No Prism and no Rust check in front: the stand-in's own check, as under `ops-sim`.
    let dosim = DoSim::start();
    let id = dosim
        .with(|s| s.add_kubernetes_cluster(NewKubernetesCluster::new("strict", "http://127.0.0.1:6443")));
    let creds = format!("{}/v2/kubernetes/clusters/{id}/credentials", dosim.url());
    for (query, says) in [
        ("expiry_seconds=-1", "minimum"),
        ("expiry_seconds=soon", "integer"),
        ("expiry_seconds=1.5", "integer"),
    ] {
        let (status, body) = get(&format!("{creds}?{query}"), "tok").await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["id"], "bad_request");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("request.query.expiry_seconds") && message.contains(says),
            "{query}: {message}"
        );
    }
    assert_eq!(dosim.with(|s| s.issued_credentials().len()), 0);
    assert_eq!(get(&format!("{creds}?expiry_seconds=60"), "tok").await.0, 200);
    assert_eq!(dosim.with(|s| s.issued_credentials().len()), 1);
}

/// Kills `ops-sim` even when an assertion fails first.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn ops_sim_serves_a_cluster_whose_credentials_point_at_the_given_url() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let child = Command::new(env!("CARGO_BIN_EXE_ops-sim"))
        .args([
            "digitalocean",
            "--kubernetes-cluster",
            "prod=http://127.0.0.1:6443",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("ops-sim starts");
    let mut running = Running(child);
    let mut line = String::new();
    BufReader::new(running.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim();
    let (status, list) = get(&format!("{url}/v2/kubernetes/clusters"), "t").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(names(&list), ["prod"]);
    let id = list["kubernetes_clusters"][0]["id"].as_str().unwrap();
    let (status, creds) = get(
        &format!("{url}/v2/kubernetes/clusters/{id}/credentials?expiry_seconds=1800"),
        "t",
    )
    .await;
    assert_eq!(status, 200, "{creds}");
    assert_eq!(creds["server"], "http://127.0.0.1:6443");
    // Its clock is the real one, so the credential expires half an hour from now.
    let real_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expires = creds["expires_at"].as_str().unwrap();
    let window: Vec<String> = (real_now + 1_790..=real_now + 1_810)
        .map(|t| rfc3339(i64::try_from(t).unwrap()))
        .collect();
    assert!(window.iter().any(|w| w == expires), "{expires}");

    let out = Command::new(env!("CARGO_BIN_EXE_ops-sim"))
        .args(["digitalocean", "--kubernetes-cluster", "prod=127.0.0.1:6443"])
        .output()
        .expect("ops-sim runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("expected `NAME=URL`"), "{stderr}");
}
