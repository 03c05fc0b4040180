//! Parse-don't-validate newtypes and field-level validation errors.
//!
//! Every error carries the field it belongs to and a stable code, never a
//! sentence: its text in Russian and English is `refusal-<code>` in the
//! Fluent catalogues (`rtms_i18n::refusal`), shown next to the field.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl Lang {
    /// Picks the first supported language of an `Accept-Language` header value;
    /// Russian when none matches.
    pub fn from_accept_language(header: &str) -> Lang {
        for part in header.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("ru") {
                return Lang::Ru;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Ru
    }
}

/// One problem with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `patient.snils`.
    pub field: String,
    /// Stable machine code, e.g. `snils_checksum`.
    pub code: &'static str,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str) -> Self {
        FieldError {
            field: field.into(),
            code,
        }
    }
}

/// Collects field errors while a whole input is checked, so that the user sees
/// every problem at once rather than one per attempt.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Validation {
    pub errors: Vec<FieldError>,
}

impl Validation {
    pub fn push(&mut self, field: impl Into<String>, code: &'static str) {
        self.errors.push(FieldError::new(field, code));
    }

    /// Records the error of a parse result, if any, and passes the value on.
    pub fn check<T>(&mut self, field: &str, result: Result<T, &'static str>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(code) => {
                self.push(field, code);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn into_result(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

fn digits_only(raw: &str, allowed_separators: &[char]) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    for c in raw.trim().chars() {
        if c.is_ascii_digit() {
            out.push(c);
        } else if !allowed_separators.contains(&c) {
            return None;
        }
    }
    Some(out)
}

/// СНИЛС: 11 digits, the last two being the check number of the first nine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Snils(String);

impl Snils {
    /// Accepts `11223344595`, `112-233-445 95` and similar spellings.
    pub fn parse(raw: &str) -> Result<Snils, &'static str> {
        let digits = digits_only(raw, &['-', ' ']).ok_or("snils_format")?;
        if digits.len() != 11 {
            return Err("snils_format");
        }
        let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        let number: u64 = digits[..9].parse().map_err(|_| "snils_format")?;
        let check = d[9] * 10 + d[10];
        // Numbers up to 001-001-998 were issued before check numbers existed.
        if number > 1_001_998 && snils_check_number(&d[..9]) != check {
            return Err("snils_checksum");
        }
        Ok(Snils(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The conventional spelling `XXX-XXX-XXX YY`.
    pub fn formatted(&self) -> String {
        let s = &self.0;
        format!("{}-{}-{} {}", &s[0..3], &s[3..6], &s[6..9], &s[9..11])
    }
}

/// The check number of the first nine digits of a СНИЛС.
pub fn snils_check_number(nine: &[u32]) -> u32 {
    let sum: u32 = nine
        .iter()
        .enumerate()
        .map(|(i, d)| d * (9 - i as u32))
        .sum();
    match sum {
        0..=99 => sum,
        100 | 101 => 0,
        _ => {
            let r = sum % 101;
            if r == 100 {
                0
            } else {
                r
            }
        }
    }
}

/// Полис ОМС единого образца / ЕНП: 16 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OmsPolicy(String);

impl OmsPolicy {
    pub fn parse(raw: &str) -> Result<OmsPolicy, &'static str> {
        let digits = digits_only(raw, &['-', ' ']).ok_or("oms_format")?;
        if digits.len() != 16 {
            return Err("oms_format");
        }
        Ok(OmsPolicy(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An МКБ-10 code in its canonical spelling (`I21.0`). Whether the code exists is
/// a question for the reference table, not for this type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Icd10Code(String);

impl Icd10Code {
    /// Accepts lower case, a comma instead of the dot, and Cyrillic letters that
    /// look like Latin ones (a doctor typing in the Russian keyboard layout).
    pub fn parse(raw: &str) -> Result<Icd10Code, &'static str> {
        let mut s = String::with_capacity(raw.len());
        for c in raw.trim().chars() {
            // Only Latin letters and the Cyrillic ones that look like them:
            // not, say, `ß`, whose upper case begins with an ASCII `S`.
            let c = if c.is_ascii() {
                c.to_ascii_uppercase()
            } else if ('\u{400}'..='\u{4ff}').contains(&c) {
                latin_lookalike(c)
            } else {
                c
            };
            let c = if c == ',' { '.' } else { c };
            s.push(c);
        }
        let b = s.as_bytes();
        let ok = match b.len() {
            3 => is_icd_head(b),
            5 | 6 => is_icd_head(b) && b[3] == b'.' && b[4..].iter().all(u8::is_ascii_digit),
            _ => false,
        };
        if ok {
            Ok(Icd10Code(s))
        } else {
            Err("icd10_format")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The Latin capital a Cyrillic letter looks like (`Р` → `P`), for codes typed
/// in the Russian keyboard layout; other characters are upper-cased as they are.
pub fn latin_lookalike(c: char) -> char {
    match c.to_uppercase().next().unwrap_or(c) {
        'А' => 'A',
        'В' => 'B',
        'С' => 'C',
        'Е' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'Т' => 'T',
        'Х' => 'X',
        other => other,
    }
}

fn is_icd_head(b: &[u8]) -> bool {
    b[0].is_ascii_uppercase() && b[1].is_ascii_digit() && b[2].is_ascii_digit()
}

/// Accepts `ДД.ММ.ГГГГ` (as people in Russia write it), `ГГГГ-ММ-ДД` (as
/// machines do) and the month by its English name (`4 Dec 2026`,
/// `4 December 2026`, `Dec 4, 2026`). A numeric day/month order other than
/// Russian is not guessed: `12/04/2026` is refused, not misread.
pub fn parse_date(raw: &str) -> Result<NaiveDate, &'static str> {
    let raw = raw.trim();
    [
        "%d.%m.%Y",
        "%Y-%m-%d",
        "%d %b %Y",
        "%d %B %Y",
        "%b %d, %Y",
        "%B %d, %Y",
    ]
    .iter()
    .find_map(|f| NaiveDate::parse_from_str(raw, f).ok())
    .ok_or("date_format")
}

/// A birth date is plausible when it is not in the future and not more than 130
/// years ago.
pub fn parse_birth_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, &'static str> {
    let date = parse_date(raw)?;
    if date > today {
        return Err("date_in_future");
    }
    if today.years_since(date).is_none_or(|years| years > 130) {
        return Err("date_too_old");
    }
    Ok(date)
}

/// A past event date (a test result, an earlier consultation).
pub fn parse_past_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, &'static str> {
    let date = parse_date(raw)?;
    if date > today {
        return Err("date_in_future");
    }
    if date.year_ce().1 < 1900 {
        return Err("date_too_old");
    }
    Ok(date)
}

use chrono::Datelike;

/// A contact phone: 5 to 15 digits with the usual punctuation.
pub fn parse_phone(raw: &str) -> Result<String, &'static str> {
    let raw = raw.trim();
    let digits = digits_only(raw, &['+', '-', ' ', '(', ')']).ok_or("phone_format")?;
    if !(5..=15).contains(&digits.len()) {
        return Err("phone_format");
    }
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snils_accepts_valid_numbers_in_any_spelling() {
        assert_eq!(
            Snils::parse("112-233-445 95").unwrap().as_str(),
            "11223344595"
        );
        assert_eq!(
            Snils::parse("11223344595").unwrap().formatted(),
            "112-233-445 95"
        );
    }

    #[test]
    fn snils_rejects_wrong_check_number_and_format() {
        assert_eq!(Snils::parse("112-233-445 96"), Err("snils_checksum"));
        assert_eq!(Snils::parse("1122334459"), Err("snils_format"));
        assert_eq!(Snils::parse("112-233-445 9a"), Err("snils_format"));
    }

    #[test]
    fn snils_check_number_wraps_at_101() {
        // 999999999: sum = 9*45 = 405, 405 % 101 = 1
        assert_eq!(snils_check_number(&[9; 9]), 1);
        assert!(Snils::parse("999 999 999 01").is_ok());
    }

    #[test]
    fn oms_policy_is_sixteen_digits() {
        assert!(OmsPolicy::parse("1234 5678 9012 3456").is_ok());
        assert_eq!(OmsPolicy::parse("123456789012345"), Err("oms_format"));
    }

    #[test]
    fn icd10_normalizes_russian_layout_and_commas() {
        assert_eq!(Icd10Code::parse("і21.0").map(|c| c.0), Err("icd10_format"));
        assert_eq!(Icd10Code::parse("i21,0").unwrap().as_str(), "I21.0");
        assert_eq!(Icd10Code::parse("С34.1").unwrap().as_str(), "C34.1"); // Cyrillic С
        assert_eq!(Icd10Code::parse("J18").unwrap().as_str(), "J18");
        assert_eq!(Icd10Code::parse("J1"), Err("icd10_format"));
        assert_eq!(Icd10Code::parse("J18."), Err("icd10_format"));
        // Letters whose upper case merely begins with an ASCII one are not codes.
        assert_eq!(Icd10Code::parse("\u{df}10"), Err("icd10_format"));
        assert_eq!(Icd10Code::parse("\u{212a}21.0"), Err("icd10_format"));
    }

    #[test]
    fn birth_dates_must_be_plausible() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert!(parse_birth_date("01.02.1960", today).is_ok());
        assert!(parse_birth_date("1960-02-01", today).is_ok());
        assert_eq!(parse_birth_date("29.11.2026", today), Err("date_in_future"));
        assert_eq!(parse_birth_date("01.01.1890", today), Err("date_too_old"));
        assert_eq!(parse_birth_date("31.02.2000", today), Err("date_format"));
    }

    #[test]
    fn accept_language_prefers_the_first_supported() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,ru;q=0.8"),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language("de,ru;q=0.5"), Lang::Ru);
        assert_eq!(Lang::from_accept_language(""), Lang::Ru);
    }
}
