//! The Microsoft Graph transport: credentials and tokens, retry and pacing by throttling family,
//! paging, delta and `$batch`.

pub mod auth;
pub mod client;
pub mod pacing;

pub use client::{GraphClient, Page, Pager, RequestMeta, RequestStats, RetryPolicy};
