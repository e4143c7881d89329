//! `body: {contains: …, matches: …, equals: …}` on the body as text.

use super::{Response, TextTest};

/// Checks the body.
pub fn check(test: &TextTest, response: &Response<'_>) -> Result<(), String> {
    let text = response.exchange.text();
    let what = if response.exchange.truncated {
        "body (first 8 MiB)"
    } else {
        "body"
    };
    test.test(what, Some(&text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asserts::testing::exchange;

    #[test]
    fn body_table() {
        let ex = exchange(200, &[], "<h1>Welcome</h1>");
        let r = Response::new(&ex, std::time::SystemTime::UNIX_EPOCH);
        assert!(check(&TextTest::Contains("Welcome".into()), &r).is_ok());
        assert!(check(&TextTest::Matches(regex::Regex::new("<h1>W").unwrap()), &r).is_ok());
        assert_eq!(
            check(&TextTest::Contains("Goodbye".into()), &r).unwrap_err(),
            "body does not contain `Goodbye` (got `<h1>Welcome</h1>`)"
        );
    }
}
