//! The session's two cookies: finding them in a request, writing `Set-Cookie`, and sealing
//! them. Encryption: AES-256-GCM with keys derived from `SECRET_KEY` by HKDF-SHA256, one key per
//! cookie purpose (session, pending login), and a list of previous keys accepted for reading so
//! that `SECRET_KEY` can be rotated. The cookie name is authenticated data, so a value cut from
//! one cookie cannot be pasted into another.
//!
//! Wire format: `base64url(nonce[12] || ciphertext || tag[16])`.

use aes_gcm::aead::{Aead, AeadInPlace, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use sha2::Sha256;

use http::{HeaderMap, HeaderValue};

use crate::vocab::secret::{SecretKey, random_bytes};

/// What a key is for; each purpose has its own derived key.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    Session,
    Pending,
    /// A refreshed record shared with other processes through [`RefreshCoordination`](crate::store::RefreshCoordination).
    Rotation,
}

impl Purpose {
    fn info(self) -> &'static [u8] {
        match self {
            Self::Session => b"discord-oauth/v1/session-cookie",
            Self::Pending => b"discord-oauth/v1/pending-login-cookie",
            Self::Rotation => b"discord-oauth/v1/refresh-rotation",
        }
    }
}

/// Largest cookie value accepted before any decoding (browsers cap a cookie near 4 KiB).
pub(crate) const MAX_COOKIE_VALUE: usize = 4096;

/// The derived keys: the current one first, then previous ones (read-only).
pub(crate) struct CookieKeys {
    session: Vec<Aes256Gcm>,
    pending: Vec<Aes256Gcm>,
    rotation: Vec<Aes256Gcm>,
}

impl std::fmt::Debug for CookieKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieKeys")
            .field("keys", &self.session.len())
            .finish_non_exhaustive()
    }
}

fn derive(master: &[u8], purpose: Purpose) -> Aes256Gcm {
    let hk = Hkdf::<Sha256>::new(Some(b"discord-oauth cookie keys"), master);
    let mut okm = [0u8; 32];
    hk.expand(purpose.info(), &mut okm)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    Aes256Gcm::new(&okm.into())
}

impl CookieKeys {
    /// Derives the keys. `current` is `None` when no `SECRET_KEY` was configured: a random
    /// key is generated and a warning is logged.
    pub(crate) fn new(current: Option<&SecretKey>, previous: &[SecretKey]) -> Self {
        let mut masters: Vec<Vec<u8>> = Vec::with_capacity(1 + previous.len());
        match current {
            Some(k) => masters.push(k.secret().as_bytes().to_vec()),
            None => {
                tracing::warn!(
                    "SECRET_KEY is not set: using a random key for this process; sessions will not \
                     survive a restart nor be shared between processes"
                );
                masters.push(random_bytes::<32>().to_vec());
            }
        }
        masters.extend(previous.iter().map(|k| k.secret().as_bytes().to_vec()));
        let all = |purpose| masters.iter().map(|m| derive(m, purpose)).collect();
        Self {
            session: all(Purpose::Session),
            pending: all(Purpose::Pending),
            rotation: all(Purpose::Rotation),
        }
    }

    fn keys(&self, purpose: Purpose) -> &[Aes256Gcm] {
        match purpose {
            Purpose::Session => &self.session,
            Purpose::Pending => &self.pending,
            Purpose::Rotation => &self.rotation,
        }
    }

    /// Encrypts `plaintext` for the cookie `name`.
    pub(crate) fn seal(&self, purpose: Purpose, name: &str, plaintext: &[u8]) -> String {
        let nonce = random_bytes::<12>();
        let ct = self.keys(purpose)[0]
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: name.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of a cookie-sized message cannot fail");
        let mut out = Vec::with_capacity(12 + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Decrypts a cookie value; `None` for anything forged, truncated, oversized or sealed with
    /// an unknown key. Also says whether a previous key was used (the cookie should be re-sealed).
    pub(crate) fn open(
        &self,
        purpose: Purpose,
        name: &str,
        value: &str,
    ) -> Option<(Vec<u8>, bool)> {
        if value.len() > MAX_COOKIE_VALUE {
            return None;
        }
        let mut raw = URL_SAFE_NO_PAD
            .decode(value.trim().trim_matches('"'))
            .ok()?;
        if raw.len() < 12 + 16 {
            return None;
        }
        // Decrypt in place (no second buffer): nonce | ciphertext | tag. The tag is checked
        // before anything is written, so a failed attempt leaves the buffer as it was.
        let tag_at = raw.len() - 16;
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&raw[..12]);
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&raw[tag_at..]);
        for (i, key) in self.keys(purpose).iter().enumerate() {
            let opened = key.decrypt_in_place_detached(
                Nonce::from_slice(&nonce),
                name.as_bytes(),
                &mut raw[12..tag_at],
                (&tag).into(),
            );
            if opened.is_ok() {
                raw.truncate(tag_at);
                raw.drain(..12);
                return Some((raw, i > 0));
            }
        }
        None
    }
}

/// A request's `Cookie` headers, kept as they came (cloning a header value shares its
/// bytes) and searched only when a cookie is asked for: a request that never looks at its
/// session pays nothing for carrying it.
#[derive(Debug, Default)]
pub(crate) struct RequestCookies {
    first: Option<HeaderValue>,
    /// Further `Cookie` headers (HTTP/2 may split cookies over several).
    rest: Vec<HeaderValue>,
}

impl RequestCookies {
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        let mut all = headers.get_all(http::header::COOKIE).iter();
        Self {
            first: all.next().cloned(),
            rest: all.cloned().collect(),
        }
    }

    /// Whether the request carries any `Cookie` header.
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// The value of the cookie `name` (RFC 6265 §5.4: `name=value` pairs separated by `;`);
    /// the first one wins. Values are checked by whoever opens them (a sealed value that is
    /// not base64url does not open).
    #[cfg(test)]
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.all(name).next()
    }

    /// Every value of the cookie `name`, in order (a browser may send several: one per path
    /// or domain, or one planted by a sibling subdomain), at most [`MAX_SAME_NAME`].
    pub(crate) fn all<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.first
            .iter()
            .chain(&self.rest)
            .flat_map(move |header| values(header.as_bytes(), name.as_bytes()))
            .filter_map(|value| std::str::from_utf8(value).ok())
            .take(MAX_SAME_NAME)
    }
}

/// Most values of one cookie name looked at (each may cost a decryption).
pub(crate) const MAX_SAME_NAME: usize = 8;

/// The values of cookie `name` in one `Cookie` header: the name compared at the start of each
/// pair, the pairs' ends found with `memchr`.
fn values<'h, 'n>(
    header: &'h [u8],
    name: &'n [u8],
) -> impl Iterator<Item = &'h [u8]> + use<'h, 'n> {
    let mut rest = Some(header);
    std::iter::from_fn(move || {
        loop {
            let pair = rest?.trim_ascii_start();
            let after_name = pair.strip_prefix(name).and_then(|v| v.strip_prefix(b"="));
            let scanned = after_name.unwrap_or(pair);
            let end = memchr::memchr(b';', scanned);
            rest = end.map(|e| &scanned[e + 1..]);
            if let Some(value) = after_name {
                return Some(end.map_or(value, |e| &value[..e]).trim_ascii_end());
            }
        }
    })
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, path `/`, `Secure` when asked.
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    max_age: u64,
    secure: bool,
) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}

/// Whether a `Set-Cookie` value sets the cookie `name`.
pub(crate) fn is_named(set_cookie: &HeaderValue, name: &str) -> bool {
    let bytes = set_cookie.as_bytes();
    bytes.len() > name.len() && bytes.starts_with(name.as_bytes()) && bytes[name.len()] == b'='
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> SecretKey {
        SecretKey::new(s.repeat(40))
    }

    #[test]
    fn round_trip_and_binding() {
        let k = CookieKeys::new(Some(&key("a")), &[]);
        let v = k.seal(Purpose::Session, "sid", b"hello");
        assert_eq!(
            k.open(Purpose::Session, "sid", &v).unwrap(),
            (b"hello".to_vec(), false)
        );
        assert!(
            k.open(Purpose::Session, "other", &v).is_none(),
            "bound to the cookie name"
        );
        assert!(
            k.open(Purpose::Pending, "sid", &v).is_none(),
            "bound to the purpose"
        );
        let mut tampered = v.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(
            k.open(
                Purpose::Session,
                "sid",
                std::str::from_utf8(&tampered).unwrap()
            )
            .is_none()
        );
        assert!(k.open(Purpose::Session, "sid", "garbage!!").is_none());
        assert!(k.open(Purpose::Session, "sid", "").is_none());
        assert!(
            k.open(Purpose::Session, "sid", &"A".repeat(10_000))
                .is_none()
        );
    }

    #[test]
    fn cookies_are_found_by_exact_name_across_headers() {
        let mut h = HeaderMap::new();
        h.append(
            "cookie",
            HeaderValue::from_static("xs=0; a=1;s=sess ; s=dup"),
        );
        h.append("cookie", HeaderValue::from_static("p=pend; s=second"));
        let c = RequestCookies::of(&h);
        assert_eq!(c.get("s"), Some("sess"));
        assert_eq!(c.all("s").collect::<Vec<_>>(), ["sess", "dup", "second"]);
        assert_eq!(c.all("xs").collect::<Vec<_>>(), ["0"]);
        assert_eq!(c.get("p"), Some("pend"));
        assert_eq!(c.get("a"), Some("1"));
        assert_eq!(c.get("x"), None);
        assert_eq!(c.get("se"), None);
        let empty = RequestCookies::of(&HeaderMap::new());
        assert!(empty.is_empty() && empty.get("s").is_none());
        let c = set_cookie("s", "v", 60, true).unwrap();
        assert!(is_named(&c, "s") && !is_named(&c, "s2") && !is_named(&c, ""));
        assert!(c.to_str().unwrap().ends_with("SameSite=Lax; Secure"));
    }

    #[test]
    fn rotation_accepts_previous_keys() {
        let old = CookieKeys::new(Some(&key("old")), &[]);
        let v = old.seal(Purpose::Session, "sid", b"x");
        let new = CookieKeys::new(Some(&key("new")), &[key("old")]);
        assert_eq!(
            new.open(Purpose::Session, "sid", &v).unwrap(),
            (b"x".to_vec(), true)
        );
        let unrelated = CookieKeys::new(Some(&key("new")), &[]);
        assert!(unrelated.open(Purpose::Session, "sid", &v).is_none());
    }

    mod properties {
        //! Seal/open properties: every sealed value opens to what was sealed; any flipped bit,
        //! truncation, extension or garbage is refused (`None`), never a panic.
        use super::*;
        use proptest::prelude::*;

        fn keys() -> CookieKeys {
            CookieKeys::new(Some(&key("k")), &[key("old")])
        }

        fn config() -> ProptestConfig {
            ProptestConfig {
                cases: 512,
                failure_persistence: None,
                ..ProptestConfig::default()
            }
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn sealed_values_open(plain in prop::collection::vec(any::<u8>(), 0..1024), name in "[a-z_]{1,12}") {
                let k = keys();
                let v = k.seal(Purpose::Session, &name, &plain);
                prop_assert_eq!(k.open(Purpose::Session, &name, &v), Some((plain.clone(), false)));
                prop_assert!(k.open(Purpose::Pending, &name, &v).is_none());
                let other = format!("{name}x");
                prop_assert!(k.open(Purpose::Session, &other, &v).is_none());
            }

            #[test]
            fn any_flipped_bit_is_refused(plain in prop::collection::vec(any::<u8>(), 0..256), bit in any::<prop::sample::Index>()) {
                let k = keys();
                let v = k.seal(Purpose::Session, "s", &plain);
                let mut raw = URL_SAFE_NO_PAD.decode(&v).unwrap();
                let i = bit.index(raw.len() * 8);
                raw[i / 8] ^= 1 << (i % 8);
                prop_assert!(k.open(Purpose::Session, "s", &URL_SAFE_NO_PAD.encode(&raw)).is_none());
            }

            #[test]
            fn truncated_or_extended_values_are_refused(plain in prop::collection::vec(any::<u8>(), 0..256), cut in any::<prop::sample::Index>(), tail in prop::collection::vec(any::<u8>(), 1..32)) {
                let k = keys();
                let v = k.seal(Purpose::Session, "s", &plain);
                let raw = URL_SAFE_NO_PAD.decode(&v).unwrap();
                let short = &raw[..cut.index(raw.len())];
                prop_assert!(k.open(Purpose::Session, "s", &URL_SAFE_NO_PAD.encode(short)).is_none());
                prop_assert!(k.open(Purpose::Session, "s", &v[..cut.index(v.len())]).is_none());
                let mut long = raw.clone();
                long.extend_from_slice(&tail);
                prop_assert!(k.open(Purpose::Session, "s", &URL_SAFE_NO_PAD.encode(&long)).is_none());
            }

            #[test]
            fn garbage_is_refused(s in "\\PC{0,200}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
                let k = keys();
                prop_assert!(k.open(Purpose::Session, "s", &s).is_none());
                prop_assert!(k.open(Purpose::Session, "s", &URL_SAFE_NO_PAD.encode(&bytes)).is_none());
            }
        }
    }
}
