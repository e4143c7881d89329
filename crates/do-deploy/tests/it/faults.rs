//! The API misbehaving: 429 and 5xx storms, dropped connections mid-poll, lost answers to the
//! requests that create something (a deployment, an app, an update that starts a deployment). These talk to the stand-in directly (Prism would answer a dropped
//! upstream connection itself); its own contract check still sees every exchange.

use ops_test::sim::Fault;
use serde_json::json;

use crate::support::{Stand, clean, log, output, run, runner, service_spec, spec_file};

/// A redeploy of an unchanged spec: exactly one `POST …/deployments` is ours to count.
fn redeploy(stand: &Stand, name: &str) -> (String, ops_test::harness::FakeRunner) {
    let (yaml, spec) = service_spec(name, "v1");
    let app = stand.app(&spec);
    let r = runner(&stand.direct_url());
    spec_file(&r, &yaml);
    (app, r)
}

fn deployments_created(stand: &Stand, app: &str) -> usize {
    // The app's first deployment came with it.
    stand.sim().with(|s| s.deployment_ids(app)).len() - 1
}

#[test]
fn rate_limit_storms_are_waited_out() {
    let stand = Stand::take();
    let (app, r) = redeploy(&stand, "shop-429");
    stand.sim().inject(
        &format!("POST /v2/apps/{app}/deployments"),
        Fault::RateLimited { retry_after: 7 },
        2,
    );
    stand.sim().inject(
        &format!("GET /v2/apps/{app}/deployments/*"),
        Fault::RateLimited { retry_after: 30 },
        4,
    );
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    // A 429 means the server did nothing, so even the POST is retried: still one deployment.
    assert_eq!(deployments_created(&stand, &app), 1);
    assert_eq!(stand.count(&format!("POST /v2/apps/{app}/deployments")), 3);
    assert!(
        out.stderr.contains("retrying in 7s (429 from POST"),
        "{}",
        log(&out)
    );
    assert!(
        out.stderr.contains("retrying in 30s (429 from GET"),
        "{}",
        log(&out)
    );
    assert_eq!(output(&out, "phase"), "ACTIVE");
    assert_eq!(stand.sim().faults_left(), 0);
}

#[test]
fn server_error_storms_are_waited_out() {
    let stand = Stand::take();
    let (_, spec) = service_spec("shop-5xx", "v1");
    let app = stand.app(&spec);
    let (yaml, _) = service_spec("shop-5xx", "v2");
    let r = runner(&stand.direct_url());
    spec_file(&r, &yaml);
    stand.sim().inject("POST /v2/apps/propose", Fault::Status(503), 2);
    // A 503 is a refusal before acting, retried for any request; a 502 on the update (which starts
    // a deployment) is an answer that may be lost, and is looked up instead (see below).
    stand
        .sim()
        .inject(&format!("PUT /v2/apps/{app}"), Fault::Status(503), 3);
    // Six 502s in a row: more than the client's five attempts, so one poll fails and is waited out.
    stand.sim().inject(
        &format!("GET /v2/apps/{app}/deployments/*"),
        Fault::Status(502),
        6,
    );
    stand
        .sim()
        .inject(&format!("GET /v2/apps/{app}/health"), Fault::Status(500), 2);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    assert!(
        out.stderr.contains("could not read the deployment"),
        "{}",
        log(&out)
    );
    assert!(out.stderr.contains("still following it"), "{}", log(&out));
    assert_eq!(output(&out, "phase"), "ACTIVE");
    assert_eq!(stand.sim().faults_left(), 0);
}

#[test]
fn dropped_connections_mid_poll_are_resumed_without_a_second_deployment() {
    let stand = Stand::take();
    let (app, r) = redeploy(&stand, "shop-drop");
    stand.sim().inject(
        &format!("GET /v2/apps/{app}/deployments/*"),
        Fault::DropConnection,
        7,
    );
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    assert_eq!(
        stand.count(&format!("POST /v2/apps/{app}/deployments")),
        1,
        "exactly one POST"
    );
    assert_eq!(deployments_created(&stand, &app), 1);
    let ours = output(&out, "deployment-id");
    assert_eq!(stand.active(&app).as_deref(), Some(ours));
    assert!(out.stderr.contains("connection lost"), "{}", log(&out));
    assert_eq!(stand.sim().faults_left(), 0);
}

#[test]
fn a_lost_answer_to_the_create_is_looked_up_not_posted_again() {
    let stand = Stand::take();
    let (app, r) = redeploy(&stand, "shop-lost");
    // The stand-in creates the deployment, then cuts the answer short.
    stand
        .sim()
        .inject(&format!("POST /v2/apps/{app}/deployments"), Fault::Truncate, 1);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    assert_eq!(
        stand.count(&format!("POST /v2/apps/{app}/deployments")),
        1,
        "never posted twice"
    );
    assert_eq!(deployments_created(&stand, &app), 1);
    let ids = stand.sim().with(|s| s.deployment_ids(&app));
    assert_eq!(output(&out, "deployment-id"), ids[1]);
    assert!(
        out.stderr.contains(&format!("found it: deployment `{}`", ids[1])),
        "{}",
        log(&out)
    );
    assert_eq!(output(&out, "phase"), "ACTIVE");
}

#[test]
fn a_create_that_never_arrived_is_sent_again_once_the_look_up_shows_nothing() {
    let stand = Stand::take();
    let (app, r) = redeploy(&stand, "shop-refused");
    // A 500 or a dropped connection before the handler ran: nothing was created.
    stand
        .sim()
        .inject(&format!("POST /v2/apps/{app}/deployments"), Fault::Status(500), 1);
    stand.sim().inject(
        &format!("POST /v2/apps/{app}/deployments"),
        Fault::DropConnection,
        1,
    );
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    assert_eq!(
        deployments_created(&stand, &app),
        1,
        "one deployment for three POSTs"
    );
    assert_eq!(stand.count(&format!("POST /v2/apps/{app}/deployments")), 3);
    assert_eq!(
        stand.count(&format!("GET /v2/apps/{app}/deployments")),
        2,
        "a look-up before each re-send"
    );
    assert_eq!(
        out.stderr
            .matches("no deployment was started: sending the request again")
            .count(),
        2
    );
    let posted = stand
        .sim()
        .exchanges_matching(&format!("POST /v2/apps/{app}/deployments"));
    assert!(
        posted
            .iter()
            .all(|e| e.request_json() == Some(json!({"force_build": false})))
    );
}

/// An updated spec: the PUT is the request that starts our deployment.
fn update(stand: &Stand, name: &str) -> (String, ops_test::harness::FakeRunner) {
    let (_, spec) = service_spec(name, "v1");
    let app = stand.app(&spec);
    let (yaml, _) = service_spec(name, "v2");
    let r = runner(&stand.direct_url());
    spec_file(&r, &yaml);
    (app, r)
}

/// A `PUT /v2/apps/{id}` whose answer was cut short was sent again like any idempotent request,
/// while App Platform starts a deployment per update: two deployments started.
#[test]
fn a_lost_answer_to_the_update_is_looked_up_not_sent_again() {
    let stand = Stand::take();
    let (app, r) = update(&stand, "shop-put-lost");
    // The stand-in applies the update (and starts its deployment), then drops the connection.
    stand
        .sim()
        .inject(&format!("PUT /v2/apps/{app}"), Fault::ProcessThenDrop, 1);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    assert_eq!(stand.count(&format!("PUT /v2/apps/{app}")), 1, "never sent twice");
    assert_eq!(deployments_created(&stand, &app), 1, "one deployment");
    let ids = stand.sim().with(|s| s.deployment_ids(&app));
    assert_eq!(output(&out, "deployment-id"), ids[1]);
    assert_eq!(stand.count(&format!("POST /v2/apps/{app}/deployments")), 0);
    assert!(
        out.stderr.contains(&format!(
            "found it: the update was applied and started deployment `{}`",
            ids[1]
        )),
        "{}",
        log(&out)
    );
    assert_eq!(output(&out, "phase"), "ACTIVE");
}

#[test]
fn an_update_that_was_not_applied_is_sent_again_once_the_look_up_shows_it() {
    let stand = Stand::take();
    let (app, r) = update(&stand, "shop-put-502");
    // A proxy's 502 before the stand-in acted: nothing was applied.
    stand
        .sim()
        .inject(&format!("PUT /v2/apps/{app}"), Fault::Status(502), 1);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    assert_eq!(stand.count(&format!("PUT /v2/apps/{app}")), 2);
    assert_eq!(deployments_created(&stand, &app), 1);
    assert!(
        out.stderr
            .contains("the update was not applied; sending it again"),
        "{}",
        log(&out)
    );
}

#[test]
fn a_lost_answer_to_creating_the_app_is_looked_up_by_its_name() {
    let stand = Stand::take();
    let (yaml, _) = service_spec("shop-new-lost", "v1");
    let r = runner(&stand.direct_url());
    spec_file(&r, &yaml);
    stand.sim().inject("POST /v2/apps", Fault::ProcessThenDrop, 1);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    let created: Vec<_> = stand
        .sim()
        .exchanges_matching("POST /v2/apps")
        .into_iter()
        .filter(|e| e.request_json().unwrap()["spec"]["name"] == "shop-new-lost")
        .collect();
    assert_eq!(created.len(), 1, "never posted twice");
    let app = output(&out, "app-id").to_owned();
    assert_eq!(
        stand.sim().with(|s| s.deployment_ids(&app)).len(),
        1,
        "the create's own deployment, no second one"
    );
    assert!(
        out.stderr.contains(&format!("found it: app `{app}`")),
        "{}",
        log(&out)
    );
    assert_eq!(output(&out, "phase"), "ACTIVE");
}
