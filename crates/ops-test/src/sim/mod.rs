//! Plumbing shared by the API stand-ins ([`crate::github`], [`crate::digitalocean`]).
//!
//! A stand-in is a [`Sim`]: an in-process HTTP server (axum routing, hyper connections) on
//! `127.0.0.1:0` that owns a state value (`S`, the API's model) behind one mutex. Around every
//! request it:
//!
//! 1. picks the first matching injected [`Fault`] (500s, rate limits, slow or dropped responses…);
//! 2. optionally checks the request against the official API description ([`contract`]);
//! 3. runs the route's handler on the state (authentication and rate limits first);
//! 4. checks the response, records the [`Exchange`], and fires scripted triggers
//!    ([`Sim::after`]) so that "a comment arrives after three polls" needs no timers.
//!
//! Time inside a stand-in is virtual (see [`Clock`]): nothing waits on the wall clock except an
//! explicit [`Fault::Delay`].

mod clock;
pub mod contract;
mod fault;
pub mod prism;
mod record;
mod server;

pub use clock::{Clock, rfc3339};
pub use contract::{Contract, ContractMode, Spec, Violation};
pub use fault::{Fault, Matcher};
pub use prism::{Checked, Prism, PrismError};
pub use record::Exchange;
pub use server::{Api, Ctx, Handler, Reply, Route, Sim};

/// Builds the `Link` header GitHub-style APIs use for pagination: `first`/`prev` when `page > 1`,
/// `next`/`last` when more pages follow. `url` is the request's absolute URL without a query;
/// the other query parameters are carried over so a client can follow the link verbatim.
#[must_use]
pub fn link_header(url: &str, query: &[(String, String)], page: usize, last: usize) -> Option<String> {
    let href = |p: usize| {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in query.iter().filter(|(k, _)| k != "page") {
            pairs.append_pair(k, v);
        }
        pairs.append_pair("page", &p.to_string());
        format!("{url}?{}", pairs.finish())
    };
    let mut links = Vec::new();
    if page < last {
        links.push(format!("<{}>; rel=\"next\"", href(page + 1)));
        links.push(format!("<{}>; rel=\"last\"", href(last)));
    }
    if page > 1 {
        links.push(format!("<{}>; rel=\"first\"", href(1)));
        links.push(format!("<{}>; rel=\"prev\"", href(page - 1)));
    }
    (!links.is_empty()).then(|| links.join(", "))
}

/// One page of `items` (1-based `page`), and the number of the last page (at least 1).
#[must_use]
pub fn paginate<T: Clone>(items: &[T], page: usize, per_page: usize) -> (Vec<T>, usize) {
    let per_page = per_page.max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let start = page.saturating_sub(1).saturating_mul(per_page);
    let slice = items.iter().skip(start).take(per_page).cloned().collect();
    (slice, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_carries_other_query_parameters() {
        let q = vec![
            ("per_page".to_owned(), "2".to_owned()),
            ("page".to_owned(), "2".to_owned()),
        ];
        let link = link_header("http://h/x", &q, 2, 3).unwrap();
        assert_eq!(
            link,
            "<http://h/x?per_page=2&page=3>; rel=\"next\", <http://h/x?per_page=2&page=3>; rel=\"last\", \
             <http://h/x?per_page=2&page=1>; rel=\"first\", <http://h/x?per_page=2&page=1>; rel=\"prev\""
        );
        assert_eq!(link_header("http://h/x", &[], 1, 1), None);
    }

    #[test]
    fn paginate_splits_and_counts_pages() {
        let items: Vec<u32> = (1..=5).collect();
        assert_eq!(paginate(&items, 1, 2), (vec![1, 2], 3));
        assert_eq!(paginate(&items, 3, 2), (vec![5], 3));
        assert_eq!(paginate(&items, 4, 2), (vec![], 3));
        assert_eq!(paginate::<u32>(&[], 1, 30), (vec![], 1));
    }
}
