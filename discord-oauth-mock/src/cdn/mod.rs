//! A CDN stand-in (`{base}/cdn`, like `https://cdn.discordapp.com`) serving tiny placeholder
//! images, so that pages built on the mock load nothing from the internet. Paths, formats and
//! `?size=` follow <https://discord.com/developers/docs/reference#image-formatting>: each route
//! is a first path segment of [`FILES`] (its statistics name is `/cdn/<segment>`); a file of an
//! unknown hash or shape is `404`, a format the image has not `415`, a bad size `400` (plain text
//! answers, as the real CDN's).
//!
//! Must not import `routes`, `mount`, `gate`, `api`, `oauth`, `rest`, `control` or `server`.

mod png;

use crate::state::Shared;
use crate::util::{Resp, raw, set_header, snowflake};
use axum::http::request::Parts;
use png::png;
use sha2::{Digest, Sha256};

static JPEG: &[u8] = include_bytes!("../assets/placeholder.jpg");
static WEBP: &[u8] = include_bytes!("../assets/placeholder.webp");
static GIF: &[u8] = include_bytes!("../assets/placeholder.gif");

/// A CDN endpoint (the body is ignored).
type File = fn(&Shared, &Parts, &[u8]) -> Resp;

/// The CDN's routes: first path segment and endpoint.
pub(crate) const FILES: &[(&str, File)] = &[
    ("embed", default_avatar),
    ("avatars", user_avatar),
    ("banners", banner),
    ("icons", guild_icon),
    ("guilds", member_image),
    ("avatar-decoration-presets", decoration),
    ("app-icons", asset),
    ("role-icons", asset),
    ("team-icons", asset),
    ("splashes", asset),
    ("discovery-splashes", asset),
    ("guild-tag-badges", asset),
    ("clan-badges", asset),
];

/// Every format, and the still ones (GIF only for animated, `a_` hashes).
const ALL: &[&str] = &["png", "jpg", "jpeg", "webp", "gif"];
const STILL: &[&str] = &["png", "jpg", "jpeg", "webp"];

/// Discord's default avatar colours (blurple, grey, green, yellow, red, pink).
const DEFAULT_COLOURS: [[u8; 3]; 6] = [
    [0x58, 0x65, 0xF2],
    [0x75, 0x7E, 0x8A],
    [0x3B, 0xA5, 0x5C],
    [0xFA, 0xA6, 0x1A],
    [0xED, 0x42, 0x45],
    [0xEB, 0x45, 0x9F],
];

fn text(status: u16, msg: &str) -> Resp {
    raw(status, "text/plain; charset=utf-8", msg.to_owned())
}

/// `404` for any path no file route matches.
pub(crate) fn not_found(_: &Shared, _: &Parts, _: &[u8]) -> Resp {
    text(404, "404: Not Found")
}

/// The path segments after `/cdn/`.
fn segments(parts: &Parts) -> Vec<&str> {
    let path = parts.uri.path().strip_prefix("/cdn/").unwrap_or("");
    path.split('/').collect()
}

/// The hash part of `hash.ext`.
fn hash_of(file: &str) -> &str {
    file.rsplit_once('.').map(|(h, _)| h).unwrap_or("")
}

/// An image, cacheable for a day: a PNG coloured by the hash, or a placeholder file.
fn image(ext: &str, hash: &str) -> Resp {
    let mut r = match ext {
        "png" => {
            let d = Sha256::digest(hash.as_bytes());
            raw(200, "image/png", png([d[0], d[1], d[2]]))
        }
        "jpg" | "jpeg" => raw(200, "image/jpeg", JPEG),
        "webp" => raw(200, "image/webp", WEBP),
        _ => raw(200, "image/gif", GIF),
    };
    set_header(&mut r, "cache-control", "public, max-age=86400");
    r
}

/// `?size=` must be a power of two from 16 to 4096.
fn size_ok(query: &str) -> bool {
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if k == "size" {
            match v.parse::<u32>() {
                Ok(n) if (16..=4096).contains(&n) && n.is_power_of_two() => {}
                _ => return false,
            }
        }
    }
    true
}

/// Splits `hash.ext`, checking the extension (GIF only for `a_` hashes).
fn split_file(file: &str, formats: &[&str]) -> Result<(String, String), Resp> {
    let Some((hash, ext)) = file.rsplit_once('.') else {
        return Err(text(404, "404: Not Found"));
    };
    let ext = ext.to_ascii_lowercase();
    if !formats.contains(&ext.as_str()) || (ext == "gif" && !hash.starts_with("a_")) {
        return Err(text(415, "415: Unsupported Media Type"));
    }
    Ok((hash.to_owned(), ext))
}

/// A sized image of `file` in one of `formats`, if the path names a `known` image.
fn sized(parts: &Parts, file: &str, formats: &[&str], known: bool) -> Resp {
    if !known {
        return text(404, "404: Not Found");
    }
    let (hash, ext) = match split_file(file, formats) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !size_ok(parts.uri.query().unwrap_or("")) {
        return text(400, "400: Invalid size");
    }
    image(&ext, &hash)
}

/// `embed/avatars/{0..5}.png`: the default avatars, PNG only, size ignored.
fn default_avatar(_: &Shared, parts: &Parts, _: &[u8]) -> Resp {
    let index = match segments(parts).as_slice() {
        ["embed", "avatars", file] => file
            .strip_suffix(".png")
            .and_then(|n| n.parse::<usize>().ok()),
        _ => None,
    };
    match index {
        Some(i) if i < 6 => {
            let mut r = raw(200, "image/png", png(DEFAULT_COLOURS[i]));
            set_header(&mut r, "cache-control", "public, max-age=86400");
            r
        }
        _ => text(404, "404: Not Found"),
    }
}

/// `avatars/{user_id}/{hash}.{ext}`: a seeded user's avatar.
fn user_avatar(shared: &Shared, parts: &Parts, _: &[u8]) -> Resp {
    let ["avatars", id, file] = segments(parts)[..] else {
        return text(404, "404: Not Found");
    };
    let h = hash_of(file);
    let known = snowflake(id)
        .and_then(|id| shared.user(id))
        .is_some_and(|u| u.avatar.as_deref() == Some(h));
    sized(parts, file, ALL, known)
}

/// `banners/{id}/{hash}.{ext}`: a seeded user's or guild's banner.
fn banner(shared: &Shared, parts: &Parts, _: &[u8]) -> Resp {
    let ["banners", id, file] = segments(parts)[..] else {
        return text(404, "404: Not Found");
    };
    let h = hash_of(file);
    let id = snowflake(id).unwrap_or(0);
    let known = shared
        .user(id)
        .is_some_and(|u| u.banner.as_deref() == Some(h))
        || shared
            .lock()
            .guilds
            .iter()
            .any(|g| g.id == id && g.banner.as_deref() == Some(h));
    sized(parts, file, ALL, known)
}

/// `icons/{guild_id}/{hash}.{ext}`: a seeded guild's icon.
fn guild_icon(shared: &Shared, parts: &Parts, _: &[u8]) -> Resp {
    let ["icons", id, file] = segments(parts)[..] else {
        return text(404, "404: Not Found");
    };
    let h = hash_of(file);
    let id = snowflake(id).unwrap_or(0);
    let known = shared
        .lock()
        .guilds
        .iter()
        .any(|g| g.id == id && g.icon.as_deref() == Some(h));
    sized(parts, file, ALL, known)
}

/// `guilds/{guild_id}/users/{user_id}/avatars|banners/{hash}.{ext}`: a member's guild images.
fn member_image(_: &Shared, parts: &Parts, _: &[u8]) -> Resp {
    let ["guilds", g, "users", u, "avatars" | "banners", file] = segments(parts)[..] else {
        return text(404, "404: Not Found");
    };
    let known = snowflake(g).is_some() && snowflake(u).is_some();
    sized(parts, file, ALL, known)
}

/// `avatar-decoration-presets/{asset}.png`.
fn decoration(_: &Shared, parts: &Parts, _: &[u8]) -> Resp {
    let ["avatar-decoration-presets", file] = segments(parts)[..] else {
        return text(404, "404: Not Found");
    };
    sized(parts, file, &["png"], true)
}

/// `{app-icons|role-icons|team-icons|splashes|...}/{id}/{hash}.{ext}`: still images of any hash.
fn asset(_: &Shared, parts: &Parts, _: &[u8]) -> Resp {
    let [_, id, file] = segments(parts)[..] else {
        return text(404, "404: Not Found");
    };
    sized(parts, file, STILL, snowflake(id).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert!(size_ok("size=16") && size_ok("size=4096") && size_ok(""));
        assert!(
            !size_ok("size=8")
                && !size_ok("size=100")
                && !size_ok("size=8192")
                && !size_ok("size=x")
        );
    }
}
