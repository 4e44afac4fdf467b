//! A CDN stand-in (`{base}/cdn`, like `https://cdn.discordapp.com`, discord-api.md §4) serving
//! tiny placeholder images, so that pages built on the mock load nothing from the internet.

use crate::state::Shared;
use crate::util::{Resp, raw};
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

static JPEG: &[u8] = include_bytes!("assets/placeholder.jpg");
static WEBP: &[u8] = include_bytes!("assets/placeholder.webp");
static GIF: &[u8] = include_bytes!("assets/placeholder.gif");

fn text(status: u16, msg: &str) -> Resp {
    raw(status, "text/plain; charset=utf-8", msg.to_owned())
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + x as u32) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A valid 16x16 RGB PNG of one colour (stored deflate block, no compression library needed).
pub(crate) fn png(rgb: [u8; 3]) -> Vec<u8> {
    const N: usize = 16;
    // One scanline: filter byte 0 (none), then N pixels.
    let mut row = vec![0u8];
    for _ in 0..N {
        row.extend_from_slice(&rgb);
    }
    let rawimg = row.repeat(N);
    let mut z = vec![0x78, 0x01, 0x01];
    let len = rawimg.len() as u16;
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&(!len).to_le_bytes());
    z.extend_from_slice(&rawimg);
    z.extend_from_slice(&adler32(&rawimg).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(N as u32).to_be_bytes());
    ihdr.extend_from_slice(&(N as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Discord's default avatar colours (blurple, grey, green, yellow, red, pink).
const DEFAULT_COLOURS: [[u8; 3]; 6] = [
    [0x58, 0x65, 0xF2],
    [0x75, 0x7E, 0x8A],
    [0x3B, 0xA5, 0x5C],
    [0xFA, 0xA6, 0x1A],
    [0xED, 0x42, 0x45],
    [0xEB, 0x45, 0x9F],
];

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
    crate::util::set_header(&mut r, "cache-control", "public, max-age=86400");
    r
}

/// `?size=` must be a power of two from 16 to 4096 (discord-api.md §4).
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

const ALL: &[&str] = &["png", "jpg", "jpeg", "webp", "gif"];
const STILL: &[&str] = &["png", "jpg", "jpeg", "webp"];

/// Serves `GET {base}/cdn/...`.
pub(crate) fn serve(shared: &Shared, parts: &Parts) -> Resp {
    let path = parts.uri.path().strip_prefix("/cdn/").unwrap_or("");
    let segs: Vec<&str> = path.split('/').collect();
    let query = parts.uri.query().unwrap_or("");
    let sized = |file: &str, formats: &[&str], known: bool| -> Resp {
        if !known {
            return text(404, "404: Not Found");
        }
        let (hash, ext) = match split_file(file, formats) {
            Ok(x) => x,
            Err(r) => return r,
        };
        if !size_ok(query) {
            return text(400, "400: Invalid size");
        }
        image(&ext, &hash)
    };
    let hash_of = |file: &str| {
        file.rsplit_once('.')
            .map(|(h, _)| h.to_owned())
            .unwrap_or_default()
    };
    let guilds = || shared.lock().guilds.clone();
    match segs.as_slice() {
        ["embed", "avatars", file] => {
            // PNG only, size ignored (discord-api.md §4).
            match file
                .strip_suffix(".png")
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(i) if i < 6 => {
                    let mut r = raw(200, "image/png", png(DEFAULT_COLOURS[i]));
                    crate::util::set_header(&mut r, "cache-control", "public, max-age=86400");
                    r
                }
                _ => text(404, "404: Not Found"),
            }
        }
        ["avatars", id, file] => {
            let h = hash_of(file);
            let known = crate::util::snowflake(id)
                .and_then(|id| shared.user(id))
                .is_some_and(|u| u.avatar.as_deref() == Some(h.as_str()));
            sized(file, ALL, known)
        }
        ["banners", id, file] => {
            let h = hash_of(file);
            let id = crate::util::snowflake(id).unwrap_or(0);
            let known = shared
                .user(id)
                .is_some_and(|u| u.banner.as_deref() == Some(h.as_str()))
                || guilds()
                    .iter()
                    .any(|g| g.id == id && g.banner.as_deref() == Some(h.as_str()));
            sized(file, ALL, known)
        }
        ["icons", id, file] => {
            let h = hash_of(file);
            let id = crate::util::snowflake(id).unwrap_or(0);
            let known = guilds()
                .iter()
                .any(|g| g.id == id && g.icon.as_deref() == Some(h.as_str()));
            sized(file, ALL, known)
        }
        ["guilds", g, "users", u, "avatars" | "banners", file] => {
            let known = crate::util::snowflake(g).is_some() && crate::util::snowflake(u).is_some();
            sized(file, ALL, known)
        }
        ["avatar-decoration-presets", file] => sized(file, &["png"], true),
        ["app-icons", id, file] | ["role-icons", id, file] | ["team-icons", id, file] => {
            sized(file, STILL, crate::util::snowflake(id).is_some())
        }
        [
            "splashes" | "discovery-splashes" | "guild-tag-badges" | "clan-badges",
            id,
            file,
        ] => sized(file, STILL, crate::util::snowflake(id).is_some()),
        _ => text(404, "404: Not Found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_is_well_formed() {
        let p = png([1, 2, 3]);
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&p[12..16], b"IHDR");
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert!(p.ends_with(&[0xAE, 0x42, 0x60, 0x82]));
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

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
