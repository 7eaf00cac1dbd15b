//! One engine stream per key, shared through a bounded broadcast. The pump task owns the
//! engine stream; it ends when the engine stream ends, on shutdown, or a while after the last
//! receiver went away. Subscribing and the pump's decision to close happen under the same
//! lock, so a viewer never joins a channel that is about to be dropped.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::engine::Chunks;
use crate::error::Error;

/// Why a shared stream stopped.
pub(crate) enum Stop {
    /// The engine ended the stream (the container exited, for logs and stats).
    Finished,
    Failed(Error),
    Shutdown,
}

pub(crate) type Key = (String, String);

/// The channels of one kind of stream, by key.
pub(crate) struct Channels<T> {
    map: Mutex<HashMap<Key, broadcast::Sender<T>>>,
    capacity: usize,
}

impl<T: Clone + Send + Sync + 'static> Channels<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Channels {
            map: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, broadcast::Sender<T>>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts
        // and removes), so a poisoned lock is still usable.
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Items queued in the key's channel (bounded by the capacity), if it is open.
    pub(crate) fn buffered(&self, key: &Key) -> Option<usize> {
        self.lock().get(key).map(broadcast::Sender::len)
    }

    pub(crate) fn open(&self) -> usize {
        self.lock().len()
    }
}

/// What the pumps share: the shutdown token, how long a channel outlives its last viewer,
/// and the counter of engine streams opened.
#[derive(Clone)]
pub(crate) struct Pumps {
    pub(crate) shutdown: CancellationToken,
    pub(crate) linger: Duration,
    pub(crate) opened: Arc<AtomicU64>,
}

impl Pumps {
    /// A receiver on the key's channel, starting the engine stream if none runs. `open` makes
    /// the engine stream; `finish` turns the way it stopped into a last item for every viewer.
    pub(crate) fn subscribe<T, Open, OpenFut, Finish, FinishFut>(
        &self,
        channels: &Arc<Channels<T>>,
        key: Key,
        open: Open,
        finish: Finish,
    ) -> broadcast::Receiver<T>
    where
        T: Clone + Send + Sync + 'static,
        Open: FnOnce() -> OpenFut + Send + 'static,
        OpenFut: Future<Output = crate::Result<Chunks<T>>> + Send + 'static,
        Finish: FnOnce(Stop) -> FinishFut + Send + 'static,
        FinishFut: Future<Output = Option<T>> + Send + 'static,
    {
        let mut map = channels.lock();
        if let Some(tx) = map.get(&key) {
            return tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(channels.capacity);
        map.insert(key.clone(), tx.clone());
        drop(map);
        self.opened.fetch_add(1, Ordering::Relaxed);
        let pumps = self.clone();
        let channels = channels.clone();
        tokio::spawn(async move {
            let stop = pumps.pump(&channels, &key, &tx, open).await;
            let Some(stop) = stop else { return };
            {
                let mut map = channels.lock();
                if map.get(&key).is_some_and(|t| t.same_channel(&tx)) {
                    map.remove(&key);
                }
            }
            if let Some(last) = finish(stop).await {
                let _ = tx.send(last);
            }
        });
        rx
    }

    /// Runs the engine stream into `tx`. `None` when it closed for want of viewers (the
    /// channel is already gone from the map then).
    async fn pump<T, Open, OpenFut>(
        &self,
        channels: &Channels<T>,
        key: &Key,
        tx: &broadcast::Sender<T>,
        open: Open,
    ) -> Option<Stop>
    where
        T: Clone + Send + Sync + 'static,
        Open: FnOnce() -> OpenFut,
        OpenFut: Future<Output = crate::Result<Chunks<T>>>,
    {
        let mut stream = tokio::select! {
            _ = self.shutdown.cancelled() => return Some(Stop::Shutdown),
            opened = open() => match opened {
                Ok(stream) => stream,
                Err(e) => return Some(Stop::Failed(e)),
            },
        };
        let mut check = tokio::time::interval(
            self.linger
                .min(Duration::from_secs(1))
                .max(Duration::from_millis(50)),
        );
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut alone_since: Option<Instant> = None;
        loop {
            tokio::select! {
                biased;
                _ = self.shutdown.cancelled() => return Some(Stop::Shutdown),
                _ = check.tick() => {
                    if tx.receiver_count() > 0 {
                        alone_since = None;
                        continue;
                    }
                    let since = *alone_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.linger {
                        let mut map = channels.lock();
                        if tx.receiver_count() == 0 {
                            if map.get(key).is_some_and(|t| t.same_channel(tx)) {
                                map.remove(key);
                            }
                            return None;
                        }
                    }
                }
                item = stream.next() => match item {
                    Some(Ok(item)) => {
                        // No receiver right now is fine: one may join before the linger ends.
                        let _ = tx.send(item);
                    }
                    Some(Err(e)) => return Some(Stop::Failed(e)),
                    None => return Some(Stop::Finished),
                },
            }
        }
    }
}
