//! Rollback on demand (what a workflow runs when smoke-test says `rollback`), commit and revert.

use serde_json::json;

use crate::support::{Stand, clean, log, output, run, runner, service_spec, spec_file};

/// An app whose second deployment (v2) is live; returns (app, first, second).
fn two_versions(stand: &Stand, name: &str) -> (String, String, String) {
    let (_, v1) = service_spec(name, "v1");
    let app = stand.app(&v1);
    let first = stand.active(&app).unwrap();
    let (yaml, _) = service_spec(name, "v2");
    let r = runner(&stand.url());
    spec_file(&r, &yaml);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    let second = output(&out, "deployment-id").to_owned();
    (app, first, second)
}

#[test]
fn rollback_on_demand_pins_until_committed() {
    let stand = Stand::take();
    let (app, first, second) = two_versions(&stand, "shop-rb");
    let on_demand = |action: &str| {
        runner(&stand.url())
            .input("action", action)
            .input("app-name", "shop-rb")
    };

    let out = run(&on_demand("rollback").input("rollback-commit", "false"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    let rollback_dep = output(&out, "deployment-id").to_owned();
    assert_eq!(output(&out, "previous-deployment-id"), second);
    assert_eq!(output(&out, "rolled-back"), "true");
    assert_eq!(output(&out, "phase"), "ACTIVE");
    assert!(output(&out, "live-url").starts_with("https://shop-rb-"));
    let rb = &stand
        .sim()
        .exchanges_matching(&format!("POST /v2/apps/{app}/rollback"))[0];
    assert_eq!(
        rb.request_json(),
        Some(json!({"deployment_id": first, "skip_pin": false}))
    );
    assert_eq!(
        stand.sim().with(|s| s.pinned(&app)).as_deref(),
        Some(rollback_dep.as_str())
    );
    assert!(out.summary.contains("stays pinned"), "{}", out.summary);

    // While pinned, a deploy is refused up front (no update sent).
    let (yaml, _) = service_spec("shop-rb", "v3");
    let r = runner(&stand.url());
    spec_file(&r, &yaml);
    let puts = stand.count(&format!("PUT /v2/apps/{app}"));
    let out = run(&r);
    assert_eq!(out.code, Some(1), "{}", log(&out));
    assert!(
        out.stderr.contains("is pinned to rollback deployment"),
        "{}",
        log(&out)
    );
    assert_eq!(stand.count(&format!("PUT /v2/apps/{app}")), puts);

    let out = run(&on_demand("commit-rollback"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    assert_eq!(output(&out, "deployment-id"), rollback_dep);
    assert_eq!(stand.sim().with(|s| s.pinned(&app)), None);
    let commit = &stand
        .sim()
        .exchanges_matching(&format!("POST /v2/apps/{app}/rollback/commit"))[0];
    assert!(commit.request_body.is_empty());

    // Nothing left to commit.
    let out = run(&on_demand("commit-rollback"));
    assert_eq!(out.code, Some(2), "{}", log(&out));
    assert!(
        out.stderr.contains("has no rollback to commit: it is not pinned"),
        "{}",
        log(&out)
    );
}

#[test]
fn a_reverted_rollback_redeploys_the_spec_from_before_it() {
    let stand = Stand::take();
    let (app, _, _) = two_versions(&stand, "shop-rv");
    let on_demand = |action: &str| {
        runner(&stand.url())
            .input("action", action)
            .input("app-id", app.as_str())
    };
    let out = run(&on_demand("rollback").input("rollback-commit", "false"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    let out = run(&on_demand("revert-rollback"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    let reverted = output(&out, "deployment-id").to_owned();
    assert_eq!(stand.active(&app).as_deref(), Some(reverted.as_str()));
    assert_eq!(stand.sim().with(|s| s.pinned(&app)), None);
    let revert = &stand
        .sim()
        .exchanges_matching(&format!("POST /v2/apps/{app}/rollback/revert"))[0];
    assert!(revert.request_body.is_empty(), "revert is sent without a body");
    // The spec from before the rollback (v2) is back.
    let last = stand
        .sim()
        .exchanges_matching(&format!("GET /v2/apps/{app}/deployments/{reverted}"));
    let spec = &last.last().unwrap().response_json().unwrap()["deployment"]["spec"];
    assert_eq!(spec["services"][0]["image"]["tag"], json!("v2"));
}

#[test]
fn a_rollback_app_platform_refuses_fails_with_its_reason() {
    let stand = Stand::take();
    let (app, _, second) = two_versions(&stand, "shop-rb-no");
    let r = runner(&stand.url())
        .input("action", "rollback")
        .input("app-id", app.as_str())
        .input("deployment-id", second.as_str());
    let out = run(&r);
    assert_eq!(out.code, Some(1), "{}", log(&out));
    clean(&stand, &out);
    assert!(
        out.stderr.contains(&format!(
            "cannot roll back to deployment `{second}`: incompatible_phase"
        )),
        "{}",
        log(&out)
    );
    assert_eq!(output(&out, "rolled-back"), "false");
    assert_eq!(stand.count(&format!("POST /v2/apps/{app}/rollback")), 0);
}
