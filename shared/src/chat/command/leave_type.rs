//! Reading the leave type at the start of an application's rest (`年假 家里有事`,
//! `annual leave family matters`, `年假家里有事`), against the types the admin configured.

use serde::{Deserialize, Serialize};

use super::scan::{self, is_cjk, normalise};

/// A leave type the admin configured for the bot: its Feishu id and its names (Chinese and
/// English).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatLeaveType {
    pub id: String,
    pub names: Vec<String>,
}

/// Which configured type an application's rest starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeMatch<'a> {
    /// One type; `reason` is the text after its name, trimmed.
    Found {
        leave_type: &'a ChatLeaveType,
        reason: String,
    },
    /// No type: the bot asks for one (listing the configured names).
    Unknown,
    /// The first word starts the names of several types (in configuration order).
    Ambiguous(Vec<&'a ChatLeaveType>),
}

/// The shortest abbreviation accepted: one letter or one character (`年`) says too little.
const MIN_PREFIX_CHARS: usize = 2;

/// Reads the leave type at the start of `rest`: the longest configured name the text
/// starts with (case-insensitive, at a word boundary or followed by Chinese text, as in
/// `年假家里有事`); failing that, the first word as a unique prefix of a name (`annual`
/// for `annual leave`, at least two characters). The remainder is the reason.
pub fn match_type<'a>(rest: &str, types: &'a [ChatLeaveType]) -> TypeMatch<'a> {
    let text = rest.trim_start();
    by_full_name(text, types).unwrap_or_else(|| by_prefix(text, types))
}

/// The types whose longest name the text starts with; `None` when no name matches.
fn by_full_name<'a>(text: &str, types: &'a [ChatLeaveType]) -> Option<TypeMatch<'a>> {
    let mut best_len = 0;
    let mut best: Vec<&'a ChatLeaveType> = Vec::new();
    for leave_type in types {
        for name in &leave_type.names {
            let Some(len) = name_len(text, name) else {
                continue;
            };
            if len > best_len {
                best_len = len;
                best.clear();
            }
            if len == best_len && !best.iter().any(|t| std::ptr::eq(*t, leave_type)) {
                best.push(leave_type);
            }
        }
    }
    (!best.is_empty()).then(|| decide(best, text.get(best_len..).unwrap_or_default()))
}

/// Bytes of `text` that spell `name` (case-insensitive, any run of spaces for a space),
/// if the name ends where a word does.
fn name_len(text: &str, name: &str) -> Option<usize> {
    let mut words = name.split_whitespace().peekable();
    words.peek()?;
    let mut at = 0;
    while let Some(word) = words.next() {
        let rest = text.get(at..)?;
        at += starts_with_folded(rest, word)?;
        if words.peek().is_some() {
            let rest = text.get(at..)?;
            let spaces = rest.len() - rest.trim_start_matches(is_space).len();
            if spaces == 0 {
                return None;
            }
            at += spaces;
        }
    }
    let last = name.chars().last()?;
    ends_word(last, text.get(at..)?.chars().next()).then_some(at)
}

/// Whether a name ending in `last` followed by `next` ends at a word boundary. Chinese
/// has no spaces between words, so a Chinese name ends anywhere, and any name ends
/// before Chinese text.
fn ends_word(last: char, next: Option<char>) -> bool {
    match next.map(normalise) {
        None => true,
        Some(next) => !next.is_alphanumeric() || is_cjk(next) || is_cjk(last),
    }
}

/// Bytes of `text` that spell `prefix` case-insensitively, if it starts with it.
fn starts_with_folded(text: &str, prefix: &str) -> Option<usize> {
    let mut chars = text.char_indices();
    for expected in prefix.chars() {
        let (_, c) = chars.next()?;
        if !same_letter(c, expected) {
            return None;
        }
    }
    Some(chars.next().map_or(text.len(), |(i, _)| i))
}

fn same_letter(a: char, b: char) -> bool {
    normalise(a).to_lowercase().eq(normalise(b).to_lowercase())
}

fn is_space(c: char) -> bool {
    normalise(c).is_whitespace()
}

/// The types one of whose names starts with the first word of `text`.
fn by_prefix<'a>(text: &str, types: &'a [ChatLeaveType]) -> TypeMatch<'a> {
    let end = text
        .find(|c: char| is_space(c) || is_separator(c))
        .unwrap_or(text.len());
    let word = text.get(..end).unwrap_or_default();
    if word.chars().count() < MIN_PREFIX_CHARS {
        return TypeMatch::Unknown;
    }
    let found = types
        .iter()
        .filter(|t| {
            t.names
                .iter()
                .any(|name| starts_with_folded(name.trim_start(), word).is_some())
        })
        .collect();
    decide(found, text.get(end..).unwrap_or_default())
}

fn is_separator(c: char) -> bool {
    matches!(normalise(c), ',' | ':' | ';' | '、' | '。')
}

fn decide<'a>(found: Vec<&'a ChatLeaveType>, reason: &str) -> TypeMatch<'a> {
    match found.as_slice() {
        [] => TypeMatch::Unknown,
        [leave_type] => TypeMatch::Found {
            leave_type,
            reason: scan::clean(reason),
        },
        _ => TypeMatch::Ambiguous(found),
    }
}
