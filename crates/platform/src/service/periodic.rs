//! The ticker a periodic [`BackgroundLoop`](super::BackgroundLoop) runs on.

use std::future::Future;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

/// Runs `pass` every `every`, the first at once, until `shutdown`. A pass
/// runs to its end (shutdown is only heard between passes), and a pass
/// longer than `every` delays the next tick rather than bunching the
/// missed ones. A pass logs its own failures: a loop must outlive them.
pub async fn run_every<F, Fut>(every: Duration, shutdown: CancellationToken, mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        pass().await;
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::*;

    /// A loop sending one message per pass, and its receiver.
    fn counting(
        every: Duration,
        shutdown: CancellationToken,
    ) -> (tokio::task::JoinHandle<()>, mpsc::UnboundedReceiver<()>) {
        let (passes, received) = mpsc::unbounded_channel();
        let running = tokio::spawn(run_every(every, shutdown, move || {
            let passes = passes.clone();
            async move {
                passes.send(()).unwrap_or_default();
            }
        }));
        (running, received)
    }

    #[tokio::test]
    async fn the_first_pass_runs_at_once_and_shutdown_ends_the_wait() {
        let shutdown = CancellationToken::new();
        let (running, mut passes) = counting(Duration::from_secs(3600), shutdown.clone());
        assert_eq!(passes.recv().await, Some(()), "no first pass");
        shutdown.cancel();
        running.await.unwrap();
        assert!(passes.try_recv().is_err(), "a pass ran after the first within the hour");
    }

    #[tokio::test]
    async fn passes_repeat_until_shutdown() {
        let shutdown = CancellationToken::new();
        let (running, mut passes) = counting(Duration::from_millis(5), shutdown.clone());
        for _ in 0..3 {
            assert_eq!(passes.recv().await, Some(()));
        }
        shutdown.cancel();
        running.await.unwrap();
        while passes.try_recv().is_ok() {}
        assert_eq!(passes.recv().await, None, "the loop ended and dropped its sender");
    }
}
