//! The DigitalOcean stand-in's handlers, one per operation (named after the `operationId`, in snake case).

#![expect(
    clippy::result_large_err,
    reason = "the error of a handler is just its early reply, built once per request"
)]

use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::json::{
    COMPONENT_KINDS, app as app_json, component_names, deployment as deployment_json,
    droplet as droplet_json, kubernetes_cluster as cluster_json, kubernetes_credentials as credentials_json,
    load_balancer as load_balancer_json,
};
use super::{DoState, LbTarget, Phase, error};
use crate::sim::{Ctx, Reply, Route, paginate};

type R = Result<Reply, Reply>;

macro_rules! routes {
    ($($method:ident $path:literal => $handler:ident,)*) => {
        vec![$(Route::new(Method::$method, $path, |s, c| $handler(s, c).unwrap_or_else(|e| e)),)*]
    };
}

pub(super) fn all() -> Vec<Route<DoState>> {
    routes![
        GET "/v2/apps" => apps_list,
        POST "/v2/apps" => apps_create,
        POST "/v2/apps/propose" => apps_validate_app_spec,
        GET "/v2/apps/{id}" => apps_get,
        PUT "/v2/apps/{id}" => apps_update,
        DELETE "/v2/apps/{id}" => apps_delete,
        GET "/v2/apps/{app_id}/deployments" => apps_list_deployments,
        POST "/v2/apps/{app_id}/deployments" => apps_create_deployment,
        GET "/v2/apps/{app_id}/deployments/{deployment_id}" => apps_get_deployment,
        POST "/v2/apps/{app_id}/deployments/{deployment_id}/cancel" => apps_cancel_deployment,
        GET "/v2/apps/{app_id}/deployments/{deployment_id}/logs" => apps_get_logs_aggregate,
        GET "/v2/apps/{app_id}/deployments/{deployment_id}/components/{component_name}/logs" => apps_get_logs,
        POST "/v2/apps/{app_id}/rollback/validate" => apps_validate_rollback,
        POST "/v2/apps/{app_id}/rollback" => apps_create_rollback,
        POST "/v2/apps/{app_id}/rollback/commit" => apps_commit_rollback,
        POST "/v2/apps/{app_id}/rollback/revert" => apps_revert_rollback,
        GET "/v2/apps/{app_id}/health" => apps_get_health,
        GET "/v2/droplets" => droplets_list,
        GET "/v2/load_balancers" => load_balancers_list,
        GET "/v2/load_balancers/{lb_id}" => load_balancers_get,
        POST "/v2/load_balancers/{lb_id}/droplets" => load_balancers_add_droplets,
        DELETE "/v2/load_balancers/{lb_id}/droplets" => load_balancers_remove_droplets,
        GET "/v2/kubernetes/clusters" => kubernetes_list_clusters,
        GET "/v2/kubernetes/clusters/{cluster_id}" => kubernetes_get_cluster,
        GET "/v2/kubernetes/clusters/{cluster_id}/credentials" => kubernetes_get_credentials,
        GET "/sim/logs/{deployment_id}/{log_type}" => historic_logs,
    ]
}

fn not_found() -> Reply {
    error(
        StatusCode::NOT_FOUND,
        "The resource you were accessing could not be found.",
    )
}

fn bad_request(message: &str) -> Reply {
    error(StatusCode::BAD_REQUEST, message)
}

fn pinned_conflict() -> Reply {
    error(
        StatusCode::CONFLICT,
        "the app is pinned to a rollback deployment; commit or revert the rollback before deploying",
    )
}

fn body_of(ctx: &Ctx) -> Result<Value, Reply> {
    if ctx.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match ctx.json() {
        Some(v @ Value::Object(_)) => Ok(v),
        _ => Err(bad_request("request body is not a JSON object")),
    }
}

fn app_id(ctx: &Ctx) -> &str {
    let id = ctx.param("app_id");
    if id.is_empty() { ctx.param("id") } else { id }
}

fn known_app(s: &DoState, ctx: &Ctx) -> Result<String, Reply> {
    s.app(app_id(ctx)).map(|a| a.id.clone()).ok_or_else(not_found)
}

/// The checks DigitalOcean makes on a spec that matter to a deploy tool, plus any scripted
/// rejection ([`DoState::reject_next_spec`]).
fn validate_spec(s: &mut DoState, spec: Option<&Value>) -> Result<Value, Reply> {
    if let Some(message) = s.spec_rejections.pop_front() {
        return Err(bad_request(&message));
    }
    let spec = spec
        .filter(|v| v.is_object())
        .ok_or_else(|| bad_request("spec is required"))?;
    let name = spec.get("name").and_then(Value::as_str).unwrap_or_default();
    let name_ok = (2..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !name_ok {
        return Err(bad_request(&format!(
            "error validating app spec field \"name\": \"{name}\" must be 2-32 lowercase letters, digits or dashes"
        )));
    }
    let components = component_names(spec, &COMPONENT_KINDS);
    if components.is_empty() {
        return Err(bad_request(
            "error validating app spec: an app must have at least one component",
        ));
    }
    for (i, c) in components.iter().enumerate() {
        if components[..i].contains(c) {
            return Err(bad_request(&format!(
                "error validating app spec: duplicate component name \"{c}\""
            )));
        }
    }
    let rules = spec
        .pointer("/ingress/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for target in rules.filter_map(|r| r.pointer("/component/name").and_then(Value::as_str)) {
        if !components.iter().any(|c| c == target) {
            return Err(bad_request(&format!(
                "error validating app spec field \"ingress.rules.component.name\": component \"{target}\" does not exist"
            )));
        }
    }
    Ok(spec.clone())
}

fn apps_list(s: &mut DoState, ctx: &Ctx) -> R {
    let items: Vec<Value> = s.apps.iter().map(|a| app_json(s, a)).collect();
    let (page, per_page) = ctx.page(20, 200);
    let (slice, last) = paginate(&items, page, per_page);
    let mut body = json!({ "apps": slice, "links": { "pages": links(ctx, page, last, per_page) }, "meta": { "total": items.len() } });
    if items.is_empty() {
        body["links"] = json!({});
    }
    Ok(Reply::json(200, &body))
}

/// `links.pages` of a list: `next`/`last` when more pages follow, `first`/`prev` after the first,
/// each with the request's other query parameters (a `tag_name` filter stays on every page).
fn links(ctx: &Ctx, page: usize, last: usize, per_page: usize) -> Value {
    let url = |p: usize| {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        pairs.append_pair("page", &p.to_string());
        pairs.append_pair("per_page", &per_page.to_string());
        for (k, v) in ctx.query.iter().filter(|(k, _)| k != "page" && k != "per_page") {
            pairs.append_pair(k, v);
        }
        format!("{}{}?{}", ctx.public_url, ctx.path, pairs.finish())
    };
    let mut pages = json!({});
    if page < last {
        pages["next"] = json!(url(page + 1));
        pages["last"] = json!(url(last));
    }
    if page > 1 {
        pages["first"] = json!(url(1));
        pages["prev"] = json!(url(page - 1));
    }
    pages
}

/// One page of `items` under `key`, with `links` and `meta.total` as DigitalOcean lists have them.
fn list_page(ctx: &Ctx, key: &str, items: &[Value]) -> Reply {
    let (page, per_page) = ctx.page(20, 200);
    let (slice, last) = paginate(items, page, per_page);
    let pages = links(ctx, page, last, per_page);
    let links = if pages.as_object().is_some_and(serde_json::Map::is_empty) {
        json!({})
    } else {
        json!({ "pages": pages })
    };
    let mut body = json!({ "links": links, "meta": { "total": items.len() } });
    body[key] = Value::Array(slice);
    Reply::json(200, &body)
}

fn apps_create(s: &mut DoState, ctx: &Ctx) -> R {
    let b = body_of(ctx)?;
    let spec = validate_spec(s, b.get("spec"))?;
    let name = spec.get("name").cloned();
    if s.apps.iter().any(|a| a.spec.get("name") == name.as_ref()) {
        return Err(error(
            StatusCode::CONFLICT,
            "an app with this name already exists",
        ));
    }
    let project = b
        .get("project_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let id = s.create_app(spec, project);
    s.create_deployment(&id, "initial deployment", "MANUAL", None);
    let app = s.app(&id).ok_or_else(not_found)?;
    Ok(Reply::json(200, &json!({ "app": app_json(s, app) })))
}

fn apps_validate_app_spec(s: &mut DoState, ctx: &Ctx) -> R {
    let b = body_of(ctx)?;
    let spec = validate_spec(s, b.get("spec"))?;
    let own = b.get("app_id").and_then(Value::as_str);
    let available = !s
        .apps
        .iter()
        .any(|a| a.spec.get("name") == spec.get("name") && Some(a.id.as_str()) != own);
    let components = component_names(&spec, &COMPONENT_KINDS).len();
    let is_static = component_names(&spec, &["services", "workers", "jobs", "functions"]).is_empty();
    let cost = i64::try_from(components).unwrap_or(i64::MAX).saturating_mul(5);
    Ok(Reply::json(
        200,
        &json!({ "spec": spec, "app_name_available": available, "app_cost": cost, "app_is_static": is_static }),
    ))
}

fn apps_get(s: &mut DoState, ctx: &Ctx) -> R {
    let id = known_app(s, ctx)?;
    let app = s.app(&id).ok_or_else(not_found)?;
    Ok(Reply::json(200, &json!({ "app": app_json(s, app) })))
}

fn apps_update(s: &mut DoState, ctx: &Ctx) -> R {
    let id = known_app(s, ctx)?;
    let b = body_of(ctx)?;
    if s.pinned(&id).is_some() {
        return Err(pinned_conflict());
    }
    let spec = validate_spec(s, b.get("spec"))?;
    let now = s.now();
    if let Some(app) = s.app_mut(&id) {
        app.spec = spec;
        app.updated_at = now;
    }
    s.create_deployment(&id, "app spec updated", "MANUAL", None);
    let app = s.app(&id).ok_or_else(not_found)?;
    Ok(Reply::json(200, &json!({ "app": app_json(s, app) })))
}

fn apps_delete(s: &mut DoState, ctx: &Ctx) -> R {
    let id = known_app(s, ctx)?;
    s.apps.retain(|a| a.id != id);
    s.deployments.retain(|d| d.app_id != id);
    Ok(Reply::json(200, &json!({ "id": id })))
}

fn apps_list_deployments(s: &mut DoState, ctx: &Ctx) -> R {
    let id = known_app(s, ctx)?;
    let types: Vec<&str> = ctx
        .query
        .iter()
        .filter(|(k, _)| k == "deployment_types")
        .flat_map(|(_, v)| v.split(','))
        .collect();
    let items: Vec<Value> = s
        .deployments
        .iter()
        .rev()
        .filter(|d| d.app_id == id)
        .filter(|d| types.is_empty() || types.contains(&d.kind.as_str()))
        .map(deployment_json)
        .collect();
    let (page, per_page) = ctx.page(20, 200);
    let (slice, last) = paginate(&items, page, per_page);
    Ok(Reply::json(
        200,
        &json!({ "deployments": slice, "links": { "pages": links(ctx, page, last, per_page) }, "meta": { "total": items.len() } }),
    ))
}

fn apps_create_deployment(s: &mut DoState, ctx: &Ctx) -> R {
    let id = known_app(s, ctx)?;
    let b = body_of(ctx)?;
    if s.pinned(&id).is_some() {
        return Err(pinned_conflict());
    }
    let cause = if b.get("force_build").and_then(Value::as_bool) == Some(true) {
        "manual (force build)"
    } else {
        "manual"
    };
    let dep = s.create_deployment(&id, cause, "MANUAL", None);
    let d = s.deployment(&dep).ok_or_else(not_found)?;
    Ok(Reply::json(200, &json!({ "deployment": deployment_json(d) })))
}

fn find_deployment(s: &DoState, ctx: &Ctx) -> Result<String, Reply> {
    let id = known_app(s, ctx)?;
    s.deployments
        .iter()
        .find(|d| d.app_id == id && d.id == ctx.param("deployment_id"))
        .map(|d| d.id.clone())
        .ok_or_else(not_found)
}

fn apps_get_deployment(s: &mut DoState, ctx: &Ctx) -> R {
    let dep = find_deployment(s, ctx)?;
    // Polling is what moves virtual time for a deployment.
    s.poll(&dep);
    let d = s.deployment(&dep).ok_or_else(not_found)?;
    Ok(Reply::json(200, &json!({ "deployment": deployment_json(d) })))
}

fn apps_cancel_deployment(s: &mut DoState, ctx: &Ctx) -> R {
    let dep = find_deployment(s, ctx)?;
    let now = s.now();
    let d = s
        .deployments
        .iter_mut()
        .find(|d| d.id == dep)
        .ok_or_else(not_found)?;
    if d.phase.is_terminal() {
        return Err(bad_request("the deployment has already finished"));
    }
    d.phase = Phase::Canceled;
    d.phase_at = now;
    let app_id = d.app_id.clone();
    if let Some(app) = s.app_mut(&app_id)
        && app.in_progress.as_deref() == Some(dep.as_str())
    {
        app.in_progress = None;
    }
    let d = s.deployment(&dep).ok_or_else(not_found)?;
    Ok(Reply::json(200, &json!({ "deployment": deployment_json(d) })))
}

fn logs(s: &DoState, ctx: &Ctx, component: Option<&str>) -> R {
    let dep = find_deployment(s, ctx)?;
    let log_type = ctx.query("type").unwrap_or("UNSPECIFIED");
    if !["BUILD", "DEPLOY", "RUN", "RUN_RESTARTED", "AUTOSCALE_EVENT"].contains(&log_type) {
        return Err(bad_request(
            "type must be one of BUILD, DEPLOY, RUN, RUN_RESTARTED, AUTOSCALE_EVENT",
        ));
    }
    // Real archives live on another host; the stand-in serves them itself, outside the API.
    let mut url = format!("{}/sim/logs/{dep}/{log_type}", ctx.own_url);
    if let Some(c) = component {
        url.push_str(&format!("?component={c}"));
    }
    Ok(Reply::json(200, &json!({ "historic_urls": [url] })))
}

fn apps_get_logs_aggregate(s: &mut DoState, ctx: &Ctx) -> R {
    logs(s, ctx, None)
}

fn apps_get_logs(s: &mut DoState, ctx: &Ctx) -> R {
    logs(s, ctx, Some(ctx.param("component_name")))
}

fn historic_logs(s: &mut DoState, ctx: &Ctx) -> R {
    let (dep, log_type) = (ctx.param("deployment_id"), ctx.param("log_type"));
    let d = s.deployment(dep).ok_or_else(not_found)?;
    let text = s
        .logs
        .get(&(dep.to_owned(), log_type.to_owned()))
        .cloned()
        .unwrap_or_else(|| {
            let mut lines = vec![
                format!("{log_type} log of deployment {dep}"),
                format!("phase {}", d.phase.as_str()),
            ];
            if let super::Outcome::FailAt { message, .. } = &d.outcome
                && d.phase == Phase::Error
            {
                lines.push(format!("error: {message}"));
            }
            lines.join("\n") + "\n"
        });
    Ok(Reply::text(200, "text/plain; charset=utf-8", text))
}

/// The verdict of a rollback validation: `Err` holds the blocking condition.
fn rollback_check(s: &DoState, app_id: &str, target: &str) -> Result<Vec<Value>, Value> {
    let cond = |code: &str, message: &str| json!({ "code": code, "message": message });
    if s.pinned(app_id).is_some() {
        return Err(cond(
            "app_pinned",
            "the app is pinned to a rollback deployment; commit or revert it first",
        ));
    }
    let d = s
        .deployments
        .iter()
        .find(|d| d.app_id == app_id && d.id == target)
        .ok_or_else(|| cond("incompatible_result", "no such deployment of this app"))?;
    if !matches!(d.phase, Phase::Active | Phase::Superseded) {
        return Err(cond(
            "incompatible_result",
            "only a deployment that became active can be rolled back to",
        ));
    }
    if s.active(app_id).as_deref() == Some(target) {
        return Err(cond("incompatible_phase", "the deployment is the active one"));
    }
    // Image sources without a digest may have moved on since; DigitalOcean warns about them.
    let kinds = ["services", "workers", "jobs"];
    let undigested: Vec<String> = kinds
        .iter()
        .flat_map(|k| d.spec.get(*k).and_then(Value::as_array).into_iter().flatten())
        .filter(|c| c.get("image").is_some_and(|i| i.get("digest").is_none()))
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    Ok(if undigested.is_empty() {
        Vec::new()
    } else {
        vec![json!({
            "code": "image_source_missing_digest",
            "message": "image sources without a digest may deploy a different image than before",
            "components": undigested,
        })]
    })
}

fn apps_validate_rollback(s: &mut DoState, ctx: &Ctx) -> R {
    let id = known_app(s, ctx)?;
    let b = body_of(ctx)?;
    let target = b.get("deployment_id").and_then(Value::as_str).unwrap_or_default();
    Ok(Reply::json(
        200,
        &match rollback_check(s, &id, target) {
            Ok(warnings) => json!({ "valid": true, "warnings": warnings }),
            Err(condition) => json!({ "valid": false, "error": condition, "warnings": [] }),
        },
    ))
}

fn apps_create_rollback(s: &mut DoState, ctx: &Ctx) -> R {
    let id = known_app(s, ctx)?;
    let b = body_of(ctx)?;
    let target = b
        .get("deployment_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let Err(condition) = rollback_check(s, &id, &target) {
        return Err(bad_request(
            condition["message"]
                .as_str()
                .unwrap_or("rollback is not possible"),
        ));
    }
    let spec = s
        .deployment(&target)
        .map(|d| d.spec.clone())
        .ok_or_else(not_found)?;
    let skip_pin = b.get("skip_pin").and_then(Value::as_bool) == Some(true);
    if let Some(app) = s.app_mut(&id) {
        app.before_rollback = Some(std::mem::replace(&mut app.spec, spec));
    }
    let dep = s.create_deployment(&id, "manual rollback", "MANUAL_ROLLBACK", Some(target));
    if !skip_pin && let Some(app) = s.app_mut(&id) {
        // Pinned until commit or revert: no other deployment may start meanwhile.
        app.pinned = Some(dep.clone());
    }
    let d = s.deployment(&dep).ok_or_else(not_found)?;
    Ok(Reply::json(200, &json!({ "deployment": deployment_json(d) })))
}

fn apps_commit_rollback(s: &mut DoState, ctx: &Ctx) -> R {
    let id = known_app(s, ctx)?;
    let app = s.app_mut(&id).ok_or_else(not_found)?;
    if app.pinned.take().is_none() {
        return Err(bad_request("the app has no rollback to commit"));
    }
    app.before_rollback = None;
    Ok(Reply::empty(200))
}

fn apps_revert_rollback(s: &mut DoState, ctx: &Ctx) -> R {
    let id = known_app(s, ctx)?;
    let app = s.app_mut(&id).ok_or_else(not_found)?;
    if app.pinned.take().is_none() {
        return Err(bad_request("the app has no rollback to revert"));
    }
    if let Some(spec) = app.before_rollback.take() {
        app.spec = spec;
    }
    let dep = s.create_deployment(&id, "rollback reverted", "MANUAL", None);
    let d = s.deployment(&dep).ok_or_else(not_found)?;
    Ok(Reply::json(200, &json!({ "deployment": deployment_json(d) })))
}

fn apps_get_health(s: &mut DoState, ctx: &Ctx) -> R {
    let id = known_app(s, ctx)?;
    let app = s.app(&id).ok_or_else(not_found)?;
    let components: Vec<Value> = match s.health.get(&id) {
        Some(list) => list
            .iter()
            .map(|c| json!({ "name": c.name, "state": c.state, "replicas_ready": c.ready, "replicas_desired": c.desired }))
            .collect(),
        None => {
            let healthy = app.active.is_some();
            component_names(&app.spec, &["services", "workers"])
                .iter()
                .map(|n| {
                    json!({
                        "name": n,
                        "state": if healthy { "HEALTHY" } else { "UNKNOWN" },
                        "replicas_ready": i64::from(healthy),
                        "replicas_desired": 1,
                    })
                })
                .collect()
        }
    };
    Ok(Reply::json(
        200,
        &json!({ "app_health": { "components": components } }),
    ))
}

fn droplets_list(s: &mut DoState, ctx: &Ctx) -> R {
    let tag = ctx.query("tag_name");
    let name = ctx.query("name");
    let kind = ctx.query("type");
    if tag.is_some() && (name.is_some() || kind.is_some()) {
        return Err(bad_request(
            "`tag_name` can not be combined with `name` or `type`",
        ));
    }
    // Only non-GPU Droplets unless `type=gpus`; the stand-in has no GPU Droplets.
    let gpus = kind == Some("gpus");
    let items: Vec<Value> = s
        .droplets
        .iter()
        .filter(|_| !gpus)
        .filter(|d| tag.is_none_or(|t| d.tags.iter().any(|x| x == t)))
        .filter(|d| name.is_none_or(|n| d.name.eq_ignore_ascii_case(n)))
        .map(droplet_json)
        .collect();
    Ok(list_page(ctx, "droplets", &items))
}

fn load_balancers_list(s: &mut DoState, ctx: &Ctx) -> R {
    let items: Vec<Value> = s
        .load_balancers
        .iter()
        .map(|lb| load_balancer_json(s, lb))
        .collect();
    Ok(list_page(ctx, "load_balancers", &items))
}

fn load_balancers_get(s: &mut DoState, ctx: &Ctx) -> R {
    let lb = s.load_balancer(ctx.param("lb_id")).ok_or_else(not_found)?;
    Ok(Reply::json(
        200,
        &json!({ "load_balancer": load_balancer_json(s, lb) }),
    ))
}

fn load_balancers_add_droplets(s: &mut DoState, ctx: &Ctx) -> R {
    change_droplets(s, ctx, true)
}

fn load_balancers_remove_droplets(s: &mut DoState, ctx: &Ctx) -> R {
    change_droplets(s, ctx, false)
}

/// Adds (`add`) or removes a balancer's Droplets: 204, 422 for a balancer that targets a tag or a
/// Droplet that does not exist; the balancer's callback is told before the answer, and a failing
/// callback leaves everything as it was (500).
fn change_droplets(s: &mut DoState, ctx: &Ctx, add: bool) -> R {
    let id = ctx.param("lb_id").to_owned();
    let lb = s.load_balancer(&id).ok_or_else(not_found)?;
    let LbTarget::Droplets(current) = &lb.target else {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "droplets can not be added to or removed from a load balancer that targets a tag",
        ));
    };
    let b = body_of(ctx)?;
    let ids: Vec<u64> = b
        .get("droplet_ids")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect();
    let mut next = current.clone();
    if add {
        if let Some(unknown) = ids.iter().find(|d| s.droplet(**d).is_none()) {
            return Err(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("droplet {unknown} does not exist"),
            ));
        }
        for d in &ids {
            if !next.contains(d) {
                next.push(*d);
            }
        }
    } else {
        next.retain(|d| !ids.contains(d));
    }
    if let Err(message) = s.tell_watcher(&id, &next) {
        return Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("the load balancer could not apply the change: {message}"),
        ));
    }
    if let Some(lb) = s.load_balancers.iter_mut().find(|l| l.id == id) {
        lb.target = LbTarget::Droplets(next);
    }
    Ok(Reply::empty(204))
}

fn kubernetes_list_clusters(s: &mut DoState, ctx: &Ctx) -> R {
    let items: Vec<Value> = s.kubernetes_clusters().iter().map(cluster_json).collect();
    Ok(list_page(ctx, "kubernetes_clusters", &items))
}

fn kubernetes_get_cluster(s: &mut DoState, ctx: &Ctx) -> R {
    let c = s
        .kubernetes_cluster(ctx.param("cluster_id"))
        .ok_or_else(not_found)?;
    Ok(Reply::json(
        200,
        &json!({ "kubernetes_cluster": cluster_json(c) }),
    ))
}

/// A fresh token for `expiry_seconds` (7 days when 0 or absent), recorded and told to the test's
/// callback before the answer leaves.
fn kubernetes_get_credentials(s: &mut DoState, ctx: &Ctx) -> R {
    let id = ctx.param("cluster_id");
    if s.kubernetes_cluster(id).is_none() {
        return Err(not_found());
    }
    // The description check has refused anything but a non-negative integer already.
    let asked = match ctx.query("expiry_seconds") {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| bad_request("expiry_seconds must be a non-negative integer"))?,
        ),
    };
    let issued = s.issue_kubernetes_credentials(id, asked);
    let c = s.kubernetes_cluster(id).ok_or_else(not_found)?;
    Ok(Reply::json(200, &credentials_json(c, &issued)))
}
