//! Repository data (`GET /repos/{owner}/{repo}`) and the commit-date fallback
//! (`GET /repos/{owner}/{repo}/commits/{sha}`), at `GITHUB_API_URL`.

use jiff::Timestamp;
use ops_net::GitHub;
use serde_json::Value;

use crate::meta::Repo;

/// The repository's name, description, URL, license and default branch.
pub async fn repo(gh: &GitHub, owner: &str, name: &str) -> Result<Repo, ops_net::Error> {
    let data: Value = gh.get_json(&format!("/repos/{owner}/{name}")).await?;
    let text = |pointer: &str| {
        data.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(Repo {
        name: text("/name"),
        description: text("/description"),
        html_url: text("/html_url"),
        license: text("/license/spdx_id"),
        default_branch: text("/default_branch"),
    })
}

/// The committer date of a commit; `None` when the API does not say.
pub async fn commit_date(
    gh: &GitHub,
    owner: &str,
    name: &str,
    sha: &str,
) -> Result<Option<Timestamp>, ops_net::Error> {
    let data: Value = gh
        .get_json(&format!("/repos/{owner}/{name}/commits/{sha}"))
        .await?;
    Ok(data
        .pointer("/commit/committer/date")
        .and_then(Value::as_str)
        .and_then(|d| d.parse().ok()))
}
