//! Builds the `hello` test server (`fixtures/hello/hello.rs`) into a static binary, once per source: the
//! binary is cached under the cargo target directory by the sha256 of the source, so an edit rebuilds it
//! and nothing else does.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::GroundError;
use super::sys;

/// The test server's source, embedded so the cache key is exactly what gets compiled.
pub const HELLO_SOURCE: &str = include_str!("../../fixtures/hello/hello.rs");

/// The static `hello` binary (built on first use; later calls in the process return the same path).
/// It needs only `rustc`. Linux only: the binary is `static-pie` linked against glibc, so it runs in a
/// `FROM scratch` image.
pub fn hello_binary() -> Result<PathBuf, GroundError> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build().map_err(|e| e.to_string()))
        .clone()
        .map_err(GroundError::Failed)
}

fn build() -> Result<PathBuf, GroundError> {
    let hash = hex::encode(Sha256::digest(HELLO_SOURCE.as_bytes()));
    let dir = target_dir().join("ops-test-droplet");
    let binary = dir.join(format!("hello-{}", &hash[..16]));
    if binary.is_file() {
        return Ok(binary);
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| GroundError::failed(format!("cannot create `{}`: {e}", dir.display())))?;
    // Several test binaries may build at once: each writes its own files, the rename is atomic.
    let unique = format!("hello-{}.{}", &hash[..16], std::process::id());
    let source = dir.join(format!("{unique}.rs"));
    let partial = dir.join(format!("{unique}.tmp"));
    std::fs::write(&source, HELLO_SOURCE)
        .map_err(|e| GroundError::failed(format!("cannot write `{}`: {e}", source.display())))?;
    let mut rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()));
    rustc
        .args(["--edition", "2021", "-O", "-C", "target-feature=+crt-static"])
        .args(["-C", "strip=symbols", "--crate-name", "hello", "-o"])
        .arg(&partial)
        .arg(&source);
    // rustup picks the toolchain by the working directory: use the workspace's.
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    if manifest_dir.is_dir() {
        rustc.current_dir(manifest_dir);
    }
    let built = sys::run(&mut rustc).and_then(|_| {
        std::fs::rename(&partial, &binary)
            .map_err(|e| GroundError::failed(format!("cannot rename `{}`: {e}", partial.display())))
    });
    let _ = std::fs::remove_file(&source);
    let _ = std::fs::remove_file(&partial);
    built.map(|()| binary)
}

/// The cargo target directory: `CARGO_TARGET_DIR` when set, else the nearest ancestor of this test binary
/// that cargo marked with `CACHEDIR.TAG`, else `target/` of the workspace this crate is in.
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.ancestors().find(|d| d.join("CACHEDIR.TAG").is_file())
    {
        return dir.to_owned();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target")
}
