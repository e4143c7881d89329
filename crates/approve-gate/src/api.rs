//! The GitHub calls the gate makes, with the caches that keep it cheap: comments are read page by
//! page with `If-None-Match` (a `304` costs no rate-limit budget), and each person's permission
//! and team membership are asked once per run.
//!
//! The issue and the closing comment are creates ([`ops_net::HttpClient::create`]): each carries a
//! hidden marker of this run, and when the answer to creating it is lost, the gate looks for the
//! marker before it sends the request again, so a lost answer neither opens a second issue nor
//! leaves the first one open.

use std::collections::HashMap;
use std::sync::Mutex;

use http::Method;
use ops_net::{Created, GitHub};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Error;

/// Comments per page (GitHub's maximum).
pub const PER_PAGE: usize = 100;
/// Pages read at most: 5,000 comments.
const MAX_PAGES: usize = 50;

/// A user in a response.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// Login.
    pub login: String,
}

/// An issue comment.
#[derive(Debug, Clone, Deserialize)]
pub struct Comment {
    /// Id.
    pub id: u64,
    /// Body (absent when empty).
    #[serde(default)]
    pub body: Option<String>,
    /// Author (absent for a deleted account).
    #[serde(default)]
    pub user: Option<User>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; differs from `created_at` once edited.
    pub updated_at: String,
    /// Link.
    #[serde(default)]
    pub html_url: String,
}

/// The created issue.
#[derive(Debug, Clone, Deserialize)]
pub struct Issue {
    /// Number.
    pub number: u64,
    /// Link.
    pub html_url: String,
    /// RFC 3339.
    pub created_at: String,
    /// Body (absent when empty).
    #[serde(default)]
    pub body: Option<String>,
}

/// The approval issue, once opened.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The issue.
    pub issue: Issue,
    /// Whether the assignees were accepted (GitHub refuses someone without access).
    pub assigned: bool,
    /// Whether the answer to opening it was lost and the issue was found by its marker.
    pub found: bool,
}

/// One environment a run waits on.
#[derive(Debug, Clone, Deserialize)]
pub struct Pending {
    /// The environment.
    pub environment: EnvRef,
    /// Whether the token's user may review it.
    #[serde(default)]
    pub current_user_can_approve: bool,
    /// Its required reviewers.
    #[serde(default)]
    pub reviewers: Vec<Value>,
}

/// An environment as pending deployments and approvals name it.
#[derive(Debug, Clone, Deserialize)]
pub struct EnvRef {
    /// Id.
    #[serde(default)]
    pub id: Option<u64>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
}

/// One entry of a run's review log.
#[derive(Debug, Clone, Deserialize)]
pub struct Approval {
    /// The environments reviewed.
    #[serde(default)]
    pub environments: Vec<EnvRef>,
    /// `approved`, `rejected` or `pending` (a comment only).
    pub state: String,
    /// Who.
    pub user: User,
    /// Their comment.
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Deserialize)]
struct Permission {
    #[serde(default)]
    permission: String,
    #[serde(default)]
    role_name: String,
}

#[derive(Debug, Deserialize)]
struct Membership {
    #[serde(default)]
    state: String,
}

/// The gate's view of one repository.
#[derive(Debug)]
pub struct Api {
    gh: GitHub,
    owner: String,
    repo: String,
    permissions: Mutex<HashMap<String, String>>,
    memberships: Mutex<HashMap<(String, String), bool>>,
}

impl Api {
    /// For `owner/repo`.
    pub fn new(gh: GitHub, owner: &str, repo: &str) -> Self {
        Self {
            gh,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            permissions: Mutex::new(HashMap::new()),
            memberships: Mutex::new(HashMap::new()),
        }
    }

    /// The client (for its usage counters).
    pub fn github(&self) -> &GitHub {
        &self.gh
    }

    /// `owner/repo`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    fn route(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.owner, self.repo)
    }

    /// Opens the approval issue. `body` must contain `marker`, a hidden mark of this run: when the
    /// answer is lost, the issue is looked up by it before the request is sent again. When GitHub
    /// refuses the assignees (someone without access), it is opened again without them rather
    /// than not at all.
    pub async fn create_issue(
        &self,
        title: &str,
        body: &str,
        labels: &[String],
        assignees: &[String],
        marker: &str,
    ) -> Result<Opened, Error> {
        let failed = |e| {
            Error::api(
                format!("cannot open the approval issue in `{}`", self.full_name()),
                e,
            )
        };
        let mut payload = json!({ "title": title, "body": body });
        if !labels.is_empty() {
            payload["labels"] = json!(labels);
        }
        if !assignees.is_empty() {
            payload["assignees"] = json!(assignees);
        }
        let opened = |created: Created<Issue>, assigned| Opened {
            found: created.was_found(),
            issue: created.into_inner(),
            assigned,
        };
        match self.open_issue(&payload, marker).await {
            Ok(created) => Ok(opened(created, true)),
            Err(e) if !assignees.is_empty() && e.status().is_some_and(|s| s.as_u16() == 422) => {
                if let Some(map) = payload.as_object_mut() {
                    map.remove("assignees");
                }
                let created = self.open_issue(&payload, marker).await.map_err(failed)?;
                Ok(opened(created, false))
            }
            Err(e) => Err(failed(e)),
        }
    }

    async fn open_issue(&self, payload: &Value, marker: &str) -> Result<Created<Issue>, ops_net::Error> {
        let request = self
            .gh
            .request(Method::POST, &self.route("/issues"))?
            .json(payload)?;
        self.gh
            .http()
            .create(request, |r| r.json::<Issue>(), |_| self.find_issue(marker))
            .await
    }

    /// The issue whose body carries `marker`, among the repository's newest (it was opened moments
    /// ago, so it is on the first page).
    async fn find_issue(&self, marker: &str) -> Result<Option<Issue>, ops_net::Error> {
        let route = self.route(&format!(
            "/issues?state=all&sort=created&direction=desc&per_page={PER_PAGE}"
        ));
        let issues: Vec<Issue> = self.gh.get_json(&route).await?;
        Ok(issues
            .into_iter()
            .find(|i| i.body.as_deref().is_some_and(|b| b.contains(marker))))
    }

    /// Comments on the issue. `body` must contain `marker`, a hidden mark of this run: when the
    /// answer is lost, the comment is looked up by it before the request is sent again (a single
    /// 502 must not lose the closing comment, nor a retry post it twice). Whether it was found
    /// that way.
    pub async fn comment(&self, number: u64, body: &str, marker: &str) -> Result<bool, Error> {
        let failed = |e| Error::api(format!("cannot comment on issue #{number}"), e);
        let request = self
            .gh
            .request(Method::POST, &self.route(&format!("/issues/{number}/comments")))
            .and_then(|r| r.json(&json!({ "body": body })))
            .map_err(failed)?;
        let find = |_| async move {
            let (comments, _) = self.comment_pages(number).await?;
            Ok::<_, ops_net::Error>(
                comments
                    .into_iter()
                    .find(|c| c.body.as_deref().is_some_and(|b| b.contains(marker))),
            )
        };
        self.gh
            .http()
            .create(request, |r| r.json::<Comment>(), find)
            .await
            .map(|created| created.was_found())
            .map_err(failed)
    }

    /// Closes the issue, as `completed` or `not_planned`.
    pub async fn close(&self, number: u64, reason: &str) -> Result<(), Error> {
        let request = self
            .gh
            .request(Method::PATCH, &self.route(&format!("/issues/{number}")))
            .and_then(|r| r.json(&json!({ "state": "closed", "state_reason": reason })))
            .map_err(|e| Error::api(format!("cannot close issue #{number}"), e))?;
        // Closing twice is harmless, so a broken connection may be retried.
        self.gh
            .send(request.retry_non_idempotent())
            .await
            .map(drop)
            .map_err(|e| Error::api(format!("cannot close issue #{number}"), e))
    }

    /// Every comment on the issue, oldest first, and whether any page changed since the last call.
    /// Each page is a conditional GET; a full page means there may be another.
    pub async fn comments(&self, number: u64) -> Result<(Vec<Comment>, bool), Error> {
        self.comment_pages(number)
            .await
            .map_err(|e| Error::api(format!("cannot read the comments of issue #{number}"), e))
    }

    async fn comment_pages(&self, number: u64) -> Result<(Vec<Comment>, bool), ops_net::Error> {
        let mut all = Vec::new();
        let mut changed = false;
        for page in 1..=MAX_PAGES {
            let route = self.route(&format!(
                "/issues/{number}/comments?per_page={PER_PAGE}&page={page}"
            ));
            let got = self.gh.get_conditional::<Vec<Comment>>(&route).await?;
            changed |= !got.not_modified;
            let full = got.value.len() >= PER_PAGE;
            all.extend(got.value);
            if !full {
                break;
            }
        }
        Ok((all, changed))
    }

    /// `login`'s permission on the repository (`admin`, `maintain`, `write`, `triage`, `read`,
    /// `none`), asked once per run.
    pub async fn permission(&self, login: &str) -> Result<String, Error> {
        let key = login.to_ascii_lowercase();
        if let Some(p) = lock(&self.permissions).get(&key) {
            return Ok(p.clone());
        }
        let route = self.route(&format!("/collaborators/{login}/permission"));
        let level = match self.gh.get_json::<Permission>(&route).await {
            Ok(p) => {
                if matches!(p.role_name.as_str(), "admin" | "maintain" | "write") {
                    p.role_name
                } else {
                    p.permission
                }
            }
            Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => "none".to_owned(),
            Err(e) => {
                return Err(Error::api(
                    format!(
                        "cannot read the permission of `{login}` on `{}`",
                        self.full_name()
                    ),
                    e,
                ));
            }
        };
        lock(&self.permissions).insert(key, level.clone());
        Ok(level)
    }

    /// The members of a team (to check that the token can read them). A `403` or `404` means the
    /// token cannot read the team (GitHub does not tell a hidden team from a missing one).
    pub async fn team_members(&self, org: &str, slug: &str) -> Result<Vec<String>, Error> {
        let route = format!("/orgs/{org}/teams/{slug}/members");
        match self.gh.paginate::<User>(&route, 20).await {
            Ok(users) => Ok(users.into_iter().map(|u| u.login).collect()),
            Err(e) => match e.status().map(|s| s.as_u16()) {
                Some(status @ (403 | 404)) => Err(Error::TeamUnreadable {
                    team: format!("{org}/{slug}"),
                    status,
                }),
                _ => Err(Error::api(
                    format!("cannot read the members of team `{org}/{slug}`"),
                    e,
                )),
            },
        }
    }

    /// Whether `login` is an active member of the team, asked once per run.
    pub async fn is_member(&self, org: &str, slug: &str, login: &str) -> Result<bool, Error> {
        let key = (
            format!("{org}/{slug}").to_ascii_lowercase(),
            login.to_ascii_lowercase(),
        );
        if let Some(m) = lock(&self.memberships).get(&key) {
            return Ok(*m);
        }
        let route = format!("/orgs/{org}/teams/{slug}/memberships/{login}");
        let member = match self.gh.get_json::<Membership>(&route).await {
            Ok(m) => m.state == "active",
            Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => false,
            Err(e) => {
                return Err(Error::api(
                    format!("cannot check whether `{login}` is in team `{org}/{slug}`"),
                    e,
                ));
            }
        };
        lock(&self.memberships).insert(key, member);
        Ok(member)
    }

    /// The environments run `run_id` waits on (conditional: free when unchanged).
    pub async fn pending(&self, run_id: u64) -> Result<(Vec<Pending>, bool), Error> {
        let route = self.route(&format!("/actions/runs/{run_id}/pending_deployments"));
        self.gh
            .get_conditional::<Vec<Pending>>(&route)
            .await
            .map(|c| (c.value, !c.not_modified))
            .map_err(|e| Error::api(format!("cannot read the pending deployments of run {run_id}"), e))
    }

    /// The review log of run `run_id` (conditional: free when unchanged).
    pub async fn approvals(&self, run_id: u64) -> Result<(Vec<Approval>, bool), Error> {
        let route = self.route(&format!("/actions/runs/{run_id}/approvals"));
        self.gh
            .get_conditional::<Vec<Approval>>(&route)
            .await
            .map(|c| (c.value, !c.not_modified))
            .map_err(|e| Error::api(format!("cannot read the reviews of run {run_id}"), e))
    }

    /// Approves or rejects the run's deployments to these environments.
    pub async fn review(
        &self,
        run_id: u64,
        environment_ids: &[u64],
        approve: bool,
        comment: &str,
    ) -> Result<(), Error> {
        let route = self.route(&format!("/actions/runs/{run_id}/pending_deployments"));
        let body = json!({
            "environment_ids": environment_ids,
            "state": if approve { "approved" } else { "rejected" },
            "comment": comment,
        });
        self.gh
            .post_json::<_, Value>(&route, &body)
            .await
            .map(drop)
            .map_err(|e| Error::api(format!("cannot review the deployments of run {run_id}"), e))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
