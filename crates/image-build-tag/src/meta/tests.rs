//! The metadata table: every tag type with its attributes, the flavor, priorities, `latest`, and the
//! expressions, on the events metadata-action's own tests use. Expected values follow metadata-action's
//! documented behaviour and its test expectations (case names in comments), except where this tool
//! fixes a bug (marked "fix").

use serde_json::{Value, json};

use super::*;

const SHA: &str = "860c1904a1ce19322e91ac35af1ab07466440c37";
const MASTER_SHA: &str = "266574110acf203503badf966df2ea24b5d732d7";
const MERGE_SHA: &str = "a9c8c5828b91be19d9728548b24759e352367ef1";

fn ctx(event: &str, git_ref: &str, sha: &str, payload: Value) -> Context {
    Context {
        event_name: event.to_owned(),
        sha: sha.to_owned(),
        git_ref: git_ref.to_owned(),
        payload,
        now: "2020-01-10T00:30:00Z".parse().unwrap(),
        commit_date: "2020-01-09T21:45:10Z".parse().unwrap(),
    }
}

fn repo_payload() -> Value {
    json!({"repository": {"default_branch": "master"}})
}

fn push(branch: &str) -> Context {
    let sha = if branch == "master" { MASTER_SHA } else { SHA };
    ctx("push", &format!("refs/heads/{branch}"), sha, repo_payload())
}

fn dispatch(branch: &str) -> Context {
    ctx(
        "workflow_dispatch",
        &format!("refs/heads/{branch}"),
        SHA,
        repo_payload(),
    )
}

fn tag(name: &str) -> Context {
    ctx(
        "push",
        &format!("refs/tags/{name}"),
        SHA,
        json!({"base_ref": "refs/heads/master", "repository": {"default_branch": "master"}}),
    )
}

/// A pull request after the context rules ran: `refs/pull/15/merge` and the merge commit.
fn pr(event: &str, sha: &str) -> Context {
    ctx(
        event,
        "refs/pull/15/merge",
        sha,
        json!({"number": 15, "pull_request": {"base": {"ref": "master"}}, "repository": {"default_branch": "master"}}),
    )
}

fn schedule() -> Context {
    ctx("schedule", "refs/heads/master", SHA, repo_payload())
}

fn hello_world() -> Repo {
    Repo {
        name: "Hello-World".to_owned(),
        description: "This your first repo!".to_owned(),
        html_url: "https://github.com/octocat/Hello-World".to_owned(),
        license: "MIT".to_owned(),
        default_branch: "master".to_owned(),
    }
}

fn lines(input: &'static str, texts: &[&str]) -> Vec<Line> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| Line::new(input, i + 1, *t))
        .collect()
}

fn inputs(images: &[&str], tags: &[&str], flavor: &[&str]) -> Inputs {
    Inputs {
        images: lines("images", images),
        tags: lines("tags", tags),
        flavor: lines("flavor", flavor),
        labels: Vec::new(),
        annotations: Vec::new(),
    }
}

fn compute_with(ctx: &Context, inputs: &Inputs) -> Result<Meta, MetaError> {
    compute(inputs, ctx, &hello_world(), &Settings::default())
}

struct Row {
    name: &'static str,
    ctx: Context,
    images: &'static [&'static str],
    tags: &'static [&'static str],
    flavor: &'static [&'static str],
    version: Option<&'static str>,
    expected: &'static [&'static str],
}

fn row(
    name: &'static str,
    ctx: Context,
    images: &'static [&'static str],
    tags: &'static [&'static str],
    flavor: &'static [&'static str],
    version: Option<&'static str>,
    expected: &'static [&'static str],
) -> Row {
    Row {
        name,
        ctx,
        images,
        tags,
        flavor,
        version,
        expected,
    }
}

const APP: &[&str] = &["user/app"];
const TWO: &[&str] = &["org/app", "ghcr.io/user/app"];
const ORG: &[&str] = &["org/app"];
const NONE: &[&str] = &[];

fn rows() -> Vec<Row> {
    vec![
        // default tags: schedule, then ref for branch, tag and pr (push01, push03, tag01, pr01, schedule01)
        row(
            "default on a branch",
            push("dev"),
            APP,
            NONE,
            NONE,
            Some("dev"),
            &["user/app:dev"],
        ),
        row(
            "default on master",
            push("master"),
            APP,
            NONE,
            NONE,
            Some("master"),
            &["user/app:master"],
        ),
        row(
            "default on a tag adds latest",
            tag("release1"),
            APP,
            NONE,
            NONE,
            Some("release1"),
            &["user/app:release1", "user/app:latest"],
        ),
        row(
            "default on a PR",
            pr("pull_request", MERGE_SHA),
            APP,
            NONE,
            NONE,
            Some("pr-15"),
            &["user/app:pr-15"],
        ),
        row(
            "default on schedule",
            schedule(),
            APP,
            NONE,
            NONE,
            Some("nightly"),
            &["user/app:nightly", "user/app:master"],
        ),
        row(
            "two images",
            push("dev"),
            TWO,
            NONE,
            NONE,
            Some("dev"),
            &["org/app:dev", "ghcr.io/user/app:dev"],
        ),
        // type=edge (push02, push04, push09, push10)
        row(
            "edge on the default branch",
            push("master"),
            APP,
            &["type=edge"],
            NONE,
            Some("edge"),
            &["user/app:edge"],
        ),
        row(
            "edge on workflow_dispatch",
            dispatch("master"),
            APP,
            &["type=edge"],
            NONE,
            Some("edge"),
            &["user/app:edge"],
        ),
        row(
            "edge elsewhere is nothing",
            push("dev"),
            APP,
            &["type=edge"],
            NONE,
            None,
            &[],
        ),
        row(
            "edge on a named branch",
            push("dev"),
            TWO,
            &["type=edge,branch=dev", "type=sha"],
            NONE,
            Some("edge"),
            &[
                "org/app:edge",
                "org/app:sha-860c190",
                "ghcr.io/user/app:edge",
                "ghcr.io/user/app:sha-860c190",
            ],
        ),
        row(
            "edge not on the named branch",
            push("master"),
            TWO,
            &["type=edge,branch=dev", "type=sha"],
            NONE,
            Some("sha-2665741"),
            &["org/app:sha-2665741", "ghcr.io/user/app:sha-2665741"],
        ),
        // type=ref (push07, push13, tag16, pr09)
        row(
            "ref branch and sha",
            push("dev"),
            TWO,
            &["type=ref,event=branch", "type=sha"],
            NONE,
            Some("dev"),
            &[
                "org/app:dev",
                "org/app:sha-860c190",
                "ghcr.io/user/app:dev",
                "ghcr.io/user/app:sha-860c190",
            ],
        ),
        row(
            "ref branch sanitised",
            ctx(
                "push",
                "refs/heads/my/feature#1245",
                "983315b5e8d46e46fc4c49869e85e7ee5fb289ba",
                repo_payload(),
            ),
            APP,
            &["type=ref,event=branch", "type=edge", "type=sha"],
            NONE,
            Some("my-feature-1245"),
            &["user/app:my-feature-1245", "user/app:sha-983315b"],
        ),
        row(
            "ref priority",
            push("master"),
            APP,
            &["type=ref,priority=2000,event=branch", "type=edge"],
            NONE,
            Some("master"),
            &["user/app:master", "user/app:edge"],
        ),
        row(
            "only the matching ref events",
            pr("pull_request_target", MASTER_SHA),
            ORG,
            &[
                "type=ref,event=tag",
                "type=ref,event=pr",
                "type=ref,event=branch",
                "type=sha",
                "type=sha,format=long",
            ],
            NONE,
            Some("pr-15"),
            &[
                "org/app:pr-15",
                "org/app:sha-2665741",
                "org/app:sha-266574110acf203503badf966df2ea24b5d732d7",
            ],
        ),
        row(
            "pr prefix and flavor suffix",
            pr("pull_request", MERGE_SHA),
            TWO,
            &["type=ref,event=pr"],
            &["prefix=glo-", "suffix=-bal"],
            Some("pr-15-bal"),
            &["org/app:pr-15-bal", "ghcr.io/user/app:pr-15-bal"],
        ),
        row(
            "pr with an empty prefix",
            pr("pull_request", MERGE_SHA),
            TWO,
            &["type=ref,event=pr,prefix="],
            &["prefix=glo-", "suffix=-bal"],
            Some("15-bal"),
            &["org/app:15-bal", "ghcr.io/user/app:15-bal"],
        ),
        row(
            "sha before pr by priority",
            pr("pull_request", MERGE_SHA),
            ORG,
            &["type=sha,priority=2000", "type=ref,event=pr"],
            NONE,
            Some("sha-a9c8c58"),
            &["org/app:sha-a9c8c58", "org/app:pr-15"],
        ),
        // type=sha (push18)
        row(
            "sha long",
            push("dev"),
            ORG,
            &["type=ref,event=branch", "type=sha,format=long"],
            NONE,
            Some("dev"),
            &[
                "org/app:dev",
                "org/app:sha-860c1904a1ce19322e91ac35af1ab07466440c37",
            ],
        ),
        row(
            "sha with prefix and suffix",
            push("dev"),
            ORG,
            &["type=sha,prefix=,suffix=-x"],
            NONE,
            Some("860c190-x"),
            &["org/app:860c190-x"],
        ),
        // type=semver (tag11–tag13, tag31, tag34, push14, push35)
        row(
            "semver patterns",
            tag("v1.1.1"),
            TWO,
            &[
                "type=semver,pattern={{version}}",
                "type=semver,pattern={{major}}.{{minor}}",
                "type=semver,pattern={{major}}",
            ],
            NONE,
            Some("1.1.1"),
            &[
                "org/app:1.1.1",
                "org/app:1.1",
                "org/app:1",
                "org/app:latest",
                "ghcr.io/user/app:1.1.1",
                "ghcr.io/user/app:1.1",
                "ghcr.io/user/app:1",
                "ghcr.io/user/app:latest",
            ],
        ),
        row(
            "semver duplicates collapse",
            tag("v1.1.1"),
            ORG,
            &[
                "type=semver,pattern={{version}}",
                "type=semver,pattern={{major}}.{{minor}}.{{patch}}",
            ],
            NONE,
            Some("1.1.1"),
            &["org/app:1.1.1", "org/app:latest"],
        ),
        row(
            "semver prerelease: version only, no latest",
            tag("v2.0.8-beta.67"),
            ORG,
            &[
                "type=semver,pattern={{major}}.{{minor}}",
                "type=semver,pattern={{major}}",
            ],
            NONE,
            Some("2.0.8-beta.67"),
            &["org/app:2.0.8-beta.67"],
        ),
        row(
            "semver prerelease with raw",
            tag("v2.0.8-beta.67"),
            ORG,
            &["type=semver,pattern={{raw}}"],
            NONE,
            Some("v2.0.8-beta.67"),
            &["org/app:v2.0.8-beta.67"],
        ),
        row(
            "semver build metadata",
            tag("v9.5.7-alpha.2+fork.3.1.8"),
            ORG,
            &["type=semver,pattern={{raw}}", "type=semver,pattern={{version}}"],
            NONE,
            Some("v9.5.7-alpha.2-fork.3.1.8"),
            &["org/app:v9.5.7-alpha.2-fork.3.1.8", "org/app:9.5.7-alpha.2"],
        ),
        row(
            "semver major zero",
            tag("v0.1.2"),
            ORG,
            &[
                "type=semver,pattern={{version}}",
                "type=semver,pattern={{major}}.{{minor}}",
                "type=semver,pattern={{major}}",
            ],
            NONE,
            Some("0.1.2"),
            &["org/app:0.1.2", "org/app:0.1", "org/app:0", "org/app:latest"],
        ),
        row(
            "semver match",
            tag("p1/v1.0.0"),
            ORG,
            &[r#"type=semver,pattern={{version}},"match=v(\d.\d.\d)$""#],
            NONE,
            Some("1.0.0"),
            &["org/app:1.0.0", "org/app:latest"],
        ),
        row(
            "semver match without a group uses the whole match (fix)",
            tag("p1/v1.0.0"),
            ORG,
            &[r"type=semver,pattern={{major}}.{{minor}},match=\d.\d.\d"],
            NONE,
            Some("1.0"),
            &["org/app:1.0", "org/app:latest"],
        ),
        row(
            "semver invalid is skipped",
            tag("sometag"),
            APP,
            &["type=ref,event=tag", "type=semver,pattern={{version}}"],
            &["latest=false"],
            Some("sometag"),
            &["user/app:sometag"],
        ),
        row(
            "semver and pep440 from value on a branch",
            push("master"),
            APP,
            &[
                "type=semver,pattern={{version}},value=v1.2.3",
                "type=pep440,pattern={{version}},value=v1.2.3",
                "type=edge",
            ],
            NONE,
            Some("1.2.3"),
            &["user/app:1.2.3", "user/app:edge", "user/app:latest"],
        ),
        row(
            "value and match on a branch",
            push("master"),
            APP,
            &[
                r"type=semver,pattern={{version}},value=p1/v1.2.3,match=v(\d.\d.\d)$",
                "type=edge",
            ],
            NONE,
            Some("1.2.3"),
            &["user/app:1.2.3", "user/app:edge", "user/app:latest"],
        ),
        row(
            "semver not on a branch",
            push("dev"),
            APP,
            &["type=semver,pattern={{version}}"],
            NONE,
            None,
            &[],
        ),
        // type=pep440 (tag23–tag33)
        row(
            "pep440 raw and parts",
            tag("v1.1.1"),
            ORG,
            &[
                "type=pep440,pattern={{raw}}",
                "type=pep440,pattern={{major}}.{{minor}}",
            ],
            NONE,
            Some("v1.1.1"),
            &["org/app:v1.1.1", "org/app:1.1", "org/app:latest"],
        ),
        row(
            "pep440 short release",
            tag("1.2"),
            ORG,
            &[
                "type=pep440,pattern={{version}}",
                "type=pep440,pattern={{major}}.{{minor}}",
            ],
            NONE,
            Some("1.2"),
            &["org/app:1.2", "org/app:latest"],
        ),
        row(
            "pep440 prerelease normalised",
            tag("1.1beta2"),
            ORG,
            &[
                "type=pep440,pattern={{major}}.{{minor}}",
                "type=pep440,pattern={{major}}",
            ],
            NONE,
            Some("1.1b2"),
            &["org/app:1.1b2"],
        ),
        row(
            "pep440 dev release",
            tag("1.0dev4"),
            ORG,
            &["type=pep440,pattern={{major}}.{{minor}}"],
            NONE,
            Some("1.0.dev4"),
            &["org/app:1.0.dev4"],
        ),
        row(
            "pep440 post release",
            tag("1.2post1"),
            ORG,
            &["type=pep440,pattern={{version}}", "type=pep440,pattern={{major}}"],
            NONE,
            Some("1.2.post1"),
            &["org/app:1.2.post1"],
        ),
        row(
            "pep440 prerelease raw",
            tag("v1.2.3rc2"),
            ORG,
            &[
                "type=pep440,pattern={{raw}}",
                "type=pep440,pattern={{major}}.{{minor}}",
            ],
            NONE,
            Some("v1.2.3rc2"),
            &["org/app:v1.2.3rc2", "org/app:1.2.3rc2"],
        ),
        row(
            "pep440 without images",
            tag("v1.1.1"),
            NONE,
            &[
                "type=pep440,pattern={{version}}",
                "type=pep440,pattern={{major}}.{{minor}}.{{patch}}",
                "type=pep440,pattern={{major}}.{{minor}}",
                "type=pep440,pattern={{major}}",
            ],
            NONE,
            Some("1.1.1"),
            &["1.1.1", "1.1", "1", "latest"],
        ),
        // type=match (tag03–tag10, tag17, tag18, latest01–06)
        row(
            "match digits",
            tag("20200110-RC2"),
            APP,
            &[r"type=match,pattern=\d{8}"],
            &["latest=false"],
            Some("20200110"),
            &["user/app:20200110"],
        ),
        row(
            "match group",
            tag("20200110-RC2"),
            APP,
            &["type=match,pattern=(.*)-RC,group=1"],
            &["latest=false"],
            Some("20200110"),
            &["user/app:20200110"],
        ),
        row(
            "match always latest",
            tag("v2.0.8-beta.67"),
            APP,
            &[r#"type=match,"pattern=\d.\d.\d""#],
            NONE,
            Some("2.0.8"),
            &["user/app:2.0.8", "user/app:latest"],
        ),
        row(
            "match two groups",
            tag("v2.0.8-beta.67"),
            APP,
            &[
                r#"type=match,"pattern=v(.*)-beta.(.*)",group=1"#,
                r#"type=match,"pattern=v(.*)-beta.(.*)",group=2"#,
            ],
            NONE,
            Some("2.0.8"),
            &["user/app:2.0.8", "user/app:67", "user/app:latest"],
        ),
        row(
            "match quoted with a comma",
            tag("release1"),
            APP,
            &[r#"type=match,"pattern=^release\d{1,2}""#],
            NONE,
            Some("release1"),
            &["user/app:release1", "user/app:latest"],
        ),
        row(
            "match value quoted after the equals sign (fix)",
            tag("release12"),
            APP,
            &[r#"type=match,pattern="^release(\d{1,2})",group=1"#],
            NONE,
            Some("12"),
            &["user/app:12", "user/app:latest"],
        ),
        row(
            "match no match",
            tag("sometag"),
            APP,
            &[r#"type=match,"pattern=\d.\d""#],
            NONE,
            None,
            &[],
        ),
        row(
            "match regex literal with flags",
            tag("p1/v1.0.0"),
            ORG,
            &[
                r#"type=match,"pattern=/^v(\d.\d.\d)$/ig",group=1"#,
                r"type=match,pattern=\d.\d.\d",
                r"type=match,pattern=\d.\d",
                "type=ref,event=pr",
                "type=sha",
            ],
            NONE,
            Some("1.0.0"),
            &[
                "org/app:1.0.0",
                "org/app:1.0",
                "org/app:sha-860c190",
                "org/app:latest",
            ],
        ),
        row(
            "match missing group is skipped",
            tag("p1/v1.0.0"),
            ORG,
            &[
                r"type=match,pattern=p1/v(\d.\d.\d),group=1",
                r"type=match,pattern=p1/v(\d.\d),group=1",
                r"type=match,pattern=p1/v(\d.\d),group=3",
            ],
            NONE,
            Some("1.0.0"),
            &["org/app:1.0.0", "org/app:1.0", "org/app:latest"],
        ),
        row(
            "match case-insensitive literal",
            tag("RELEASE-7"),
            ORG,
            &["type=match,pattern=/release-(\\d+)/i,group=1"],
            NONE,
            Some("7"),
            &["org/app:7", "org/app:latest"],
        ),
        row(
            "match disabled",
            push("master"),
            APP,
            &[
                "type=match,enable=false,pattern=v(.*),group=1,value=v1.2.3",
                "type=edge",
            ],
            NONE,
            Some("edge"),
            &["user/app:edge"],
        ),
        // type=raw and priorities (raw01–raw10, tag15)
        row(
            "raw after ref",
            push("dev"),
            APP,
            &[
                "type=ref,event=branch",
                "type=raw,my",
                "type=raw,custom",
                "type=raw,tags",
            ],
            NONE,
            Some("dev"),
            &["user/app:dev", "user/app:my", "user/app:custom", "user/app:tags"],
        ),
        row(
            "raw only",
            tag("v1.1.1"),
            ORG,
            &["type=raw,my", "type=raw,custom"],
            NONE,
            Some("my"),
            &["org/app:my", "org/app:custom"],
        ),
        row(
            "latest=true forces latest",
            push("dev"),
            APP,
            &[
                "type=ref,priority=90,event=branch",
                "type=raw,my",
                "type=raw,custom",
            ],
            &["latest=true"],
            Some("my"),
            &[
                "user/app:my",
                "user/app:custom",
                "user/app:dev",
                "user/app:latest",
            ],
        ),
        row(
            "tag prefix beats flavor",
            push("dev"),
            APP,
            &[
                r"type=match,pattern=\d{8}",
                "type=raw,my,prefix=foo-,suffix=-bar",
                "type=raw,custom",
            ],
            &["latest=false", "prefix=glo-", "suffix=-bal"],
            Some("foo-my-bar"),
            &["user/app:foo-my-bar", "user/app:glo-custom-bal"],
        ),
        row(
            "enable true and false",
            push("dev"),
            APP,
            &[
                "type=raw,foo",
                "type=raw,bar,enable=false",
                "type=raw,baz,enable=true",
            ],
            &["latest=false"],
            Some("foo"),
            &["user/app:foo", "user/app:baz"],
        ),
        row(
            "latest decided by the first tag only",
            tag("v2.0.8-beta.67"),
            ORG,
            &[
                "type=raw,priority=2000,foo",
                "type=semver,pattern={{version}}",
                r#"type=match,"pattern=\d.\d""#,
            ],
            NONE,
            Some("foo"),
            &["org/app:foo", "org/app:2.0.8-beta.67", "org/app:2.0"],
        ),
        row(
            "raw value latest and latest=true dedupe (fix)",
            push("dev"),
            APP,
            &["type=raw,value=latest"],
            &["latest=true"],
            Some("latest"),
            &["user/app:latest"],
        ),
        row(
            "bare raw line",
            push("dev"),
            APP,
            &["foo"],
            NONE,
            Some("foo"),
            &["user/app:foo"],
        ),
        // flavor onlatest (tag19, tag21, tag22)
        row(
            "flavor suffix, tag suffix empty",
            tag("p1/v1.0.0"),
            ORG,
            &[
                r"type=match,pattern=p1/v(\d.\d.\d),group=1",
                r"type=match,pattern=p1/v(\d.\d),group=1,suffix=",
                "type=sha",
            ],
            &["suffix=-dev"],
            Some("1.0.0-dev"),
            &[
                "org/app:1.0.0-dev",
                "org/app:1.0",
                "org/app:sha-860c190-dev",
                "org/app:latest",
            ],
        ),
        row(
            "suffix on latest",
            tag("v1.1.1"),
            ORG,
            &["type=semver,pattern={{version}}"],
            &["suffix=-dev,onlatest=true"],
            Some("1.1.1-dev"),
            &["org/app:1.1.1-dev", "org/app:latest-dev"],
        ),
        row(
            "prefix and suffix on latest",
            tag("v1.1.1"),
            ORG,
            &["type=semver,pattern={{version}}"],
            &["prefix=foo-,onlatest=true", "suffix=-dev,onlatest=true"],
            Some("foo-1.1.1-dev"),
            &["org/app:foo-1.1.1-dev", "org/app:foo-latest-dev"],
        ),
        row(
            "flavor prefix is rendered on latest too (fix)",
            tag("v1.1.1"),
            ORG,
            &["type=semver,pattern={{version}}"],
            &["prefix={{sha}}-,onlatest=true"],
            Some("860c190-1.1.1"),
            &["org/app:860c190-1.1.1", "org/app:860c190-latest"],
        ),
        row(
            "sha ignores the flavor prefix",
            push("dev"),
            ORG,
            &["type=sha"],
            &["prefix=glo-", "suffix=-bal"],
            Some("sha-860c190-bal"),
            &["org/app:sha-860c190-bal"],
        ),
        // type=schedule (schedule01–schedule08)
        row(
            "schedule patterns",
            schedule(),
            APP,
            &[
                "type=schedule,pattern={{date 'YYYYMMDD'}}",
                "type=schedule,pattern=source-date-{{commit_date 'YYYY-MM-DD'}}",
            ],
            NONE,
            Some("20200110"),
            &["user/app:20200110", "user/app:source-date-2020-01-09"],
        ),
        row(
            "schedule time zones",
            schedule(),
            APP,
            &[
                "type=schedule,pattern={{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}",
                "type=schedule,pattern=src-{{commit_date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}",
            ],
            NONE,
            Some("20200110-093000"),
            &["user/app:20200110-093000", "user/app:src-20200110-064510"],
        ),
        row(
            "schedule with flavor",
            schedule(),
            ORG,
            &["type=schedule"],
            &["prefix=glo-", "suffix=-bal"],
            Some("glo-nightly-bal"),
            &["org/app:glo-nightly-bal"],
        ),
        row(
            "schedule is the default branch",
            schedule(),
            ORG,
            &[
                "type=schedule",
                "type=sha,priority=2000",
                "type=raw,value=defbranch,enable={{is_default_branch}}",
            ],
            NONE,
            Some("sha-860c190"),
            &["org/app:sha-860c190", "org/app:nightly", "org/app:defbranch"],
        ),
        row(
            "schedule only on schedule events",
            push("master"),
            APP,
            &["type=schedule"],
            NONE,
            None,
            &[],
        ),
        // global expressions (push17, push19, push22, tag20, pr10–pr12, release02)
        row(
            "expressions on a branch",
            push("master"),
            APP,
            &[
                "type=raw,value=mytag-{{branch}}",
                "type=raw,value=mytag-{{date 'YYYYMMDD'}}",
                "type=raw,value=mytag-cd-{{commit_date 'YYYYMMDD-HHmmss'}}",
                "type=raw,value=mytag-{{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}",
                "type=raw,value=mytag-tag-{{tag}}",
                "type=raw,value=mytag-baseref-{{base_ref}}",
                "type=raw,value=mytag-defbranch,enable={{is_default_branch}}",
            ],
            NONE,
            Some("mytag-master"),
            &[
                "user/app:mytag-master",
                "user/app:mytag-20200110",
                "user/app:mytag-cd-20200109-214510",
                "user/app:mytag-20200110-093000",
                "user/app:mytag-tag-",
                "user/app:mytag-baseref-",
                "user/app:mytag-defbranch",
            ],
        ),
        row(
            "is_default_branch false",
            push("dev"),
            ORG,
            &[
                "type=edge,branch=master",
                "type=ref,event=branch,enable=false",
                "type=sha,format=long",
                "type=raw,value=defbranch,enable={{is_default_branch}}",
            ],
            NONE,
            Some("sha-860c1904a1ce19322e91ac35af1ab07466440c37"),
            &["org/app:sha-860c1904a1ce19322e91ac35af1ab07466440c37"],
        ),
        row(
            "is_not_default_branch",
            push("dev"),
            ORG,
            &[
                "type=edge,branch=master",
                "type=raw,value=notdefbranch,enable={{is_not_default_branch}}",
            ],
            NONE,
            Some("notdefbranch"),
            &["org/app:notdefbranch"],
        ),
        row(
            "tag, sha and base_ref on a tag",
            tag("v1.1.1"),
            ORG,
            &[
                "type=raw,{{tag}}-{{sha}}-foo",
                "type=raw,{{base_ref}}-foo",
                "type=raw,defbranch-foo,enable={{is_default_branch}}",
            ],
            NONE,
            Some("v1.1.1-860c190-foo"),
            &["org/app:v1.1.1-860c190-foo", "org/app:master-foo"],
        ),
        row(
            "base_ref on a PR",
            pr("pull_request", MERGE_SHA),
            ORG,
            &[
                "type=raw,value=mytag-{{base_ref}}",
                "type=raw,mytag-defbranch,enable={{is_default_branch}}",
            ],
            NONE,
            Some("mytag-master"),
            &["org/app:mytag-master"],
        ),
        row(
            "branch is empty on a PR",
            pr("pull_request", MERGE_SHA),
            ORG,
            &["type=raw,value=b-{{branch}}"],
            NONE,
            Some("b-"),
            &["org/app:b-"],
        ),
        row(
            "commit_date unquoted uses the default format",
            pr("pull_request", MERGE_SHA),
            ORG,
            &["type=raw,value=src-{{commit_date YYYY-MM-DD}}"],
            NONE,
            Some("src-2020-01-09T21-45-10Z"),
            &["org/app:src-2020-01-09T21-45-10Z"],
        ),
        row(
            "comma inside an expression (fix)",
            push("dev"),
            ORG,
            &["type=raw,value={{date 'dddd, MMMM Do'}}"],
            NONE,
            Some("Friday-January-10th"),
            &["org/app:Friday-January-10th"],
        ),
        row(
            "create event is the default branch",
            ctx("create", "refs/tags/v2.1.8-beta.67", SHA, json!({})),
            ORG,
            &["type=raw,value=d,enable={{is_default_branch}}"],
            NONE,
            Some("d"),
            &["org/app:d"],
        ),
        row(
            "empty raw value gives no tag",
            ctx("", "", "", json!({})),
            APP,
            &["type=sha", "type=raw,{{branch}}"],
            NONE,
            None,
            &[],
        ),
        // images (push20, latest08)
        row(
            "disabled image",
            push("dev"),
            &["org/app", "name=ghcr.io/user/app,enable=false"],
            &["type=ref,event=branch"],
            NONE,
            Some("dev"),
            &["org/app:dev"],
        ),
        row(
            "image names lowercased",
            tag("v1.1.1"),
            &["org/app", "ghcr.io/MyUSER/MyApp"],
            &["type=ref,event=tag"],
            &["latest=false"],
            Some("v1.1.1"),
            &["org/app:v1.1.1", "ghcr.io/myuser/myapp:v1.1.1"],
        ),
        row(
            "legacy comma-separated images",
            push("dev"),
            &["org/app,ghcr.io/user/app"],
            NONE,
            NONE,
            Some("dev"),
            &["org/app:dev", "ghcr.io/user/app:dev"],
        ),
        // sanitisation fixes
        row(
            "bare tags are lowercased (fix, metadata-action #405)",
            push("User-Issue"),
            NONE,
            &["type=ref,event=branch"],
            NONE,
            Some("User-Issue"),
            &["user-issue"],
        ),
        row(
            "no leading dot (fix)",
            push(".hidden"),
            APP,
            &["type=ref,event=branch"],
            NONE,
            Some("hidden"),
            &["user/app:hidden"],
        ),
        row(
            "no leading dash (fix)",
            push("-x"),
            APP,
            &["type=ref,event=branch"],
            NONE,
            Some("x"),
            &["user/app:x"],
        ),
        row(
            "no trailing dash from non-ASCII (fix)",
            push("café"),
            APP,
            &["type=ref,event=branch"],
            NONE,
            Some("caf"),
            &["user/app:caf"],
        ),
        row(
            "nothing valid left (fix)",
            push("ü"),
            APP,
            &["type=ref,event=branch", "type=sha"],
            NONE,
            Some("sha-860c190"),
            &["user/app:sha-860c190"],
        ),
    ]
}

#[test]
fn tag_table() {
    for row in rows() {
        let meta = compute_with(&row.ctx, &inputs(row.images, row.tags, row.flavor))
            .unwrap_or_else(|e| panic!("{}: {e}", row.name));
        assert_eq!(meta.version.main.as_deref(), row.version, "{}: version", row.name);
        assert_eq!(meta.tags, row.expected, "{}: tags", row.name);
    }
}

#[test]
fn tags_are_capped_at_128_characters_fix() {
    let long = format!("feature/{}", "x".repeat(200));
    let meta = compute_with(&push(&long), &inputs(APP, &["type=ref,event=branch"], NONE)).unwrap();
    let main = meta.version.main.unwrap();
    assert_eq!(main.len(), 128);
    assert!(main.starts_with("feature-xxx"));
}

#[test]
fn tag_names_and_partials() {
    let meta = compute_with(
        &tag("v1.1.1"),
        &inputs(
            TWO,
            &["type=semver,pattern={{version}}", "type=semver,pattern={{major}}"],
            NONE,
        ),
    )
    .unwrap();
    assert_eq!(meta.tag_names, ["1.1.1", "1", "latest"]);
    assert_eq!(
        meta.version,
        Version {
            main: Some("1.1.1".to_owned()),
            partial: vec!["1".to_owned()],
            latest: true
        }
    );
    assert_eq!(meta.images, ["org/app", "ghcr.io/user/app"]);
}

#[test]
fn short_sha_length_setting() {
    let inputs = inputs(ORG, &["type=sha", "type=raw,value=s-{{sha}}"], NONE);
    let meta = compute(
        &inputs,
        &push("dev"),
        &hello_world(),
        &Settings { short_sha_length: 12 },
    )
    .unwrap();
    assert_eq!(meta.tags, ["org/app:s-860c1904a1ce", "org/app:sha-860c1904a1ce"]);
}

fn labels_of(meta: &[(String, String)]) -> Vec<String> {
    meta.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

#[test]
fn oci_labels_and_custom_overrides() {
    // json07, latest09: custom lines override, `=` inside values is kept, lines without `=` are dropped
    let mut inputs = inputs(ORG, &["type=ref,event=tag"], &["latest=false"]);
    inputs.labels = lines(
        "labels",
        &[
            "foo",
            "maintainer=CrazyMax",
            "org.opencontainers.image.title=MyCustom=Title",
            "org.opencontainers.image.description=this is a \"good\" example",
            "org.opencontainers.image.vendor=MyCompany",
            "empty=",
            "Zed=last",
            "built={{date 'YYYY'}} on {{branch}}",
        ],
    );
    inputs.annotations = lines("annotations", &["maintainer=Foo"]);
    let meta = compute_with(&tag("v1.1.1"), &inputs).unwrap();
    assert_eq!(
        labels_of(&meta.labels),
        [
            "built=2020 on ",
            "empty=",
            "maintainer=CrazyMax",
            "org.opencontainers.image.created=2020-01-10T00:30:00.000Z",
            "org.opencontainers.image.description=this is a \"good\" example",
            "org.opencontainers.image.licenses=MIT",
            "org.opencontainers.image.revision=860c1904a1ce19322e91ac35af1ab07466440c37",
            "org.opencontainers.image.source=https://github.com/octocat/Hello-World",
            "org.opencontainers.image.title=MyCustom=Title",
            "org.opencontainers.image.url=https://github.com/octocat/Hello-World",
            "org.opencontainers.image.vendor=MyCompany",
            "org.opencontainers.image.version=v1.1.1",
            "Zed=last",
        ]
    );
    // annotations extend their own copy of the base set
    assert_eq!(
        labels_of(&meta.annotations),
        [
            "maintainer=Foo",
            "org.opencontainers.image.created=2020-01-10T00:30:00.000Z",
            "org.opencontainers.image.description=This your first repo!",
            "org.opencontainers.image.licenses=MIT",
            "org.opencontainers.image.revision=860c1904a1ce19322e91ac35af1ab07466440c37",
            "org.opencontainers.image.source=https://github.com/octocat/Hello-World",
            "org.opencontainers.image.title=Hello-World",
            "org.opencontainers.image.url=https://github.com/octocat/Hello-World",
            "org.opencontainers.image.version=v1.1.1",
        ]
    );
    assert_eq!(
        meta.warnings,
        ["`labels` line 1 (`foo`): not a `key=value` entry; ignored"]
    );
}

#[test]
fn created_is_iso_with_milliseconds() {
    let at: Timestamp = "2024-02-29T23:59:58.123456Z".parse().unwrap();
    assert_eq!(iso_millis(at), "2024-02-29T23:59:58.123Z");
    assert_eq!(
        iso_millis(Timestamp::from_second(1_704_067_200).unwrap()),
        "2024-01-01T00:00:00.000Z"
    );
}

#[test]
fn no_version_means_no_tags_and_empty_version_label() {
    let meta = compute_with(&push("dev"), &inputs(APP, &["type=edge"], NONE)).unwrap();
    assert!(meta.tags.is_empty() && meta.tag_names.is_empty());
    assert!(labels_of(&meta.labels).contains(&"org.opencontainers.image.version=".to_owned()));
}

#[test]
fn warnings_explain_skipped_tags() {
    let meta = compute_with(
        &tag("sometag"),
        &inputs(
            APP,
            &[
                "type=semver,pattern={{version}}",
                r"type=match,pattern=\d+",
                "type=raw,value={{nope}}x",
            ],
            NONE,
        ),
    )
    .unwrap();
    assert_eq!(
        meta.warnings,
        [
            "`tags` line 1 (`type=semver,pattern={{version}}`): `sometag` is not a valid semver; see https://semver.org",
            r"`tags` line 2 (`type=match,pattern=\d+`): `\d+` does not match `sometag`",
            "`{{nope}}` is not a known expression here and renders as an empty string",
        ]
    );
}

/// Invalid input names the line; nothing is computed.
#[test]
fn invalid_input_names_the_line() {
    for (tags, flavor, images, expected) in [
        (
            &["type=sha", "type=foo"][..],
            NONE,
            APP,
            "`tags` line 2 (`type=foo`): unknown tag type `foo`; expected one of `schedule`, `semver`, `pep440`, `match`, `edge`, `ref`, `raw`, `sha`",
        ),
        (
            &["type=semver"][..],
            NONE,
            APP,
            "`tags` line 1 (`type=semver`): missing `pattern` attribute; for example `type=semver,pattern={{version}}`",
        ),
        (
            &["type=raw,value=x,enable=maybe"][..],
            NONE,
            APP,
            "`tags` line 1 (`type=raw,value=x,enable=maybe`): `enable` must be `true` or `false` once expressions are rendered, got `maybe`",
        ),
        (
            &["type=raw,value=x,enable={{branch}}"][..],
            NONE,
            APP,
            "`tags` line 1 (`type=raw,value=x,enable={{branch}}`): `enable` must be `true` or `false` once expressions are rendered, got `dev`",
        ),
        (
            &["type=raw,value={{date 'Y' tz='Nowhere'}}"][..],
            NONE,
            APP,
            "`tags` line 1 (`type=raw,value={{date 'Y' tz='Nowhere'}}`): unknown time zone `Nowhere` in `{{date 'Y' tz='Nowhere'}}`; expected an IANA name such as `UTC` or `Europe/Paris`",
        ),
        (
            &["type=match,pattern=v(,value=v1"][..],
            NONE,
            APP,
            "`tags` line 1 (`type=match,pattern=v(,value=v1`): invalid `pattern` regular expression `v(`: regex parse error: v( ^ error: unclosed group",
        ),
        (
            &["type=match,pattern=/v/q,value=v1"][..],
            NONE,
            APP,
            "`tags` line 1 (`type=match,pattern=/v/q,value=v1`): invalid flag `q` in the `/v/q` pattern; expected `g`, `i`, `m`, `s`, `u` or `y`",
        ),
        (
            &["type=sha"][..],
            &["latest=sometimes"][..],
            APP,
            "`flavor` line 1 (`latest=sometimes`): invalid `latest` value `sometimes`; expected `auto`, `true` or `false`",
        ),
        (
            &["type=sha"][..],
            &["prefix=a", "tag=x"][..],
            APP,
            "`flavor` line 2 (`tag=x`): unknown flavor key `tag`; expected `latest`, `prefix`, `suffix` or `onlatest`",
        ),
        (
            &["type=sha"][..],
            NONE,
            &["name=a/b,enable=yes"][..],
            "`images` line 1 (`name=a/b,enable=yes`): invalid `enable` value `yes`; expected `true` or `false`",
        ),
    ] {
        let err = compute_with(&push("dev"), &inputs(images, tags, flavor)).unwrap_err();
        assert_eq!(err.to_string(), expected);
    }
}
