//! Timestamps read from SQLite without chrono's format parser.
//!
//! SQLite keeps a timestamp as text, `YYYY-MM-DD HH:MM:SS[.ffffff]`, and
//! diesel parses it with `NaiveDateTime::parse_from_str`, trying several
//! formats: about 2,500 instructions a value, a tenth of a list request.
//! [`Stamp`] reads that one layout by hand and hands anything else to the
//! general parser, so whatever SQLite holds still reads. PostgreSQL sends
//! binary timestamps and goes through diesel as before.
//!
//! Used on model fields with `#[diesel(deserialize_as = Stamp)]` (or
//! [`MaybeStamp`] for a nullable column); dates likewise with [`MaybeDay`].

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::deserialize::{self, FromSql};
use diesel::sql_types::{Date, Nullable, Timestamp};

use crate::conn::{MultiBackend, MultiRawValue};

/// A `NaiveDateTime` read from a `Timestamp` column.
#[derive(Debug, Clone, Copy, diesel::deserialize::FromSqlRow)]
pub struct Stamp(pub NaiveDateTime);

/// An `Option<NaiveDateTime>` read from a nullable `Timestamp` column.
#[derive(Debug, Clone, Copy, diesel::deserialize::FromSqlRow)]
pub struct MaybeStamp(pub Option<NaiveDateTime>);

/// An `Option<NaiveDate>` read from a nullable `Date` column.
#[derive(Debug, Clone, Copy, diesel::deserialize::FromSqlRow)]
pub struct MaybeDay(pub Option<NaiveDate>);

impl From<MaybeDay> for Option<NaiveDate> {
    fn from(d: MaybeDay) -> Self {
        d.0
    }
}

impl FromSql<Nullable<Date>, MultiBackend> for MaybeDay {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        match value {
            MultiRawValue::Sqlite(mut v) => {
                let text = v.read_text();
                match parse_day(text.as_bytes()) {
                    Some(d) => Ok(MaybeDay(Some(d))),
                    None => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                        .map(|d| MaybeDay(Some(d)))
                        .map_err(|_| format!("Invalid date {text}").into()),
                }
            }
            other => other
                .from_sql::<NaiveDate, Date>()
                .map(|d| MaybeDay(Some(d))),
        }
    }

    fn from_nullable_sql(value: Option<MultiRawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(v) => Self::from_sql(v),
            None => Ok(MaybeDay(None)),
        }
    }
}

/// `YYYY-MM-DD` and nothing else.
fn parse_day(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)
}

impl From<Stamp> for NaiveDateTime {
    fn from(s: Stamp) -> Self {
        s.0
    }
}

impl From<MaybeStamp> for Option<NaiveDateTime> {
    fn from(s: MaybeStamp) -> Self {
        s.0
    }
}

fn read(value: MultiRawValue<'_>) -> deserialize::Result<NaiveDateTime> {
    match value {
        MultiRawValue::Sqlite(mut v) => {
            let text = v.read_text();
            match parse(text) {
                Some(t) => Ok(t),
                None => general(text),
            }
        }
        other => other.from_sql::<NaiveDateTime, Timestamp>(),
    }
}

/// What diesel itself accepts from SQLite, for anything [`parse`] does not read.
fn general(text: &str) -> deserialize::Result<NaiveDateTime> {
    const FORMATS: [&str; 4] = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.fZ",
        "%Y-%m-%dT%H:%M:%S%.fZ",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .ok_or_else(|| format!("Invalid datetime {text}").into())
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of up to nine digits.
fn parse(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if !digits.is_empty() && digits.len() <= 9 => {
            num(20, b.len())? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let time = NaiveTime::from_hms_nano_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?, nanos)?;
    Some(date.and_time(time))
}

impl FromSql<Timestamp, MultiBackend> for Stamp {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        read(value).map(Stamp)
    }
}

impl FromSql<Nullable<Timestamp>, MultiBackend> for MaybeStamp {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        read(value).map(|t| MaybeStamp(Some(t)))
    }

    fn from_nullable_sql(value: Option<MultiRawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(v) => Self::from_sql(v),
            None => Ok(MaybeStamp(None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        general(s).unwrap()
    }

    #[test]
    fn reads_what_the_general_parser_reads() {
        for text in [
            "2026-11-29 09:06:14",
            "2026-11-29 09:06:14.5",
            "2026-11-29 09:06:14.123456",
            "2026-02-28 23:59:59.999999999",
            "1999-01-01 00:00:00.000001",
        ] {
            assert_eq!(parse(text), Some(at(text)), "{text}");
        }
    }

    #[test]
    fn reads_days() {
        assert_eq!(
            parse_day(b"1949-04-01"),
            NaiveDate::from_ymd_opt(1949, 4, 1)
        );
        assert_eq!(
            parse_day(b"2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        for text in [
            "2023-02-29",
            "1949-4-01",
            "1949-04-01 00:00:00",
            "19x9-04-01",
        ] {
            assert_eq!(parse_day(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn leaves_other_layouts_to_the_general_parser() {
        for text in [
            "2026-11-29T09:06:14",
            "2026-11-29 09:06:14Z",
            "2026-02-30 10:00:00",
            "2026-11-29 24:00:00",
            "2026-11-29 09:06:1",
            "2026-11-29 09:06:14.",
            "2026-11-29 09:06:14.1234567890",
            "2026-1x-29 09:06:14",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
        assert_eq!(
            general("2026-11-29T09:06:14").unwrap(),
            at("2026-11-29 09:06:14")
        );
    }
}
