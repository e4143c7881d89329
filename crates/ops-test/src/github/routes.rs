//! The GitHub stand-in's handlers, one per operation (named after the `operationId`).

#![expect(
    clippy::result_large_err,
    reason = "the error of a handler is just its early reply, built once per request"
)]

use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::model::{
    Annotation, CheckRun, CommitStatus, Deployment, DeploymentStatus, Reaction, Review, ReviewComment,
};
use super::{GithubState, as_value_list, error, json as body, new_issue};
use crate::sim::{Ctx, Reply, Route, link_header, paginate};

type R = Result<Reply, Reply>;

macro_rules! routes {
    ($($method:ident $path:literal => $handler:ident,)*) => {
        vec![$(Route::new(Method::$method, $path, |s, c| $handler(s, c).unwrap_or_else(|e| e)),)*]
    };
}

pub(super) fn all() -> Vec<Route<GithubState>> {
    routes![
        GET "/rate_limit" => rate_limit_get,
        GET "/repos/{owner}/{repo}" => repos_get,
        GET "/repos/{owner}/{repo}/pulls/{pull_number}" => pulls_get,
        GET "/repos/{owner}/{repo}/pulls/{pull_number}/files" => pulls_list_files,
        POST "/repos/{owner}/{repo}/check-runs" => checks_create,
        GET "/repos/{owner}/{repo}/check-runs/{check_run_id}" => checks_get,
        PATCH "/repos/{owner}/{repo}/check-runs/{check_run_id}" => checks_update,
        GET "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations" => checks_list_annotations,
        GET "/repos/{owner}/{repo}/commits/{ref}/check-runs" => checks_list_for_ref,
        POST "/repos/{owner}/{repo}/statuses/{sha}" => repos_create_commit_status,
        GET "/repos/{owner}/{repo}/commits/{ref}/statuses" => repos_list_commit_statuses_for_ref,
        GET "/repos/{owner}/{repo}/commits/{ref}/status" => repos_get_combined_status_for_ref,
        GET "/repos/{owner}/{repo}/issues" => issues_list_for_repo,
        POST "/repos/{owner}/{repo}/issues" => issues_create,
        GET "/repos/{owner}/{repo}/issues/{issue_number}" => issues_get,
        PATCH "/repos/{owner}/{repo}/issues/{issue_number}" => issues_update,
        GET "/repos/{owner}/{repo}/issues/{issue_number}/comments" => issues_list_comments,
        POST "/repos/{owner}/{repo}/issues/{issue_number}/comments" => issues_create_comment,
        GET "/repos/{owner}/{repo}/issues/comments/{comment_id}" => issues_get_comment,
        PATCH "/repos/{owner}/{repo}/issues/comments/{comment_id}" => issues_update_comment,
        POST "/repos/{owner}/{repo}/issues/{issue_number}/reactions" => reactions_create_for_issue,
        POST "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions" => reactions_create_for_issue_comment,
        GET "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions" => reactions_list_for_issue_comment,
        POST "/repos/{owner}/{repo}/pulls/{pull_number}/reviews" => pulls_create_review,
        GET "/repos/{owner}/{repo}/pulls/{pull_number}/reviews" => pulls_list_reviews,
        POST "/repos/{owner}/{repo}/pulls/{pull_number}/comments" => pulls_create_review_comment,
        GET "/repos/{owner}/{repo}/pulls/{pull_number}/comments" => pulls_list_review_comments,
        PATCH "/repos/{owner}/{repo}/pulls/comments/{comment_id}" => pulls_update_review_comment,
        POST "/repos/{owner}/{repo}/deployments" => repos_create_deployment,
        GET "/repos/{owner}/{repo}/deployments" => repos_list_deployments,
        GET "/repos/{owner}/{repo}/deployments/{deployment_id}" => repos_get_deployment,
        POST "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses" => repos_create_deployment_status,
        GET "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses" => repos_list_deployment_statuses,
        GET "/repos/{owner}/{repo}/environments" => repos_get_all_environments,
        GET "/repos/{owner}/{repo}/environments/{environment_name}" => repos_get_environment,
        GET "/repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments" => actions_get_pending_deployments_for_run,
        POST "/repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments" => actions_review_pending_deployments_for_run,
        GET "/repos/{owner}/{repo}/actions/runs/{run_id}/approvals" => actions_get_reviews_for_run,
        GET "/repos/{owner}/{repo}/collaborators/{username}/permission" => repos_get_collaborator_permission_level,
        GET "/orgs/{org}/teams/{team_slug}/memberships/{username}" => teams_get_membership_for_user_in_org,
        GET "/orgs/{org}/teams/{team_slug}/members" => teams_list_members_in_org,
    ]
}

fn not_found() -> Reply {
    error(StatusCode::NOT_FOUND, "Not Found")
}

fn invalid(message: &str) -> Reply {
    error(StatusCode::UNPROCESSABLE_ENTITY, message)
}

fn num(ctx: &Ctx, name: &str) -> Result<u64, Reply> {
    ctx.param(name).parse().map_err(|_| not_found())
}

fn body_of(ctx: &Ctx) -> Result<Value, Reply> {
    match ctx.json() {
        Some(v @ Value::Object(_)) => Ok(v),
        _ => Err(error(StatusCode::BAD_REQUEST, "Problems parsing JSON")),
    }
}

fn str_field(b: &Value, name: &str) -> Option<String> {
    b.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// A JSON array reply, one page of it, with GitHub's `Link` header.
fn page(ctx: &Ctx, items: &[Value], default: usize, max: usize) -> Reply {
    let (p, per_page) = ctx.page(default, max);
    let (slice, last) = paginate(items, p, per_page);
    let mut reply = Reply::json(200, &Value::Array(slice));
    link(ctx, &mut reply, p, last);
    reply
}

fn link(ctx: &Ctx, reply: &mut Reply, page: usize, last: usize) {
    if let Some(link) = link_header(&format!("{}{}", ctx.public_url, ctx.path), &ctx.query, page, last) {
        reply.set_header("link", &link);
    }
}

macro_rules! repo {
    ($s:expr, $ctx:expr) => {
        $s.repo($ctx.param("owner"), $ctx.param("repo"))
            .ok_or_else(not_found)?
    };
}

macro_rules! repo_mut {
    ($s:expr, $ctx:expr) => {
        $s.repo_mut($ctx.param("owner"), $ctx.param("repo"))
            .ok_or_else(not_found)?
    };
}

fn rate_limit_get(s: &mut GithubState, ctx: &Ctx) -> R {
    let b = s.budget(ctx.token().unwrap_or_default());
    let core = json!({ "limit": b.limit, "remaining": b.remaining(), "reset": b.reset, "used": b.used, "resource": "core" });
    let other = |limit: u64| json!({ "limit": limit, "remaining": limit, "reset": b.reset, "used": 0 });
    Ok(Reply::json(
        200,
        &json!({ "resources": { "core": core, "search": other(30), "graphql": other(5_000) }, "rate": core }),
    ))
}

fn repos_get(s: &mut GithubState, ctx: &Ctx) -> R {
    let repo = repo!(s, ctx);
    Ok(Reply::json(
        200,
        &body::repository(&ctx.public_url, repo, crate::sim::Clock::default().now()),
    ))
}

fn pulls_get(s: &mut GithubState, ctx: &Ctx) -> R {
    let n = num(ctx, "pull_number")?;
    let repo = repo!(s, ctx);
    let (pull, issue) = repo
        .pulls
        .get(&n)
        .zip(repo.issues.get(&n))
        .ok_or_else(not_found)?;
    if ctx.header("accept").is_some_and(|a| a.contains("diff")) {
        if pull.diff_too_large {
            return Ok(error(
                StatusCode::NOT_ACCEPTABLE,
                "Sorry, the diff exceeded the maximum number of lines (20000). Consider using 'List pull requests files' API or locally cloning the repository instead.",
            ));
        }
        return Ok(Reply::text(
            200,
            "application/vnd.github.diff; charset=utf-8",
            body::unified_diff(pull),
        ));
    }
    let comments = repo.comments.iter().filter(|c| c.issue == n).count();
    Ok(Reply::json(
        200,
        &body::pull(&ctx.public_url, repo, pull, issue, comments),
    ))
}

fn pulls_list_files(s: &mut GithubState, ctx: &Ctx) -> R {
    let n = num(ctx, "pull_number")?;
    let repo = repo!(s, ctx);
    let pull = repo.pulls.get(&n).ok_or_else(not_found)?;
    let items: Vec<Value> = pull
        .files
        .iter()
        .map(|f| body::diff_entry(repo, pull, f))
        .collect();
    Ok(page(ctx, &items, 30, 100))
}

fn annotations(b: &Value) -> Result<Vec<Annotation>, Reply> {
    let Some(list) = b.pointer("/output/annotations").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    // GitHub's limit: more must go in further update requests, which append.
    if list.len() > 50 {
        return Err(invalid("Only 50 annotations are allowed per request."));
    }
    list.iter()
        .map(|a| {
            let line = |k: &str| a.get(k).and_then(Value::as_u64);
            let text = |k: &str| a.get(k).and_then(Value::as_str).map(str::to_owned);
            Ok(Annotation {
                path: text("path").ok_or_else(|| invalid("annotation `path` wasn't supplied."))?,
                start_line: line("start_line")
                    .ok_or_else(|| invalid("annotation `start_line` wasn't supplied."))?,
                end_line: line("end_line")
                    .ok_or_else(|| invalid("annotation `end_line` wasn't supplied."))?,
                start_column: line("start_column"),
                end_column: line("end_column"),
                level: text("annotation_level")
                    .filter(|l| ["notice", "warning", "failure"].contains(&l.as_str()))
                    .ok_or_else(|| {
                        invalid("annotation `annotation_level` is not notice, warning or failure.")
                    })?,
                message: text("message").ok_or_else(|| invalid("annotation `message` wasn't supplied."))?,
                title: text("title"),
                raw_details: text("raw_details"),
            })
        })
        .collect()
}

fn apply_check_fields(run: &mut CheckRun, b: &Value, now: i64) -> Result<(), Reply> {
    if let Some(name) = str_field(b, "name") {
        run.name = name;
    }
    if let Some(status) = str_field(b, "status") {
        run.status = status;
    }
    if let Some(conclusion) = str_field(b, "conclusion") {
        run.conclusion = Some(conclusion);
        run.status = "completed".to_owned();
    }
    if run.status == "completed" && run.conclusion.is_none() {
        return Err(invalid("`conclusion` is required when `status` is `completed`."));
    }
    if run.status == "completed" && run.completed_at.is_none() {
        run.completed_at = Some(now);
    }
    run.details_url = str_field(b, "details_url").or(run.details_url.take());
    run.external_id = str_field(b, "external_id").or(run.external_id.take());
    if let Some(output) = b.get("output") {
        run.title = str_field(output, "title").or(run.title.take());
        run.summary = str_field(output, "summary").or(run.summary.take());
        run.text = str_field(output, "text").or(run.text.take());
    }
    run.annotations.extend(annotations(b)?);
    Ok(())
}

fn checks_create(s: &mut GithubState, ctx: &Ctx) -> R {
    let b = body_of(ctx)?;
    let (id, now) = (s.next_id(), s.now());
    let repo = repo_mut!(s, ctx);
    let name =
        str_field(&b, "name").ok_or_else(|| invalid("Invalid request.\n\n\"name\" wasn't supplied."))?;
    let head_sha = str_field(&b, "head_sha")
        .ok_or_else(|| invalid("Invalid request.\n\n\"head_sha\" wasn't supplied."))?;
    let mut run = CheckRun {
        id,
        name,
        head_sha,
        status: "queued".to_owned(),
        conclusion: None,
        external_id: None,
        details_url: None,
        started_at: now,
        completed_at: None,
        title: None,
        summary: None,
        text: None,
        annotations: Vec::new(),
    };
    apply_check_fields(&mut run, &b, now)?;
    let reply = Reply::json(201, &body::check_run(&ctx.public_url, repo, &run));
    repo.check_runs.push(run);
    Ok(reply)
}

fn checks_get(s: &mut GithubState, ctx: &Ctx) -> R {
    let id = num(ctx, "check_run_id")?;
    let repo = repo!(s, ctx);
    let run = repo
        .check_runs
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(not_found)?;
    Ok(Reply::json(200, &body::check_run(&ctx.public_url, repo, run)))
}

fn checks_update(s: &mut GithubState, ctx: &Ctx) -> R {
    let id = num(ctx, "check_run_id")?;
    let b = body_of(ctx)?;
    let now = s.now();
    let repo = repo_mut!(s, ctx);
    let at = repo
        .check_runs
        .iter()
        .position(|c| c.id == id)
        .ok_or_else(not_found)?;
    // Validate on a copy so a rejected update changes nothing.
    let mut run = repo.check_runs[at].clone();
    apply_check_fields(&mut run, &b, now)?;
    let reply = Reply::json(200, &body::check_run(&ctx.public_url, repo, &run));
    repo.check_runs[at] = run;
    Ok(reply)
}

fn checks_list_annotations(s: &mut GithubState, ctx: &Ctx) -> R {
    let id = num(ctx, "check_run_id")?;
    let repo = repo!(s, ctx);
    let run = repo
        .check_runs
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(not_found)?;
    let items: Vec<Value> = run
        .annotations
        .iter()
        .map(|a| body::annotation(repo, run, a))
        .collect();
    Ok(page(ctx, &items, 30, 100))
}

fn checks_list_for_ref(s: &mut GithubState, ctx: &Ctx) -> R {
    let repo = repo!(s, ctx);
    let reference = ctx.param("ref");
    let runs: Vec<Value> = repo
        .check_runs
        .iter()
        .rev()
        .filter(|c| c.head_sha == reference)
        .filter(|c| ctx.query("check_name").is_none_or(|n| n == c.name))
        .filter(|c| ctx.query("status").is_none_or(|st| st == c.status))
        .map(|c| body::check_run(&ctx.public_url, repo, c))
        .collect();
    let (p, per_page) = ctx.page(30, 100);
    let (slice, last) = paginate(&runs, p, per_page);
    let mut reply = Reply::json(200, &json!({ "total_count": runs.len(), "check_runs": slice }));
    link(ctx, &mut reply, p, last);
    Ok(reply)
}

fn repos_create_commit_status(s: &mut GithubState, ctx: &Ctx) -> R {
    let b = body_of(ctx)?;
    let (id, now, creator) = (s.next_id(), s.now(), s.user_of(ctx));
    let repo = repo_mut!(s, ctx);
    let state = str_field(&b, "state")
        .filter(|st| ["error", "failure", "pending", "success"].contains(&st.as_str()))
        .ok_or_else(|| invalid("Validation Failed: `state` must be error, failure, pending or success"))?;
    let status = CommitStatus {
        id,
        sha: ctx.param("sha").to_owned(),
        state,
        context: str_field(&b, "context").unwrap_or_else(|| "default".to_owned()),
        description: str_field(&b, "description"),
        target_url: str_field(&b, "target_url"),
        creator,
        created_at: now,
    };
    let reply = Reply::json(201, &body::status(&ctx.public_url, repo, &status));
    repo.statuses.push(status);
    Ok(reply)
}

fn repos_list_commit_statuses_for_ref(s: &mut GithubState, ctx: &Ctx) -> R {
    let repo = repo!(s, ctx);
    let items: Vec<Value> = repo
        .statuses
        .iter()
        .rev()
        .filter(|st| st.sha == ctx.param("ref"))
        .map(|st| body::status(&ctx.public_url, repo, st))
        .collect();
    Ok(page(ctx, &items, 30, 100))
}

fn repos_get_combined_status_for_ref(s: &mut GithubState, ctx: &Ctx) -> R {
    let repo = repo!(s, ctx);
    let sha = ctx.param("ref");
    // The newest status of each context counts.
    let mut latest: Vec<&CommitStatus> = Vec::new();
    for st in repo.statuses.iter().rev().filter(|st| st.sha == sha) {
        if !latest.iter().any(|l| l.context == st.context) {
            latest.push(st);
        }
    }
    let state = if latest
        .iter()
        .any(|st| st.state == "error" || st.state == "failure")
    {
        "failure"
    } else if latest.is_empty() || latest.iter().any(|st| st.state == "pending") {
        "pending"
    } else {
        "success"
    };
    let url = format!(
        "{}/repos/{}/{}/commits/{sha}",
        ctx.public_url, repo.owner, repo.name
    );
    Ok(Reply::json(
        200,
        &json!({
            "state": state,
            "statuses": latest.iter().map(|st| {
                let mut v = body::status(&ctx.public_url, repo, st);
                if let Some(map) = v.as_object_mut() { map.remove("creator"); }
                v
            }).collect::<Vec<_>>(),
            "sha": sha,
            "total_count": latest.len(),
            "repository": body::minimal_repository(&ctx.public_url, repo),
            "commit_url": url,
            "url": format!("{url}/status"),
        }),
    ))
}

fn issues_create(s: &mut GithubState, ctx: &Ctx) -> R {
    let b = body_of(ctx)?;
    let (id, now, author) = (s.next_id(), s.now(), s.user_of(ctx));
    let repo = repo_mut!(s, ctx);
    let title = match b.get("title") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(invalid("Validation Failed: `title` wasn't supplied.")),
    };
    let number = repo.next_number;
    repo.next_number += 1;
    let mut issue = new_issue(id, number, &title, str_field(&b, "body"), &author, now);
    issue.labels = as_value_list(b.get("labels"));
    issue.assignees = as_value_list(b.get("assignees"));
    if let Some(a) = str_field(&b, "assignee") {
        issue.assignees.push(a);
    }
    repo.issues.insert(number, issue);
    let reply = Reply::json(201, &body::issue(&ctx.public_url, repo, &repo.issues[&number]));
    Ok(reply.header(
        "location",
        &format!(
            "{}/repos/{}/{}/issues/{number}",
            ctx.public_url, repo.owner, repo.name
        ),
    ))
}

/// Issues and pull requests of a repository: `state` (`open` by default, `closed`, `all`), `labels`
/// (all of them), `creator`, `since` (updated at or after), sorted by `created` (default), `updated`
/// or `comments`, newest first unless `direction=asc`.
fn issues_list_for_repo(s: &mut GithubState, ctx: &Ctx) -> R {
    let repo = repo!(s, ctx);
    let state = ctx.query("state").unwrap_or("open");
    if !matches!(state, "open" | "closed" | "all") {
        return Err(invalid("Validation Failed: `state` must be open, closed or all"));
    }
    let labels: Vec<&str> = ctx
        .query("labels")
        .map(|l| l.split(',').map(str::trim).filter(|l| !l.is_empty()).collect())
        .unwrap_or_default();
    let creator = ctx.query("creator");
    let since = ctx.query("since");
    let comments = |n: u64| repo.comments.iter().filter(|c| c.issue == n).count();
    let mut issues: Vec<&super::Issue> = repo
        .issues
        .values()
        .filter(|i| state == "all" || i.open == (state == "open"))
        .filter(|i| labels.iter().all(|l| i.labels.iter().any(|have| have == l)))
        .filter(|i| creator.is_none_or(|c| i.author.eq_ignore_ascii_case(c)))
        // RFC 3339 in UTC sorts as text.
        .filter(|i| since.is_none_or(|t| crate::sim::rfc3339(i.updated_at).as_str() >= t))
        .collect();
    match ctx.query("sort").unwrap_or("created") {
        "created" => issues.sort_by_key(|i| (i.created_at, i.number)),
        "updated" => issues.sort_by_key(|i| (i.updated_at, i.number)),
        "comments" => issues.sort_by_key(|i| (comments(i.number), i.number)),
        _ => {
            return Err(invalid(
                "Validation Failed: `sort` must be created, updated or comments",
            ));
        }
    }
    if ctx.query("direction") != Some("asc") {
        issues.reverse();
    }
    let items: Vec<Value> = issues
        .into_iter()
        .map(|i| body::issue(&ctx.public_url, repo, i))
        .collect();
    Ok(page(ctx, &items, 30, 100))
}

fn issues_get(s: &mut GithubState, ctx: &Ctx) -> R {
    let n = num(ctx, "issue_number")?;
    let repo = repo!(s, ctx);
    let issue = repo.issues.get(&n).ok_or_else(not_found)?;
    Ok(Reply::json(200, &body::issue(&ctx.public_url, repo, issue)))
}

fn issues_update(s: &mut GithubState, ctx: &Ctx) -> R {
    let n = num(ctx, "issue_number")?;
    let b = body_of(ctx)?;
    let now = s.now();
    let repo = repo_mut!(s, ctx);
    let issue = repo.issues.get_mut(&n).ok_or_else(not_found)?;
    let mut updated = issue.clone();
    if let Some(t) = b.get("title").filter(|t| !t.is_null()) {
        updated.title = t.as_str().map_or_else(|| t.to_string(), str::to_owned);
    }
    if b.get("body").is_some() {
        updated.body = str_field(&b, "body");
    }
    match b.get("state").and_then(Value::as_str) {
        Some("closed") if updated.open => {
            updated.open = false;
            updated.closed_at = Some(now);
            updated.state_reason =
                Some(str_field(&b, "state_reason").unwrap_or_else(|| "completed".to_owned()));
        }
        Some("open") if !updated.open => {
            updated.open = true;
            updated.closed_at = None;
            updated.state_reason = Some("reopened".to_owned());
        }
        Some("open" | "closed") | None => {}
        Some(_) => return Err(invalid("Validation Failed: `state` must be open or closed")),
    }
    if b.get("labels").is_some() {
        updated.labels = as_value_list(b.get("labels"));
    }
    if b.get("assignees").is_some() {
        updated.assignees = as_value_list(b.get("assignees"));
    }
    updated.updated_at = now;
    *issue = updated;
    Ok(Reply::json(
        200,
        &body::issue(&ctx.public_url, repo, &repo.issues[&n]),
    ))
}

fn issues_list_comments(s: &mut GithubState, ctx: &Ctx) -> R {
    let n = num(ctx, "issue_number")?;
    let repo = repo!(s, ctx);
    if !repo.issues.contains_key(&n) {
        return Err(not_found());
    }
    let since = ctx.query("since");
    let items: Vec<Value> = repo
        .comments
        .iter()
        .filter(|c| c.issue == n)
        // RFC 3339 in UTC sorts as text.
        .filter(|c| since.is_none_or(|t| crate::sim::rfc3339(c.updated_at).as_str() >= t))
        .map(|c| body::comment(&ctx.public_url, repo, c))
        .collect();
    Ok(page(ctx, &items, 30, 100))
}

fn issues_create_comment(s: &mut GithubState, ctx: &Ctx) -> R {
    let n = num(ctx, "issue_number")?;
    let b = body_of(ctx)?;
    let (id, now, author) = (s.next_id(), s.now(), s.user_of(ctx));
    let repo = repo_mut!(s, ctx);
    if !repo.issues.contains_key(&n) {
        return Err(not_found());
    }
    let text = str_field(&b, "body").ok_or_else(|| invalid("Validation Failed: `body` wasn't supplied."))?;
    repo.comments.push(super::Comment {
        id,
        issue: n,
        author,
        body: text,
        created_at: now,
        updated_at: now,
    });
    let c = repo.comments.last().ok_or_else(not_found)?;
    Ok(Reply::json(201, &body::comment(&ctx.public_url, repo, c)))
}

fn issues_get_comment(s: &mut GithubState, ctx: &Ctx) -> R {
    let id = num(ctx, "comment_id")?;
    let repo = repo!(s, ctx);
    let c = repo.comments.iter().find(|c| c.id == id).ok_or_else(not_found)?;
    Ok(Reply::json(200, &body::comment(&ctx.public_url, repo, c)))
}

fn issues_update_comment(s: &mut GithubState, ctx: &Ctx) -> R {
    let id = num(ctx, "comment_id")?;
    let b = body_of(ctx)?;
    let now = s.now();
    let repo = repo_mut!(s, ctx);
    let text = str_field(&b, "body").ok_or_else(|| invalid("Validation Failed: `body` wasn't supplied."))?;
    let c = repo
        .comments
        .iter_mut()
        .find(|c| c.id == id)
        .ok_or_else(not_found)?;
    c.body = text;
    c.updated_at = now;
    let c = c.clone();
    Ok(Reply::json(200, &body::comment(&ctx.public_url, repo, &c)))
}

fn react(s: &mut GithubState, ctx: &Ctx, issue: Option<u64>, comment: Option<u64>) -> R {
    let b = body_of(ctx)?;
    let (id, now, user) = (s.next_id(), s.now(), s.user_of(ctx));
    let repo = repo_mut!(s, ctx);
    let content = str_field(&b, "content")
        .filter(|c| {
            [
                "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes",
            ]
            .contains(&c.as_str())
        })
        .ok_or_else(|| invalid("Validation Failed: `content` is not a valid reaction"))?;
    // The same reaction by the same user is answered with the existing one (200, not 201).
    if let Some(existing) = repo
        .reactions
        .iter()
        .find(|r| r.issue == issue && r.comment == comment && r.user == user && r.content == content)
    {
        return Ok(Reply::json(200, &body::reaction(&ctx.public_url, existing)));
    }
    let r = Reaction {
        id,
        issue,
        comment,
        user,
        content,
        created_at: now,
    };
    let reply = Reply::json(201, &body::reaction(&ctx.public_url, &r));
    repo.reactions.push(r);
    Ok(reply)
}

fn reactions_create_for_issue(s: &mut GithubState, ctx: &Ctx) -> R {
    let n = num(ctx, "issue_number")?;
    if !repo!(s, ctx).issues.contains_key(&n) {
        return Err(not_found());
    }
    react(s, ctx, Some(n), None)
}

fn reactions_create_for_issue_comment(s: &mut GithubState, ctx: &Ctx) -> R {
    let id = num(ctx, "comment_id")?;
    if !repo!(s, ctx).comments.iter().any(|c| c.id == id) {
        return Err(not_found());
    }
    react(s, ctx, None, Some(id))
}

fn reactions_list_for_issue_comment(s: &mut GithubState, ctx: &Ctx) -> R {
    let id = num(ctx, "comment_id")?;
    let repo = repo!(s, ctx);
    if !repo.comments.iter().any(|c| c.id == id) {
        return Err(not_found());
    }
    let items: Vec<Value> = repo
        .reactions
        .iter()
        .filter(|r| r.comment == Some(id))
        .filter(|r| ctx.query("content").is_none_or(|c| c == r.content))
        .map(|r| body::reaction(&ctx.public_url, r))
        .collect();
    Ok(page(ctx, &items, 30, 100))
}

fn pulls_create_review(s: &mut GithubState, ctx: &Ctx) -> R {
    let n = num(ctx, "pull_number")?;
    let b = ctx.json().unwrap_or_else(|| json!({}));
    let (id, now, user) = (s.next_id(), s.now(), s.user_of(ctx));
    let count = b.get("comments").and_then(Value::as_array).map_or(0, Vec::len);
    let comment_ids: Vec<u64> = (0..count).map(|_| s.next_id()).collect();
    let repo = repo_mut!(s, ctx);
    let head_sha = repo.pulls.get(&n).ok_or_else(not_found)?.head_sha.clone();
    let text = str_field(&b, "body").unwrap_or_default();
    let state = match b.get("event").and_then(Value::as_str) {
        Some("APPROVE") => "APPROVED",
        Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
        Some("COMMENT") => "COMMENTED",
        None => "PENDING",
        Some(_) => {
            return Err(invalid(
                "Validation Failed: `event` must be APPROVE, REQUEST_CHANGES or COMMENT",
            ));
        }
    };
    if matches!(state, "CHANGES_REQUESTED" | "COMMENTED") && text.is_empty() {
        return Err(invalid("Validation Failed: `body` is required for this event"));
    }
    let commit_id = str_field(&b, "commit_id").unwrap_or(head_sha);
    for (c, cid) in b
        .get("comments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .zip(comment_ids)
    {
        let path = str_field(c, "path")
            .ok_or_else(|| invalid("Validation Failed: comment `path` wasn't supplied."))?;
        repo.review_comments.push(ReviewComment {
            id: cid,
            pull: n,
            review: Some(id),
            user: user.clone(),
            body: str_field(c, "body").unwrap_or_default(),
            path,
            line: c.get("line").and_then(Value::as_u64),
            commit_id: commit_id.clone(),
            created_at: now,
            updated_at: now,
        });
    }
    let review = Review {
        id,
        pull: n,
        user,
        body: text,
        state: state.to_owned(),
        commit_id,
        submitted_at: now,
    };
    let reply = Reply::json(200, &body::review(&ctx.public_url, repo, &review));
    repo.reviews.push(review);
    Ok(reply)
}

fn pulls_list_reviews(s: &mut GithubState, ctx: &Ctx) -> R {
    let n = num(ctx, "pull_number")?;
    let repo = repo!(s, ctx);
    if !repo.pulls.contains_key(&n) {
        return Err(not_found());
    }
    let items: Vec<Value> = repo
        .reviews
        .iter()
        .filter(|r| r.pull == n)
        .map(|r| body::review(&ctx.public_url, repo, r))
        .collect();
    Ok(page(ctx, &items, 30, 100))
}

fn pulls_create_review_comment(s: &mut GithubState, ctx: &Ctx) -> R {
    let n = num(ctx, "pull_number")?;
    let b = body_of(ctx)?;
    let (id, now, user) = (s.next_id(), s.now(), s.user_of(ctx));
    let repo = repo_mut!(s, ctx);
    if !repo.pulls.contains_key(&n) {
        return Err(not_found());
    }
    let missing = |f: &str| invalid(&format!("Validation Failed: `{f}` wasn't supplied."));
    let comment = ReviewComment {
        id,
        pull: n,
        review: None,
        user,
        body: str_field(&b, "body").ok_or_else(|| missing("body"))?,
        path: str_field(&b, "path").ok_or_else(|| missing("path"))?,
        line: b.get("line").and_then(Value::as_u64),
        commit_id: str_field(&b, "commit_id").ok_or_else(|| missing("commit_id"))?,
        created_at: now,
        updated_at: now,
    };
    let reply = Reply::json(201, &body::review_comment(&ctx.public_url, repo, &comment));
    repo.review_comments.push(comment);
    Ok(reply)
}

fn pulls_list_review_comments(s: &mut GithubState, ctx: &Ctx) -> R {
    let n = num(ctx, "pull_number")?;
    let repo = repo!(s, ctx);
    let items: Vec<Value> = repo
        .review_comments
        .iter()
        .filter(|c| c.pull == n)
        .map(|c| body::review_comment(&ctx.public_url, repo, c))
        .collect();
    Ok(page(ctx, &items, 30, 100))
}

fn pulls_update_review_comment(s: &mut GithubState, ctx: &Ctx) -> R {
    let id = num(ctx, "comment_id")?;
    let b = body_of(ctx)?;
    let now = s.now();
    let repo = repo_mut!(s, ctx);
    let text = str_field(&b, "body").ok_or_else(|| invalid("Validation Failed: `body` wasn't supplied."))?;
    let c = repo
        .review_comments
        .iter_mut()
        .find(|c| c.id == id)
        .ok_or_else(not_found)?;
    c.body = text;
    c.updated_at = now;
    let c = c.clone();
    Ok(Reply::json(200, &body::review_comment(&ctx.public_url, repo, &c)))
}

fn repos_create_deployment(s: &mut GithubState, ctx: &Ctx) -> R {
    let b = body_of(ctx)?;
    let (id, now, creator) = (s.next_id(), s.now(), s.user_of(ctx));
    let repo = repo_mut!(s, ctx);
    let reference =
        str_field(&b, "ref").ok_or_else(|| invalid("Validation Failed: `ref` wasn't supplied."))?;
    let sha = if reference.len() == 40 && reference.chars().all(|c| c.is_ascii_hexdigit()) {
        reference.clone()
    } else {
        repo.pulls.values().find(|p| p.head_ref == reference).map_or_else(
            || format!("{:040x}", super::json::user_id(&reference)),
            |p| p.head_sha.clone(),
        )
    };
    let environment = str_field(&b, "environment").unwrap_or_else(|| "production".to_owned());
    let d = Deployment {
        id,
        sha,
        reference,
        task: str_field(&b, "task").unwrap_or_else(|| "deploy".to_owned()),
        payload: b.get("payload").cloned().unwrap_or_else(|| json!({})),
        production: b
            .get("production_environment")
            .and_then(Value::as_bool)
            .unwrap_or(environment == "production"),
        transient: b
            .get("transient_environment")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        environment,
        description: str_field(&b, "description"),
        creator,
        created_at: now,
    };
    let reply = Reply::json(201, &body::deployment(&ctx.public_url, repo, &d));
    repo.deployments.push(d);
    Ok(reply)
}

fn repos_list_deployments(s: &mut GithubState, ctx: &Ctx) -> R {
    let repo = repo!(s, ctx);
    let items: Vec<Value> = repo
        .deployments
        .iter()
        .rev()
        .filter(|d| ctx.query("sha").is_none_or(|v| v == d.sha))
        .filter(|d| ctx.query("ref").is_none_or(|v| v == d.reference))
        .filter(|d| ctx.query("task").is_none_or(|v| v == d.task))
        .filter(|d| ctx.query("environment").is_none_or(|v| v == d.environment))
        .map(|d| body::deployment(&ctx.public_url, repo, d))
        .collect();
    Ok(page(ctx, &items, 30, 100))
}

fn repos_get_deployment(s: &mut GithubState, ctx: &Ctx) -> R {
    let id = num(ctx, "deployment_id")?;
    let repo = repo!(s, ctx);
    let d = repo
        .deployments
        .iter()
        .find(|d| d.id == id)
        .ok_or_else(not_found)?;
    Ok(Reply::json(200, &body::deployment(&ctx.public_url, repo, d)))
}

fn repos_create_deployment_status(s: &mut GithubState, ctx: &Ctx) -> R {
    let id = num(ctx, "deployment_id")?;
    let b = body_of(ctx)?;
    let (now, creator) = (s.now(), s.user_of(ctx));
    let ids: Vec<u64> = (0..8).map(|_| s.next_id()).collect();
    let repo = repo_mut!(s, ctx);
    let d = repo
        .deployments
        .iter()
        .find(|d| d.id == id)
        .ok_or_else(not_found)?
        .clone();
    let state = str_field(&b, "state")
        .filter(|st| {
            [
                "error",
                "failure",
                "inactive",
                "in_progress",
                "queued",
                "pending",
                "success",
            ]
            .contains(&st.as_str())
        })
        .ok_or_else(|| invalid("Validation Failed: `state` is not a valid deployment state"))?;
    let environment = str_field(&b, "environment").unwrap_or_else(|| d.environment.clone());
    let mut ids = ids.into_iter();
    // `auto_inactive` (default true): a new success marks earlier successful deployments of
    // the same environment inactive, as GitHub does.
    if state == "success" && b.get("auto_inactive").and_then(Value::as_bool) != Some(false) {
        let earlier: Vec<u64> = repo
            .deployments
            .iter()
            .filter(|o| o.id != id && o.environment == environment)
            .filter(|o| {
                repo.deployment_statuses
                    .iter()
                    .rev()
                    .find(|st| st.deployment == o.id)
                    .is_some_and(|st| st.state == "success")
            })
            .map(|o| o.id)
            .collect();
        for other in earlier {
            repo.deployment_statuses.push(DeploymentStatus {
                id: ids.next().unwrap_or_default(),
                deployment: other,
                state: "inactive".to_owned(),
                description: String::new(),
                environment: environment.clone(),
                environment_url: String::new(),
                log_url: String::new(),
                creator: creator.clone(),
                created_at: now,
            });
        }
    }
    let status = DeploymentStatus {
        id: ids.next().unwrap_or_default(),
        deployment: id,
        state,
        description: str_field(&b, "description").unwrap_or_default(),
        environment,
        environment_url: str_field(&b, "environment_url").unwrap_or_default(),
        log_url: str_field(&b, "log_url")
            .or_else(|| str_field(&b, "target_url"))
            .unwrap_or_default(),
        creator,
        created_at: now,
    };
    let reply = Reply::json(201, &body::deployment_status(&ctx.public_url, repo, &status));
    repo.deployment_statuses.push(status);
    Ok(reply)
}

fn repos_list_deployment_statuses(s: &mut GithubState, ctx: &Ctx) -> R {
    let id = num(ctx, "deployment_id")?;
    let repo = repo!(s, ctx);
    if !repo.deployments.iter().any(|d| d.id == id) {
        return Err(not_found());
    }
    let items: Vec<Value> = repo
        .deployment_statuses
        .iter()
        .rev()
        .filter(|st| st.deployment == id)
        .map(|st| body::deployment_status(&ctx.public_url, repo, st))
        .collect();
    Ok(page(ctx, &items, 30, 100))
}

fn repos_get_all_environments(s: &mut GithubState, ctx: &Ctx) -> R {
    let at = crate::sim::Clock::default().now();
    let repo = repo!(s, ctx);
    let envs: Vec<Value> = repo
        .environments
        .iter()
        .map(|e| body::environment(&ctx.public_url, repo, e, at))
        .collect();
    let (p, per_page) = ctx.page(30, 100);
    let (slice, last) = paginate(&envs, p, per_page);
    let mut reply = Reply::json(200, &json!({ "total_count": envs.len(), "environments": slice }));
    link(ctx, &mut reply, p, last);
    Ok(reply)
}

fn repos_get_environment(s: &mut GithubState, ctx: &Ctx) -> R {
    let at = crate::sim::Clock::default().now();
    let repo = repo!(s, ctx);
    let e = repo
        .environments
        .iter()
        .find(|e| e.name == ctx.param("environment_name"))
        .ok_or_else(not_found)?;
    Ok(Reply::json(200, &body::environment(&ctx.public_url, repo, e, at)))
}

fn actions_get_pending_deployments_for_run(s: &mut GithubState, ctx: &Ctx) -> R {
    let run_id = num(ctx, "run_id")?;
    let user = s.user_of(ctx);
    let repo = repo!(s, ctx);
    let run = repo.runs.get(&run_id).ok_or_else(not_found)?;
    let items: Vec<Value> = run
        .waiting
        .iter()
        .filter_map(|name| repo.environments.iter().find(|e| e.name == *name))
        .map(|e| body::pending_deployment(&ctx.public_url, repo, e, s.can_approve(e, &user)))
        .collect();
    Ok(Reply::json(200, &Value::Array(items)))
}

fn actions_review_pending_deployments_for_run(s: &mut GithubState, ctx: &Ctx) -> R {
    let run_id = num(ctx, "run_id")?;
    let b = body_of(ctx)?;
    let (now, user) = (s.now(), s.user_of(ctx));
    let ids: Vec<u64> = (0..8).map(|_| s.next_id()).collect();
    let env_ids: Vec<u64> = b
        .get("environment_ids")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect();
    let state = str_field(&b, "state")
        .filter(|st| st == "approved" || st == "rejected")
        .ok_or_else(|| invalid("Validation Failed: `state` must be approved or rejected"))?;
    let comment =
        str_field(&b, "comment").ok_or_else(|| invalid("Validation Failed: `comment` wasn't supplied."))?;
    let repo = repo!(s, ctx);
    let run = repo.runs.get(&run_id).ok_or_else(not_found)?;
    let mut names = Vec::new();
    for env_id in &env_ids {
        let env = repo
            .environments
            .iter()
            .find(|e| e.id == *env_id)
            .filter(|e| run.waiting.contains(&e.name));
        let env =
            env.ok_or_else(|| invalid("Validation Failed: the run is not waiting on that environment"))?;
        if !s.can_approve(env, &user) {
            return Err(invalid(
                "Validation Failed: you are not a required reviewer of that environment",
            ));
        }
        names.push(env.name.clone());
    }
    let (owner, name) = (ctx.param("owner").to_owned(), ctx.param("repo").to_owned());
    let repo = s.repo_mut(&owner, &name).ok_or_else(not_found)?;
    let head_sha = repo
        .pulls
        .values()
        .next()
        .map_or_else(|| "c".repeat(40), |p| p.head_sha.clone());
    let run = repo.runs.entry(run_id).or_default();
    run.waiting.retain(|w| !names.contains(w));
    run.approvals.push(super::Approval {
        environments: names.clone(),
        state: state.clone(),
        user: user.clone(),
        comment,
    });
    let mut created = Vec::new();
    if state == "approved" {
        for (env, id) in names.iter().zip(ids) {
            let d = Deployment {
                id,
                sha: head_sha.clone(),
                reference: repo.default_branch.clone(),
                task: "deploy".to_owned(),
                payload: json!({}),
                environment: env.clone(),
                description: None,
                creator: user.clone(),
                transient: false,
                production: env == "production",
                created_at: now,
            };
            created.push(body::deployment(&ctx.public_url, repo, &d));
            repo.deployments.push(d);
        }
    }
    Ok(Reply::json(200, &Value::Array(created)))
}

fn actions_get_reviews_for_run(s: &mut GithubState, ctx: &Ctx) -> R {
    let run_id = num(ctx, "run_id")?;
    let at = crate::sim::Clock::default().now();
    let repo = repo!(s, ctx);
    let run = repo.runs.get(&run_id).ok_or_else(not_found)?;
    let items: Vec<Value> = run
        .approvals
        .iter()
        .map(|a| {
            json!({
                "environments": a.environments.iter()
                    .filter_map(|n| repo.environments.iter().find(|e| e.name == *n))
                    .map(|e| body::environment_ref(&ctx.public_url, repo, e, at))
                    .collect::<Vec<_>>(),
                "state": a.state,
                "user": body::user(&ctx.public_url, &a.user),
                "comment": a.comment,
            })
        })
        .collect();
    Ok(Reply::json(200, &Value::Array(items)))
}

fn repos_get_collaborator_permission_level(s: &mut GithubState, ctx: &Ctx) -> R {
    let repo = repo!(s, ctx);
    let login = ctx.param("username");
    let role = if login.eq_ignore_ascii_case(&repo.owner) {
        "admin".to_owned()
    } else {
        repo.collaborators
            .get(login)
            .cloned()
            .unwrap_or_else(|| "none".to_owned())
    };
    // `permission` is the legacy coarse level; `role_name` the precise role.
    let permission = match role.as_str() {
        "admin" => "admin",
        "maintain" | "write" => "write",
        "triage" | "read" => "read",
        _ => "none",
    };
    let mut user = body::user(&ctx.public_url, login);
    user["role_name"] = json!(role);
    user["permissions"] = json!({
        "admin": permission == "admin", "maintain": role == "maintain" || permission == "admin",
        "push": permission == "admin" || permission == "write", "triage": permission != "none",
        "pull": permission != "none",
    });
    Ok(Reply::json(
        200,
        &json!({ "permission": permission, "role_name": role, "user": user }),
    ))
}

fn teams_get_membership_for_user_in_org(s: &mut GithubState, ctx: &Ctx) -> R {
    let (org, slug, login) = (ctx.param("org"), ctx.param("team_slug"), ctx.param("username"));
    let members = s.teams.get(&format!("{org}/{slug}")).ok_or_else(not_found)?;
    let (_, role) = members
        .iter()
        .find(|(l, _)| l.eq_ignore_ascii_case(login))
        .ok_or_else(not_found)?;
    Ok(Reply::json(
        200,
        &json!({
            "url": format!("{}/orgs/{org}/teams/{slug}/memberships/{login}", ctx.public_url),
            "role": role,
            "state": "active",
        }),
    ))
}

fn teams_list_members_in_org(s: &mut GithubState, ctx: &Ctx) -> R {
    let (org, slug) = (ctx.param("org"), ctx.param("team_slug"));
    let members = s.teams.get(&format!("{org}/{slug}")).ok_or_else(not_found)?;
    let role = ctx.query("role").unwrap_or("all");
    let items: Vec<Value> = members
        .iter()
        .filter(|(_, r)| role == "all" || r == role)
        .map(|(l, _)| body::user(&ctx.public_url, l))
        .collect();
    Ok(page(ctx, &items, 30, 100))
}
