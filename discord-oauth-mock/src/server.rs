//! The accept loop: one hyper HTTP/1.1 connection task per client, serving the [`routes::app`]
//! router, and able to close a connection without answering (the
//! [`Fault::DropConnection`](crate::Fault::DropConnection) fault). Each request gets the peer
//! address and the connection's kill switch as extensions, and canonical `/_mock` paths, before
//! routing.
//!
//! Nothing imports this module but the crate root.

use crate::control;
use crate::gate::KillSwitch;
use crate::routes;
use crate::state::Shared;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

/// Serves until `shutdown` says so (or its sender is dropped).
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let app = routes::app(shared);
    let conn_shutdown = shutdown.clone();
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    tokio::spawn(connection(stream, peer, app.clone(), conn_shutdown.clone()));
                }
                Err(e) => {
                    tracing::warn!("discord-oauth-mock: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            _ = stopped(&mut shutdown) => break,
        }
    }
}

/// One connection, until the client closes it, a fault kills it, or the server stops.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let kill = Arc::new(Notify::new());
    let switch = KillSwitch(kill.clone());
    let svc = TowerToHyperService::new(app);
    let handler = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        prepare(&mut req, peer, &switch);
        hyper::service::Service::call(&svc, req)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), handler);
    // Dropping `conn` closes the socket at once, without an answer.
    tokio::select! {
        _ = conn => {}
        _ = kill.notified() => {}
        _ = stopped(&mut shutdown) => {}
    }
}

/// What a request gets before routing: its canonical `/_mock` path, the peer address and the
/// connection's kill switch.
fn prepare<B>(req: &mut hyper::Request<B>, peer: SocketAddr, switch: &KillSwitch) {
    if let Some(uri) = control::canonical_uri(req.uri()) {
        *req.uri_mut() = uri;
    }
    req.extensions_mut().insert(ConnectInfo(peer));
    req.extensions_mut().insert(switch.clone());
}

/// Completes when shutdown is requested or the last handle is gone.
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

#[cfg(test)]
mod tests {
    //! Routing edge cases that Discord's answers depend on, on the router itself (no socket).

    use super::*;
    use crate::{MockBuilder, RateLimitConfig};
    use axum::body::Body;
    use axum::http::HeaderMap;

    /// The app of a mock with rate limits off, and a way to call it.
    struct App {
        shared: Arc<Shared>,
        svc: TowerToHyperService<Router>,
    }

    impl App {
        fn new() -> App {
            let shared = MockBuilder::default()
                .rate_limits(RateLimitConfig::disabled())
                .into_shared("http://127.0.0.1:1".to_owned());
            let svc = TowerToHyperService::new(routes::app(shared.clone()));
            App { shared, svc }
        }

        /// Status, headers and body of one request.
        async fn call(&self, method: &str, path: &str) -> (u16, HeaderMap, String) {
            let mut req = hyper::Request::builder()
                .method(method)
                .uri(path)
                .body(Body::empty())
                .unwrap();
            let switch = KillSwitch(Arc::new(Notify::new()));
            prepare(&mut req, SocketAddr::from(([127, 0, 0, 1], 9)), &switch);
            let resp = hyper::service::Service::call(&self.svc, req).await.unwrap();
            let (parts, body) = resp.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let body = String::from_utf8_lossy(&body).into_owned();
            (parts.status.as_u16(), parts.headers, body)
        }

        fn requests_to(&self, key: &str) -> u64 {
            self.shared.lock().stats.requests_to(key)
        }
    }

    #[tokio::test]
    async fn empty_and_bad_ids_are_50035_before_the_method() {
        let app = App::new();
        for (method, path, field) in [
            ("GET", "/api/v10/users/", "user_id"),
            ("GET", "/api/v9/users/%31", "user_id"),
            ("PUT", "/api/v10/guilds//members/", "guild_id"),
            ("PUT", "/api/v10/guilds/1/members/", "user_id"),
            ("POST", "/api/v10/users/@me/guilds//member", "guild_id"),
        ] {
            let (status, _, body) = app.call(method, path).await;
            assert_eq!(status, 400, "{method} {path}");
            assert!(body.contains(&format!("\"{field}\"")), "{path}: {body}");
        }
        assert_eq!(app.requests_to("GET /api/v10/users/{user_id}"), 1);
        assert_eq!(
            app.requests_to("PUT /api/v10/guilds/{guild_id}/members/{user_id}"),
            2
        );
    }

    #[tokio::test]
    async fn methods_follow_discord_not_axum_defaults() {
        let app = App::new();
        // HEAD is not GET, and a 405 has no Allow header.
        let (status, headers, body) = app.call("HEAD", "/api/v10/users/@me").await;
        assert_eq!((status, body.as_str()), (405, ""));
        assert!(headers.get("allow").is_none());
        let (status, headers, _) = app.call("DELETE", "/oauth2/authorize").await;
        assert_eq!(status, 405);
        assert!(headers.get("allow").is_none());
        assert_eq!(app.requests_to("DELETE /oauth2/authorize"), 1);
        // An extension method is a 404 under UNMATCHED, even on a known route.
        let (status, _, _) = app.call("PROPFIND", "/api/v10/users/@me").await;
        assert_eq!(status, 404);
        assert_eq!(app.requests_to("UNMATCHED"), 1);
    }

    #[tokio::test]
    async fn versions_and_unknown_paths() {
        let app = App::new();
        for (path, status) in [
            ("/api/v8/users/@me", 400),
            ("/api/v10", 400),
            ("/api/v10/", 404),
            ("/api/users/@me", 404),
            ("/api/voice", 404),
            ("/cdn", 404),
        ] {
            assert_eq!(app.call("GET", path).await.0, status, "{path}");
        }
        assert_eq!(app.requests_to("UNMATCHED"), 6);
        let (status, _, body) = app.call("POST", "/api/oauth2/token").await;
        assert_eq!(status, 400);
        assert!(body.contains("unsupported_grant_type"), "{body}");
    }

    #[tokio::test]
    async fn cdn_routes_are_named_by_their_first_segment() {
        let app = App::new();
        assert_eq!(app.call("GET", "/cdn/avatars/").await.0, 404);
        assert_eq!(app.call("GET", "/cdn/avatars/1/x/y").await.0, 404);
        assert_eq!(app.call("POST", "/cdn/avatars/1/x.png").await.0, 405);
        assert_eq!(app.call("HEAD", "/cdn/embed/avatars/1.png").await.0, 200);
        assert_eq!(app.call("GET", "/cdn/").await.0, 404);
        assert_eq!(app.call("GET", "/cdn/junk/x.png").await.0, 404);
        assert_eq!(app.requests_to("GET /cdn/avatars"), 2);
        assert_eq!(app.requests_to("POST /cdn/avatars"), 1);
        assert_eq!(app.requests_to("HEAD /cdn/embed"), 1);
        assert_eq!(app.requests_to("GET /cdn/UNMATCHED"), 2);
    }

    #[tokio::test]
    async fn control_paths_are_canonical_and_not_counted() {
        let app = App::new();
        for path in ["/_mock/stats/", "/_mock//stats", "/_mock/_mock/stats"] {
            assert_eq!(app.call("GET", path).await.0, 200, "{path}");
        }
        for (method, path) in [
            ("GET", "/_mock"),
            ("POST", "/_mock/stats"),
            ("HEAD", "/_mock/stats"),
            ("POST", "/_mock/revoke//1"),
        ] {
            assert_eq!(app.call(method, path).await.0, 404, "{method} {path}");
        }
        assert_eq!(app.shared.lock().stats.total_requests, 0);
        assert_eq!(app.call("GET", "/_mockx").await.0, 404);
        assert_eq!(app.requests_to("UNMATCHED"), 1);
    }
}
