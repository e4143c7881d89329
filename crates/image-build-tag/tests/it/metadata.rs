//! `build: false`: the binary as a drop-in docker/metadata-action, against the GitHub API stand-in.

use ops_test::harness::FAKE_SHA;
use serde_json::{Value, json};

use crate::support::{self, github, log, run, runner};

#[test]
fn drop_in_outputs_on_a_tag_push() {
    let r = runner()
        .env("GITHUB_REF", "refs/tags/v1.2.3")
        .env("GITHUB_REPOSITORY", "octo/app")
        .input("build", "false")
        .input(
            "images",
            "ghcr.io/Octo/App\n# a comment\nname=octo/app,enable=false",
        )
        .input(
            "tags",
            "type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}\n\ntype=sha",
        )
        .input(
            "labels",
            "maintainer=Octo Cat\norg.opencontainers.image.title=Custom #1",
        )
        .input(
            "annotations",
            "org.opencontainers.image.description={{tag}} release",
        );
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    let o = &out.outputs;
    assert_eq!(o["version"], "1.2.3");
    assert_eq!(
        o["tags"],
        "ghcr.io/octo/app:1.2.3\nghcr.io/octo/app:1.2\nghcr.io/octo/app:sha-0123456\nghcr.io/octo/app:latest"
    );
    assert_eq!(o["tag-names"], "1.2.3\n1.2\nsha-0123456\nlatest");
    let labels = [
        "maintainer=Octo Cat",
        "org.opencontainers.image.created=2024-01-01T00:00:00.000Z",
        "org.opencontainers.image.description=Ships containers",
        "org.opencontainers.image.licenses=Apache-2.0",
        &format!("org.opencontainers.image.revision={FAKE_SHA}"),
        "org.opencontainers.image.source=https://github.com/octo/app",
        "org.opencontainers.image.title=Custom #1",
        "org.opencontainers.image.url=https://github.com/octo/app",
        "org.opencontainers.image.version=1.2.3",
    ]
    .join("\n");
    assert_eq!(o["labels"], labels);
    assert!(
        o["annotations"].contains("manifest:org.opencontainers.image.description=v1.2.3 release\n"),
        "{}",
        o["annotations"]
    );
    assert!(o["annotations"].contains("manifest:org.opencontainers.image.title=app\n"));
    let json: Value = serde_json::from_str(&o["json"]).unwrap();
    assert_eq!(
        json["tag-names"],
        json!(["1.2.3", "1.2", "sha-0123456", "latest"])
    );
    assert_eq!(json["labels"]["org.opencontainers.image.licenses"], "Apache-2.0");
    assert!(o["json"].starts_with(r#"{"tags":["ghcr.io/octo/app:1.2.3","#));
    // the bake files exist, and their shapes are metadata-action's
    let bake: Value = serde_json::from_str(&std::fs::read_to_string(&o["bake-file"]).unwrap()).unwrap();
    assert_eq!(
        bake["target"]["docker-metadata-action"]["args"],
        json!({"DOCKER_META_IMAGES": "ghcr.io/octo/app", "DOCKER_META_VERSION": "1.2.3"})
    );
    let bake_tags = std::fs::read_to_string(&o["bake-file-tags"]).unwrap();
    assert!(
        bake_tags.starts_with("{\n  \"target\": {\n    \"docker-metadata-action\": {\n      \"tags\": [\n")
    );
    let bake_annotations: Value =
        serde_json::from_str(&std::fs::read_to_string(&o["bake-file-annotations"]).unwrap()).unwrap();
    assert_eq!(
        bake_annotations["target"]["docker-metadata-action"]["annotations"][0],
        "manifest:org.opencontainers.image.created=2024-01-01T00:00:00.000Z"
    );
    // every output is exported as DOCKER_METADATA_OUTPUT_*
    assert_eq!(out.exported["DOCKER_METADATA_OUTPUT_VERSION"], "1.2.3");
    assert_eq!(out.exported["DOCKER_METADATA_OUTPUT_TAG_NAMES"], o["tag-names"]);
    assert_eq!(out.exported["DOCKER_METADATA_OUTPUT_BAKE_FILE"], o["bake-file"]);
    assert!(
        out.summary.contains("| `ghcr.io/octo/app:1.2` |"),
        "{}",
        out.summary
    );
    assert!(!o.contains_key("digest"), "no build outputs with build: false");
}

#[test]
fn pull_request_target_and_pr_head_sha() {
    let head = "fedcba9876543210fedcba9876543210fedcba98";
    let r = runner()
        .event(
            "pull_request_target",
            &json!({"number": 7, "pull_request": {"number": 7, "head": {"sha": head}, "base": {"ref": "main"}}}),
        )
        .unwrap()
        .env("GITHUB_REF", "refs/heads/main")
        .env("DOCKER_METADATA_PR_HEAD_SHA", "true")
        .input("build", "false")
        .input("images", "octo/app")
        .input("tags", "type=ref,event=pr\ntype=sha\ntype=raw,value=base-{{base_ref}}");
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(
        out.outputs["tags"],
        "octo/app:pr-7\nocto/app:base-main\nocto/app:sha-fedcba9"
    );
    assert!(out.outputs["labels"].contains(&format!("org.opencontainers.image.revision={head}")));
}

#[test]
fn commit_date_from_the_payload_then_the_api_then_now() {
    let tags = "type=raw,value=c-{{commit_date 'YYYYMMDD-HHmmss'}}";
    // 1. the payload has the commit: no API call
    let r = runner()
        .event(
            "push",
            &json!({"commits": [{"id": FAKE_SHA, "timestamp": "2022-04-19T11:04:39+02:00"}]}),
        )
        .unwrap()
        .env("GITHUB_REPOSITORY", "octo/dates-payload")
        .input("build", "false")
        .input("tags", tags);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(out.outputs["version"], "c-20220419-090439");
    assert_eq!(
        github().calls(&format!("/repos/octo/dates-payload/commits/{FAKE_SHA}")),
        0
    );
    // 2. no payload date: the commits API
    let r = runner()
        .env("GITHUB_REPOSITORY", "octo/dates-api")
        .input("build", "false")
        .input("tags", tags);
    let out = run(&r);
    assert_eq!(out.outputs["version"], "c-20210304-050607", "{}", log(&out));
    assert_eq!(
        github().calls(&format!("/repos/octo/dates-api/commits/{FAKE_SHA}")),
        1
    );
    // 3. no commit_date in any input: no call at all
    let r = runner()
        .env("GITHUB_REPOSITORY", "octo/dates-none")
        .input("build", "false")
        .input("tags", "type=raw,value=x");
    assert_eq!(run(&r).code, Some(0));
    assert_eq!(
        github().calls(&format!("/repos/octo/dates-none/commits/{FAKE_SHA}")),
        0
    );
    // 4. the API does not know the commit: now (SOURCE_DATE_EPOCH)
    let r = runner()
        .env("GITHUB_REPOSITORY", "octo/dates-now")
        .env("GITHUB_SHA", "0000000000000000000000000000000000000000")
        .input("build", "false")
        .input("tags", tags);
    let out = run(&r);
    assert_eq!(out.outputs["version"], "c-20240101-000000", "{}", log(&out));
}

#[test]
fn invalid_input_exits_2_naming_the_line_and_writes_nothing() {
    for (input, value, expected) in [
        (
            "tags",
            "type=sha\n\ntype=nope",
            "`tags` line 3 (`type=nope`): unknown tag type `nope`",
        ),
        (
            "tags",
            "type=match",
            "`tags` line 1 (`type=match`): missing `pattern` attribute",
        ),
        (
            "tags",
            "type=raw,value=x,enable=yes",
            "`tags` line 1 (`type=raw,value=x,enable=yes`): `enable` must be `true` or `false`",
        ),
        (
            "flavor",
            "latest=auto\nsuffix=-x,onlatest=maybe",
            "`flavor` line 2 (`suffix=-x,onlatest=maybe`): invalid `onlatest` value `maybe`",
        ),
        (
            "flavor",
            "colour=blue",
            "`flavor` line 1 (`colour=blue`): unknown flavor key `colour`",
        ),
        (
            "images",
            "user/app:1.0",
            "`images` line 1 (`user/app:1.0`): `user/app:1.0` has a tag or digest",
        ),
    ] {
        let r = runner().input("build", "false").input(input, value);
        let out = run(&r);
        assert_eq!(out.code, Some(2), "{input}={value:?}\n{}", log(&out));
        let errors = out.commands_named("error");
        assert!(
            errors.iter().any(|e| e.message.contains(expected)),
            "{input}={value:?}: expected `{expected}` in\n{}",
            log(&out)
        );
        assert!(
            out.outputs.is_empty(),
            "nothing is written on bad input: {:?}",
            out.outputs
        );
        assert!(out.exported.is_empty());
    }
    for (var, value, expected) in [
        (
            "DOCKER_METADATA_SHORT_SHA_LENGTH",
            "seven",
            "`DOCKER_METADATA_SHORT_SHA_LENGTH` must be a whole number",
        ),
        (
            "DOCKER_METADATA_PR_HEAD_SHA",
            "yes",
            "`DOCKER_METADATA_PR_HEAD_SHA` must be `true` or `false`, got `yes`",
        ),
        (
            "DOCKER_METADATA_ANNOTATIONS_LEVELS",
            "manifest,layer",
            "unknown level `layer`",
        ),
    ] {
        let out = run(&runner().input("build", "false").env(var, value));
        assert_eq!(out.code, Some(2), "{var}\n{}", log(&out));
        assert!(out.stderr.contains(expected), "{var}: {}", log(&out));
    }
}

#[test]
fn repository_api_failure_exits_3_with_a_hint() {
    let r = runner()
        .env("GITHUB_REPOSITORY", "octo/missing")
        .input("build", "false");
    let out = run(&r);
    assert_eq!(out.code, Some(3), "{}", log(&out));
    let error = &out.commands_named("error")[0].message;
    assert!(
        error.contains("cannot read the repository `octo/missing` from the GitHub API"),
        "{error}"
    );
    assert!(
        error.contains("hint: the repository data needs read access: pass `github-token`"),
        "{error}"
    );
}

#[test]
fn the_token_is_sent_and_masked() {
    let token = "ghs_planted0123456789token";
    let r = runner()
        .env("GITHUB_REPOSITORY", "octo/token-check")
        .input("build", "false")
        .input("github-token", token)
        .input("tags", "type=raw,value=x");
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(github().calls(&format!("auth Bearer {token}")), 1);
    assert!(out.commands_named("add-mask").iter().any(|c| c.message == token));
    assert!(
        !out.all_text()
            .replace(&format!("::add-mask::{token}"), "")
            .contains(token)
    );
}

#[test]
fn settings_from_the_environment() {
    let r = runner()
        .env("DOCKER_METADATA_SHORT_SHA_LENGTH", "12")
        .env("DOCKER_METADATA_ANNOTATIONS_LEVELS", "manifest,index")
        .env("DOCKER_METADATA_SET_OUTPUT_ENV", "false")
        .input("build", "false")
        .input("images", "octo/app")
        .input("tags", "type=sha")
        .input("sep-tags", ",")
        .input("bake-target", "meta");
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(out.outputs["tags"], "octo/app:sha-0123456789ab");
    let annotations = &out.outputs["annotations"];
    assert!(annotations.starts_with("manifest:org.opencontainers.image.created="));
    assert!(annotations.contains("\nindex:org.opencontainers.image.created="));
    assert!(out.exported.is_empty(), "DOCKER_METADATA_SET_OUTPUT_ENV=false");
    let bake: Value =
        serde_json::from_str(&std::fs::read_to_string(&out.outputs["bake-file-tags"]).unwrap()).unwrap();
    assert!(bake["target"]["meta"].is_object());
}

#[test]
fn separators_keep_their_spaces() {
    let r = runner()
        .input("build", "false")
        .input("images", "octo/app")
        .input("tags", "type=raw,a\ntype=raw,b")
        .input("sep-tags", " ")
        .input("sep-labels", ", ");
    let out = run(&r);
    assert_eq!(out.outputs["tags"], "octo/app:a octo/app:b", "{}", log(&out));
    assert!(out.outputs["labels"].contains("Z, org.opencontainers.image.description="));
}

#[test]
fn metadata_context_git_reads_the_checkout() {
    support::require("git");
    let r = runner()
        .env("GITHUB_REF", "refs/heads/main")
        .input("build", "false")
        // docker/metadata-action's spelling keeps working when nothing is built
        .input("context", "git")
        .input(
            "tags",
            "type=semver,pattern={{version}}\ntype=raw,value=d-{{commit_date 'YYYY-MM-DD'}}",
        );
    let ws = r.workspace();
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(&ws)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_DATE", "2023-05-06T07:08:09Z")
            .env("GIT_AUTHOR_DATE", "2023-05-06T07:08:09Z")
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "one"]);
    git(&["tag", "v3.1.0"]);
    git(&["checkout", "-q", "--detach", "v3.1.0"]);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(out.outputs["tag-names"], "3.1.0\nd-2023-05-06\nlatest");

    // a detached HEAD no branch or tag points at: metadata-action fails (#362); here GITHUB_REF is used
    git(&["checkout", "-q", "-b", "work"]);
    git(&["commit", "-q", "--allow-empty", "-m", "two"]);
    git(&["commit", "-q", "--allow-empty", "-m", "three"]);
    git(&["checkout", "-q", "--detach", "HEAD~1"]);
    let r = r.input("tags", "type=ref,event=branch");
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(out.outputs["tag-names"], "main");
    assert!(
        out.commands_named("warning")
            .iter()
            .any(|w| w.message.contains("detached HEAD")),
        "{}",
        log(&out)
    );
}
