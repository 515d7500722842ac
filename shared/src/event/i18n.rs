//! Leave-type names: `leave_approvalV2` names its type by an i18n key
//! (`@i18n@7276381556766212099`) and ships the texts in `i18n_resources`, which the doc
//! sample gives as a Java-map-style string rather than JSON (reference §2.2).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct I18nResource {
    pub locale: String,
    pub is_default: bool,
    pub texts: BTreeMap<String, String>,
}

/// Display names in attendance's locale keys (`ch`, `en`, `ja`), which the calendar title
/// and the chat card reuse.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LocalizedNames {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja: Option<String>,
}

/// Attendance's `default_locale` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Ch,
    En,
    Ja,
}

impl Locale {
    fn from_feishu(locale: &str) -> Option<Self> {
        let l = locale.to_ascii_lowercase();
        if l.starts_with("zh") {
            Some(Self::Ch)
        } else if l.starts_with("en") {
            Some(Self::En)
        } else if l.starts_with("ja") {
            Some(Self::Ja)
        } else {
            None
        }
    }
}

impl LocalizedNames {
    pub fn single(name: impl Into<String>) -> Self {
        Self {
            ch: Some(name.into()),
            ..Self::default()
        }
    }

    /// One name whose language is not given (V1's `leave_type` is in the tenant's default
    /// language, whichever that is), placed by its script: kana → Japanese, other CJK →
    /// Chinese, anything else → English. Returns the locale it was placed in.
    pub fn in_its_script(name: impl Into<String>) -> (Self, Locale) {
        let name = name.into();
        let kana = name.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c));
        let han = name.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        let locale = match (kana, han) {
            (true, _) => Locale::Ja,
            (false, true) => Locale::Ch,
            (false, false) => Locale::En,
        };
        let mut names = Self::default();
        names.set(locale, name);
        (names, locale)
    }

    pub fn get(&self, locale: Locale) -> Option<&str> {
        match locale {
            Locale::Ch => self.ch.as_deref(),
            Locale::En => self.en.as_deref(),
            Locale::Ja => self.ja.as_deref(),
        }
    }

    /// The name to show when the viewer's language is unknown: Chinese first, as Feishu
    /// tenants in China expect, then whatever exists.
    pub fn primary(&self) -> Option<&str> {
        self.ch
            .as_deref()
            .or(self.en.as_deref())
            .or(self.ja.as_deref())
    }

    /// English where known, for the bilingual card and calendar title.
    pub fn english(&self) -> Option<&str> {
        self.en.as_deref()
    }

    fn set(&mut self, locale: Locale, text: String) {
        let slot = match locale {
            Locale::Ch => &mut self.ch,
            Locale::En => &mut self.en,
            Locale::Ja => &mut self.ja,
        };
        slot.get_or_insert(text);
    }

    pub fn is_empty(&self) -> bool {
        self.primary().is_none()
    }
}

/// Resolves `key` in the resources. Returns empty names when the key is missing, so the
/// caller can fall back to another source.
pub fn resolve(key: &str, resources: &[I18nResource]) -> (LocalizedNames, Locale) {
    let mut names = LocalizedNames::default();
    let mut default_locale = None;
    for r in resources {
        let Some(locale) = Locale::from_feishu(&r.locale) else {
            continue;
        };
        if let Some(text) = r.texts.get(key) {
            names.set(locale, text.clone());
            if r.is_default {
                default_locale.get_or_insert(locale);
            }
        }
    }
    let default_locale = default_locale
        .or_else(|| names.ch.as_ref().map(|_| Locale::Ch))
        .or_else(|| names.en.as_ref().map(|_| Locale::En))
        .or_else(|| names.ja.as_ref().map(|_| Locale::Ja))
        .unwrap_or_default();
    (names, default_locale)
}

/// Accepts a JSON array of `{locale, is_default, texts}`, a string holding that JSON, a
/// Java-map-style string, or an array of such strings. Anything else yields no resources
/// rather than an error: the caller falls back to the V1 `leave_type` name.
pub fn lenient_resources<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<I18nResource>, D::Error> {
    let v = Option::<Value>::deserialize(d)?.unwrap_or(Value::Null);
    let mut out = Vec::new();
    from_value(&v, &mut out);
    Ok(out)
}

fn from_value(v: &Value, out: &mut Vec<I18nResource>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| from_value(i, out)),
        Value::Object(map) => {
            let texts = map
                .get("texts")
                .and_then(Value::as_object)
                .map(|t| {
                    t.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            out.push(I18nResource {
                locale: map
                    .get("locale")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                is_default: match map.get("is_default") {
                    Some(Value::Bool(b)) => *b,
                    Some(Value::String(s)) => s == "true",
                    _ => false,
                },
                texts,
            });
        }
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(parsed @ (Value::Array(_) | Value::Object(_))) => from_value(&parsed, out),
            _ => out.extend(parse_map_style(s)),
        },
        _ => {}
    }
}

/// Parses `[{is_default=true,locale=zh_cn,texts={@i18n@1=事假,@i18n@2=Sick, paid}}]`.
/// Text values may contain commas, so entries are split where the next `@i18n@` key
/// begins rather than at every comma.
pub fn parse_map_style(s: &str) -> Vec<I18nResource> {
    top_level_objects(s)
        .into_iter()
        .map(|obj| {
            let mut res = I18nResource::default();
            let (outside, texts) = match obj.find("texts={") {
                Some(start) => {
                    let body_start = start + "texts={".len();
                    let body_end = matching_brace(obj, body_start).unwrap_or(obj.len());
                    let mut outside = obj[..start].to_owned();
                    outside.push_str(obj.get(body_end + 1..).unwrap_or(""));
                    (outside, &obj[body_start..body_end])
                }
                None => (obj.to_owned(), ""),
            };
            for part in outside.split(',') {
                match part.trim().split_once('=') {
                    Some(("is_default", v)) => res.is_default = v.trim() == "true",
                    Some(("locale", v)) => res.locale = v.trim().to_owned(),
                    _ => {}
                }
            }
            for entry in split_entries(texts) {
                if let Some((k, v)) = entry.split_once('=') {
                    res.texts.insert(k.trim().to_owned(), v.trim().to_owned());
                }
            }
            res
        })
        .collect()
}

/// The contents (without braces) of each `{...}` at nesting depth 1.
fn top_level_objects(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = None;
    for (i, c) in s.char_indices() {
        match c {
            '{' => {
                if depth == 0 {
                    start = Some(i + 1);
                }
                depth += 1;
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0
                    && let Some(st) = start.take()
                {
                    out.push(&s[st..i]);
                }
            }
            _ => {}
        }
    }
    out
}

fn matching_brace(s: &str, from: usize) -> Option<usize> {
    let mut depth = 1usize;
    for (i, c) in s[from..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(from + i);
                }
            }
            _ => {}
        }
    }
    None
}

fn split_entries(texts: &str) -> Vec<&str> {
    const KEY: &str = "@i18n@";
    let starts: Vec<usize> = texts
        .match_indices(KEY)
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || texts[..i].trim_end().ends_with(','))
        .collect();
    if starts.is_empty() {
        return texts.split(',').filter(|e| !e.trim().is_empty()).collect();
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &st)| {
            let end = starts.get(n + 1).copied().unwrap_or(texts.len());
            texts[st..end].trim_end().trim_end_matches(',')
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct R {
        #[serde(deserialize_with = "lenient_resources", default)]
        r: Vec<I18nResource>,
    }

    fn parse(body: &str) -> Vec<I18nResource> {
        serde_json::from_str::<R>(body).unwrap().r
    }

    #[test]
    fn doc_sample_map_style_string() {
        let r = parse(
            r#"{"r":"[{is_default=true,locale=zh_cn,texts={@i18n@7276381556766212099=事假}}]"}"#,
        );
        assert_eq!(r.len(), 1);
        assert!(r[0].is_default);
        assert_eq!(r[0].locale, "zh_cn");
        assert_eq!(r[0].texts["@i18n@7276381556766212099"], "事假");
        let (names, locale) = resolve("@i18n@7276381556766212099", &r);
        assert_eq!(names.ch.as_deref(), Some("事假"));
        assert_eq!(locale, Locale::Ch);
    }

    #[test]
    fn several_locales_and_commas_in_values() {
        let r = parse(
            r#"{"r":"[{is_default=false,locale=en_us,texts={@i18n@1=Sick leave, paid,@i18n@2=Annual}},{is_default=true,locale=zh_cn,texts={@i18n@1=病假,@i18n@2=年假}}]"}"#,
        );
        let (names, locale) = resolve("@i18n@1", &r);
        assert_eq!(names.en.as_deref(), Some("Sick leave, paid"));
        assert_eq!(names.ch.as_deref(), Some("病假"));
        assert_eq!(locale, Locale::Ch);
        assert_eq!(resolve("@i18n@2", &r).0.en.as_deref(), Some("Annual"));
    }

    #[test]
    fn sdk_style_json_array_and_json_in_a_string() {
        let json = r#"[{"locale":"en_us","is_default":true,"texts":{"@i18n@9":"Personal leave"}}]"#;
        let direct = parse(&format!(r#"{{"r":{json}}}"#));
        let as_string = parse(&format!(
            r#"{{"r":{}}}"#,
            serde_json::to_string(json).unwrap()
        ));
        let as_string_array = parse(&format!(
            r#"{{"r":[{}]}}"#,
            serde_json::to_string(json).unwrap()
        ));
        for r in [direct, as_string, as_string_array] {
            let (names, locale) = resolve("@i18n@9", &r);
            assert_eq!(names.en.as_deref(), Some("Personal leave"));
            assert_eq!(locale, Locale::En);
        }
    }

    #[test]
    fn garbage_yields_nothing_rather_than_an_error() {
        assert!(parse(r#"{"r":42}"#).is_empty());
        assert!(parse(r#"{"r":"no braces here"}"#).is_empty());
        let (names, _) = resolve("@i18n@1", &parse(r#"{"r":"[{locale=zh_cn}]"}"#));
        assert!(names.is_empty());
    }
}
