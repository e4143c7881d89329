//! Field ownership, as server-side apply keeps it: which field manager owns which fields of an
//! object, what an apply conflicts with, what it removes, and what plain writes (create, PUT,
//! merge patches) take over.
//!
//! A field is a path of map keys (`spec`, `template`, `metadata`, `labels`, `app.kubernetes.io/name`);
//! maps are walked, anything else is a leaf, lists included: a list is owned, replaced and compared
//! as a whole (the real API server merges lists such as `containers` item by item, by their merge
//! keys). Two managers that set a field to the same value share it; a field only the applier owned
//! and no longer applies is removed; a field a plain write changes becomes the writer's.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

/// A field: the keys from the object's root.
pub(crate) type Path = Vec<String>;

/// How a manager wrote its fields (`managedFields[].operation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Operation {
    Apply,
    Update,
}

/// A field manager as `managedFields` names it: the same name applying and updating counts as two.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Manager {
    pub(crate) name: String,
    pub(crate) operation: Operation,
}

impl Manager {
    pub(crate) fn apply(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            operation: Operation::Apply,
        }
    }

    pub(crate) fn update(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            operation: Operation::Update,
        }
    }

    /// How a conflict names it: `"ci"`, or `"kubectl-edit" using apps/v1` for a plain writer.
    fn shown(&self, api_version: &str) -> String {
        match self.operation {
            Operation::Apply => format!("{:?}", self.name),
            Operation::Update => format!("{:?} using {api_version}", self.name),
        }
    }
}

/// What one manager owns, and when it last wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Owned {
    pub(crate) paths: BTreeSet<Path>,
    pub(crate) time: String,
}

/// Every manager of one object.
pub(crate) type Owners = BTreeMap<Manager, Owned>;

/// The parts of an object its writers own (status is the controllers', metadata the server sets
/// is nobody's).
const PARTS: [&str; 7] = [
    "metadata",
    "spec",
    "data",
    "stringData",
    "binaryData",
    "type",
    "immutable",
];

const SERVER_SET: [&str; 9] = [
    "name",
    "namespace",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
];

/// `.spec.replicas`: how the API server writes a path.
pub(crate) fn dotted(path: &[String]) -> String {
    path.iter().map(|k| format!(".{k}")).collect()
}

fn walk(value: &Value, path: &mut Path, out: &mut Vec<(Path, Value)>) {
    match value.as_object() {
        Some(map) if !map.is_empty() => {
            for (k, v) in map {
                path.push(k.clone());
                walk(v, path, out);
                path.pop();
            }
        }
        _ => out.push((path.clone(), value.clone())),
    }
}

/// The fields an object sets, with their values.
pub(crate) fn fields_of(object: &Value) -> Vec<(Path, Value)> {
    let mut out = Vec::new();
    for part in PARTS {
        if let Some(v) = object.get(part) {
            walk(v, &mut vec![part.to_owned()], &mut out);
        }
    }
    out.retain(|(path, _)| match path.as_slice() {
        [part] => part != "metadata",
        [part, field] => !(part == "metadata" && SERVER_SET.contains(&field.as_str())),
        _ => true,
    });
    out
}

/// The value at a path.
pub(crate) fn value_at<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(object, |v, k| v.get(k))
}

fn set_at(object: &mut Value, path: &[String], value: Value) {
    let mut at = object;
    for key in path {
        if !at.is_object() {
            *at = json!({});
        }
        at = &mut at[key.as_str()];
    }
    *at = value;
}

/// Removes a field, and the maps that held only it (but never `metadata` or `spec` themselves):
/// the API server writes no empty `annotations` or `data`.
fn remove_at(object: &mut Value, path: &[String]) {
    fn go(at: &mut Value, path: &[String], depth: usize) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let Some(map) = at.as_object_mut() else {
            return;
        };
        if rest.is_empty() {
            map.remove(first);
            return;
        }
        if let Some(next) = map.get_mut(first) {
            go(next, rest, depth + 1);
            let kept = depth == 0 && matches!(first.as_str(), "metadata" | "spec");
            if !kept && next.as_object().is_some_and(Map::is_empty) {
                map.remove(first);
            }
        }
    }
    go(object, path, 0);
}

/// Fields an apply would take from other managers that set them to other values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conflict {
    pub(crate) manager: Manager,
    pub(crate) path: Path,
}

/// The message and causes of a 409 for conflicts, worded like the API server.
pub(crate) fn conflict_status(conflicts: &[Conflict], api_version: &str) -> (String, Vec<Value>) {
    let causes = conflicts
        .iter()
        .map(|c| {
            json!({"reason": "FieldManagerConflict",
                "message": format!("conflict with {}", c.manager.shown(api_version)),
                "field": dotted(&c.path)})
        })
        .collect();
    if let [one] = conflicts {
        return (
            format!(
                "Apply failed with 1 conflict: conflict with {}: {}",
                one.manager.shown(api_version),
                dotted(&one.path)
            ),
            causes,
        );
    }
    let mut by_manager: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in conflicts {
        by_manager
            .entry(c.manager.shown(api_version))
            .or_default()
            .push(dotted(&c.path));
    }
    let mut lines = Vec::new();
    for (manager, paths) in by_manager {
        lines.push(format!("conflicts with {manager}:"));
        lines.extend(paths.into_iter().map(|p| format!("- {p}")));
    }
    (
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        ),
        causes,
    )
}

/// Applies `applied` as `manager` onto `existing` (or onto nothing, creating): the object and
/// its owners after, or the conflicts that stop it (none when `force`, which takes the fields).
pub(crate) fn apply(
    existing: Option<&Value>,
    owners: &Owners,
    manager: &str,
    applied: &Value,
    force: bool,
    time: &str,
) -> Result<(Value, Owners), Vec<Conflict>> {
    let me = Manager::apply(manager);
    let fields = fields_of(applied);
    let differs = |path: &Path, value: &Value| existing.and_then(|o| value_at(o, path)) != Some(value);
    let mut conflicts = Vec::new();
    for (path, value) in &fields {
        if !differs(path, value) {
            continue;
        }
        for (other, owned) in owners {
            if *other != me && owned.paths.contains(path) {
                conflicts.push(Conflict {
                    manager: other.clone(),
                    path: path.clone(),
                });
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }
    let mut object = existing.cloned().unwrap_or_else(|| json!({"metadata": {}}));
    let now: BTreeSet<Path> = fields.iter().map(|(p, _)| p.clone()).collect();
    if let Some(before) = owners.get(&me) {
        for dropped in before.paths.difference(&now) {
            let shared = owners.iter().any(|(m, o)| *m != me && o.paths.contains(dropped));
            if !shared {
                remove_at(&mut object, dropped);
            }
        }
    }
    let mut after = owners.clone();
    for (path, value) in &fields {
        if differs(path, value) {
            // Forced, or nobody else had it: the field is the applier's alone now.
            for (m, owned) in &mut after {
                if *m != me {
                    owned.paths.remove(path);
                }
            }
        }
        set_at(&mut object, path, value.clone());
    }
    let changed = owners.get(&me).map(|o| &o.paths) != Some(&now) || existing != Some(&object);
    let entry = after.entry(me).or_default();
    entry.paths = now;
    if changed || entry.time.is_empty() {
        entry.time = time.to_owned();
    }
    after.retain(|_, o| !o.paths.is_empty());
    Ok((object, after))
}

/// Owners after a plain write by `manager` of `new` over `old` (nothing, for a create): fields it
/// changed or added are its alone, fields it removed are nobody's.
pub(crate) fn update(old: Option<&Value>, new: &Value, owners: &Owners, manager: &str, time: &str) -> Owners {
    let me = Manager::update(manager);
    let before: BTreeMap<Path, Value> = old.map(fields_of).unwrap_or_default().into_iter().collect();
    let after_fields: BTreeMap<Path, Value> = fields_of(new).into_iter().collect();
    let mut after = owners.clone();
    let mut taken = BTreeSet::new();
    for (path, value) in &after_fields {
        if before.get(path) != Some(value) {
            taken.insert(path.clone());
        }
    }
    for (m, owned) in &mut after {
        owned
            .paths
            .retain(|p| after_fields.contains_key(p) && (*m == me || !taken.contains(p)));
    }
    if !taken.is_empty() {
        let entry = after.entry(me).or_default();
        entry.paths.extend(taken);
        entry.time = time.to_owned();
    }
    after.retain(|_, o| !o.paths.is_empty());
    after
}

/// `metadata.managedFields` for these owners, with `fieldsV1` in the API server's `f:` form.
pub(crate) fn managed_fields(owners: &Owners, api_version: &str) -> Value {
    let entries: Vec<Value> = owners
        .iter()
        .map(|(m, owned)| {
            let mut fields = json!({});
            for path in &owned.paths {
                let mut at = &mut fields;
                for key in path {
                    at = &mut at[format!("f:{key}")];
                    if !at.is_object() {
                        *at = json!({});
                    }
                }
            }
            let mut entry = json!({
                "operation": match m.operation { Operation::Apply => "Apply", Operation::Update => "Update" },
                "apiVersion": api_version, "time": owned.time,
                "fieldsType": "FieldsV1", "fieldsV1": fields,
            });
            if !m.name.is_empty() {
                entry["manager"] = json!(m.name);
            }
            entry
        })
        .collect();
    json!(entries)
}

/// Owners from `managedFields` a client wrote: entries read back as [`managed_fields`] writes
/// them (a list item's own keys, `k:…` and `v:…`, stand for the whole list, which is one field
/// here). An entry with no manager and no fields, as in `[{}]`, owns nothing, which clears them.
pub(crate) fn parse_managed_fields(entries: &[Value]) -> Owners {
    fn walk(node: &Value, path: &mut Path, out: &mut BTreeSet<Path>) {
        let children: Vec<(&str, &Value)> = node
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| k.strip_prefix("f:").map(|k| (k, v)))
            .collect();
        if children.is_empty() {
            if !path.is_empty() {
                out.insert(path.clone());
            }
            return;
        }
        for (key, child) in children {
            path.push(key.to_owned());
            walk(child, path, out);
            path.pop();
        }
    }
    let mut owners = Owners::new();
    for entry in entries {
        let mut paths = BTreeSet::new();
        walk(&entry["fieldsV1"], &mut Vec::new(), &mut paths);
        if paths.is_empty() {
            continue;
        }
        let name = entry["manager"].as_str().unwrap_or_default();
        let manager = if entry["operation"] == "Apply" {
            Manager::apply(name)
        } else {
            Manager::update(name)
        };
        let owned = owners.entry(manager).or_default();
        owned.paths.extend(paths);
        owned.time = entry["time"].as_str().unwrap_or_default().to_owned();
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}, "data": data})
    }

    fn path(dotted: &str) -> Path {
        dotted.split('.').skip(1).map(str::to_owned).collect()
    }

    #[test]
    fn a_key_with_dots_is_one_field() {
        let applied = json!({"metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "web"}}});
        let (object, owners) = apply(None, &Owners::new(), "ci", &applied, false, "t").unwrap();
        assert_eq!(object["metadata"]["labels"]["app.kubernetes.io/name"], "web");
        let owned = &owners[&Manager::apply("ci")].paths;
        assert!(owned.contains(&vec![
            "metadata".to_owned(),
            "labels".to_owned(),
            "app.kubernetes.io/name".to_owned()
        ]));
        assert!(
            !owned
                .iter()
                .any(|p| p.last().is_some_and(|k| k == "name" && p.len() == 2))
        );
    }

    #[test]
    fn an_apply_removes_what_its_manager_no_longer_applies() {
        let (v1, owners) = apply(
            None,
            &Owners::new(),
            "ci",
            &cm(json!({"a": "1", "b": "2"})),
            false,
            "t",
        )
        .unwrap();
        let (v2, owners) = apply(Some(&v1), &owners, "ci", &cm(json!({"a": "1"})), false, "t").unwrap();
        assert_eq!(v2["data"], json!({"a": "1"}));
        // Dropping the last key drops the map, as the API server writes no empty `data`.
        let mut none = cm(json!({}));
        none.as_object_mut().unwrap().remove("data");
        let (v3, _) = apply(Some(&v2), &owners, "ci", &none, false, "t").unwrap();
        assert_eq!(v3.get("data"), None, "{v3}");
    }

    #[test]
    fn a_field_another_manager_also_set_survives_being_dropped() {
        let (v1, owners) = apply(
            None,
            &Owners::new(),
            "ci",
            &cm(json!({"a": "1", "b": "2"})),
            false,
            "t",
        )
        .unwrap();
        // Same value: shared, no conflict.
        let (v2, owners) = apply(Some(&v1), &owners, "ops", &cm(json!({"b": "2"})), false, "t").unwrap();
        let (v3, _) = apply(Some(&v2), &owners, "ci", &cm(json!({"a": "1"})), false, "t").unwrap();
        assert_eq!(v3["data"], json!({"a": "1", "b": "2"}));
    }

    #[test]
    fn a_different_value_conflicts_unless_forced() {
        let (v1, owners) = apply(None, &Owners::new(), "ci", &cm(json!({"a": "1"})), false, "t").unwrap();
        let conflicts = apply(Some(&v1), &owners, "ops", &cm(json!({"a": "2"})), false, "t").unwrap_err();
        assert_eq!(
            conflicts,
            [Conflict {
                manager: Manager::apply("ci"),
                path: path(".data.a")
            }]
        );
        let (message, causes) = conflict_status(&conflicts, "v1");
        assert_eq!(
            message,
            "Apply failed with 1 conflict: conflict with \"ci\": .data.a"
        );
        assert_eq!(
            causes,
            [
                json!({"reason": "FieldManagerConflict", "message": "conflict with \"ci\"", "field": ".data.a"})
            ]
        );
        let (v2, owners) = apply(Some(&v1), &owners, "ops", &cm(json!({"a": "2"})), true, "t").unwrap();
        assert_eq!(v2["data"]["a"], "2");
        // `ci` lost the field: dropping it now removes nothing.
        assert!(!owners.contains_key(&Manager::apply("ci")));
    }

    #[test]
    fn a_plain_write_takes_the_fields_it_changes() {
        let applied = json!({"metadata": {"name": "web"}, "spec": {"replicas": 2, "paused": false}});
        let (v1, owners) = apply(None, &Owners::new(), "ci", &applied, false, "t").unwrap();
        let mut scaled = v1.clone();
        scaled["spec"]["replicas"] = json!(5);
        let owners = update(Some(&v1), &scaled, &owners, "kubectl-scale", "t");
        assert_eq!(
            owners[&Manager::update("kubectl-scale")].paths,
            [path(".spec.replicas")].into()
        );
        let conflicts = apply(Some(&scaled), &owners, "ci", &applied, false, "t").unwrap_err();
        let (message, _) = conflict_status(&conflicts, "apps/v1");
        assert_eq!(
            message,
            "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas"
        );
        // The applier no longer owns `replicas`: leaving it out keeps the scaled value.
        let mut without = applied;
        without["spec"].as_object_mut().unwrap().remove("replicas");
        let (v2, _) = apply(Some(&scaled), &owners, "ci", &without, false, "t").unwrap();
        assert_eq!(v2["spec"]["replicas"], 5);
    }

    #[test]
    fn managed_fields_read_back_as_written() {
        let applied =
            json!({"metadata": {"name": "web", "labels": {"app": "web"}}, "data": {"a": "1", "b": "2"}});
        let (v1, owners) = apply(None, &Owners::new(), "ci", &applied, false, "t").unwrap();
        let mut edited = v1.clone();
        edited["data"]["b"] = json!("3");
        let owners = update(Some(&v1), &edited, &owners, "kubectl-edit", "t");
        let written = managed_fields(&owners, "v1");
        assert_eq!(parse_managed_fields(written.as_array().unwrap()), owners);
        // A list item's keys stand for the list; `[{}]` clears.
        let real = json!([{"manager": "m", "operation": "Update", "time": "t", "fieldsV1":
            {"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}}}}}}]);
        let parsed = parse_managed_fields(real.as_array().unwrap());
        assert_eq!(
            parsed[&Manager::update("m")].paths,
            [path(".spec.containers")].into()
        );
        assert!(parse_managed_fields(&[json!({})]).is_empty());
    }

    #[test]
    fn managed_fields_in_the_api_servers_form() {
        let applied = json!({"metadata": {"name": "web", "labels": {"app": "web"}}, "data": {"a": "1"}});
        let (_, owners) = apply(
            None,
            &Owners::new(),
            "ci",
            &applied,
            false,
            "2026-01-01T00:00:00Z",
        )
        .unwrap();
        assert_eq!(
            managed_fields(&owners, "v1"),
            json!([{"manager": "ci", "operation": "Apply", "apiVersion": "v1", "time": "2026-01-01T00:00:00Z",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:a": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}}])
        );
    }
}
