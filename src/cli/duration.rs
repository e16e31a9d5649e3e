//! Duration flags: one parser for all of them, Go-style like git-sync, kubectl
//! and Flux (`90s`, `1m30s`, `1.5s`, `500ms`, `2h`), from jiff's "friendly"
//! duration format, and each flag's bounds checked at parse time.

use std::time::Duration;

use jiff::fmt::friendly::SpanParser;

/// Parses a non-negative duration with units: `90s`, `1m30s`, `1.5s`, `500ms`, `2h`.
/// A bare number is refused: its unit would be a guess.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(format!(
            "{s:?} needs a unit, e.g. {s}s, {s}m or {s}ms (Go-style durations like 1m30s work too)"
        ));
    }
    let signed = SpanParser::new().parse_duration(s).map_err(|e| {
        format!("invalid duration {s:?} ({e}); expected e.g. 500ms, 30s, 1m30s, 1.5s or 2h")
    })?;
    Duration::try_from(signed).map_err(|_| format!("duration {s:?} must not be negative"))
}

/// A parser of durations from `min` to `max` (both included), for clap's `value_parser`.
pub fn within(min: Duration, max: Duration) -> impl Fn(&str) -> Result<Duration, String> + Clone {
    move |s| {
        let d = parse_duration(s)?;
        if d < min || d > max {
            return Err(format!(
                "{s:?} is out of range: expected {} to {}",
                show(min),
                show(max)
            ));
        }
        Ok(d)
    }
}

/// A duration as the flags take it back (`1s`, `500ms`, `168h`).
fn show(d: Duration) -> String {
    jiff::SignedDuration::try_from(d)
        .map(|s| format!("{s:#}"))
        .unwrap_or_else(|_| format!("{d:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_durations_parse() {
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("30ms"), Ok(Duration::from_millis(30)));
    }

    #[test]
    fn bare_numbers_and_negatives_are_refused_with_a_hint() {
        let e = parse_duration("15").unwrap_err();
        assert!(e.contains("needs a unit, e.g. 15s"), "{e}");
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn bounds_are_checked_and_huge_values_do_not_overflow() {
        let p = within(Duration::from_secs(1), Duration::from_secs(3600));
        assert_eq!(p("1m"), Ok(Duration::from_secs(60)));
        assert!(p("500ms").unwrap_err().contains("expected 1s to 1h"));
        assert!(p("18446744073709551615s").is_err());
        assert!(p("2h").is_err());
    }
}
