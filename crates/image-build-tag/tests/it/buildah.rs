//! Real builds: buildah (vfs storage, chroot isolation) building `FROM scratch` images and pushing them
//! to a real `docker-registry` on loopback; the registry is then read over its HTTP API, independently
//! of the tool's own client.

use ops_test::harness::FAKE_SHA;
use serde_json::Value;

use crate::support::{
    self, Mode, Registry, SCRATCH, blob, buildah_env, context, log, manifest, run, runner, tag_digest,
};

const SECRET: &str = "planted-Secret-Value-4711";

fn labels_of(config: &Value) -> &serde_json::Map<String, Value> {
    config["config"]["Labels"]
        .as_object()
        .expect("labels in the image config")
}

#[test]
fn builds_pushes_and_verifies_every_tag_and_label() {
    let registry = Registry::start(Mode::Open);
    let image = format!("{}/team/app", registry.host);
    let r = buildah_env(runner())
        .env("GITHUB_REF", "refs/tags/v1.2.3")
        .input("builder", "buildah")
        .input("images", &image)
        .input(
            "tags",
            "type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}\ntype=sha",
        )
        .input("labels", "com.example.team=platform")
        .input("build-args", "UNUSED=1")
        .input("secrets", format!("npm_token={SECRET}"))
        .input("push", "true");
    context(&r.workspace(), SCRATCH);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    let digest = out.outputs["digest"].clone();
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "{digest}");
    assert_eq!(out.outputs["image"], format!("{image}@{digest}"));
    assert!(out.outputs["image-id"].starts_with("sha256:"));
    // every tag resolves to the pushed digest
    for tag in ["1.2.3", "1.2", "sha-0123456", "latest"] {
        assert_eq!(
            tag_digest(&registry.host, "team/app", tag).as_deref(),
            Some(digest.as_str()),
            "{tag}"
        );
    }
    // the labels are in the image config, next to the Dockerfile's own
    let m = manifest(&registry.host, "team/app", &digest);
    let config = blob(
        &registry.host,
        "team/app",
        m["config"]["digest"].as_str().unwrap(),
    );
    let labels = labels_of(&config);
    for (key, value) in [
        ("org.opencontainers.image.version", "1.2.3"),
        ("org.opencontainers.image.revision", FAKE_SHA),
        ("org.opencontainers.image.created", "2024-01-01T00:00:00.000Z"),
        ("org.opencontainers.image.title", "app"),
        ("org.opencontainers.image.licenses", "Apache-2.0"),
        ("com.example.team", "platform"),
        ("from.dockerfile", "yes"),
    ] {
        assert_eq!(
            labels.get(key).and_then(Value::as_str),
            Some(value),
            "label {key}"
        );
    }
    // manifest-level annotations
    assert_eq!(m["annotations"]["org.opencontainers.image.version"], "1.2.3");
    assert!(
        out.summary.contains(":white_check_mark: verified 4 tag(s)"),
        "{}",
        out.summary
    );
    // the secret was masked first and never printed or written anywhere
    assert!(out.commands_named("add-mask").iter().any(|c| c.message == SECRET));
    assert!(
        !out.all_text()
            .replace(&format!("::add-mask::{SECRET}"), "")
            .contains(SECRET),
        "the secret leaked:\n{}",
        log(&out)
    );
    assert!(
        !r.root().join("temp").read_dir().unwrap().any(|e| {
            let path = e.unwrap().path();
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("image-build-tag-build-")
        }),
        "the private build directory (secret files) is removed"
    );
}

#[test]
fn multi_platform_builds_push_an_index() {
    let registry = Registry::start(Mode::Open);
    let image = format!("{}/multi", registry.host);
    let r = buildah_env(runner())
        .input("builder", "buildah")
        .input("images", &image)
        .input("tags", "type=ref,event=branch\ntype=raw,value=stable")
        .input("platforms", "linux/amd64,linux/arm64")
        .input("push", "true");
    context(&r.workspace(), SCRATCH);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    let digest = &out.outputs["digest"];
    for tag in ["main", "stable"] {
        assert_eq!(
            tag_digest(&registry.host, "multi", tag).as_ref(),
            Some(digest),
            "{tag}"
        );
    }
    let index = manifest(&registry.host, "multi", digest);
    // buildah builds the platforms in parallel; the index order follows whichever finished first
    let mut platforms: Vec<String> = index["manifests"]
        .as_array()
        .expect("an index")
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect();
    platforms.sort();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    for entry in index["manifests"].as_array().unwrap() {
        let m = manifest(&registry.host, "multi", entry["digest"].as_str().unwrap());
        let config = blob(&registry.host, "multi", m["config"]["digest"].as_str().unwrap());
        assert_eq!(labels_of(&config)["org.opencontainers.image.version"], "main");
    }
    assert!(out.stderr.contains("image config(s) carry all"), "{}", log(&out));
}

#[test]
fn a_registry_that_refuses_the_push_exits_3() {
    let registry = Registry::start(Mode::ReadOnly);
    let r = buildah_env(runner())
        .input("builder", "buildah")
        .input("images", format!("{}/app", registry.host))
        .input("push", "true");
    context(&r.workspace(), SCRATCH);
    let out = run(&r);
    assert_eq!(out.code, Some(3), "{}", log(&out));
    let error = &out.commands_named("error")[0].message;
    assert!(
        error.contains(&format!(
            "the registry refused the push of `{}/app:main`",
            registry.host
        )),
        "{error}"
    );
    assert!(
        error.contains("hint: check the registry's address, that it accepts pushes"),
        "{error}"
    );
    assert_eq!(tag_digest(&registry.host, "app", "main"), None);
}

#[test]
fn a_wrong_password_exits_3_before_building_and_never_leaks() {
    let password = "correct horse battery";
    let registry = Registry::start(Mode::Htpasswd {
        user: "alice".to_owned(),
        password: password.to_owned(),
    });
    let wrong = "Wrong-Password-Planted-99";
    let r = buildah_env(runner())
        .input("builder", "buildah")
        .input("images", format!("{}/private/app", registry.host))
        .input("registry", &registry.host)
        .input("username", "alice")
        .input("password", wrong)
        .input("push", "true");
    context(&r.workspace(), SCRATCH);
    let out = run(&r);
    assert_eq!(out.code, Some(3), "{}", log(&out));
    let error = &out.commands_named("error")[0].message;
    assert!(
        error.contains(&format!(
            "{} refused the credentials for user `alice`",
            registry.host
        )),
        "{error}"
    );
    assert!(
        error.contains("hint: check the `username` and `password` inputs"),
        "{error}"
    );
    assert!(
        !out.stderr.contains("::group::Build"),
        "nothing is built with bad credentials"
    );
    assert!(
        !out.all_text()
            .replace(&format!("::add-mask::{wrong}"), "")
            .contains(wrong)
    );

    // the right password logs in, pushes and verifies through the same basic-auth registry
    let r = buildah_env(runner())
        .input("builder", "buildah")
        .input("images", format!("{}/private/app", registry.host))
        .input("registry", &registry.host)
        .input("username", "alice")
        .input("password", password)
        .input("push", "true");
    context(&r.workspace(), SCRATCH);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert!(out.stderr.contains("verified: 1 tag(s)"), "{}", log(&out));
    assert!(
        !out.all_text()
            .replace(&format!("::add-mask::{password}"), "")
            .contains(password)
    );
}

#[test]
fn a_dockerfile_that_fails_to_build_exits_1() {
    let r = buildah_env(runner())
        .input("builder", "buildah")
        .input("images", "localhost/broken");
    context(&r.workspace(), "FROM scratch\nCOPY missing.txt /missing.txt\n");
    let out = run(&r);
    assert_eq!(out.code, Some(1), "{}", log(&out));
    let error = &out.commands_named("error")[0].message;
    assert!(
        error.starts_with("the image build failed (buildah ended with exit code"),
        "{error}"
    );
    assert!(
        error.contains("missing.txt"),
        "the builder's own message is quoted: {error}"
    );
    assert!(out.summary.contains(":x: the build failed"), "{}", out.summary);
}

#[test]
fn a_local_build_without_push() {
    let r = buildah_env(runner())
        .input("builder", "buildah")
        .input("images", "localhost/local")
        .input("load", "true");
    // the builder echoes the Dockerfile: workflow commands in it must stay text
    context(
        &r.workspace(),
        &format!("{SCRATCH}LABEL note=\"::warning::injected\"\n"),
    );
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert!(
        out.stderr.contains("::warning::injected"),
        "the builder's output is shown: {}",
        log(&out)
    );
    assert!(
        !out.commands_named("warning")
            .iter()
            .any(|w| w.message.contains("injected")),
        "builder output runs inside ::stop-commands::"
    );
    assert!(out.outputs["image-id"].starts_with("sha256:"));
    assert_eq!(out.outputs["digest"], "");
    assert_eq!(out.outputs["image"], "");
}

#[test]
fn bad_build_input_exits_2_before_any_output() {
    for (input, value, dockerfile, expected) in [
        (
            "file",
            "nope/Dockerfile",
            true,
            "the Dockerfile `nope/Dockerfile` does not exist",
        ),
        (
            "context",
            "git",
            true,
            "the build context `git` is not a directory",
        ),
        (
            "provenance",
            "mode=max",
            true,
            "`provenance` is not supported by the buildah builder",
        ),
        (
            "secrets",
            "just-a-value-no-id",
            true,
            "`secrets` line 1: expected `id=value`",
        ),
        (
            "build-args",
            "=x",
            true,
            "`build-args` line 1 (`=x`): expected `NAME=value`",
        ),
        ("username", "alice", true, "`username` is set without `password`"),
        ("images", "", true, "`push` needs at least one image in `images`"),
        (
            "target",
            "x",
            false,
            "there is no `Dockerfile` (or `Containerfile`) in the build context `.`",
        ),
    ] {
        let r = buildah_env(runner())
            .input("builder", "buildah")
            .input("images", "localhost/x")
            .input("push", "true")
            .input(input, value);
        if dockerfile {
            context(&r.workspace(), SCRATCH);
        }
        let out = run(&r);
        assert_eq!(out.code, Some(2), "{input}={value}\n{}", log(&out));
        assert!(
            out.stderr.contains(expected),
            "{input}={value}: expected `{expected}`\n{}",
            log(&out)
        );
        assert!(
            out.outputs.is_empty(),
            "{input}: outputs written on bad input: {:?}",
            out.outputs
        );
        assert!(
            !out.stderr
                .replace("::add-mask::just-a-value-no-id", "")
                .contains("just-a-value-no-id"),
            "a secret line is masked, never echoed"
        );
    }
}

/// The check itself, against a registry that holds something else under one tag and lacks a label.
#[test]
fn verification_reports_every_mismatch() {
    let registry = Registry::start(Mode::Open);
    let image = format!("{}/verify", registry.host);
    let mut digests = Vec::new();
    for (tag, text) in [("one", "first"), ("two", "second")] {
        let r = buildah_env(runner())
            .input("builder", "buildah")
            .input("images", &image)
            .input("tags", format!("type=raw,value={tag}"))
            .input("push", "true");
        support::context(&r.workspace(), SCRATCH);
        std::fs::write(r.workspace().join("hello.txt"), text).unwrap();
        let out = run(&r);
        assert_eq!(out.code, Some(0), "{}", log(&out));
        digests.push(out.outputs["digest"].clone());
    }
    assert_ne!(digests[0], digests[1]);
    let http = ops_net::HttpClient::builder().build().unwrap();
    let client =
        image_build_tag::registry::Registry::new(http, image_build_tag::registry::split_image(&image), None);
    let tags = vec!["one".to_owned(), "two".to_owned(), "three".to_owned()];
    let labels = vec![
        ("org.opencontainers.image.version".to_owned(), "one".to_owned()),
        ("com.example.absent".to_owned(), "x".to_owned()),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt
        .block_on(image_build_tag::verify::check(
            &client,
            &image_build_tag::verify::Expected {
                image: &image,
                digest: &digests[0],
                tags: &tags,
                labels: &labels,
            },
        ))
        .unwrap();
    assert_eq!(
        report.mismatches,
        [
            format!(
                "`{image}:two` resolves to `{}`, expected the pushed `{}`",
                digests[1], digests[0]
            ),
            format!("`{image}:three` is not in the registry"),
            format!(
                "label `com.example.absent` is missing from the image config of `{image}@{}`",
                digests[0]
            ),
        ]
    );
    assert_eq!((report.tags_checked, report.configs_checked), (3, 1));
}
