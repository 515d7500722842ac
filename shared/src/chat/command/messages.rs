//! What the bot says about a [`Problem`]: what is wrong, then a message that works.

use super::{Lang, Problem};

impl Problem {
    /// A short explanation in `lang` with a correct example, ready to send.
    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Zh => self.zh(),
            Lang::En => self.en(),
        }
    }

    fn zh(&self) -> String {
        match self {
            Problem::NoPeriod => "没有看懂日期。例如：请假 明天下午 事假，\
                请假 12月1日 到 12月3日 年假 家里有事，或 加班 明天 18:00-21:00 项目上线。"
                .to_string(),
            Problem::BadDate(text) => format!(
                "没有这一天：{text}。日期请写成 2026-12-01 或 12月1日，\
                 例如：请假 12月1日 到 12月3日 年假。"
            ),
            Problem::BadTime(text) => format!(
                "没有这个时间：{text}。时间请用 24 小时制，例如：加班 明天 18:00-21:00 项目上线。"
            ),
            Problem::NoEndTime => {
                "只有开始时间，没有结束时间。例如：加班 明天 18:00-21:00 项目上线。".to_string()
            }
            Problem::EndBeforeStart => "结束早于开始。例如：请假 12月1日 到 12月3日 年假，\
                或 加班 明天 18:00-21:00（跨过午夜的加班请分两天写）。"
                .to_string(),
            Problem::TooLong => "一次最多申请 366 天，请分几次申请。\
                例如：请假 2026-12-01 到 2026-12-31 年假。"
                .to_string(),
        }
    }

    fn en(&self) -> String {
        match self {
            Problem::NoPeriod => "I could not find the dates. For example: \
                leave tomorrow pm personal, \
                leave 2026-12-01 to 2026-12-03 annual family matters, \
                or overtime tomorrow 18:00-21:00 release."
                .to_string(),
            Problem::BadDate(text) => format!(
                "There is no such date: {text}. Write dates as year-month-day, \
                 for example: leave 2026-12-01 to 2026-12-03 annual."
            ),
            Problem::BadTime(text) => format!(
                "There is no such time: {text}. For example: \
                 overtime tomorrow 18:00-21:00 release (or 6pm-9pm)."
            ),
            Problem::NoEndTime => "The time has a start but no end. For example: \
                overtime tomorrow 18:00-21:00 release."
                .to_string(),
            Problem::EndBeforeStart => "The end is before the start. For example: \
                leave 2026-12-01 to 2026-12-03 annual, or overtime tomorrow 18:00-21:00 \
                (overtime past midnight: one message per day)."
                .to_string(),
            Problem::TooLong => "One application covers at most 366 days; please split it. \
                For example: leave 2026-12-01 to 2026-12-31 annual."
                .to_string(),
        }
    }
}
