//! TLS with the lazily loaded platform roots (`ops_net::tls`): HTTPS to a server whose CA is in the
//! system store works, an untrusted certificate is refused, and plain HTTP needs no store at all.
//!
//! The system store is read from `SSL_CERT_FILE` / `SSL_CERT_DIR`, which a test cannot set for its own
//! process safely, so those cases re-run this test binary with one `#[ignore]`d test selected and the
//! variables set for the child only.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use ops_net::Request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

use crate::support::builder;

/// The variable that carries the URL to the child test.
const CHILD_URL: &str = "OPS_NET_TLS_TEST_URL";

/// A CA and a leaf for `127.0.0.1`, PEM and DER.
struct Pki {
    ca_pem: String,
    leaf_der: Vec<u8>,
    key_der: Vec<u8>,
}

fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "ops-net test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
    let leaf_params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("leaf params");
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).expect("leaf cert");
    Pki {
        ca_pem: ca_cert.pem(),
        leaf_der: leaf.der().to_vec(),
        key_der: leaf_key.serialize_der(),
    }
}

/// An HTTPS server on loopback that answers every request `200 ok`; returns its port.
async fn https_server(pki: &Pki) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("tls versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(pki.leaf_der.clone())],
            rustls::pki_types::PrivateKeyDer::Pkcs8(pki.key_der.clone().into()),
        )
        .expect("server config");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

/// Runs the ignored test `name` of this binary with `CHILD_URL = url` and the system store replaced by
/// `cert_file` (and an empty directory); returns whether it passed and its output.
fn run_child(name: &str, url: &str, cert_file: &Path, cert_dir: &Path) -> (bool, String) {
    let exe = std::env::current_exe().expect("test binary");
    let output = Command::new(exe)
        .args(["--exact", name, "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_URL, url)
        .env("SSL_CERT_FILE", cert_file)
        .env("SSL_CERT_DIR", cert_dir)
        .output()
        .expect("run the test binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success() && text.contains("1 passed"), text)
}

/// The child side: GET the URL from [`CHILD_URL`] and expect `200 ok`.
#[tokio::test]
#[ignore = "run by the tests above in a child process with its own SSL_CERT_FILE"]
async fn child_get_succeeds() {
    let url = std::env::var(CHILD_URL).expect("run by the tls tests, which set the URL");
    let client = builder().build().unwrap();
    let response = client.send(Request::get(&url).unwrap()).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text(), "ok");
}

#[tokio::test]
async fn https_works_with_the_ca_in_the_system_store() {
    let pki = pki();
    let port = https_server(&pki).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let empty = dir.path().join("certs");
    std::fs::create_dir(&empty).unwrap();
    let url = format!("https://127.0.0.1:{port}/x");
    let (passed, output) =
        tokio::task::spawn_blocking(move || run_child("tls::child_get_succeeds", &url, &ca, &empty))
            .await
            .unwrap();
    assert!(passed, "the HTTPS request failed:\n{output}");
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_is_refused() {
    let pki = pki();
    let port = https_server(&pki).await;
    let client = builder().build().unwrap();
    let error = client
        .send(Request::get(&format!("https://127.0.0.1:{port}/x")).unwrap())
        .await
        .expect_err("a certificate no root vouches for must be refused");
    let message = error.to_string();
    assert!(message.contains("certificate"), "{message}");
}

#[tokio::test]
async fn plain_http_needs_no_root_store() {
    // Before the roots were loaded lazily, building the client failed on a machine without a store.
    let server = crate::support::Server::script(vec![crate::support::Reply::new(200, "ok")]).await;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-file.pem");
    let empty = dir.path().join("certs");
    std::fs::create_dir(&empty).unwrap();
    let url = server.url("/x");
    let (passed, output) =
        tokio::task::spawn_blocking(move || run_child("tls::child_get_succeeds", &url, &missing, &empty))
            .await
            .unwrap();
    assert!(passed, "plain HTTP failed without a root store:\n{output}");
    assert_eq!(server.calls(), 1);
}
