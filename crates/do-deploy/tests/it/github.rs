//! GitHub deployments: the record of what is live where, against the Prism-checked GitHub stand-in.

use ops_test::digitalocean::{Outcome, Phase};
use ops_test::github;
use ops_test::harness::FAKE_SHA;
use serde_json::json;

use crate::support::{GH_TOKEN, Stand, clean, log, output, run, runner, service_spec, spec_file};

fn gh_runner(stand: &Stand, repo: &str) -> ops_test::harness::FakeRunner {
    let gh = github::checked();
    gh.sim.with(|s| s.add_repo("octo", repo));
    runner(&stand.url())
        .env("GITHUB_API_URL", gh.url())
        .env("GITHUB_REPOSITORY", format!("octo/{repo}"))
        .input("github-token", GH_TOKEN)
        .input("environment", "staging")
}

fn gh_clean(repo: &str) {
    let gh = github::checked();
    let violations: Vec<_> = gh
        .sim
        .violations()
        .into_iter()
        .filter(|v| v.exchange.contains(repo))
        .collect();
    assert!(violations.is_empty(), "{violations:#?}");
    for e in gh.sim.exchanges() {
        assert!(!String::from_utf8_lossy(&e.request_body).contains(GH_TOKEN));
    }
}

#[test]
fn a_successful_deploy_is_recorded_with_its_live_url_and_log() {
    let stand = Stand::take();
    let (yaml, _) = service_spec("shop-gh", "v1");
    let r = gh_runner(&stand, "gh-ok");
    spec_file(&r, &yaml);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    gh_clean("gh-ok");
    clean(&stand, &out);
    let gh = github::checked();
    let created = gh.sim.exchanges_matching("POST /repos/octo/gh-ok/deployments");
    assert_eq!(created.len(), 1);
    let body = created[0].request_json().unwrap();
    assert_eq!(body["ref"], json!(FAKE_SHA));
    assert_eq!(body["environment"], json!("staging"));
    assert_eq!(body["required_contexts"], json!([]));
    assert_eq!(body["auto_merge"], json!(false));
    let statuses: Vec<serde_json::Value> = gh
        .sim
        .exchanges_matching("POST /repos/octo/gh-ok/deployments/*/statuses")
        .iter()
        .map(|e| e.request_json().unwrap())
        .collect();
    assert_eq!(statuses.len(), 2, "{statuses:#?}");
    assert_eq!(statuses[0]["state"], json!("in_progress"));
    assert_eq!(
        statuses[0]["log_url"],
        json!("https://github.com/octo/gh-ok/actions/runs/1000/attempts/1")
    );
    assert_eq!(statuses[1]["state"], json!("success"));
    assert_eq!(statuses[1]["environment_url"], json!(output(&out, "live-url")));
}

#[test]
fn a_failed_deploy_is_recorded_as_a_failure() {
    let stand = Stand::take();
    let (_, spec) = service_spec("shop-gh-err", "v1");
    stand.app(&spec);
    stand
        .sim()
        .with(|s| s.script_deployment(Outcome::fail_at(Phase::Building, "npm ci failed")));
    let (yaml, _) = service_spec("shop-gh-err", "v2");
    let r = gh_runner(&stand, "gh-err");
    spec_file(&r, &yaml);
    let out = run(&r);
    assert_eq!(out.code, Some(1), "{}", log(&out));
    gh_clean("gh-err");
    clean(&stand, &out);
    let gh = github::checked();
    let states: Vec<serde_json::Value> = gh
        .sim
        .exchanges_matching("POST /repos/octo/gh-err/deployments/*/statuses")
        .iter()
        .map(|e| e.request_json().unwrap()["state"].clone())
        .collect();
    assert_eq!(states, vec![json!("in_progress"), json!("failure")]);
}

#[test]
fn github_refusing_the_record_does_not_fail_the_deploy() {
    let stand = Stand::take();
    let (yaml, _) = service_spec("shop-gh-404", "v1");
    // No such repository on the stand-in: GitHub answers 404.
    let gh = github::checked();
    let r = runner(&stand.url())
        .env("GITHUB_API_URL", gh.url())
        .env("GITHUB_REPOSITORY", "octo/gh-missing")
        .input("github-token", GH_TOKEN);
    spec_file(&r, &yaml);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    assert!(
        out.commands_named("warning")
            .iter()
            .any(|w| w.message.contains("no GitHub deployment recorded")),
        "{}",
        log(&out)
    );
}
