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
        if let Some(uri) = control::canonical_uri(req.uri()) {
            *req.uri_mut() = uri;
        }
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(switch.clone());
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

/// Completes when shutdown is requested or the last handle is gone.
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}
