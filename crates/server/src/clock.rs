//! The daemon's one reading of the wall clock; everything below takes `now`.

use gatehouse_core::Timestamp;

/// Milliseconds since the Unix epoch now.
pub fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(ms)
}
