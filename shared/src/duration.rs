//! Durations as operators write them: `90s`, `10m`, `12h`, `1d`, `30d`.

use std::time::Duration;

/// `Err` says what is accepted.
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let count: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 90s, 10m, 12h, 1d or 30d"))?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{text:?}: the unit must be s, m, h or d (as in 90s, 10m, 12h, 30d)"
            ));
        }
    };
    count
        .checked_mul(unit_secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// The shortest of the units [`parse`] reads that says `d` exactly.
pub fn display(d: Duration) -> String {
    let secs = d.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs >= size && secs.is_multiple_of(size) {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_units_operators_write() {
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse(" 30d "), Ok(Duration::from_secs(30 * 86_400)));
        for bad in ["", "d", "12", "1w", "-1d", "1.5d", "12 h"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(display(Duration::from_secs(30 * 86_400)), "30d");
        assert_eq!(display(Duration::from_secs(5400)), "90m");
        assert_eq!(display(Duration::from_secs(61)), "61s");
    }
}
