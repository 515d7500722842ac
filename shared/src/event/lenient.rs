//! Deserializers for fields whose type drifts between doc pages, samples and SDKs
//! (reference pitfalls 7 and 8). Each accepts every shape seen and nothing else.

use jiff::civil::DateTime;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::Value;

/// An integer given as a JSON number or a string (`operate_time`, `leave_unit`...).
/// Fractions are truncated: `ts` is "1502199207.7171419".
pub fn int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = Value::deserialize(d)?;
    value_to_i64(&v).ok_or_else(|| de::Error::custom(format!("expected an integer, got {v}")))
}

/// Like [`int_or_string`] but absent, null or "" is `None`.
pub fn opt_int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v) => value_to_i64(&v)
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("expected an integer, got {v}"))),
    }
}

fn value_to_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f as i64)
            })
        }
        _ => None,
    }
}

/// A string field that may arrive as a number, or be missing or null. Used for routing
/// fields the ingress reads before it knows the event's exact type: a surprise there must
/// not reject the event. Objects and arrays read as `None`. A visitor rather than a
/// detour through `serde_json::Value`, because this runs on every webhook.
pub fn loose_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Loose;
    impl<'de> de::Visitor<'de> for Loose {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(Loose)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map
                .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                .is_some()
            {}
            Ok(None)
        }
    }
    d.deserialize_any(Loose)
}

/// `leave_range`: documented as `string[]`, sampled as ONE string of unquoted datetimes
/// `[[2024-09-05 13:30:00,2024-09-05 18:00:00],[...]]`, typed `[]string` by the Go SDK.
/// Whatever the nesting, the datetimes come in start/end pairs. A value that does not
/// (an odd count) reads as no segments: the event's start and end still describe the
/// leave, and an event that can be read is worth more than its finest detail (an
/// unreadable `leave_approvalV2` would leave a cancellation's V1 twin to be taken for a
/// leave).
pub fn datetime_pairs<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<(DateTime, DateTime)>, D::Error> {
    let v = Option::<Value>::deserialize(d)?.unwrap_or(Value::Null);
    let mut found = Vec::new();
    collect_datetimes(&v, &mut found);
    if !found.len().is_multiple_of(2) {
        return Ok(Vec::new());
    }
    Ok(found
        .chunks_exact(2)
        .map(|pair| (pair[0], pair[1]))
        .collect())
}

fn collect_datetimes(v: &Value, out: &mut Vec<DateTime>) {
    match v {
        Value::String(s) => out.extend(scan_datetimes(s)),
        Value::Array(items) => items.iter().for_each(|i| collect_datetimes(i, out)),
        _ => {}
    }
}

/// Finds every `YYYY-MM-DD HH:MM:SS` in `s` (what the reference's regex
/// `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d` matches), skipping anything that is not a real date.
pub fn scan_datetimes(s: &str) -> Vec<DateTime> {
    const LEN: usize = 19;
    const SHAPE: &[u8; LEN] = b"dddd-dd-dd dd:dd:dd";
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + LEN <= bytes.len() {
        let window = &bytes[i..i + LEN];
        let fits = window.iter().zip(SHAPE).all(|(b, shape)| match shape {
            b'd' => b.is_ascii_digit(),
            other => b == other,
        });
        if fits
            && let Ok(text) = std::str::from_utf8(window)
            && let Ok(dt) = parse_naive(text)
        {
            out.push(dt);
            i += LEN;
            continue;
        }
        i += 1;
    }
    out
}

/// Parses Feishu's zone-less `YYYY-MM-DD HH:MM:SS`.
pub fn parse_naive(s: &str) -> Result<DateTime, jiff::Error> {
    DateTime::strptime("%Y-%m-%d %H:%M:%S", s.trim())
}

/// Deserializes a naive `YYYY-MM-DD HH:MM:SS`.
pub fn naive_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime, D::Error> {
    let s = String::deserialize(d)?;
    parse_naive(&s).map_err(|e| de::Error::custom(format!("{s:?} is not YYYY-MM-DD HH:MM:SS: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[derive(Deserialize)]
    struct Pairs {
        #[serde(deserialize_with = "datetime_pairs", default)]
        r: Vec<(DateTime, DateTime)>,
    }

    #[test]
    fn datetime_pairs_from_every_shape() {
        let sample = r#"{"r":"[[2024-09-05 13:30:00,2024-09-05 18:00:00],[2024-09-06 09:00:00,2024-09-06 18:00:00]]"}"#;
        let as_array = r#"{"r":["[2024-09-05 13:30:00,2024-09-05 18:00:00]","[2024-09-06 09:00:00,2024-09-06 18:00:00]"]}"#;
        let nested = r#"{"r":[["2024-09-05 13:30:00","2024-09-05 18:00:00"],["2024-09-06 09:00:00","2024-09-06 18:00:00"]]}"#;
        let expected = vec![
            (
                date(2024, 9, 5).at(13, 30, 0, 0),
                date(2024, 9, 5).at(18, 0, 0, 0),
            ),
            (
                date(2024, 9, 6).at(9, 0, 0, 0),
                date(2024, 9, 6).at(18, 0, 0, 0),
            ),
        ];
        for body in [sample, as_array, nested] {
            let p: Pairs = serde_json::from_str(body).unwrap();
            assert_eq!(p.r, expected, "{body}");
        }
        let empty: Pairs = serde_json::from_str(r#"{"r":[]}"#).unwrap();
        assert!(empty.r.is_empty());
        let missing: Pairs = serde_json::from_str("{}").unwrap();
        assert!(missing.r.is_empty());
        let odd: Pairs = serde_json::from_str(r#"{"r":"[[2024-09-05 13:30:00]]"}"#).unwrap();
        assert!(odd.r.is_empty(), "no pairs, no segments");
    }

    #[derive(Deserialize)]
    struct L {
        #[serde(default, deserialize_with = "loose_string")]
        a: Option<String>,
    }

    #[test]
    fn loose_string_takes_scalars_and_drops_the_rest() {
        let read = |j: &str| serde_json::from_str::<L>(j).unwrap().a;
        assert_eq!(read(r#"{"a":"x"}"#).as_deref(), Some("x"));
        assert_eq!(read(r#"{"a":12}"#).as_deref(), Some("12"));
        assert_eq!(read(r#"{"a":true}"#).as_deref(), Some("true"));
        assert_eq!(read(r#"{"a":null}"#), None);
        assert_eq!(read(r#"{"a":{"b":[1,2]}}"#), None);
        assert_eq!(read(r#"{"a":[1,{"c":2}]}"#), None);
        assert_eq!(read("{}"), None);
    }

    #[test]
    fn scan_skips_impossible_dates() {
        assert!(scan_datetimes("2024-13-45 99:00:00").is_empty());
        assert_eq!(scan_datetimes("x2024-01-02 03:04:05y").len(), 1);
    }

    #[derive(Deserialize)]
    struct Ints {
        #[serde(deserialize_with = "int_or_string")]
        a: i64,
        #[serde(deserialize_with = "opt_int_or_string", default)]
        b: Option<i64>,
    }

    #[test]
    fn ints_from_numbers_and_strings() {
        let x: Ints = serde_json::from_str(r#"{"a":"1564590532","b":1564590532}"#).unwrap();
        assert_eq!((x.a, x.b), (1564590532, Some(1564590532)));
        let y: Ints = serde_json::from_str(r#"{"a":"1502199207.7171419","b":""}"#).unwrap();
        assert_eq!((y.a, y.b), (1502199207, None));
        assert!(serde_json::from_str::<Ints>(r#"{"a":"soon"}"#).is_err());
    }
}
