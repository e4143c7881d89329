//! Deployments that do not end live: ERROR in each phase, unhealthy after going live (rolled back),
//! stalls and timeouts (cancelled), cancelled or superseded by someone else.

use std::sync::mpsc;

use ops_core::Secret;
use ops_net::{HttpClient, Request, RetryPolicy};
use ops_test::digitalocean::{Outcome, Phase};
use ops_test::sim::Fault;
use serde_json::{Value, json};

use crate::support::{Stand, clean, log, output, run, runner, service_spec, spec_file, visible};

const SECRET_VALUE: &str = "s3cret-value-in-logs";

fn with_secret(yaml: &str) -> String {
    format!("{yaml}    envs:\n      - key: API_KEY\n        type: SECRET\n        value: ${{API_KEY}}\n")
}

#[test]
fn error_in_each_phase_shows_the_steps_and_logs_and_leaves_the_previous_deployment_serving() {
    let stand = Stand::take();
    for (i, phase) in [
        Phase::PendingBuild,
        Phase::Building,
        Phase::PendingDeploy,
        Phase::Deploying,
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("shop-err-{i}");
        let (_, spec) = service_spec(&name, "v1");
        let app = stand.app(&spec);
        let previous = stand.active(&app).unwrap();
        // The reason carries a workflow command and a secret: neither may take effect in the log.
        stand.sim().with(|s| {
            s.script_deployment(Outcome::fail_at(
                phase,
                &format!("exit 1 ::warning::pwned {SECRET_VALUE}"),
            ));
        });
        let (yaml, _) = service_spec(&name, "v2");
        let r = runner(&stand.url()).env("API_KEY", SECRET_VALUE);
        spec_file(&r, &with_secret(&yaml));
        let out = run(&r);
        assert_eq!(out.code, Some(1), "{phase:?}: {}", log(&out));
        clean(&stand, &out);
        assert!(
            !visible(&out).contains(SECRET_VALUE),
            "{phase:?}: the secret is masked everywhere"
        );

        let ours = output(&out, "deployment-id").to_owned();
        assert_eq!(output(&out, "phase"), "ERROR");
        assert_eq!(output(&out, "rolled-back"), "false");
        assert_eq!(output(&out, "previous-deployment-id"), previous);
        assert_eq!(output(&out, "live-url"), "");
        let failed_step = if matches!(phase, Phase::PendingBuild | Phase::Building) {
            "build"
        } else {
            "deploy"
        };
        assert!(
            out.stderr.contains(&format!(
                "deployment `{ours}` failed in phase ERROR: {failed_step} › api: exit 1"
            )),
            "{phase:?}: {}",
            log(&out)
        );
        // The tree and the logs are untrusted: inside stop-commands, so no `warning` command.
        assert!(
            out.stderr.contains(&format!("└─ {failed_step}: ERROR")),
            "{}",
            log(&out)
        );
        assert!(
            out.commands_named("warning")
                .iter()
                .all(|w| !w.message.contains("pwned")),
            "{}",
            log(&out)
        );
        assert!(out.commands_named("stop-commands").is_empty() && out.stderr.contains("::stop-commands::"));
        for kind in ["BUILD", "DEPLOY"] {
            assert!(
                out.stderr.contains(&format!("{kind} log of deployment {ours}")),
                "{}",
                log(&out)
            );
        }
        assert_eq!(
            stand.count(&format!("GET /v2/apps/{app}/deployments/{ours}/logs")),
            2
        );
        // App Platform kept the previous deployment serving: nothing to roll back, and we say so.
        assert!(out.stderr.contains(&format!(
            "the app still serves the previous deployment `{previous}`"
        )));
        assert_eq!(stand.count(&format!("POST /v2/apps/{app}/rollback")), 0);
        assert_eq!(stand.active(&app).as_deref(), Some(previous.as_str()));
        assert!(out.summary.contains("failed") && out.summary.contains("<details><summary>BUILD log"));
    }
}

#[test]
fn unhealthy_after_going_live_is_rolled_back_validated_followed_and_committed() {
    let stand = Stand::take();
    let (_, spec) = service_spec("shop-sick", "v1");
    let app = stand.app(&spec);
    let previous = stand.active(&app).unwrap();
    stand.sim().with(|s| s.set_health(&app, "api", false, 0, 2));
    let (yaml, _) = service_spec("shop-sick", "v2");
    let r = runner(&stand.url()).input("stall-timeout", "2m");
    spec_file(&r, &yaml);
    let out = run(&r);
    assert_eq!(out.code, Some(1), "{}", log(&out));
    clean(&stand, &out);
    let ours = output(&out, "deployment-id").to_owned();
    assert!(
        out.stderr.contains(&format!(
            "deployment `{ours}` is ACTIVE but not healthy: `api` UNHEALTHY (0/2 replicas ready)"
        )),
        "{}",
        log(&out)
    );
    assert_eq!(output(&out, "rolled-back"), "true");
    assert_eq!(output(&out, "phase"), "ACTIVE");
    assert!(output(&out, "live-url").starts_with("https://shop-sick-"));
    // validate → rollback → follow → commit, in that order, with exact bodies.
    let seq = |route: &str| {
        let found = stand
            .sim()
            .exchanges_matching(&format!("POST /v2/apps/{app}/{route}"));
        assert_eq!(found.len(), 1, "{route}");
        found[0].clone()
    };
    let (validate, rollback, commit) = (seq("rollback/validate"), seq("rollback"), seq("rollback/commit"));
    assert_eq!(validate.request_json(), Some(json!({"deployment_id": previous})));
    assert_eq!(
        rollback.request_json(),
        Some(json!({"deployment_id": previous, "skip_pin": false}))
    );
    assert!(commit.request_body.is_empty(), "commit is sent without a body");
    assert!(validate.seq < rollback.seq && rollback.seq < commit.seq);
    let rollback_dep = rollback.response_json().unwrap()["deployment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        stand.count(&format!("GET /v2/apps/{app}/deployments/{rollback_dep}")) >= 1,
        "the rollback was followed"
    );
    assert_eq!(stand.active(&app).as_deref(), Some(rollback_dep.as_str()));
    assert_eq!(
        stand.sim().with(|s| s.pinned(&app)),
        None,
        "committed: no longer pinned"
    );
    // A tag (not a digest) in the rolled-back-to spec: App Platform warns, and so do we.
    assert!(
        out.commands_named("warning")
            .iter()
            .any(|w| w.message.contains("image_source_missing_digest")),
        "{}",
        log(&out)
    );
    assert!(
        out.summary.contains("failed, rolled back") && out.summary.contains("committed"),
        "{}",
        out.summary
    );
}

#[test]
fn rollback_false_leaves_a_failed_live_deployment_alone() {
    let stand = Stand::take();
    let (_, spec) = service_spec("shop-sick-keep", "v1");
    let app = stand.app(&spec);
    stand.sim().with(|s| s.set_health(&app, "api", false, 1, 2));
    let (yaml, _) = service_spec("shop-sick-keep", "v2");
    let r = runner(&stand.url())
        .input("stall-timeout", "1m")
        .input("rollback", "false");
    spec_file(&r, &yaml);
    let out = run(&r);
    assert_eq!(out.code, Some(1), "{}", log(&out));
    clean(&stand, &out);
    assert_eq!(output(&out, "rolled-back"), "false");
    assert!(out.stderr.contains("rollback is off"), "{}", log(&out));
    assert_eq!(stand.count(&format!("POST /v2/apps/{app}/rollback/**")), 0);
    assert_eq!(stand.count(&format!("POST /v2/apps/{app}/rollback")), 0);
}

#[test]
fn a_stalled_deployment_is_cancelled_after_the_stall_timeout() {
    let stand = Stand::take();
    let (_, spec) = service_spec("shop-stall", "v1");
    let app = stand.app(&spec);
    stand
        .sim()
        .with(|s| s.script_deployment(Outcome::StallAt(Phase::Building)));
    let (yaml, _) = service_spec("shop-stall", "v2");
    let r = runner(&stand.url()).input("stall-timeout", "3m");
    spec_file(&r, &yaml);
    let out = run(&r);
    assert_eq!(out.code, Some(1), "{}", log(&out));
    clean(&stand, &out);
    let ours = output(&out, "deployment-id").to_owned();
    assert!(
        out.stderr.contains(&format!(
            "deployment `{ours}` made no progress for 3m00s (last phase BUILDING); canceled it"
        )),
        "{}",
        log(&out)
    );
    let cancels = stand
        .sim()
        .exchanges_matching(&format!("POST /v2/apps/{app}/deployments/{ours}/cancel"));
    assert_eq!(cancels.len(), 1);
    assert!(
        cancels[0].request_body.is_empty(),
        "cancel is sent without a body"
    );
    assert_eq!(output(&out, "phase"), "CANCELED");
    assert_eq!(stand.sim().with(|s| s.phase(&ours)), Some(Phase::Canceled));
    // Backing off: a 3-minute stall costs a bounded number of polls, not 90 (2-second polling).
    let polls = stand.count(&format!("GET /v2/apps/{app}/deployments/{ours}"));
    assert!((10..=20).contains(&polls), "{polls} polls");
}

#[test]
fn the_overall_timeout_ends_the_wait_and_cancel_on_timeout_false_keeps_the_deployment() {
    let stand = Stand::take();
    let (_, spec) = service_spec("shop-slow", "v1");
    let app = stand.app(&spec);
    stand.sim().with(|s| s.set_polls_per_phase(4));
    let (yaml, _) = service_spec("shop-slow", "v2");
    let r = runner(&stand.url())
        .input("timeout", "30s")
        .input("cancel-on-timeout", "false");
    spec_file(&r, &yaml);
    let out = run(&r);
    assert_eq!(out.code, Some(1), "{}", log(&out));
    clean(&stand, &out);
    let ours = output(&out, "deployment-id").to_owned();
    assert!(
        out.stderr
            .contains(&format!("deployment `{ours}` did not finish within 30s")),
        "{}",
        log(&out)
    );
    assert_eq!(
        stand.count(&format!("POST /v2/apps/{app}/deployments/*/cancel")),
        0
    );
    assert_ne!(output(&out, "phase"), "CANCELED");
    assert!(!stand.sim().with(|s| s.phase(&ours)).unwrap().is_terminal());
}

#[test]
fn a_deployment_cancelled_by_someone_else_fails_without_a_rollback() {
    let stand = Stand::take();
    let (_, spec) = service_spec("shop-cancelled", "v1");
    let app = stand.app(&spec);
    stand.sim().inject(
        &format!("GET /v2/apps/{app}/deployments/*"),
        Fault::set_json("/deployment/phase", "CANCELED"),
        1,
    );
    let (yaml, _) = service_spec("shop-cancelled", "v2");
    let r = runner(&stand.url());
    spec_file(&r, &yaml);
    let out = run(&r);
    assert_eq!(out.code, Some(1), "{}", log(&out));
    clean(&stand, &out);
    let ours = output(&out, "deployment-id");
    assert!(
        out.stderr.contains(&format!("deployment `{ours}` was canceled")),
        "{}",
        log(&out)
    );
    assert_eq!(output(&out, "phase"), "CANCELED");
    assert_eq!(
        stand.count(&format!("POST /v2/apps/{app}/deployments/*/cancel")),
        0
    );
    assert_eq!(stand.count(&format!("POST /v2/apps/{app}/rollback")), 0);
}

/// Someone else's deployment, started straight on the stand-in (as a push would).
fn deploy_as_someone_else(url: &str, app: &str) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = HttpClient::builder()
            .retry_policy(RetryPolicy::none())
            .bearer_token(Secret::new("someone-elses-token"))
            .build()
            .unwrap();
        let request = Request::new(http::Method::POST, &format!("{url}/v2/apps/{app}/deployments"))
            .unwrap()
            .json(&json!({"force_build": false}))
            .unwrap();
        let body: Value = client.send(request).await.unwrap().json().unwrap();
        body["deployment"]["id"].as_str().unwrap().to_owned()
    })
}

#[test]
fn someone_elses_deployment_in_progress_is_not_mistaken_for_ours() {
    let stand = Stand::take();
    let (yaml, spec) = service_spec("shop-busy", "v1");
    let app = stand.app(&spec);
    let theirs = deploy_as_someone_else(&stand.direct_url(), &app);
    let r = runner(&stand.url());
    spec_file(&r, &yaml);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    let ours = output(&out, "deployment-id");
    assert_ne!(ours, theirs);
    assert_eq!(stand.active(&app).as_deref(), Some(ours));
}

#[test]
fn a_deployment_started_by_someone_else_while_we_wait_does_not_become_ours() {
    let stand = Stand::take();
    let (yaml, spec) = service_spec("shop-race", "v1");
    let app = stand.app(&spec);
    // Ours does not move until the other deployment has started; then everything moves again.
    stand.sim().with(|s| s.set_polls_per_phase(0));
    let (tx, rx) = mpsc::channel();
    stand
        .sim()
        .after(&format!("GET /v2/apps/{app}/deployments/*"), 2, move |_| {
            let _ = tx.send(());
        });
    let r = runner(&stand.url())
        .input("stall-timeout", "24h")
        .input("timeout", "48h");
    spec_file(&r, &yaml);
    let direct = stand.direct_url();
    let racer = std::thread::spawn(move || {
        rx.recv().expect("our second poll");
        deploy_as_someone_else(&direct, &app)
    });
    let out = run(&r);
    let theirs = racer.join().unwrap();
    assert_eq!(out.code, Some(1), "{}", log(&out));
    clean(&stand, &out);
    let ours = output(&out, "deployment-id");
    assert_ne!(ours, theirs);
    assert_eq!(output(&out, "phase"), "SUPERSEDED");
    assert!(
        out.stderr.contains(&format!(
            "deployment `{ours}` was superseded by deployment `{theirs}`"
        )),
        "{}",
        log(&out)
    );
}
