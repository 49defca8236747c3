//! Test logging: silent by default, verbose with `TEST_LOG=1`.

use tracing_subscriber::EnvFilter;

/// Installs a `tracing` subscriber writing to the test output when the
/// environment variable `TEST_LOG` is `1` (filter from `RUST_LOG`, default
/// `info`). Does nothing otherwise, so passing tests print nothing.
///
/// Safe to call from every test: only the first call installs anything.
pub fn init_test_logging() {
    if std::env::var("TEST_LOG").is_ok_and(|value| value == "1") {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        // Fails only when a subscriber is already installed, which is fine.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
}
