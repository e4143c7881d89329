//! Which token scopes a request needs, read from DigitalOcean's description: an operation's
//! `security` (`bearer_auth: [droplet:read]`; any one of several requirements will do), and a query
//! parameter whose description says "Requires `tag:read` scope" when the request uses it.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde_json::Value;

use crate::sim::contract::read_document;
use crate::sim::{Contract, Ctx, Spec};

/// What one operation needs.
#[derive(Debug, Default)]
struct Needs {
    /// Alternatives: a token that holds every scope of one of them may call the operation.
    any_of: Vec<Vec<String>>,
    /// Query parameter → the scope using it needs.
    params: Vec<(String, String)>,
}

fn table() -> &'static HashMap<String, Needs> {
    static TABLE: OnceLock<HashMap<String, Needs>> = OnceLock::new();
    TABLE.get_or_init(|| {
        read_document(&Spec::DigitalOcean.subset_path())
            .map(|doc| build(&doc))
            .unwrap_or_default()
    })
}

fn build(doc: &Value) -> HashMap<String, Needs> {
    let mut table = HashMap::new();
    let resolve = |p: &Value| -> Value {
        p.get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/parameters/"))
            .and_then(|name| doc.pointer(&format!("/components/parameters/{name}")))
            .unwrap_or(p)
            .clone()
    };
    for item in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
    {
        for op in item.as_object().into_iter().flat_map(|ops| ops.values()) {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let any_of = op
                .get("security")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|req| {
                    req.as_object()
                        .into_iter()
                        .flat_map(|schemes| schemes.values())
                        .flat_map(|scopes| scopes.as_array().into_iter().flatten())
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .collect();
            let params = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(resolve)
                .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
                .filter_map(|p| {
                    let name = p.get("name")?.as_str()?.to_owned();
                    Some((name, required_scope(p.get("description")?.as_str()?)?))
                })
                .collect();
            table.insert(id.to_owned(), Needs { any_of, params });
        }
    }
    table
}

/// The scope in "… Requires `tag:read` scope." of a description.
fn required_scope(description: &str) -> Option<String> {
    let (_, rest) = description.split_once("Requires `")?;
    let (scope, after) = rest.split_once('`')?;
    after.trim_start().starts_with("scope").then(|| scope.to_owned())
}

/// Whether a token that lacks `withheld` may not make this request.
pub(super) fn forbidden(ctx: &Ctx, withheld: &HashSet<String>) -> bool {
    let Ok(contract) = Contract::vendored(Spec::DigitalOcean) else {
        return false;
    };
    let Some(needs) = contract
        .operation_id(&ctx.method, &ctx.path)
        .and_then(|id| table().get(id))
    else {
        return false;
    };
    let operation_ok = needs.any_of.is_empty()
        || needs
            .any_of
            .iter()
            .any(|scopes| scopes.iter().all(|s| !withheld.contains(s)));
    let params_ok = needs
        .params
        .iter()
        .all(|(name, scope)| ctx.query(name).is_none() || !withheld.contains(scope));
    !(operation_ok && params_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_come_from_the_description() {
        assert_eq!(
            required_scope("Used to filter Droplets by a specific tag.<br>Requires `tag:read` scope."),
            Some("tag:read".to_owned())
        );
        assert_eq!(required_scope("Use `name` here"), None);
        let t = table();
        assert_eq!(t["droplets_list"].any_of, vec![vec!["droplet:read".to_owned()]]);
        assert_eq!(
            t["droplets_list"].params,
            vec![("tag_name".to_owned(), "tag:read".to_owned())]
        );
        assert_eq!(
            t["loadBalancers_add_droplets"].any_of,
            vec![vec!["load_balancer:update".to_owned()]]
        );
        assert_eq!(t["apps_get"].any_of, vec![vec!["app:read".to_owned()]]);
        // DOKS: reading clusters and getting their credentials are separate custom scopes.
        let read = vec![vec!["kubernetes:read".to_owned()]];
        assert_eq!(t["kubernetes_list_clusters"].any_of, read);
        assert_eq!(t["kubernetes_get_cluster"].any_of, read);
        assert_eq!(
            t["kubernetes_get_credentials"].any_of,
            vec![vec!["kubernetes:access_cluster".to_owned()]]
        );
    }
}
