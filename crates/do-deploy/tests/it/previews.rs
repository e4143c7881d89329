//! Pull-request previews: deploy, delete on close, clean up stale ones.

use do_deploy::spec::preview;
use ops_test::harness::FakeRunner;
use serde_json::json;

use crate::support::{Stand, clean, log, output, run, runner, spec_file};

const SPEC: &str = "name: shop-prv\nregion: ams\ndomains:\n  - domain: shop.example.com\nalerts:\n  - rule: DEPLOYMENT_FAILED\nservices:\n  - name: web\n    http_port: 8080\n    github:\n      repo: octo/app\n      branch: main\n      deploy_on_push: true\n    alerts:\n      - rule: CPU_UTILIZATION\n        value: 80\n        operator: GREATER_THAN\n        window: FIVE_MINUTES\n";

fn pr_runner(url: &str, number: u64, action: &str) -> FakeRunner {
    let event = json!({
        "action": action, "number": number,
        "pull_request": {"number": number, "head": {"ref": "feature/x", "sha": "f".repeat(40), "repo": {"full_name": "octo/app"}}}
    });
    let r = runner(url)
        .input("preview", "true")
        .event("pull_request", &event)
        .expect("event");
    spec_file(&r, SPEC);
    r
}

#[test]
fn a_preview_is_deployed_under_its_own_name_and_deleted_on_close() {
    let stand = Stand::take();
    let name = preview::name("shop-prv", "octo/app", 42);
    let out = run(&pr_runner(&stand.url(), 42, "opened"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    let app = output(&out, "app-id").to_owned();
    let created = stand
        .sim()
        .exchanges_matching("POST /v2/apps")
        .into_iter()
        .find(|e| e.request_json().unwrap()["spec"]["name"] == json!(name))
        .expect("the preview app was created");
    let spec = &created.request_json().unwrap()["spec"];
    assert!(
        spec.get("domains").is_none() && spec.get("alerts").is_none(),
        "{spec}"
    );
    assert!(spec["services"][0].get("alerts").is_none(), "{spec}");
    assert_eq!(
        spec["services"][0]["github"],
        json!({"repo": "octo/app", "branch": "feature/x", "deploy_on_push": false})
    );
    assert!(name.len() <= 32, "{name}");
    assert!(output(&out, "live-url").contains(&name), "{:?}", out.outputs);

    // A second push to the PR updates the same preview.
    let out = run(&pr_runner(&stand.url(), 42, "synchronize"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(output(&out, "app-id"), app);

    // Closed: deleted; closed again: nothing to do.
    let out = run(&pr_runner(&stand.url(), 42, "closed").input("action", "delete-preview"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    assert_eq!(stand.count(&format!("DELETE /v2/apps/{app}")), 1);
    let out = run(&pr_runner(&stand.url(), 42, "closed").input("action", "delete-preview"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert!(out.stderr.contains("nothing to delete"), "{}", log(&out));
}

#[test]
fn stale_previews_are_cleaned_up_and_look_alikes_kept() {
    let stand = Stand::take();
    let base = "shop-gc";
    let mine: Vec<String> = [7, 8]
        .iter()
        .map(|n| preview::name(base, "octo/app", *n))
        .collect();
    let others = [
        preview::name(base, "octo/other", 7),
        format!("{base}-pr9-deadbeef"),
    ];
    let mut ids = Vec::new();
    for name in mine.iter().chain(others.iter()) {
        ids.push(stand.app(&json!({"name": name, "services": [{"name": "web"}]})));
    }
    let now = stand.sim().with(|s| s.now());
    let cleanup = |days_later: i64| {
        let r = runner(&stand.url())
            .input("action", "cleanup-previews")
            .input("ttl-days", "7")
            .input("app-name", base)
            .env("SOURCE_DATE_EPOCH", (now + days_later * 86_400).to_string());
        run(&r)
    };
    let out = cleanup(3);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    assert!(
        out.stderr.contains("0 stale previews deleted, 2 kept"),
        "{}",
        log(&out)
    );

    let out = cleanup(8);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    assert!(
        out.stderr.contains("2 stale previews deleted, 0 kept"),
        "{}",
        log(&out)
    );
    for (i, id) in ids.iter().enumerate() {
        let deleted = stand.count(&format!("DELETE /v2/apps/{id}"));
        assert_eq!(deleted, usize::from(i < 2), "app #{i}");
    }
    let out = run(&runner(&stand.url())
        .input("action", "cleanup-previews")
        .input("app-name", base));
    assert_eq!(out.code, Some(2), "{}", log(&out));
    assert!(out.stderr.contains("needs `ttl-days`"), "{}", log(&out));
}

const DB_SPEC: &str = "name: shop-pdb\nregion: ams\nservices:\n  - name: web\n    http_port: 8080\n    github:\n      repo: octo/app\n      branch: main\n    envs:\n      - key: DATABASE_URL\n        value: ${db.DATABASE_URL}\ndatabases:\n  - name: db\n    engine: PG\n    version: \"16\"\n    production: true\n    cluster_name: shop-prod\n";

fn db_runner(url: &str, number: u64) -> FakeRunner {
    let event = json!({
        "action": "opened", "number": number,
        "pull_request": {"number": number, "head": {"ref": "feature/db", "sha": "e".repeat(40), "repo": {"full_name": "octo/app"}}}
    });
    let r = runner(url)
        .input("preview", "true")
        .event("pull_request", &event)
        .expect("event");
    spec_file(&r, DB_SPEC);
    r
}

fn created_spec(stand: &Stand, name: &str) -> serde_json::Value {
    stand
        .sim()
        .exchanges_matching("POST /v2/apps")
        .into_iter()
        .find(|e| e.request_json().unwrap()["spec"]["name"] == json!(name))
        .expect("the preview app was created")
        .request_json()
        .unwrap()["spec"]
        .clone()
}

/// Previews kept the spec's `databases:`, `production: true` clusters included, so every pull
/// request's preview was bound to the production database, silently.
#[test]
fn a_preview_warns_about_the_apps_database_and_can_replace_it() {
    let stand = Stand::take();
    let out = run(&db_runner(&stand.url(), 51));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    let warnings = out.commands_named("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.message.contains("database `db` (cluster `shop-prod`)")),
        "{}",
        log(&out)
    );
    assert!(
        out.stderr.contains("hint: set `preview-databases: replace`"),
        "{}",
        log(&out)
    );
    let kept = created_spec(&stand, &preview::name("shop-pdb", "octo/app", 51));
    assert_eq!(kept["databases"][0]["cluster_name"], json!("shop-prod"));

    let out = run(&db_runner(&stand.url(), 52).input("preview-databases", "replace"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    assert!(out.commands_named("warning").is_empty(), "{}", log(&out));
    let replaced = created_spec(&stand, &preview::name("shop-pdb", "octo/app", 52));
    assert_eq!(
        replaced["databases"],
        json!([{"name": "db", "engine": "PG", "version": "16"}])
    );
    assert_eq!(
        replaced["services"][0]["envs"][0]["value"],
        json!("${db.DATABASE_URL}")
    );

    // Dropping a database the spec binds stops before anything changes.
    let before = stand.count("POST /v2/apps");
    let out = run(&db_runner(&stand.url(), 53).input("preview-databases", "drop"));
    assert_eq!(out.code, Some(2), "{}", log(&out));
    assert!(
        out.stderr
            .contains("the preview drops database `db`, but the spec still binds `${db.DATABASE_URL}`"),
        "{}",
        log(&out)
    );
    assert_eq!(stand.count("POST /v2/apps"), before);
}
