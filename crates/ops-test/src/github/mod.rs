//! A stateful stand-in for the GitHub REST API (the parts ops-actions uses).
//!
//! ```no_run
//! use ops_test::github::{GithubSim, NewPull};
//!
//! let gh = GithubSim::start();
//! let pr = gh.with(|s| s.add_pull("o", "r", NewPull::default()));
//! // point the tool at gh.url() (GITHUB_API_URL), run it, then read gh.exchanges()
//! # let _ = pr;
//! ```
//!
//! Served: repos get; pulls get (JSON, and `application/vnd.github.diff` with 406 when the diff
//! is too large) and files; check runs create/update/get/list and annotations (appended, at most
//! 50 per request); commit statuses and the combined status; issues create/get/update/list;
//! issue comments create/get/update/list; reactions; PR reviews and review comments;
//! deployments and deployment statuses; environments, pending deployments and their review;
//! collaborator permission; team membership and members; `/rate_limit`.
//!
//! Every list paginates with `Link` headers, every `GET` carries an `ETag` and answers
//! `If-None-Match` with 304, and every response carries `x-ratelimit-*` for a per-token budget
//! that 304s (and `/rate_limit`) do not spend. Virtual time moves one second per request.

mod json;
mod model;
mod routes;

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use http::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use model::{Approval, Comment, Environment, Issue, Pull, Repo};
pub use model::{PullFile, Reviewer};

use crate::sim::{Api, Checked, Clock, Ctx, Reply, Route, Sim, Spec};

/// The GitHub stand-in.
pub type GithubSim = Sim<GithubState>;

/// The login a token acts as unless [`GithubState::set_token_user`] says otherwise: the
/// identity of a workflow's `GITHUB_TOKEN`.
pub const DEFAULT_USER: &str = "github-actions[bot]";

/// The shared, Prism-fronted GitHub stand-in of this test process (started on first use).
///
/// Tests share it, so each uses its own repository names and tokens.
///
/// # Panics
/// When Prism cannot start; the message says how to install it (`scripts/setup-node`).
#[must_use]
pub fn checked() -> &'static Checked<GithubState> {
    static CELL: OnceLock<Result<Checked<GithubState>, String>> = OnceLock::new();
    match CELL.get_or_init(|| Checked::start(Spec::Github).map_err(|e| e.to_string())) {
        Ok(checked) => checked,
        Err(e) => panic!("the Prism-checked GitHub stand-in is unavailable: {e}"),
    }
}

/// A token's rate-limit budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Requests per window.
    pub limit: u64,
    /// Requests spent in this window.
    pub used: u64,
    /// End of the window, Unix seconds (virtual time).
    pub reset: i64,
}

impl Budget {
    /// Requests left in this window.
    #[must_use]
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }
}

/// A pull request to add with [`GithubState::add_pull`].
#[derive(Debug, Clone)]
pub struct NewPull {
    /// Title.
    pub title: String,
    /// Author login.
    pub author: String,
    /// Head branch.
    pub head_ref: String,
    /// Head commit.
    pub head_sha: String,
    /// Base branch.
    pub base_ref: String,
    /// Changed files (also what the diff media type shows).
    pub files: Vec<PullFile>,
    /// The diff media type answers 406, as GitHub does past 20,000 lines or 300 files.
    pub diff_too_large: bool,
}

impl Default for NewPull {
    fn default() -> Self {
        Self {
            title: "Change things".to_owned(),
            author: "octocat".to_owned(),
            head_ref: "feature".to_owned(),
            head_sha: "a".repeat(40),
            base_ref: "main".to_owned(),
            files: vec![PullFile::modified("src/lib.rs")],
            diff_too_large: false,
        }
    }
}

/// Everything the GitHub stand-in knows; script it through [`Sim::with`].
#[derive(Debug)]
pub struct GithubState {
    pub(crate) clock: Clock,
    next_id: u64,
    pub(crate) repos: BTreeMap<String, Repo>,
    /// `org/slug` → `(login, role)`.
    pub(crate) teams: BTreeMap<String, Vec<(String, String)>>,
    token_users: HashMap<String, String>,
    budgets: HashMap<String, Budget>,
    limits: HashMap<String, u64>,
    default_limit: u64,
}

impl Default for GithubState {
    fn default() -> Self {
        Self {
            clock: Clock::default(),
            next_id: 1_000,
            repos: BTreeMap::new(),
            teams: BTreeMap::new(),
            token_users: HashMap::new(),
            budgets: HashMap::new(),
            limits: HashMap::new(),
            // A personal token's hourly limit; GITHUB_TOKEN has 1,000 (set it per token).
            default_limit: 5_000,
        }
    }
}

fn key(owner: &str, repo: &str) -> String {
    format!("{}/{}", owner.to_ascii_lowercase(), repo.to_ascii_lowercase())
}

impl GithubState {
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn repo_entry(&mut self, owner: &str, name: &str) -> &mut Repo {
        let id = self.next_id();
        self.repos.entry(key(owner, name)).or_insert_with(|| Repo {
            owner: owner.to_owned(),
            name: name.to_owned(),
            id,
            private: false,
            default_branch: "main".to_owned(),
            issues: BTreeMap::new(),
            pulls: BTreeMap::new(),
            comments: Vec::new(),
            reactions: Vec::new(),
            check_runs: Vec::new(),
            statuses: Vec::new(),
            deployments: Vec::new(),
            deployment_statuses: Vec::new(),
            environments: Vec::new(),
            runs: BTreeMap::new(),
            collaborators: BTreeMap::new(),
            reviews: Vec::new(),
            review_comments: Vec::new(),
            next_number: 1,
        })
    }

    pub(crate) fn repo(&self, owner: &str, name: &str) -> Option<&Repo> {
        self.repos.get(&key(owner, name))
    }

    pub(crate) fn repo_mut(&mut self, owner: &str, name: &str) -> Option<&mut Repo> {
        self.repos.get_mut(&key(owner, name))
    }

    /// The login a request acts as.
    pub(crate) fn user_of(&self, ctx: &Ctx) -> String {
        ctx.token()
            .and_then(|t| self.token_users.get(t))
            .cloned()
            .unwrap_or_else(|| DEFAULT_USER.to_owned())
    }

    /// Current virtual time (Unix seconds).
    #[must_use]
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Moves virtual time forward.
    pub fn tick(&mut self, seconds: i64) {
        self.clock.tick(seconds);
    }

    /// Adds a repository (requests to unknown repositories get 404).
    pub fn add_repo(&mut self, owner: &str, name: &str) {
        self.repo_entry(owner, name);
    }

    /// Adds an open issue; returns its number.
    pub fn add_issue(&mut self, owner: &str, repo: &str, title: &str, author: &str) -> u64 {
        let (id, now) = (self.next_id(), self.now());
        let r = self.repo_entry(owner, repo);
        let number = r.next_number;
        r.next_number += 1;
        r.issues
            .insert(number, new_issue(id, number, title, None, author, now));
        number
    }

    /// The number of the newest issue (or pull request), e.g. one a tool just opened.
    #[must_use]
    pub fn latest_issue(&self, owner: &str, repo: &str) -> Option<u64> {
        self.repos
            .get(&key(owner, repo))
            .and_then(|r| r.issues.keys().max().copied())
    }

    /// Adds an open pull request; returns its number.
    pub fn add_pull(&mut self, owner: &str, repo: &str, pull: NewPull) -> u64 {
        let (issue_id, pull_id, now) = (self.next_id(), self.next_id(), self.now());
        let r = self.repo_entry(owner, repo);
        let number = r.next_number;
        r.next_number += 1;
        r.issues.insert(
            number,
            new_issue(issue_id, number, &pull.title, None, &pull.author, now),
        );
        r.pulls.insert(
            number,
            Pull {
                id: pull_id,
                number,
                head_sha: pull.head_sha,
                head_ref: pull.head_ref,
                base_sha: "b".repeat(40),
                base_ref: pull.base_ref,
                files: pull.files,
                diff_too_large: pull.diff_too_large,
            },
        );
        number
    }

    /// Adds a comment to an issue or pull request (as someone else would); returns its id.
    pub fn add_comment(&mut self, owner: &str, repo: &str, issue: u64, author: &str, body: &str) -> u64 {
        let (id, now) = (self.next_id(), self.now());
        self.repo_entry(owner, repo).comments.push(Comment {
            id,
            issue,
            author: author.to_owned(),
            body: body.to_owned(),
            created_at: now,
            updated_at: now,
        });
        id
    }

    /// Bodies of an issue's comments, oldest first.
    #[must_use]
    pub fn comment_bodies(&self, owner: &str, repo: &str, issue: u64) -> Vec<String> {
        self.repo(owner, repo)
            .map(|r| {
                r.comments
                    .iter()
                    .filter(|c| c.issue == issue)
                    .map(|c| c.body.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether an issue is open (`None`: no such issue).
    #[must_use]
    pub fn issue_open(&self, owner: &str, repo: &str, issue: u64) -> Option<bool> {
        self.repo(owner, repo)
            .and_then(|r| r.issues.get(&issue))
            .map(|i| i.open)
    }

    /// Number of annotations a check run holds (`None`: no such run).
    #[must_use]
    pub fn check_run_annotations(&self, owner: &str, repo: &str, id: u64) -> Option<usize> {
        self.repo(owner, repo)?
            .check_runs
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.annotations.len())
    }

    /// Gives `login` a permission on the repository: `admin`, `maintain`, `write`, `triage`, `read`.
    pub fn set_permission(&mut self, owner: &str, repo: &str, login: &str, permission: &str) {
        self.repo_entry(owner, repo)
            .collaborators
            .insert(login.to_owned(), permission.to_owned());
    }

    /// Adds `login` to a team with `role` (`member` or `maintainer`).
    pub fn add_team_member(&mut self, org: &str, slug: &str, login: &str, role: &str) {
        let members = self.teams.entry(format!("{org}/{slug}")).or_default();
        members.retain(|(l, _)| l != login);
        members.push((login.to_owned(), role.to_owned()));
    }

    /// Makes `token` act as `login` (the default is [`DEFAULT_USER`]).
    pub fn set_token_user(&mut self, token: &str, login: &str) {
        self.token_users.insert(token.to_owned(), login.to_owned());
    }

    /// Sets the hourly budget of `token` (5,000 unless set; 60 without a token).
    pub fn set_rate_limit(&mut self, token: &str, limit: u64) {
        self.limits.insert(token.to_owned(), limit);
        if let Some(b) = self.budgets.get_mut(token) {
            b.limit = limit;
        }
    }

    /// The budget of `token` as the stand-in counts it (`""`: requests without a token).
    pub fn budget(&mut self, token: &str) -> Budget {
        *self.budget_entry(token)
    }

    fn budget_entry(&mut self, token: &str) -> &mut Budget {
        let now = self.clock.now();
        let limit =
            self.limits
                .get(token)
                .copied()
                .unwrap_or(if token.is_empty() { 60 } else { self.default_limit });
        let budget = self.budgets.entry(token.to_owned()).or_insert(Budget {
            limit,
            used: 0,
            reset: now + 3_600,
        });
        if now >= budget.reset {
            *budget = Budget {
                limit,
                used: 0,
                reset: now + 3_600,
            };
        }
        budget
    }

    /// Adds a deployment environment, with required reviewers if any.
    pub fn add_environment(&mut self, owner: &str, repo: &str, name: &str, reviewers: Vec<Reviewer>) {
        let id = self.next_id();
        let r = self.repo_entry(owner, repo);
        r.environments.retain(|e| e.name != name);
        r.environments.push(Environment {
            id,
            name: name.to_owned(),
            reviewers,
            prevent_self_review: false,
        });
    }

    /// Makes workflow run `run_id` wait for approval on these environments (added if unknown).
    pub fn add_waiting_run(&mut self, owner: &str, repo: &str, run_id: u64, environments: &[&str]) {
        for env in environments {
            if self
                .repo(owner, repo)
                .is_none_or(|r| !r.environments.iter().any(|e| e.name == *env))
            {
                self.add_environment(owner, repo, env, Vec::new());
            }
        }
        let run = self.repo_entry(owner, repo).runs.entry(run_id).or_default();
        run.waiting.extend(environments.iter().map(|e| (*e).to_owned()));
    }

    /// Records a review of a waiting run as `login` would make it in the UI (approve or reject),
    /// and stops the run waiting on that environment.
    pub fn review_pending(
        &mut self,
        owner: &str,
        repo: &str,
        run_id: u64,
        environment: &str,
        login: &str,
        approve: bool,
    ) {
        let run = self.repo_entry(owner, repo).runs.entry(run_id).or_default();
        run.waiting.retain(|e| e != environment);
        run.approvals.push(Approval {
            environments: vec![environment.to_owned()],
            state: if approve { "approved" } else { "rejected" }.to_owned(),
            user: login.to_owned(),
            comment: if approve { "approved" } else { "rejected" }.to_owned(),
        });
    }

    /// Environments run `run_id` still waits on.
    #[must_use]
    pub fn waiting_environments(&self, owner: &str, repo: &str, run_id: u64) -> Vec<String> {
        self.repo(owner, repo)
            .and_then(|r| r.runs.get(&run_id))
            .map(|r| r.waiting.clone())
            .unwrap_or_default()
    }

    /// Whether `login` may approve deployments to `env`: a listed reviewer, or a member of a
    /// listed team.
    pub(crate) fn can_approve(&self, env: &Environment, login: &str) -> bool {
        env.reviewers.iter().any(|r| match r {
            Reviewer::User(u) => u.eq_ignore_ascii_case(login),
            Reviewer::Team { org, slug } => self
                .teams
                .get(&format!("{org}/{slug}"))
                .is_some_and(|m| m.iter().any(|(l, _)| l == login)),
        })
    }
}

pub(crate) fn new_issue(
    id: u64,
    number: u64,
    title: &str,
    body: Option<String>,
    author: &str,
    now: i64,
) -> Issue {
    Issue {
        id,
        number,
        title: title.to_owned(),
        body,
        author: author.to_owned(),
        open: true,
        state_reason: None,
        labels: Vec::new(),
        assignees: Vec::new(),
        created_at: now,
        updated_at: now,
        closed_at: None,
    }
}

/// GitHub's error body.
pub(crate) fn error(status: StatusCode, message: &str) -> Reply {
    Reply::json(
        status.as_u16(),
        &json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.as_str(),
        }),
    )
}

impl Api for GithubState {
    fn routes() -> Vec<Route<Self>> {
        routes::all()
    }

    fn before(&mut self, ctx: &Ctx) -> Option<Reply> {
        // Each request is one second of virtual time, so timestamps in bodies differ and order.
        self.clock.tick(1);
        if ctx.path == "/rate_limit" {
            return None;
        }
        let budget = *self.budget_entry(ctx.token().unwrap_or_default());
        (budget.remaining() == 0)
            .then(|| error(StatusCode::FORBIDDEN, "API rate limit exceeded for this token."))
    }

    fn after(&mut self, ctx: &Ctx, reply: &mut Reply) {
        if ctx.method == Method::GET && reply.status == StatusCode::OK {
            let digest = Sha256::digest(&reply.body);
            let etag = format!("W/\"{}\"", hex::encode(&digest[..16]));
            let matched = ctx.header("if-none-match").is_some_and(|v| {
                v.split(',')
                    .any(|t| t.trim() == etag || t.trim() == etag.trim_start_matches("W/"))
            });
            if matched {
                *reply = Reply::empty(304);
            }
            reply.set_header("etag", &etag);
        }
        let token = ctx.token().unwrap_or_default().to_owned();
        let free = ctx.path == "/rate_limit" || reply.status == StatusCode::NOT_MODIFIED;
        let budget = self.budget_entry(&token);
        if !free && budget.used < budget.limit {
            budget.used += 1;
        }
        let b = *budget;
        reply.set_header("x-ratelimit-limit", &b.limit.to_string());
        reply.set_header("x-ratelimit-remaining", &b.remaining().to_string());
        reply.set_header("x-ratelimit-used", &b.used.to_string());
        reply.set_header("x-ratelimit-reset", &b.reset.to_string());
        reply.set_header("x-ratelimit-resource", "core");
        reply.set_header("x-github-api-version-selected", "2022-11-28");
        reply.set_header("x-github-request-id", &format!("SIM:{}", self.clock.now()));
    }

    fn error(status: StatusCode, message: &str) -> Reply {
        error(status, message)
    }
}

pub(crate) fn as_value_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|x| {
            x.as_str()
                .map(str::to_owned)
                .or_else(|| x.get("name")?.as_str().map(str::to_owned))
        })
        .collect()
}
