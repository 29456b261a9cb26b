//! Durations as GitLab reads `artifacts:expire_in`: `Gitlab::Ci::Build::DurationParser`
//! (`lib/gitlab/ci/build/duration_parser.rb`) accepts `never` in any case, and otherwise
//! whatever `ChronicDuration.parse` turns into a positive number of seconds (the
//! `chronic_duration` gem's `lib/chronic_duration.rb`: numbers, each followed by a unit word
//! or alone as seconds, `and`/`with`/`plus` between them, or `h:m:s` clock notation).
//!
//! This accepts a strict subset: every value it accepts, GitLab accepts with the same
//! meaning; a value GitLab would read by skipping unknown words (`"1 forever"`) is refused
//! here, because the skipped word is almost certainly a mistake.

/// Why a duration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing but spaces.
    #[error("the duration is empty")]
    Empty,
    /// A word that is neither a number nor a unit.
    #[error(
        "`{0}` is not a number or a unit (use seconds, minutes, hours, days, weeks, months or years, e.g. `30 days`)"
    )]
    Word(String),
    /// The duration adds up to nothing.
    #[error("the duration is zero; GitLab refuses it (use `never` to keep artifacts)")]
    Zero,
    /// Clock notation with too many fields.
    #[error("`{0}` has more fields than `days:hours:minutes:seconds`")]
    Clock(String),
}

/// A parsed `expire_in`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Duration {
    /// `never`.
    Never,
    /// A positive number of seconds.
    Seconds(f64),
}

/// Seconds per unit word, as `chronic_duration` maps them.
fn unit(word: &str) -> Option<f64> {
    Some(match word {
        "seconds" | "second" | "secs" | "sec" | "s" => 1.0,
        "minutes" | "minute" | "mins" | "min" | "m" => 60.0,
        "hours" | "hour" | "hrs" | "hr" | "h" => 3600.0,
        "days" | "day" | "dy" | "d" => 86_400.0,
        "weeks" | "week" | "wks" | "wk" | "w" => 604_800.0,
        "months" | "month" | "mos" | "mo" => 2_592_000.0,
        "years" | "year" | "yrs" | "yr" | "y" => 31_557_600.0,
        _ => return None,
    })
}

fn number(s: &str) -> Option<f64> {
    // `[0-9]*\.?[0-9]+`
    let (int, frac) = s.split_once('.').unwrap_or(("", s));
    let ok = !frac.is_empty()
        && frac.bytes().all(|b| b.is_ascii_digit())
        && int.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| s.parse().ok()).flatten()
}

/// Splits `2days`, `1.5h` into number and unit tokens, as `chronic_duration` pads numbers
/// with spaces before it reads words.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split([' ', '\t', ',']).filter(|w| !w.is_empty()) {
        let mut cur = String::new();
        let mut in_number = None;
        for c in word.chars() {
            let is_num = c.is_ascii_digit() || c == '.';
            if in_number.is_some_and(|n| n != is_num) {
                out.push(std::mem::take(&mut cur));
            }
            in_number = Some(is_num);
            cur.push(c);
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// Clock fields, right to left: seconds, minutes, hours, days.
const CLOCK_UNITS: [f64; 4] = [1.0, 60.0, 3600.0, 86_400.0];

fn clock(text: &str) -> Result<f64, DurationError> {
    let fields: Vec<&str> = text.split(':').map(str::trim).collect();
    if fields.len() > CLOCK_UNITS.len() {
        return Err(DurationError::Clock(text.to_owned()));
    }
    let mut total = 0.0;
    for (f, u) in fields.iter().rev().zip(CLOCK_UNITS) {
        total += number(f).ok_or_else(|| DurationError::Word((*f).to_owned()))? * u;
    }
    Ok(total)
}

/// Parses an `expire_in` value as GitLab would accept it.
pub fn parse(value: &str) -> Result<Duration, DurationError> {
    let text = value.trim().to_ascii_lowercase();
    if text == "never" {
        return Ok(Duration::Never);
    }
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let total = if text.contains(':') {
        clock(&text)?
    } else {
        let words = tokens(&text);
        let mut total = 0.0;
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            if let Some(n) = number(w) {
                if let Some(u) = words.get(i + 1).and_then(|u| unit(u)) {
                    total += n * u;
                    i += 2;
                } else {
                    total += n;
                    i += 1;
                }
            } else if let Some(u) = unit(w) {
                // A leading unit counts once (`day` is one day), as the gem does.
                if i == 0 {
                    total += u;
                    i += 1;
                } else {
                    return Err(DurationError::Word(w.clone()));
                }
            } else if ["and", "with", "plus"].contains(&w.as_str()) {
                i += 1;
            } else {
                return Err(DurationError::Word(w.clone()));
            }
        }
        total
    };
    if total > 0.0 {
        Ok(Duration::Seconds(total))
    } else {
        Err(DurationError::Zero)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_gitlab_accepts() {
        let s = |v: &str| match parse(v) {
            Ok(Duration::Seconds(x)) => x,
            other => panic!("{v}: {other:?}"),
        };
        assert_eq!(parse("never"), Ok(Duration::Never));
        assert_eq!(parse("NEVER"), Ok(Duration::Never));
        assert_eq!(s("30 days"), 2_592_000.0);
        assert_eq!(s("1 week"), 604_800.0);
        assert_eq!(s("3 mins 4 sec"), 184.0);
        assert_eq!(s("2 hrs 20 min"), 8400.0);
        assert_eq!(s("2h20min"), 8400.0);
        assert_eq!(s("6 mos 1 day"), 2_592_000.0 * 6.0 + 86_400.0);
        assert_eq!(s("1 year and 2 days"), 31_557_600.0 + 172_800.0);
        assert_eq!(s("42"), 42.0);
        assert_eq!(s("1.5 hours"), 5400.0);
        assert_eq!(s("day"), 86_400.0);
        assert_eq!(s("1:30:00"), 5400.0);
    }

    #[test]
    fn what_it_refuses() {
        for bad in [
            "forever-ish",
            "on",
            "",
            "0",
            "0 days",
            "1 forever",
            "a week",
            "1\nday",
            "1:2:3:4:5",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
