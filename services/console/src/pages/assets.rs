//! The one stylesheet, compiled into the binary (no CDN, nothing else to
//! deploy).

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;

const STYLESHEET: &str = include_str!("../../static/console.css");

/// `GET /static/console.css`: public, cached an hour (it holds nothing personal).
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}
