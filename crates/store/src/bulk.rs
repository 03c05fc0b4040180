//! Multi-row inserts for the data generator (`rtms admin generate`): a region
//! or a federal level of years of requests written in large batches.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::dsl::max;
use diesel::prelude::*;

use crate::models::{ConsultationWrite, NewAttachment, NewEvent};
use crate::schema::*;
use crate::{DbConn, StoreError};

type R<T> = Result<T, StoreError>;

/// A request with the id the generator chose, so its history can refer to it
/// within the same batch.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = consultations)]
pub struct BulkConsultation {
    pub id: i64,
    #[diesel(embed)]
    pub row: ConsultationWrite,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = consultation_consultants, treat_none_as_null = true)]
pub struct BulkConsultant {
    pub consultation_id: i64,
    pub user_id: i64,
    pub assigned_at: NaiveDateTime,
    pub signed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = messages)]
pub struct BulkMessage {
    pub consultation_id: i64,
    pub author_id: i64,
    pub author_role: String,
    pub kind: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = conclusions, treat_none_as_null = true)]
pub struct BulkConclusion {
    pub consultation_id: i64,
    pub version: i32,
    pub author_id: i64,
    pub diagnosis_main: String,
    pub diagnosis_text: String,
    pub findings: String,
    pub recommendations: String,
    pub transfer: String,
    pub follow_up_needed: bool,
    pub follow_up: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub signed_at: Option<NaiveDateTime>,
    pub content_hash: Option<String>,
}

/// Rows of one batch, inserted together in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    pub consultations: Vec<BulkConsultation>,
    pub consultants: Vec<BulkConsultant>,
    pub events: Vec<NewEvent>,
    pub messages: Vec<BulkMessage>,
    pub conclusions: Vec<BulkConclusion>,
    pub attachments: Vec<NewAttachment>,
}

impl Batch {
    pub fn rows(&self) -> usize {
        self.consultations.len()
            + self.consultants.len()
            + self.events.len()
            + self.messages.len()
            + self.conclusions.len()
            + self.attachments.len()
    }
}

/// Bind parameters per statement: under SQLite's limit (32,766) and
/// PostgreSQL's (65,535).
const PARAMS: usize = 30_000;

macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr, $columns:expr) => {
        for chunk in $rows.chunks(PARAMS / $columns) {
            match $conn {
                DbConn::Pg(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                DbConn::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c)?,
            };
        }
    };
}

/// Writes a batch; the caller holds the transaction.
pub fn insert_batch(conn: &mut DbConn, b: &Batch) -> R<()> {
    insert_rows!(conn, consultations::table, b.consultations, 31);
    insert_rows!(conn, consultation_consultants::table, b.consultants, 4);
    insert_rows!(conn, consultation_events::table, b.events, 11);
    insert_rows!(conn, messages::table, b.messages, 6);
    insert_rows!(conn, conclusions::table, b.conclusions, 14);
    insert_rows!(conn, attachments::table, b.attachments, 12);
    // What reports count of each history, as `repo::append_event` keeps it.
    if let (Some(first), Some(last)) = (b.consultations.first(), b.consultations.last()) {
        crate::repo::derive_report_facts(conn, first.id.min(last.id), first.id.max(last.id))?;
    }
    Ok(())
}

/// The first free request id.
pub fn next_consultation_id(conn: &mut DbConn) -> R<i64> {
    let top: Option<i64> = consultations::table
        .select(max(consultations::id))
        .first(conn)?;
    Ok(top.unwrap_or(0) + 1)
}

/// How many requests there are.
pub fn count_consultations(conn: &mut DbConn) -> R<i64> {
    Ok(consultations::table.count().get_result(conn)?)
}

/// Up to `limit` current МКБ-10 codes of the clinical chapters (A–T), for
/// diagnoses.
pub fn icd10_codes(conn: &mut DbConn, limit: i64) -> R<Vec<String>> {
    Ok(icd10::table
        .filter(icd10::actual.eq(true))
        .filter(icd10::code.lt("U"))
        .filter(icd10::code.like("___._"))
        .select(icd10::code)
        .order(icd10::code.asc())
        .limit(limit)
        .load(conn)?)
}

/// After explicit ids: PostgreSQL's sequence moves past them (SQLite's
/// AUTOINCREMENT already has) and its planner's statistics are refreshed, as
/// autovacuum would. SQLite's search indexes are merged into one segment each (a
/// batch per transaction leaves many); SQLite is left without `ANALYZE`
/// statistics, as an installation runs.
pub fn finish(conn: &mut DbConn) -> R<()> {
    match conn {
        DbConn::Pg(c) => c.batch_execute(
            "SELECT setval(pg_get_serial_sequence('consultations', 'id'), \
                 (SELECT COALESCE(MAX(id), 1) FROM consultations)); \
             ANALYZE;",
        )?,
        DbConn::Sqlite(c) => c.batch_execute(
            "INSERT INTO consultations_search (consultations_search) VALUES ('optimize'); \
             INSERT INTO consultations_search_words (consultations_search_words) VALUES ('optimize');",
        )?,
    }
    Ok(())
}
