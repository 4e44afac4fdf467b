//! Faults: `POST /_mock/faults` `{"route", "fault", "times"}`
//! ([`crate::MockDiscord::inject_fault`]) and `DELETE /_mock/faults`.
//!
//! Must not import the other control modules.

use super::{Ctl, bad, body_json, ok};
use crate::Fault;
use crate::state::Shared;
use crate::util::Resp;
use serde_json::Value;
use std::time::Duration;

/// Parses the JSON form of a [`Fault`]: `{"status": N}`, `{"rate_limited": {...}}`,
/// `{"delay_ms": N}`, `"malformed_body"` or `"drop_connection"`.
fn parse_fault(v: &Value) -> Option<Fault> {
    match v {
        Value::String(s) => match s.as_str() {
            "malformed_body" => Some(Fault::MalformedBody),
            "drop_connection" => Some(Fault::DropConnection),
            _ => None,
        },
        Value::Object(o) => {
            if let Some(s) = o.get("status").and_then(Value::as_u64) {
                return u16::try_from(s).ok().map(Fault::Status);
            }
            if let Some(ms) = o.get("delay_ms").and_then(Value::as_u64) {
                return Some(Fault::Delay(Duration::from_millis(ms)));
            }
            o.get("rate_limited").map(|r| Fault::RateLimited {
                retry_after: r.get("retry_after").and_then(Value::as_f64).unwrap_or(1.0),
                global: r.get("global").and_then(Value::as_bool).unwrap_or(false),
                scope: r
                    .get("scope")
                    .and_then(Value::as_str)
                    .unwrap_or("user")
                    .to_owned(),
            })
        }
        _ => None,
    }
}

/// Queues a fault for the next `times` (default 1) requests to `route`.
pub(super) fn add(shared: &Shared, ctl: &Ctl<'_>) -> Resp {
    let b = body_json(ctl.body);
    let Some(route) = b.get("route").and_then(Value::as_str) else {
        return bad("route is required");
    };
    let Some(fault) = b.get("fault").and_then(parse_fault) else {
        return bad(
            "fault must be {\"status\": N}, {\"rate_limited\": {...}}, {\"delay_ms\": N}, \"malformed_body\" or \"drop_connection\"",
        );
    };
    let times = b.get("times").and_then(Value::as_u64).unwrap_or(1) as usize;
    if times > 0 {
        shared
            .lock()
            .faults
            .entry(route.to_owned())
            .or_default()
            .push_back((fault, times));
    }
    ok()
}

/// Removes every queued fault.
pub(super) fn clear(shared: &Shared, _: &Ctl<'_>) -> Resp {
    shared.lock().faults.clear();
    ok()
}
