//! A cursor over a chat message. Matching happens on a normalised copy of each char
//! (full-width forms folded to ASCII, odd spaces and dashes unified), while every text
//! handed back (the reason, an instance code, a bad date) is sliced from the original, so
//! the bot quotes what the employee actually typed.

/// Chars that separate a period, a type or a keyword from what follows, besides spaces.
const SEPARATOR_PUNCTUATION: &[char] = &[':', ',', ';', '-', '、', '。'];

/// The message, one normalised char per original char, and a position in it.
pub(super) struct Scanner<'a> {
    src: &'a str,
    /// Byte offset of the original char in `src`, and its normalised form.
    chars: Vec<(usize, char)>,
    pos: usize,
}

/// A run of ASCII digits: its value (saturating, since only short runs are ever used)
/// and how many digits were written, which tells `2026` from `12` from `012`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Number {
    pub value: u32,
    pub len: usize,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        let chars = src.char_indices().map(|(i, c)| (i, normalise(c))).collect();
        Self { src, chars, pos: 0 }
    }

    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    pub(super) fn reset(&mut self, pos: usize) {
        self.pos = pos;
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|&(_, c)| c)
    }

    /// The char at the cursor as the employee typed it (`？` rather than `?`).
    pub(super) fn original(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    pub(super) fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Skips spaces and the punctuation people put between parts of a message
    /// (`请假：明天`, `明天下午，事假`).
    pub(super) fn skip_separators(&mut self) {
        while self
            .peek()
            .is_some_and(|c| c.is_whitespace() || SEPARATOR_PUNCTUATION.contains(&c))
        {
            self.pos += 1;
        }
    }

    pub(super) fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.pos += 1;
        }
        found
    }

    pub(super) fn eat_one_of(&mut self, chars: &[char]) -> Option<char> {
        let c = self.peek().filter(|c| chars.contains(c))?;
        self.pos += 1;
        Some(c)
    }

    /// Eats `literal` if the text continues with it (ASCII letters in any case).
    pub(super) fn eat_str(&mut self, literal: &str) -> bool {
        let mut at = self.pos;
        for expected in literal.chars() {
            match self.chars.get(at) {
                Some(&(_, c)) if c.eq_ignore_ascii_case(&expected) => at += 1,
                _ => return false,
            }
        }
        self.pos = at;
        true
    }

    /// Eats an English word: `literal` not followed by another letter, so that `leaves`
    /// is not `leave` and `amazing` is not `am`. Digits and CJK may follow directly.
    pub(super) fn eat_word(&mut self, literal: &str) -> bool {
        let start = self.pos;
        if !self.eat_str(literal) {
            return false;
        }
        if self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.pos = start;
            return false;
        }
        true
    }

    /// Eats the first of `words` found (CJK literals or English words).
    pub(super) fn eat_any(&mut self, words: &[&str]) -> bool {
        words.iter().any(|w| {
            if w.is_ascii() {
                self.eat_word(w)
            } else {
                self.eat_str(w)
            }
        })
    }

    pub(super) fn number(&mut self) -> Option<Number> {
        let start = self.pos;
        let mut value: u32 = 0;
        while let Some(digit) = self.peek().and_then(|c| c.to_digit(10)) {
            value = value.saturating_mul(10).saturating_add(digit);
            self.pos += 1;
        }
        let len = self.pos - start;
        (len > 0).then_some(Number { value, len })
    }

    /// The original text from the cursor to the end.
    pub(super) fn rest(&self) -> &'a str {
        self.src.get(self.offset(self.pos)..).unwrap_or_default()
    }

    /// The original text between position `from` and the cursor, trimmed.
    pub(super) fn since(&self, from: usize) -> &'a str {
        self.src
            .get(self.offset(from)..self.offset(self.pos))
            .unwrap_or_default()
            .trim()
    }

    fn offset(&self, pos: usize) -> usize {
        self.chars.get(pos).map_or(self.src.len(), |&(i, _)| i)
    }
}

/// Folds the variants a Chinese keyboard or a chat client produces onto one form:
/// full-width ASCII (`２０２６－１２－０１`, `：`, `～`), ideographic and zero-width
/// spaces, and the dashes used between dates.
pub(super) fn normalise(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{200B}' | '\u{FEFF}' | '\u{00A0}' => ' ',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        '\u{301C}' => '~',
        _ => c,
    }
}

/// A CJK ideograph (the unified blocks and their extensions, and the compatibility block).
pub(super) fn is_cjk(c: char) -> bool {
    matches!(
        c,
        '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{2FA1F}'
    )
}

/// `text` without the spaces and separator punctuation around it: what is left once a
/// period or a type has been read off the front.
pub(super) fn clean(text: &str) -> String {
    text.trim_start_matches(|c: char| {
        let c = normalise(c);
        c.is_whitespace() || SEPARATOR_PUNCTUATION.contains(&c)
    })
    .trim_end()
    .to_string()
}
