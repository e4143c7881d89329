//! After a push: every tag must resolve to the pushed digest, and every label must be in the image
//! config (of each platform image, for an index; attestation manifests are skipped).

use serde_json::Value;

use crate::registry::{Manifest, Registry, RegistryError};

/// What one repository should hold.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The image name, for messages.
    pub image: &'a str,
    /// The digest the push reported.
    pub digest: &'a str,
    /// The tags that must point at it.
    pub tags: &'a [String],
    /// The labels the image config must carry.
    pub labels: &'a [(String, String)],
}

/// What was found: one line per mismatch (empty when everything matches), and how many configs were read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Mismatches.
    pub mismatches: Vec<String>,
    /// Tags checked.
    pub tags_checked: usize,
    /// Image configs checked.
    pub configs_checked: usize,
}

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

fn is_index(manifest: &Manifest, json: &Value) -> bool {
    INDEX_TYPES.contains(&manifest.media_type.as_str()) || json.get("manifests").is_some()
}

/// Checks one repository.
pub async fn check(registry: &Registry, expected: &Expected<'_>) -> Result<Report, RegistryError> {
    let mut report = Report::default();
    for tag in expected.tags {
        report.tags_checked += 1;
        match registry.manifest(tag).await? {
            None => report
                .mismatches
                .push(format!("`{}:{tag}` is not in the registry", expected.image)),
            Some(found) if found.digest != expected.digest => report.mismatches.push(format!(
                "`{}:{tag}` resolves to `{}`, expected the pushed `{}`",
                expected.image, found.digest, expected.digest
            )),
            Some(_) => {}
        }
    }
    let Some(top) = registry.manifest(expected.digest).await? else {
        report.mismatches.push(format!(
            "the pushed manifest `{}@{}` is not in the registry",
            expected.image, expected.digest
        ));
        return Ok(report);
    };
    let json = top.json()?;
    let mut images: Vec<(String, Value)> = Vec::new();
    if is_index(&top, &json) {
        for entry in json
            .get("manifests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let attestation = entry
                .pointer("/annotations/vnd.docker.reference.type")
                .and_then(Value::as_str)
                == Some("attestation-manifest")
                || entry.pointer("/platform/os").and_then(Value::as_str) == Some("unknown");
            if attestation {
                continue;
            }
            let Some(digest) = entry.get("digest").and_then(Value::as_str) else {
                continue;
            };
            let platform = platform_name(entry.get("platform"));
            match registry.manifest(digest).await? {
                Some(m) => images.push((platform, m.json()?)),
                None => report.mismatches.push(format!(
                    "the index `{}@{}` lists `{digest}` ({platform}), which is not in the registry",
                    expected.image, expected.digest
                )),
            }
        }
    } else {
        images.push((String::new(), json));
    }
    for (platform, manifest) in images {
        let Some(config_digest) = manifest.pointer("/config/digest").and_then(Value::as_str) else {
            report
                .mismatches
                .push(format!("a manifest of `{}` has no config", expected.image));
            continue;
        };
        let config: Value = serde_json::from_slice(&registry.blob(config_digest).await?)
            .map_err(|e| RegistryError::Protocol(format!("image config {config_digest} is not JSON: {e}")))?;
        report.configs_checked += 1;
        let labels = config.pointer("/config/Labels");
        let at = if platform.is_empty() {
            format!("`{}@{}`", expected.image, expected.digest)
        } else {
            format!("`{}@{}` ({platform})", expected.image, expected.digest)
        };
        for (key, want) in expected.labels {
            match labels.and_then(|l| l.get(key)).and_then(Value::as_str) {
                None => report
                    .mismatches
                    .push(format!("label `{key}` is missing from the image config of {at}")),
                Some(got) if got != want => report.mismatches.push(format!(
                    "label `{key}` is `{got}` in the image config of {at}, expected `{want}`"
                )),
                Some(_) => {}
            }
        }
    }
    Ok(report)
}

fn platform_name(platform: Option<&Value>) -> String {
    let Some(p) = platform else {
        return "unknown platform".to_owned();
    };
    let part = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut name = format!("{}/{}", part("os"), part("architecture"));
    let variant = part("variant");
    if !variant.is_empty() {
        name.push('/');
        name.push_str(&variant);
    }
    name
}
