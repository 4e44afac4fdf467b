//! The limiter's overhead per request: `acquire` + `observe` with Discord-like headers, on one
//! bucket that never runs out, uncontended and with 64 tasks on the same bucket.
//!
//! Run: `cargo bench -p discord-oauth --bench limiter`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use discord_oauth::ratelimit::{DiscordLimiter, Identity, Limiter, RequestKey};
use discord_oauth::route::Route;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

fn headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in [
        ("x-ratelimit-bucket", "41f9cd5d28af77da04563bcb1d67fdfd"),
        ("x-ratelimit-limit", "1000000000"),
        ("x-ratelimit-remaining", "999999999"),
        ("x-ratelimit-reset-after", "3600.000"),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    h
}

async fn one(l: &DiscordLimiter, h: &HeaderMap, id: &Identity) {
    let route = Route::parse(Method::GET, "/users/@me/guilds/81384788765712384/member").unwrap();
    let key = RequestKey::new(&route, id).with_token(0x5eed);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    l.acquire(&key, deadline).await.unwrap();
    l.observe(&key, StatusCode::OK, h).await;
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let h = headers();
    let id = Identity::User(53908232506183680);

    let limiter = rt.block_on(async { DiscordLimiter::new() });
    c.bench_function("limiter acquire+observe, uncontended", |b| {
        b.to_async(&rt).iter(|| one(&limiter, &h, &id));
    });

    let limiter = Arc::new(rt.block_on(async { DiscordLimiter::new() }));
    c.bench_function(
        "limiter acquire+observe, 64 tasks on one bucket (per request)",
        |b| {
            b.iter_custom(|iters| {
                let per_task = iters.div_ceil(64).max(1);
                let limiter = limiter.clone();
                rt.block_on(async move {
                    let start = Instant::now();
                    let mut tasks = Vec::with_capacity(64);
                    for _ in 0..64 {
                        let l = limiter.clone();
                        tasks.push(tokio::spawn(async move {
                            let h = headers();
                            let id = Identity::User(53908232506183680);
                            for _ in 0..per_task {
                                one(&l, &h, &id).await;
                            }
                        }));
                    }
                    for t in tasks {
                        t.await.unwrap();
                    }
                    // Time per request, scaled back to `iters`.
                    start
                        .elapsed()
                        .mul_f64(iters as f64 / (per_task * 64) as f64)
                })
            });
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
