//! What the GitHub stand-in remembers, per repository.

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Debug, Clone)]
pub(crate) struct Repo {
    pub(crate) owner: String,
    pub(crate) name: String,
    pub(crate) id: u64,
    pub(crate) private: bool,
    pub(crate) default_branch: String,
    pub(crate) issues: BTreeMap<u64, Issue>,
    pub(crate) pulls: BTreeMap<u64, Pull>,
    pub(crate) comments: Vec<Comment>,
    pub(crate) reactions: Vec<Reaction>,
    pub(crate) check_runs: Vec<CheckRun>,
    pub(crate) statuses: Vec<CommitStatus>,
    pub(crate) deployments: Vec<Deployment>,
    pub(crate) deployment_statuses: Vec<DeploymentStatus>,
    pub(crate) environments: Vec<Environment>,
    pub(crate) runs: BTreeMap<u64, Run>,
    pub(crate) collaborators: BTreeMap<String, String>,
    pub(crate) reviews: Vec<Review>,
    pub(crate) review_comments: Vec<ReviewComment>,
    pub(crate) next_number: u64,
}

/// An issue, or the issue side of a pull request (they share numbers, as on GitHub).
#[derive(Debug, Clone)]
pub(crate) struct Issue {
    pub(crate) id: u64,
    pub(crate) number: u64,
    pub(crate) title: String,
    pub(crate) body: Option<String>,
    pub(crate) author: String,
    pub(crate) open: bool,
    pub(crate) state_reason: Option<String>,
    pub(crate) labels: Vec<String>,
    pub(crate) assignees: Vec<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) closed_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Pull {
    pub(crate) id: u64,
    pub(crate) number: u64,
    pub(crate) head_sha: String,
    pub(crate) head_ref: String,
    pub(crate) base_sha: String,
    pub(crate) base_ref: String,
    pub(crate) files: Vec<PullFile>,
    pub(crate) diff_too_large: bool,
}

/// A file changed by a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullFile {
    /// Path in the repository.
    pub filename: String,
    /// `added`, `modified`, `removed`, `renamed`…
    pub status: String,
    /// Lines added.
    pub additions: u64,
    /// Lines removed.
    pub deletions: u64,
    /// The hunk(s), as GitHub's `patch` field.
    pub patch: Option<String>,
}

impl PullFile {
    /// A modified file with a one-line patch.
    #[must_use]
    pub fn modified(filename: &str) -> Self {
        Self {
            filename: filename.to_owned(),
            status: "modified".to_owned(),
            additions: 1,
            deletions: 1,
            patch: Some("@@ -1 +1 @@\n-old\n+new".to_owned()),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Comment {
    pub(crate) id: u64,
    pub(crate) issue: u64,
    pub(crate) author: String,
    pub(crate) body: String,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Reaction {
    pub(crate) id: u64,
    pub(crate) issue: Option<u64>,
    pub(crate) comment: Option<u64>,
    pub(crate) user: String,
    pub(crate) content: String,
    pub(crate) created_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct CheckRun {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) head_sha: String,
    pub(crate) status: String,
    pub(crate) conclusion: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) details_url: Option<String>,
    pub(crate) started_at: i64,
    pub(crate) completed_at: Option<i64>,
    pub(crate) title: Option<String>,
    pub(crate) summary: Option<String>,
    pub(crate) text: Option<String>,
    pub(crate) annotations: Vec<Annotation>,
}

#[derive(Debug, Clone)]
pub(crate) struct Annotation {
    pub(crate) path: String,
    pub(crate) start_line: u64,
    pub(crate) end_line: u64,
    pub(crate) start_column: Option<u64>,
    pub(crate) end_column: Option<u64>,
    pub(crate) level: String,
    pub(crate) message: String,
    pub(crate) title: Option<String>,
    pub(crate) raw_details: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct CommitStatus {
    pub(crate) id: u64,
    pub(crate) sha: String,
    pub(crate) state: String,
    pub(crate) context: String,
    pub(crate) description: Option<String>,
    pub(crate) target_url: Option<String>,
    pub(crate) creator: String,
    pub(crate) created_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    pub(crate) id: u64,
    pub(crate) sha: String,
    pub(crate) reference: String,
    pub(crate) task: String,
    pub(crate) payload: Value,
    pub(crate) environment: String,
    pub(crate) description: Option<String>,
    pub(crate) creator: String,
    pub(crate) transient: bool,
    pub(crate) production: bool,
    pub(crate) created_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct DeploymentStatus {
    pub(crate) id: u64,
    pub(crate) deployment: u64,
    pub(crate) state: String,
    pub(crate) description: String,
    pub(crate) environment: String,
    pub(crate) environment_url: String,
    pub(crate) log_url: String,
    pub(crate) creator: String,
    pub(crate) created_at: i64,
}

/// Who may approve deployments to an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reviewer {
    /// A user, by login.
    User(String),
    /// A team of an organisation.
    Team {
        /// Organisation login.
        org: String,
        /// Team slug.
        slug: String,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Environment {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) reviewers: Vec<Reviewer>,
    pub(crate) prevent_self_review: bool,
}

/// A workflow run and the environments it waits on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Run {
    pub(crate) waiting: Vec<String>,
    pub(crate) approvals: Vec<Approval>,
}

#[derive(Debug, Clone)]
pub(crate) struct Approval {
    pub(crate) environments: Vec<String>,
    pub(crate) state: String,
    pub(crate) user: String,
    pub(crate) comment: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Review {
    pub(crate) id: u64,
    pub(crate) pull: u64,
    pub(crate) user: String,
    pub(crate) body: String,
    pub(crate) state: String,
    pub(crate) commit_id: String,
    pub(crate) submitted_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct ReviewComment {
    pub(crate) id: u64,
    pub(crate) pull: u64,
    pub(crate) review: Option<u64>,
    pub(crate) user: String,
    pub(crate) body: String,
    pub(crate) path: String,
    pub(crate) line: Option<u64>,
    pub(crate) commit_id: String,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}
