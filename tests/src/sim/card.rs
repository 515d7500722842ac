//! What Feishu requires of an `interactive` message's card before it sends it, so that a
//! card our code builds wrong fails here as it would in a tenant (code 230099, "card build
//! failed", reference §4.8).
//!
//! Sources: "了解卡片结构" (1.0: `elements` or `i18n_elements` required, `header`
//! optional), "通用组件与元素" (div: `text` or `fields`, at least one), "双列文本" (each field:
//! `is_short` boolean and `text`, both required), the text component (`tag` plain_text or
//! lark_md, `content`), "卡片 JSON 2.0 结构" (`schema: "2.0"`, elements under `body`), and
//! the template form `{"type":"template","data":{"template_id":...}}` ("更新应用发送的消息卡片").
//! (sim assumption) the sub-code in the message: the pages list 200621 for a card that does
//! not parse and give none for a missing field.

use serde_json::Value;

/// `Err` names the first thing missing, as Feishu's `ErrMsg` would.
pub fn check(card: &Value) -> Result<(), String> {
    let Some(root) = card.as_object() else {
        return Err("the card is not a JSON object".into());
    };
    if root.get("type").and_then(Value::as_str) == Some("template") {
        return match card["data"]["template_id"].as_str() {
            Some(id) if !id.is_empty() => Ok(()),
            _ => Err("a template card needs data.template_id".into()),
        };
    }
    if let Some(header) = root.get("header") {
        text_object(&header["title"], "header.title")?;
    }
    if root.get("schema").and_then(Value::as_str) == Some("2.0") {
        if root.contains_key("elements") {
            return Err("schema 2.0 puts elements under body".into());
        }
        return elements(&card["body"]["elements"], "body.elements");
    }
    match (root.get("elements"), root.get("i18n_elements")) {
        (Some(e), _) => elements(e, "elements"),
        (None, Some(Value::Object(by_locale))) => by_locale
            .iter()
            .try_for_each(|(locale, e)| elements(e, &format!("i18n_elements.{locale}"))),
        _ => Err("a card needs elements or i18n_elements".into()),
    }
}

fn elements(list: &Value, at: &str) -> Result<(), String> {
    let Some(list) = list.as_array() else {
        return Err(format!("{at} must be an array"));
    };
    list.iter()
        .enumerate()
        .try_for_each(|(i, e)| element(e, &format!("{at}[{i}]")))
}

fn element(e: &Value, at: &str) -> Result<(), String> {
    let Some(tag) = e["tag"].as_str() else {
        return Err(format!("{at}.tag is required"));
    };
    match tag {
        "div" => {
            if e.get("text").is_none() && e.get("fields").is_none() {
                return Err(format!("{at}: a div needs text or fields"));
            }
            if let Some(t) = e.get("text") {
                text_object(t, &format!("{at}.text"))?;
            }
            if let Some(fields) = e.get("fields") {
                let Some(fields) = fields.as_array() else {
                    return Err(format!("{at}.fields must be an array"));
                };
                for (i, f) in fields.iter().enumerate() {
                    if !f["is_short"].is_boolean() {
                        return Err(format!("{at}.fields[{i}].is_short is required"));
                    }
                    text_object(&f["text"], &format!("{at}.fields[{i}].text"))?;
                }
            }
            Ok(())
        }
        "markdown" => match e["content"].as_str() {
            Some(_) => Ok(()),
            None => Err(format!("{at}.content is required")),
        },
        "note" => elements(&e["elements"], &format!("{at}.elements")),
        "form" => form(e, at),
        "input" | "date_picker" | "select_static" | "button" if e.get("required").is_some() => {
            Err(format!("{at}: required is only allowed inside a form"))
        }
        "plain_text" | "lark_md" => text_object(e, at),
        _ => Ok(()),
    }
}

/// Doc "表单容器" (reference 7.5): a form has a `name` and `elements`; each interactive
/// component in it a `name` unique in the card (else 200530); a submit button
/// `action_type: form_submit` (JSON 1.0).
fn form(e: &Value, at: &str) -> Result<(), String> {
    if e["name"].as_str().is_none_or(str::is_empty) {
        return Err(format!("{at}: a form needs a name"));
    }
    let Some(children) = e["elements"].as_array() else {
        return Err(format!("{at}.elements must be an array"));
    };
    let mut names = std::collections::HashSet::new();
    for (i, c) in children.iter().enumerate() {
        let at = format!("{at}.elements[{i}]");
        let interactive = matches!(
            c["tag"].as_str(),
            Some("input" | "date_picker" | "select_static" | "button")
        );
        if interactive {
            let name = c["name"].as_str().unwrap_or_default();
            if name.is_empty() || !names.insert(name.to_owned()) {
                return Err(format!(
                    "{at}: ErrCode: 200530; every form component needs a unique name"
                ));
            }
        } else {
            element(c, &at)?;
        }
    }
    let submits = children
        .iter()
        .any(|c| c["tag"] == "button" && c["action_type"] == "form_submit");
    if !submits {
        return Err(format!(
            "{at}: a form needs a submit button (action_type form_submit)"
        ));
    }
    Ok(())
}

fn text_object(t: &Value, at: &str) -> Result<(), String> {
    match (t["tag"].as_str(), t["content"].as_str()) {
        (Some("plain_text" | "lark_md"), Some(_)) => Ok(()),
        (Some(other), Some(_)) => Err(format!("{at}.tag {other} is not a text tag")),
        _ => Err(format!("{at} needs tag and content")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn synced_shape() -> Value {
        json!({
            "config": { "wide_screen_mode": true },
            "header": { "template": "green", "title": { "tag": "plain_text", "content": "t" } },
            "elements": [
                { "tag": "div", "fields": [
                    { "is_short": true, "text": { "tag": "lark_md", "content": "**Type**\n年假" } }
                ] },
                { "tag": "hr" },
                { "tag": "div", "text": { "tag": "lark_md", "content": "body" } },
                { "tag": "note", "elements": [ { "tag": "plain_text", "content": "note" } ] }
            ]
        })
    }

    #[test]
    fn the_documented_shapes_pass() {
        assert_eq!(check(&synced_shape()), Ok(()));
        let v2 = json!({ "schema": "2.0", "body": { "elements": [
            { "tag": "markdown", "content": "hi" }
        ] } });
        assert_eq!(check(&v2), Ok(()));
        let template = json!({ "type": "template", "data": { "template_id": "AAq1" } });
        assert_eq!(check(&template), Ok(()));
        let i18n = json!({ "i18n_elements": { "zh_cn": [ { "tag": "hr" } ] } });
        assert_eq!(check(&i18n), Ok(()));
    }

    type Breaks = fn(&mut Value);

    #[test]
    fn each_required_field_is_required() {
        let broken: [(&str, Breaks); 7] = [
            ("elements", |c| {
                c.as_object_mut().unwrap().remove("elements");
            }),
            ("is_short", |c| {
                c["elements"][0]["fields"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("is_short");
            }),
            ("fields[0].text", |c| {
                c["elements"][0]["fields"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("text");
            }),
            ("text or fields", |c| {
                c["elements"][2] = json!({ "tag": "div" })
            }),
            ("header.title", |c| {
                c["header"]["title"] = json!({ "tag": "plain_text" })
            }),
            ("tag is required", |c| c["elements"][1] = json!({})),
            ("not a text tag", |c| {
                c["elements"][2]["text"]["tag"] = json!("markdown");
            }),
        ];
        for (what, breaks) in broken {
            let mut card = synced_shape();
            breaks(&mut card);
            let err = check(&card).unwrap_err();
            assert!(err.contains(what), "{what}: {err}");
        }
        let v2_flat = json!({ "schema": "2.0", "elements": [] });
        assert!(check(&v2_flat).unwrap_err().contains("under body"));
        let template = json!({ "type": "template", "data": {} });
        assert!(check(&template).unwrap_err().contains("template_id"));
    }
}
