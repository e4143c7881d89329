//! Response bodies shaped like GitHub's: every field the official description marks required
//! is present, URLs point back at the stand-in (or the proxy in front of it).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::model::{
    Annotation, CheckRun, Comment, CommitStatus, Deployment, DeploymentStatus, Environment, Issue, Pull,
    PullFile, Reaction, Repo, Review, ReviewComment, Reviewer,
};
use crate::sim::rfc3339;

/// A stable positive id for a login, so the same user has the same id in every body.
pub(crate) fn user_id(login: &str) -> u64 {
    let digest = Sha256::digest(login.as_bytes());
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&digest[..4]);
    u64::from(u32::from_be_bytes(bytes) & 0x00ff_ffff) + 1
}

pub(crate) fn node_id(kind: &str, id: u64) -> String {
    format!("{kind}_kwDO{id:08X}")
}

pub(crate) fn user(base: &str, login: &str) -> Value {
    let id = user_id(login);
    // App logins end in `[bot]`; GitHub percent-encodes the brackets in its URLs
    // (`/users/github-actions%5Bbot%5D`), and the description's `format: uri` rejects them raw.
    let path = login.replace('[', "%5B").replace(']', "%5D");
    let url = format!("{base}/users/{path}");
    json!({
        "login": login,
        "id": id,
        "node_id": node_id("U", id),
        "avatar_url": format!("{base}/avatars/u/{id}"),
        "gravatar_id": "",
        "url": url,
        "html_url": format!("{base}/{path}"),
        "followers_url": format!("{url}/followers"),
        "following_url": format!("{url}/following{{/other_user}}"),
        "gists_url": format!("{url}/gists{{/gist_id}}"),
        "starred_url": format!("{url}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{url}/subscriptions"),
        "organizations_url": format!("{url}/orgs"),
        "repos_url": format!("{url}/repos"),
        "events_url": format!("{url}/events{{/privacy}}"),
        "received_events_url": format!("{url}/received_events"),
        "type": if login.ends_with("[bot]") { "Bot" } else { "User" },
        "site_admin": false,
        "user_view_type": "public",
    })
}

fn repo_url(base: &str, repo: &Repo) -> String {
    format!("{base}/repos/{}/{}", repo.owner, repo.name)
}

pub(crate) fn html_base(repo: &Repo) -> String {
    format!("https://github.com/{}/{}", repo.owner, repo.name)
}

/// The repository as `repos/get` returns it (a superset of the smaller repository shapes).
pub(crate) fn repository(base: &str, repo: &Repo, created: i64) -> Value {
    let url = repo_url(base, repo);
    let html = html_base(repo);
    let t = rfc3339(created);
    let mut v = json!({
        "id": repo.id,
        "node_id": node_id("R", repo.id),
        "name": repo.name,
        "full_name": format!("{}/{}", repo.owner, repo.name),
        "owner": user(base, &repo.owner),
        "private": repo.private,
        "html_url": html,
        "description": null,
        "fork": false,
        "url": url,
        "homepage": null,
        "language": "Rust",
        "forks": 0,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "watchers": 0,
        "size": 1,
        "default_branch": repo.default_branch,
        "open_issues": repo.issues.values().filter(|i| i.open).count(),
        "open_issues_count": repo.issues.values().filter(|i| i.open).count(),
    });
    let more = json!({
        "is_template": false,
        "topics": [],
        "has_issues": true,
        "has_projects": false,
        "has_wiki": false,
        "has_pages": false,
        "has_downloads": true,
        "has_discussions": false,
        "archived": false,
        "disabled": false,
        "visibility": if repo.private { "private" } else { "public" },
        "pushed_at": t,
        "created_at": t,
        "updated_at": t,
        "permissions": {"admin": false, "maintain": false, "push": true, "triage": true, "pull": true},
        "allow_rebase_merge": true,
        "allow_squash_merge": true,
        "allow_merge_commit": true,
        "allow_auto_merge": false,
        "delete_branch_on_merge": false,
        "allow_forking": true,
        "web_commit_signoff_required": false,
        "subscribers_count": 0,
        "network_count": 0,
        "license": null,
        "mirror_url": null,
        "clone_url": format!("{html}.git"),
        "git_url": format!("git://github.com/{}/{}.git", repo.owner, repo.name),
        "ssh_url": format!("git@github.com:{}/{}.git", repo.owner, repo.name),
        "svn_url": html,
    });
    for (key, value) in more.as_object().into_iter().flatten() {
        v[key] = value.clone();
    }
    let templated = [
        ("archive_url", "/{archive_format}{/ref}"),
        ("assignees_url", "/assignees{/user}"),
        ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"),
        ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"),
        ("commits_url", "/commits{/sha}"),
        ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"),
        ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"),
        ("git_tags_url", "/git/tags{/sha}"),
        ("issue_comment_url", "/issues/comments{/number}"),
        ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"),
        ("keys_url", "/keys{/key_id}"),
        ("labels_url", "/labels{/name}"),
        ("milestones_url", "/milestones{/number}"),
        ("notifications_url", "/notifications{?since,all,participating}"),
        ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"),
        ("statuses_url", "/statuses/{sha}"),
        ("trees_url", "/git/trees{/sha}"),
        ("contributors_url", "/contributors"),
        ("deployments_url", "/deployments"),
        ("downloads_url", "/downloads"),
        ("events_url", "/events"),
        ("forks_url", "/forks"),
        ("hooks_url", "/hooks"),
        ("languages_url", "/languages"),
        ("merges_url", "/merges"),
        ("stargazers_url", "/stargazers"),
        ("subscribers_url", "/subscribers"),
        ("subscription_url", "/subscription"),
        ("tags_url", "/tags"),
        ("teams_url", "/teams"),
    ];
    for (key, suffix) in templated {
        v[key] = json!(format!("{url}{suffix}"));
    }
    v
}

pub(crate) fn issue(base: &str, repo: &Repo, issue: &Issue) -> Value {
    let url = format!("{}/issues/{}", repo_url(base, repo), issue.number);
    let mut v = json!({
        "id": issue.id,
        "node_id": node_id("I", issue.id),
        "url": url,
        "repository_url": repo_url(base, repo),
        "labels_url": format!("{url}/labels{{/name}}"),
        "comments_url": format!("{url}/comments"),
        "events_url": format!("{url}/events"),
        "html_url": format!("{}/issues/{}", html_base(repo), issue.number),
        "number": issue.number,
        "state": if issue.open { "open" } else { "closed" },
        "state_reason": issue.state_reason,
        "title": issue.title,
        "body": issue.body,
        "user": user(base, &issue.author),
        "labels": issue.labels.iter().map(|l| json!({
            "id": user_id(l), "node_id": node_id("LA", user_id(l)), "url": format!("{}/labels/{l}", repo_url(base, repo)),
            "name": l, "color": "ededed", "default": false, "description": null,
        })).collect::<Vec<_>>(),
        "assignee": issue.assignees.first().map(|a| user(base, a)),
        "assignees": issue.assignees.iter().map(|a| user(base, a)).collect::<Vec<_>>(),
        "milestone": null,
        "locked": false,
        "active_lock_reason": null,
        "comments": repo.comments.iter().filter(|c| c.issue == issue.number).count(),
        "closed_at": issue.closed_at.map(rfc3339),
        "created_at": rfc3339(issue.created_at),
        "updated_at": rfc3339(issue.updated_at),
        "closed_by": null,
        "author_association": association(repo, &issue.author),
        "reactions": reaction_rollup(&format!("{url}/reactions"), repo.reactions.iter().filter(|r| r.issue == Some(issue.number))),
    });
    if repo.pulls.contains_key(&issue.number) {
        let pull = format!("{}/pulls/{}", repo_url(base, repo), issue.number);
        let html = format!("{}/pull/{}", html_base(repo), issue.number);
        v["pull_request"] = json!({
            "url": pull, "html_url": html, "diff_url": format!("{html}.diff"), "patch_url": format!("{html}.patch"),
            "merged_at": null,
        });
    }
    v
}

pub(crate) fn association(repo: &Repo, login: &str) -> &'static str {
    if login == repo.owner {
        "OWNER"
    } else if repo.collaborators.contains_key(login) {
        "COLLABORATOR"
    } else {
        "NONE"
    }
}

fn reaction_rollup<'a>(url: &str, reactions: impl Iterator<Item = &'a Reaction>) -> Value {
    let mut v = json!({
        "url": url, "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "confused": 0,
        "heart": 0, "hooray": 0, "eyes": 0, "rocket": 0,
    });
    for r in reactions {
        if let Some(n) = v[r.content.as_str()].as_u64() {
            v[r.content.as_str()] = json!(n + 1);
        }
        v["total_count"] = json!(v["total_count"].as_u64().unwrap_or(0) + 1);
    }
    v
}

pub(crate) fn comment(base: &str, repo: &Repo, c: &Comment) -> Value {
    let url = format!("{}/issues/comments/{}", repo_url(base, repo), c.id);
    json!({
        "id": c.id,
        "node_id": node_id("IC", c.id),
        "url": url,
        "html_url": format!("{}/issues/{}#issuecomment-{}", html_base(repo), c.issue, c.id),
        "issue_url": format!("{}/issues/{}", repo_url(base, repo), c.issue),
        "body": c.body,
        "user": user(base, &c.author),
        "created_at": rfc3339(c.created_at),
        "updated_at": rfc3339(c.updated_at),
        "author_association": association(repo, &c.author),
        "reactions": reaction_rollup(&format!("{url}/reactions"), repo.reactions.iter().filter(|r| r.comment == Some(c.id))),
    })
}

pub(crate) fn reaction(base: &str, r: &Reaction) -> Value {
    json!({
        "id": r.id,
        "node_id": node_id("REA", r.id),
        "user": user(base, &r.user),
        "content": r.content,
        "created_at": rfc3339(r.created_at),
    })
}

fn branch(base: &str, repo: &Repo, label_owner: &str, reference: &str, sha: &str, created: i64) -> Value {
    json!({
        "label": format!("{label_owner}:{reference}"),
        "ref": reference,
        "sha": sha,
        "user": user(base, label_owner),
        "repo": repository(base, repo, created),
    })
}

pub(crate) fn pull(base: &str, repo: &Repo, p: &Pull, issue: &Issue, comments: usize) -> Value {
    let api = repo_url(base, repo);
    let url = format!("{api}/pulls/{}", p.number);
    let html = format!("{}/pull/{}", html_base(repo), p.number);
    let issue_url = format!("{api}/issues/{}", p.number);
    let link = |href: &str| json!({ "href": href });
    let links = json!({
        "self": link(&url), "html": link(&html), "issue": link(&issue_url),
        "comments": link(&format!("{issue_url}/comments")),
        "review_comments": link(&format!("{url}/comments")),
        "review_comment": link(&format!("{api}/pulls/comments{{/number}}")),
        "commits": link(&format!("{url}/commits")),
        "statuses": link(&format!("{api}/statuses/{}", p.head_sha)),
    });
    let mut v = json!({
        "url": url,
        "id": p.id,
        "node_id": node_id("PR", p.id),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": issue_url,
        "commits_url": format!("{url}/commits"),
        "review_comments_url": format!("{url}/comments"),
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
        "comments_url": format!("{issue_url}/comments"),
        "statuses_url": format!("{api}/statuses/{}", p.head_sha),
        "number": p.number,
        "state": if issue.open { "open" } else { "closed" },
        "locked": false,
        "title": issue.title,
        "user": user(base, &issue.author),
        "body": issue.body,
        "labels": [],
        "milestone": null,
        "active_lock_reason": null,
        "created_at": rfc3339(issue.created_at),
        "updated_at": rfc3339(issue.updated_at),
        "closed_at": issue.closed_at.map(rfc3339),
        "merged_at": null,
        "merge_commit_sha": null,
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": branch(base, repo, &repo.owner, &p.head_ref, &p.head_sha, issue.created_at),
        "base": branch(base, repo, &repo.owner, &p.base_ref, &p.base_sha, issue.created_at),
        "_links": links,
    });
    let more = json!({
        "author_association": association(repo, &issue.author),
        "auto_merge": null,
        "draft": false,
        "merged": false,
        "mergeable": true,
        "rebaseable": true,
        "mergeable_state": "clean",
        "merged_by": null,
        "comments": comments,
        "review_comments": repo.review_comments.iter().filter(|c| c.pull == p.number).count(),
        "maintainer_can_modify": false,
        "commits": 1,
        "additions": p.files.iter().map(|f| f.additions).sum::<u64>(),
        "deletions": p.files.iter().map(|f| f.deletions).sum::<u64>(),
        "changed_files": p.files.len(),
    });
    for (key, value) in more.as_object().into_iter().flatten() {
        v[key] = value.clone();
    }
    v
}

pub(crate) fn diff_entry(repo: &Repo, p: &Pull, f: &PullFile) -> Value {
    let html = html_base(repo);
    let blob = format!("{:040x}", user_id(&f.filename));
    json!({
        "sha": blob,
        "filename": f.filename,
        "status": f.status,
        "additions": f.additions,
        "deletions": f.deletions,
        "changes": f.additions + f.deletions,
        "blob_url": format!("{html}/blob/{}/{}", p.head_sha, f.filename),
        "raw_url": format!("{html}/raw/{}/{}", p.head_sha, f.filename),
        "contents_url": format!("https://api.github.com/repos/{}/{}/contents/{}?ref={}", repo.owner, repo.name, f.filename, p.head_sha),
        "patch": f.patch,
    })
}

/// A unified diff of the pull's files, as the `application/vnd.github.diff` media type returns.
pub(crate) fn unified_diff(p: &Pull) -> String {
    let mut out = String::new();
    for f in &p.files {
        out.push_str(&format!(
            "diff --git a/{0} b/{0}\n--- a/{0}\n+++ b/{0}\n{1}\n",
            f.filename,
            f.patch.as_deref().unwrap_or("")
        ));
    }
    out
}

pub(crate) fn check_run(base: &str, repo: &Repo, c: &CheckRun) -> Value {
    let url = format!("{}/check-runs/{}", repo_url(base, repo), c.id);
    json!({
        "id": c.id,
        "node_id": node_id("CR", c.id),
        "head_sha": c.head_sha,
        "external_id": c.external_id.clone().unwrap_or_default(),
        "url": url,
        "html_url": format!("{}/runs/{}", html_base(repo), c.id),
        "details_url": c.details_url.clone().unwrap_or_else(|| format!("{}/runs/{}", html_base(repo), c.id)),
        "status": c.status,
        "conclusion": c.conclusion,
        "started_at": rfc3339(c.started_at),
        "completed_at": c.completed_at.map(rfc3339),
        "output": {
            "title": c.title,
            "summary": c.summary,
            "text": c.text,
            "annotations_count": c.annotations.len(),
            "annotations_url": format!("{url}/annotations"),
        },
        "name": c.name,
        "check_suite": { "id": c.id / 2 + 1 },
        "app": app(base),
        "pull_requests": [],
    })
}

fn app(base: &str) -> Value {
    json!({
        "id": 15368,
        "slug": "github-actions",
        "node_id": "MDM6QXBwMTUzNjg=",
        "owner": user(base, "github"),
        "name": "GitHub Actions",
        "description": "Automate your workflow from idea to production",
        "external_url": "https://help.github.com/en/actions",
        "html_url": "https://github.com/apps/github-actions",
        "created_at": "2018-07-30T09:30:17Z",
        "updated_at": "2024-04-10T20:33:16Z",
        "permissions": { "checks": "write", "statuses": "write" },
        "events": ["check_run", "status"],
    })
}

pub(crate) fn annotation(repo: &Repo, c: &CheckRun, a: &Annotation) -> Value {
    json!({
        "path": a.path,
        "start_line": a.start_line,
        "end_line": a.end_line,
        "start_column": a.start_column,
        "end_column": a.end_column,
        "annotation_level": a.level,
        "title": a.title,
        "message": a.message,
        "raw_details": a.raw_details,
        "blob_href": format!("{}/blob/{}/{}", html_base(repo), c.head_sha, a.path),
    })
}

pub(crate) fn status(base: &str, repo: &Repo, s: &CommitStatus) -> Value {
    json!({
        "url": format!("{}/statuses/{}", repo_url(base, repo), s.sha),
        "avatar_url": null,
        "id": s.id,
        "node_id": node_id("SC", s.id),
        "state": s.state,
        "description": s.description,
        "target_url": s.target_url,
        "context": s.context,
        "created_at": rfc3339(s.created_at),
        "updated_at": rfc3339(s.created_at),
        "creator": user(base, &s.creator),
    })
}

pub(crate) fn minimal_repository(base: &str, repo: &Repo) -> Value {
    let mut full = repository(base, repo, 0);
    // The minimal shape has no timestamps beyond these; keep them valid but unobtrusive.
    if let Some(map) = full.as_object_mut() {
        for key in ["created_at", "updated_at", "pushed_at"] {
            map.remove(key);
        }
    }
    full
}

pub(crate) fn deployment(base: &str, repo: &Repo, d: &Deployment) -> Value {
    let url = format!("{}/deployments/{}", repo_url(base, repo), d.id);
    json!({
        "url": url,
        "id": d.id,
        "node_id": node_id("DE", d.id),
        "sha": d.sha,
        "ref": d.reference,
        "task": d.task,
        "payload": d.payload,
        "original_environment": d.environment,
        "environment": d.environment,
        "description": d.description,
        "creator": user(base, &d.creator),
        "created_at": rfc3339(d.created_at),
        "updated_at": rfc3339(d.created_at),
        "statuses_url": format!("{url}/statuses"),
        "repository_url": repo_url(base, repo),
        "transient_environment": d.transient,
        "production_environment": d.production,
    })
}

pub(crate) fn deployment_status(base: &str, repo: &Repo, s: &DeploymentStatus) -> Value {
    let deployment_url = format!("{}/deployments/{}", repo_url(base, repo), s.deployment);
    let mut v = json!({
        "url": format!("{deployment_url}/statuses/{}", s.id),
        "id": s.id,
        "node_id": node_id("DES", s.id),
        "state": s.state,
        "creator": user(base, &s.creator),
        "description": s.description,
        "environment": s.environment,
        "target_url": s.log_url,
        "log_url": s.log_url,
        "environment_url": s.environment_url,
        "created_at": rfc3339(s.created_at),
        "updated_at": rfc3339(s.created_at),
        "deployment_url": deployment_url,
        "repository_url": repo_url(base, repo),
    });
    // Optional URLs that were never given are left out: the description types them `format: uri`,
    // which an empty string is not (a status without `environment_url` is common: `in_progress`).
    for key in ["environment_url", "log_url"] {
        if v[key].as_str().is_some_and(str::is_empty)
            && let Some(map) = v.as_object_mut()
        {
            map.remove(key);
        }
    }
    v
}

fn env_url(base: &str, repo: &Repo, e: &Environment) -> String {
    format!("{}/environments/{}", repo_url(base, repo), e.name)
}

fn reviewer(base: &str, r: &Reviewer) -> Value {
    match r {
        Reviewer::User(login) => json!({ "type": "User", "reviewer": user(base, login) }),
        Reviewer::Team { org, slug } => json!({ "type": "Team", "reviewer": team(base, org, slug) }),
    }
}

pub(crate) fn team(base: &str, org: &str, slug: &str) -> Value {
    let id = user_id(&format!("{org}/{slug}"));
    let url = format!("{base}/orgs/{org}/teams/{slug}");
    json!({
        "id": id,
        "node_id": node_id("T", id),
        "url": url,
        "html_url": format!("https://github.com/orgs/{org}/teams/{slug}"),
        "name": slug,
        "slug": slug,
        "description": null,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": format!("{url}/members{{/member}}"),
        "repositories_url": format!("{url}/repos"),
        "parent": null,
        "type": "organization",
    })
}

pub(crate) fn environment(base: &str, repo: &Repo, e: &Environment, at: i64) -> Value {
    let mut rules = Vec::new();
    if !e.reviewers.is_empty() {
        rules.push(json!({
            "id": e.id + 1,
            "node_id": node_id("GA", e.id + 1),
            "type": "required_reviewers",
            "prevent_self_review": e.prevent_self_review,
            "reviewers": e.reviewers.iter().map(|r| reviewer(base, r)).collect::<Vec<_>>(),
        }));
    }
    json!({
        "id": e.id,
        "node_id": node_id("EN", e.id),
        "name": e.name,
        "url": env_url(base, repo, e),
        "html_url": format!("{}/deployments/activity_log?environments_filter={}", html_base(repo), e.name),
        "created_at": rfc3339(at),
        "updated_at": rfc3339(at),
        "protection_rules": rules,
        "deployment_branch_policy": null,
    })
}

pub(crate) fn environment_ref(base: &str, repo: &Repo, e: &Environment, at: i64) -> Value {
    json!({
        "id": e.id,
        "node_id": node_id("EN", e.id),
        "name": e.name,
        "url": env_url(base, repo, e),
        "html_url": format!("{}/deployments/activity_log?environments_filter={}", html_base(repo), e.name),
        "created_at": rfc3339(at),
        "updated_at": rfc3339(at),
    })
}

pub(crate) fn pending_deployment(base: &str, repo: &Repo, e: &Environment, can_approve: bool) -> Value {
    json!({
        "environment": {
            "id": e.id, "node_id": node_id("EN", e.id), "name": e.name,
            "url": env_url(base, repo, e),
            "html_url": format!("{}/deployments/activity_log?environments_filter={}", html_base(repo), e.name),
        },
        "wait_timer": 0,
        "wait_timer_started_at": null,
        "current_user_can_approve": can_approve,
        "reviewers": e.reviewers.iter().map(|r| reviewer(base, r)).collect::<Vec<_>>(),
    })
}

pub(crate) fn review(base: &str, repo: &Repo, r: &Review) -> Value {
    let pull_url = format!("{}/pulls/{}", repo_url(base, repo), r.pull);
    let html = format!("{}/pull/{}#pullrequestreview-{}", html_base(repo), r.pull, r.id);
    json!({
        "id": r.id,
        "node_id": node_id("PRR", r.id),
        "user": user(base, &r.user),
        "body": r.body,
        "state": r.state,
        "html_url": html,
        "pull_request_url": pull_url,
        "_links": { "html": { "href": html }, "pull_request": { "href": pull_url } },
        "submitted_at": rfc3339(r.submitted_at),
        "commit_id": r.commit_id,
        "author_association": association(repo, &r.user),
    })
}

pub(crate) fn review_comment(base: &str, repo: &Repo, c: &ReviewComment) -> Value {
    let url = format!("{}/pulls/comments/{}", repo_url(base, repo), c.id);
    let pull_url = format!("{}/pulls/{}", repo_url(base, repo), c.pull);
    let html = format!("{}/pull/{}#discussion_r{}", html_base(repo), c.pull, c.id);
    json!({
        "url": url,
        "id": c.id,
        "node_id": node_id("PRRC", c.id),
        "pull_request_review_id": c.review,
        "diff_hunk": "@@ -1 +1 @@",
        "path": c.path,
        "commit_id": c.commit_id,
        "original_commit_id": c.commit_id,
        "user": user(base, &c.user),
        "body": c.body,
        "created_at": rfc3339(c.created_at),
        "updated_at": rfc3339(c.updated_at),
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": association(repo, &c.user),
        "_links": { "self": { "href": url }, "html": { "href": html }, "pull_request": { "href": pull_url } },
        "line": c.line,
        "side": "RIGHT",
        "subject_type": "line",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a bot's user object (the default `GITHUB_TOKEN` user authors every issue and
    /// comment a tool creates) had `[bot]` raw in its URLs, which the contract check rejects as
    /// not a `uri`.
    #[test]
    fn bot_user_urls_are_percent_encoded() {
        let u = user("http://127.0.0.1:1", "github-actions[bot]");
        assert_eq!(u["login"], "github-actions[bot]");
        assert_eq!(u["url"], "http://127.0.0.1:1/users/github-actions%5Bbot%5D");
        assert_eq!(u["type"], "Bot");
        for (key, value) in u.as_object().unwrap() {
            if key.ends_with("url") {
                let text = value.as_str().unwrap();
                assert!(!text.contains('[') && !text.contains(']'), "{key}: {text}");
            }
        }
    }
}
