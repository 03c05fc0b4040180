//! Dates and times as each locale's readers write them (`04.12.2026 14:05`,
//! `4 Dec 2026, 14:05`), in the viewer's organization's time zone, and
//! deadlines as a countdown.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use rtms_domain::Lang;

use super::i18n::{tr, tr_args};

pub fn tz(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Europe::Moscow)
}

use rtms_i18n::MONTHS_EN;

/// A date to read: `04.12.2026` / `4 Dec 2026` (no one mistakes the month).
pub fn date(d: NaiveDate, lang: Lang) -> String {
    rtms_i18n::date(d, lang)
}

/// A date to put into a field people may edit, in a form the parser accepts
/// back (`validate::parse_date`): `04.12.2026` / `2026-12-04`.
pub fn date_input(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Ru => date(d, lang),
        Lang::En => d.format("%Y-%m-%d").to_string(),
    }
}

/// `28.11.2026 14:05` / `28 Nov 2026, 14:05`, with the zone's abbreviation
/// when it is not the viewer's own.
pub fn datetime(t: DateTime<Utc>, viewer: Tz, other: Option<Tz>, lang: Lang) -> String {
    let local = t.with_timezone(&viewer);
    // Written out by hand: chrono's `format` parses its pattern on every call
    // (a queue page has a few per row).
    let s = match lang {
        Lang::Ru => format!(
            "{:02}.{:02}.{:04} {:02}:{:02}",
            local.day(),
            local.month(),
            local.year(),
            local.hour(),
            local.minute()
        ),
        Lang::En => format!(
            "{} {} {:04}, {:02}:{:02}",
            local.day(),
            MONTHS_EN[local.month0() as usize],
            local.year(),
            local.hour(),
            local.minute()
        ),
    };
    match other {
        Some(o) if o != viewer => {
            let theirs = t.with_timezone(&o);
            format!("{s} ({} {})", theirs.format("%H:%M"), theirs.format("%Z"))
        }
        _ => s,
    }
}

/// A count with its thousands apart: `2 632` (no-break space) / `2,632`.
pub fn count(n: i64, lang: Lang) -> String {
    rtms_i18n::number(n, lang)
}

/// The units of a span per language, read from the catalogue once (a queue
/// page writes a countdown per row).
static SPAN_UNITS: std::sync::LazyLock<[[String; 3]; 2]> = std::sync::LazyLock::new(|| {
    [Lang::Ru, Lang::En]
        .map(|lang| ["span-days", "span-hours", "span-minutes"].map(|key| tr(lang, key)))
});

/// `3 ч 12 мин` / `3 h 12 min`; days for long spans.
pub fn span(seconds: i64, lang: Lang) -> String {
    let s = seconds.abs();
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    let [dd, hh, mm] = &SPAN_UNITS[lang as usize];
    if d > 0 {
        format!("{d} {dd} {h} {hh}")
    } else if h > 0 {
        format!("{h} {hh} {m} {mm}")
    } else {
        format!("{m} {mm}")
    }
}

/// The countdown text and its urgency class (`ok`, `warn`, `danger`, `overdue`, `paused`).
pub fn countdown(
    remaining: Option<i64>,
    budget: Option<i64>,
    paused: bool,
    lang: Lang,
) -> (String, &'static str) {
    let Some(rem) = remaining else {
        return (String::new(), "none");
    };
    if paused {
        return (
            tr_args(lang, "deadline-paused", &[("left", span(rem, lang).into())]),
            "paused",
        );
    }
    if rem < 0 {
        return (
            tr_args(
                lang,
                "deadline-overdue",
                &[("late", span(rem, lang).into())],
            ),
            "overdue",
        );
    }
    let used = match budget {
        Some(b) if b > 0 => 1.0 - rem as f64 / b as f64,
        _ => 0.0,
    };
    let class = if used >= 0.9 {
        "danger"
    } else if used >= 0.75 {
        "warn"
    } else {
        "ok"
    };
    (
        tr_args(lang, "deadline-left", &[("left", span(rem, lang).into())]),
        class,
    )
}

/// Age in full years.
pub fn age(birth: NaiveDate, today: NaiveDate) -> i32 {
    today.years_since(birth).map(|y| y as i32).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_keep_their_thousands_apart() {
        assert_eq!(count(2632, Lang::Ru), "2\u{a0}632");
        assert_eq!(count(1_000_001, Lang::En), "1,000,001");
        assert_eq!(count(999, Lang::Ru), "999");
        assert_eq!(count(0, Lang::En), "0");
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(3 * 3600 + 12 * 60, Lang::Ru), "3 ч 12 мин");
        assert_eq!(span(-(2 * 86_400 + 3600), Lang::En), "2 d 1 h");
        assert_eq!(span(59, Lang::Ru), "0 мин");
    }

    #[test]
    fn times_show_the_other_zone_when_it_differs() {
        let t: DateTime<Utc> = "2026-11-28T09:00:00Z".parse().unwrap();
        let msk = tz("Europe/Moscow");
        assert_eq!(datetime(t, msk, None, Lang::Ru), "28.11.2026 12:00");
        assert_eq!(datetime(t, msk, Some(msk), Lang::Ru), "28.11.2026 12:00");
        let s = datetime(t, msk, Some(tz("Asia/Yekaterinburg")), Lang::Ru);
        assert!(s.starts_with("28.11.2026 12:00 (14:00"), "{s}");
        // Day, month, hour and minute keep their leading zeros in Russian.
        let early: DateTime<Utc> = "2026-03-04T23:07:00Z".parse().unwrap();
        assert_eq!(datetime(early, msk, None, Lang::Ru), "05.03.2026 02:07");
    }

    #[test]
    fn english_dates_name_the_month() {
        let msk = tz("Europe/Moscow");
        let early: DateTime<Utc> = "2026-03-04T23:07:00Z".parse().unwrap();
        assert_eq!(datetime(early, msk, None, Lang::En), "5 Mar 2026, 02:07");
        let d = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        assert_eq!(date(d, Lang::En), "4 Dec 2026");
        assert_eq!(date(d, Lang::Ru), "04.12.2026");
        // What a field shows is what the parser takes back, in both languages.
        for lang in [Lang::Ru, Lang::En] {
            assert_eq!(
                rtms_domain::validate::parse_date(&date_input(d, lang)),
                Ok(d)
            );
            assert_eq!(rtms_domain::validate::parse_date(&date(d, lang)), Ok(d));
        }
    }

    #[test]
    fn urgency_grows_with_the_share_of_time_used() {
        assert_eq!(countdown(Some(5000), Some(7200), false, Lang::Ru).1, "ok");
        assert_eq!(countdown(Some(1200), Some(7200), false, Lang::Ru).1, "warn");
        assert_eq!(
            countdown(Some(300), Some(7200), false, Lang::Ru).1,
            "danger"
        );
        assert_eq!(
            countdown(Some(-1), Some(7200), false, Lang::Ru).1,
            "overdue"
        );
    }
}
