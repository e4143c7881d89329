//! Deploys that go live: a new app, an update, a redeploy, a worker-only app; and the inputs that
//! stop a deploy before anything changes.

use serde_json::json;

use crate::support::{DIGEST, Stand, clean, log, output, run, runner, service_spec, spec_file};

#[test]
fn a_new_app_is_created_followed_to_active_and_its_live_url_reported() {
    let stand = Stand::take();
    let r = runner(&stand.url())
        .env("API_TAG", "v7")
        .env("DB_PASSWORD", "s3cret-pw-value");
    spec_file(
        &r,
        "name: shop-new\nregion: ams\nservices:\n  - name: api\n    http_port: 8080\n    instance_count: ${REPLICAS}\n    image:\n      registry_type: GHCR\n      registry: octo\n      repository: api\n      tag: ${API_TAG}\n    envs:\n      - key: DB_PASSWORD\n        type: SECRET\n        value: \"${DB_PASSWORD}\"\n      - key: DATABASE_URL\n        value: ${db.DATABASE_URL}\n      - key: PRICE\n        value: \"$${NOT_A_VAR}\"\n",
    );
    let r = r.env("REPLICAS", "2");
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);

    let app = output(&out, "app-id").to_owned();
    let dep = output(&out, "deployment-id").to_owned();
    assert!(!app.is_empty() && !dep.is_empty(), "{:?}", out.outputs);
    assert_eq!(output(&out, "phase"), "ACTIVE");
    assert_eq!(output(&out, "rolled-back"), "false");
    assert_eq!(output(&out, "previous-deployment-id"), "");
    assert!(
        output(&out, "live-url").starts_with("https://shop-new-"),
        "{:?}",
        out.outputs
    );
    assert_eq!(
        stand.active(&app).as_deref(),
        Some(dep.as_str()),
        "we followed the deployment that went live"
    );

    // What was sent: the substituted spec, typed where the reference was plain.
    // The stand-in is shared: find this test's create among the others'.
    let created = &stand
        .sim()
        .exchanges_matching("POST /v2/apps")
        .into_iter()
        .find(|e| e.request_json().unwrap()["spec"]["name"] == "shop-new")
        .expect("the app was created");
    let spec = &created.request_json().unwrap()["spec"];
    assert_eq!(spec["services"][0]["instance_count"], json!(2));
    assert_eq!(spec["services"][0]["image"]["tag"], json!("v7"));
    assert_eq!(
        spec["services"][0]["envs"][1]["value"],
        json!("${db.DATABASE_URL}")
    );
    assert_eq!(spec["services"][0]["envs"][2]["value"], json!("${NOT_A_VAR}"));
    assert_eq!(created.request_header("accept"), Some("application/json"));
    // Validated first, and no second deployment: the create started ours.
    let seqs: Vec<usize> = ["POST /v2/apps/propose", "POST /v2/apps"]
        .iter()
        .map(|r| stand.sim().exchanges_matching(r)[0].seq)
        .collect();
    assert!(seqs[0] < seqs[1], "propose before create");
    assert_eq!(stand.count(&format!("POST /v2/apps/{app}/deployments")), 0);

    // Progress in a group, one line per change; the secret masked.
    assert!(
        out.commands_named("group")
            .iter()
            .any(|g| g.message.contains(&dep)),
        "{}",
        log(&out)
    );
    for line in [
        "phase PENDING_BUILD",
        "phase BUILDING",
        "step build: RUNNING",
        "phase ACTIVE",
    ] {
        assert_eq!(
            out.stderr.matches(line).count(),
            1,
            "`{line}` once:\n{}",
            log(&out)
        );
    }
    assert!(
        out.commands_named("add-mask")
            .iter()
            .any(|m| m.message == "s3cret-pw-value")
    );
    assert!(
        out.summary.contains("### do-deploy: `shop-new` live"),
        "{}",
        out.summary
    );
    assert!(out.summary.contains("estimated cost"), "{}", out.summary);
}

#[test]
fn a_changed_spec_updates_the_app_and_follows_the_deployment_the_update_started() {
    let stand = Stand::take();
    let (_, before) = service_spec("shop-upd", "v1");
    let app = stand.app(&before);
    let previous = stand.active(&app).unwrap();
    let (yaml, _) = service_spec("shop-upd", "v2");
    let r = runner(&stand.url());
    spec_file(&r, &yaml);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);

    assert_eq!(output(&out, "app-id"), app);
    assert_eq!(output(&out, "previous-deployment-id"), previous);
    let puts = stand.sim().exchanges_matching(&format!("PUT /v2/apps/{app}"));
    assert_eq!(puts.len(), 1);
    assert_eq!(
        puts[0].request_json().unwrap()["update_all_source_versions"],
        json!(true)
    );
    // The update started the deployment; posting another would supersede it and waste a build.
    assert_eq!(stand.count(&format!("POST /v2/apps/{app}/deployments")), 0);
    let ids = stand.sim().with(|s| s.deployment_ids(&app));
    assert_eq!(ids.len(), 2);
    assert_eq!(output(&out, "deployment-id"), ids[1]);
    assert_eq!(stand.active(&app).as_deref(), Some(ids[1].as_str()));
}

#[test]
fn an_unchanged_spec_is_redeployed_with_one_post_carrying_force_build() {
    let stand = Stand::take();
    let (yaml, spec) = service_spec("shop-same", "v1");
    let app = stand.app(&spec);
    let r = runner(&stand.url()).input("force-build", "true");
    spec_file(&r, &yaml);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    assert_eq!(stand.count(&format!("PUT /v2/apps/{app}")), 0);
    let posts = stand
        .sim()
        .exchanges_matching(&format!("POST /v2/apps/{app}/deployments"));
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].request_json(), Some(json!({"force_build": true})));
    let created = posts[0].response_json().unwrap()["deployment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(output(&out, "deployment-id"), created);
}

#[test]
fn the_existing_apps_spec_is_redeployed_with_a_pinned_image() {
    let stand = Stand::take();
    let (_, spec) = service_spec("shop-from-app", "v1");
    let app = stand.app(&spec);
    let r = runner(&stand.url())
        .input("app-name", "shop-from-app")
        .input("images", format!("api=ghcr.io/octo/api@{DIGEST}"));
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    let put = &stand.sim().exchanges_matching(&format!("PUT /v2/apps/{app}"))[0];
    assert_eq!(
        put.request_json().unwrap()["spec"]["services"][0]["image"],
        json!({"registry_type": "GHCR", "registry": "octo", "repository": "api", "digest": DIGEST})
    );
    assert!(
        out.commands_named("warning").is_empty(),
        "a digest is not warned about: {}",
        log(&out)
    );
}

#[test]
fn a_worker_only_app_does_not_wait_for_a_live_url() {
    let stand = Stand::take();
    let r = runner(&stand.url());
    spec_file(
        &r,
        "name: queue-only\nworkers:\n  - name: consumer\n    image:\n      registry_type: DOCKER_HUB\n      registry: octo\n      repository: consumer\n      tag: latest\n",
    );
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    let app = output(&out, "app-id");
    assert_eq!(output(&out, "live-url"), "");
    assert_eq!(
        stand.count(&format!("GET /v2/apps/{app}")),
        0,
        "no live_url polling (app_action #265)"
    );
    assert!(out.stderr.contains("not waiting for one"), "{}", log(&out));
    // `latest` is warned about.
    let warnings = out.commands_named("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.message.contains("consumer") && w.message.contains(":latest")),
        "{}",
        log(&out)
    );
}

#[test]
fn an_undefined_variable_stops_before_any_request() {
    let stand = Stand::take();
    let before = stand.sim().exchanges().len();
    let r = runner(&stand.url());
    spec_file(
        &r,
        "name: shop-undef\nservices:\n  - name: api\n    envs:\n      - key: A\n        value: ${SET}\n      - key: B\n        value: \"${MISSING_ONE}\"\n      - key: C\n        value: ${INPUT_TOKEN}\n",
    );
    let out = run(&r.env("SET", "x").env("EMPTY", ""));
    assert_eq!(out.code, Some(2), "{}", log(&out));
    clean(&stand, &out);
    assert!(
        out.stderr.contains("`.do/app.yaml`: line 8: `${MISSING_ONE}` is not set (or is empty); line 10: `${INPUT_TOKEN}` is an action input"),
        "{}",
        log(&out)
    );
    assert!(out.stderr.contains("hint: set each variable"), "{}", log(&out));
    assert_eq!(stand.sim().exchanges().len(), before, "nothing was sent");
}

#[test]
fn an_invalid_spec_changes_nothing_on_the_app() {
    let stand = Stand::take();
    let (_, spec) = service_spec("shop-invalid", "v1");
    let app = stand.app(&spec);
    let r = runner(&stand.url());
    spec_file(
        &r,
        "name: shop-invalid\nservices:\n  - name: api\ningress:\n  rules:\n    - component:\n        name: missing-web\n      match:\n        path:\n          prefix: /\n",
    );
    let out = run(&r);
    assert_eq!(out.code, Some(2), "{}", log(&out));
    clean(&stand, &out);
    assert!(
        out.stderr
            .contains("App Platform rejected the app spec `.do/app.yaml`")
            && out.stderr.contains("component \"missing-web\" does not exist"),
        "{}",
        log(&out)
    );
    assert!(stand.count("POST /v2/apps/propose") > 0);
    for route in [format!("PUT /v2/apps/{app}"), format!("POST /v2/apps/{app}/**")] {
        assert_eq!(stand.count(&route), 0, "{route}");
    }
    let creates = stand.sim().exchanges_matching("POST /v2/apps");
    assert!(
        creates
            .iter()
            .all(|e| e.request_json().unwrap()["spec"]["name"] != "shop-invalid"),
        "no app was created"
    );
    assert_eq!(stand.sim().with(|s| s.deployment_ids(&app)).len(), 1);

    // A rejection scripted for the next validation: same story.
    stand
        .sim()
        .with(|s| s.reject_next_spec("error validating app spec field \"region\": unknown region"));
    let (yaml, _) = service_spec("shop-invalid", "v2");
    spec_file(&r, &yaml);
    let out = run(&r);
    assert_eq!(out.code, Some(2), "{}", log(&out));
    assert!(out.stderr.contains("unknown region"), "{}", log(&out));
    assert_eq!(stand.count(&format!("PUT /v2/apps/{app}")), 0);
}

#[test]
fn inputs_are_checked_before_any_request() {
    let stand = Stand::take();
    let before = stand.sim().exchanges().len();
    let (yaml, _) = service_spec("shop-inputs", "v1");
    for (name, value, want) in [
        (
            "target",
            "doks",
            "input required for `target: doks` and not supplied: `cluster`",
        ),
        ("images", "api=quay.io/octo/api:1", "App Platform pulls from DOCR"),
        (
            "images",
            "web=nginx",
            "no component `web` (components that can run an image: `api`)",
        ),
        (
            "app-id",
            "../v2/account",
            "input `app-id` is not an App Platform ID",
        ),
        (
            "app-name",
            "other",
            "input `app-name` is `other` but `.do/app.yaml` names the app `shop-inputs`",
        ),
    ] {
        let r = runner(&stand.url())
            .input(name, value)
            .input("app-spec", ".do/app.yaml");
        spec_file(&r, &yaml);
        let out = run(&r);
        assert_eq!(out.code, Some(2), "{name}={value}: {}", log(&out));
        assert!(out.stderr.contains(want), "{name}={value}: {}", log(&out));
        clean(&stand, &out);
    }
    let r = runner(&stand.url()).input("token", "");
    spec_file(&r, &yaml);
    let out = run(&r);
    assert_eq!(out.code, Some(2), "{}", log(&out));
    assert!(
        out.stderr.contains("input required and not supplied: `token`"),
        "{}",
        log(&out)
    );
    let r = runner(&stand.url()).input("app-spec", "deploy/missing.yaml");
    let out = run(&r);
    assert_eq!(out.code, Some(2), "{}", log(&out));
    assert!(
        out.stderr
            .contains("cannot read the app spec `deploy/missing.yaml`: no such file"),
        "{}",
        log(&out)
    );
    assert_eq!(
        stand.sim().exchanges().len(),
        before,
        "input errors are found before any request"
    );
}

/// Typed substitution sent `value: ${NODE_VERSION}` (`18.10`) as the number 18.1 and
/// `tag: ${IMAGE_TAG}` (`20240101`) as a number, which App Platform refuses (doctl#978) and which
/// warned about `latest`; only fields App Platform types as numbers or booleans are typed.
#[test]
fn string_fields_are_sent_as_written_and_a_numeric_tag_is_not_latest() {
    let stand = Stand::take();
    let r = runner(&stand.url())
        .env("IMAGE_TAG", "20240101")
        .env("NODE_VERSION", "18.10")
        .env("DEBUG", "false")
        .env("REPLICAS", "2");
    spec_file(
        &r,
        "name: shop-typed\nregion: ams\nenvs:\n  - key: ZIP\n    value: 00501\nservices:\n  - name: api\n    http_port: 8080\n    instance_count: ${REPLICAS}\n    image:\n      registry_type: GHCR\n      registry: octo\n      repository: api\n      tag: ${IMAGE_TAG}\n    envs:\n      - key: NODE_VERSION\n        value: ${NODE_VERSION}\n      - key: DEBUG\n        value: ${DEBUG}\n",
    );
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    let created = stand
        .sim()
        .exchanges_matching("POST /v2/apps")
        .into_iter()
        .find(|e| e.request_json().unwrap()["spec"]["name"] == "shop-typed")
        .expect("the app was created");
    let spec = &created.request_json().unwrap()["spec"];
    assert_eq!(spec["envs"][0]["value"], json!("00501"));
    let api = &spec["services"][0];
    assert_eq!(api["instance_count"], json!(2));
    assert_eq!(api["image"]["tag"], json!("20240101"));
    assert_eq!(api["envs"][0]["value"], json!("18.10"));
    assert_eq!(api["envs"][1]["value"], json!("false"));
    assert!(
        out.commands_named("warning").is_empty(),
        "a tag of digits is a tag, not `latest`:\n{}",
        log(&out)
    );
}

/// `.do/deploy.template.yaml`, the `spec:`-wrapped file of DigitalOcean's sample and template
/// repositories (sometimes a repository's only spec), was refused with "`name` is missing".
#[test]
fn a_deploy_template_is_deployed_when_it_is_the_only_spec() {
    let stand = Stand::take();
    let r = runner(&stand.url());
    let dir = r.workspace().join(".do");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("deploy.template.yaml"),
        "spec:\n  name: sample-tpl\n  region: ams\n  services:\n    - name: web\n      http_port: 8080\n      image:\n        registry_type: DOCKER_HUB\n        registry: library\n        repository: nginx\n        tag: \"1.27\"\n",
    )
    .unwrap();
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    clean(&stand, &out);
    let created = stand
        .sim()
        .exchanges_matching("POST /v2/apps")
        .into_iter()
        .find(|e| e.request_json().unwrap()["spec"]["name"] == "sample-tpl")
        .expect("the app was created from the template");
    let spec = &created.request_json().unwrap()["spec"];
    assert!(spec.get("spec").is_none(), "{spec}");
    assert_eq!(spec["services"][0]["image"]["tag"], json!("1.27"));

    // Named explicitly, too.
    let r = runner(&stand.url()).input("app-spec", "deploy.template.yaml");
    std::fs::write(
        r.workspace().join("deploy.template.yaml"),
        "spec:\n  name: sample-tpl2\n  services:\n    - name: web\n      image:\n        registry_type: DOCKER_HUB\n        repository: nginx\n",
    )
    .unwrap();
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
}

/// `${PORT}` in `run_command` (App Platform sets it at run time) was read as a CI variable: exit 2
/// when unset, silently replaced when set.
#[test]
fn port_in_a_run_command_is_left_for_app_platform() {
    let stand = Stand::take();
    for port in [None, Some("9999")] {
        let name = format!("shop-port{}", u8::from(port.is_some()));
        let mut r = runner(&stand.url());
        if let Some(p) = port {
            r = r.env("PORT", p);
        }
        spec_file(
            &r,
            &format!(
                "name: {name}\nservices:\n  - name: api\n    http_port: 8080\n    run_command: gunicorn --bind 0.0.0.0:${{PORT}} app:app\n    image:\n      registry_type: GHCR\n      registry: octo\n      repository: api\n      tag: v1\n"
            ),
        );
        let out = run(&r);
        assert_eq!(out.code, Some(0), "PORT={port:?}: {}", log(&out));
        clean(&stand, &out);
        let created = stand
            .sim()
            .exchanges_matching("POST /v2/apps")
            .into_iter()
            .find(|e| e.request_json().unwrap()["spec"]["name"] == json!(name))
            .expect("the app was created");
        assert_eq!(
            created.request_json().unwrap()["spec"]["services"][0]["run_command"],
            json!("gunicorn --bind 0.0.0.0:${PORT} app:app")
        );
        assert!(out.stderr.contains("left `${PORT}` in commands"), "{}", log(&out));
    }
}
