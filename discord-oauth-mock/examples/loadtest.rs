//! Throughput of the mock: N concurrent keep-alive clients hammer `GET /api/v10/users/@me`
//! (Bearer, rate limits off) for a few seconds, on a single-threaded server runtime. Each
//! connection is a distinct Discord user (the fake's generated user `200000000000000000 + i`),
//! with its own token.
//!
//! `cargo run --release -p discord-oauth-mock --example loadtest -- [seconds] [connections]`

use discord_oauth_mock::{MockDiscord, RateLimitConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn main() {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let conns: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(32);
    // The server on its own single-threaded runtime (one core).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let m = MockDiscord::builder()
                .redirect_uri("http://127.0.0.1:1/cb")
                .rate_limits(RateLimitConfig::disabled())
                .start()
                .await;
            tx.send(m.clone()).expect("send");
            std::future::pending::<()>().await;
        });
    });
    let m = rx.recv().expect("mock");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let addr = m.base_url().trim_start_matches("http://").to_owned();
        let mut reqs = vec![];
        for i in 0..conns {
            let token = login(&m, FIRST_USER + i as u64).await;
            reqs.push(format!(
                "GET /api/v10/users/@me HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n"
            ));
        }
        let done = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut tasks = vec![];
        for req in reqs {
            let (addr, done) = (addr.clone(), done.clone());
            tasks.push(tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(&addr).await.expect("connect");
                s.set_nodelay(true).ok();
                let mut buf = vec![0u8; 16 * 1024];
                while Instant::now() < deadline {
                    s.write_all(req.as_bytes()).await.expect("write");
                    // Read one full answer (headers + content-length body).
                    let mut got = 0;
                    loop {
                        let n = s.read(&mut buf[got..]).await.expect("read");
                        assert!(n > 0, "closed");
                        got += n;
                        let text = &buf[..got];
                        if let Some(end) = text.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = std::str::from_utf8(&text[..end]).unwrap_or("").to_ascii_lowercase();
                            assert!(head.starts_with("http/1.1 200"), "{head}");
                            let len: usize = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length: "))
                                .and_then(|v| v.trim().parse().ok())
                                .unwrap_or(0);
                            if got >= end + 4 + len {
                                break;
                            }
                        }
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        let start = Instant::now();
        for t in tasks {
            t.await.expect("task");
        }
        let n = done.load(Ordering::Relaxed);
        let el = start.elapsed().as_secs_f64();
        println!(
            "{n} requests in {el:.2} s over {conns} keep-alive connections ({conns} users): {:.0} requests/s (server on one thread)",
            n as f64 / el
        );
    });
}

/// The first connection's Discord user id (any snowflake is a user of the fake).
const FIRST_USER: u64 = 200_000_000_000_000_000;

async fn login(m: &MockDiscord, user: u64) -> String {
    // Authorize as `user` and exchange over raw HTTP to keep the example dependency-free.
    let addr = m.base_url().trim_start_matches("http://").to_owned();
    let path = format!(
        "/oauth2/authorize?client_id={}&response_type=code&scope=identify&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&mock_user={user}",
        m.client_id()
    );
    let resp = raw(
        &addr,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    )
    .await;
    let code = resp
        .split("code=")
        .nth(1)
        .and_then(|s| s.split(['&', '\r']).next())
        .expect("code")
        .to_owned();
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&client_id={}&client_secret={}",
        m.client_id(),
        m.client_secret()
    );
    let resp = raw(
        &addr,
        &format!(
            "POST /api/v10/oauth2/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    let json = resp.split("\r\n\r\n").nth(1).expect("body");
    let v: serde_json::Value = serde_json::from_str(json).expect("json");
    v["access_token"].as_str().expect("token").to_owned()
}

async fn raw(addr: &str, req: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    out
}
