//! Response bodies shaped like DigitalOcean's API (App Platform, Droplets, Load Balancers, Kubernetes
//! clusters and their credentials).

use serde_json::{Value, json};

use super::doks::base64;
use super::fleet::LoadBalancer;
use super::{
    App, Deployment, DoState, Droplet, IssuedCredentials, KubernetesCluster, LbTarget, NetworkType, Outcome,
    Phase,
};
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

/// The region every Droplet and Load Balancer of the stand-in is in.
fn region() -> Value {
    json!({
        "name": "New York 3",
        "slug": "nyc3",
        "features": ["backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"],
        "available": true,
        "sizes": ["s-1vcpu-1gb", "s-1vcpu-2gb", "s-2vcpu-4gb"],
    })
}

/// A Droplet with every field the description requires; one network entry per address it has.
pub(crate) fn droplet(d: &Droplet) -> Value {
    let v4: Vec<Value> = [NetworkType::Public, NetworkType::Private]
        .into_iter()
        .filter_map(|kind| {
            let ip = d.ipv4(kind)?;
            let [a, b, c, _] = ip.octets();
            let mut net =
                json!({ "ip_address": ip.to_string(), "netmask": "255.255.255.0", "type": kind.as_str() });
            // Private interfaces have no gateway (DigitalOcean sends none).
            if kind == NetworkType::Public {
                net["gateway"] = json!(format!("{a}.{b}.{c}.1"));
            }
            Some(net)
        })
        .collect();
    json!({
        "id": d.id,
        "name": d.name,
        "memory": 1024,
        "vcpus": 1,
        "disk": 25,
        "locked": false,
        "status": d.status.as_str(),
        "created_at": rfc3339(d.created_at),
        "features": ["monitoring", "private_networking"],
        "backup_ids": [],
        "next_backup_window": null,
        "snapshot_ids": [],
        "image": {
            "id": 191_457_505,
            "name": "24.04 (LTS) x64",
            "distribution": "Ubuntu",
            "slug": "ubuntu-24-04-x64",
            "public": true,
            "regions": ["nyc3"],
            "created_at": "2025-06-10T16:14:43Z",
            "min_disk_size": 7,
            "type": "base",
            "size_gigabytes": 2.36,
            "tags": [],
            "status": "available",
        },
        "volume_ids": [],
        "size": {
            "slug": "s-1vcpu-1gb",
            "memory": 1024,
            "vcpus": 1,
            "disk": 25,
            "transfer": 1.0,
            "price_monthly": 6.0,
            "price_hourly": 0.008_93,
            "regions": ["nyc3"],
            "available": true,
            "description": "Basic",
        },
        "size_slug": "s-1vcpu-1gb",
        "networks": { "v4": v4, "v6": [] },
        "region": region(),
        "tags": d.tags,
        "vpc_uuid": "5eed0000-0000-4000-8000-00000000000c",
    })
}

/// A Load Balancer as `GET /v2/load_balancers/{lb_id}` shows it: `droplet_ids` (for a tag balancer,
/// the Droplets with the tag) and `tag` (empty for a balancer of Droplet IDs), as DigitalOcean sends
/// both.
pub(crate) fn load_balancer(s: &DoState, lb: &LoadBalancer) -> Value {
    let hc = &lb.health_check;
    let tag = match &lb.target {
        LbTarget::Tag(tag) => tag.as_str(),
        LbTarget::Droplets(_) => "",
    };
    json!({
        "id": lb.id,
        "name": lb.name,
        "ip": lb.ip.to_string(),
        "size_unit": 1,
        "type": "REGIONAL",
        "status": "active",
        "created_at": rfc3339(lb.created_at),
        "forwarding_rules": [{
            "entry_protocol": "http",
            "entry_port": 80,
            "target_protocol": "http",
            "target_port": 80,
            "certificate_id": "",
            "tls_passthrough": false,
        }],
        "health_check": {
            "protocol": hc.protocol.as_str(),
            "port": hc.port,
            "path": hc.path,
            "check_interval_seconds": hc.check_interval_seconds,
            "response_timeout_seconds": hc.response_timeout_seconds,
            "healthy_threshold": hc.healthy_threshold,
            "unhealthy_threshold": hc.unhealthy_threshold,
        },
        "sticky_sessions": { "type": "none" },
        "redirect_http_to_https": false,
        "enable_proxy_protocol": false,
        "enable_backend_keepalive": false,
        "http_idle_timeout_seconds": 60,
        "disable_lets_encrypt_dns_records": false,
        "firewall": { "allow": [], "deny": [] },
        "network": "EXTERNAL",
        "network_stack": "IPV4",
        "tls_cipher_policy": "DEFAULT",
        "vpc_uuid": "5eed0000-0000-4000-8000-00000000000c",
        "project_id": "5eed0000-0000-4000-8000-00000000000b",
        "region": region(),
        "droplet_ids": s.members(lb),
        "tag": tag,
    })
}

/// A cluster as `GET /v2/kubernetes/clusters/{cluster_id}` shows it (`cluster_read`): the required
/// `name`, `region`, `version` and `node_pools` (one pool whose nodes run), and the rest a real
/// cluster shows, with DigitalOcean's defaults.
pub(crate) fn kubernetes_cluster(c: &KubernetesCluster) -> Value {
    let at = rfc3339(c.created_at);
    let pool = format!("{}-default-pool", c.name);
    let nodes: Vec<Value> = c
        .nodes
        .iter()
        .map(|(id, droplet)| {
            json!({
                "id": id,
                "name": format!("{pool}-{}", &id[id.len() - 4..]),
                "status": { "state": "running" },
                "droplet_id": droplet.to_string(),
                "created_at": at,
                "updated_at": at,
            })
        })
        .collect();
    // A cluster without high availability shows its control plane's address; a stand-in on
    // loopback has one when its URL names it.
    let host = url::Url::parse(&c.server)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .filter(|h| h.parse::<std::net::Ipv4Addr>().is_ok())
        .unwrap_or_default();
    json!({
        "id": c.id,
        "name": c.name,
        "region": c.region,
        "version": c.version,
        "cluster_subnet": "10.244.0.0/16",
        "service_subnet": "10.245.0.0/16",
        "vpc_uuid": c.vpc_uuid,
        "ipv4": host,
        "endpoint": c.server,
        "tags": ["k8s", format!("k8s:{}", c.id)],
        "node_pools": [{
            "id": c.pool_id,
            "name": pool,
            "size": "s-2vcpu-4gb",
            "count": c.nodes.len(),
            "tags": ["k8s", format!("k8s:{}", c.id), "k8s:worker"],
            "labels": null,
            "taints": [],
            "auto_scale": false,
            "min_nodes": 0,
            "max_nodes": 0,
            "nodes": nodes,
        }],
        "maintenance_policy": { "start_time": "00:00", "duration": "4h0m0s", "day": "any" },
        "auto_upgrade": false,
        "isolated_workers": false,
        "status": { "state": c.state.as_str() },
        "created_at": at,
        "updated_at": at,
        "surge_upgrade": false,
        "ha": false,
        "registry_enabled": false,
        "registries": null,
    })
}

/// Credentials as `GET /v2/kubernetes/clusters/{cluster_id}/credentials` gives them to a cluster with
/// token authentication: no client certificate or key.
pub(crate) fn kubernetes_credentials(c: &KubernetesCluster, issued: &IssuedCredentials) -> Value {
    json!({
        "server": c.server,
        "certificate_authority_data": base64(c.certificate_authority_pem.as_bytes()),
        "client_certificate_data": null,
        "client_key_data": null,
        "token": issued.token,
        "expires_at": issued.expires_at_rfc3339(),
    })
}
