//! Findings as the versioned JSON document. `version: 1` is frozen: fields may be added, never renamed
//! or removed, so scripts that read it keep working.

use serde_json::{Value, json};

use super::ToolInfo;
use crate::finding::{Finding, counts};

/// `{"version":1,"tool":{…},"passed":…,"counts":{…},"findings":[…]}`.
pub fn json(tool: &ToolInfo, passed: bool, findings: &[Finding]) -> Value {
    let (errors, warnings, notices) = counts(findings);
    json!({
        "version": 1,
        "tool": { "name": tool.name, "version": tool.version },
        "passed": passed,
        "counts": { "error": errors, "warning": warnings, "notice": notices },
        "findings": findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Level, Region};

    #[test]
    fn stable_field_names() {
        let f = Finding::new("r", Level::Warning, "m").at("a.rs", Some(Region::line(2)));
        let doc = json(&ToolInfo::ops("lint-gate"), true, &[f]);
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["counts"], json!({"error": 0, "warning": 1, "notice": 0}));
        assert_eq!(
            doc["findings"][0],
            json!({"rule": "r", "level": "warning", "path": "a.rs", "region": {"start_line": 2}, "message": "m"})
        );
    }
}
