//! Every event parser and its normalisation on arbitrary JSON-ish bytes: the lenient
//! deserializers (string-or-int, string-or-array, map-style i18n strings) must never
//! panic, only refuse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::event::{FeishuEvent, i18n, lenient};

const TYPES: [&str; 6] = [
    "leave_approval",
    "leave_approvalV2",
    "leave_approval_revert",
    "approval_instance",
    "approval.instance.status_changed_v4",
    "im.message.receive_v1",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let event_type = TYPES[usize::from(pick) % TYPES.len()];
    if let Ok(Some(event)) = FeishuEvent::parse(event_type, text) {
        let _ = event.into_domain(Some("tenant"));
    }
    let _ = i18n::parse_map_style(text);
    let _ = lenient::scan_datetimes(text);
});
