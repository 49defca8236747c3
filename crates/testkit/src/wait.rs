//! Bounded waiting on asynchronous conditions.

use std::future::Future;
use std::time::Duration;

use anyhow::{bail, Result};

/// How often [`eventually`] re-evaluates its condition.
const POLL: Duration = Duration::from_millis(20);

/// Re-evaluates `condition` every 20 ms until it returns `Ok(true)`, for at
/// most `timeout`.
///
/// # Errors
/// The last error returned by `condition`, or a timeout error naming `what`.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut condition: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let last = condition().await;
        match last {
            Ok(true) => return Ok(()),
            Ok(false) if tokio::time::Instant::now() >= deadline => {
                bail!("timed out after {timeout:?} waiting for {what}")
            }
            Err(error) if tokio::time::Instant::now() >= deadline => {
                return Err(error.context(format!("timed out after {timeout:?} waiting for {what}")))
            }
            _ => tokio::time::sleep(POLL).await,
        }
    }
}
