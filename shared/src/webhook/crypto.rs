//! Feishu's Encrypt Key scheme: AES-256-CBC bodies and SHA-256 request signatures
//! (reference §1.3, §1.4).

use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::secret::Secret;

type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;
type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;

const IV_LEN: usize = 16;
const BLOCK: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecryptError {
    #[error("the encrypt field is not standard base64")]
    NotBase64,
    #[error("the ciphertext is shorter than one IV and one block")]
    TooShort,
    #[error("the ciphertext is not a whole number of AES blocks")]
    NotBlockAligned,
    #[error("the padding is invalid: the Encrypt Key is probably not the app's")]
    BadPadding,
}

/// The app's Encrypt Key with its derived AES key computed once at cold start.
#[derive(Clone)]
pub struct EncryptKey {
    key: Secret,
    aes_key: [u8; 32],
}

impl std::fmt::Debug for EncryptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptKey(<redacted>)")
    }
}

impl EncryptKey {
    pub fn new(key: Secret) -> Self {
        // The AES key is the raw SHA-256 digest of the Encrypt Key's UTF-8 bytes.
        let aes_key: [u8; 32] = Sha256::digest(key.expose().as_bytes()).into();
        Self { key, aes_key }
    }

    /// base64 → IV ‖ ciphertext → AES-256-CBC → PKCS#7 checked and stripped.
    pub fn decrypt(&self, encrypted: &str) -> Result<Vec<u8>, DecryptError> {
        let mut raw = BASE64
            .decode(encrypted.trim())
            .map_err(|_| DecryptError::NotBase64)?;
        if raw.len() < IV_LEN + BLOCK {
            return Err(DecryptError::TooShort);
        }
        if !(raw.len() - IV_LEN).is_multiple_of(BLOCK) {
            return Err(DecryptError::NotBlockAligned);
        }
        let (iv, ciphertext) = raw.split_at_mut(IV_LEN);
        let iv: [u8; IV_LEN] = (&*iv).try_into().map_err(|_| DecryptError::TooShort)?;
        let plain_len = Aes256CbcDec::new(&self.aes_key.into(), &iv.into())
            .decrypt_padded::<Pkcs7>(ciphertext)
            .map_err(|_| DecryptError::BadPadding)?
            .len();
        // Decrypted in place: drop the IV in front and the padding behind.
        raw.truncate(IV_LEN + plain_len);
        raw.drain(..IV_LEN);
        Ok(raw)
    }

    /// The inverse of [`decrypt`](Self::decrypt), used by `leave-sync send-event` and the
    /// tests. The IV must be fresh random bytes for anything sent over a network.
    pub fn encrypt(&self, plaintext: &[u8], iv: [u8; IV_LEN]) -> String {
        let ciphertext = Aes256CbcEnc::new(&self.aes_key.into(), &iv.into())
            .encrypt_padded_vec::<Pkcs7>(plaintext);
        let mut out = Vec::with_capacity(IV_LEN + ciphertext.len());
        out.extend_from_slice(&iv);
        out.extend_from_slice(&ciphertext);
        BASE64.encode(out)
    }

    /// Encrypts with a random IV.
    pub fn encrypt_random_iv(&self, plaintext: &[u8]) -> Result<String, getrandom::Error> {
        let mut iv = [0u8; IV_LEN];
        getrandom::fill(&mut iv)?;
        Ok(self.encrypt(plaintext, iv))
    }

    /// Lowercase hex SHA-256 of timestamp ‖ nonce ‖ Encrypt Key ‖ raw body. A plain hash
    /// with the key inside, not an HMAC: that is Feishu's scheme.
    pub fn signature(&self, timestamp: &str, nonce: &str, body: &[u8]) -> String {
        hex_lower(&self.digest(timestamp, nonce, body))
    }

    /// Compares in constant time. Header case is ignored (one doc sample emits uppercase).
    pub fn verify_signature(
        &self,
        timestamp: &str,
        nonce: &str,
        body: &[u8],
        signature: &str,
    ) -> bool {
        let Some(given) = hex_decode_32(signature.trim()) else {
            return false;
        };
        let expected = self.digest(timestamp, nonce, body);
        expected.ct_eq(&given).into()
    }

    fn digest(&self, timestamp: &str, nonce: &str, body: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(timestamp.as_bytes());
        h.update(nonce.as_bytes());
        h.update(self.key.expose().as_bytes());
        h.update(body);
        h.finalize().into()
    }
}

/// Compares two secrets in constant time (the length may leak; the content does not).
pub fn secrets_match(given: &str, expected: &Secret) -> bool {
    given.as_bytes().ct_eq(expected.expose().as_bytes()).into()
}

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    s
}

fn hex_decode_32(s: &str) -> Option<[u8; 32]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decrypts_the_documented_test_vector() {
        let key = EncryptKey::new(Secret::new("test key"));
        let plain = key
            .decrypt("P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=")
            .unwrap();
        assert_eq!(plain, b"hello world");
    }

    #[test]
    fn round_trips_and_rejects_a_wrong_key() {
        let key = EncryptKey::new(Secret::new("k1"));
        let enc = key.encrypt(br#"{"a":1}"#, [7; 16]);
        assert_eq!(key.decrypt(&enc).unwrap(), br#"{"a":1}"#);
        // A wrong key almost always yields invalid padding; when the last byte happens
        // to look like valid padding the JSON parse downstream fails instead.
        let other = EncryptKey::new(Secret::new("k2"));
        assert_ne!(
            other.decrypt(&enc).ok().as_deref(),
            Some(&br#"{"a":1}"#[..])
        );
    }

    #[test]
    fn rejects_malformed_ciphertext() {
        let key = EncryptKey::new(Secret::new("k"));
        assert_eq!(key.decrypt("not base64!"), Err(DecryptError::NotBase64));
        assert_eq!(key.decrypt("AAAA"), Err(DecryptError::TooShort));
        let unaligned = BASE64.encode([0u8; 16 + 17]);
        assert_eq!(key.decrypt(&unaligned), Err(DecryptError::NotBlockAligned));
    }

    #[test]
    fn signature_is_sha256_of_the_concatenation() {
        let key = EncryptKey::new(Secret::new("key"));
        let body = br#"{"encrypt":"xyz"}"#;
        let sig = key.signature("1700000000", "nonce", body);
        let expected = hex_lower(&Sha256::digest(b"1700000000noncekey{\"encrypt\":\"xyz\"}"));
        assert_eq!(sig, expected);
        assert!(key.verify_signature("1700000000", "nonce", body, &sig));
        assert!(key.verify_signature("1700000000", "nonce", body, &sig.to_uppercase()));
        assert!(!key.verify_signature("1700000001", "nonce", body, &sig));
        assert!(!key.verify_signature("1700000000", "nonce", b"{}", &sig));
        assert!(!key.verify_signature("1700000000", "nonce", body, "zz"));
    }

    #[test]
    fn debug_hides_the_key() {
        let key = EncryptKey::new(Secret::new("super-secret-encrypt-key"));
        assert!(!format!("{key:?}").contains("super-secret"));
    }
}
