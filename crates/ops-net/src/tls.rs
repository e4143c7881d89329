//! TLS configuration whose root certificates are loaded on the first TLS handshake, not when a client
//! is built.
//!
//! reqwest's own rustls set-up builds the platform verifier in `ClientBuilder::build`, which reads and
//! parses every certificate of the system store (about 150 on a GitHub runner) before the first request:
//! most of a short tool run's CPU time, even when the tool only ever speaks plain HTTP to a service on
//! loopback, and a hard error on a machine without a store. [`client_config`] hands reqwest a rustls
//! configuration with the same protocol versions, ALPN and crypto provider whose verifier builds the
//! platform verifier on the first certificate it has to check. Signature checks need no roots and go
//! straight to the provider's algorithms.

use std::fmt;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::Verifier;

use crate::client::install_crypto_provider;

/// A rustls client configuration for reqwest: TLS 1.2 and 1.3, ALPN `h2` then `http/1.1`, the process's
/// crypto provider (ring, see [`install_crypto_provider`]), and the platform's roots loaded lazily.
pub fn client_config() -> ClientConfig {
    install_crypto_provider();
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let verifier = LazyPlatformVerifier::new(Arc::clone(&provider));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// The platform verifier, built on first use.
pub struct LazyPlatformVerifier {
    provider: Arc<CryptoProvider>,
    algorithms: WebPkiSupportedAlgorithms,
    platform: OnceLock<Result<Verifier, rustls::Error>>,
}

impl LazyPlatformVerifier {
    /// A verifier for `provider`'s signature algorithms; nothing is loaded yet.
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        Self {
            algorithms: provider.signature_verification_algorithms,
            provider,
            platform: OnceLock::new(),
        }
    }

    /// Whether the platform's roots have been loaded (by a first certificate check).
    pub fn is_loaded(&self) -> bool {
        self.platform.get().is_some()
    }

    fn platform(&self) -> Result<&Verifier, rustls::Error> {
        self.platform
            .get_or_init(|| Verifier::new(Arc::clone(&self.provider)))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl fmt::Debug for LazyPlatformVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyPlatformVerifier")
            .field("loaded", &self.is_loaded())
            .finish_non_exhaustive()
    }
}

impl ServerCertVerifier for LazyPlatformVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.platform()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn building_a_config_loads_no_roots() {
        install_crypto_provider();
        let provider = CryptoProvider::get_default().cloned().expect("ring is installed");
        let verifier = LazyPlatformVerifier::new(provider);
        assert!(!verifier.is_loaded());
        assert!(!verifier.supported_verify_schemes().is_empty());
        assert!(
            !verifier.is_loaded(),
            "listing the schemes must not load the roots"
        );
    }

    #[test]
    fn the_config_offers_h2_then_http11() {
        let config = client_config();
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
    }
}
