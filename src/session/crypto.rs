//! Cookie encryption: AES-256-GCM with keys derived from `SECRET_KEY` by HKDF-SHA256, one key per
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

use crate::secret::SecretKey;

/// What a key is for; each purpose has its own derived key.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    Session,
    Pending,
}

impl Purpose {
    fn info(self) -> &'static [u8] {
        match self {
            Self::Session => b"discord-oauth/v1/session-cookie",
            Self::Pending => b"discord-oauth/v1/pending-login-cookie",
        }
    }
}

/// Largest cookie value accepted before any decoding (browsers cap a cookie near 4 KiB).
pub(crate) const MAX_COOKIE_VALUE: usize = 4096;

/// The derived keys: the current one first, then previous ones (read-only).
pub(crate) struct CookieKeys {
    session: Vec<Aes256Gcm>,
    pending: Vec<Aes256Gcm>,
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
        Self {
            session: masters
                .iter()
                .map(|m| derive(m, Purpose::Session))
                .collect(),
            pending: masters
                .iter()
                .map(|m| derive(m, Purpose::Pending))
                .collect(),
        }
    }

    fn keys(&self, purpose: Purpose) -> &[Aes256Gcm] {
        match purpose {
            Purpose::Session => &self.session,
            Purpose::Pending => &self.pending,
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

/// `N` random bytes from the OS.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the operating system's random number generator failed");
    b
}

/// A random URL-safe token of `N` bytes of entropy.
pub(crate) fn random_token<const N: usize>() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<N>())
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
}
