//! A GitHub deployment and its statuses, so that the repository and the pull request show what is
//! live where: `in_progress` when we start (with the run's log URL), then `success` with the live URL
//! or `failure`. Only with a `github-token`; a failure here is a warning, never the deployment's fate.

use ops_core::{Env, Runner, Secret};
use serde_json::{Value, json};

/// A deployment recorded on GitHub.
#[derive(Debug)]
pub struct Record {
    gh: ops_net::GitHub,
    route: String,
    log_url: Option<String>,
}

/// What to record.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The commit or ref deployed.
    pub reference: &'a str,
    /// The environment's name.
    pub environment: &'a str,
    /// Whether the environment goes away (previews).
    pub transient: bool,
    /// A short description.
    pub description: &'a str,
    /// Data stored with the deployment (the app's ID).
    pub payload: Value,
}

/// Creates the deployment and its `in_progress` status; `None` (with a warning) when GitHub says no.
pub async fn start(env: &Env, runner: &Runner, token: &Secret, plan: Plan<'_>) -> Option<Record> {
    let Some((owner, repo)) = env.repository() else {
        runner.warning("no GitHub deployment recorded: `GITHUB_REPOSITORY` is not set");
        return None;
    };
    let gh = match ops_net::GitHub::from_env(env, Some(token.clone())) {
        Ok(gh) => gh,
        Err(e) => {
            runner.warning(&format!("no GitHub deployment recorded: {e}"));
            return None;
        }
    };
    let body = json!({
        "ref": plan.reference,
        "environment": plan.environment,
        "description": plan.description,
        "auto_merge": false,
        // The deploy step runs after the checks it needs; GitHub must not refuse on commit statuses.
        "required_contexts": [],
        "transient_environment": plan.transient,
        "production_environment": !plan.transient && plan.environment == "production",
        "payload": plan.payload,
    });
    let created: Value = match gh
        .post_json(&format!("/repos/{owner}/{repo}/deployments"), &body)
        .await
    {
        Ok(v) => v,
        Err(e) => {
            runner.warning(&format!("no GitHub deployment recorded: {e}"));
            return None;
        }
    };
    let Some(id) = created.get("id").and_then(Value::as_u64) else {
        runner.warning("no GitHub deployment recorded: GitHub's answer has no deployment `id`");
        return None;
    };
    let record = Record {
        gh,
        route: format!("/repos/{owner}/{repo}/deployments/{id}/statuses"),
        log_url: env.run_url(),
    };
    record.status(runner, "in_progress", None, plan.description).await;
    Some(record)
}

impl Record {
    /// Posts a status (`in_progress`, `success`, `failure`, `error`, `inactive`).
    pub async fn status(
        &self,
        runner: &Runner,
        state: &str,
        environment_url: Option<&str>,
        description: &str,
    ) {
        let mut body = json!({
            "state": state,
            "description": cut(description, 140),
            "auto_inactive": true,
        });
        if let Some(url) = &self.log_url {
            body["log_url"] = json!(url);
        }
        if let Some(url) = environment_url {
            body["environment_url"] = json!(url);
        }
        if let Err(e) = self.gh.post_json::<_, Value>(&self.route, &body).await {
            runner.warning(&format!(
                "could not record the `{state}` status of the GitHub deployment: {e}"
            ));
        }
    }
}

/// GitHub limits a status description to 140 characters.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_fit() {
        assert_eq!(cut("short", 140), "short");
        let long = "x".repeat(200);
        assert_eq!(cut(&long, 140).chars().count(), 140);
    }
}
