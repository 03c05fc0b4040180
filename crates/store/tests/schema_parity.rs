//! The SQLite and PostgreSQL migrations describe the same database, and
//! `src/schema.rs` (the one diesel schema both backends share) agrees with them.
//!
//! A column that is nullable on one backend only, a unique constraint present
//! on one backend only, or a trigger that protects the history on one backend
//! only are the kind of divergence that passes every test run on the other
//! backend and then breaks a hospital's installation.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use rtms_store::models::NewEvent;
use rtms_store::testing::{TestDatabase, BACKENDS};
use rtms_store::{repo, BackendKind, Db, DbConn};

/// One `#[test]` per backend, so a failure names the backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(rtms_store::BackendKind::Sqlite)
                }
                #[test]
                fn postgres() {
                    super::$name(rtms_store::BackendKind::Postgres)
                }
            }
        )*
    };
}

// Search by name or СНИЛС is indexed differently on each backend, on purpose:
// SQLite has the FTS5 tables `consultations_search` (trigrams) and
// `consultations_search_words` (words), with their shadow tables; PostgreSQL
// the pg_trgm index `consultations_search_trgm` and the full-text index
// `consultations_search_words`. Both
// serve the same filter (tests/repositories.rs searches on both); the
// catalogue comparisons below leave them out. So they do SQLite's
// `consultation_changes` (migration 18): the change number behind the counts
// a list keeps (src/counts.rs), which PostgreSQL does not keep.

/// The tables the application is built on; if one is missing on a backend,
/// nothing else in the parity test means much.
const EXPECTED_TABLES: &[&str] = &[
    "organizations",
    "users",
    "memberships",
    "user_profiles",
    "api_tokens",
    "profiles",
    "purposes",
    "icd10",
    "deadline_policies",
    "routes",
    "consultations",
    "consultation_consultants",
    "consultation_events",
    "messages",
    "conclusions",
];

// ---- what the database says ----------------------------------------------------

/// (table, column) -> (type, nullable), in the common vocabulary.
type Columns = BTreeMap<(String, String), (String, bool)>;

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    col_type: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    col_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

fn normalise_sqlite_type(declared: &str) -> String {
    match declared.to_ascii_uppercase().as_str() {
        "BIGINT" => "bigint",
        "INTEGER" | "INT" => "integer",
        "TEXT" => "text",
        "BOOLEAN" | "BOOL" => "boolean",
        "TIMESTAMP" => "timestamp",
        "DATE" => "date",
        other => panic!("SQLite type {other:?} has no place in the common vocabulary"),
    }
    .to_string()
}

fn normalise_pg_type(data_type: &str) -> String {
    match data_type {
        "bigint" => "bigint",
        "integer" => "integer",
        "text" => "text",
        "boolean" => "boolean",
        "timestamp without time zone" => "timestamp",
        "date" => "date",
        other => panic!("PostgreSQL type {other:?} has no place in the common vocabulary"),
    }
    .to_string()
}

fn sqlite_columns(c: &mut diesel::SqliteConnection) -> Columns {
    let rows: Vec<SqliteColumn> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name, p.type AS col_type, \
                p.\"notnull\" AS not_null, p.pk AS pk \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
           AND m.name <> '__diesel_schema_migrations' \
           AND m.name NOT LIKE 'consultations_search%' \
           AND m.name <> 'consultation_changes'",
    )
    .load(c)
    .expect("read SQLite columns");
    // `INTEGER PRIMARY KEY` is the 64-bit rowid: bigint, and never NULL
    // (even though the pragma reports notnull = 0 for it).
    let mut pk_count: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        if r.pk > 0 {
            *pk_count.entry(r.table_name.clone()).or_default() += 1;
        }
    }
    rows.into_iter()
        .map(|r| {
            let rowid_alias = r.pk == 1
                && pk_count.get(&r.table_name) == Some(&1)
                && r.col_type.eq_ignore_ascii_case("INTEGER");
            let (ty, nullable) = if rowid_alias {
                ("bigint".to_string(), false)
            } else {
                (normalise_sqlite_type(&r.col_type), r.not_null == 0)
            };
            ((r.table_name, r.column_name), (ty, nullable))
        })
        .collect()
}

fn pg_columns(c: &mut diesel::PgConnection) -> Columns {
    let rows: Vec<PgColumn> = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                data_type::text AS col_type, is_nullable::text AS is_nullable \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load(c)
    .expect("read PostgreSQL columns");
    rows.into_iter()
        .map(|r| {
            (
                (r.table_name, r.column_name),
                (normalise_pg_type(&r.col_type), r.is_nullable == "YES"),
            )
        })
        .collect()
}

fn columns_of(db: &Db) -> Columns {
    let mut conn = db.conn().expect("connection");
    match &mut *conn {
        DbConn::Pg(c) => pg_columns(c),
        DbConn::Sqlite(c) => sqlite_columns(c),
    }
}

/// Primary keys and unique constraints: (table, "primary key" | "unique", columns in order).
type Keys = BTreeSet<(String, &'static str, String)>;

#[derive(QueryableByName)]
struct SqliteIndexColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = Integer)]
    is_unique: i32,
    #[diesel(sql_type = Integer)]
    seqno: i32,
    #[diesel(sql_type = Nullable<Text>)]
    column_name: Option<String>,
}

#[derive(QueryableByName)]
struct PgKey {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    columns: String,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Text)]
    columns: String,
    #[diesel(sql_type = Integer)]
    is_unique: i32,
}

/// Explicitly created indexes: (table, name, columns in order, unique).
type Indexes = BTreeSet<(String, String, String, bool)>;

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Nullable<Text>)]
    ref_column: Option<String>,
}

/// (table, column, referenced table, referenced column).
type ForeignKeys = BTreeSet<(String, String, String, String)>;

fn sqlite_keys_and_indexes(c: &mut diesel::SqliteConnection) -> (Keys, Indexes) {
    let mut keys = Keys::new();
    // Primary keys, from the column list (an INTEGER PRIMARY KEY has no index).
    let cols: Vec<SqliteColumn> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name, p.type AS col_type, \
                p.\"notnull\" AS not_null, p.pk AS pk \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
           AND m.name <> '__diesel_schema_migrations' \
           AND m.name NOT LIKE 'consultations_search%' \
           AND m.name <> 'consultation_changes' AND p.pk > 0 \
         ORDER BY m.name, p.pk",
    )
    .load(c)
    .expect("read SQLite primary keys");
    let mut pks: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for col in cols {
        pks.entry(col.table_name).or_default().push(col.column_name);
    }
    for (table, columns) in pks {
        keys.insert((table, "primary key", columns.join(",")));
    }
    let rows: Vec<SqliteIndexColumn> = diesel::sql_query(
        "SELECT m.name AS table_name, il.name AS index_name, il.origin AS origin, \
                il.\"unique\" AS is_unique, ii.seqno AS seqno, ii.name AS column_name \
         FROM sqlite_master m JOIN pragma_index_list(m.name) il \
              JOIN pragma_index_info(il.name) ii \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
           AND m.name <> '__diesel_schema_migrations' \
           AND m.name NOT LIKE 'consultations_search%' \
           AND m.name <> 'consultation_changes' \
         ORDER BY m.name, il.name, ii.seqno",
    )
    .load(c)
    .expect("read SQLite indexes");
    // (table, index) -> (origin, unique, [(position, column)])
    type IndexColumns = (String, bool, Vec<(i32, String)>);
    let mut by_index: BTreeMap<(String, String), IndexColumns> = BTreeMap::new();
    for r in rows {
        let entry = by_index
            .entry((r.table_name, r.index_name))
            .or_insert_with(|| (r.origin.clone(), r.is_unique != 0, Vec::new()));
        entry
            .2
            .push((r.seqno, r.column_name.unwrap_or_else(|| "<expr>".into())));
    }
    let mut indexes = Indexes::new();
    for ((table, name), (origin, unique, mut columns)) in by_index {
        columns.sort();
        let columns = columns
            .into_iter()
            .map(|(_, c)| c)
            .collect::<Vec<_>>()
            .join(",");
        match origin.as_str() {
            "u" => {
                keys.insert((table, "unique", columns));
            }
            // Already taken from the column list.
            "pk" => {}
            _ => {
                indexes.insert((table, name, columns, unique));
            }
        }
    }
    (keys, indexes)
}

fn pg_keys_and_indexes(c: &mut diesel::PgConnection) -> (Keys, Indexes) {
    let rows: Vec<PgKey> = diesel::sql_query(
        "SELECT cl.relname::text AS table_name, con.contype::text AS kind, \
                string_agg(a.attname::text, ',' ORDER BY k.ord) AS columns \
         FROM pg_constraint con \
         JOIN pg_class cl ON cl.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = cl.relnamespace \
         CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) \
         JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
         WHERE n.nspname = 'public' AND con.contype IN ('p', 'u') \
           AND cl.relname <> '__diesel_schema_migrations' \
         GROUP BY con.oid, cl.relname, con.contype",
    )
    .load(c)
    .expect("read PostgreSQL keys");
    let keys = rows
        .into_iter()
        .map(|r| {
            let kind = match r.kind.as_str() {
                "p" => "primary key",
                "u" => "unique",
                other => panic!("unexpected constraint kind {other}"),
            };
            (r.table_name, kind, r.columns)
        })
        .collect();
    let rows: Vec<PgIndex> = diesel::sql_query(
        "SELECT t.relname::text AS table_name, i.relname::text AS index_name, \
                string_agg(COALESCE(a.attname::text, '<expr>'), ',' ORDER BY k.ord) AS columns, \
                x.indisunique::int AS is_unique \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
         LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE n.nspname = 'public' AND t.relname <> '__diesel_schema_migrations' \
           AND i.relname NOT LIKE 'consultations_search%' \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) \
         GROUP BY t.relname, i.relname, x.indisunique",
    )
    .load(c)
    .expect("read PostgreSQL indexes");
    let indexes = rows
        .into_iter()
        .map(|r| (r.table_name, r.index_name, r.columns, r.is_unique != 0))
        .collect();
    (keys, indexes)
}

fn keys_and_indexes_of(db: &Db) -> (Keys, Indexes) {
    let mut conn = db.conn().expect("connection");
    match &mut *conn {
        DbConn::Pg(c) => pg_keys_and_indexes(c),
        DbConn::Sqlite(c) => sqlite_keys_and_indexes(c),
    }
}

fn foreign_keys_of(db: &Db) -> ForeignKeys {
    let mut conn = db.conn().expect("connection");
    let rows: Vec<ForeignKey> = match &mut *conn {
        DbConn::Pg(c) => diesel::sql_query(
            "SELECT cl.relname::text AS table_name, a.attname::text AS column_name, \
                    rcl.relname::text AS ref_table, ra.attname::text AS ref_column \
             FROM pg_constraint con \
             JOIN pg_class cl ON cl.oid = con.conrelid \
             JOIN pg_class rcl ON rcl.oid = con.confrelid \
             JOIN pg_namespace n ON n.oid = cl.relnamespace \
             CROSS JOIN LATERAL unnest(con.conkey, con.confkey) AS k(col, refcol) \
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.col \
             JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.refcol \
             WHERE n.nspname = 'public' AND con.contype = 'f'",
        )
        .load(c)
        .expect("read PostgreSQL foreign keys"),
        DbConn::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, f.\"from\" AS column_name, \
                    f.\"table\" AS ref_table, f.\"to\" AS ref_column \
             FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
               AND m.name <> '__diesel_schema_migrations' \
           AND m.name NOT LIKE 'consultations_search%' \
           AND m.name <> 'consultation_changes'",
        )
        .load(c)
        .expect("read SQLite foreign keys"),
    };
    rows.into_iter()
        .map(|r| {
            (
                r.table_name,
                r.column_name,
                r.ref_table,
                r.ref_column.unwrap_or_else(|| "<primary key>".into()),
            )
        })
        .collect()
}

// ---- what src/schema.rs says ------------------------------------------------------

/// Parses the `diesel::table!` blocks of src/schema.rs into the common vocabulary.
fn schema_rs_columns() -> Columns {
    let text = include_str!("../src/schema.rs");
    let mut columns = Columns::new();
    let mut in_macro = false;
    let mut table: Option<String> = None;
    // A second declaration of a table's other columns names it by `sql_name`.
    let mut sql_name: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("diesel::table!") {
            in_macro = true;
            continue;
        }
        if !in_macro {
            continue;
        }
        match &table {
            None => {
                if line == "}" {
                    in_macro = false;
                } else if let Some(name) = line
                    .strip_prefix("#[sql_name = \"")
                    .and_then(|s| s.strip_suffix("\"]"))
                {
                    sql_name = Some(name.to_string());
                } else if let Some((name, _)) = line.split_once(" (") {
                    assert!(line.ends_with('{'), "unexpected table header {line:?}");
                    table = Some(sql_name.take().unwrap_or_else(|| name.trim().to_string()));
                }
            }
            Some(t) => {
                if line == "}" {
                    table = None;
                } else if let Some((name, ty)) = line.split_once("->") {
                    let ty = ty.trim().trim_end_matches(',').trim();
                    let (ty, nullable) = match ty
                        .strip_prefix("Nullable<")
                        .and_then(|s| s.strip_suffix('>'))
                    {
                        Some(inner) => (inner, true),
                        None => (ty, false),
                    };
                    let ty = match ty {
                        "BigInt" => "bigint",
                        "Integer" => "integer",
                        "Text" => "text",
                        "Bool" => "boolean",
                        "Timestamp" => "timestamp",
                        "Date" => "date",
                        other => panic!("schema.rs type {other} is not in the common vocabulary"),
                    };
                    columns.insert(
                        (t.clone(), name.trim().to_string()),
                        (ty.to_string(), nullable),
                    );
                } else if !line.is_empty() && !line.starts_with("//") {
                    panic!("schema.rs: cannot read the line {line:?} of table {t}");
                }
            }
        }
    }
    columns
}

// ---- comparing -------------------------------------------------------------------

fn tables(columns: &Columns) -> BTreeSet<String> {
    columns.keys().map(|(t, _)| t.clone()).collect()
}

/// Lines describing every difference between two column sets; empty when equal.
fn column_differences(
    left_name: &str,
    left: &Columns,
    right_name: &str,
    right: &Columns,
) -> String {
    let mut out = String::new();
    let keys: BTreeSet<_> = left.keys().chain(right.keys()).collect();
    let show = |v: Option<&(String, bool)>| match v {
        None => "(missing)".to_string(),
        Some((ty, true)) => format!("{ty} NULL"),
        Some((ty, false)) => format!("{ty} NOT NULL"),
    };
    for key in keys {
        let (l, r) = (left.get(key), right.get(key));
        if l != r {
            out.push_str(&format!(
                "  {}.{}: {left_name} {} / {right_name} {}\n",
                key.0,
                key.1,
                show(l),
                show(r)
            ));
        }
    }
    out
}

fn set_differences<T: Ord + std::fmt::Debug>(
    left_name: &str,
    left: &BTreeSet<T>,
    right_name: &str,
    right: &BTreeSet<T>,
) -> String {
    let mut out = String::new();
    for x in left.difference(right) {
        out.push_str(&format!("  only on {left_name}: {x:?}\n"));
    }
    for x in right.difference(left) {
        out.push_str(&format!("  only on {right_name}: {x:?}\n"));
    }
    out
}

fn fresh_pair() -> (TestDatabase, TestDatabase) {
    assert_eq!(
        BACKENDS,
        [BackendKind::Sqlite, BackendKind::Postgres],
        "the parity tests compare exactly these two backends"
    );
    (
        TestDatabase::new(BackendKind::Sqlite),
        TestDatabase::new(BackendKind::Postgres),
    )
}

#[test]
fn sqlite_and_postgres_have_the_same_columns_types_and_nullability() {
    let (lite, pg) = fresh_pair();
    let (lite, pg) = (columns_of(&lite.db()), columns_of(&pg.db()));
    for table in EXPECTED_TABLES {
        assert!(
            tables(&lite).contains(*table),
            "SQLite has no table {table}"
        );
        assert!(
            tables(&pg).contains(*table),
            "PostgreSQL has no table {table}"
        );
    }
    let diff = column_differences("SQLite", &lite, "PostgreSQL", &pg);
    assert!(
        diff.is_empty(),
        "the SQLite and PostgreSQL migrations disagree:\n{diff}"
    );
}

#[test]
fn every_table_of_schema_rs_exists_on_both_backends() {
    let schema = schema_rs_columns();
    let declared = tables(&schema);
    for table in EXPECTED_TABLES {
        assert!(
            declared.contains(*table),
            "schema.rs was not read correctly: no table {table} (found {declared:?})"
        );
    }
    let (lite, pg) = fresh_pair();
    for (name, db) in [("SQLite", lite.db()), ("PostgreSQL", pg.db())] {
        let present = tables(&columns_of(&db));
        let missing: Vec<_> = declared.difference(&present).collect();
        assert!(
            missing.is_empty(),
            "{name} lacks tables declared in schema.rs: {missing:?}"
        );
        let undeclared: Vec<_> = present.difference(&declared).collect();
        assert!(
            undeclared.is_empty(),
            "{name} has tables that schema.rs does not declare: {undeclared:?}"
        );
    }
}

/// schema.rs is what diesel reads and writes with; a column that is NULL-able in
/// the database but not in schema.rs fails when a NULL is read, one of another
/// width fails on PostgreSQL only.
fn schema_rs_matches_the_migrated_database(backend: BackendKind) {
    let test_db = TestDatabase::new(backend);
    let actual = columns_of(&test_db.db());
    let declared = schema_rs_columns();
    let diff = column_differences("schema.rs", &declared, &format!("{backend:?}"), &actual);
    assert!(
        diff.is_empty(),
        "schema.rs and the {backend:?} migration disagree:\n{diff}"
    );
}

#[test]
fn sqlite_and_postgres_have_the_same_keys_and_indexes() {
    let (lite, pg) = fresh_pair();
    let (lite_keys, lite_indexes) = keys_and_indexes_of(&lite.db());
    let (pg_keys, pg_indexes) = keys_and_indexes_of(&pg.db());
    // The unique logins and the one conclusion per version must be there at all.
    assert!(
        lite_keys.contains(&("users".into(), "unique", "login".into())),
        "SQLite: users.login is not unique: {lite_keys:?}"
    );
    assert!(
        lite_keys.contains(&(
            "conclusions".into(),
            "unique",
            "consultation_id,version".into()
        )),
        "SQLite: conclusion versions are not unique: {lite_keys:?}"
    );
    let diff = set_differences("SQLite", &lite_keys, "PostgreSQL", &pg_keys);
    assert!(
        diff.is_empty(),
        "primary keys and unique constraints differ:\n{diff}"
    );
    assert!(
        !lite_indexes.is_empty(),
        "no explicitly created index was found on SQLite"
    );
    let diff = set_differences("SQLite", &lite_indexes, "PostgreSQL", &pg_indexes);
    assert!(diff.is_empty(), "indexes differ:\n{diff}");
}

#[test]
fn sqlite_and_postgres_have_the_same_foreign_keys() {
    let (lite, pg) = fresh_pair();
    let (lite, pg) = (foreign_keys_of(&lite.db()), foreign_keys_of(&pg.db()));
    assert!(
        lite.contains(&(
            "consultation_events".into(),
            "consultation_id".into(),
            "consultations".into(),
            "id".into()
        )),
        "SQLite: events do not reference their consultation: {lite:?}"
    );
    let diff = set_differences("SQLite", &lite, "PostgreSQL", &pg);
    assert!(diff.is_empty(), "foreign keys differ:\n{diff}");
}

// ---- behaviour that the catalogues do not show ---------------------------------------

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").expect("timestamp literal")
}

#[derive(QueryableByName, Debug, PartialEq)]
struct EventRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Text)]
    to_status: String,
    #[diesel(sql_type = Text)]
    comment: String,
}

fn event_rows(conn: &mut DbConn) -> Vec<EventRow> {
    let q = "SELECT id, action, to_status, comment FROM consultation_events ORDER BY id";
    match conn {
        DbConn::Pg(c) => diesel::sql_query(q).load(c),
        DbConn::Sqlite(c) => diesel::sql_query(q).load(c),
    }
    .expect("read events")
}

/// The event history is append-only on both backends: the database itself
/// refuses to rewrite or erase what happened to a request.
fn the_event_history_refuses_update_and_delete(backend: BackendKind) {
    let test_db = TestDatabase::new(backend);
    let db = test_db.db();
    let mut conn = db.conn().expect("connection");
    let conn: &mut DbConn = &mut conn;
    let now = at("2026-03-01 09:15:00.250000");
    conn.batch_execute(
        "INSERT INTO organizations (name, short_name, kind, time_zone, created_at) \
         VALUES ('ГБУЗ ЦРБ', 'ЦРБ', 'mo', 'Europe/Moscow', '2026-03-01 09:00:00'); \
         INSERT INTO users (login, password_hash, last_name, first_name, created_at) \
         VALUES ('doctor', 'x', 'Петров', 'Пётр', '2026-03-01 09:00:00'); \
         INSERT INTO consultations (status, requesting_org_id, requester_id, patient_name, \
             search_text, clinical, created_at, updated_at) \
         VALUES ('draft', 1, 1, 'Иванов Иван', 'иванов иван', '{}', \
             '2026-03-01 09:00:00', '2026-03-01 09:00:00');",
    )
    .expect("fixture rows");
    let event_id = repo::append_event(
        conn,
        &NewEvent {
            consultation_id: 1,
            at: now,
            actor_user_id: Some(1),
            actor_org_id: Some(1),
            actor_role: Some("doctor".into()),
            action: "submit".into(),
            from_status: Some("draft".into()),
            to_status: "submitted".into(),
            comment: "Прошу консультацию".into(),
            reason_code: None,
            details: "{}".into(),
        },
    )
    .expect("appending an event is allowed");
    let before = event_rows(conn);
    assert_eq!(before.len(), 1);

    let update = conn.batch_execute(&format!(
        "UPDATE consultation_events SET to_status = 'closed', comment = 'подделка' \
         WHERE id = {event_id}"
    ));
    let err = update.expect_err("an UPDATE of an event must be refused by the database");
    assert!(
        err.to_string().contains("not allowed"),
        "the UPDATE failed, but not because of the append-only trigger: {err}"
    );

    let delete = conn.batch_execute(&format!(
        "DELETE FROM consultation_events WHERE id = {event_id}"
    ));
    let err = delete.expect_err("a DELETE of an event must be refused by the database");
    assert!(
        err.to_string().contains("not allowed"),
        "the DELETE failed, but not because of the append-only trigger: {err}"
    );

    let bulk = conn.batch_execute("DELETE FROM consultation_events");
    assert!(
        bulk.is_err(),
        "a DELETE of the whole history must be refused"
    );

    assert_eq!(event_rows(conn), before, "the event changed");
    let events = repo::events(conn, 1).expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].at, now);
    assert_eq!(events[0].comment, "Прошу консультацию");
}

/// A text primary key must refuse NULL on both backends (PostgreSQL implies NOT
/// NULL for a primary key; SQLite does not, unless the column says so). A NULL
/// key makes the whole reference table unreadable through schema.rs.
fn text_primary_keys_refuse_null(backend: BackendKind) {
    let test_db = TestDatabase::new(backend);
    let db = test_db.db();
    let mut conn = db.conn().expect("connection");
    let conn: &mut DbConn = &mut conn;
    for (table, insert) in [
        (
            "deadline_policies",
            "INSERT INTO deadline_policies (form_of_care, minutes) VALUES (NULL, 120)",
        ),
        (
            "profiles",
            "INSERT INTO profiles (code, v002_code, name_ru, name_en, hint_ru, hint_en) \
             VALUES (NULL, NULL, 'Кардиология', 'Cardiology', '', '')",
        ),
        (
            "purposes",
            "INSERT INTO purposes (code, iemk_code, name_ru, name_en) \
             VALUES (NULL, 1, 'Диагноз', 'Diagnosis')",
        ),
        (
            "icd10",
            "INSERT INTO icd10 (code, name, parent_code, search, actual) \
             VALUES (NULL, 'Инфаркт', NULL, 'инфаркт', TRUE)",
        ),
    ] {
        assert!(
            conn.batch_execute(insert).is_err(),
            "{backend:?}: {table} accepted a row with a NULL primary key"
        );
    }
    // The reference readers keep working.
    assert!(repo::deadline_minutes(conn)
        .expect("deadline policies")
        .is_empty());
}

on_both_backends!(
    schema_rs_matches_the_migrated_database,
    the_event_history_refuses_update_and_delete,
    text_primary_keys_refuse_null,
);
