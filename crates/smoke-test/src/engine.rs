//! Running the plan: readiness first, then the identity check and the checks, at most `concurrency`
//! checks in flight, each check starting once the checks it takes captures from are done.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use http::{HeaderMap, HeaderValue, Method};
use ops_core::Runner;
use ops_core::secret::redact_url;
use tokio::sync::{Semaphore, watch};

use crate::asserts::{self, Failure, Response};
use crate::capture;
use crate::http::{Exchange, Outgoing, Pool, TransportError};
use crate::latency::{self, Stats};
use crate::measure::millis;
use crate::outcome::{Case, CaseError, CaseKind, LatencyOutcome, Status};
use crate::plan::{Check, Plan, VersionCheck, resolve_url};
use crate::query::as_text;
use crate::template::Captures;

/// What running the plan needs.
#[derive(Debug)]
pub struct Engine<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// HTTP clients.
    pub pool: &'a Pool,
    /// Logs and masking.
    pub runner: &'a Runner,
    /// "Now", for certificate days.
    pub now: SystemTime,
    /// Sleep multiplier for the readiness wait.
    pub delay_scale: f64,
}

/// What a finished check hands to the checks that depend on it.
#[derive(Debug, Default)]
struct Done {
    captures: Captures,
}

impl Engine<'_> {
    /// Runs everything; cases come back in plan order (readiness, version, checks).
    pub async fn run(&self) -> Vec<Case> {
        let mut cases = Vec::new();
        if let Some(wait) = &self.plan.wait {
            let case = crate::readiness::wait(self.pool, wait, self.delay_scale, self.runner).await;
            self.log(&case);
            let ready = case.status() == Status::Passed;
            cases.push(self.located(case));
            if !ready {
                for check in &self.plan.checks {
                    let mut skipped = self.case_for(check);
                    skipped.skipped = Some("the service never became ready".to_owned());
                    cases.push(skipped);
                }
                return cases;
            }
        }
        if let Some(version) = self.plan.version.as_ref().filter(|v| v.url.is_some()) {
            let case = self.version(version).await;
            self.log(&case);
            cases.push(self.located(case));
        }
        cases.extend(self.checks().await);
        cases
    }

    fn located(&self, mut case: Case) -> Case {
        if case.line.is_some() {
            case.file = self
                .plan
                .origin
                .as_ref()
                .and_then(|o| o.file())
                .map(str::to_owned);
        }
        case
    }

    fn case_for(&self, check: &Check) -> Case {
        let mut case = Case::new(check.name.clone(), CaseKind::Check);
        case.line = check.line;
        case.method = Some(check.method.to_string());
        case.url = Some(redact_url(&check.url.display()));
        self.located(case)
    }

    async fn checks(&self) -> Vec<Case> {
        let checks = &self.plan.checks;
        let semaphore = Semaphore::new(self.plan.concurrency);
        let (senders, receivers): (Vec<_>, Vec<_>) = checks
            .iter()
            .map(|_| watch::channel::<Option<Arc<Done>>>(None))
            .unzip();
        let mut running = FuturesUnordered::new();
        for ((index, check), sender) in checks.iter().enumerate().zip(senders) {
            let deps: Vec<watch::Receiver<Option<Arc<Done>>>> =
                check.depends_on.iter().map(|&d| receivers[d].clone()).collect();
            let semaphore = &semaphore;
            running.push(async move {
                let mut captures = Captures::new();
                for mut rx in deps {
                    if let Ok(done) = rx.wait_for(Option::is_some).await
                        && let Some(done) = done.as_ref()
                    {
                        captures.extend(done.captures.clone());
                    }
                }
                let (case, own) = match semaphore.acquire().await {
                    Ok(_permit) => self.check(check, &captures).await,
                    Err(_) => (self.case_for(check), Captures::new()),
                };
                let _ = sender.send(Some(Arc::new(Done { captures: own })));
                (index, case)
            });
        }
        let mut cases: Vec<Option<Case>> = vec![None; checks.len()];
        while let Some((index, case)) = running.next().await {
            self.log(&case);
            cases[index] = Some(case);
        }
        cases.into_iter().flatten().collect()
    }

    /// Builds the request with captures filled in and secret header values masked.
    fn request(&self, check: &Check, captures: &Captures) -> Result<Outgoing, String> {
        let raw_url = check.url.render(captures)?;
        let url = resolve_url(self.plan.base_url.as_deref(), &raw_url)?;
        let mut headers = HeaderMap::new();
        for h in &check.headers {
            let value = h.value.render(captures)?;
            if h.sensitive {
                self.runner.mask(&value);
                // mask the credential on its own too (`Bearer <token>`, `Basic <b64>`)
                if let Some((_, credential)) = value.split_once(' ')
                    && credential.trim().len() >= 4
                {
                    self.runner.mask(credential.trim());
                }
            }
            // a header is secret by its name, or because a secret (`${API_TOKEN}`, a secret capture)
            // went into its value: either way it is not sent on to another host after a redirect
            let sensitive = h.sensitive || self.runner.redact(&value) != value;
            let mut value = HeaderValue::from_str(&value)
                .map_err(|_| format!("header `{}` has a value that HTTP does not allow", h.name))?;
            value.set_sensitive(sensitive);
            headers.append(h.name.clone(), value);
        }
        let body = match &check.body {
            Some(b) => Some(b.render(captures)?),
            None => None,
        };
        Ok(Outgoing {
            method: check.method.clone(),
            url,
            headers,
            body,
            timeout: check.timeout,
            redirects: check.redirects,
            insecure: check.insecure,
        })
    }

    async fn check(&self, check: &Check, captures: &Captures) -> (Case, Captures) {
        let started = Instant::now();
        let mut case = self.case_for(check);
        let mut own = Captures::new();
        let body_captures = check.body.as_ref().map(|b| b.captures()).unwrap_or_default();
        let missing: Vec<&str> = check
            .url
            .captures()
            .chain(check.headers.iter().flat_map(|h| h.value.captures()))
            .chain(body_captures.iter().map(String::as_str))
            .filter(|c| !captures.contains_key(*c))
            .collect();
        if let Some(first) = missing.first() {
            case.skipped = Some(format!(
                "needs `{{{{{first}}}}}`, which an earlier check did not capture"
            ));
            return (case, own);
        }
        let request = match self.request(check, captures) {
            Ok(r) => r,
            Err(message) => {
                case.error = Some(CaseError {
                    kind: "request".to_owned(),
                    message,
                });
                return (case, own);
            }
        };
        case.url = Some(redact_url(request.url.as_str()));
        let exchange = match self.pool.send(&request).await {
            Ok(ex) => ex,
            Err(e) => {
                case.error = Some(transport(&e));
                case.time = started.elapsed();
                return (case, own);
            }
        };
        case.http_status = Some(exchange.status.as_u16());
        case.durations.push(exchange.elapsed);
        let response = Response::new(&exchange, self.now);
        case.failures = asserts::evaluate(&check.asserts, &response);
        for rule in &check.captures {
            match capture::extract(rule, &response) {
                Ok(value) => {
                    if rule.secret {
                        self.runner.mask(&value);
                    }
                    own.insert(rule.name.clone(), value);
                }
                Err(message) => case.failures.push(Failure {
                    line: rule.line,
                    field: rule.field.clone(),
                    kind: "capture",
                    message,
                }),
            }
        }
        if exchange.truncated {
            case.notes
                .push(format!("body cut at {} bytes", crate::http::BODY_LIMIT));
        }
        if let Some(l) = &check.latency {
            let mut samples = vec![exchange.elapsed];
            while samples.len() < l.samples {
                match self.pool.send(&request).await {
                    Ok(ex) => samples.push(ex.elapsed),
                    Err(e) => {
                        case.error = Some(transport(&e));
                        break;
                    }
                }
            }
            case.durations = samples.clone();
            let stats = Stats::new(samples);
            let results = latency::evaluate(&stats, &l.thresholds, l.min_samples);
            for r in &results {
                if r.holds {
                    continue;
                }
                let text = format!(
                    "{} is {}ms, expected {}",
                    r.threshold.metric,
                    millis(r.actual),
                    r.threshold.bound
                );
                if r.gating {
                    case.failures.push(Failure {
                        line: l.line,
                        field: l.field.clone(),
                        kind: "latency",
                        message: text,
                    });
                } else {
                    case.notes.push(format!(
                        "{text}, not gating: {} samples < min-samples {}",
                        stats.count(),
                        l.min_samples
                    ));
                }
            }
            case.latency = Some(LatencyOutcome {
                stats,
                thresholds: results,
                min_samples: l.min_samples,
            });
        }
        case.time = started.elapsed();
        (case, own)
    }

    async fn version(&self, version: &VersionCheck) -> Case {
        let started = Instant::now();
        let mut case = Case::new("version", CaseKind::Version);
        case.line = version.line;
        case.method = Some("GET".to_owned());
        let Some(url) = &version.url else {
            return case;
        };
        case.url = Some(redact_url(url.as_str()));
        let request = Outgoing {
            method: Method::GET,
            url: url.clone(),
            headers: HeaderMap::new(),
            body: None,
            timeout: crate::plan::DEFAULT_TIMEOUT,
            redirects: crate::plan::DEFAULT_REDIRECTS,
            insecure: false,
        };
        let field = "version".to_owned();
        match self.pool.send(&request).await {
            Err(e) => case.error = Some(transport(&e)),
            Ok(ex) => {
                case.http_status = Some(ex.status.as_u16());
                case.durations.push(ex.elapsed);
                match served_version(version, &ex, self.now) {
                    Err(message) => case.failures.push(Failure {
                        line: version.line,
                        field,
                        kind: "version",
                        message,
                    }),
                    Ok(served) => {
                        if !asserts::version::matches(&served, &version.expect) {
                            case.failures.push(Failure {
                                line: version.line,
                                field,
                                kind: "version",
                                message: format!(
                                    "serving version `{}`, expected `{}`",
                                    asserts::excerpt(&served),
                                    version.expect
                                ),
                            });
                        }
                        case.served_version = Some(asserts::excerpt(&served));
                    }
                }
            }
        }
        case.time = started.elapsed();
        case
    }

    /// One log line per case, plus its problems.
    fn log(&self, case: &Case) {
        let status = case.status();
        let mut line = format!("{} {}", status.word().to_uppercase(), case.name);
        if let (Some(m), Some(u)) = (&case.method, &case.url) {
            line.push_str(&format!(": {m} {u}"));
        }
        if let Some(code) = case.http_status {
            line.push_str(&format!(" → {code}"));
        }
        if let Some(d) = case.durations.first() {
            line.push_str(&format!(" in {}ms", millis(*d)));
        }
        if let Some(l) = &case.latency {
            line.push_str(&format!(
                " (p50 {}ms, p95 {}ms, max {}ms over {})",
                millis(l.stats.p50()),
                millis(l.stats.p95()),
                millis(l.stats.max()),
                l.stats.count()
            ));
        }
        for f in &case.failures {
            line.push_str(&format!("\n    {}: {}", f.field, f.message));
        }
        if let Some(e) = &case.error {
            line.push_str(&format!("\n    {}: {}", e.kind, e.message));
        }
        if let Some(s) = &case.skipped {
            line.push_str(&format!("\n    {s}"));
        }
        for n in &case.notes {
            line.push_str(&format!("\n    {n}"));
        }
        self.runner.info(&line);
    }
}

fn transport(e: &TransportError) -> CaseError {
    CaseError {
        kind: e.kind.label().to_owned(),
        message: e.detail.clone(),
    }
}

/// The version a response reports: `field` in the JSON body, a JSON string body, or the trimmed body.
fn served_version(version: &VersionCheck, ex: &Exchange, now: SystemTime) -> Result<String, String> {
    if !ex.status.is_success() {
        return Err(format!(
            "status {}, expected 2xx from the version URL",
            ex.status.as_u16()
        ));
    }
    let response = Response::new(ex, now);
    match &version.field {
        Some(query) => {
            let root = response.json()?;
            query
                .select(root)
                .first()
                .map(|v| as_text(v))
                .ok_or_else(|| format!("`{query}` selects nothing in the version response"))
        }
        None => {
            let text = ex.text();
            Ok(match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::String(s)) => s,
                _ => text.trim().to_owned(),
            })
        }
    }
}
