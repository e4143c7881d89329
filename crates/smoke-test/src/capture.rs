//! Captures: values taken from one response for later checks (`login` → `{{token}}`).

use crate::asserts::Response;
use crate::plan::{CaptureRule, CaptureSource};
use crate::query::as_text;

/// Extracts one capture; the error says why nothing was captured.
pub fn extract(rule: &CaptureRule, response: &Response<'_>) -> Result<String, String> {
    let source_text = match &rule.source {
        CaptureSource::Json(query) => {
            let root = response.json()?;
            let found = query.select(root);
            let first = found
                .first()
                .ok_or_else(|| format!("capture `{}`: `{query}` selects nothing", rule.name))?;
            as_text(first)
        }
        CaptureSource::Header(name) => response
            .exchange
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .find(|v| rule.regex.as_ref().is_none_or(|re| re.is_match(v)))
            .ok_or_else(|| format!("capture `{}`: no header `{name}`", rule.name))?,
        CaptureSource::Body => response.exchange.text(),
    };
    match &rule.regex {
        None => Ok(source_text),
        Some(re) => {
            let caps = re
                .captures(&source_text)
                .ok_or_else(|| format!("capture `{}`: `{}` does not match", rule.name, re.as_str()))?;
            Ok(caps
                .get(1)
                .or_else(|| caps.get(0))
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asserts::testing::exchange;
    use crate::query::Query;
    use http::HeaderName;
    use regex::Regex;

    fn rule(source: CaptureSource, regex: Option<&str>) -> CaptureRule {
        CaptureRule {
            name: "token".into(),
            line: Some(1),
            field: "checks[0].capture.token".into(),
            source,
            regex: regex.map(|r| Regex::new(r).unwrap()),
            secret: true,
        }
    }

    #[test]
    fn extract_table() {
        let ex = exchange(
            200,
            &[
                ("set-cookie", "theme=dark"),
                ("set-cookie", "session=abc123; Path=/; HttpOnly"),
            ],
            r#"{"token":"t-1","n":5,"html":"<a id=\"x\">"}"#,
        );
        let r = Response::new(&ex, std::time::SystemTime::UNIX_EPOCH);
        for (rule, expected) in [
            (
                rule(CaptureSource::Json(Query::parse("$.token").unwrap()), None),
                Ok("t-1"),
            ),
            (
                rule(CaptureSource::Json(Query::parse("/n").unwrap()), None),
                Ok("5"),
            ),
            (
                rule(
                    CaptureSource::Header(HeaderName::from_static("set-cookie")),
                    Some("session=([^;]+)"),
                ),
                Ok("abc123"),
            ),
            (rule(CaptureSource::Body, Some(r#""token":"([^"]+)""#)), Ok("t-1")),
            (
                rule(CaptureSource::Json(Query::parse("$.nope").unwrap()), None),
                Err("capture `token`: `$.nope` selects nothing"),
            ),
            (
                rule(CaptureSource::Header(HeaderName::from_static("x-none")), None),
                Err("capture `token`: no header `x-none`"),
            ),
        ] {
            assert_eq!(
                extract(&rule, &r).as_deref(),
                expected.map_err(str::to_owned).as_deref()
            );
        }
    }
}
