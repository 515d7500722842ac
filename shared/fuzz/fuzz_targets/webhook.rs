//! The webhook path on arbitrary bytes: size check, signature, decryption, envelope
//! recognition, token check and routing must never panic, whatever Feishu (or anyone
//! else) posts. The first byte picks the set-up: with or without an Encrypt Key, and
//! whether the fuzzed body carries a valid signature, so the fuzzer also reaches the code
//! behind the signature check.
#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use shared::config::WebhookConfig;
use shared::secret::Secret;
use shared::webhook::{EncryptKey, Webhook};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let key = "demo-encrypt-key";
    let webhook = Webhook::new(&WebhookConfig {
        verification_token: Secret::new("demo-verification-token"),
        encrypt_key: (mode & 1 == 1).then(|| Secret::new(key)),
        max_clock_skew: (mode & 4 == 4).then(|| std::time::Duration::from_secs(300)),
        custom_approval_codes: ["CUSTOM-PTO-0001".to_owned()].into(),
    });
    let mut headers = HeaderMap::new();
    if mode & 2 == 2 {
        let sig = EncryptKey::new(Secret::new(key)).signature("1796000000", "nonce", body);
        headers.insert("x-lark-request-timestamp", HeaderValue::from_static("1796000000"));
        headers.insert("x-lark-request-nonce", HeaderValue::from_static("nonce"));
        if let Ok(v) = HeaderValue::from_str(&sig) {
            headers.insert("x-lark-signature", v);
        }
    }
    let now = jiff::Timestamp::from_second(1_796_000_000).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let _ = webhook.receive(body, &headers, now);
    // Decryption on its own, on arbitrary text.
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = EncryptKey::new(Secret::new(key)).decrypt(text);
    }
});
