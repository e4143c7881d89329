//! `headers: {content-type: {contains: json}}`: a response header (all values joined by `, `).

use http::HeaderName;

use super::{Response, TextTest};

/// Checks one header.
pub fn check(name: &HeaderName, test: &TextTest, response: &Response<'_>) -> Result<(), String> {
    let values: Vec<String> = response
        .exchange
        .headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let joined = (!values.is_empty()).then(|| values.join(", "));
    test.test(&format!("header `{name}`"), joined.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asserts::testing::exchange;

    #[test]
    fn joins_repeated_headers() {
        let ex = exchange(200, &[("vary", "accept"), ("vary", "origin")], "");
        let r = Response::new(&ex, std::time::SystemTime::UNIX_EPOCH);
        let name = HeaderName::from_static("vary");
        assert!(check(&name, &TextTest::Equals("accept, origin".into()), &r).is_ok());
        let missing = HeaderName::from_static("x-missing");
        assert_eq!(
            check(&missing, &TextTest::Contains("a".into()), &r).unwrap_err(),
            "header `x-missing` is missing"
        );
    }
}
