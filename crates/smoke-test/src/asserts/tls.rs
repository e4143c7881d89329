//! `tls: {days-left: 14, host: true}`: the server's leaf certificate.
//!
//! Chain verification is reqwest's (rustls with the system roots plus `ca-cert`); these asserts add what
//! verification does not: days left before expiry, and the SANs checked even when `insecure: true` turned
//! verification off.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::Response;
use crate::measure::NumberBound;

/// What the asserts need from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// `notAfter`, seconds since the epoch.
    pub not_after: i64,
    /// DNS names in the SAN extension.
    pub dns_names: Vec<String>,
    /// IP addresses in the SAN extension.
    pub ips: Vec<IpAddr>,
}

impl CertFacts {
    /// Parses a DER certificate.
    pub fn parse(der: &[u8]) -> Result<Self, String> {
        let (_, cert) =
            X509Certificate::from_der(der).map_err(|e| format!("cannot read the server certificate: {e}"))?;
        let mut dns_names = Vec::new();
        let mut ips = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::DNSName(dns) => dns_names.push(dns.to_ascii_lowercase()),
                    GeneralName::IPAddress(bytes) => {
                        if let Ok(v4) = <[u8; 4]>::try_from(*bytes) {
                            ips.push(IpAddr::from(v4));
                        } else if let Ok(v6) = <[u8; 16]>::try_from(*bytes) {
                            ips.push(IpAddr::from(v6));
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(Self {
            not_after: cert.validity().not_after.timestamp(),
            dns_names,
            ips,
        })
    }

    /// Whole days from `now` to expiry (negative once expired).
    pub fn days_left(&self, now: SystemTime) -> i64 {
        let now = match now.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        };
        (self.not_after - now).div_euclid(86_400)
    }

    /// Whether the SANs cover `host` (a name, or an IP literal; `*.` covers one label).
    pub fn covers(&self, host: &url::Host<&str>) -> bool {
        match host {
            url::Host::Ipv4(ip) => self.ips.contains(&IpAddr::V4(*ip)),
            url::Host::Ipv6(ip) => self.ips.contains(&IpAddr::V6(*ip)),
            url::Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                self.dns_names.iter().any(|san| match san.strip_prefix("*.") {
                    Some(suffix) => name
                        .split_once('.')
                        .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
                    None => *san == name,
                })
            }
        }
    }

    fn sans(&self) -> String {
        let mut all: Vec<String> = self.dns_names.clone();
        all.extend(self.ips.iter().map(ToString::to_string));
        if all.is_empty() {
            "none".to_owned()
        } else {
            all.join(", ")
        }
    }
}

fn facts(response: &Response<'_>) -> Result<CertFacts, String> {
    let der = response.exchange.certificate.as_deref().ok_or_else(|| {
        format!(
            "no TLS certificate: `{}` is not HTTPS",
            ops_core::secret::redact_url(response.exchange.url.as_str())
        )
    })?;
    CertFacts::parse(der)
}

/// `days-left`.
pub fn check_days_left(bound: &NumberBound, response: &Response<'_>) -> Result<(), String> {
    let days = facts(response)?.days_left(response.now);
    if bound.holds(days) {
        Ok(())
    } else {
        Err(format!(
            "the certificate expires in {days} days, expected {bound}"
        ))
    }
}

/// `host: true`.
pub fn check_host(response: &Response<'_>) -> Result<(), String> {
    let facts = facts(response)?;
    let host = response
        .exchange
        .url
        .host()
        .ok_or_else(|| "the URL has no host".to_owned())?;
    if facts.covers(&host) {
        Ok(())
    } else {
        Err(format!(
            "the certificate does not cover `{host}` (SANs: {})",
            facts.sans()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    fn facts() -> CertFacts {
        CertFacts {
            not_after: 1_000 * 86_400,
            dns_names: vec!["app.example.test".into(), "*.api.example.test".into()],
            ips: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        }
    }

    #[test]
    fn covers_table() {
        let f = facts();
        for (host, ok) in [
            (url::Host::Domain("app.example.test"), true),
            (url::Host::Domain("APP.example.test."), true),
            (url::Host::Domain("v1.api.example.test"), true),
            (url::Host::Domain("a.v1.api.example.test"), false),
            (url::Host::Domain("api.example.test"), false),
            (url::Host::Domain("other.test"), false),
            (url::Host::Ipv4(Ipv4Addr::LOCALHOST), true),
            (url::Host::Ipv4(Ipv4Addr::new(10, 0, 0, 1)), false),
        ] {
            assert_eq!(f.covers(&host), ok, "{host:?}");
        }
    }

    #[test]
    fn days_left_floors() {
        let f = facts();
        let at = |days: f64| UNIX_EPOCH + Duration::from_secs_f64(days * 86_400.0);
        assert_eq!(f.days_left(at(990.0)), 10);
        assert_eq!(f.days_left(at(989.5)), 10);
        assert_eq!(f.days_left(at(1_000.5)), -1);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(CertFacts::parse(b"not a certificate").is_err());
    }
}
