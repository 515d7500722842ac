//! What an employee's message to the chat bot asks for (issue 13). The text arrives with
//! mentions already stripped; [`parse`] turns it into a [`Command`] and [`match_type`]
//! reads the leave type off the rest of an application.
//!
//! Pure on purpose: no clock (today is passed in, in the tenant's zone), no I/O, so every
//! reading of a message is pinned by the tests below.
//!
//! The grammar, in Chinese or English (full-width forms and case do not matter):
//!
//! ```text
//! 请假 | leave | 加班 | overtime   [period [reason]]   → Apply, Form (alone) or Invalid
//! 我的假期 | my leave                                   → MyLeave
//! 撤回 | withdraw                  [instance code]      → Withdraw
//! 谁请假 | who's out | who is out   [今天|today|本周|this week|date [到 date]] → WhoIsOut
//! 帮助 | help | ? | ？                                  → Help
//!
//! period = [从|from|on] date [half] [(到|至|-|~|to|until|…) date [half]]
//!        | [date] hours                      (without a date: today)
//!        | half [(到|…) date [half]]         (without a date: today)
//! date   = 2026-12-01 | 2026/12/01 | 2026年12月1日 | 12月1日 | 12月1号 | 今天 | 明天 | 后天
//!        | 大后天 | today | tomorrow         (and `3日` as the end of a range: `12月1日到3日`)
//! half   = 上午 | 下午 | am | pm | morning | afternoon
//! hours  = time (-|到|至|~|to) time          (`10:00-18:00`, `14点到17点`, `下午2点到5点`, `6-9pm`)
//! time   = [上午|早上|下午|晚上] H(:MM | 点[半|MM分]) [am|pm]
//! ```

mod leave_type;
mod messages;
mod period;
mod scan;
#[cfg(test)]
mod tests;

use jiff::civil::{Date, Time};

pub use leave_type::{ChatLeaveType, TypeMatch, match_type};
use scan::Scanner;

/// The language of a message, and so of the bot's reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// A message read: what it asks for and the language to answer in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub lang: Lang,
    pub command: Command,
}

/// What an application is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Leave,
    Overtime,
}

/// What a message asks the bot to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A complete application in one message: `请假 2026-12-01 2026-12-03 年假 家里有事`.
    Apply(Application),
    /// `请假` / `leave` (or `加班` / `overtime`) alone: the bot answers with a form card.
    Form(Kind),
    /// `我的假期` / `my leave`.
    MyLeave,
    /// `撤回` / `withdraw`, optionally followed by an instance code.
    Withdraw { instance_code: Option<String> },
    /// `谁请假` / `who's out`: the team's leave on `first..=last` (today without a date;
    /// `本周` / `this week`: Monday to Friday).
    WhoIsOut { first: Date, last: Date },
    /// `帮助` / `help` / `?` / `？`.
    Help,
    /// A known keyword with arguments the bot cannot read: the reply explains `problem`.
    Invalid { kind: Kind, problem: Problem },
    /// Anything else (the bot answers with help; it never stays silent).
    Unknown,
}

/// An application written in one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub kind: Kind,
    pub period: Period,
    /// The text after the period, trimmed (type name and/or reason).
    pub rest: String,
}

/// Which half of a day; mornings come first, so half days order like time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HalfDay {
    Morning,
    Afternoon,
}

/// When an application is for, as civil dates and times in the tenant's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Whole days, first..=last inclusive.
    Days { first: Date, last: Date },
    /// Half-day granularity, both ends inclusive: `明天下午`, `12月1日下午 到 12月3日上午`.
    HalfDays {
        first: (Date, HalfDay),
        last: (Date, HalfDay),
    },
    /// Hours on one day: `2026-12-06 10:00-18:00`, `明天 14:00-17:00`.
    Hours { date: Date, from: Time, to: Time },
}

/// Why an application's period cannot be read; [`Problem::message`] explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Text after the keyword, but no date or time at its start.
    NoPeriod,
    /// Written like a date, but there is no such day (`2026-02-30`, `13月1日`); the text
    /// as written.
    BadDate(String),
    /// Written like a time, but there is no such time (`25:00`, `13pm`); as written.
    BadTime(String),
    /// A start time with no end time (`加班 明天 18:00`).
    NoEndTime,
    /// The end is before the start (dates, half days), or not after it (hours).
    EndBeforeStart,
    /// More than 366 days.
    TooLong,
}

/// Reads a message; `today` is the tenant's current date, for `明天` and for the year of
/// `12月1日`. Never fails: what is not a command is [`Command::Unknown`].
pub fn parse(text: &str, today: Date) -> Parsed {
    let mut sc = Scanner::new(text);
    sc.skip_ws();
    let Some((keyword, lang)) = keyword(&mut sc, text) else {
        return Parsed {
            lang: lang_of_text(text),
            command: Command::Unknown,
        };
    };
    let command = match keyword {
        Keyword::Apply(kind) => application(&mut sc, kind, today),
        Keyword::MyLeave => Command::MyLeave,
        Keyword::Withdraw => {
            sc.skip_separators();
            Command::Withdraw {
                instance_code: instance_code(sc.rest()),
            }
        }
        Keyword::Help => Command::Help,
        Keyword::WhoIsOut => who_is_out(&mut sc, today),
    };
    Parsed { lang, command }
}

/// The days `谁请假` / `who's out` asks about; what cannot be read gets help.
fn who_is_out(sc: &mut Scanner<'_>, today: Date) -> Command {
    sc.skip_separators();
    // `谁请假了？` asks a question: its mark says nothing more.
    let asked = |rest: &str| {
        rest.trim()
            .trim_matches(|c| "?？!！。.".contains(c))
            .is_empty()
    };
    if asked(sc.rest()) {
        return Command::WhoIsOut {
            first: today,
            last: today,
        };
    }
    if sc.eat_any(&["本周", "这周", "this week"]) {
        let monday = today
            .checked_sub(jiff::Span::new().days(i64::from(today.weekday().to_monday_zero_offset())))
            .unwrap_or(today);
        let friday = monday
            .checked_add(jiff::Span::new().days(4))
            .unwrap_or(monday);
        return Command::WhoIsOut {
            first: monday,
            last: friday,
        };
    }
    let (first, last) = match period::period(sc, today) {
        Ok(Some(Period::Days { first, last })) => (first, last),
        Ok(Some(Period::HalfDays { first, last })) => (first.0, last.0),
        Ok(Some(Period::Hours { date, .. })) => (date, date),
        Ok(None) | Err(_) => return Command::Unknown,
    };
    if !asked(sc.rest()) {
        return Command::Unknown;
    }
    Command::WhoIsOut { first, last }
}

#[derive(Debug, Clone, Copy)]
enum Keyword {
    Apply(Kind),
    MyLeave,
    Withdraw,
    Help,
    WhoIsOut,
}

/// The keyword the message starts with and the language it is in.
fn keyword(sc: &mut Scanner<'_>, text: &str) -> Option<(Keyword, Lang)> {
    const ZH: [(&str, Keyword); 8] = [
        ("谁请假了", Keyword::WhoIsOut),
        ("谁请假", Keyword::WhoIsOut),
        ("谁休假", Keyword::WhoIsOut),
        ("我的假期", Keyword::MyLeave),
        ("请假", Keyword::Apply(Kind::Leave)),
        ("加班", Keyword::Apply(Kind::Overtime)),
        ("撤回", Keyword::Withdraw),
        ("帮助", Keyword::Help),
    ];
    const EN: [(&str, Keyword); 4] = [
        ("leave", Keyword::Apply(Kind::Leave)),
        ("overtime", Keyword::Apply(Kind::Overtime)),
        ("withdraw", Keyword::Withdraw),
        ("help", Keyword::Help),
    ];
    if sc.peek() == Some('?') {
        // `？` comes from a Chinese keyboard; `? 怎么请假` is a Chinese question too.
        let zh = sc.original() == Some('？') || lang_of_text(text) == Lang::Zh;
        sc.eat('?');
        return Some((Keyword::Help, if zh { Lang::Zh } else { Lang::En }));
    }
    if let Some(&(_, k)) = ZH.iter().find(|(word, _)| sc.eat_str(word)) {
        return Some((k, Lang::Zh));
    }
    if my_leave(sc) {
        return Some((Keyword::MyLeave, Lang::En));
    }
    if sc.eat_any(&["who's out", "who’s out", "whos out", "who is out"]) {
        return Some((Keyword::WhoIsOut, Lang::En));
    }
    let &(_, k) = EN.iter().find(|(word, _)| sc.eat_word(word))?;
    Some((k, Lang::En))
}

/// `my leave`, with any spacing, also as `my leaves`.
fn my_leave(sc: &mut Scanner<'_>) -> bool {
    let start = sc.pos();
    if sc.eat_word("my") {
        sc.skip_ws();
        if sc.eat_any(&["leaves", "leave"]) {
            return true;
        }
    }
    sc.reset(start);
    false
}

/// Zh when the text has any Chinese in it: a Chinese speaker who wrote something the bot
/// does not understand should get help they can read.
fn lang_of_text(text: &str) -> Lang {
    if text.chars().any(scan::is_cjk) {
        Lang::Zh
    } else {
        Lang::En
    }
}

fn application(sc: &mut Scanner<'_>, kind: Kind, today: Date) -> Command {
    sc.skip_separators();
    if sc.at_end() {
        return Command::Form(kind);
    }
    // `leave on 2026-12-01`, `请假 从明天到后天`: words people put before a period.
    if sc.eat_any(&["from", "on", "从"]) {
        sc.skip_ws();
    }
    match period::period(sc, today) {
        Ok(Some(period)) => Command::Apply(Application {
            kind,
            period,
            rest: scan::clean(sc.rest()),
        }),
        Ok(None) => Command::Invalid {
            kind,
            problem: Problem::NoPeriod,
        },
        Err(problem) => Command::Invalid { kind, problem },
    }
}

/// The instance code after `撤回` / `withdraw`: its first word if that looks like one
/// (ASCII letters, digits and dashes, with a digit), so `withdraw it` asks which one.
fn instance_code(rest: &str) -> Option<String> {
    let word = rest.split_whitespace().next()?;
    let looks_like_code = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && word.chars().any(|c| c.is_ascii_digit());
    looks_like_code.then(|| word.to_string())
}
