//! Signed download links: `/chat/attachment/{id}?exp=…&sig=…`, so that an
//! `<img>` needs no token in its URL (a JWT in a URL would land in
//! histories, logs and `Referer` headers).
//!
//! `sig` is HMAC-SHA256 over `{id}.{exp}`, hex, with a key derived from
//! `CHAT_JWT_SECRET` (HMAC of the secret over a fixed label), so that every
//! chat node verifies what any other signed and no new secret is needed.
//! The same signature opens the attachment and its thumbnail. A link lives
//! [`LIFETIME`] to [`LIFETIME`] + [`WINDOW`]: `exp` is rounded up to a
//! whole window, so the links of one attachment are the same for a while
//! and a browser's cache keeps working. Whoever holds a link can download
//! until `exp`: a member removed from a group keeps the links they already
//! had until then, and no more; their token no longer opens anything.

use chat_wire::attachments::Attachment;
use chat_wire::model::Message;
use hmac::{Hmac, KeyInit, Mac};
use service_kit::ApiError;
use sha2::Sha256;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The shortest life of a link.
pub const LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Links expire at whole multiples of this.
pub const WINDOW: Duration = Duration::from_secs(5 * 60);
/// What the key is derived for.
const LABEL: &[u8] = b"chat-server attachment links v1";

/// Signs and checks download links; cheap to clone.
#[derive(Clone)]
pub struct UrlSigner {
    key: Arc<[u8]>,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UrlSigner").finish_non_exhaustive()
    }
}

impl UrlSigner {
    /// A signer whose key is derived from `secret` (`CHAT_JWT_SECRET`).
    pub fn new(secret: &[u8]) -> Self {
        let mut derive = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
        derive.update(LABEL);
        Self {
            key: derive.finalize().into_bytes().to_vec().into(),
        }
    }

    fn mac(&self, id: &str, exp: u64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(format!("{id}.{exp}").as_bytes());
        mac
    }

    /// The `exp` of links made at `now` (seconds since the epoch).
    pub fn expiry(now: u64) -> u64 {
        let window = WINDOW.as_secs();
        (now + LIFETIME.as_secs()).div_ceil(window) * window
    }

    /// The signature of attachment `id` until `exp`.
    pub fn sign(&self, id: &str, exp: u64) -> String {
        hex::encode(self.mac(id, exp).finalize().into_bytes())
    }

    /// Checks a link's `exp` and `sig` for attachment `id` at `now`; the
    /// comparison takes the same time whatever the guess.
    pub fn verify(&self, id: &str, exp: u64, sig: &str, now: u64) -> Result<(), ApiError> {
        let forged = || ApiError::Unauthenticated("the download link is not valid".into());
        if exp > now + LIFETIME.as_secs() + WINDOW.as_secs() {
            return Err(forged());
        }
        let tag = decode_hex(sig).ok_or_else(forged)?;
        self.mac(id, exp).verify_slice(&tag).map_err(|_| forged())?;
        if exp < now {
            return Err(ApiError::Unauthenticated(
                "the download link has expired; ask for the message again".into(),
            ));
        }
        Ok(())
    }

    /// The path of attachment `id` (or its thumbnail) signed until `exp`.
    pub fn link(&self, id: &str, exp: u64, thumbnail: bool) -> String {
        let sig = self.sign(id, exp);
        let rest = if thumbnail { "/thumbnail" } else { "" };
        format!("/chat/attachment/{id}{rest}?exp={exp}&sig={sig}")
    }

    /// Sets the `url` of an attachment and of its thumbnail, valid from now.
    pub fn sign_attachment(&self, attachment: &mut Attachment) {
        let exp = Self::expiry(now());
        let id = attachment.id.to_string();
        attachment.url = Some(self.link(&id, exp, false));
        if let Some(thumbnail) = &mut attachment.thumbnail {
            thumbnail.url = Some(self.link(&id, exp, true));
        }
    }

    /// Signs every attachment of a message.
    pub fn sign_message(&self, message: &mut Message) {
        for attachment in &mut message.attachments {
            self.sign_attachment(attachment);
        }
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// A signature's bytes: 64 hex digits, or nothing.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    (text.len() == 64).then(|| hex::decode(text).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_wire::ErrorCode;

    const ID: &str = "65f0c0ffee0000000000abcd";

    #[test]
    fn a_link_opens_its_attachment_until_it_expires_and_no_other() {
        let signer = UrlSigner::new(b"a-jwt-secret-of-at-least-32-bytes!!");
        let now = 1_800_000_000;
        let exp = UrlSigner::expiry(now);
        assert!(exp >= now + LIFETIME.as_secs() && exp.is_multiple_of(WINDOW.as_secs()));
        let sig = signer.sign(ID, exp);
        assert!(signer.verify(ID, exp, &sig, now).is_ok());
        let code = |result: Result<(), ApiError>| result.unwrap_err().code();
        assert_eq!(
            code(signer.verify(ID, exp, &sig, exp + 1)),
            ErrorCode::Unauthenticated
        );
        let other = "65f0c0ffee0000000000abce";
        assert!(signer.verify(other, exp, &sig, now).is_err());
        assert!(
            signer.verify(ID, exp + 300, &sig, now).is_err(),
            "exp is signed"
        );
        let forged = UrlSigner::new(b"another-secret-of-at-least-32-bytes").sign(ID, exp);
        assert!(signer.verify(ID, exp, &forged, now).is_err());
        assert!(signer.verify(ID, exp, "zz", now).is_err());
        // A far expiry is refused even when signed (only a leaked key makes one).
        let far = now + 86_400;
        assert!(signer.verify(ID, far, &signer.sign(ID, far), now).is_err());
    }

    #[test]
    fn links_of_one_window_are_the_same() {
        let signer = UrlSigner::new(b"a-jwt-secret-of-at-least-32-bytes!!");
        let window = WINDOW.as_secs();
        let start = 1_800_000_000 / window * window + 1;
        let exp = UrlSigner::expiry(start);
        assert_eq!(UrlSigner::expiry(start + window - 2), exp);
        assert_eq!(
            signer.link(ID, exp, true),
            format!(
                "/chat/attachment/{ID}/thumbnail?exp={exp}&sig={}",
                signer.sign(ID, exp)
            )
        );
    }
}
