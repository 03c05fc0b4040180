//! Reference data shipped with the product (see reference/README.md): МКБ-10,
//! specialty profiles and consultation purposes. Loaded into the database on
//! first start; `load_icd10_csv` also takes a newer НСИ release.

use diesel::prelude::*;

use crate::models::{Icd10, Profile, Purpose};
use crate::schema::{icd10, profiles, purposes};
use crate::{DbConn, StoreError};

pub const ICD10_CSV: &str =
    include_str!("../../../reference/mkb10/mkb10-nsi-1.2.643.5.1.13.13.11.1005-v2.27.csv");
pub const PROFILES_CSV: &str = include_str!("../../../reference/profiles.csv");
pub const PURPOSES_CSV: &str = include_str!("../../../reference/purposes.csv");

#[derive(Debug, Clone, PartialEq)]
pub struct Icd10Row {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub actual: bool,
}

/// Parses the НСИ МКБ-10 CSV (`;`-separated, with the ID/ID_PARENT hierarchy).
/// Classes and blocks (`I`, `A00-A09`) are skipped; only codes are kept.
pub fn parse_icd10_csv(text: &str) -> Result<Vec<Icd10Row>, StoreError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| StoreError::Other(e.to_string()))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| StoreError::Other(format!("МКБ-10 CSV: no column {name}")))
    };
    let (id_c, code_c, name_c, parent_c, actual_c) = (
        col("ID")?,
        col("MKB_CODE")?,
        col("MKB_NAME")?,
        col("ID_PARENT")?,
        col("ACTUAL")?,
    );
    let mut by_id = std::collections::HashMap::new();
    let mut raw = Vec::new();
    for record in reader.records() {
        let r = record.map_err(|e| StoreError::Other(e.to_string()))?;
        let id = r.get(id_c).unwrap_or("").to_string();
        let code = r.get(code_c).unwrap_or("").trim().to_string();
        by_id.insert(id, code.clone());
        raw.push((
            code,
            r.get(name_c).unwrap_or("").trim().to_string(),
            r.get(parent_c).unwrap_or("").to_string(),
            r.get(actual_c).unwrap_or("") == "1",
        ));
    }
    Ok(raw
        .into_iter()
        .filter(|(code, ..)| {
            rtms_domain::validate::Icd10Code::parse(code).is_ok_and(|c| c.as_str() == code)
        })
        .map(|(code, name, parent, actual)| Icd10Row {
            parent_code: by_id
                .get(&parent)
                .filter(|p| rtms_domain::validate::Icd10Code::parse(p).is_ok())
                .cloned(),
            code,
            name,
            actual,
        })
        .collect())
}

/// Text that a search matches against: lower-case code and name.
pub fn search_text(code: &str, name: &str) -> String {
    format!("{} {}", code, name).to_lowercase()
}

/// Replaces the МКБ-10 table with the rows of a CSV; returns how many were loaded.
pub fn load_icd10_csv(conn: &mut DbConn, text: &str) -> Result<usize, StoreError> {
    let rows = parse_icd10_csv(text)?;
    diesel::delete(icd10::table).execute(conn)?;
    for chunk in rows.chunks(500) {
        let values: Vec<_> = chunk
            .iter()
            .map(|r| {
                (
                    icd10::code.eq(&r.code),
                    icd10::name.eq(&r.name),
                    icd10::parent_code.eq(r.parent_code.as_ref()),
                    icd10::search.eq(search_text(&r.code, &r.name)),
                    icd10::actual.eq(r.actual),
                )
            })
            .collect();
        // Multi-row inserts are not in the backends' common subset.
        match conn {
            DbConn::Pg(c) => diesel::insert_into(icd10::table)
                .values(values)
                .execute(c)?,
            DbConn::Sqlite(c) => diesel::insert_into(icd10::table)
                .values(values)
                .execute(c)?,
        };
    }
    Ok(rows.len())
}

fn csv_records(text: &str) -> Result<Vec<csv::StringRecord>, StoreError> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Other(e.to_string()))
}

/// Loads whatever reference table is still empty. Returns (icd10, profiles, purposes) loaded.
pub fn ensure_loaded(conn: &mut DbConn) -> Result<(usize, usize, usize), StoreError> {
    let mut loaded = (0, 0, 0);
    let n: i64 = icd10::table.count().get_result(conn)?;
    if n == 0 {
        loaded.0 = load_icd10_csv(conn, ICD10_CSV)?;
    }
    let n: i64 = profiles::table.count().get_result(conn)?;
    if n == 0 {
        for r in csv_records(PROFILES_CSV)? {
            diesel::insert_into(profiles::table)
                .values((
                    profiles::code.eq(&r[0]),
                    profiles::v002_code.eq(r[1].parse::<i32>().ok()),
                    profiles::name_ru.eq(&r[2]),
                    profiles::name_en.eq(&r[3]),
                    profiles::hint_ru.eq(&r[4]),
                    profiles::hint_en.eq(&r[5]),
                ))
                .execute(conn)?;
            loaded.1 += 1;
        }
    }
    let n: i64 = purposes::table.count().get_result(conn)?;
    if n == 0 {
        for r in csv_records(PURPOSES_CSV)? {
            diesel::insert_into(purposes::table)
                .values((
                    purposes::code.eq(&r[1]),
                    purposes::iemk_code.eq(r[0].parse::<i32>().unwrap_or(0)),
                    purposes::name_ru.eq(&r[2]),
                    purposes::name_en.eq(&r[3]),
                ))
                .execute(conn)?;
            loaded.2 += 1;
        }
    }
    Ok(loaded)
}

/// МКБ-10 codes matching a query: a code prefix (`I21`, `i21.`) or Russian
/// words in any order (`инфаркт миокарда`). Codes in force first.
pub fn search_icd10(conn: &mut DbConn, query: &str, limit: i64) -> Result<Vec<Icd10>, StoreError> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = icd10::table.select(Icd10::as_select()).into_boxed();
    // A code typed in the Russian layout (Р21, т02.00) means the Latin one.
    let latin: String = query
        .chars()
        .map(rtms_domain::validate::latin_lookalike)
        .collect::<String>()
        .to_uppercase()
        .replace(',', ".");
    let looks_like_code = latin.chars().count() <= 6
        && latin.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && latin
            .chars()
            .skip(1)
            .all(|c| c.is_ascii_digit() || c == '.');
    if looks_like_code {
        q = q.filter(icd10::code.like(format!("{latin}%")));
    } else {
        for word in query.to_lowercase().split_whitespace() {
            q = q.filter(icd10::search.like(format!("%{}%", word.replace(['%', '_'], ""))));
        }
    }
    Ok(q.order((icd10::actual.desc(), icd10::code.asc()))
        .limit(limit)
        .load(conn)?)
}

/// Which of these codes are not in the reference (or no longer in force).
pub fn unknown_icd10(conn: &mut DbConn, codes: &[String]) -> Result<Vec<String>, StoreError> {
    let known: Vec<String> = icd10::table
        .filter(icd10::code.eq_any(codes))
        .filter(icd10::actual.eq(true))
        .select(icd10::code)
        .load(conn)?;
    Ok(codes
        .iter()
        .filter(|c| !known.contains(c))
        .cloned()
        .collect())
}

pub fn icd10_names(
    conn: &mut DbConn,
    codes: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(icd10::table
        .filter(icd10::code.eq_any(codes))
        .select((icd10::code, icd10::name))
        .load(conn)?)
}

pub fn profiles(conn: &mut DbConn) -> Result<Vec<Profile>, StoreError> {
    Ok(profiles::table
        .select(Profile::as_select())
        .order(profiles::name_ru.asc())
        .load(conn)?)
}

pub fn profile(conn: &mut DbConn, code: &str) -> Result<Option<Profile>, StoreError> {
    Ok(profiles::table
        .find(code)
        .select(Profile::as_select())
        .first(conn)
        .optional()?)
}

pub fn purposes(conn: &mut DbConn) -> Result<Vec<Purpose>, StoreError> {
    Ok(purposes::table
        .select(Purpose::as_select())
        .order(purposes::iemk_code.asc())
        .load(conn)?)
}

pub fn purpose(conn: &mut DbConn, code: &str) -> Result<Option<Purpose>, StoreError> {
    Ok(purposes::table
        .find(code)
        .select(Purpose::as_select())
        .first(conn)
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_icd10_parses_into_codes_with_parents() {
        let rows = parse_icd10_csv(ICD10_CSV).unwrap();
        assert!(rows.len() > 12_000, "only {} codes", rows.len());
        let i21_0 = rows.iter().find(|r| r.code == "I21.0").expect("I21.0");
        assert_eq!(i21_0.parent_code.as_deref(), Some("I21"));
        assert!(i21_0.name.to_lowercase().contains("инфаркт"));
        assert!(!rows.iter().any(|r| r.code.contains('-')));
    }
}
