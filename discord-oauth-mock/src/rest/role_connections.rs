//! Linked roles: the user's role connection, `GET/PUT/DELETE
//! /users/@me/applications/{application_id}/role-connection`
//! (<https://discord.com/developers/docs/resources/user#update-current-user-application-role-connection>),
//! and the application's metadata records, `GET/PUT
//! /applications/{application_id}/role-connections/metadata`
//! (<https://discord.com/developers/docs/resources/application-role-connection-metadata>).
//!
//! Must not import the other endpoint groups, `routes`, `mount`, `gate` or `server`.

use super::{json_body, nested_error, not_an_object};
use crate::api::{Auth, Call};
use crate::util::{
    Resp, discord_error, form_error, form_error_top, json, no_content, unauthorized,
};
use serde_json::{Map, Value, json};

/// The user of a token with `role_connections.write` issued for this application, or the answer
/// (`401`, or `403` 50001 for another application: the token only speaks for this one).
fn connection_user(call: &Call<'_>) -> Result<u64, Resp> {
    let Some(a) = call.auth.bearer("role_connections.write") else {
        return Err(unauthorized());
    };
    if call.ids.get("application_id") != call.shared.client_id {
        return Err(discord_error(403, 50001, "Missing Access"));
    }
    Ok(a.user_id)
}

/// `GET .../role-connection`: the stored connection, or an empty one.
///
/// `platform_name` is `null` when not set: Discord's docs give it as `?string`
/// (<https://discord.com/developers/docs/resources/application-role-connection-metadata#application-role-connection-object>),
/// while the spec's `ApplicationUserRoleConnectionResponse` says `string`
/// (<https://github.com/discord/discord-api-spec>). The fake follows the docs (and so does the
/// schema copy under `spec/`, see `spec/extract.py`).
pub(crate) fn get_connection(call: &mut Call<'_>) -> Resp {
    let user = match connection_user(call) {
        Ok(u) => u,
        Err(r) => return r,
    };
    json(
        200,
        &call.st.role_connections.get(&user).cloned().unwrap_or_else(
            || json!({ "platform_name": null, "platform_username": null, "metadata": {} }),
        ),
    )
}

/// `DELETE .../role-connection`: `204`.
pub(crate) fn delete_connection(call: &mut Call<'_>) -> Resp {
    let user = match connection_user(call) {
        Ok(u) => u,
        Err(r) => return r,
    };
    call.st.role_connections.remove(&user);
    no_content()
}

/// `PUT .../role-connection`: `platform_name` (at most 50 characters), `platform_username` (100)
/// and `metadata` (values stringified, 100 characters each).
pub(crate) fn put_connection(call: &mut Call<'_>) -> Resp {
    let user = match connection_user(call) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let b = match json_body(call.parts, call.body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(obj) = b.as_object() else {
        return not_an_object();
    };
    let fields = text_field(obj, "platform_name", 50).and_then(|name| {
        let username = text_field(obj, "platform_username", 100)?;
        Ok((name, username, metadata(obj.get("metadata"))?))
    });
    let (name, username, meta) = match fields {
        Ok(f) => f,
        Err(r) => return r,
    };
    let v = json!({ "platform_name": name, "platform_username": username, "metadata": meta });
    call.st.role_connections.insert(user, v.clone());
    json(200, &v)
}

/// An optional string field of at most `max` characters (`null` when absent).
fn text_field(obj: &Map<String, Value>, k: &str, max: usize) -> Result<Value, Resp> {
    match obj.get(k) {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(json!(s)),
        Some(Value::String(_)) => Err(form_error(
            k,
            "BASE_TYPE_MAX_LENGTH",
            &format!("Must be {max} or fewer in length."),
        )),
        Some(_) => Err(form_error(
            k,
            "BASE_TYPE_STRING",
            "Could not interpret value as string.",
        )),
    }
}

/// `metadata`: an object whose values are stored as strings; numbers and booleans are accepted
/// and stringified (`true` is `"1"`), anything else is refused.
fn metadata(v: Option<&Value>) -> Result<Map<String, Value>, Resp> {
    let mut meta = Map::new();
    let m = match v {
        None | Some(Value::Null) => return Ok(meta),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(form_error(
                "metadata",
                "DICT_TYPE_CONVERT",
                "Only dictionaries may be used in a DictType",
            ));
        }
    };
    for (k, v) in m {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
            _ => {
                return Err(form_error(
                    "metadata",
                    "BASE_TYPE_STRING",
                    &format!("Value of \"{k}\" could not be interpreted as string."),
                ));
            }
        };
        if s.chars().count() > 100 {
            return Err(form_error(
                "metadata",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 100 or fewer in length.",
            ));
        }
        meta.insert(k.clone(), Value::String(s));
    }
    Ok(meta)
}

/// The bot, asking about this application; else `401`, or `403` 50001 for another application.
fn metadata_allowed(call: &Call<'_>) -> Result<(), Resp> {
    if !matches!(call.auth, Auth::Bot) {
        return Err(unauthorized());
    }
    if call.ids.get("application_id") != call.shared.client_id {
        return Err(discord_error(403, 50001, "Missing Access"));
    }
    Ok(())
}

/// `GET .../role-connections/metadata`: the stored records.
pub(crate) fn get_metadata(call: &mut Call<'_>) -> Resp {
    if let Err(r) = metadata_allowed(call) {
        return r;
    }
    json(200, &Value::Array(call.st.role_metadata.clone()))
}

/// `PUT .../role-connections/metadata`: replaces the records (at most 5; `type` 1..=8, `key` of
/// `a-z0-9_` 1..=50 and unique, `name` 1..=100, `description` 1..=200 characters).
pub(crate) fn put_metadata(call: &mut Call<'_>) -> Resp {
    if let Err(r) = metadata_allowed(call) {
        return r;
    }
    let b = match json_body(call.parts, call.body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(records) = b.as_array() else {
        return form_error_top("BASE_TYPE_ARRAY", "Could not interpret value as array.");
    };
    if records.len() > 5 {
        return form_error_top("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
    }
    let mut out: Vec<Value> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        match metadata_record(i, r, &out) {
            Ok(rec) => out.push(rec),
            Err(e) => return e,
        }
    }
    call.st.role_metadata = out.clone();
    json(200, &Value::Array(out))
}

/// Checks record `i` (the records before it are `earlier`) and returns it as stored.
fn metadata_record(i: usize, r: &Value, earlier: &[Value]) -> Result<Value, Resp> {
    let Some(o) = r.as_object() else {
        return Err(nested_error(
            i,
            "_errors",
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        ));
    };
    let ty = o.get("type").and_then(Value::as_u64).unwrap_or(0);
    if !(1..=8).contains(&ty) {
        return Err(nested_error(
            i,
            "type",
            "ENUM_TYPE_COERCE",
            "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8}.",
        ));
    }
    let key = metadata_key(i, o, earlier)?;
    let text = |k: &str, max: usize| -> Result<&str, Resp> {
        o.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && s.chars().count() <= max)
            .ok_or_else(|| {
                let msg = format!("Must be between 1 and {max} in length.");
                nested_error(i, k, "BASE_TYPE_BAD_LENGTH", &msg)
            })
    };
    let name = text("name", 100)?;
    let description = text("description", 200)?;
    let mut rec = json!({ "type": ty, "key": key, "name": name, "description": description });
    for loc in ["name_localizations", "description_localizations"] {
        if let Some(v @ Value::Object(_)) = o.get(loc) {
            rec[loc] = v.clone();
        }
    }
    Ok(rec)
}

/// The record's `key`: `a-z0-9_`, 1..=50 characters, not used by an earlier record.
fn metadata_key<'a>(
    i: usize,
    o: &'a Map<String, Value>,
    earlier: &[Value],
) -> Result<&'a str, Resp> {
    let key = o.get("key").and_then(Value::as_str).unwrap_or("");
    let shape_ok = !key.is_empty()
        && key.len() <= 50
        && key
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_');
    if !shape_ok {
        return Err(nested_error(
            i,
            "key",
            "STRING_TYPE_REGEX",
            "String value did not match validation regex.",
        ));
    }
    if earlier.iter().any(|r| r["key"] == key) {
        return Err(nested_error(
            i,
            "key",
            "DUPLICATE_KEY",
            "Keys must be unique.",
        ));
    }
    Ok(key)
}
