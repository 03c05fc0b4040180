//! Timestamps read from SQLite without chrono's format parser.
//!
//! SQLite keeps a timestamp as text, `YYYY-MM-DD HH:MM:SS[.ffffff]`, and
//! diesel parses it with `NaiveDateTime::parse_from_str`, trying several
//! formats: about 2,500 instructions a value, a tenth of a list request.
//! [`Stamp`] reads that one layout by hand and hands anything else to
//! diesel's own parser, so whatever SQLite holds still reads. PostgreSQL sends
//! binary timestamps and goes through diesel as before. Each type reads through
//! `DbConn` and on either backend's own connection (`crate::on_backend!`).
//!
//! Used on model fields with `#[diesel(deserialize_as = Stamp)]` (or
//! [`MaybeStamp`] for a nullable column); dates likewise with [`MaybeDay`].

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::{Date, Nullable, Timestamp};
use diesel::sqlite::Sqlite;

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

impl From<MaybeDay> for Option<NaiveDate> {
    fn from(d: MaybeDay) -> Self {
        d.0
    }
}

/// The number written in ASCII digits at `b[from..to]`.
fn digits(b: &[u8], from: usize, to: usize) -> Option<u32> {
    b[from..to].iter().try_fold(0u32, |n, d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })
}

/// `YYYY-MM-DD` and nothing else.
fn parse_day(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(digits(b, 0, 4)? as i32, digits(b, 5, 7)?, digits(b, 8, 10)?)
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of up to nine digits.
fn parse(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19 || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', fraction @ ..] if !fraction.is_empty() && fraction.len() <= 9 => {
            digits(b, 20, b.len())? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(
        digits(b, 11, 13)?,
        digits(b, 14, 16)?,
        digits(b, 17, 19)?,
        nanos,
    )?;
    Some(parse_day(&b[..10])?.and_time(time))
}

/// SQLite: the usual layout by hand, anything else by diesel's parser.
fn sqlite_stamp(mut v: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<NaiveDateTime> {
    match parse(v.read_text()) {
        Some(t) => Ok(t),
        None => <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(v),
    }
}

fn sqlite_day(mut v: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<NaiveDate> {
    match parse_day(v.read_text().as_bytes()) {
        Some(d) => Ok(d),
        None => <NaiveDate as FromSql<Date, Sqlite>>::from_sql(v),
    }
}

fn pg_stamp(v: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<NaiveDateTime> {
    <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(v)
}

fn pg_day(v: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<NaiveDate> {
    <NaiveDate as FromSql<Date, Pg>>::from_sql(v)
}

/// Through [`crate::conn::DbConn`]: the reader of the backend the value came from.
fn multi_stamp(value: MultiRawValue<'_>) -> deserialize::Result<NaiveDateTime> {
    match value {
        MultiRawValue::Sqlite(v) => sqlite_stamp(v),
        MultiRawValue::Pg(v) => pg_stamp(v),
    }
}

fn multi_day(value: MultiRawValue<'_>) -> deserialize::Result<NaiveDate> {
    match value {
        MultiRawValue::Sqlite(v) => sqlite_day(v),
        MultiRawValue::Pg(v) => pg_day(v),
    }
}

/// The three types on one backend (`DbConn`'s, or a backend's own for
/// `crate::on_backend!`), from how it reads a timestamp and a day. A NULL
/// reads as `None` rather than as diesel's "unexpected null" error.
macro_rules! read_on {
    ($db:ty, $stamp:ident, $day:ident) => {
        impl FromSql<Timestamp, $db> for Stamp {
            fn from_sql(v: <$db as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                $stamp(v).map(Stamp)
            }
        }

        impl FromSql<Nullable<Timestamp>, $db> for MaybeStamp {
            fn from_sql(v: <$db as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                $stamp(v).map(|t| MaybeStamp(Some(t)))
            }

            fn from_nullable_sql(
                v: Option<<$db as Backend>::RawValue<'_>>,
            ) -> deserialize::Result<Self> {
                v.map_or(Ok(MaybeStamp(None)), |v| {
                    $stamp(v).map(|t| MaybeStamp(Some(t)))
                })
            }
        }

        impl FromSql<Nullable<Date>, $db> for MaybeDay {
            fn from_sql(v: <$db as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                $day(v).map(|d| MaybeDay(Some(d)))
            }

            fn from_nullable_sql(
                v: Option<<$db as Backend>::RawValue<'_>>,
            ) -> deserialize::Result<Self> {
                v.map_or(Ok(MaybeDay(None)), |v| $day(v).map(|d| MaybeDay(Some(d))))
            }
        }
    };
}

read_on!(MultiBackend, multi_stamp, multi_day);
read_on!(Sqlite, sqlite_stamp, sqlite_day);
read_on!(Pg, pg_stamp, pg_day);

#[cfg(test)]
mod tests {
    use super::*;

    /// chrono's reading of diesel's own layout, the reference.
    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    #[test]
    fn reads_what_chrono_reads() {
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
    fn leaves_other_layouts_to_diesel() {
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
    }
}
