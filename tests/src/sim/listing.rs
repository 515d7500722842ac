//! `GET /open-apis/approval/v4/instances` (doc "批量获取审批实例 ID"): the codes of one
//! definition's instances created in a window, in creation order, paged.
//!
//! Documented: `approval_code`, `start_time` and `end_time` (ms strings, the *creation*
//! window) are required; 「单次查询时间范围不要超过10小时」; `page_size` 1–100, default 100;
//! `page_token` only while `has_more`; 100 calls a minute; 1390001 / 1390002.
//! (sim assumption) what the page does not say, chosen strict: a window over 10 hours, an
//! inverted one, or a page token used with another window are refused with 1390001; both
//! bounds are inclusive; a token is a cursor (instances created meanwhile are not skipped).

use serde_json::{Value, json};

use super::api::{Answer, Ctx, Req};

const TEN_HOURS_MS: i64 = 10 * 3600 * 1000;

fn invalid(why: &str) -> Answer {
    Answer::err(400, 1390001, &format!("param is invalid: {why}"))
}

fn ms(req: &Req, name: &str) -> Result<i64, Answer> {
    req.query
        .get(name)
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| invalid(&format!("{name} must be a millisecond timestamp")))
}

/// Where a page ends: the last instance returned, by creation time then code.
fn cursor(window: (i64, i64), after: (i64, &str)) -> String {
    format!("{}:{}:{}:{}", window.0, window.1, after.0, after.1)
}

fn read_cursor(token: &str, window: (i64, i64)) -> Result<(i64, String), Answer> {
    let mut parts = token.splitn(4, ':');
    let mut num = || parts.next().and_then(|p| p.parse::<i64>().ok());
    match (num(), num(), num()) {
        (Some(s), Some(e), Some(at)) if (s, e) == window => {
            Ok((at, parts.next().unwrap_or_default().to_owned()))
        }
        _ => Err(invalid("page_token does not belong to this query")),
    }
}

fn created_ms(instance: &Value) -> i64 {
    match &instance["start_time"] {
        Value::String(s) => s.parse().unwrap_or(0),
        v => v.as_i64().unwrap_or(0),
    }
}

pub(crate) fn instance_list(ctx: &Ctx<'_>, req: &Req) -> Result<Answer, Answer> {
    let code = req
        .query
        .get("approval_code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| invalid("approval_code is required"))?;
    if !ctx.config.approval_codes.contains(code) {
        return Err(Answer::err(400, 1390002, "approval code not found"));
    }
    let window = (ms(req, "start_time")?, ms(req, "end_time")?);
    if window.1 < window.0 || window.1 - window.0 > TEN_HOURS_MS {
        return Err(invalid("the time range must not exceed 10 hours"));
    }
    let page_size = match req.query.get("page_size") {
        None => 100,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| invalid("page_size must be 1-100"))?,
    };
    let after = match req.query.get("page_token") {
        Some(t) => Some(read_cursor(t, window)?),
        None => None,
    };
    let mut found: Vec<(i64, &str)> = ctx
        .state
        .instances
        .values()
        .filter(|i| i["approval_code"].as_str() == Some(code.as_str()))
        .map(|i| {
            (
                created_ms(i),
                i["instance_code"].as_str().unwrap_or_default(),
            )
        })
        .filter(|(at, _)| (window.0..=window.1).contains(at))
        .filter(|(at, c)| {
            after
                .as_ref()
                .is_none_or(|(a_at, a_code)| (*at, *c) > (*a_at, a_code.as_str()))
        })
        .collect();
    found.sort();
    let has_more = found.len() > page_size;
    found.truncate(page_size);
    let mut data = json!({
        "instance_code_list": found.iter().map(|(_, c)| c).collect::<Vec<_>>(),
        "has_more": has_more,
    });
    if let (true, Some(last)) = (has_more, found.last()) {
        data["page_token"] = json!(cursor(window, *last));
    }
    Ok(Answer::ok(data))
}
