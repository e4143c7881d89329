//! The DigitalOcean stand-in: auth, phases over virtual time, scripted failures and stalls,
//! logs, rollback pinning, health, spec validation and paging.

use ops_test::digitalocean::{DoSim, Outcome, Phase};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{call, client, get, post};

fn spec(name: &str) -> Value {
    json!({"name": name, "region": "nyc", "services": [{"name": "api", "image": {"registry_type": "GHCR", "repository": "o/api", "tag": "v1"}}]})
}

async fn new_deployment(dosim: &DoSim, app: &str) -> String {
    let (status, body) = post(
        &format!("{}/v2/apps/{app}/deployments", dosim.url()),
        "tok",
        &json!({"force_build": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["deployment"]["id"]
        .as_str()
        .expect("a deployment id")
        .to_owned()
}

async fn poll(dosim: &DoSim, app: &str, dep: &str) -> Value {
    let (status, body) = get(&format!("{}/v2/apps/{app}/deployments/{dep}", dosim.url()), "tok").await;
    assert_eq!(status, 200, "{body}");
    body["deployment"].clone()
}

#[tokio::test]
async fn bearer_token_required_and_rate_headers_sent() {
    let dosim = DoSim::start();
    let resp = client()
        .get(format!("{}/v2/apps", dosim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = client()
        .get(format!("{}/v2/apps", dosim.url()))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["ratelimit-limit"], "5000");
    assert_eq!(resp.headers()["ratelimit-remaining"], "4999");
    dosim.with(|s| s.accept_only_tokens(&["good"]));
    assert_eq!(get(&format!("{}/v2/apps", dosim.url()), "tok").await.0, 401);
    assert_eq!(get(&format!("{}/v2/apps", dosim.url()), "good").await.0, 200);
}

#[tokio::test]
async fn phases_advance_one_per_poll_to_active() {
    let dosim = DoSim::start();
    let app = dosim.with(|s| s.add_app(spec("web")));
    let dep = new_deployment(&dosim, &app).await;
    let mut phases = vec![dosim.with(|s| s.phase(&dep)).unwrap().as_str().to_owned()];
    for _ in 0..5 {
        phases.push(
            poll(&dosim, &app, &dep).await["phase"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(
        phases,
        [
            "PENDING_BUILD",
            "BUILDING",
            "PENDING_DEPLOY",
            "DEPLOYING",
            "ACTIVE",
            "ACTIVE"
        ]
    );
    let (_, got) = get(&format!("{}/v2/apps/{app}", dosim.url()), "tok").await;
    assert_eq!(got["app"]["active_deployment"]["id"], dep.as_str());
    assert!(
        got["app"]["live_url"]
            .as_str()
            .unwrap()
            .starts_with("https://web-")
    );
    assert!(got["app"].get("in_progress_deployment").is_none());
}

#[tokio::test]
async fn explicit_advance_without_polling() {
    let dosim = DoSim::start();
    let app = dosim.with(|s| {
        s.set_polls_per_phase(0);
        s.add_app(json!({"name": "jobs", "jobs": [{"name": "migrate"}]}))
    });
    let dep = new_deployment(&dosim, &app).await;
    assert_eq!(
        poll(&dosim, &app, &dep).await["phase"],
        "PENDING_BUILD",
        "polls do not move it"
    );
    for _ in 0..4 {
        dosim.with(|s| s.advance());
    }
    assert_eq!(poll(&dosim, &app, &dep).await["phase"], "ACTIVE");
    // A jobs-only app never gets a live URL (a tool must not wait for one).
    let (_, got) = get(&format!("{}/v2/apps/{app}", dosim.url()), "tok").await;
    assert!(got["app"].get("live_url").is_none());
}

#[tokio::test]
async fn failure_at_deploying_carries_a_reason_and_logs() {
    let dosim = DoSim::start();
    let app = dosim.with(|s| s.add_app(spec("web")));
    let old_active = dosim.with(|s| s.active(&app)).unwrap();
    dosim.with(|s| {
        s.script_deployment(Outcome::fail_at(
            Phase::Deploying,
            "container failed health checks",
        ))
    });
    let dep = new_deployment(&dosim, &app).await;
    let mut last = Value::Null;
    for _ in 0..6 {
        last = poll(&dosim, &app, &dep).await;
    }
    assert_eq!(last["phase"], "ERROR");
    let deploy_step = &last["progress"]["steps"][1];
    assert_eq!(deploy_step["name"], "deploy");
    assert_eq!(deploy_step["status"], "ERROR");
    assert_eq!(deploy_step["reason"]["message"], "container failed health checks");
    assert_eq!(last["progress"]["error_steps"], 1);
    assert_eq!(
        dosim.with(|s| s.active(&app)),
        Some(old_active),
        "the old deployment stays active"
    );

    let (status, logs) = get(
        &format!("{}/v2/apps/{app}/deployments/{dep}/logs?type=DEPLOY", dosim.url()),
        "tok",
    )
    .await;
    assert_eq!(status, 200);
    let url = logs["historic_urls"][0].as_str().unwrap();
    let text = client().get(url).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("error: container failed health checks"), "{text}");
    assert_eq!(
        get(
            &format!("{}/v2/apps/{app}/deployments/{dep}/logs", dosim.url()),
            "tok"
        )
        .await
        .0,
        400
    );
}

#[tokio::test]
async fn stall_and_cancel() {
    let dosim = DoSim::start();
    let app = dosim.with(|s| s.add_app(spec("web")));
    dosim.with(|s| s.script_deployment(Outcome::StallAt(Phase::Building)));
    let dep = new_deployment(&dosim, &app).await;
    for _ in 0..10 {
        poll(&dosim, &app, &dep).await;
    }
    assert_eq!(dosim.with(|s| s.phase(&dep)), Some(Phase::Building));
    let (status, body) = post(
        &format!("{}/v2/apps/{app}/deployments/{dep}/cancel", dosim.url()),
        "tok",
        &json!({}),
    )
    .await;
    assert_eq!(
        (status, body["deployment"]["phase"].as_str()),
        (200, Some("CANCELED"))
    );
}

#[tokio::test]
async fn rollback_pins_the_app_until_commit_or_revert() {
    let dosim = DoSim::start();
    let app = dosim.with(|s| s.add_app(spec("web")));
    let first = dosim.with(|s| s.active(&app)).unwrap();
    let second = new_deployment(&dosim, &app).await;
    dosim.with(|s| {
        for _ in 0..4 {
            s.advance();
        }
    });
    assert_eq!(dosim.with(|s| s.active(&app)), Some(second.clone()));
    let base = format!("{}/v2/apps/{app}/rollback", dosim.url());

    let (_, verdict) = post(
        &format!("{base}/validate"),
        "tok",
        &json!({"deployment_id": first}),
    )
    .await;
    assert_eq!(verdict["valid"], true);
    assert_eq!(verdict["warnings"][0]["code"], "image_source_missing_digest");
    let (status, rb) = post(&base, "tok", &json!({"deployment_id": first})).await;
    assert_eq!(status, 200);
    let rollback = rb["deployment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(rb["deployment"]["cloned_from"], first.as_str());
    assert_eq!(dosim.with(|s| s.pinned(&app)), Some(rollback.clone()));

    // Pinned: no other deployment, no spec update, and validation says why.
    let deployments = format!("{}/v2/apps/{app}/deployments", dosim.url());
    assert_eq!(post(&deployments, "tok", &json!({})).await.0, 409);
    let (status, _) = call(
        Method::PUT,
        &format!("{}/v2/apps/{app}", dosim.url()),
        "tok",
        Some(&json!({"spec": spec("web")})),
    )
    .await;
    assert_eq!(status, 409);
    let (_, verdict) = post(
        &format!("{base}/validate"),
        "tok",
        &json!({"deployment_id": second}),
    )
    .await;
    assert_eq!(
        (verdict["valid"].as_bool(), verdict["error"]["code"].as_str()),
        (Some(false), Some("app_pinned"))
    );
    let (_, got) = get(&format!("{}/v2/apps/{app}", dosim.url()), "tok").await;
    assert_eq!(got["app"]["pinned_deployment"]["id"], rollback.as_str());

    // Revert: unpinned, and the spec from before the rollback deploys again.
    let (status, reverted) = post(&format!("{base}/revert"), "tok", &json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(reverted["deployment"]["cause"], "rollback reverted");
    assert_eq!(dosim.with(|s| s.pinned(&app)), None);
    assert_eq!(
        post(&format!("{base}/commit"), "tok", &json!({})).await.0,
        400,
        "nothing left to commit"
    );

    // Commit: unpinned, deployments allowed again.
    post(&base, "tok", &json!({"deployment_id": first})).await;
    let (status, _) = post(&format!("{base}/commit"), "tok", &json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(dosim.with(|s| s.pinned(&app)), None);
    assert_eq!(post(&deployments, "tok", &json!({})).await.0, 200);
}

#[tokio::test]
async fn propose_validates_and_create_update_list_page() {
    let dosim = DoSim::start();
    let propose = format!("{}/v2/apps/propose", dosim.url());
    let (status, err) = post(
        &propose,
        "tok",
        &json!({"spec": {"name": "Bad_Name", "services": [{"name": "a"}]}}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(err["message"].as_str().unwrap().contains("\"name\""));
    let bad_ingress = json!({"spec": {"name": "ok", "services": [{"name": "a"}],
        "ingress": {"rules": [{"component": {"name": "missing"}, "match": {"path": {"prefix": "/"}}}]}}});
    assert_eq!(post(&propose, "tok", &bad_ingress).await.0, 400);
    dosim.with(|s| s.reject_next_spec("scripted: region unavailable"));
    let (_, err) = post(&propose, "tok", &json!({"spec": spec("ok")})).await;
    assert_eq!(err["message"], "scripted: region unavailable");
    let (status, ok) = post(&propose, "tok", &json!({"spec": spec("ok")})).await;
    assert_eq!(
        (
            status,
            ok["app_name_available"].as_bool(),
            ok["app_cost"].as_i64()
        ),
        (200, Some(true), Some(5))
    );

    let apps = format!("{}/v2/apps", dosim.url());
    for i in 0..3 {
        assert_eq!(
            post(&apps, "tok", &json!({"spec": spec(&format!("app-{i}"))}))
                .await
                .0,
            200
        );
    }
    assert_eq!(
        post(&apps, "tok", &json!({"spec": spec("app-0")})).await.0,
        409,
        "names are unique"
    );
    let (_, page) = get(&format!("{apps}?per_page=2"), "tok").await;
    assert_eq!(page["meta"]["total"], 3);
    assert_eq!(page["apps"].as_array().unwrap().len(), 2);
    assert!(
        page["links"]["pages"]["next"]
            .as_str()
            .unwrap()
            .contains("page=2")
    );
    let id = page["apps"][0]["id"].as_str().unwrap();
    let (status, updated) = call(
        Method::PUT,
        &format!("{apps}/{id}"),
        "tok",
        Some(&json!({"spec": spec("app-0"), "update_all_source_versions": true})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        updated["app"]["in_progress_deployment"]["cause"],
        "app spec updated"
    );
    let (_, listed) = get(&format!("{apps}/{id}/deployments?deployment_types=MANUAL"), "tok").await;
    assert_eq!(listed["meta"]["total"], 2);
    let (_, health) = get(&format!("{apps}/{id}/health"), "tok").await;
    assert_eq!(health["app_health"]["components"][0]["name"], "api");
}

#[test]
fn works_from_sync_tests_too() {
    // A stand-in on its own thread serves a plain std client; no runtime in this test.
    let dosim = DoSim::start();
    let app = dosim.with(|s| s.add_app(spec("web")));
    let mut stream = std::net::TcpStream::connect(dosim.addr()).unwrap();
    use std::io::{Read, Write};
    write!(stream, "GET /v2/apps/{app}/health HTTP/1.1\r\nhost: x\r\nauthorization: Bearer t\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert_eq!(dosim.count("GET /v2/apps/*/health"), 1);
}

#[tokio::test]
async fn live_url_can_point_at_a_real_local_server() {
    let dosim = DoSim::start();
    dosim.with(|s| s.set_live_url("shop", "http://127.0.0.1:8099/"));
    let app = dosim.with(|s| s.add_app(spec("shop")));
    let dep = new_deployment(&dosim, &app).await;
    for _ in 0..4 {
        poll(&dosim, &app, &dep).await;
    }
    let (_, got) = get(&format!("{}/v2/apps/{app}", dosim.url()), "tok").await;
    assert_eq!(got["app"]["live_url"], "http://127.0.0.1:8099");
    assert_eq!(got["app"]["live_domain"], "127.0.0.1:8099");
    assert_eq!(got["app"]["default_ingress"], "http://127.0.0.1:8099");
}

/// The stand-in took a number for an env `value` and an image `tag` when Prism was not in front of it
/// (as under `ops-sim`), while App Platform refuses both: it now holds every request to the
/// description itself.
#[tokio::test]
async fn requests_app_platform_refuses_are_refused_without_prism() {
    let dosim = DoSim::start();
    let apps = format!("{}/v2/apps", dosim.url());
    let mut numeric = spec("typed");
    numeric["services"][0]["envs"] = json!([{"key": "NODE_VERSION", "value": 18.1}]);
    numeric["services"][0]["image"]["tag"] = json!(20_240_101);
    for path in ["/propose", ""] {
        let (status, body) = post(&format!("{apps}{path}"), "tok", &json!({"spec": numeric})).await;
        assert_eq!(status, 400, "{path}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("error validating app spec field \"services.envs.value\""),
            "{message}"
        );
        assert!(
            message.contains("error validating app spec field \"services.image.tag\""),
            "{message}"
        );
    }
    let (_, listed) = get(&apps, "tok").await;
    assert_eq!(listed["apps"], json!([]), "no handler ran");

    // The app-level fields the description leaves out are taken, and typed like the others.
    let mut app_level = spec("typed");
    app_level["envs"] = json!([{"key": "A", "value": "1"}]);
    app_level["alerts"] = json!([{"rule": "DEPLOYMENT_FAILED"}]);
    app_level["features"] = json!(["buildpack-stack=ubuntu-22"]);
    let (status, body) = post(&apps, "tok", &json!({"spec": app_level})).await;
    assert_eq!(status, 200, "{body}");
    let id = body["app"]["id"].as_str().unwrap();
    app_level["envs"][0]["value"] = json!(1);
    let (status, body) = call(
        Method::PUT,
        &format!("{apps}/{id}"),
        "tok",
        Some(&json!({"spec": app_level})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("field \"envs.value\""),
        "{body}"
    );

    // A query parameter out of its bounds too.
    let (status, _) = get(&format!("{apps}?per_page=500"), "tok").await;
    assert_eq!(status, 400);
}
