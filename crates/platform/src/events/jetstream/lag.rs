//! Samples a durable consumer's backlog from the broker (`CONSUMER.INFO`)
//! for the `vigie.consumer.pending` and `vigie.consumer.ack_pending` gauges
//! (`events/gauges.rs`): one small request every
//! [`CONSUMER_SAMPLE_INTERVAL`], the first at start; after a failure (the
//! durable consumer not created yet, the broker away) sooner, every
//! [`RETRY`].

use async_nats::jetstream;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::events::gauges::{self, ConsumerBacklog, CONSUMER_SAMPLE_INTERVAL};

/// Delay before the next sample after a failed one.
const RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// The sampling task; stops when dropped or at shutdown.
pub(super) struct LagWatch(JoinHandle<()>);

impl Drop for LagWatch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts sampling the backlog of `consumer` on `stream`.
pub(super) fn watch(js: jetstream::Context, stream: String, consumer: String, shutdown: CancellationToken) -> LagWatch {
    LagWatch(tokio::spawn(async move {
        loop {
            let next = match sample(&js, &stream, &consumer).await {
                Ok(backlog) => {
                    gauges::set_consumer(&consumer, &stream, backlog);
                    CONSUMER_SAMPLE_INTERVAL
                }
                // Not there yet (first start) or the broker is away: the
                // consumer loop logs what matters; the gauge keeps its value.
                Err(error) => {
                    tracing::debug!(%consumer, %stream, %error, "consumer backlog not sampled");
                    RETRY
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(next) => {}
            }
        }
    }))
}

async fn sample(js: &jetstream::Context, stream: &str, consumer: &str) -> Result<ConsumerBacklog, async_nats::Error> {
    let stream = js.get_stream(stream).await?;
    let info = stream.consumer_info(consumer).await?;
    Ok(ConsumerBacklog {
        pending: info.num_pending,
        ack_pending: u64::try_from(info.num_ack_pending).unwrap_or(u64::MAX),
    })
}
