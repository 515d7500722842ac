//! `CHAT_LEAVE_TYPES`, the leave types the bot offers for a native leave form: the
//! definition API does not expose leave-type ids (reference 7.3), so the admin lists them.

use super::command::ChatLeaveType;

/// Reads `年假|Annual leave=7138673249737506817, 事假|Personal leave=7138673249737506818`:
/// entries separated by `,`, `;` or new lines; names (any language) separated by `|`,
/// then `=` and the leave type's id (an int64, as Feishu gives it).
pub fn leave_types(text: &str) -> Result<Vec<ChatLeaveType>, String> {
    let mut out: Vec<ChatLeaveType> = Vec::new();
    for entry in text
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        let Some((names, id)) = entry.rsplit_once('=') else {
            return Err(format!("{entry:?} has no \"=<leave type id>\""));
        };
        let id = id.trim();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || id.parse::<i64>().is_err() {
            return Err(format!(
                "{id:?} in {entry:?} is not a leave type id (an int64 such as 7138673249737506817)"
            ));
        }
        let names: Vec<String> = names
            .split('|')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            return Err(format!("{entry:?} names no leave type before \"=\""));
        }
        if let Some(clash) = out.iter().find(|t| t.id == id) {
            return Err(format!(
                "leave type id {id} is listed twice ({:?} and {:?})",
                clash.names, names
            ));
        }
        out.push(ChatLeaveType {
            id: id.to_owned(),
            names,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_in_both_languages_and_ids() {
        let types = leave_types(
            "年假|Annual leave|annual=7138673249737506817; 事假|Personal leave=7138673249737506818\n",
        )
        .unwrap();
        assert_eq!(types.len(), 2);
        assert_eq!(types[0].id, "7138673249737506817");
        assert_eq!(types[0].names, ["年假", "Annual leave", "annual"]);
        assert_eq!(types[1].names, ["事假", "Personal leave"]);
        assert!(leave_types("  ").unwrap().is_empty());
    }

    #[test]
    fn says_what_is_wrong() {
        for (text, says) in [
            ("年假", "no \"=<leave type id>\""),
            ("年假=annual", "is not a leave type id"),
            ("=7138673249737506817", "names no leave type"),
            ("年假=1, 事假=1", "listed twice"),
        ] {
            let e = leave_types(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
