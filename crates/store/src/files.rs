//! Rows of attachments and of uploads in progress. The bytes themselves live in
//! the object store (see the service's `files` module).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::models::{Attachment, Document, NewAttachment, NewDocument, Upload};
use crate::schema::{
    attachments, document_signatures, documents, memberships, semd_documents, uploads,
};
use crate::{DbConn, StoreError};

type R<T> = Result<T, StoreError>;

pub fn insert_upload(conn: &mut DbConn, upload: &Upload) -> R<()> {
    diesel::insert_into(uploads::table)
        .values(upload)
        .execute(conn)?;
    Ok(())
}

pub fn upload(conn: &mut DbConn, id: &str) -> R<Option<Upload>> {
    Ok(uploads::table
        .find(id)
        .select(Upload::as_select())
        .first(conn)
        .optional()?)
}

/// Records what the finished bytes turned out to be, before they are moved.
pub fn set_upload_checked(
    conn: &mut DbConn,
    id: &str,
    sha256: &str,
    kind: &str,
    now: NaiveDateTime,
) -> R<()> {
    diesel::update(uploads::table.find(id))
        .set((
            uploads::sha256.eq(sha256),
            uploads::kind.eq(kind),
            uploads::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn touch_upload(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> R<()> {
    diesel::update(uploads::table.find(id))
        .set(uploads::updated_at.eq(now))
        .execute(conn)?;
    Ok(())
}

pub fn delete_upload(conn: &mut DbConn, id: &str) -> R<bool> {
    Ok(diesel::delete(uploads::table.find(id)).execute(conn)? > 0)
}

/// Uploads nobody has touched since `before`: abandoned, to be swept.
pub fn stale_uploads(conn: &mut DbConn, before: NaiveDateTime) -> R<Vec<Upload>> {
    Ok(uploads::table
        .filter(uploads::updated_at.lt(before))
        .select(Upload::as_select())
        .load(conn)?)
}

pub fn insert_attachment(conn: &mut DbConn, a: &NewAttachment) -> R<i64> {
    Ok(diesel::insert_into(attachments::table)
        .values(a)
        .returning(attachments::id)
        .get_result(conn)?)
}

pub fn attachment(conn: &mut DbConn, id: i64) -> R<Option<Attachment>> {
    Ok(attachments::table
        .find(id)
        .select(Attachment::as_select())
        .first(conn)
        .optional()?)
}

/// The attachment an upload became (an upload id is its storage key's last part).
pub fn attachment_by_key(conn: &mut DbConn, storage_key: &str) -> R<Option<Attachment>> {
    Ok(attachments::table
        .filter(attachments::storage_key.eq(storage_key))
        .select(Attachment::as_select())
        .first(conn)
        .optional()?)
}

/// The attachment a finished upload became (its key ends with the upload id).
pub fn attachment_of_upload(conn: &mut DbConn, upload_id: &str) -> R<Option<Attachment>> {
    if !upload_id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(attachments::table
        .filter(attachments::storage_key.like(format!("attachments/%/{upload_id}")))
        .select(Attachment::as_select())
        .first(conn)
        .optional()?)
}

pub fn attachments_of(conn: &mut DbConn, consultation_id: i64) -> R<Vec<Attachment>> {
    Ok(attachments::table
        .filter(attachments::consultation_id.eq(consultation_id))
        .order(attachments::id.asc())
        .select(Attachment::as_select())
        .load(conn)?)
}

/// Bytes a user holds: the files they attached and the uploads they are
/// still sending (counted at their announced length).
pub fn bytes_of_user(conn: &mut DbConn, user_id: i64) -> R<i64> {
    let stored: i64 = attachments::table
        .filter(attachments::uploaded_by.eq(user_id))
        .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "CAST(COALESCE(SUM(size), 0) AS BIGINT)",
        ))
        .first(conn)?;
    let staged: i64 = uploads::table
        .filter(uploads::user_id.eq(user_id))
        .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "CAST(COALESCE(SUM(length), 0) AS BIGINT)",
        ))
        .first(conn)?;
    Ok(stored + staged)
}

/// Bytes an organization holds: what its members attached and are uploading.
pub fn bytes_of_org(conn: &mut DbConn, org_id: i64) -> R<i64> {
    let members = memberships::table
        .filter(memberships::organization_id.eq(org_id))
        .select(memberships::user_id);
    let stored: i64 = attachments::table
        .filter(attachments::uploaded_by.eq_any(members))
        .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "CAST(COALESCE(SUM(size), 0) AS BIGINT)",
        ))
        .first(conn)?;
    let members = memberships::table
        .filter(memberships::organization_id.eq(org_id))
        .select(memberships::user_id);
    let staged: i64 = uploads::table
        .filter(uploads::user_id.eq_any(members))
        .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "CAST(COALESCE(SUM(length), 0) AS BIGINT)",
        ))
        .first(conn)?;
    Ok(stored + staged)
}

pub fn set_attachment_details(conn: &mut DbConn, id: i64, details: &str) -> R<()> {
    diesel::update(attachments::table.find(id))
        .set(attachments::details.eq(details))
        .execute(conn)?;
    Ok(())
}

pub fn document_of_conclusion(conn: &mut DbConn, conclusion_id: i64) -> R<Option<Document>> {
    Ok(documents::table
        .filter(documents::conclusion_id.eq(conclusion_id))
        .select(Document::as_select())
        .first(conn)
        .optional()?)
}

/// Every document of a consultation (one per signed conclusion version), oldest first.
pub fn documents_of(conn: &mut DbConn, consultation_id: i64) -> R<Vec<Document>> {
    Ok(documents::table
        .filter(documents::consultation_id.eq(consultation_id))
        .select(Document::as_select())
        .order(documents::version.asc())
        .load(conn)?)
}

pub fn documents_by_pdf(conn: &mut DbConn, pdf_sha256: &str) -> R<Vec<Document>> {
    Ok(documents::table
        .filter(documents::pdf_sha256.eq(pdf_sha256))
        .select(Document::as_select())
        .load(conn)?)
}

/// Fixes what a conclusion's document prints (its content JSON), once: a
/// second call for the same conclusion keeps the first.
pub fn insert_snapshot(
    conn: &mut DbConn,
    conclusion_id: i64,
    consultation_id: i64,
    content: &str,
    sealed_at: chrono::NaiveDateTime,
) -> R<()> {
    use crate::schema::document_snapshots as s;
    let exists: Option<i64> = s::table
        .find(conclusion_id)
        .select(s::conclusion_id)
        .first(conn)
        .optional()?;
    if exists.is_none() {
        diesel::insert_into(s::table)
            .values((
                s::conclusion_id.eq(conclusion_id),
                s::consultation_id.eq(consultation_id),
                s::content.eq(content),
                s::sealed_at.eq(sealed_at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The content fixed at signing, with when the document was sealed.
pub fn snapshot_of(
    conn: &mut DbConn,
    conclusion_id: i64,
) -> R<Option<(String, chrono::NaiveDateTime)>> {
    use crate::schema::document_snapshots as s;
    Ok(s::table
        .find(conclusion_id)
        .select((s::content, s::sealed_at))
        .first(conn)
        .optional()?)
}

/// Inserts the document unless one exists for the conclusion (two instances
/// rendering at once keep the first); returns the kept row.
pub fn insert_document(conn: &mut DbConn, d: &NewDocument) -> R<Document> {
    if let Some(existing) = document_of_conclusion(conn, d.conclusion_id)? {
        return Ok(existing);
    }
    diesel::insert_into(documents::table)
        .values(d)
        .execute(conn)?;
    document_of_conclusion(conn, d.conclusion_id)?.ok_or(StoreError::NotFound)
}

/// A signer's own detached CMS signature of a document.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = document_signatures)]
pub struct DocumentSignature {
    pub id: i64,
    pub document_id: i64,
    pub user_id: i64,
    /// The signature, DER in base64.
    pub cms: String,
    /// `valid` or `unsupported` (kept, algorithm not checked here).
    pub status: String,
    /// What was read from it (JSON).
    pub detail: String,
    pub created_at: NaiveDateTime,
    /// What it signs: `pdf` (the conclusion's PDF) or `semd` (its СЭМД).
    pub target: String,
}

/// A signer's CMS signature as kept.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = document_signatures)]
pub struct NewSignature<'a> {
    pub document_id: i64,
    pub user_id: i64,
    /// DER in base64.
    pub cms: &'a str,
    pub status: &'a str,
    pub detail: &'a str,
    /// `pdf` or `semd`.
    pub target: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert_signature(conn: &mut DbConn, sig: &NewSignature) -> R<i64> {
    Ok(diesel::insert_into(document_signatures::table)
        .values(sig)
        .returning(document_signatures::id)
        .get_result(conn)?)
}

pub fn signatures_of(conn: &mut DbConn, document_id: i64) -> R<Vec<DocumentSignature>> {
    Ok(document_signatures::table
        .filter(document_signatures::document_id.eq(document_id))
        .select(DocumentSignature::as_select())
        .order(document_signatures::id.asc())
        .load(conn)?)
}

// ---- СЭМД ----------------------------------------------------------------------

/// A conclusion version's СЭМД as stored at its last signature.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = semd_documents)]
pub struct SemdDocument {
    pub conclusion_id: i64,
    pub consultation_id: i64,
    pub version: i32,
    /// `ClinicalDocument/id/@extension`.
    pub document_id: String,
    pub xml: String,
    pub sha256: String,
    /// `created`, `signed`, `sent`, `registered` or `rejected`.
    pub status: String,
    /// РЭМД's error code (НСИ 1.2.643.5.1.13.13.99.2.305) when rejected.
    pub remd_error_code: Option<String>,
    pub status_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = semd_documents)]
pub struct NewSemdDocument<'a> {
    pub conclusion_id: i64,
    pub consultation_id: i64,
    pub version: i32,
    pub document_id: &'a str,
    pub xml: &'a str,
    pub sha256: &'a str,
    pub status: &'a str,
    pub status_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

pub fn insert_semd(conn: &mut DbConn, doc: &NewSemdDocument) -> R<()> {
    diesel::insert_into(semd_documents::table)
        .values(doc)
        .execute(conn)?;
    Ok(())
}

pub fn semd_of_conclusion(conn: &mut DbConn, conclusion_id: i64) -> R<Option<SemdDocument>> {
    Ok(semd_documents::table
        .find(conclusion_id)
        .select(SemdDocument::as_select())
        .first(conn)
        .optional()?)
}

/// Every version's СЭМД of a consultation, oldest first.
pub fn semd_of_consultation(conn: &mut DbConn, consultation_id: i64) -> R<Vec<SemdDocument>> {
    Ok(semd_documents::table
        .filter(semd_documents::consultation_id.eq(consultation_id))
        .order(semd_documents::version.asc())
        .select(SemdDocument::as_select())
        .load(conn)?)
}

/// Moves a СЭМД along its registration states (its content never changes).
pub fn set_semd_status(
    conn: &mut DbConn,
    conclusion_id: i64,
    status: &str,
    remd_error_code: Option<&str>,
    at: NaiveDateTime,
) -> R<()> {
    diesel::update(semd_documents::table.find(conclusion_id))
        .set((
            semd_documents::status.eq(status),
            semd_documents::remd_error_code.eq(remd_error_code),
            semd_documents::status_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Signatures over a conclusion's СЭМД (kept with its PDF document's row).
pub fn semd_signers(conn: &mut DbConn, document_id: i64) -> R<Vec<i64>> {
    Ok(document_signatures::table
        .filter(document_signatures::document_id.eq(document_id))
        .filter(document_signatures::target.eq("semd"))
        .filter(document_signatures::status.ne("invalid"))
        .select(document_signatures::user_id)
        .load(conn)?)
}
