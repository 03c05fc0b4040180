//! Repositories: plain functions over a connection. Business rules live in the
//! service layer; these only read and write rows.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use crate::conn::MultiBackend;
use crate::counts::ListCounts;
use crate::in_list::in_list;
use crate::models::*;
use crate::schema::*;
use crate::{BackendKind, DbConn, StoreError};

type R<T> = Result<T, StoreError>;

// ---- organizations --------------------------------------------------------

pub fn insert_organization(conn: &mut DbConn, org: &NewOrganization) -> R<i64> {
    Ok(diesel::insert_into(organizations::table)
        .values(org)
        .returning(organizations::id)
        .get_result(conn)?)
}

pub fn organization(conn: &mut DbConn, id: i64) -> R<Organization> {
    Ok(organizations::table
        .find(id)
        .select(Organization::as_select())
        .first(conn)?)
}

pub fn organizations(conn: &mut DbConn, kind: Option<&str>) -> R<Vec<Organization>> {
    let mut q = organizations::table
        .select(Organization::as_select())
        .into_boxed();
    if let Some(kind) = kind {
        q = q.filter(organizations::kind.eq(kind.to_string()));
    }
    Ok(q.order(organizations::name.asc()).load(conn)?)
}

// ---- users and memberships ---------------------------------------------------

pub fn insert_user(conn: &mut DbConn, user: &NewUser) -> R<i64> {
    Ok(diesel::insert_into(users::table)
        .values(user)
        .returning(users::id)
        .get_result(conn)?)
}

pub fn user(conn: &mut DbConn, id: i64) -> R<User> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)?)
}

pub fn users_by_ids(conn: &mut DbConn, ids: &[i64]) -> R<Vec<User>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select(User::as_select())
        .load(conn)?)
}

pub fn user_by_login(conn: &mut DbConn, login: &str) -> R<Option<User>> {
    Ok(users::table
        .filter(users::login.eq(login))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn set_password(conn: &mut DbConn, user_id: i64, hash: &str, must_change: bool) -> R<()> {
    let n = diesel::update(users::table.find(user_id))
        .set((
            users::password_hash.eq(hash),
            users::must_change_password.eq(must_change),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn add_membership(conn: &mut DbConn, user_id: i64, org_id: i64, role: &str) -> R<()> {
    diesel::insert_into(memberships::table)
        .values((
            memberships::user_id.eq(user_id),
            memberships::organization_id.eq(org_id),
            memberships::role.eq(role),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn memberships_of(conn: &mut DbConn, user_id: i64) -> R<Vec<Membership>> {
    Ok(memberships::table
        .filter(memberships::user_id.eq(user_id))
        .select(Membership::as_select())
        .order(memberships::id.asc())
        .load(conn)?)
}

/// A user's memberships with their organizations, in one statement.
pub fn memberships_with_orgs(
    conn: &mut DbConn,
    user_id: i64,
) -> R<Vec<(Membership, Organization)>> {
    // Every request runs this: on the backend's own connection.
    Ok(crate::on_backend!(conn, c => memberships::table
        .inner_join(organizations::table)
        .filter(memberships::user_id.eq(user_id))
        .select((Membership::as_select(), Organization::as_select()))
        .order(memberships::id.asc())
        .load(c))?)
}

pub fn add_user_profile(conn: &mut DbConn, user_id: i64, profile: &str) -> R<()> {
    diesel::insert_into(user_profiles::table)
        .values((
            user_profiles::user_id.eq(user_id),
            user_profiles::profile_code.eq(profile),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn profiles_of(conn: &mut DbConn, user_id: i64) -> R<Vec<String>> {
    Ok(user_profiles::table
        .filter(user_profiles::user_id.eq(user_id))
        .select(user_profiles::profile_code)
        .order(user_profiles::profile_code.asc())
        .load(conn)?)
}

/// A consultant with where they work and how many open consultations they hold.
#[derive(Debug, Clone)]
pub struct ConsultantLoad {
    pub user: User,
    pub organization_id: i64,
    pub profiles: Vec<String>,
    pub open_consultations: i64,
}

pub fn consultants(
    conn: &mut DbConn,
    profile: Option<&str>,
    tkc_id: Option<i64>,
) -> R<Vec<ConsultantLoad>> {
    let mut q = memberships::table
        .inner_join(users::table)
        .filter(memberships::role.eq("consultant"))
        .filter(users::active.eq(true))
        .select((User::as_select(), memberships::organization_id))
        .into_boxed();
    if let Some(tkc) = tkc_id {
        q = q.filter(memberships::organization_id.eq(tkc));
    }
    if let Some(p) = profile {
        let with_profile = user_profiles::table
            .filter(user_profiles::profile_code.eq(p.to_string()))
            .select(user_profiles::user_id);
        q = q.filter(users::id.eq_any(with_profile));
    }
    let rows: Vec<(User, i64)> = q.order(users::last_name.asc()).load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|(u, _)| u.id).collect();
    let loads: Vec<(i64, i64)> = consultation_consultants::table
        .inner_join(consultations::table)
        .filter(consultation_consultants::user_id.eq_any(&ids))
        .filter(consultations::status.eq_any(["assigned", "accepted", "scheduled", "in_progress"]))
        .group_by(consultation_consultants::user_id)
        .select((consultation_consultants::user_id, count_star()))
        .load(conn)?;
    let all_profiles: Vec<(i64, String)> = user_profiles::table
        .filter(user_profiles::user_id.eq_any(&ids))
        .select((user_profiles::user_id, user_profiles::profile_code))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(user, organization_id)| ConsultantLoad {
            open_consultations: loads
                .iter()
                .find(|(id, _)| *id == user.id)
                .map_or(0, |(_, n)| *n),
            profiles: all_profiles
                .iter()
                .filter(|(id, _)| *id == user.id)
                .map(|(_, p)| p.clone())
                .collect(),
            organization_id,
            user,
        })
        .collect())
}

// ---- API tokens ---------------------------------------------------------------

/// A token to issue: `kind` is `api` (integrations), `session` (a browser's
/// sign-in) or `pending` (password checked, second factor awaited).
#[derive(Debug, Clone, Default)]
pub struct NewToken<'a> {
    pub user_id: i64,
    pub token_hash: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub scopes: &'a str,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

pub fn insert_token(
    conn: &mut DbConn,
    t: &NewToken,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> R<i64> {
    Ok(diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(t.user_id),
            api_tokens::kind.eq(t.kind),
            api_tokens::token_hash.eq(t.token_hash),
            api_tokens::name.eq(t.name),
            api_tokens::scopes.eq(t.scopes),
            api_tokens::ip.eq(t.ip),
            api_tokens::user_agent.eq(t.user_agent),
            api_tokens::created_at.eq(now),
            api_tokens::expires_at.eq(expires_at),
        ))
        .returning(api_tokens::id)
        .get_result(conn)?)
}

/// A token with its user, in one statement: every authenticated request reads it.
pub fn token_with_user(conn: &mut DbConn, token_hash: &str) -> R<Option<(Token, User)>> {
    // Every request runs this: on the backend's own connection.
    Ok(crate::on_backend!(conn, c => api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .select((Token::as_select(), User::as_select()))
        .first(c)
        .optional())?)
}

/// A token by its hash, whatever its state.
pub fn token_by_hash(conn: &mut DbConn, token_hash: &str) -> R<Option<Token>> {
    Ok(api_tokens::table
        .filter(api_tokens::token_hash.eq(token_hash))
        .select(Token::as_select())
        .first(conn)
        .optional()?)
}

pub fn touch_token(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> R<()> {
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::last_seen_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// A user's live tokens of a kind, newest first.
pub fn tokens_of(conn: &mut DbConn, user_id: i64, kind: &str, now: NaiveDateTime) -> R<Vec<Token>> {
    Ok(api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .filter(api_tokens::kind.eq(kind.to_string()))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::expires_at.gt(now))
        .select(Token::as_select())
        .order(api_tokens::id.desc())
        .load(conn)?)
}

/// Revokes one of a user's tokens; false when it is not theirs.
pub fn revoke_token_of(conn: &mut DbConn, user_id: i64, id: i64, now: NaiveDateTime) -> R<bool> {
    let n = diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(id))
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(n > 0)
}

/// Revokes every live token of a user of a kind except one (e.g. "end my other sessions").
pub fn revoke_tokens_of(
    conn: &mut DbConn,
    user_id: i64,
    kind: &str,
    except_id: Option<i64>,
    now: NaiveDateTime,
) -> R<usize> {
    Ok(diesel::update(
        api_tokens::table
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::kind.eq(kind.to_string()))
            .filter(api_tokens::revoked_at.is_null())
            .filter(api_tokens::id.ne(except_id.unwrap_or(-1))),
    )
    .set(api_tokens::revoked_at.eq(now))
    .execute(conn)?)
}

pub fn set_login_failures(
    conn: &mut DbConn,
    user_id: i64,
    failed: i32,
    locked_until: Option<NaiveDateTime>,
) -> R<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::failed_logins.eq(failed),
            users::locked_until.eq(locked_until),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_totp(conn: &mut DbConn, user_id: i64, secret: Option<&str>, enabled: bool) -> R<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::totp_secret.eq(secret),
            users::totp_enabled.eq(enabled),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn setting(conn: &mut DbConn, key: &str) -> R<Option<String>> {
    Ok(settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
        .optional()?)
}

pub fn set_setting(conn: &mut DbConn, key: &str, value: &str) -> R<()> {
    let n = diesel::update(settings::table.find(key))
        .set(settings::value.eq(value))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(settings::table)
            .values((settings::key.eq(key), settings::value.eq(value)))
            .execute(conn)?;
    }
    Ok(())
}

pub fn delete_setting(conn: &mut DbConn, key: &str) -> R<()> {
    diesel::delete(settings::table.find(key)).execute(conn)?;
    Ok(())
}

// ---- routes and deadlines ------------------------------------------------------

pub fn insert_route(
    conn: &mut DbConn,
    profile: &str,
    form: &str,
    tkc_id: i64,
    consultant_id: Option<i64>,
) -> R<()> {
    diesel::insert_into(routes::table)
        .values((
            routes::profile_code.eq(profile),
            routes::form_of_care.eq(form),
            routes::tkc_id.eq(tkc_id),
            routes::consultant_id.eq(consultant_id),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn route(conn: &mut DbConn, profile: &str, form: &str) -> R<Option<Route>> {
    Ok(routes::table
        .filter(routes::profile_code.eq(profile))
        .filter(routes::form_of_care.eq(form))
        .select(Route::as_select())
        .first(conn)
        .optional()?)
}

pub fn deadline_minutes(conn: &mut DbConn) -> R<Vec<(String, i64)>> {
    Ok(deadline_policies::table
        .select((deadline_policies::form_of_care, deadline_policies::minutes))
        .load(conn)?)
}

pub fn set_deadline_minutes(conn: &mut DbConn, form: &str, minutes: i64) -> R<()> {
    let n = diesel::update(deadline_policies::table.find(form))
        .set(deadline_policies::minutes.eq(minutes))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(deadline_policies::table)
            .values((
                deadline_policies::form_of_care.eq(form),
                deadline_policies::minutes.eq(minutes),
            ))
            .execute(conn)?;
    }
    Ok(())
}

// ---- consultations -------------------------------------------------------------

pub fn insert_consultation(conn: &mut DbConn, row: &ConsultationWrite) -> R<i64> {
    Ok(diesel::insert_into(consultations::table)
        .values(row)
        .returning(consultations::id)
        .get_result(conn)?)
}

pub fn consultation(conn: &mut DbConn, id: i64) -> R<Consultation> {
    Ok(consultations::table
        .find(id)
        .select(Consultation::as_select())
        .first(conn)?)
}

/// Writes a consultation read at `expected_version`; fails with `Conflict` when
/// somebody else wrote it in between. The stored version becomes `expected + 1`.
pub fn update_consultation(
    conn: &mut DbConn,
    id: i64,
    expected_version: i32,
    row: &ConsultationWrite,
) -> R<()> {
    let mut row = row.clone();
    row.version = expected_version + 1;
    let n = diesel::update(
        consultations::table
            .filter(consultations::id.eq(id))
            .filter(consultations::version.eq(expected_version)),
    )
    .set(&row)
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Who may see which consultations.
#[derive(Debug, Clone, Default)]
pub struct Visibility {
    /// The whole region (dispatchers).
    pub all: bool,
    /// Requests of these organizations (doctors, heads).
    pub requesting_orgs: Vec<i64>,
    /// Requests assigned to these consultation centres (coordinators).
    pub assigned_tkcs: Vec<i64>,
    /// Requests on which this user is a consultant.
    pub consultant: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ConsultationFilter {
    pub statuses: Vec<String>,
    pub form_of_care: Option<String>,
    pub profile: Option<String>,
    pub requesting_org: Option<i64>,
    pub assigned_tkc: Option<i64>,
    /// Only overdue (true) or only not overdue (false).
    pub overdue: Option<bool>,
    /// Lower-case words of a patient name or digits of a number.
    pub q: Option<String>,
    pub now: Option<NaiveDateTime>,
}

pub const OPEN_STATES: &[&str] = &[
    "awaiting_approval",
    "submitted",
    "in_review",
    "returned",
    "assigned",
    "accepted",
    "scheduled",
    "in_progress",
    "escalated",
];

type BoxedConsultations<'a> = consultations::BoxedQuery<'a, MultiBackend>;

/// How the words of a search are looked up. Parts of a name are matched by
/// word prefix (`иван` finds Иванов and Иванова); anything with a digit (СНИЛС,
/// policy) by any part of it, through the trigram index; one-letter parts and
/// numbers shorter than three digits by `LIKE` on the rows the others found.
#[derive(Debug, Default)]
struct SearchTerms {
    prefixes: Vec<String>,
    numbers: Vec<String>,
    short: Vec<String>,
    /// A whole СНИЛС (eleven digits, however spaced): looked up exactly.
    snils: Option<String>,
}

fn search_terms(f: &ConsultationFilter) -> SearchTerms {
    let mut t = SearchTerms::default();
    let Some(q) = f.q.as_deref() else {
        return t;
    };
    let digits: String = q
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.len() == 11 && digits.bytes().all(|b| b.is_ascii_digit()) {
        t.snils = Some(digits);
        return t;
    }
    for word in q.split_whitespace() {
        let word = word.replace(['\\', '%', '_', '"', '\''], "");
        if word.is_empty() {
            continue;
        }
        if word.chars().any(|c| c.is_ascii_digit()) {
            if word.chars().count() >= 3 {
                t.numbers.push(word);
            } else {
                t.short.push(word);
            }
            continue;
        }
        // Both backends' tokenizers cut words at what is not a letter or digit;
        // a word of punctuation alone is looked for as it is.
        if !word.chars().any(char::is_alphanumeric) {
            t.short.push(word);
            continue;
        }
        for part in word.split(|c: char| !c.is_alphanumeric()) {
            match part.chars().count() {
                0 => {}
                1 => t.short.push(part.to_string()),
                _ => t.prefixes.push(part.to_string()),
            }
        }
    }
    t
}

/// SQLite's full-text queries: (word prefixes, trigram phrases).
fn fts_queries(t: &SearchTerms) -> (Option<String>, Option<String>) {
    let join = |v: Vec<String>| (!v.is_empty()).then(|| v.join(" AND "));
    (
        join(t.prefixes.iter().map(|w| format!("\"{w}\"*")).collect()),
        join(t.numbers.iter().map(|w| format!("\"{w}\"")).collect()),
    )
}

/// PostgreSQL's full-text query for the word prefixes (`иван:* & анна:*`);
/// the parts are letters and digits only, so none needs quoting.
fn ts_query(t: &SearchTerms) -> Option<String> {
    (!t.prefixes.is_empty()).then(|| {
        t.prefixes
            .iter()
            .map(|w| format!("{w}:*"))
            .collect::<Vec<_>>()
            .join(" & ")
    })
}

const WORDS_MATCH: &str =
    "SELECT rowid AS id FROM consultations_search_words WHERE consultations_search_words MATCH ";
const TRIGRAMS_MATCH: &str =
    "SELECT rowid AS id FROM consultations_search WHERE consultations_search MATCH ";

/// A search matching at most this many requests is looked up in SQLite's
/// full-text indexes once per list, not once per query of the list.
const FOUND_LIMIT: i64 = 5_000;

#[derive(QueryableByName)]
struct FoundRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// PostgreSQL's full-text condition on the search text, closed by `)`.
const TS_MATCH: &str = "to_tsvector('simple'::regconfig, consultations.search_text) \
                        @@ to_tsquery('simple'::regconfig, ";

/// A list's search, worked out once per list: its terms, and the requests
/// the full-text indexes find for it (SQLite: words and numbers; PostgreSQL:
/// words) when there are few enough to pass as a list, so that the index is
/// asked once per list, not once per query of the list.
#[derive(Debug, Default)]
struct Search {
    terms: SearchTerms,
    found: Option<Vec<i64>>,
}

fn prepare_search(conn: &mut DbConn, f: &ConsultationFilter) -> R<Search> {
    use diesel::sql_types::{BigInt, Text};
    let terms = search_terms(f);
    // None: nothing for an index to look up.
    let rows: Option<Vec<FoundRow>> = match conn {
        DbConn::Pg(c) => match ts_query(&terms) {
            None => None,
            Some(query) => Some(
                diesel::sql_query(format!(
                    "SELECT id FROM consultations WHERE {TS_MATCH}$1) LIMIT $2"
                ))
                .bind::<Text, _>(query)
                .bind::<BigInt, _>(FOUND_LIMIT + 1)
                .load(c)?,
            ),
        },
        DbConn::Sqlite(c) => {
            let (words, numbers) = fts_queries(&terms);
            let parts: Vec<(&str, String)> = [(WORDS_MATCH, words), (TRIGRAMS_MATCH, numbers)]
                .into_iter()
                .filter_map(|(sql, query)| query.map(|q| (sql, q)))
                .collect();
            if parts.is_empty() {
                None
            } else {
                let matches: Vec<String> = parts.iter().map(|(sql, _)| format!("{sql}?")).collect();
                let mut q = diesel::sql_query(format!(
                    "SELECT id FROM ({}) LIMIT ?",
                    matches.join(" INTERSECT ")
                ))
                .into_boxed::<diesel::sqlite::Sqlite>();
                for (_, query) in parts {
                    q = q.bind::<Text, _>(query);
                }
                Some(q.bind::<BigInt, _>(FOUND_LIMIT + 1).load(c)?)
            }
        }
    };
    let found = rows
        .filter(|r| r.len() as i64 <= FOUND_LIMIT)
        .map(|r| r.into_iter().map(|r| r.id).collect());
    Ok(Search { terms, found })
}

/// `search`: what [`prepare_search`] worked out for `f`, used instead of
/// asking the index again.
fn filtered<'a>(
    vis: &Visibility,
    f: &ConsultationFilter,
    backend: BackendKind,
    search: &Search,
) -> BoxedConsultations<'a> {
    let mut q = consultations::table.into_boxed::<MultiBackend>();
    if vis.all {
        // A draft, and a planned request awaiting the head's approval, stay inside
        // the requesting organization until they are sent to the region.
        q = q.filter(
            consultations::status
                .ne("draft")
                .and(consultations::status.ne("awaiting_approval"))
                .or(in_list(
                    consultations::requesting_org_id,
                    &vis.requesting_orgs,
                )),
        );
    } else {
        let consultant = vis.consultant.unwrap_or(-1);
        let mine = consultation_consultants::table
            .filter(consultation_consultants::user_id.eq(consultant))
            .select(consultation_consultants::consultation_id);
        // Literal lists here: SQLite's planner can then serve each branch of
        // the OR from an index.
        q = q.filter(
            consultations::requesting_org_id
                .eq_any(vis.requesting_orgs.clone())
                .or(consultations::assigned_tkc_id
                    .eq_any(vis.assigned_tkcs.clone())
                    .assume_not_null())
                .or(consultations::id.eq_any(mine)),
        );
    }
    let all_open = f.statuses.len() == OPEN_STATES.len()
        && OPEN_STATES
            .iter()
            .all(|s| f.statuses.iter().any(|x| x == s));
    if all_open {
        // The same rows: `closed_at` is set exactly when a request leaves the
        // open states (drafts have none either). So the partial index on open
        // requests answers the queue from the index alone.
        q = q
            .filter(consultations::closed_at.is_null())
            .filter(consultations::status.ne("draft"));
    } else if !f.statuses.is_empty() {
        // One state is an equality, which lets the archive walk the
        // (status, id) index in order; a literal list otherwise.
        q = match f.statuses.as_slice() {
            [one] => q.filter(consultations::status.eq(one.clone())),
            many => q.filter(consultations::status.eq_any(many.to_vec())),
        };
    }
    if let Some(form) = &f.form_of_care {
        q = q.filter(consultations::form_of_care.eq(form.clone()));
    }
    if let Some(p) = &f.profile {
        q = q.filter(consultations::profile.eq(p.clone()));
    }
    if let Some(org) = f.requesting_org {
        q = q.filter(consultations::requesting_org_id.eq(org));
    }
    if let Some(tkc) = f.assigned_tkc {
        q = q.filter(consultations::assigned_tkc_id.eq(tkc));
    }
    if let (Some(overdue), Some(now)) = (f.overdue, f.now) {
        let is_overdue = consultations::status
            .eq_any(OPEN_STATES)
            .and(consultations::deadline_at.is_not_null())
            .and(
                consultations::paused_at
                    .is_null()
                    .and(consultations::deadline_at.lt(now))
                    .or(consultations::paused_at
                        .is_not_null()
                        .and(consultations::paused_at.gt(consultations::deadline_at))),
            )
            .assume_not_null();
        q = if overdue {
            q.filter(is_overdue)
        } else {
            q.filter(diesel::dsl::not(is_overdue))
        };
    }
    if f.q.is_some() {
        let terms = &search.terms;
        let mut like: Vec<&String> = terms.short.iter().collect();
        if let Some(snils) = &terms.snils {
            q = q.filter(consultations::patient_snils.eq(snils.clone()));
        }
        match (backend, search.found.as_deref()) {
            // SQLite's ids answer the words and the numbers; PostgreSQL's the words.
            (_, Some(ids)) => {
                // A literal list: SQLite walks it by rowid in the order asked
                // for (a `json_each` subquery here took twice as long).
                q = q.filter(consultations::id.eq_any(ids.to_vec()));
                if backend == BackendKind::Postgres {
                    like.extend(terms.numbers.iter());
                }
            }
            (BackendKind::Sqlite, None) => {
                let (words, numbers) = fts_queries(terms);
                for (sql, query) in [(WORDS_MATCH, words), (TRIGRAMS_MATCH, numbers)] {
                    if let Some(query) = query {
                        q = q.filter(
                            diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
                                "consultations.id IN ({sql}"
                            ))
                            .bind::<diesel::sql_types::Text, _>(query)
                            .sql(")"),
                        );
                    }
                }
            }
            // pg_trgm serves LIKE on the numbers; the word prefixes go through
            // the full-text index on the same text.
            (BackendKind::Postgres, None) => {
                like.extend(terms.numbers.iter());
                if let Some(query) = ts_query(terms) {
                    q = q.filter(
                        diesel::dsl::sql::<diesel::sql_types::Bool>(TS_MATCH)
                            .bind::<diesel::sql_types::Text, _>(query)
                            .sql(")"),
                    );
                }
            }
        }
        for word in like {
            q = q.filter(consultations::search_text.like(format!("%{word}%")));
        }
    }
    q
}

/// Beyond this many matching closed requests the list says "more than"
/// instead of counting them all: an exact count of a million rows costs more
/// than the page. Open requests are always counted exactly.
pub const COUNT_LIMIT: i64 = 1_000;

fn backend_of(conn: &DbConn) -> BackendKind {
    match conn {
        DbConn::Pg(_) => BackendKind::Postgres,
        DbConn::Sqlite(_) => BackendKind::Sqlite,
    }
}

/// A list row: only what a list shows and its deadline needs, 17 columns of
/// the request's 33. Each column read costs SQLite and diesel about 900
/// instructions, so a page of 50 reads 800 fewer than whole rows would.
#[derive(Queryable)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ListRow {
    id: i64,
    status: String,
    requesting_org_id: i64,
    requester_id: i64,
    assigned_tkc_id: Option<i64>,
    form_of_care: Option<String>,
    profile: Option<String>,
    patient_name: String,
    #[diesel(deserialize_as = crate::stamp::MaybeDay)]
    patient_birth_date: Option<chrono::NaiveDate>,
    diagnosis_main: Option<String>,
    #[diesel(deserialize_as = crate::stamp::Stamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::stamp::MaybeStamp)]
    submitted_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::stamp::MaybeStamp)]
    deadline_at: Option<NaiveDateTime>,
    budget_seconds: i64,
    #[diesel(deserialize_as = crate::stamp::MaybeStamp)]
    paused_at: Option<NaiveDateTime>,
    paused_seconds: i64,
    #[diesel(deserialize_as = crate::stamp::MaybeStamp)]
    closed_at: Option<NaiveDateTime>,
}

impl ListRow {
    /// The request with what a list does not read left empty (`updated_at`
    /// is the creation time, `version` 0).
    fn into_consultation(self) -> Consultation {
        Consultation {
            id: self.id,
            status: self.status,
            requesting_org_id: self.requesting_org_id,
            requester_id: self.requester_id,
            assigned_tkc_id: self.assigned_tkc_id,
            form_of_care: self.form_of_care,
            mode: None,
            profile: self.profile,
            purpose: None,
            patient_name: self.patient_name,
            patient_birth_date: self.patient_birth_date,
            patient_snils: None,
            patient_oms: None,
            diagnosis_main: self.diagnosis_main,
            search_text: String::new(),
            clinical: String::new(),
            created_at: self.created_at,
            updated_at: self.created_at,
            submitted_at: self.submitted_at,
            deadline_at: self.deadline_at,
            budget_seconds: self.budget_seconds,
            paused_at: self.paused_at,
            paused_seconds: self.paused_seconds,
            closed_at: self.closed_at,
            scheduled_start: None,
            scheduled_minutes: None,
            closeout_useful: None,
            closeout_effect: None,
            version: 0,
            unsaved_input: String::new(),
        }
    }
}

/// The list rows of these requests, in the order of `ids`. A page is chosen
/// by id first (from an index, for the open part) and only its rows are read.
/// What a list does not show comes back empty ([`ListRow`]).
fn list_rows(conn: &mut DbConn, ids: &[i64]) -> R<Vec<Consultation>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Not boxed: the query's type names its SQL, so diesel finds the prepared
    // statement without writing the SQL out again.
    let rows: Vec<ListRow> = crate::on_backend!(conn, c => consultations::table
        .filter(in_list(consultations::id, ids))
        .select((
            consultations::id,
            consultations::status,
            consultations::requesting_org_id,
            consultations::requester_id,
            consultations::assigned_tkc_id,
            consultations::form_of_care,
            consultations::profile,
            consultations::patient_name,
            consultations::patient_birth_date,
            consultations::diagnosis_main,
            consultations::created_at,
            consultations::submitted_at,
            consultations::deadline_at,
            consultations::budget_seconds,
            consultations::paused_at,
            consultations::paused_seconds,
            consultations::closed_at,
        ))
        .load(c))?;
    // Back into the order of `ids`.
    let mut by_id: std::collections::HashMap<i64, ListRow> =
        rows.into_iter().map(|r| (r.id, r)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(ListRow::into_consultation)
        .collect())
}

/// A page of consultations: open ones (and drafts) first, by deadline; then
/// the closed ones, newest first. Returns how many match: the open ones
/// exactly, and the closed ones exactly up to [`COUNT_LIMIT`], else as
/// `COUNT_LIMIT + 1` (read "more than").
///
/// The two parts are two queries, so that each is served by an index at a
/// million requests: the open part by the partial index on open requests
/// (`closed_at IS NULL`, a few thousand rows), the closed part by walking the
/// primary key backwards.
pub fn list_consultations(
    conn: &mut DbConn,
    vis: &Visibility,
    filter: &ConsultationFilter,
    offset: i64,
    limit: i64,
) -> R<(Vec<Consultation>, i64)> {
    let (rows, total, _) = list_consultations_counted(conn, None, vis, filter, offset, limit)?;
    Ok((rows, total))
}

/// [`list_consultations`], with its counts kept in `counts` between calls
/// while no request changes (see [`crate::counts`]). A search or the overdue
/// filter is counted every time: its answer moves with the text index and
/// the clock. Also says whether the total is exact: false when the closed
/// ones were counted only up to `COUNT_LIMIT + 1`.
pub fn list_consultations_counted(
    conn: &mut DbConn,
    counts: Option<&ListCounts>,
    vis: &Visibility,
    filter: &ConsultationFilter,
    offset: i64,
    limit: i64,
) -> R<(Vec<Consultation>, i64, bool)> {
    let counts = counts.filter(|_| filter.q.is_none() && filter.overdue.is_none());
    let key = |part: &str| {
        let f = filter;
        format!(
            "{part}|{vis:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            f.statuses, f.form_of_care, f.profile, f.requesting_org, f.assigned_tkc
        )
    };
    let count = |conn: &mut DbConn, part: &str, run: &dyn Fn(&mut DbConn) -> R<i64>| match counts {
        Some(kept) => kept.get(conn, &key(part), run),
        None => run(conn),
    };
    let backend = backend_of(conn);
    let search = prepare_search(conn, filter)?;
    if search.found.is_some() {
        return list_found(conn, vis, filter, backend, &search, offset, limit);
    }
    let any = filter.statuses.is_empty();
    let is_open = |s: &String| s == "draft" || OPEN_STATES.contains(&s.as_str());
    let want_open = any || filter.statuses.iter().any(is_open);
    let want_closed = any || filter.statuses.iter().any(|s| !is_open(s));
    // The list's requests that are open, with a deadline or without one, and
    // closed.
    let open =
        || filtered(vis, filter, backend, &search).filter(consultations::closed_at.is_null());
    let dated = || open().filter(consultations::deadline_at.is_not_null());
    let closed_newest_first = || {
        filtered(vis, filter, backend, &search)
            .filter(consultations::closed_at.is_not_null())
            .select(consultations::id)
            .order(consultations::id.desc())
    };
    let mut rows: Vec<Consultation> = Vec::new();
    let mut open_total = 0;
    if want_open {
        open_total = count(conn, "open", &|conn| Ok(open().count().get_result(conn)?))?;
        if offset < open_total {
            // Those with a deadline, soonest first, straight from the order of
            // the open index (the scan stops at the page's end)…
            let mut ids: Vec<i64> = dated()
                .select(consultations::id)
                .order((consultations::deadline_at.asc(), consultations::id.desc()))
                .offset(offset)
                .limit(limit)
                .load(conn)?;
            // How many have a deadline, when this page holds their end.
            let dated_total = if (ids.len() as i64) == limit {
                None
            } else if offset == 0 || !ids.is_empty() {
                Some(offset + ids.len() as i64)
            } else {
                Some(dated().count().get_result(conn)?)
            };
            if let Some(dated_total) = dated_total.filter(|d| *d < open_total) {
                // …then those without one yet (drafts, awaiting the head's
                // approval), newest first.
                let undated: Vec<i64> = open()
                    .filter(consultations::deadline_at.is_null())
                    .select(consultations::id)
                    .order(consultations::id.desc())
                    .offset((offset - dated_total).max(0))
                    .limit(limit - ids.len() as i64)
                    .load(conn)?;
                ids.extend(undated);
            }
            rows = list_rows(conn, &ids)?;
        }
    }
    let mut total = open_total;
    let mut closed_total = 0;
    if want_closed {
        let skip = (offset - open_total).max(0);
        let room = limit - rows.len() as i64;
        if room > 0 {
            let ids: Vec<i64> = closed_newest_first().offset(skip).limit(room).load(conn)?;
            rows.extend(list_rows(conn, &ids)?);
        }
        // A short closed part from its start is its whole count.
        let closed_rows = rows.iter().filter(|c| c.closed_at.is_some()).count() as i64;
        closed_total = if skip == 0 && closed_rows < room {
            closed_rows
        } else {
            count(conn, "closed", &|conn| {
                let ids: Vec<i64> = closed_newest_first().limit(COUNT_LIMIT + 1).load(conn)?;
                Ok(ids.len() as i64)
            })?
        };
        total += closed_total;
    }
    Ok((rows, total, closed_total <= COUNT_LIMIT))
}

/// What a FHIR search asks beyond the list's filter.
#[derive(Debug, Clone, Default)]
pub struct FhirSearch {
    /// `_lastUpdated`: the comparison (`gt`, `ge`, `lt`, `le`, `eq`) and the time.
    pub updated: Option<(String, NaiveDateTime)>,
    /// `owner=Practitioner/{id}`: requests this consultant is assigned to.
    pub practitioner: Option<i64>,
    /// `owner=Organization/{id}`: requests with no consultant yet whose
    /// owner is this organization (the assigned centre, or the requesting
    /// organization of a draft or returned request without one).
    pub organization: Option<i64>,
    /// `patient=Patient/req-{id}`: the request itself.
    pub id: Option<i64>,
}

/// One page of a FHIR search, newest request first, and the exact number of
/// requests the search matches, both counted and paged in SQL.
pub fn fhir_search(
    conn: &mut DbConn,
    vis: &Visibility,
    filter: &ConsultationFilter,
    extra: &FhirSearch,
    offset: i64,
    limit: i64,
) -> R<(Vec<i64>, i64)> {
    let backend = backend_of(conn);
    let search = prepare_search(conn, filter)?;
    let query = || {
        let mut q = filtered(vis, filter, backend, &search);
        if let Some((op, t)) = &extra.updated {
            let t = *t;
            q = match op.as_str() {
                "gt" => q.filter(consultations::updated_at.gt(t)),
                "ge" => q.filter(consultations::updated_at.ge(t)),
                "lt" => q.filter(consultations::updated_at.lt(t)),
                "le" => q.filter(consultations::updated_at.le(t)),
                _ => q.filter(consultations::updated_at.eq(t)),
            };
        }
        if let Some(id) = extra.id {
            q = q.filter(consultations::id.eq(id));
        }
        if let Some(user) = extra.practitioner {
            q = q.filter(
                consultations::id.eq_any(
                    consultation_consultants::table
                        .filter(consultation_consultants::user_id.eq(user))
                        .select(consultation_consultants::consultation_id),
                ),
            );
        }
        if let Some(org) = extra.organization {
            let with_consultant =
                consultation_consultants::table.select(consultation_consultants::consultation_id);
            q = q.filter(diesel::dsl::not(consultations::id.eq_any(with_consultant)));
            q = q.filter(
                consultations::assigned_tkc_id
                    .eq(org)
                    .or(consultations::assigned_tkc_id
                        .is_null()
                        .and(consultations::status.eq_any(["draft", "returned"]))
                        .and(consultations::requesting_org_id.eq(org)))
                    .assume_not_null(),
            );
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let ids: Vec<i64> = if offset < total {
        query()
            .select(consultations::id)
            .order(consultations::id.desc())
            .offset(offset)
            .limit(limit)
            .load(conn)?
    } else {
        Vec::new()
    };
    Ok((ids, total))
}

/// Where a list's request falls in its order: found by a search.
#[derive(Queryable)]
#[diesel(check_for_backend(crate::conn::MultiBackend))]
struct FoundKey {
    id: i64,
    open: bool,
    #[diesel(deserialize_as = crate::stamp::MaybeStamp)]
    deadline_at: Option<NaiveDateTime>,
}

/// A list whose search found few requests (at most [`FOUND_LIMIT`]): one
/// query reads where each of them falls, and the order, the count and the
/// page are worked out here. Asking the database for the count and each part
/// of the page separately repeated the list of found ids in every query
/// (prepared anew each time, since its length varies): 3–4 times the work.
fn list_found(
    conn: &mut DbConn,
    vis: &Visibility,
    filter: &ConsultationFilter,
    backend: BackendKind,
    search: &Search,
    offset: i64,
    limit: i64,
) -> R<(Vec<Consultation>, i64, bool)> {
    let mut keys: Vec<FoundKey> = filtered(vis, filter, backend, search)
        .select((
            consultations::id,
            consultations::closed_at.is_null(),
            consultations::deadline_at,
        ))
        .load(conn)?;
    // The list's order: open ones with a deadline, soonest first; open ones
    // without one, newest first; closed ones, newest first.
    keys.sort_by(|a, b| {
        let place = |k: &FoundKey| match (k.open, k.deadline_at) {
            (true, Some(d)) => (0, Some(d)),
            (true, None) => (1, None),
            (false, _) => (2, None),
        };
        place(a).cmp(&place(b)).then(b.id.cmp(&a.id))
    });
    let open = keys.iter().filter(|k| k.open).count() as i64;
    let closed = keys.len() as i64 - open;
    let page: Vec<i64> = keys
        .iter()
        .skip(offset.max(0) as usize)
        .take(limit.max(0) as usize)
        .map(|k| k.id)
        .collect();
    // Closed ones counted as elsewhere: "more than" beyond the limit.
    Ok((
        list_rows(conn, &page)?,
        open + closed.min(COUNT_LIMIT + 1),
        closed <= COUNT_LIMIT,
    ))
}

pub fn is_visible(conn: &mut DbConn, vis: &Visibility, id: i64) -> R<bool> {
    let backend = backend_of(conn);
    let n: i64 = filtered(
        vis,
        &ConsultationFilter::default(),
        backend,
        &Search::default(),
    )
    .filter(consultations::id.eq(id))
    .count()
    .get_result(conn)?;
    Ok(n > 0)
}

pub fn assigned_consultants(conn: &mut DbConn, consultation_id: i64) -> R<Vec<AssignedConsultant>> {
    Ok(consultation_consultants::table
        .filter(consultation_consultants::consultation_id.eq(consultation_id))
        .select(AssignedConsultant::as_select())
        .order(consultation_consultants::assigned_at.asc())
        .load(conn)?)
}

/// Replaces the consultants of a consultation.
pub fn set_consultants(
    conn: &mut DbConn,
    consultation_id: i64,
    user_ids: &[i64],
    now: NaiveDateTime,
) -> R<()> {
    diesel::delete(
        consultation_consultants::table
            .filter(consultation_consultants::consultation_id.eq(consultation_id)),
    )
    .execute(conn)?;
    for (i, user_id) in user_ids.iter().enumerate() {
        diesel::insert_into(consultation_consultants::table)
            .values((
                consultation_consultants::consultation_id.eq(consultation_id),
                consultation_consultants::user_id.eq(user_id),
                // Keeps the order given: the first is the lead.
                consultation_consultants::assigned_at
                    .eq(now + chrono::Duration::microseconds(i as i64)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn mark_signed(
    conn: &mut DbConn,
    consultation_id: i64,
    user_id: i64,
    now: NaiveDateTime,
) -> R<()> {
    diesel::update(
        consultation_consultants::table
            .filter(consultation_consultants::consultation_id.eq(consultation_id))
            .filter(consultation_consultants::user_id.eq(user_id)),
    )
    .set(consultation_consultants::signed_at.eq(now))
    .execute(conn)?;
    Ok(())
}

// ---- events, messages, conclusions --------------------------------------------------

/// The actions whose event completes a request with a conclusion (when its
/// `to_status` is `completed`): the first one is when it was answered.
pub const ANSWERING_ACTIONS: &[&str] = &["sign", "record_federal_conclusion"];

/// Appends to a request's history, and keeps on the request what reports
/// count of that history (`consultation_facts`, migration 16).
pub fn append_event(conn: &mut DbConn, event: &NewEvent) -> R<i64> {
    let id = diesel::insert_into(consultation_events::table)
        .values(event)
        .returning(consultation_events::id)
        .get_result(conn)?;
    let facts = consultation_facts::table.find(event.consultation_id);
    if event.to_status == "completed" && ANSWERING_ACTIONS.contains(&event.action.as_str()) {
        diesel::update(facts.filter(consultation_facts::answered_at.is_null()))
            .set(consultation_facts::answered_at.eq(event.at))
            .execute(conn)?;
    }
    match event.action.as_str() {
        "escalate" => {
            diesel::update(facts)
                .set(consultation_facts::escalated.eq(true))
                .execute(conn)?;
        }
        "acknowledge" => {
            diesel::update(facts)
                .set(consultation_facts::acknowledged.eq(true))
                .execute(conn)?;
        }
        _ => {}
    }
    Ok(id)
}

/// The same facts worked out from the histories of requests `lo..=hi`, for
/// histories written in bulk (the generator) rather than event by event.
pub fn derive_report_facts(conn: &mut DbConn, lo: i64, hi: i64) -> R<()> {
    use diesel::connection::SimpleConnection;
    let answering: Vec<String> = ANSWERING_ACTIONS.iter().map(|a| format!("'{a}'")).collect();
    let sql = format!(
        "UPDATE consultations SET \
             answered_at = (SELECT MIN(e.at) FROM consultation_events e \
                            WHERE e.consultation_id = consultations.id \
                              AND e.action IN ({}) AND e.to_status = 'completed'), \
             escalated = EXISTS (SELECT 1 FROM consultation_events e \
                                 WHERE e.consultation_id = consultations.id \
                                   AND e.action = 'escalate'), \
             acknowledged = EXISTS (SELECT 1 FROM consultation_events e \
                                    WHERE e.consultation_id = consultations.id \
                                      AND e.action = 'acknowledge') \
         WHERE id BETWEEN {lo} AND {hi} AND submitted_at IS NOT NULL",
        answering.join(", ")
    );
    match conn {
        DbConn::Pg(c) => c.batch_execute(&sql)?,
        DbConn::Sqlite(c) => c.batch_execute(&sql)?,
    }
    Ok(())
}

pub fn events(conn: &mut DbConn, consultation_id: i64) -> R<Vec<Event>> {
    Ok(consultation_events::table
        .filter(consultation_events::consultation_id.eq(consultation_id))
        .select(Event::as_select())
        .order(consultation_events::id.asc())
        .load(conn)?)
}

pub fn insert_message(
    conn: &mut DbConn,
    consultation_id: i64,
    author_id: i64,
    author_role: &str,
    kind: &str,
    body: &str,
    now: NaiveDateTime,
) -> R<i64> {
    Ok(diesel::insert_into(messages::table)
        .values((
            messages::consultation_id.eq(consultation_id),
            messages::author_id.eq(author_id),
            messages::author_role.eq(author_role),
            messages::kind.eq(kind),
            messages::body.eq(body),
            messages::created_at.eq(now),
        ))
        .returning(messages::id)
        .get_result(conn)?)
}

pub fn messages(conn: &mut DbConn, consultation_id: i64) -> R<Vec<Message>> {
    Ok(messages::table
        .filter(messages::consultation_id.eq(consultation_id))
        .select(Message::as_select())
        .order(messages::id.asc())
        .load(conn)?)
}

/// The request a message belongs to.
pub fn message_consultation(conn: &mut DbConn, message_id: i64) -> R<Option<i64>> {
    Ok(messages::table
        .find(message_id)
        .select(messages::consultation_id)
        .first(conn)
        .optional()?)
}

/// The newest version of a consultation's conclusion.
pub fn current_conclusion(conn: &mut DbConn, consultation_id: i64) -> R<Option<Conclusion>> {
    Ok(conclusions::table
        .filter(conclusions::consultation_id.eq(consultation_id))
        .select(Conclusion::as_select())
        .order(conclusions::version.desc())
        .first(conn)
        .optional()?)
}

/// Every version of a consultation's conclusion, oldest first.
pub fn conclusion_versions(conn: &mut DbConn, consultation_id: i64) -> R<Vec<Conclusion>> {
    Ok(conclusions::table
        .filter(conclusions::consultation_id.eq(consultation_id))
        .select(Conclusion::as_select())
        .order(conclusions::version.asc())
        .load(conn)?)
}

/// A new, unsigned version that corrects the signed version `supersedes_id`.
pub fn insert_correction(
    conn: &mut DbConn,
    consultation_id: i64,
    version: i32,
    supersedes_id: i64,
    content: &ConclusionContent,
) -> R<i64> {
    let id = insert_conclusion(conn, consultation_id, version, content)?;
    diesel::update(conclusions::table.filter(conclusions::id.eq(id)))
        .set(conclusions::supersedes_id.eq(Some(supersedes_id)))
        .execute(conn)?;
    Ok(id)
}

/// Clears the members' signatures: a correction is signed anew by all of them.
pub fn clear_signatures(conn: &mut DbConn, consultation_id: i64) -> R<()> {
    diesel::update(
        consultation_consultants::table
            .filter(consultation_consultants::consultation_id.eq(consultation_id)),
    )
    .set(consultation_consultants::signed_at.eq(None::<NaiveDateTime>))
    .execute(conn)?;
    Ok(())
}

pub fn insert_conclusion(
    conn: &mut DbConn,
    consultation_id: i64,
    version: i32,
    content: &ConclusionContent,
) -> R<i64> {
    Ok(diesel::insert_into(conclusions::table)
        .values((
            conclusions::consultation_id.eq(consultation_id),
            conclusions::version.eq(version),
            conclusions::author_id.eq(content.author_id),
            conclusions::diagnosis_main.eq(&content.diagnosis_main),
            conclusions::diagnosis_text.eq(&content.diagnosis_text),
            conclusions::findings.eq(&content.findings),
            conclusions::recommendations.eq(&content.recommendations),
            conclusions::transfer.eq(&content.transfer),
            conclusions::follow_up_needed.eq(content.follow_up_needed),
            conclusions::follow_up.eq(&content.follow_up),
            conclusions::patient_condition.eq(&content.patient_condition),
            conclusions::created_at.eq(content.updated_at),
            conclusions::updated_at.eq(content.updated_at),
        ))
        .returning(conclusions::id)
        .get_result(conn)?)
}

/// Rewrites an unsigned conclusion. A signed one is refused here and by the database.
pub fn update_conclusion(conn: &mut DbConn, id: i64, content: &ConclusionContent) -> R<()> {
    let n = diesel::update(
        conclusions::table
            .filter(conclusions::id.eq(id))
            .filter(conclusions::signed_at.is_null()),
    )
    .set(content)
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Seals a conclusion read at `read_at` (its `updated_at`); fails with `Conflict`
/// when it was signed or rewritten since.
pub fn seal_conclusion(
    conn: &mut DbConn,
    id: i64,
    hash: &str,
    read_at: NaiveDateTime,
    now: NaiveDateTime,
) -> R<()> {
    let n = diesel::update(
        conclusions::table
            .filter(conclusions::id.eq(id))
            .filter(conclusions::signed_at.is_null())
            .filter(conclusions::updated_at.eq(read_at)),
    )
    .set((
        conclusions::signed_at.eq(now),
        conclusions::content_hash.eq(hash),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Active users holding `role`, in `org` or in any organization of `org_kind`.
pub fn users_with_role(
    conn: &mut DbConn,
    role: &str,
    org: Option<i64>,
    org_kind: Option<&str>,
) -> R<Vec<i64>> {
    let mut q = memberships::table
        .inner_join(users::table)
        .inner_join(organizations::table)
        .filter(memberships::role.eq(role.to_string()))
        .filter(users::active.eq(true))
        .select(users::id)
        .distinct()
        .into_boxed();
    if let Some(org) = org {
        q = q.filter(memberships::organization_id.eq(org));
    }
    if let Some(kind) = org_kind {
        q = q.filter(organizations::kind.eq(kind.to_string()));
    }
    Ok(q.load(conn)?)
}

pub fn set_locale(conn: &mut DbConn, user_id: i64, locale: &str) -> R<()> {
    diesel::update(users::table.find(user_id))
        .set(users::locale.eq(locale))
        .execute(conn)?;
    Ok(())
}

// ---- notifications -----------------------------------------------------------------

pub fn notify(
    conn: &mut DbConn,
    user_ids: &[i64],
    consultation_id: i64,
    kind: &str,
    now: NaiveDateTime,
) -> R<()> {
    for user_id in user_ids {
        diesel::insert_into(notifications::table)
            .values((
                notifications::user_id.eq(user_id),
                notifications::consultation_id.eq(consultation_id),
                notifications::kind.eq(kind),
                notifications::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The newest notifications of a user, and how many are unread.
pub fn notifications_of(
    conn: &mut DbConn,
    user_id: i64,
    limit: i64,
) -> R<(Vec<Notification>, i64)> {
    let unread: i64 = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)?;
    let rows = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .select(Notification::as_select())
        .order(notifications::id.desc())
        .limit(limit)
        .load(conn)?;
    Ok((rows, unread))
}

pub fn mark_notifications_read(conn: &mut DbConn, user_id: i64, now: NaiveDateTime) -> R<()> {
    diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(now))
    .execute(conn)?;
    Ok(())
}

pub fn set_unsaved_input(conn: &mut DbConn, id: i64, json: &str) -> R<()> {
    diesel::update(consultations::table.find(id))
        .set(consultations::unsaved_input.eq(json))
        .execute(conn)?;
    Ok(())
}

// ---- administration ------------------------------------------------------------

#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = organizations)]
pub struct OrganizationChanges<'a> {
    pub name: &'a str,
    pub short_name: &'a str,
    pub kind: &'a str,
    pub level: Option<i32>,
    pub frmo_oid: Option<&'a str>,
    pub time_zone: &'a str,
    pub requires_head_approval: bool,
    pub active: bool,
    pub address: &'a str,
    pub phone: &'a str,
}

pub fn update_organization(conn: &mut DbConn, id: i64, changes: &OrganizationChanges) -> R<()> {
    let n = diesel::update(organizations::table.find(id))
        .set(changes)
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn users_all(conn: &mut DbConn) -> R<Vec<User>> {
    Ok(users::table
        .select(User::as_select())
        .order((users::last_name.asc(), users::first_name.asc()))
        .load(conn)?)
}

pub fn memberships_all(conn: &mut DbConn) -> R<Vec<Membership>> {
    Ok(memberships::table
        .select(Membership::as_select())
        .order(memberships::id.asc())
        .load(conn)?)
}

#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges<'a> {
    pub last_name: &'a str,
    pub first_name: &'a str,
    pub middle_name: &'a str,
    pub position: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
    pub active: bool,
    /// `Some(None)` clears it.
    pub snils: Option<Option<&'a str>>,
    /// `Some(None)` clears it.
    pub position_code: Option<Option<&'a str>>,
}

pub fn update_user(conn: &mut DbConn, id: i64, changes: &UserChanges) -> R<()> {
    let n = diesel::update(users::table.find(id))
        .set(changes)
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn remove_membership(conn: &mut DbConn, user_id: i64, membership_id: i64) -> R<bool> {
    let n = diesel::delete(
        memberships::table
            .filter(memberships::id.eq(membership_id))
            .filter(memberships::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(n > 0)
}

pub fn set_user_profiles(conn: &mut DbConn, user_id: i64, profiles: &[String]) -> R<()> {
    diesel::delete(user_profiles::table.filter(user_profiles::user_id.eq(user_id)))
        .execute(conn)?;
    for p in profiles {
        add_user_profile(conn, user_id, p)?;
    }
    Ok(())
}

pub fn routes_all(conn: &mut DbConn) -> R<Vec<Route>> {
    Ok(routes::table
        .select(Route::as_select())
        .order((routes::profile_code.asc(), routes::form_of_care.asc()))
        .load(conn)?)
}

/// Sets the route of a profile and form; `None` removes it.
pub fn set_route(
    conn: &mut DbConn,
    profile: &str,
    form: &str,
    target: Option<(i64, Option<i64>)>,
) -> R<()> {
    diesel::delete(
        routes::table
            .filter(routes::profile_code.eq(profile))
            .filter(routes::form_of_care.eq(form)),
    )
    .execute(conn)?;
    if let Some((tkc, consultant)) = target {
        insert_route(conn, profile, form, tkc, consultant)?;
    }
    Ok(())
}

pub fn settings_all(conn: &mut DbConn) -> R<Vec<(String, String)>> {
    Ok(settings::table
        .select((settings::key, settings::value))
        .order(settings::key.asc())
        .load(conn)?)
}

/// Counts one more failed sign-in atomically and returns the new count.
pub fn count_login_failure(conn: &mut DbConn, user_id: i64) -> R<i32> {
    diesel::update(users::table.find(user_id))
        .set(users::failed_logins.eq(users::failed_logins + 1))
        .execute(conn)?;
    Ok(users::table
        .find(user_id)
        .select(users::failed_logins)
        .first(conn)?)
}

pub fn set_locked_until(conn: &mut DbConn, user_id: i64, until: Option<NaiveDateTime>) -> R<()> {
    diesel::update(users::table.find(user_id))
        .set(users::locked_until.eq(until))
        .execute(conn)?;
    Ok(())
}

// ---- the deadline monitor --------------------------------------------------------

/// Open requests whose clock runs (submitted, not paused): what the monitor watches.
pub fn running_deadlines(conn: &mut DbConn) -> R<Vec<Consultation>> {
    Ok(consultations::table
        .filter(consultations::status.eq_any(OPEN_STATES))
        .filter(consultations::deadline_at.is_not_null())
        .filter(consultations::paused_at.is_null())
        .select(Consultation::as_select())
        .load(conn)?)
}

/// Records that an alert of `kind` went out for this deadline; false when one already had.
pub fn claim_deadline_alert(
    conn: &mut DbConn,
    consultation_id: i64,
    kind: &str,
    deadline_at: NaiveDateTime,
    now: NaiveDateTime,
) -> R<bool> {
    let exists: i64 = deadline_alerts::table
        .filter(deadline_alerts::consultation_id.eq(consultation_id))
        .filter(deadline_alerts::kind.eq(kind))
        .filter(deadline_alerts::deadline_at.eq(deadline_at))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(false);
    }
    match diesel::insert_into(deadline_alerts::table)
        .values((
            deadline_alerts::consultation_id.eq(consultation_id),
            deadline_alerts::kind.eq(kind),
            deadline_alerts::deadline_at.eq(deadline_at),
            deadline_alerts::created_at.eq(now),
        ))
        .execute(conn)
    {
        Ok(_) => Ok(true),
        // Another instance claimed it between the check and the insert.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

// ---- reports ---------------------------------------------------------------------

/// Requests submitted in `[from, to)`.
pub fn submitted_between(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> R<Vec<Consultation>> {
    Ok(consultations::table
        .filter(consultations::submitted_at.ge(from))
        .filter(consultations::submitted_at.lt(to))
        .select(Consultation::as_select())
        .load(conn)?)
}

/// The request a sending system created under its business identifier.
pub fn consultation_by_external_id(conn: &mut DbConn, external_id: &str) -> R<Option<i64>> {
    Ok(consultations::table
        .filter(consultations::external_id.eq(external_id))
        .select(consultations::id)
        .first(conn)
        .optional()?)
}

/// Records the sender's business identifier; false if another request has it.
pub fn set_external_id(conn: &mut DbConn, id: i64, external_id: &str) -> R<bool> {
    match diesel::update(consultations::table.filter(consultations::id.eq(id)))
        .set(consultations::external_id.eq(external_id))
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Requests by id (any order), in bounded chunks.
pub fn consultations_by_ids(conn: &mut DbConn, ids: &[i64]) -> R<Vec<Consultation>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        out.extend(
            consultations::table
                .filter(consultations::id.eq_any(chunk))
                .select(Consultation::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Events of some actions for some requests.
pub fn events_of(conn: &mut DbConn, ids: &[i64], actions: &[&str]) -> R<Vec<Event>> {
    let mut out = Vec::new();
    // Bounded IN lists: SQLite allows some thousands of parameters per statement.
    for chunk in ids.chunks(500) {
        out.extend(
            consultation_events::table
                .filter(consultation_events::consultation_id.eq_any(chunk))
                .filter(consultation_events::action.eq_any(actions))
                .select(Event::as_select())
                .order(consultation_events::id.asc())
                .load(conn)?,
        );
    }
    Ok(out)
}

pub fn consultants_of_many(conn: &mut DbConn, ids: &[i64]) -> R<Vec<AssignedConsultant>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        out.extend(
            consultation_consultants::table
                .filter(consultation_consultants::consultation_id.eq_any(chunk))
                .select(AssignedConsultant::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// How many requests are in each state (for the operations metrics).
pub fn count_by_status(conn: &mut DbConn) -> R<Vec<(String, i64)>> {
    Ok(consultations::table
        .group_by(consultations::status)
        .select((consultations::status, count_star()))
        .load(conn)?)
}

/// Open requests past their deadline now (paused ones count when paused late).
pub fn count_overdue(conn: &mut DbConn, now: NaiveDateTime) -> R<i64> {
    let filter = ConsultationFilter {
        overdue: Some(true),
        now: Some(now),
        ..Default::default()
    };
    let backend = backend_of(conn);
    Ok(filtered(
        &Visibility {
            all: true,
            ..Default::default()
        },
        &filter,
        backend,
        &Search::default(),
    )
    .count()
    .get_result(conn)?)
}

pub fn set_email_mode(conn: &mut DbConn, user_id: i64, mode: &str) -> R<()> {
    diesel::update(users::table.find(user_id))
        .set(users::email_mode.eq(mode))
        .execute(conn)?;
    Ok(())
}

/// The e-mail mode (`off`, `instant`, `digest`) and the kinds that go by e-mail.
pub fn set_email_prefs(conn: &mut DbConn, user_id: i64, mode: &str, kinds: &str) -> R<()> {
    diesel::update(users::table.find(user_id))
        .set((users::email_mode.eq(mode), users::email_kinds.eq(kinds)))
        .execute(conn)?;
    Ok(())
}

/// Active users who chose a daily digest and have an address.
pub fn digest_users(conn: &mut DbConn) -> R<Vec<User>> {
    Ok(users::table
        .filter(users::email_mode.eq("digest"))
        .filter(users::active.eq(true))
        .filter(users::email.ne(""))
        .order(users::id.asc())
        .select(User::as_select())
        .load(conn)?)
}

/// A user's notifications created in `[from, to)`, oldest first.
pub fn notifications_between(
    conn: &mut DbConn,
    user_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> R<Vec<Notification>> {
    Ok(notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::created_at.ge(from))
        .filter(notifications::created_at.lt(to))
        .order((notifications::created_at.asc(), notifications::id.asc()))
        .select(Notification::as_select())
        .load(conn)?)
}

/// Claims the digest of `day` for a user; false when it was already claimed.
/// Call it first in its transaction: a lost race ends the transaction on PostgreSQL.
pub fn claim_digest(conn: &mut DbConn, user_id: i64, day: &str, now: NaiveDateTime) -> R<bool> {
    let exists: i64 = mail_digests::table
        .filter(mail_digests::user_id.eq(user_id))
        .filter(mail_digests::day.eq(day))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(false);
    }
    match diesel::insert_into(mail_digests::table)
        .values((
            mail_digests::user_id.eq(user_id),
            mail_digests::day.eq(day),
            mail_digests::created_at.eq(now),
        ))
        .execute(conn)
    {
        Ok(_) => Ok(true),
        // Another instance claimed it between the check and the insert.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A consistent copy of a SQLite database into a new file, while others read
/// and write it (`VACUUM INTO`).
pub fn backup_sqlite(db: &crate::Db, to: &str) -> R<()> {
    let mut conn = db.conn()?;
    let DbConn::Sqlite(c) = &mut *conn else {
        return Err(StoreError::Other("not a SQLite database".into()));
    };
    diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(to)
        .execute(c)?;
    Ok(())
}

// ---- report counts ----------------------------------------------------------
//
// A year of a federal level is a few hundred thousand requests: one lean row
// each comes back (no dates, no clinical data); reasons and workload come
// back counted.

/// Which requests a report counts: submitted in `[from, to)`, narrowed by the
/// report's filters.
#[derive(Debug, Clone, Default)]
pub struct ReportScope {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub form_of_care: Option<String>,
    pub profile: Option<String>,
    pub organization: Option<i64>,
    pub tkc: Option<i64>,
}

/// The scope as SQL over `consultations c`, with PostgreSQL's numbered
/// parameters (SQLite reads `?N` for `$N`): `$1`–`$6` are the scope's fields
/// in order. A filter that is not set binds NULL and drops out.
const REPORT_SCOPE: &str = "c.submitted_at >= $1 AND c.submitted_at < $2 \
     AND (CAST($3 AS TEXT) IS NULL OR c.form_of_care = $3) \
     AND (CAST($4 AS TEXT) IS NULL OR c.profile = $4) \
     AND (CAST($5 AS BIGINT) IS NULL OR c.requesting_org_id = $5) \
     AND (CAST($6 AS BIGINT) IS NULL OR c.assigned_tkc_id = $6)";

/// Runs a report query written for PostgreSQL on either backend, with the
/// scope bound as `$1`–`$6` and, when given, `$7`.
macro_rules! report_query {
    ($conn:expr, $sql:expr, $scope:expr $(, $extra:expr)?) => {{
        use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
        let s: &ReportScope = $scope;
        let sql: String = $sql;
        macro_rules! bound {
            ($q:expr) => {
                $q.bind::<Timestamp, _>(s.from)
                    .bind::<Timestamp, _>(s.to)
                    .bind::<Nullable<Text>, _>(s.form_of_care.clone())
                    .bind::<Nullable<Text>, _>(s.profile.clone())
                    .bind::<Nullable<BigInt>, _>(s.organization)
                    .bind::<Nullable<BigInt>, _>(s.tkc)
                    $(.bind::<Timestamp, _>($extra))?
            };
        }
        match $conn {
            DbConn::Pg(c) => bound!(diesel::sql_query(sql)).load(c)?,
            DbConn::Sqlite(c) => bound!(diesel::sql_query(sql.replace('$', "?"))).load(c)?,
        }
    }};
}

/// One request in a report's scope, as little as the report needs: no dates
/// to parse (a year of a federal level is a few hundred thousand rows), the
/// yes/no facts packed into `flags` (see the `REPORT_*` bits).
#[derive(Debug, Clone, QueryableByName)]
pub struct ReportRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub status: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub form_of_care: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub profile: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub requesting_org_id: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    pub assigned_tkc_id: Option<i64>,
    /// Whole minutes from submission to the answer; none if not answered.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    pub minutes: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub flags: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub closeout_effect: Option<String>,
}

/// Its deadline runs and has passed (at the `now` given).
pub const REPORT_OVERDUE: i32 = 1;
/// Answered by its deadline.
pub const REPORT_IN_TIME: i32 = 2;
pub const REPORT_ESCALATED: i32 = 4;
pub const REPORT_ACKNOWLEDGED: i32 = 8;
/// The close-out said the consultation was useful.
pub const REPORT_USEFUL: i32 = 16;
/// The close-out said it was not.
pub const REPORT_NOT_USEFUL: i32 = 32;

pub fn report_rows(
    conn: &mut DbConn,
    scope: &ReportScope,
    now: NaiveDateTime,
) -> R<Vec<ReportRow>> {
    let minutes = match backend_of(conn) {
        BackendKind::Postgres => {
            "CAST(FLOOR(EXTRACT(EPOCH FROM (c.answered_at - c.submitted_at)) / 60) AS BIGINT)"
        }
        // Whole milliseconds first: julianday's float is exact to well under one.
        BackendKind::Sqlite => {
            "CAST(ROUND((julianday(c.answered_at) - julianday(c.submitted_at)) * 86400000) \
             AS INTEGER) / 60000"
        }
    };
    Ok(report_query!(
        conn,
        format!(
            "SELECT c.status, c.form_of_care, c.profile, c.requesting_org_id, c.assigned_tkc_id, \
                    {minutes} AS minutes, \
                    CAST(CASE WHEN c.paused_at IS NULL AND c.deadline_at < $7 THEN {REPORT_OVERDUE} ELSE 0 END \
                       + CASE WHEN c.answered_at <= c.deadline_at THEN {REPORT_IN_TIME} ELSE 0 END \
                       + CASE WHEN c.escalated THEN {REPORT_ESCALATED} ELSE 0 END \
                       + CASE WHEN c.acknowledged THEN {REPORT_ACKNOWLEDGED} ELSE 0 END \
                       + CASE WHEN c.closeout_useful THEN {REPORT_USEFUL} \
                              WHEN NOT c.closeout_useful THEN {REPORT_NOT_USEFUL} ELSE 0 END \
                       AS INTEGER) AS flags, \
                    c.closeout_effect \
             FROM consultations c WHERE {REPORT_SCOPE}"
        ),
        scope,
        now
    ))
}

/// Returns, rejections and escalations of requests in scope, by reason.
#[derive(Debug, Clone, QueryableByName)]
pub struct ReportReason {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub action: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub reason_code: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub count: i64,
}

/// Found through the partial index `consultation_events_reasons` by time:
/// these events come after the request's submission, so none is before the
/// period's start.
pub fn report_reasons(conn: &mut DbConn, scope: &ReportScope) -> R<Vec<ReportReason>> {
    // SQLite's planner, without statistics, is told to start from the events.
    let join = match backend_of(conn) {
        BackendKind::Sqlite => "CROSS JOIN",
        BackendKind::Postgres => "JOIN",
    };
    Ok(report_query!(
        conn,
        format!(
            "SELECT e.action, e.reason_code, COUNT(*) AS count \
             FROM consultation_events e {join} consultations c ON c.id = e.consultation_id \
             WHERE e.action IN ('return', 'reject', 'escalate') AND e.at >= $1 \
               AND {REPORT_SCOPE} \
             GROUP BY e.action, e.reason_code"
        ),
        scope
    ))
}

/// Per consultant: requests in scope assigned to them, and of those signed.
#[derive(Debug, Clone, QueryableByName)]
pub struct ReportWorkload {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub user_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub assigned: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub answered: i64,
}

pub fn report_workload(conn: &mut DbConn, scope: &ReportScope) -> R<Vec<ReportWorkload>> {
    Ok(report_query!(
        conn,
        format!(
            "SELECT cc.user_id, COUNT(*) AS assigned, COUNT(cc.signed_at) AS answered \
             FROM consultation_consultants cc JOIN consultations c ON c.id = cc.consultation_id \
             WHERE {REPORT_SCOPE} GROUP BY cc.user_id"
        ),
        scope
    ))
}

/// Whether the patient (by СНИЛС) had an earlier consultation with this
/// consulting centre that ended (first or repeated visit, НСИ 1007).
pub fn earlier_consultations_of_patient(
    conn: &mut DbConn,
    snils: Option<&str>,
    tkc_id: i64,
    except: i64,
) -> R<bool> {
    let Some(snils) = snils.filter(|s| !s.is_empty()) else {
        return Ok(false);
    };
    let n: i64 = consultations::table
        .filter(consultations::patient_snils.eq(snils))
        .filter(consultations::assigned_tkc_id.eq(tkc_id))
        .filter(consultations::id.ne(except))
        .filter(consultations::id.lt(except))
        .filter(consultations::status.eq_any(["completed", "closed"]))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
