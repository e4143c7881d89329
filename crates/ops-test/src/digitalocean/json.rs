//! Response bodies shaped like DigitalOcean's App Platform API.

use serde_json::{Value, json};

use super::{App, Deployment, DoState, Outcome, Phase};
use crate::sim::rfc3339;

/// Component kinds of an app spec that run code.
pub(crate) const COMPONENT_KINDS: [&str; 5] = ["services", "workers", "jobs", "static_sites", "functions"];

pub(crate) fn component_names(spec: &Value, kinds: &[&str]) -> Vec<String> {
    kinds
        .iter()
        .flat_map(|k| spec.get(*k).and_then(Value::as_array).into_iter().flatten())
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// Whether the app serves HTTP (only then does it get a `live_url`, as on DigitalOcean).
pub(crate) fn serves_http(spec: &Value) -> bool {
    !component_names(spec, &["services", "static_sites"]).is_empty()
}

fn step(name: &str, status: &str, at: i64, reason: Option<(&str, &str)>, components: &[String]) -> Value {
    let mut v = json!({
        "name": name,
        "status": status,
        "started_at": rfc3339(at),
        "steps": components.iter().map(|c| {
            let mut sub = json!({ "name": name, "component_name": c, "status": status });
            if let Some((code, message)) = reason {
                sub["reason"] = json!({ "code": code, "message": message });
            }
            sub
        }).collect::<Vec<_>>(),
    });
    if matches!(status, "SUCCESS" | "ERROR") {
        v["ended_at"] = json!(rfc3339(at));
    }
    if let Some((code, message)) = reason {
        v["reason"] = json!({ "code": code, "message": message });
    }
    v
}

pub(crate) fn deployment(d: &Deployment) -> Value {
    let components = component_names(&d.spec, &COMPONENT_KINDS);
    let reason = match &d.outcome {
        Outcome::FailAt { code, message, .. } if d.phase == Phase::Error => {
            Some((code.as_str(), message.as_str()))
        }
        _ => None,
    };
    // Status of the build and deploy steps for each phase.
    let (build, deploy) = match d.phase {
        Phase::PendingBuild => ("PENDING", "PENDING"),
        Phase::Building => ("RUNNING", "PENDING"),
        Phase::PendingDeploy => ("SUCCESS", "PENDING"),
        Phase::Deploying => ("SUCCESS", "RUNNING"),
        Phase::Active | Phase::Superseded => ("SUCCESS", "SUCCESS"),
        Phase::Error if d.failed_in.is_some_and(Phase::is_build) => ("ERROR", "PENDING"),
        Phase::Error => ("SUCCESS", "ERROR"),
        Phase::Canceled => ("SUCCESS", "PENDING"),
    };
    let build_reason = if build == "ERROR" { reason } else { None };
    let deploy_reason = if deploy == "ERROR" { reason } else { None };
    let steps = vec![
        step("build", build, d.created_at, build_reason, &components),
        step("deploy", deploy, d.phase_at, deploy_reason, &components),
    ];
    let count = |s: &str| [build, deploy].iter().filter(|x| **x == s).count();
    let mut v = json!({
        "id": d.id,
        "spec": d.spec,
        "services": component_names(&d.spec, &["services"]).iter()
            .map(|n| json!({ "name": n, "source_commit_hash": "c0ffee0000000000000000000000000000000000" }))
            .collect::<Vec<_>>(),
        "phase": d.phase.as_str(),
        "phase_last_updated_at": rfc3339(d.phase_at),
        "created_at": rfc3339(d.created_at),
        "updated_at": rfc3339(d.updated_at),
        "cause": d.cause,
        "cause_details": { "type": d.kind },
        "progress": {
            "pending_steps": count("PENDING"),
            "running_steps": count("RUNNING"),
            "success_steps": count("SUCCESS"),
            "error_steps": count("ERROR"),
            "total_steps": 2,
            "steps": steps,
            "summary_steps": steps,
        },
        "tier_slug": "basic",
    });
    if let Some(from) = &d.cloned_from {
        v["cloned_from"] = json!(from);
    }
    v
}

pub(crate) fn app(s: &DoState, a: &App) -> Value {
    let slug = a.spec.get("name").and_then(Value::as_str).unwrap_or("app");
    let default_url = format!("https://{slug}-{}.ondigitalocean.app", &a.id[a.id.len() - 5..]);
    let live_url = s.ingress.get(slug).cloned().unwrap_or(default_url);
    let host = live_url
        .split_once("://")
        .map_or(live_url.as_str(), |(_, rest)| rest)
        .to_owned();
    let region = a.spec.get("region").and_then(Value::as_str).unwrap_or("nyc");
    let mut v = json!({
        "id": a.id,
        "owner_uuid": "5eed0000-0000-4000-8000-00000000000a",
        "spec": a.spec,
        "default_ingress": live_url,
        "created_at": rfc3339(a.created_at),
        "updated_at": rfc3339(a.updated_at),
        "region": { "slug": region, "label": region, "flag": "usa", "continent": "North America", "data_centers": [format!("{region}1")] },
        "tier_slug": "basic",
    });
    if !a.project_id.is_empty() {
        v["project_id"] = json!(a.project_id);
    }
    let dep = |id: &Option<String>| id.as_deref().and_then(|id| s.deployment(id)).map(deployment);
    if let Some(active) = dep(&a.active) {
        v["last_deployment_active_at"] = active["phase_last_updated_at"].clone();
        v["active_deployment"] = active;
        if serves_http(&a.spec) {
            v["live_url"] = json!(live_url);
            v["live_url_base"] = json!(live_url);
            v["live_domain"] = json!(host);
        }
    }
    if let Some(in_progress) = dep(&a.in_progress) {
        v["last_deployment_created_at"] = in_progress["created_at"].clone();
        v["in_progress_deployment"] = in_progress;
    }
    if let Some(pinned) = dep(&a.pinned) {
        v["pinned_deployment"] = pinned;
    }
    v
}
