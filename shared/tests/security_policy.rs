//! Source-level checks of the security rules that a behavioural test cannot see: secrets
//! are compared in constant time, and bodies are size-checked before anything parses them.

use std::path::Path;

fn source(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

fn all_sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            all_sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
}

#[test]
fn secrets_are_compared_in_constant_time_only() {
    let crypto = source("src/webhook/crypto.rs");
    let verify = &crypto[crypto.find("pub fn verify_signature").unwrap()..];
    let verify = &verify[..verify.find("\n    }\n").unwrap()];
    assert!(
        verify.contains("ct_eq"),
        "verify_signature must use subtle's ct_eq:\n{verify}"
    );
    let matches = &crypto[crypto.find("pub fn secrets_match").unwrap()..];
    assert!(
        matches[..200].contains("ct_eq"),
        "secrets_match must use ct_eq"
    );
    let webhook = source("src/webhook/mod.rs");
    assert!(webhook.contains("crypto::secrets_match(t, &self.verification_token)"));

    // Nowhere else is a secret's text compared with == or !=.
    let mut files = Vec::new();
    all_sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    for (path, text) in files {
        for (n, line) in text.lines().enumerate() {
            let compares = line.contains("==") || line.contains("!=");
            let secret_text = line.contains(".expose()")
                || line.contains("verification_token")
                || line.contains("signature");
            let allowed = path.ends_with("client.rs") && line.contains("&t.value == used"); // cache eviction, not auth
            assert!(
                !(compares && secret_text) || allowed,
                "{path}:{}: {line}",
                n + 1
            );
        }
    }
}

#[test]
fn bodies_are_size_checked_before_parsing() {
    let webhook = source("src/webhook/mod.rs");
    let receive = &webhook[webhook.find("pub fn receive").unwrap()..];
    let size_check = receive.find("MAX_BODY_BYTES").unwrap();
    for parse in ["serde_json::from_slice", "check_signature", "decrypt"] {
        assert!(
            size_check < receive.find(parse).unwrap(),
            "{parse} comes before the size check"
        );
    }
}

#[test]
fn release_builds_unwind_so_a_panicking_record_fails_alone() {
    // processor::pool catches a record's panic; with panic = "abort" the process would die
    // instead, and the batch's other records with it, mid-step.
    let manifest = source("../Cargo.toml");
    let release = &manifest[manifest.find("[profile.release]").unwrap()..];
    let release = &release[..release.find("\n[").unwrap_or(release.len())];
    assert!(release.contains("panic = \"unwind\""), "{release}");
}
