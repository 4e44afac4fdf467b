//! Discord CDN URLs ([Discord: Image Formatting](https://discord.com/developers/docs/reference#image-formatting)).

use std::fmt;

use url::Url;

use super::{ApplicationId, GuildId, UserId};

/// Why a CDN URL cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CdnError {
    /// The CDN base is not an absolute `http`/`https` URL without query or fragment.
    #[error("invalid CDN base URL")]
    InvalidBase,
    /// The size is not a power of two between 16 and 4096.
    #[error("invalid image size {0} (expected a power of two from 16 to 4096)")]
    InvalidSize(u32),
    /// GIF was requested for a hash without the `a_` prefix: Discord only serves GIF for
    /// animated images.
    #[error("GIF requested for an image that is not animated")]
    NotAnimated,
    /// The format is not available for this kind of asset (for example GIF for an application
    /// icon).
    #[error("image format {0} is not available for this asset")]
    UnsupportedFormat(ImageFormat),
    /// The image hash contains characters other than `[A-Za-z0-9_]` (it would change the path).
    #[error("malformed image hash")]
    InvalidHash,
    /// The object has no such image (its hash is `null` or absent).
    #[error("no image set")]
    NoImage,
}

/// An image format, chosen on the CDN by the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageFormat {
    /// `.png`
    Png,
    /// `.jpg`
    Jpeg,
    /// `.webp`; for an animated (`a_`) hash the URL adds `animated=true`.
    WebP,
    /// `.gif`, only for animated (`a_`) hashes.
    Gif,
}

impl ImageFormat {
    /// The file extension, without the dot.
    #[must_use]
    pub const fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::WebP => "webp",
            ImageFormat::Gif => "gif",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// The `size` query parameter: a power of two from 16 to 4096.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageSize(u16);

impl ImageSize {
    /// 16 pixels, the smallest size.
    pub const MIN: ImageSize = ImageSize(16);
    /// 4096 pixels, the largest size.
    pub const MAX: ImageSize = ImageSize(4096);

    /// Validates a size.
    ///
    /// # Errors
    /// [`CdnError::InvalidSize`] unless `size` is a power of two in `16..=4096`.
    pub const fn new(size: u32) -> Result<ImageSize, CdnError> {
        if size >= 16 && size <= 4096 && size.is_power_of_two() {
            // Lossless: size <= 4096.
            Ok(ImageSize(size as u16))
        } else {
            Err(CdnError::InvalidSize(size))
        }
    }

    /// The size in pixels.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u32> for ImageSize {
    type Error = CdnError;

    fn try_from(size: u32) -> Result<Self, Self::Error> {
        ImageSize::new(size)
    }
}

/// The base URL of Discord's CDN, `https://cdn.discordapp.com/` by default; [`Cdn::new`] points
/// it elsewhere (for example at a fake Discord in tests, `DISCORD_CDN_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cdn {
    base: Url,
}

impl Default for Cdn {
    fn default() -> Self {
        Cdn {
            base: Url::parse(Cdn::DEFAULT_URL).expect("constant URL parses"),
        }
    }
}

fn is_animated(hash: &str) -> bool {
    hash.starts_with("a_")
}

fn check_hash(hash: &str) -> Result<(), CdnError> {
    if hash.is_empty()
        || hash.len() > 128
        || !hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Err(CdnError::InvalidHash)
    } else {
        Ok(())
    }
}

impl Cdn {
    /// Discord's CDN base, `https://cdn.discordapp.com/`.
    pub const DEFAULT_URL: &'static str = "https://cdn.discordapp.com/";

    /// A CDN at another base URL. A missing trailing `/` is added.
    ///
    /// # Errors
    /// [`CdnError::InvalidBase`] unless the URL is absolute `http` or `https` with a host and
    /// without query or fragment.
    pub fn new(base: &str) -> Result<Cdn, CdnError> {
        let url = Url::parse(base).map_err(|_| CdnError::InvalidBase)?;
        Cdn::from_url(url)
    }

    /// Like [`Cdn::new`], from a parsed URL.
    ///
    /// # Errors
    /// As [`Cdn::new`].
    pub fn from_url(mut base: Url) -> Result<Cdn, CdnError> {
        if !matches!(base.scheme(), "http" | "https")
            || base.host().is_none()
            || base.query().is_some()
            || base.fragment().is_some()
        {
            return Err(CdnError::InvalidBase);
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Cdn { base })
    }

    /// The base URL, with a trailing `/`.
    #[must_use]
    pub fn base(&self) -> &Url {
        &self.base
    }

    fn join(&self, path: &str) -> Url {
        // `path` is built from decimal ids and validated hashes only, so it is a plain relative
        // path and joining cannot fail or escape the base.
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    /// An image that may be animated (avatars, banners, guild icons): GIF only for `a_` hashes,
    /// WebP of an `a_` hash gets `animated=true`.
    fn animatable(
        &self,
        dir: &str,
        hash: &str,
        format: ImageFormat,
        size: Option<ImageSize>,
    ) -> Result<Url, CdnError> {
        check_hash(hash)?;
        let animated = is_animated(hash);
        if format == ImageFormat::Gif && !animated {
            return Err(CdnError::NotAnimated);
        }
        let mut url = self.join(&format!("{dir}/{hash}.{}", format.extension()));
        if let Some(size) = size {
            url.query_pairs_mut()
                .append_pair("size", &size.get().to_string());
        }
        if format == ImageFormat::WebP && animated {
            url.query_pairs_mut().append_pair("animated", "true");
        }
        Ok(url)
    }

    /// A static-only image (application icons, splashes): PNG, JPEG or WebP.
    fn still(
        &self,
        dir: &str,
        hash: &str,
        format: ImageFormat,
        size: Option<ImageSize>,
    ) -> Result<Url, CdnError> {
        check_hash(hash)?;
        if format == ImageFormat::Gif {
            return Err(CdnError::UnsupportedFormat(format));
        }
        let mut url = self.join(&format!("{dir}/{hash}.{}", format.extension()));
        if let Some(size) = size {
            url.query_pairs_mut()
                .append_pair("size", &size.get().to_string());
        }
        Ok(url)
    }

    /// `avatars/{user_id}/{hash}.{ext}`.
    ///
    /// # Errors
    /// [`CdnError::NotAnimated`] for GIF with a static hash, [`CdnError::InvalidHash`].
    pub fn user_avatar(
        &self,
        user: UserId,
        hash: &str,
        format: ImageFormat,
        size: Option<ImageSize>,
    ) -> Result<Url, CdnError> {
        self.animatable(&format!("avatars/{user}"), hash, format, size)
    }

    /// `embed/avatars/{index}.png`: PNG only, and Discord ignores `size`, so none is sent.
    /// `index` is taken modulo 6.
    #[must_use]
    pub fn default_avatar(&self, index: u8) -> Url {
        self.join(&format!("embed/avatars/{}.png", index % 6))
    }

    /// `banners/{user_id}/{hash}.{ext}`.
    ///
    /// # Errors
    /// As [`Cdn::user_avatar`].
    pub fn user_banner(
        &self,
        user: UserId,
        hash: &str,
        format: ImageFormat,
        size: Option<ImageSize>,
    ) -> Result<Url, CdnError> {
        self.animatable(&format!("banners/{user}"), hash, format, size)
    }

    /// `icons/{guild_id}/{hash}.{ext}`.
    ///
    /// # Errors
    /// As [`Cdn::user_avatar`].
    pub fn guild_icon(
        &self,
        guild: GuildId,
        hash: &str,
        format: ImageFormat,
        size: Option<ImageSize>,
    ) -> Result<Url, CdnError> {
        self.animatable(&format!("icons/{guild}"), hash, format, size)
    }

    /// `banners/{guild_id}/{hash}.{ext}`.
    ///
    /// # Errors
    /// As [`Cdn::user_avatar`].
    pub fn guild_banner(
        &self,
        guild: GuildId,
        hash: &str,
        format: ImageFormat,
        size: Option<ImageSize>,
    ) -> Result<Url, CdnError> {
        self.animatable(&format!("banners/{guild}"), hash, format, size)
    }

    /// `guilds/{guild_id}/users/{user_id}/avatars/{hash}.{ext}` (a member's guild avatar).
    ///
    /// # Errors
    /// As [`Cdn::user_avatar`].
    pub fn member_avatar(
        &self,
        guild: GuildId,
        user: UserId,
        hash: &str,
        format: ImageFormat,
        size: Option<ImageSize>,
    ) -> Result<Url, CdnError> {
        self.animatable(
            &format!("guilds/{guild}/users/{user}/avatars"),
            hash,
            format,
            size,
        )
    }

    /// `app-icons/{application_id}/{hash}.{ext}`: PNG, JPEG or WebP.
    ///
    /// # Errors
    /// [`CdnError::UnsupportedFormat`] for GIF, [`CdnError::InvalidHash`].
    pub fn application_icon(
        &self,
        application: ApplicationId,
        hash: &str,
        format: ImageFormat,
        size: Option<ImageSize>,
    ) -> Result<Url, CdnError> {
        self.still(&format!("app-icons/{application}"), hash, format, size)
    }

    /// `avatar-decoration-presets/{asset}.png`: PNG only, the asset may be animated (Discord
    /// serves it animated by default).
    ///
    /// # Errors
    /// [`CdnError::InvalidHash`] for a malformed asset.
    pub fn avatar_decoration(&self, asset: &str) -> Result<Url, CdnError> {
        check_hash(asset)?;
        Ok(self.join(&format!("avatar-decoration-presets/{asset}.png")))
    }

    /// The preferred format for a hash: WebP (animated) for an `a_` hash, as Discord recommends
    /// for animated images, PNG otherwise.
    #[must_use]
    pub fn preferred_format(hash: &str) -> ImageFormat {
        if is_animated(hash) {
            ImageFormat::WebP
        } else {
            ImageFormat::Png
        }
    }
}
