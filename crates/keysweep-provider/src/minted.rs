//! Reading the answer of a call that mints a credential. Such a call is sent once: the answer
//! decides whether a new credential may exist that nobody received, so every gap in it is an
//! error that says which, never a default.

use serde_json::Value;

use crate::adapter::RotateError;
use crate::http::Failure;

/// A minting call that got no answer: refused when the request cannot have been processed (rate
/// limited, out of time before sending, no connection), unknown otherwise.
pub fn lost(what: &str, f: &Failure) -> RotateError {
    match f {
        Failure::RateLimited(_) | Failure::OutOfTime => {
            RotateError::Refused(format!("{what}: {f}"))
        }
        Failure::Network("connection failed") | Failure::Network("DNS lookup failed") => {
            RotateError::Refused(format!("{what}: {f}"))
        }
        _ => RotateError::Unknown(format!("{what}: {f}")),
    }
}

/// The non-empty string `k` of the answer to `what`.
pub fn str_field(v: &Value, k: &str, what: &str) -> Result<String, RotateError> {
    v.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| RotateError::Unknown(format!("{what}: the answer lacks `{k}`")))
}

/// RFC 3339 for a Unix time; `None` when out of range (the number comes from the provider).
pub fn unix_rfc3339(secs: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// RFC 3339 for `secs` seconds from now (an OAuth `expires_in`); `None` when out of range.
pub fn in_seconds(secs: i64) -> Option<String> {
    time::OffsetDateTime::now_utc()
        .unix_timestamp()
        .checked_add(secs)
        .and_then(unix_rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_out_of_range_are_left_out() {
        assert_eq!(unix_rfc3339(1_900_000_000).unwrap(), "2030-03-17T17:46:40Z");
        assert_eq!(unix_rfc3339(i64::MAX), None);
        assert_eq!(in_seconds(i64::MAX), None);
        assert!(in_seconds(3600).unwrap().ends_with('Z'));
    }

    #[test]
    fn missing_and_empty_fields_name_the_field() {
        let v = serde_json::json!({"a": "x", "b": ""});
        assert_eq!(str_field(&v, "a", "T").unwrap(), "x");
        for k in ["b", "c"] {
            match str_field(&v, k, "T") {
                Err(RotateError::Unknown(m)) => assert_eq!(m, format!("T: the answer lacks `{k}`")),
                other => panic!("{other:?}"),
            }
        }
    }
}
