//! Discord's REST endpoints under `/api/v10` (and `/api/v9`), one module per endpoint group:
//! [`users`] (the current user, other users, their guilds and connections), [`guilds`] (guild
//! members), [`applications`] (the application and the current authorization) and
//! [`role_connections`] (linked roles). This module holds what they share: JSON request bodies and
//! Invalid Form Body errors (<https://discord.com/developers/docs/reference#error-messages>).
//!
//! Endpoints receive an [`api::Call`](crate::api::Call) (authentication and rate limits already
//! applied). Must not import `oauth`, `cdn`, `control`, `routes`, `mount`, `gate` or `server`.

pub(crate) mod applications;
pub(crate) mod guilds;
pub(crate) mod role_connections;
pub(crate) mod users;

use crate::util::{Resp, discord_error, form_error_top, json};
use axum::http::{header, request::Parts};
use serde_json::{Value, json};

/// Whether the request says its body is JSON: `application/json`, parameters such as
/// `; charset=utf-8` allowed, case-insensitive.
fn is_json(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
}

/// Parses a JSON body. A non-empty body needs `Content-Type: application/json`: a missing or
/// other type is Discord's 50035 with a whole-body error
/// (<https://discord.com/developers/docs/reference#content-type>); invalid JSON is 50109
/// (<https://discord.com/developers/docs/topics/opcodes-and-status-codes#json>). An empty body
/// reads as `{}`.
fn json_body(parts: &Parts, body: &[u8]) -> Result<Value, Resp> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    if !is_json(parts) {
        return Err(form_error_top(
            "CONTENT_TYPE_INVALID",
            "Expected \"Content-Type\" header to be one of {'application/json'}.",
        ));
    }
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|_| discord_error(400, 50109, "The request body contains invalid JSON."))
}

/// The whole-body error for a body that is not a JSON object.
fn not_an_object() -> Resp {
    form_error_top(
        "DICT_TYPE_CONVERT",
        "Only dictionaries may be used in a DictType",
    )
}

/// A 50035 error about item `index` of a JSON array body: `errors.<index>.<field>._errors`, or
/// `errors.<index>._errors` when `field` is `_errors` (the item as a whole;
/// <https://discord.com/developers/docs/reference#error-messages>).
fn nested_error(index: usize, field: &str, code: &str, message: &str) -> Resp {
    let leaf = json!({ "_errors": [ { "code": code, "message": message } ] });
    let item = if field == "_errors" {
        leaf
    } else {
        json!({ field: leaf })
    };
    json(
        400,
        &json!({
            "code": 50035,
            "errors": { index.to_string(): item },
            "message": "Invalid Form Body",
        }),
    )
}
