//! [`RedisSessionEvents`]: ended sessions announced to every process through Redis pub/sub.

use std::fmt;

use fred::clients::{Pool, SubscriberClient};
use fred::interfaces::{EventInterface, PubsubInterface};

use super::{DEFAULT_REDIS_PREFIX, backend, hex, unhex};
use crate::store::{SessionEvents, SessionId, StoreError};
use crate::vocab::BoxFuture;

/// Ended sessions announced on the Redis channel `{prefix}ended` (the payload is the session
/// id in hex; no token), so that every process forgets what it verified about them at once.
///
/// Publishing goes through a pool; listening needs a [`SubscriberClient`] of its own (a
/// subscribed connection can do nothing else), which re-subscribes by itself after a reconnect.
///
/// ```no_run
/// # async fn run(config: discord_oauth::Config) -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use fred::prelude::*;
/// use discord_oauth::store::RedisSessionEvents;
///
/// let redis = Config::from_url("redis://127.0.0.1:6379")?;
/// let pool = Builder::from_config(redis.clone()).build_pool(4)?;
/// pool.init().await?;
/// let subscriber = Builder::from_config(redis).build_subscriber_client()?;
/// subscriber.init().await?;
/// let events = RedisSessionEvents::new(pool, subscriber).await?;
/// let discord = discord_oauth::DiscordOAuth::builder(config)
///     .session_events(Arc::new(events))
///     .build()?;
/// # let _ = discord; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisSessionEvents {
    publisher: Pool,
    subscriber: SubscriberClient,
    channel: String,
}

impl fmt::Debug for RedisSessionEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSessionEvents")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl RedisSessionEvents {
    /// Events on `{DEFAULT_REDIS_PREFIX}ended`, published through `publisher` and received by
    /// `subscriber` (both connected).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the subscription fails.
    pub async fn new(publisher: Pool, subscriber: SubscriberClient) -> Result<Self, StoreError> {
        Self::with_prefix(publisher, subscriber, DEFAULT_REDIS_PREFIX).await
    }

    /// Events on `{prefix}ended`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the subscription fails.
    pub async fn with_prefix(
        publisher: Pool,
        subscriber: SubscriberClient,
        prefix: &str,
    ) -> Result<Self, StoreError> {
        let channel = format!("{prefix}ended");
        // Subscribes again by itself after every reconnection.
        let _resubscriber = subscriber.manage_subscriptions();
        subscriber
            .subscribe(channel.as_str())
            .await
            .map_err(|e| backend("subscribe", &e))?;
        Ok(Self {
            publisher,
            subscriber,
            channel,
        })
    }
}

impl SessionEvents for RedisSessionEvents {
    fn publish_ended<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.publisher
                .next()
                .publish::<i64, _, _>(self.channel.as_str(), hex(&id.0))
                .await
                .map(drop)
                .map_err(|e| backend("publish", &e))
        })
    }

    fn listen(&self, on_ended: Box<dyn Fn(SessionId) + Send + Sync>) {
        let channel = self.channel.clone();
        let mut messages = self.subscriber.message_rx();
        let subscriber = self.subscriber.clone();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                "session events need a Tokio runtime; ended sessions are noticed by the recheck interval only"
            );
            return;
        };
        runtime.spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match messages.recv().await {
                    Ok(message) => {
                        if *message.channel != *channel {
                            continue;
                        }
                        if let Some(id) = message.value.as_str().as_deref().and_then(unhex) {
                            on_ended(SessionId(id));
                        }
                    }
                    // Too slow for a burst: the recheck interval covers what was dropped.
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
            }
            drop(subscriber);
        });
    }
}
