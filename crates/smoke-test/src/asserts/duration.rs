//! `duration: < 500ms`: from sending the request to the last byte of the body.

use super::Response;
use crate::measure::{DurationBound, human};

/// Checks the response time.
pub fn check(bound: &DurationBound, response: &Response<'_>) -> Result<(), String> {
    let elapsed = response.exchange.elapsed;
    if bound.holds(elapsed) {
        Ok(())
    } else {
        Err(format!("took {}, expected {bound}", human(elapsed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asserts::testing::exchange;

    #[test]
    fn duration_table() {
        let ex = exchange(200, &[], "");
        let r = Response::new(&ex, std::time::SystemTime::UNIX_EPOCH);
        assert!(check(&DurationBound::parse("< 500ms").unwrap(), &r).is_ok());
        assert_eq!(
            check(&DurationBound::parse("< 100ms").unwrap(), &r).unwrap_err(),
            "took 120ms, expected < 100ms"
        );
    }
}
