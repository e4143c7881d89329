//! Pull-request preview apps: one app per PR, named so that it fits App Platform's 32 characters,
//! never collides with another repository's or app's previews, and can be recognised again for
//! deletion and clean-up.
//!
//! The name is `<base>-pr<N>-<hash>`: the base app's name cut to fit, the PR number, and the first 8
//! hex digits of SHA-256 over `owner/repo#N:base`. The `-pr<N>-<hash>` tail is never cut, so a name
//! can be parsed back and recomputed to tell our previews from look-alikes.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// App Platform's limit on app names.
pub const MAX_NAME: usize = 32;

/// What a preview needs to know about the pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// The PR number.
    pub number: u64,
    /// The base repository, `owner/name`.
    pub repository: String,
    /// The head branch, when known.
    pub head_ref: Option<String>,
    /// The head repository, `owner/name` (a fork's differs from `repository`).
    pub head_repository: Option<String>,
    /// The head commit, when known.
    pub head_sha: Option<String>,
}

/// Reads the PR from the event payload (`pull_request` events) and `GITHUB_HEAD_REF`; `number`
/// (the `pr-number` input) wins over the event's.
pub fn pull_request(
    event: Option<&Value>,
    repository: &str,
    number: Option<u64>,
    head_ref_var: Option<&str>,
) -> Option<PullRequest> {
    let pr = event.and_then(|e| e.get("pull_request"));
    let number = number.or_else(|| {
        pr.and_then(|p| p.get("number"))
            .or_else(|| event.and_then(|e| e.get("number")))
            .and_then(Value::as_u64)
    })?;
    let text = |pointer: &str| {
        pr.and_then(|p| p.pointer(pointer))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Some(PullRequest {
        number,
        repository: repository.to_owned(),
        head_ref: text("/head/ref").or_else(|| head_ref_var.filter(|s| !s.is_empty()).map(str::to_owned)),
        head_repository: text("/head/repo/full_name"),
        head_sha: text("/head/sha"),
    })
}

fn hash(repository: &str, number: u64, base: &str) -> String {
    let digest = Sha256::digest(format!("{}#{number}:{base}", repository.to_ascii_lowercase()).as_bytes());
    hex::encode(digest)[..8].to_owned()
}

/// Lower-case letters, digits and single dashes; starts with a letter.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    match trimmed.chars().next() {
        Some(c) if c.is_ascii_lowercase() => trimmed.to_owned(),
        Some(_) => format!("app-{trimmed}"),
        None => "app".to_owned(),
    }
}

/// The preview app's name for PR `number` of `repository`, based on the app `base`.
pub fn name(base: &str, repository: &str, number: u64) -> String {
    let tail = format!("-pr{number}-{}", hash(repository, number, base));
    let room = MAX_NAME.saturating_sub(tail.len()).max(1);
    let mut head: String = slug(base).chars().take(room).collect();
    while head.ends_with('-') {
        head.pop();
    }
    format!("{head}{tail}")
}

/// The PR number if `app_name` is a preview of `base` in `repository`.
pub fn number_of(app_name: &str, base: &str, repository: &str) -> Option<u64> {
    let (rest, _hash) = app_name.rsplit_once('-')?;
    let (_, number) = rest.rsplit_once("-pr")?;
    let number: u64 = number.parse().ok()?;
    (name(base, repository, number) == app_name).then_some(number)
}

/// Turns the base spec into the preview's: the name, no domains or alerts (they belong to the real
/// app), and GitHub or git sources of this repository pointed at the PR head without deploy-on-push
/// (the workflow deploys each push itself). Returns what was changed, for the log.
pub fn rewrite(spec: &mut Value, pr: &PullRequest) -> Vec<String> {
    let mut changes = Vec::new();
    let base = spec
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("app")
        .to_owned();
    let preview = name(&base, &pr.repository, pr.number);
    changes.push(format!("name `{preview}` (from `{base}`)"));
    let Some(obj) = spec.as_object_mut() else {
        return changes;
    };
    obj.insert("name".into(), json!(preview));
    for field in ["domains", "alerts"] {
        if obj.remove(field).is_some() {
            changes.push(format!("`{field}` removed"));
        }
    }
    let repo_lower = pr.repository.to_ascii_lowercase();
    for kind in ["services", "workers", "jobs", "static_sites", "functions"] {
        let Some(list) = obj.get_mut(kind).and_then(Value::as_array_mut) else {
            continue;
        };
        for component in list.iter_mut().filter_map(Value::as_object_mut) {
            let cname = component
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned();
            if component.remove("alerts").is_some() {
                changes.push(format!("`{cname}`: alerts removed"));
            }
            let Some(head_ref) = &pr.head_ref else { continue };
            if let Some(gh) = component.get_mut("github").and_then(Value::as_object_mut)
                && gh
                    .get("repo")
                    .and_then(Value::as_str)
                    .is_some_and(|r| r.to_ascii_lowercase() == repo_lower)
            {
                if let Some(head_repo) = pr
                    .head_repository
                    .as_ref()
                    .filter(|h| h.to_ascii_lowercase() != repo_lower)
                {
                    gh.insert("repo".into(), json!(head_repo));
                }
                gh.insert("branch".into(), json!(head_ref));
                gh.insert("deploy_on_push".into(), json!(false));
                changes.push(format!("`{cname}`: GitHub source on branch `{head_ref}`"));
            }
            if let Some(git) = component.get_mut("git").and_then(Value::as_object_mut)
                && git
                    .get("repo_clone_url")
                    .and_then(Value::as_str)
                    .is_some_and(|u| {
                        u.to_ascii_lowercase()
                            .contains(&format!("github.com/{repo_lower}"))
                    })
            {
                git.insert("branch".into(), json!(head_ref));
                changes.push(format!("`{cname}`: git source on branch `{head_ref}`"));
            }
        }
    }
    changes
}

/// What a preview does with the spec's databases that live in a cluster of their own
/// (`production: true`, or a `cluster_name`): the preview would share them with the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Databases {
    /// Keep them, with a warning: the preview reads and writes the app's data.
    Keep,
    /// A dev database of the same name instead (so `${db.DATABASE_URL}` still binds), created with
    /// the preview and deleted with it; App Platform has dev databases for PostgreSQL only, so other
    /// engines are dropped.
    Replace,
    /// Drop them from the preview.
    Drop,
}

/// What [`databases`] did or found, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseNote {
    /// Kept, and shared with the app: a warning.
    Shared {
        /// The database's name in the spec.
        name: String,
        /// `cluster `x``, or `a production database`.
        what: String,
    },
    /// Replaced by a dev database.
    Replaced {
        /// The database's name in the spec.
        name: String,
    },
    /// Dropped.
    Dropped {
        /// The database's name in the spec.
        name: String,
        /// Why: `preview-databases: drop`, or an engine without dev databases.
        why: String,
    },
}

/// Whether a database spec names a cluster the preview would share with the app.
fn shared(db: &Value) -> bool {
    db.get("production").and_then(Value::as_bool) == Some(true)
        || db
            .get("cluster_name")
            .and_then(Value::as_str)
            .is_some_and(|c| !c.is_empty())
}

/// Applies `mode` to the spec's shared databases. A database the preview loses must not be bound
/// elsewhere in the spec (`${cache.REDIS_URL}`): that is an error naming the references, since App
/// Platform would refuse the spec.
pub fn databases(spec: &mut Value, mode: Databases) -> Result<Vec<DatabaseNote>, String> {
    let mut notes = Vec::new();
    let Some(list) = spec.get_mut("databases").and_then(Value::as_array_mut) else {
        return Ok(notes);
    };
    let mut dropped = Vec::new();
    let mut kept = Vec::with_capacity(list.len());
    for db in list.drain(..) {
        let name = db.get("name").and_then(Value::as_str).unwrap_or("?").to_owned();
        if !shared(&db) {
            kept.push(db);
            continue;
        }
        let engine = db.get("engine").and_then(Value::as_str).unwrap_or("UNSET");
        match mode {
            Databases::Keep => {
                let what = match db.get("cluster_name").and_then(Value::as_str) {
                    Some(c) if !c.is_empty() => format!("cluster `{c}`"),
                    _ => "a production database".to_owned(),
                };
                notes.push(DatabaseNote::Shared { name, what });
                kept.push(db);
            }
            Databases::Replace if engine == "PG" => {
                let mut dev = Map::new();
                dev.insert("name".into(), json!(name));
                dev.insert("engine".into(), json!("PG"));
                if let Some(version) = db.get("version") {
                    dev.insert("version".into(), version.clone());
                }
                notes.push(DatabaseNote::Replaced { name });
                kept.push(Value::Object(dev));
            }
            Databases::Replace => {
                notes.push(DatabaseNote::Dropped {
                    why: format!("App Platform has dev databases for PostgreSQL only, not {engine}"),
                    name: name.clone(),
                });
                dropped.push(name);
            }
            Databases::Drop => {
                notes.push(DatabaseNote::Dropped {
                    why: "`preview-databases: drop`".to_owned(),
                    name: name.clone(),
                });
                dropped.push(name);
            }
        }
    }
    *list = kept;
    if list.is_empty()
        && let Some(obj) = spec.as_object_mut()
    {
        obj.remove("databases");
    }
    let mut bound = Vec::new();
    bindings(spec, &dropped, &mut bound);
    if bound.is_empty() {
        Ok(notes)
    } else {
        bound.sort();
        bound.dedup();
        Err(format!(
            "the preview drops database{} {}, but the spec still binds {}",
            if dropped.len() == 1 { "" } else { "s" },
            dropped
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(", "),
            bound.join(", ")
        ))
    }
}

/// `${name.VAR}` references to any of `names` in the spec's strings.
fn bindings(value: &Value, names: &[String], out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            let mut rest = s.as_str();
            while let Some(at) = rest.find("${") {
                let after = &rest[at + 2..];
                let Some(end) = after.find('}') else { break };
                let reference = &after[..end];
                if let Some((component, _)) = reference.split_once('.')
                    && names.iter().any(|n| n == component)
                {
                    out.push(format!("`${{{reference}}}`"));
                }
                rest = &after[end..];
            }
        }
        Value::Array(items) => items.iter().for_each(|v| bindings(v, names, out)),
        Value::Object(map) => map.values().for_each(|v| bindings(v, names, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_and_are_recognised() {
        for (base, repo, n) in [
            ("web", "octo/app", 7_u64),
            ("a-very-long-application-name-that-goes-on", "octo/app", 12345),
            ("Web_App.v2", "octo/app", 1),
            ("9lives", "octo/app", 3),
            ("x", "Octo/App", 99_999_999),
        ] {
            let got = name(base, repo, n);
            assert!(got.len() <= MAX_NAME && got.len() >= 2, "{got}");
            assert!(got.starts_with(|c: char| c.is_ascii_lowercase()), "{got}");
            assert!(
                got.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{got}"
            );
            assert!(!got.contains("--") && !got.ends_with('-'), "{got}");
            assert_eq!(number_of(&got, base, repo), Some(n), "{got}");
        }
        assert_eq!(name("web", "octo/app", 7), name("web", "OCTO/app", 7));
        assert_ne!(name("web", "octo/app", 7), name("web", "octo/other", 7));
        assert_eq!(number_of(&name("web", "octo/app", 7), "web", "octo/other"), None);
        assert_eq!(number_of("web-pr7-deadbeef", "web", "octo/app"), None);
        assert_eq!(number_of("web", "web", "octo/app"), None);
    }

    #[test]
    fn pull_request_from_event() {
        let event = json!({"number": 5, "pull_request": {"number": 5, "head": {"ref": "feat", "sha": "abc", "repo": {"full_name": "fork/app"}}}});
        let pr = pull_request(Some(&event), "octo/app", None, None).unwrap();
        assert_eq!(pr.number, 5);
        assert_eq!(pr.head_ref.as_deref(), Some("feat"));
        assert_eq!(pr.head_repository.as_deref(), Some("fork/app"));
        assert_eq!(
            pull_request(Some(&event), "octo/app", Some(9), None)
                .unwrap()
                .number,
            9
        );
        assert_eq!(pull_request(Some(&json!({})), "octo/app", None, None), None);
        let from_var = pull_request(None, "octo/app", Some(3), Some("topic")).unwrap();
        assert_eq!(from_var.head_ref.as_deref(), Some("topic"));
    }

    /// Previews kept the spec's `databases:` unchanged, `production: true` clusters included: every
    /// pull request's preview was bound to the production database.
    #[test]
    fn shared_databases_are_kept_with_a_warning_replaced_or_dropped() {
        let spec = json!({"name": "shop", "databases": [
            {"name": "db", "engine": "PG", "version": "16", "production": true, "cluster_name": "shop-prod", "db_name": "shop", "db_user": "shop"},
            {"name": "cache", "engine": "REDIS", "production": true, "cluster_name": "shop-cache"},
            {"name": "scratch", "engine": "PG"},
            {"name": "legacy", "engine": "MYSQL", "cluster_name": "old"}
        ], "services": [{"name": "web", "envs": [
            {"key": "DATABASE_URL", "value": "${db.DATABASE_URL}"},
            {"key": "SCRATCH", "value": "${scratch.DATABASE_URL}"}
        ]}]});

        let mut kept = spec.clone();
        let notes = databases(&mut kept, Databases::Keep).unwrap();
        assert_eq!(kept, spec);
        assert_eq!(
            notes,
            vec![
                DatabaseNote::Shared {
                    name: "db".into(),
                    what: "cluster `shop-prod`".into()
                },
                DatabaseNote::Shared {
                    name: "cache".into(),
                    what: "cluster `shop-cache`".into()
                },
                DatabaseNote::Shared {
                    name: "legacy".into(),
                    what: "cluster `old`".into()
                },
            ]
        );

        let mut replaced = spec.clone();
        let notes = databases(&mut replaced, Databases::Replace).unwrap();
        assert_eq!(
            replaced["databases"],
            json!([{"name": "db", "engine": "PG", "version": "16"}, {"name": "scratch", "engine": "PG"}])
        );
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(
            matches!(&notes[1], DatabaseNote::Dropped { name, why } if name == "cache" && why.contains("REDIS"))
        );

        let mut dropped = spec.clone();
        let err = databases(&mut dropped, Databases::Drop).unwrap_err();
        assert_eq!(
            err,
            "the preview drops databases `db`, `cache`, `legacy`, but the spec still binds `${db.DATABASE_URL}`"
        );
        let mut unbound = json!({"name": "shop", "databases": [{"name": "db", "engine": "PG", "production": true}],
            "services": [{"name": "web"}]});
        databases(&mut unbound, Databases::Drop).unwrap();
        assert!(unbound.get("databases").is_none(), "{unbound}");
        let mut none = json!({"name": "shop"});
        assert_eq!(databases(&mut none, Databases::Drop), Ok(Vec::new()));
    }

    #[test]
    fn rewrite_strips_domains_and_alerts_and_points_sources_at_the_head() {
        let mut spec = json!({
            "name": "web", "domains": [{"domain": "example.com"}], "alerts": [{"rule": "DEPLOYMENT_FAILED"}],
            "services": [
                {"name": "api", "github": {"repo": "Octo/App", "branch": "main", "deploy_on_push": true}, "alerts": [{"rule": "CPU_UTILIZATION"}]},
                {"name": "other", "github": {"repo": "octo/lib", "branch": "main"}}
            ],
            "workers": [{"name": "w", "git": {"repo_clone_url": "https://github.com/octo/app.git", "branch": "main"}}]
        });
        let pr = PullRequest {
            number: 7,
            repository: "octo/app".into(),
            head_ref: Some("feat/x".into()),
            head_repository: Some("octo/app".into()),
            head_sha: None,
        };
        let changes = rewrite(&mut spec, &pr);
        assert_eq!(spec["name"], json!(name("web", "octo/app", 7)));
        assert!(spec.get("domains").is_none() && spec.get("alerts").is_none());
        assert!(spec["services"][0].get("alerts").is_none());
        assert_eq!(
            spec["services"][0]["github"],
            json!({"repo": "Octo/App", "branch": "feat/x", "deploy_on_push": false})
        );
        assert_eq!(spec["services"][1]["github"]["branch"], json!("main"));
        assert_eq!(spec["workers"][0]["git"]["branch"], json!("feat/x"));
        assert_eq!(changes.len(), 6, "{changes:?}");
    }
}
