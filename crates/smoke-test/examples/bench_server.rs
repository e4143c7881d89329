//! The local target of `scripts/bench-smoke-test`: `GET /item/{n}` answers `{"id": n, "ok": true}`.
//!
//! Binds 127.0.0.1 on a free port, prints the port on stdout, and stops by itself after the number of
//! seconds given as its first argument (default 600), so a benchmark that dies leaves nothing behind.

use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::response::IntoResponse;
use axum::routing::get;

async fn item(Path(n): Path<u64>) -> impl IntoResponse {
    (
        [("content-type", "application/json"), ("x-version", "bench")],
        format!("{{\"id\":{n},\"ok\":true}}"),
    )
}

#[expect(clippy::print_stdout, reason = "the port is this program's output")]
fn main() -> std::io::Result<()> {
    let lifetime = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("{}", listener.local_addr()?.port());
        let app = Router::new()
            .route("/item/{n}", get(item))
            .route("/healthz", get(|| async { "ok" }));
        let serve = axum::serve(listener, app);
        tokio::select! {
            result = serve => result,
            () = tokio::time::sleep(Duration::from_secs(lifetime)) => Ok(()),
        }
    })
}
