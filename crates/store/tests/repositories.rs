//! The repositories on both backends: every scenario runs on SQLite and on
//! PostgreSQL, as one `#[test]` per backend (`<scenario>::sqlite`,
//! `<scenario>::postgres`).

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use rtms_store::models::*;
use rtms_store::reference;
use rtms_store::repo::{self, ConsultationFilter, Visibility};
use rtms_store::testing::TestDatabase;
use rtms_store::{BackendKind, Db, DbConn, StoreError};

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

on_both_backends!(
    reference_data_loads_once_and_searches,
    cyrillic_layout_code_prefixes_find_what_latin_ones_find,
    organizations_users_and_memberships_round_trip,
    consultation_round_trip_and_optimistic_locking,
    visibility_decides_who_sees_which_requests,
    overdue_filter_matches_the_deadline_clock,
    text_search_and_queue_order,
    pages_run_from_deadlines_to_drafts_to_the_archive,
    kept_counts_follow_every_change,
    open_requests_are_counted_exactly_beyond_the_limit,
    signed_conclusions_are_frozen,
    consultants_by_profile_with_their_open_load,
    finished_jobs_are_pruned_unfinished_ones_kept,
);

// ---- fixtures ------------------------------------------------------------------------

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").expect("timestamp literal")
}

fn fresh(backend: BackendKind) -> (TestDatabase, Db) {
    let test_db = TestDatabase::new(backend);
    let db = test_db.db();
    (test_db, db)
}

fn add_org(conn: &mut DbConn, name: &str, kind: &str) -> i64 {
    repo::insert_organization(
        conn,
        &NewOrganization {
            name,
            short_name: name,
            kind,
            level: Some(2),
            frmo_oid: None,
            time_zone: "Europe/Moscow",
            requires_head_approval: false,
            active: true,
            created_at: at("2026-01-01 00:00:00"),
            address: "",
            phone: "",
        },
    )
    .expect("insert organization")
}

fn new_user<'a>(login: &'a str, last_name: &'a str) -> NewUser<'a> {
    NewUser {
        login,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        last_name,
        first_name: "Иван",
        middle_name: "Петрович",
        position: "врач",
        phone: "+7 900 000-00-00",
        email: "",
        locale: "ru",
        active: true,
        must_change_password: false,
        created_at: at("2026-01-01 00:00:00"),
        snils: None,
        position_code: None,
    }
}

fn add_user(conn: &mut DbConn, login: &str, last_name: &str) -> i64 {
    repo::insert_user(conn, &new_user(login, last_name)).expect("insert user")
}

/// A request as a doctor starts it: a draft with nothing but a patient.
fn request(org: i64, requester: i64, status: &str, patient: &str) -> ConsultationWrite {
    let created = at("2026-03-01 08:00:00");
    ConsultationWrite {
        status: status.into(),
        requesting_org_id: org,
        requester_id: requester,
        assigned_tkc_id: None,
        form_of_care: None,
        mode: None,
        profile: None,
        purpose: None,
        patient_name: patient.into(),
        patient_birth_date: None,
        patient_snils: None,
        patient_oms: None,
        diagnosis_main: None,
        search_text: patient.to_lowercase(),
        clinical: "{}".into(),
        created_at: created,
        updated_at: created,
        submitted_at: None,
        deadline_at: None,
        budget_seconds: 0,
        paused_at: None,
        paused_seconds: 0,
        closed_at: None,
        scheduled_start: None,
        scheduled_minutes: None,
        closeout_useful: None,
        closeout_effect: None,
        version: 0,
        unsaved_input: "{}".into(),
    }
}

/// A submitted request with a 24-hour clock that ends at `deadline`.
fn submitted(org: i64, requester: i64, status: &str, deadline: NaiveDateTime) -> ConsultationWrite {
    let mut row = request(org, requester, status, "Пациент");
    row.form_of_care = Some("urgent".into());
    row.submitted_at = Some(deadline - Duration::hours(24));
    row.deadline_at = Some(deadline);
    row.budget_seconds = 24 * 3600;
    row
}

/// A request closed at `at`, by the same path as `submitted`.
fn closed(org: i64, requester: i64, at: NaiveDateTime) -> ConsultationWrite {
    let mut row = submitted(org, requester, "closed", at);
    row.closed_at = Some(at);
    row
}

fn insert(conn: &mut DbConn, row: &ConsultationWrite) -> i64 {
    repo::insert_consultation(conn, row).expect("insert consultation")
}

/// Ids of one page of up to 1000 rows, checking that the total agrees with it.
fn list(conn: &mut DbConn, vis: &Visibility, filter: &ConsultationFilter) -> Vec<i64> {
    let (rows, total) =
        repo::list_consultations(conn, vis, filter, 0, 1000).expect("list consultations");
    assert_eq!(
        total,
        rows.len() as i64,
        "the total does not count the rows listed"
    );
    rows.iter().map(|c| c.id).collect()
}

/// What the whole region sees (a dispatcher of no organization).
fn region_wide() -> Visibility {
    Visibility {
        all: true,
        ..Default::default()
    }
}

/// The open states, as the queue asks for them.
fn open_states() -> Vec<String> {
    repo::OPEN_STATES.iter().map(|s| s.to_string()).collect()
}

/// The names of the listed ids, for readable assertions.
fn named(names: &[(&'static str, i64)], ids: &[i64]) -> BTreeSet<&'static str> {
    ids.iter()
        .map(|id| {
            names
                .iter()
                .find(|(_, i)| i == id)
                .map(|(n, _)| *n)
                .unwrap_or("<unexpected row>")
        })
        .collect()
}

fn set(names: &[&'static str]) -> BTreeSet<&'static str> {
    names.iter().copied().collect()
}

fn codes(rows: &[Icd10]) -> Vec<String> {
    rows.iter().map(|r| r.code.clone()).collect()
}

// ---- reference data ------------------------------------------------------------------

fn reference_data_loads_once_and_searches(backend: BackendKind) {
    let (_t, db) = fresh(backend);
    let mut conn = db.conn().unwrap();
    let conn: &mut DbConn = &mut conn;

    let shipped = reference::parse_icd10_csv(reference::ICD10_CSV).unwrap();
    let (icd, profiles, purposes) = reference::ensure_loaded(conn).expect("load reference data");
    assert!(icd > 12_000, "only {icd} МКБ-10 codes loaded");
    assert_eq!(icd, shipped.len(), "not every parsed code was loaded");
    assert_eq!(profiles, 44, "profiles loaded");
    assert_eq!(purposes, 9, "purposes loaded");

    let stored: i64 = rtms_store::schema::icd10::table
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(stored, icd as i64, "rows in icd10");
    assert_eq!(reference::profiles(conn).unwrap().len(), 44);
    assert_eq!(reference::purposes(conn).unwrap().len(), 9);
    let cardiology = reference::profile(conn, "cardiology")
        .unwrap()
        .expect("cardiology");
    assert_eq!(cardiology.name_ru, "Кардиология");
    assert_eq!(cardiology.v002_code, Some(29));
    let diagnosis = reference::purpose(conn, "diagnosis")
        .unwrap()
        .expect("diagnosis");
    assert_eq!(diagnosis.iemk_code, 1);
    assert!(reference::profile(conn, "astrology").unwrap().is_none());

    // A second start loads nothing and keeps what is there.
    assert_eq!(reference::ensure_loaded(conn).unwrap(), (0, 0, 0));
    let stored_again: i64 = rtms_store::schema::icd10::table
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(stored_again, stored);
    assert_eq!(reference::profiles(conn).unwrap().len(), 44);

    // A code prefix.
    let expected_i21: Vec<String> = {
        let mut v: Vec<String> = shipped
            .iter()
            .filter(|r| r.code.starts_with("I21"))
            .map(|r| r.code.clone())
            .collect();
        v.sort();
        v
    };
    assert!(expected_i21.len() >= 7, "{expected_i21:?}");
    let found = codes(&reference::search_icd10(conn, "I21", 20).unwrap());
    assert_eq!(found, expected_i21, "search for I21");
    assert_eq!(found[0], "I21", "the heading comes first");
    // As a doctor types it: lower case, a comma for the dot.
    assert_eq!(
        codes(&reference::search_icd10(conn, "i21", 20).unwrap()),
        expected_i21
    );
    assert_eq!(
        codes(&reference::search_icd10(conn, " i21,0 ", 20).unwrap()),
        vec!["I21.0"]
    );
    let dotted = codes(&reference::search_icd10(conn, "I21.", 20).unwrap());
    assert_eq!(dotted, expected_i21[1..].to_vec(), "search for I21.");
    // The limit holds for a short prefix.
    let i_codes = reference::search_icd10(conn, "I", 20).unwrap();
    assert_eq!(i_codes.len(), 20);
    assert!(i_codes.iter().all(|r| r.code.starts_with('I')));

    // Words, in any order and any case; Cyrillic (SQLite's lower() and LIKE
    // only fold ASCII, so this only works if both sides are folded in Rust).
    let with_both = |name: &str| {
        let name = name.to_lowercase();
        name.contains("инфаркт") && name.contains("миокарда")
    };
    let mut expected: Vec<(bool, String)> = shipped
        .iter()
        .filter(|r| with_both(&r.name))
        .map(|r| (!r.actual, r.code.clone()))
        .collect();
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, c)| c).collect();
    assert!(
        expected.len() > 20,
        "the reference should have >20 such codes"
    );
    let page = reference::search_icd10(conn, "инфаркт миокарда", 20).unwrap();
    assert_eq!(page.len(), 20, "the limit of 20");
    for r in &page {
        assert!(with_both(&r.name), "{} {} lacks a word", r.code, r.name);
    }
    assert_eq!(
        codes(&page),
        expected[..20].to_vec(),
        "actual codes first, by code"
    );
    let all = reference::search_icd10(conn, "инфаркт миокарда", 1000).unwrap();
    assert_eq!(codes(&all), expected);
    let shouted = reference::search_icd10(conn, "МИОКАРДА Инфаркт", 1000).unwrap();
    assert_eq!(
        codes(&shouted),
        expected,
        "upper case and another word order"
    );
    // Names that begin with the word, capitalised: «Инфаркт мозга».
    let mut brain: Vec<(bool, String)> = shipped
        .iter()
        .filter(|r| {
            let n = r.name.to_lowercase();
            n.contains("инфаркт") && n.contains("мозга")
        })
        .map(|r| (!r.actual, r.code.clone()))
        .collect();
    brain.sort();
    let brain: Vec<String> = brain.into_iter().map(|(_, c)| c).collect();
    assert!(brain.contains(&"I63".to_string()), "{brain:?}");
    assert_eq!(
        codes(&reference::search_icd10(conn, "Инфаркт МОЗГА", 1000).unwrap()),
        brain
    );
    assert!(reference::search_icd10(conn, "инфаркт лёгкого", 20)
        .unwrap()
        .is_empty());
    assert!(reference::search_icd10(conn, "   ", 20).unwrap().is_empty());

    // A doctor in the Russian keyboard layout: «Р21» is P21 (Cyrillic Р looks like P).
    let expected_p21: Vec<String> = {
        let mut v: Vec<String> = shipped
            .iter()
            .filter(|r| r.code.starts_with("P21"))
            .map(|r| r.code.clone())
            .collect();
        v.sort();
        v
    };
    assert!(!expected_p21.is_empty());
    assert_eq!(
        codes(&reference::search_icd10(conn, "Р21", 20).unwrap()),
        expected_p21,
        "Cyrillic Р21"
    );
    assert_eq!(
        codes(&reference::search_icd10(conn, "р21,0", 20).unwrap()),
        vec!["P21.0"],
        "Cyrillic р21,0"
    );
    // The Ukrainian і is no Latin letter's double: not a code, and no name has it.
    assert!(reference::search_icd10(conn, "і21", 20).unwrap().is_empty());

    // Codes that are not in the reference, or no longer in force, in the order given.
    let known = |c: &str| shipped.iter().any(|r| r.code == c && r.actual);
    assert!(known("I21.0") && known("J18") && known("E11.9"));
    assert!(!shipped
        .iter()
        .any(|r| r.code == "I21.5" || r.code == "Q99.99"));
    assert!(shipped.iter().any(|r| r.code == "A90" && !r.actual));
    let asked: Vec<String> = ["I21.0", "I21.5", "J18", "Q99.99", "E11.9", "A90"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        reference::unknown_icd10(conn, &asked).unwrap(),
        vec!["I21.5", "Q99.99", "A90"]
    );
    assert!(reference::unknown_icd10(conn, &asked[..1])
        .unwrap()
        .is_empty());
    assert!(reference::unknown_icd10(conn, &[]).unwrap().is_empty());
}

/// The Russian keyboard layout must find the same codes as the Latin one, also
/// for a prefix shorter than a heading and for a six-character code.
fn cyrillic_layout_code_prefixes_find_what_latin_ones_find(backend: BackendKind) {
    let (_t, db) = fresh(backend);
    let mut conn = db.conn().unwrap();
    let conn: &mut DbConn = &mut conn;
    reference::ensure_loaded(conn).unwrap();
    let mut wrong = Vec::new();
    // (Latin, the same keys typed with Cyrillic look-alike letters)
    for (latin, cyrillic) in [
        ("P21", "Р21"),
        ("p21,9", "р21,9"),
        ("P2", "Р2"),
        ("P21.", "Р21."),
        ("T02.00", "Т02.00"),
        ("T14.2", "Т14.2"),
    ] {
        let want = codes(&reference::search_icd10(conn, latin, 50).unwrap());
        assert!(!want.is_empty(), "{latin} finds nothing");
        let got = codes(&reference::search_icd10(conn, cyrillic, 50).unwrap());
        if got != want {
            wrong.push(format!(
                "  {cyrillic:?} finds {} codes {:?}…, {latin:?} finds {} codes {:?}…",
                got.len(),
                &got[..got.len().min(3)],
                want.len(),
                &want[..want.len().min(3)]
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "the Russian layout finds other codes than the Latin one:\n{}",
        wrong.join("\n")
    );
}

// ---- organizations, users, memberships, tokens ----------------------------------------

fn organizations_users_and_memberships_round_trip(backend: BackendKind) {
    let (_t, db) = fresh(backend);
    let mut conn = db.conn().unwrap();
    let conn: &mut DbConn = &mut conn;

    let created = at("2026-02-03 04:05:06.789012");
    let mo = repo::insert_organization(
        conn,
        &NewOrganization {
            name: "ГБУЗ «Районная больница № 2»",
            short_name: "РБ № 2",
            kind: "mo",
            level: Some(1),
            frmo_oid: Some("1.2.643.5.1.13.13.12.2.77.7701"),
            time_zone: "Asia/Yekaterinburg",
            requires_head_approval: true,
            active: false,
            created_at: created,
            address: "",
            phone: "",
        },
    )
    .unwrap();
    let tkc = repo::insert_organization(
        conn,
        &NewOrganization {
            name: "ТКЦ областной больницы",
            short_name: "ТКЦ",
            kind: "tkc",
            level: None,
            frmo_oid: None,
            time_zone: "Europe/Moscow",
            requires_head_approval: false,
            active: true,
            created_at: created,
            address: "",
            phone: "",
        },
    )
    .unwrap();
    assert_ne!(mo, tkc);
    let o = repo::organization(conn, mo).unwrap();
    assert_eq!(o.id, mo);
    assert_eq!(o.name, "ГБУЗ «Районная больница № 2»");
    assert_eq!(o.short_name, "РБ № 2");
    assert_eq!(o.kind, "mo");
    assert_eq!(o.level, Some(1));
    assert_eq!(
        o.frmo_oid.as_deref(),
        Some("1.2.643.5.1.13.13.12.2.77.7701")
    );
    assert_eq!(o.time_zone, "Asia/Yekaterinburg");
    assert!(o.requires_head_approval);
    assert!(!o.active);
    assert_eq!(o.created_at, created, "microseconds survive");
    let t = repo::organization(conn, tkc).unwrap();
    assert_eq!((t.level, t.frmo_oid, t.active), (None, None, true));
    assert!(matches!(
        repo::organization(conn, tkc + 1000),
        Err(StoreError::NotFound)
    ));
    let tkcs: Vec<i64> = repo::organizations(conn, Some("tkc"))
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(tkcs, vec![tkc]);
    let all: Vec<String> = repo::organizations(conn, None)
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(
        all,
        vec!["ГБУЗ «Районная больница № 2»", "ТКЦ областной больницы"],
        "by name"
    );

    let mut u = new_user("ivanov", "Иванов");
    u.middle_name = "";
    u.email = "ivanov@example.org";
    u.locale = "en";
    u.must_change_password = true;
    u.created_at = created;
    let ivanov = repo::insert_user(conn, &u).unwrap();
    let read = repo::user(conn, ivanov).unwrap();
    assert_eq!(read.id, ivanov);
    assert_eq!(read.login, "ivanov");
    assert_eq!(read.password_hash, u.password_hash);
    assert_eq!(read.last_name, "Иванов");
    assert_eq!(read.first_name, "Иван");
    assert_eq!(read.middle_name, "");
    assert_eq!(read.position, "врач");
    assert_eq!(read.phone, "+7 900 000-00-00");
    assert_eq!(read.email, "ivanov@example.org");
    assert_eq!(read.locale, "en");
    assert!(read.active);
    assert!(read.must_change_password);
    assert_eq!(read.created_at, created);
    assert_eq!(read.short_name(), "Иванов И.");

    let by_login = repo::user_by_login(conn, "ivanov")
        .unwrap()
        .expect("by login");
    assert_eq!(by_login.id, ivanov);
    assert!(repo::user_by_login(conn, "nobody").unwrap().is_none());
    assert!(repo::user_by_login(conn, "").unwrap().is_none());

    // A login is unique; the first owner keeps it.
    let mut twin = new_user("ivanov", "Иванова");
    twin.password_hash = "other";
    match repo::insert_user(conn, &twin) {
        Err(StoreError::Duplicate) => {}
        other => panic!("a duplicate login gave {other:?}"),
    }
    let still = repo::user_by_login(conn, "ivanov").unwrap().unwrap();
    assert_eq!((still.id, still.last_name.as_str()), (ivanov, "Иванов"));
    // The connection is usable after the refused insert (PostgreSQL aborts only the statement).
    let petrov = add_user(conn, "petrov", "Петров");
    let mut ids: Vec<i64> = repo::users_by_ids(conn, &[petrov, ivanov, 999_999])
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    ids.sort();
    assert_eq!(ids, {
        let mut v = vec![ivanov, petrov];
        v.sort();
        v
    });

    repo::set_password(conn, petrov, "new-hash", true).unwrap();
    let p = repo::user(conn, petrov).unwrap();
    assert_eq!(
        (p.password_hash.as_str(), p.must_change_password),
        ("new-hash", true)
    );
    assert_eq!(
        repo::user(conn, ivanov).unwrap().password_hash,
        u.password_hash,
        "only that user's password changed"
    );
    assert!(matches!(
        repo::set_password(conn, 999_999, "x", false),
        Err(StoreError::NotFound)
    ));

    repo::add_membership(conn, ivanov, mo, "doctor").unwrap();
    repo::add_membership(conn, ivanov, tkc, "consultant").unwrap();
    repo::add_membership(conn, petrov, tkc, "coordinator").unwrap();
    let m: Vec<(i64, String)> = repo::memberships_of(conn, ivanov)
        .unwrap()
        .into_iter()
        .map(|m| {
            assert_eq!(m.user_id, ivanov);
            (m.organization_id, m.role)
        })
        .collect();
    assert_eq!(m, vec![(mo, "doctor".into()), (tkc, "consultant".into())]);
    // The same, each with its organization (what a request's caller is read from).
    let with_orgs: Vec<(String, i64)> = repo::memberships_with_orgs(conn, ivanov)
        .unwrap()
        .into_iter()
        .map(|(m, org)| {
            assert_eq!(m.organization_id, org.id);
            (m.role, org.id)
        })
        .collect();
    assert_eq!(
        with_orgs,
        vec![("doctor".into(), mo), ("consultant".into(), tkc)]
    );
    assert!(matches!(
        repo::add_membership(conn, ivanov, mo, "doctor"),
        Err(StoreError::Duplicate)
    ));
    // Foreign keys are enforced (on SQLite only with PRAGMA foreign_keys = ON).
    match repo::add_membership(conn, ivanov, 999_999, "doctor") {
        Err(StoreError::Query(_)) => {}
        other => panic!("a membership in a missing organization gave {other:?}"),
    }
    assert_eq!(repo::memberships_of(conn, ivanov).unwrap().len(), 2);
    assert!(repo::memberships_of(conn, 999_999).unwrap().is_empty());
}

// ---- consultations -------------------------------------------------------------------------

/// Asserts the named fields are equal, naming the first that is not.
macro_rules! assert_fields_eq {
    ($left:expr, $right:expr, $($field:ident),+ $(,)?) => {{
        let (l, r) = (&$left, &$right);
        $(assert_eq!(l.$field, r.$field, concat!("field `", stringify!($field), "`"));)+
    }};
}

fn assert_stored(read: &Consultation, written: &ConsultationWrite) {
    assert_fields_eq!(
        read,
        written,
        status,
        requesting_org_id,
        requester_id,
        assigned_tkc_id,
        form_of_care,
        mode,
        profile,
        purpose,
        patient_name,
        patient_birth_date,
        patient_snils,
        patient_oms,
        diagnosis_main,
        search_text,
        clinical,
        created_at,
        updated_at,
        submitted_at,
        deadline_at,
        budget_seconds,
        paused_at,
        paused_seconds,
        closed_at,
        scheduled_start,
        scheduled_minutes,
        closeout_useful,
        closeout_effect,
        version,
        unsaved_input,
    );
    // Catches a field added to the model but not to the list above.
    assert_eq!(format!("{:?}", read.to_write()), format!("{written:?}"));
}

fn consultation_round_trip_and_optimistic_locking(backend: BackendKind) {
    let (_t, db) = fresh(backend);
    let mut conn = db.conn().unwrap();
    let conn: &mut DbConn = &mut conn;
    let mo = add_org(conn, "ЦРБ", "mo");
    let tkc = add_org(conn, "ТКЦ", "tkc");
    let doctor = add_user(conn, "doctor", "Петров");

    let row = ConsultationWrite {
        status: "returned".into(),
        requesting_org_id: mo,
        requester_id: doctor,
        assigned_tkc_id: Some(tkc),
        form_of_care: Some("urgent".into()),
        mode: Some("realtime".into()),
        profile: Some("cardiology".into()),
        purpose: Some("diagnosis".into()),
        patient_name: "Иванов Иван Иванович".into(),
        patient_birth_date: Some(NaiveDate::from_ymd_opt(1960, 2, 29).unwrap()),
        patient_snils: Some("11223344595".into()),
        patient_oms: Some("1234567890123456".into()),
        diagnosis_main: Some("I21.0".into()),
        search_text: "иванов иван иванович 11223344595 1234567890123456".into(),
        clinical: r#"{"complaints":"Давящая боль за грудиной","ecg":"подъём ST"}"#.into(),
        created_at: at("2026-03-01 08:00:00.000001"),
        updated_at: at("2026-03-01 08:30:15.123456"),
        submitted_at: Some(at("2026-03-01 08:05:00.5")),
        deadline_at: Some(at("2026-03-02 08:05:00.999999")),
        budget_seconds: 86_400,
        paused_at: Some(at("2026-03-01 09:00:00.000100")),
        paused_seconds: 61,
        closed_at: None,
        scheduled_start: Some(at("2026-03-01 12:00:00")),
        scheduled_minutes: Some(30),
        closeout_useful: Some(false),
        closeout_effect: Some("Тактика изменена".into()),
        version: 0,
        unsaved_input: r#"{"patient":{"snils":"112-233-445 9"}}"#.into(),
    };
    let id = insert(conn, &row);
    assert_stored(&repo::consultation(conn, id).unwrap(), &row);

    // A draft: every optional field empty, and it stays empty (not false / 0 / "").
    let draft = request(mo, doctor, "draft", "Сидорова Анна");
    let draft_id = insert(conn, &draft);
    assert_ne!(draft_id, id);
    assert_stored(&repo::consultation(conn, draft_id).unwrap(), &draft);
    assert!(matches!(
        repo::consultation(conn, draft_id + 1000),
        Err(StoreError::NotFound)
    ));

    // The doctor resubmits: the pause ends (NULL is written, not skipped),
    // the close-out answer is cleared, the version goes up.
    let read = repo::consultation(conn, id).unwrap();
    let mut next = read.to_write();
    next.status = "submitted".into();
    next.paused_at = None;
    next.paused_seconds = 3_600;
    next.deadline_at = Some(at("2026-03-02 09:05:00.999999"));
    next.closeout_useful = None;
    next.closeout_effect = None;
    next.scheduled_start = None;
    next.updated_at = at("2026-03-01 10:00:00.000007");
    db.write(|c| repo::update_consultation(c, id, read.version, &next))
        .expect("an update at the version read succeeds");
    let after = repo::consultation(conn, id).unwrap();
    assert_eq!(after.version, read.version + 1, "the version is bumped");
    let mut expected = next.clone();
    expected.version = read.version + 1;
    assert_stored(&after, &expected);
    assert_stored(&repo::consultation(conn, draft_id).unwrap(), &draft);

    // A second writer who read before that update loses, and changes nothing.
    let mut stale = read.to_write();
    stale.status = "cancelled".into();
    stale.patient_name = "Кто-то другой".into();
    match db.write(|c| repo::update_consultation(c, id, read.version, &stale)) {
        Err(StoreError::Conflict) => {}
        other => panic!("a stale update gave {other:?}"),
    }
    assert_stored(&repo::consultation(conn, id).unwrap(), &expected);
    // A version from the future is as wrong as one from the past.
    assert!(matches!(
        repo::update_consultation(conn, id, after.version + 1, &stale),
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        repo::update_consultation(conn, id + 1000, 0, &stale),
        Err(StoreError::Conflict)
    ));
    assert_stored(&repo::consultation(conn, id).unwrap(), &expected);

    // The version in the row written does not matter, only the expected one.
    let mut again = after.to_write();
    again.version = 77;
    again.status = "assigned".into();
    repo::update_consultation(conn, id, after.version, &again).unwrap();
    let last = repo::consultation(conn, id).unwrap();
    assert_eq!(
        (last.version, last.status.as_str()),
        (after.version + 1, "assigned")
    );

    // A time another tool wrote in another layout (ISO, with `T`) still
    // reads: SQLite's fast path hands it to diesel's parser. A date written
    // by hand reads too.
    raw(
        conn,
        &format!(
            "UPDATE consultations SET created_at = '2026-03-01T08:30:00', \
             patient_birth_date = '1958-03-12' WHERE id = {id}"
        ),
    )
    .unwrap();
    let other = repo::consultation(conn, id).unwrap();
    assert_eq!(other.created_at, at("2026-03-01 08:30:00"));
    assert_eq!(
        other.patient_birth_date,
        chrono::NaiveDate::from_ymd_opt(1958, 3, 12)
    );
}

fn visibility_decides_who_sees_which_requests(backend: BackendKind) {
    let (_t, db) = fresh(backend);
    let mut conn = db.conn().unwrap();
    let conn: &mut DbConn = &mut conn;
    let mo_a = add_org(conn, "ЦРБ А", "mo");
    let mo_b = add_org(conn, "ЦРБ Б", "mo");
    let tkc = add_org(conn, "ТКЦ", "tkc");
    let tkc2 = add_org(conn, "ТКЦ-2", "tkc");
    let doc_a = add_user(conn, "doc_a", "Антонов");
    let doc_b = add_user(conn, "doc_b", "Борисов");
    let consultant = add_user(conn, "cons", "Васильев");
    let other_consultant = add_user(conn, "cons2", "Григорьев");
    let t0 = at("2026-03-10 12:00:00");

    let a_draft = insert(conn, &request(mo_a, doc_a, "draft", "Пациент А1"));
    let a_sub = insert(conn, &submitted(mo_a, doc_a, "submitted", t0));
    let b_draft = insert(conn, &request(mo_b, doc_b, "draft", "Пациент Б1"));
    let mut row = submitted(mo_b, doc_b, "assigned", t0 + Duration::hours(1));
    row.assigned_tkc_id = Some(tkc);
    row.profile = Some("cardiology".into());
    let b_assigned = insert(conn, &row);
    let mut row = submitted(mo_b, doc_b, "closed", t0 - Duration::hours(1));
    row.assigned_tkc_id = Some(tkc);
    row.closed_at = Some(t0);
    let b_closed = insert(conn, &row);
    let mut row = submitted(mo_b, doc_b, "in_progress", t0 + Duration::hours(2));
    row.assigned_tkc_id = Some(tkc2);
    row.form_of_care = Some("emergency".into());
    let b_other_tkc = insert(conn, &row);
    repo::set_consultants(conn, b_assigned, &[consultant, other_consultant], t0).unwrap();
    repo::set_consultants(conn, b_other_tkc, &[other_consultant], t0).unwrap();

    let names = [
        ("a_draft", a_draft),
        ("a_sub", a_sub),
        ("b_draft", b_draft),
        ("b_assigned", b_assigned),
        ("b_closed", b_closed),
        ("b_other_tkc", b_other_tkc),
    ];
    let none = ConsultationFilter::default();
    let mut sees = |vis: &Visibility, f: &ConsultationFilter| named(&names, &list(conn, vis, f));

    let doctor_a = Visibility {
        requesting_orgs: vec![mo_a],
        ..Default::default()
    };
    assert_eq!(
        sees(&doctor_a, &none),
        set(&["a_draft", "a_sub"]),
        "doctor of A"
    );
    let doctor_b = Visibility {
        requesting_orgs: vec![mo_b],
        ..Default::default()
    };
    assert_eq!(
        sees(&doctor_b, &none),
        set(&["b_draft", "b_assigned", "b_closed", "b_other_tkc"]),
        "doctor of B"
    );
    let dispatcher = Visibility {
        all: true,
        ..Default::default()
    };
    assert_eq!(
        sees(&dispatcher, &none),
        set(&["a_sub", "b_assigned", "b_closed", "b_other_tkc"]),
        "a dispatcher sees the region but no one's drafts"
    );
    let dispatcher_and_doctor_a = Visibility {
        all: true,
        requesting_orgs: vec![mo_a],
        ..Default::default()
    };
    assert_eq!(
        sees(&dispatcher_and_doctor_a, &none),
        set(&["a_draft", "a_sub", "b_assigned", "b_closed", "b_other_tkc"]),
        "a dispatcher who is also a doctor of A sees A's drafts, not B's"
    );
    let coordinator = Visibility {
        assigned_tkcs: vec![tkc],
        ..Default::default()
    };
    assert_eq!(
        sees(&coordinator, &none),
        set(&["b_assigned", "b_closed"]),
        "coordinator of the ТКЦ"
    );
    let as_consultant = Visibility {
        consultant: Some(consultant),
        ..Default::default()
    };
    assert_eq!(
        sees(&as_consultant, &none),
        set(&["b_assigned"]),
        "consultant"
    );
    let as_other_consultant = Visibility {
        consultant: Some(other_consultant),
        ..Default::default()
    };
    assert_eq!(
        sees(&as_other_consultant, &none),
        set(&["b_assigned", "b_other_tkc"]),
        "second member of a consilium"
    );
    assert!(
        sees(&Visibility::default(), &none).is_empty(),
        "no role, nothing"
    );
    let doctor_a_and_coordinator = Visibility {
        requesting_orgs: vec![mo_a],
        assigned_tkcs: vec![tkc2],
        ..Default::default()
    };
    assert_eq!(
        sees(&doctor_a_and_coordinator, &none),
        set(&["a_draft", "a_sub", "b_other_tkc"]),
        "roles add up"
    );

    // Filters narrow what is visible, never widen it.
    let drafts = ConsultationFilter {
        statuses: vec!["draft".into()],
        ..Default::default()
    };
    assert_eq!(sees(&doctor_b, &drafts), set(&["b_draft"]));
    assert!(sees(&dispatcher, &drafts).is_empty());
    let two_states = ConsultationFilter {
        statuses: vec!["assigned".into(), "closed".into()],
        ..Default::default()
    };
    assert_eq!(
        sees(&dispatcher, &two_states),
        set(&["b_assigned", "b_closed"])
    );
    let of_b = ConsultationFilter {
        requesting_org: Some(mo_b),
        ..Default::default()
    };
    assert_eq!(
        sees(&dispatcher, &of_b),
        set(&["b_assigned", "b_closed", "b_other_tkc"])
    );
    assert!(sees(&doctor_a, &of_b).is_empty());
    let at_tkc = ConsultationFilter {
        assigned_tkc: Some(tkc),
        ..Default::default()
    };
    assert_eq!(sees(&dispatcher, &at_tkc), set(&["b_assigned", "b_closed"]));
    let emergency = ConsultationFilter {
        form_of_care: Some("emergency".into()),
        ..Default::default()
    };
    assert_eq!(sees(&dispatcher, &emergency), set(&["b_other_tkc"]));
    let cardiology = ConsultationFilter {
        profile: Some("cardiology".into()),
        ..Default::default()
    };
    assert_eq!(sees(&dispatcher, &cardiology), set(&["b_assigned"]));

    // Single requests, as opening one by its id checks.
    assert!(repo::is_visible(conn, &doctor_a, a_draft).unwrap());
    assert!(!repo::is_visible(conn, &doctor_a, b_draft).unwrap());
    assert!(!repo::is_visible(conn, &dispatcher, a_draft).unwrap());
    assert!(repo::is_visible(conn, &dispatcher, a_sub).unwrap());
    assert!(repo::is_visible(conn, &as_consultant, b_assigned).unwrap());
    assert!(!repo::is_visible(conn, &as_consultant, b_other_tkc).unwrap());
    assert!(!repo::is_visible(conn, &dispatcher, b_closed + 1000).unwrap());

    // Pages: the total is of all matches, pages do not overlap.
    let (page1, total) = repo::list_consultations(conn, &dispatcher, &none, 0, 3).unwrap();
    let (page2, total2) = repo::list_consultations(conn, &dispatcher, &none, 3, 3).unwrap();
    assert_eq!((total, total2), (4, 4));
    assert_eq!((page1.len(), page2.len()), (3, 1));
    let mut both: Vec<i64> = page1.iter().chain(&page2).map(|c| c.id).collect();
    both.sort();
    both.dedup();
    assert_eq!(both.len(), 4);
}

fn overdue_filter_matches_the_deadline_clock(backend: BackendKind) {
    let (_t, db) = fresh(backend);
    let mut conn = db.conn().unwrap();
    let conn: &mut DbConn = &mut conn;
    let mo = add_org(conn, "ЦРБ", "mo");
    let doctor = add_user(conn, "doctor", "Петров");
    let now = at("2026-03-10 12:00:00");
    let h = Duration::hours;
    let mut rows: Vec<(&'static str, ConsultationWrite)> = vec![
        ("late", submitted(mo, doctor, "submitted", now - h(1))),
        (
            "late_by_a_microsecond",
            submitted(mo, doctor, "in_review", now - Duration::microseconds(1)),
        ),
        ("due_exactly_now", submitted(mo, doctor, "accepted", now)),
        ("in_time", submitted(mo, doctor, "in_progress", now + h(1))),
        (
            "escalated_late",
            submitted(mo, doctor, "escalated", now - h(2)),
        ),
        ("closed_late", submitted(mo, doctor, "closed", now - h(5))),
        (
            "completed_late",
            submitted(mo, doctor, "completed", now - h(5)),
        ),
        (
            "cancelled_late",
            submitted(mo, doctor, "cancelled", now - h(5)),
        ),
        ("draft", request(mo, doctor, "draft", "Черновик")),
        (
            "awaiting_approval",
            request(mo, doctor, "awaiting_approval", "Ожидает"),
        ),
    ];
    // Returned to the doctor before the deadline: the clock stopped in time.
    let mut paused_in_time = submitted(mo, doctor, "returned", now - h(1));
    paused_in_time.paused_at = Some(now - h(3));
    rows.push(("paused_in_time", paused_in_time));
    // Returned only after it was already late: still late.
    let mut paused_late = submitted(mo, doctor, "returned", now - h(3));
    paused_late.paused_at = Some(now - h(1));
    rows.push(("paused_late", paused_late));
    // Paused at the very moment of the deadline: not late (no time went over).
    let mut paused_at_deadline = submitted(mo, doctor, "returned", now - h(3));
    paused_at_deadline.paused_at = Some(now - h(3));
    rows.push(("paused_at_deadline", paused_at_deadline));
    for (_, row) in rows.iter_mut() {
        if ["closed", "completed", "cancelled"].contains(&row.status.as_str()) {
            row.closed_at = Some(now - h(4));
        }
    }
    let names: Vec<(&'static str, i64)> = rows
        .iter()
        .map(|(name, row)| (*name, insert(conn, row)))
        .collect();

    // The oracle: the domain's own deadline clock, for the open states.
    for (name, row) in &rows {
        let open = repo::OPEN_STATES.contains(&row.status.as_str());
        let clock = row
            .deadline_at
            .map(|d| rtms_domain::deadline::DeadlineClock {
                started_at: (d - Duration::seconds(row.budget_seconds)).and_utc(),
                budget_seconds: row.budget_seconds,
                paused_seconds: 0,
                paused_at: row.paused_at.map(|p| p.and_utc()),
            });
        let late = open && clock.is_some_and(|c| c.is_overdue(now.and_utc()));
        let expected_late = [
            "late",
            "late_by_a_microsecond",
            "escalated_late",
            "paused_late",
        ]
        .contains(name);
        assert_eq!(
            late, expected_late,
            "the fixture {name} is not what it says"
        );
    }

    let dispatcher = Visibility {
        all: true,
        requesting_orgs: vec![mo],
        ..Default::default()
    };
    let overdue = ConsultationFilter {
        overdue: Some(true),
        now: Some(now),
        ..Default::default()
    };
    assert_eq!(
        named(&names, &list(conn, &dispatcher, &overdue)),
        set(&[
            "late",
            "late_by_a_microsecond",
            "escalated_late",
            "paused_late"
        ]),
        "overdue requests"
    );
    // With the open statuses too, as the queue asks for them.
    let open_overdue = ConsultationFilter {
        statuses: open_states(),
        ..overdue.clone()
    };
    assert_eq!(list(conn, &dispatcher, &open_overdue).len(), 4);
    // Without a `now`, the overdue filter does nothing.
    let no_now = ConsultationFilter {
        overdue: Some(true),
        ..Default::default()
    };
    assert_eq!(list(conn, &dispatcher, &no_now).len(), names.len());
    // An hour later, the request due in an hour is late too.
    let later = ConsultationFilter {
        now: Some(now + h(1) + Duration::seconds(1)),
        ..overdue.clone()
    };
    assert!(named(&names, &list(conn, &dispatcher, &later)).contains("in_time"));

    // "Not overdue" is everything else: nothing may fall through both lists.
    let in_time = ConsultationFilter {
        overdue: Some(false),
        now: Some(now),
        ..Default::default()
    };
    assert_eq!(
        named(&names, &list(conn, &dispatcher, &in_time)),
        set(&[
            "due_exactly_now",
            "in_time",
            "closed_late",
            "completed_late",
            "cancelled_late",
            "draft",
            "awaiting_approval",
            "paused_in_time",
            "paused_at_deadline",
        ]),
        "requests that are not overdue"
    );
}

fn text_search_and_queue_order(backend: BackendKind) {
    let (_t, db) = fresh(backend);
    let mut conn = db.conn().unwrap();
    let conn: &mut DbConn = &mut conn;
    let mo = add_org(conn, "ЦРБ", "mo");
    let doctor = add_user(conn, "doctor", "Петров");
    let dispatcher = Visibility {
        all: true,
        requesting_orgs: vec![mo],
        ..Default::default()
    };

    // Search: the service lower-cases the query; the stored text is lower case.
    let mut ivanov = request(mo, doctor, "submitted", "Иванов Иван Иванович");
    ivanov.search_text = "иванов иван иванович 11223344595 1234567890123456".into();
    // A whole СНИЛС is looked up in its own column, as the service fills it.
    ivanov.patient_snils = Some("11223344595".into());
    let ivanov = insert(conn, &ivanov);
    let mut ivanenko = request(mo, doctor, "submitted", "Иваненко Пётр Ильич");
    ivanenko.search_text = "иваненко пётр ильич  ".into();
    let ivanenko = insert(conn, &ivanenko);
    let mut petrov = request(mo, doctor, "submitted", "Петров Иван");
    petrov.search_text = "петров иван  ".into();
    let petrov = insert(conn, &petrov);
    let names = [
        ("ivanov", ivanov),
        ("ivanenko", ivanenko),
        ("petrov", petrov),
    ];
    let mut search = |q: &str| {
        let f = ConsultationFilter {
            q: Some(q.into()),
            ..Default::default()
        };
        named(&names, &list(conn, &dispatcher, &f))
    };
    assert_eq!(search("иванов"), set(&["ivanov"]));
    assert_eq!(search("иван"), set(&["ivanov", "ivanenko", "petrov"]));
    assert_eq!(
        search("иван петров"),
        set(&["petrov"]),
        "all words, any order"
    );
    assert_eq!(search("  пётр  "), set(&["ivanenko"]));
    assert_eq!(search("ильич иваненко"), set(&["ivanenko"]));
    assert_eq!(search("11223344595"), set(&["ivanov"]), "by СНИЛС");
    assert_eq!(
        search("112-233-445 95"),
        set(&["ivanov"]),
        "by СНИЛС as printed"
    );
    assert!(search("11223344596").is_empty(), "another СНИЛС");
    assert!(search("ванов").is_empty(), "a name from its start only");
    assert_eq!(search("1234567890123456"), set(&["ivanov"]), "by полис ОМС");
    assert_eq!(search("2233"), set(&["ivanov"]), "a part of a number");
    assert!(search("сидоров").is_empty());
    assert!(search("иванов петров").is_empty());

    // Order of the queue.
    let (_t2, db2) = fresh(backend);
    let mut conn2 = db2.conn().unwrap();
    let conn = &mut *conn2;
    let mo = add_org(conn, "ЦРБ", "mo");
    let doctor = add_user(conn, "doctor", "Петров");
    let t0 = at("2026-03-10 12:00:00");
    let h = Duration::hours;
    let closed = |status: &str, deadline: Option<NaiveDateTime>| {
        let mut row = request(mo, doctor, status, "Закрытый");
        row.deadline_at = deadline;
        row.closed_at = Some(t0);
        row
    };
    let mut names: Vec<(&'static str, i64)> = Vec::new();
    for (name, row) in [
        ("closed_early", closed("closed", Some(t0 - h(10)))),
        ("open_3h", submitted(mo, doctor, "assigned", t0 + h(3))),
        ("draft_1", request(mo, doctor, "draft", "Черновик 1")),
        ("open_late", submitted(mo, doctor, "submitted", t0 - h(1))),
        ("cancelled_no_deadline", closed("cancelled", None)),
        ("open_1h", submitted(mo, doctor, "in_progress", t0 + h(1))),
        ("closed_later", closed("closed", Some(t0 + h(5)))),
        ("draft_2", request(mo, doctor, "draft", "Черновик 2")),
    ] {
        names.push((name, insert(conn, &row)));
    }
    let ordered: Vec<&str> = list(conn, &dispatcher, &ConsultationFilter::default())
        .iter()
        .map(|id| names.iter().find(|(_, i)| i == id).unwrap().0)
        .collect();
    assert_eq!(
        ordered,
        vec![
            // open, by deadline
            "open_late",
            "open_1h",
            "open_3h",
            // no deadline yet, newest first
            "draft_2",
            "draft_1",
            // closed last, the newest first (an archive is read from its end)
            "closed_later",
            "cancelled_no_deadline",
            "closed_early",
        ]
    );
    // The order holds across pages.
    let (first, _) =
        repo::list_consultations(conn, &dispatcher, &ConsultationFilter::default(), 0, 2).unwrap();
    let (second, _) =
        repo::list_consultations(conn, &dispatcher, &ConsultationFilter::default(), 2, 2).unwrap();
    let paged: Vec<i64> = first.iter().chain(&second).map(|c| c.id).collect();
    let by_name = |n: &str| names.iter().find(|(m, _)| *m == n).unwrap().1;
    assert_eq!(
        paged,
        vec![
            by_name("open_late"),
            by_name("open_1h"),
            by_name("open_3h"),
            by_name("draft_2")
        ]
    );
}

// ---- conclusions -------------------------------------------------------------------------

/// A list read page by page gives the same requests in the same order as one
/// long page: open ones by deadline (soonest first), then open ones without a
/// deadline (drafts, newest first), then the closed ones (newest first), and
/// no page repeats or skips one, wherever a page boundary falls.
fn pages_run_from_deadlines_to_drafts_to_the_archive(backend: BackendKind) {
    let (_t, db) = fresh(backend);
    let mut conn = db.conn().unwrap();
    let conn: &mut DbConn = &mut conn;
    let mo = add_org(conn, "ЦРБ", "mo");
    let doctor = add_user(conn, "doctor", "Петров");
    let own = Visibility {
        requesting_orgs: vec![mo],
        ..Default::default()
    };
    let base = at("2026-03-10 12:00:00");
    let mut expected_dated = Vec::new();
    // Inserted out of deadline order, so the order comes from the query.
    for hours in [5, 1, 4, 2, 3] {
        let id = insert(
            conn,
            &submitted(mo, doctor, "submitted", base + Duration::hours(hours)),
        );
        expected_dated.push((hours, id));
    }
    expected_dated.sort();
    let drafts: Vec<i64> = (0..3)
        .map(|_| insert(conn, &request(mo, doctor, "draft", "Черновик")))
        .collect();
    let closed: Vec<i64> = (0..4)
        .map(|_| insert(conn, &closed(mo, doctor, base)))
        .collect();
    let mut expected: Vec<i64> = expected_dated.iter().map(|(_, id)| *id).collect();
    expected.extend(drafts.iter().rev());
    expected.extend(closed.iter().rev());

    let none = ConsultationFilter::default();
    let (whole, total) = repo::list_consultations(conn, &own, &none, 0, 100).unwrap();
    assert_eq!(whole.iter().map(|c| c.id).collect::<Vec<_>>(), expected);
    assert_eq!(total, 12);
    for per_page in [1, 2, 3, 4, 5, 7] {
        let mut paged = Vec::new();
        let mut offset = 0;
        while offset < 12 {
            let (page, total) =
                repo::list_consultations(conn, &own, &none, offset, per_page).unwrap();
            assert_eq!(total, 12, "per page {per_page}, from {offset}");
            paged.extend(page.iter().map(|c| c.id));
            offset += per_page;
        }
        assert_eq!(paged, expected, "{per_page} per page");
    }

    // A search that finds few is ordered and counted apart (`list_found`):
    // the same order, the drafts (another name) left out.
    let found = ConsultationFilter {
        q: Some("пациент".into()),
        ..Default::default()
    };
    let expected: Vec<i64> = expected
        .into_iter()
        .filter(|id| !drafts.contains(id))
        .collect();
    let (whole, total) = repo::list_consultations(conn, &own, &found, 0, 100).unwrap();
    assert_eq!(whole.iter().map(|c| c.id).collect::<Vec<_>>(), expected);
    assert_eq!(total, 9);
    for per_page in [1, 2, 4] {
        let mut paged = Vec::new();
        for offset in (0..9).step_by(per_page as usize) {
            let (page, total) =
                repo::list_consultations(conn, &own, &found, offset, per_page).unwrap();
            assert_eq!(total, 9, "search, per page {per_page}, from {offset}");
            paged.extend(page.iter().map(|c| c.id));
        }
        assert_eq!(paged, expected, "search, {per_page} per page");
    }
}

/// The counts a list keeps between requests (SQLite) move with every change
/// of a request or of its consultants, including one made by hand outside
/// the repositories (another process), and always equal a fresh count.
fn kept_counts_follow_every_change(backend: BackendKind) {
    let (_t, db) = fresh(backend);
    let mut conn = db.conn().unwrap();
    let conn: &mut DbConn = &mut conn;
    let mo = add_org(conn, "ЦРБ", "mo");
    let doctor = add_user(conn, "doctor", "Петров");
    let consultant = add_user(conn, "consultant", "Сидорова");
    let region = region_wide();
    let mine = Visibility {
        consultant: Some(consultant),
        ..Default::default()
    };
    let open = ConsultationFilter {
        statuses: open_states(),
        ..Default::default()
    };
    let all = ConsultationFilter::default();
    let base = at("2026-03-10 12:00:00");
    let ids: Vec<i64> = (1..=3)
        .map(|h| {
            insert(
                conn,
                &submitted(mo, doctor, "submitted", base + Duration::hours(h)),
            )
        })
        .collect();
    for _ in 0..2 {
        insert(conn, &closed(mo, doctor, base));
    }
    // The total as the counted list gives it, checked against a fresh count.
    // A page of one: the closed part is then counted, not seen whole.
    let counts = db.list_counts();
    let total = |conn: &mut DbConn, vis: &Visibility, f: &ConsultationFilter| {
        let (_, kept, _) =
            repo::list_consultations_counted(conn, Some(counts), vis, f, 0, 1).unwrap();
        let (_, fresh) = repo::list_consultations(conn, vis, f, 0, 1).unwrap();
        assert_eq!(kept, fresh, "a kept count differs from a fresh one");
        kept
    };
    assert_eq!(total(conn, &region, &open), 3);
    assert_eq!(total(conn, &region, &all), 5);
    assert_eq!(total(conn, &mine, &all), 0);

    let closed_at = "2026-03-11 09:00:00";
    raw(
        conn,
        &format!(
            "UPDATE consultations SET status = 'completed', closed_at = '{closed_at}' \
             WHERE id = {}",
            ids[0]
        ),
    )
    .unwrap();
    assert_eq!(total(conn, &region, &open), 2, "closed by hand");
    assert_eq!(total(conn, &region, &all), 5);

    insert(conn, &submitted(mo, doctor, "submitted", base));
    assert_eq!(total(conn, &region, &open), 3, "a new request");
    assert_eq!(total(conn, &region, &all), 6);

    raw(
        conn,
        &format!("DELETE FROM consultations WHERE id = {}", ids[1]),
    )
    .unwrap();
    assert_eq!(total(conn, &region, &open), 2, "deleted by hand");

    repo::set_consultants(conn, ids[2], &[consultant], base).unwrap();
    assert_eq!(total(conn, &mine, &all), 1, "a consultant assigned");
    raw(conn, "DELETE FROM consultation_consultants").unwrap();
    assert_eq!(total(conn, &mine, &all), 0, "consultants removed by hand");

    // Counted inside a transaction that is rolled back, then as many other
    // changes committed: the change number is the same again, the requests
    // are not.
    let before = total(conn, &region, &open);
    let rolled_back: Result<(), StoreError> = db.write(|c| {
        insert(c, &submitted(mo, doctor, "submitted", base));
        assert_eq!(
            total(c, &region, &open),
            before + 1,
            "inside the transaction"
        );
        Err(StoreError::Other("rolled back".into()))
    });
    assert!(rolled_back.is_err());
    insert(conn, &closed(mo, doctor, base));
    assert_eq!(total(conn, &region, &open), before, "after the rollback");
}

/// On PostgreSQL, counts are kept only while a listener hears the triggers'
/// notifications, and each notification (or a write through `Db::write`)
/// makes the next list count again.
#[test]
fn postgres_keeps_counts_while_it_hears_every_change() {
    use rtms_store::bus::{Heard, Listener};
    let (t, db) = fresh(BackendKind::Postgres);
    let mut conn = db.conn().unwrap();
    let conn: &mut DbConn = &mut conn;
    let mo = add_org(conn, "ЦРБ", "mo");
    let doctor = add_user(conn, "doctor", "Петров");
    let consultant = add_user(conn, "consultant", "Сидорова");
    let base = at("2026-03-10 12:00:00");
    let first = insert(conn, &submitted(mo, doctor, "submitted", base));
    let open = ConsultationFilter {
        statuses: open_states(),
        ..Default::default()
    };
    let mine = Visibility {
        consultant: Some(consultant),
        ..Default::default()
    };
    let counts = db.list_counts();
    let listed = |conn: &mut DbConn, vis: &Visibility| {
        repo::list_consultations_counted(conn, Some(counts), vis, &open, 0, 1)
            .unwrap()
            .1
    };
    let fresh_count = |conn: &mut DbConn, vis: &Visibility| {
        repo::list_consultations(conn, vis, &open, 0, 1).unwrap().1
    };
    // A change the triggers do not announce: only a kept count misses it.
    let unannounced = |conn: &mut DbConn| {
        raw(
            conn,
            "ALTER TABLE consultations DISABLE TRIGGER consultations_announce",
        )
        .unwrap();
        insert(conn, &submitted(mo, doctor, "submitted", base));
        raw(
            conn,
            "ALTER TABLE consultations ENABLE TRIGGER consultations_announce",
        )
        .unwrap();
    };
    let region = region_wide();

    // Nobody listening: counted every time.
    assert_eq!(listed(conn, &region), 1);
    unannounced(conn);
    assert_eq!(
        listed(conn, &region),
        2,
        "counted afresh without a listener"
    );

    let mut listener = Listener::open(&t.url).expect("listen");
    counts.listening(true);
    assert_eq!(listed(conn, &region), 2);
    unannounced(conn);
    assert_eq!(fresh_count(conn, &region), 3);
    assert_eq!(
        listed(conn, &region),
        2,
        "the count is kept while nothing is heard"
    );

    // What the listener hears makes the next list count again.
    let hear = |listener: &mut Listener| {
        for _ in 0..250 {
            let heard = listener.poll().expect("poll");
            if heard.contains(&Heard::RequestsChanged) {
                counts.changed();
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("no notification within 5 s");
    };
    raw(
        conn,
        &format!(
            "UPDATE consultations SET status = 'completed', closed_at = now() WHERE id = {first}"
        ),
    )
    .unwrap();
    hear(&mut listener);
    assert_eq!(listed(conn, &region), 2, "closed by hand, heard");
    assert_eq!(listed(conn, &mine), 0);
    raw(
        conn,
        &format!(
            "INSERT INTO consultation_consultants (consultation_id, user_id, assigned_at) \
             SELECT id, {consultant}, now() FROM consultations WHERE closed_at IS NULL"
        ),
    )
    .unwrap();
    hear(&mut listener);
    assert_eq!(
        listed(conn, &mine),
        2,
        "consultants assigned by hand, heard"
    );

    // This instance's own write is seen at once, before any notification.
    assert_eq!(listed(conn, &region), 2);
    db.write(|c| {
        insert(c, &submitted(mo, doctor, "submitted", base));
        Ok::<_, StoreError>(())
    })
    .unwrap();
    assert_eq!(listed(conn, &region), 3, "written here");

    // The listener gone: counted every time again.
    counts.listening(false);
    unannounced(conn);
    assert_eq!(
        listed(conn, &region),
        4,
        "counted afresh once nobody listens"
    );
}

/// More than `COUNT_LIMIT` open requests are still counted exactly, and the
/// total says so; only the closed ones are counted up to the limit.
fn open_requests_are_counted_exactly_beyond_the_limit(backend: BackendKind) {
    let (_t, db) = fresh(backend);
    let mut conn = db.conn().unwrap();
    let conn: &mut DbConn = &mut conn;
    let mo = add_org(conn, "ЦРБ", "mo");
    let doctor = add_user(conn, "doctor", "Петров");
    let base = at("2026-03-10 12:00:00");
    let open_n = repo::COUNT_LIMIT + 1;
    db.write(|c| {
        for i in 0..open_n {
            insert(
                c,
                &submitted(mo, doctor, "submitted", base + Duration::minutes(i)),
            );
        }
        for _ in 0..2 {
            insert(c, &closed(mo, doctor, base));
        }
        Ok::<_, StoreError>(())
    })
    .unwrap();
    let region = region_wide();
    let open = ConsultationFilter {
        statuses: open_states(),
        ..Default::default()
    };
    let counts = db.list_counts();
    for (f, expected) in [
        (&open, open_n),
        (&ConsultationFilter::default(), open_n + 2),
    ] {
        let (page, total, exact) =
            repo::list_consultations_counted(conn, Some(counts), &region, f, 0, 50).unwrap();
        assert_eq!(page.len(), 50);
        assert_eq!(total, expected);
        assert!(exact, "{total} counted exactly");
    }
}

fn content(author: i64, findings: &str, now: NaiveDateTime) -> ConclusionContent {
    ConclusionContent {
        author_id: author,
        diagnosis_main: "I21.0".into(),
        diagnosis_text: "Острый трансмуральный инфаркт передней стенки".into(),
        findings: findings.into(),
        recommendations: "Перевод в РСЦ".into(),
        transfer: "РСЦ".into(),
        follow_up_needed: true,
        follow_up: "Контроль ЭКГ через 2 часа".into(),
        patient_condition: Some("3".into()),
        updated_at: now,
    }
}

fn raw(conn: &mut DbConn, sql: &str) -> Result<(), String> {
    conn.batch_execute(sql).map_err(|e| e.to_string())
}

fn signed_conclusions_are_frozen(backend: BackendKind) {
    let (_t, db) = fresh(backend);
    let mut conn = db.conn().unwrap();
    let conn: &mut DbConn = &mut conn;
    let mo = add_org(conn, "ЦРБ", "mo");
    let doctor = add_user(conn, "doctor", "Петров");
    let consultant = add_user(conn, "cons", "Сидоров");
    let cid = insert(conn, &request(mo, doctor, "in_progress", "Иванов"));
    let t1 = at("2026-03-01 10:00:00.111111");
    let t2 = at("2026-03-01 10:20:00.222222");
    let t3 = at("2026-03-01 10:30:00.333333");

    assert!(repo::current_conclusion(conn, cid).unwrap().is_none());
    let id = repo::insert_conclusion(conn, cid, 1, &content(consultant, "Черновик", t1)).unwrap();
    let draft = repo::current_conclusion(conn, cid).unwrap().expect("draft");
    assert_eq!((draft.id, draft.version), (id, 1));
    assert_eq!((draft.created_at, draft.updated_at), (t1, t1));
    assert_eq!(draft.findings, "Черновик");
    assert!(draft.follow_up_needed);
    assert_eq!((draft.signed_at, draft.content_hash), (None, None));

    // Unsigned: the consultant edits, and the trigger lets an unsigned row change.
    repo::update_conclusion(conn, id, &content(consultant, "ST элевация в V1–V4", t2)).unwrap();
    let edited = repo::current_conclusion(conn, cid).unwrap().unwrap();
    assert_eq!(edited.findings, "ST элевация в V1–V4");
    assert_eq!((edited.created_at, edited.updated_at), (t1, t2));
    raw(
        conn,
        &format!("UPDATE conclusions SET transfer = 'РСЦ № 1' WHERE id = {id}"),
    )
    .expect("an unsigned conclusion may be changed");

    // Sealing what was read before the last edit fails: the signer must see what they sign.
    match repo::seal_conclusion(conn, id, "sha256:stale", t1, t3) {
        Err(StoreError::Conflict) => {}
        other => panic!("sealing a text changed since it was read gave {other:?}"),
    }
    repo::seal_conclusion(conn, id, "sha256:abc", t2, t3).unwrap();
    let signed = repo::current_conclusion(conn, cid).unwrap().unwrap();
    assert_eq!(signed.signed_at, Some(t3));
    assert_eq!(signed.content_hash.as_deref(), Some("sha256:abc"));
    assert_eq!(signed.transfer, "РСЦ № 1");

    match repo::update_conclusion(conn, id, &content(consultant, "Переписано", t3)) {
        Err(StoreError::Conflict) => {}
        other => panic!("rewriting a signed conclusion gave {other:?}"),
    }
    match repo::seal_conclusion(conn, id, "sha256:other", t2, t3) {
        Err(StoreError::Conflict) => {}
        other => panic!("signing twice gave {other:?}"),
    }
    // And the database refuses it too, whoever asks.
    for sql in [
        format!("UPDATE conclusions SET findings = 'Переписано' WHERE id = {id}"),
        format!("UPDATE conclusions SET signed_at = NULL, content_hash = NULL WHERE id = {id}"),
        "UPDATE conclusions SET follow_up_needed = FALSE".to_string(),
        format!("DELETE FROM conclusions WHERE id = {id}"),
    ] {
        let err = raw(conn, &sql).expect_err(&format!("the database allowed: {sql}"));
        assert!(
            err.contains("not allowed"),
            "{sql} failed, but not because of the trigger: {err}"
        );
    }
    let after = repo::current_conclusion(conn, cid).unwrap().unwrap();
    assert_eq!(after.findings, signed.findings);
    assert_eq!(after.signed_at, Some(t3));
    assert_eq!(after.content_hash.as_deref(), Some("sha256:abc"));
    assert!(after.follow_up_needed);
    assert_eq!(after.updated_at, t2);

    // A correction is a new version that supersedes the signed one.
    let v2 = repo::insert_conclusion(conn, cid, 2, &content(consultant, "Исправлено", t3)).unwrap();
    let current = repo::current_conclusion(conn, cid).unwrap().unwrap();
    assert_eq!((current.id, current.version), (v2, 2));
    assert!(current.signed_at.is_none());
    assert!(matches!(
        repo::insert_conclusion(conn, cid, 2, &content(consultant, "Дубль", t3)),
        Err(StoreError::Duplicate)
    ));
}

// ---- consultants ---------------------------------------------------------------------------

fn consultants_by_profile_with_their_open_load(backend: BackendKind) {
    let (_t, db) = fresh(backend);
    let mut conn = db.conn().unwrap();
    let conn: &mut DbConn = &mut conn;
    reference::ensure_loaded(conn).unwrap();
    let mo = add_org(conn, "ЦРБ", "mo");
    let tkc = add_org(conn, "ТКЦ", "tkc");
    let tkc2 = add_org(conn, "ТКЦ-2", "tkc");
    let doctor = add_user(conn, "doctor", "Аверин");
    // Names chosen so that the expected order by last name is А, Б, В, Г.
    let cardio = add_user(conn, "cardio", "Алексеев");
    let both = add_user(conn, "both", "Борисов");
    let neuro = add_user(conn, "neuro", "Васильев");
    let mut gone = new_user("gone", "Гаврилов");
    gone.active = false;
    let gone = repo::insert_user(conn, &gone).unwrap();
    for (user, org, role) in [
        (doctor, mo, "doctor"),
        (cardio, tkc, "consultant"),
        (both, tkc, "consultant"),
        (neuro, tkc2, "consultant"),
        (gone, tkc, "consultant"),
    ] {
        repo::add_membership(conn, user, org, role).unwrap();
    }
    for (user, profile) in [
        (doctor, "cardiology"),
        (cardio, "cardiology"),
        (both, "neurology"),
        (both, "cardiology"),
        (neuro, "neurology"),
        (gone, "cardiology"),
    ] {
        repo::add_user_profile(conn, user, profile).unwrap();
    }
    assert_eq!(
        repo::profiles_of(conn, both).unwrap(),
        vec!["cardiology", "neurology"]
    );

    let now = at("2026-03-10 12:00:00");
    let mut assign = |status: &str, users: &[i64]| {
        let id = insert(conn, &request(mo, doctor, status, "Пациент"));
        repo::set_consultants(conn, id, users, now).unwrap();
        id
    };
    // Open for a consultant: assigned, accepted, scheduled, in progress.
    for status in ["assigned", "accepted", "scheduled", "in_progress"] {
        assign(status, &[cardio]);
    }
    // Done or gone: not counted.
    for status in ["completed", "closed", "cancelled", "rejected"] {
        assign(status, &[cardio]);
    }
    assign("in_progress", &[both, cardio]);
    assign("completed", &[both]);
    assign("assigned", &[neuro]);
    assign("assigned", &[gone]);

    let load = repo::consultants(conn, Some("cardiology"), None).unwrap();
    let summary: Vec<(&str, i64, i64, Vec<String>)> = load
        .iter()
        .map(|c| {
            let mut profiles = c.profiles.clone();
            profiles.sort();
            (
                c.user.login.as_str(),
                c.organization_id,
                c.open_consultations,
                profiles,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("cardio", tkc, 5, vec!["cardiology".to_string()]),
            (
                "both",
                tkc,
                1,
                vec!["cardiology".to_string(), "neurology".to_string()]
            ),
        ],
        "active consultants with the cardiology profile, by last name"
    );

    let neurologists: Vec<(String, i64)> = repo::consultants(conn, Some("neurology"), None)
        .unwrap()
        .into_iter()
        .map(|c| (c.user.login, c.open_consultations))
        .collect();
    assert_eq!(
        neurologists,
        vec![("both".to_string(), 1), ("neuro".to_string(), 1)]
    );
    let at_tkc2: Vec<i64> = repo::consultants(conn, None, Some(tkc2))
        .unwrap()
        .iter()
        .map(|c| c.user.id)
        .collect();
    assert_eq!(at_tkc2, vec![neuro]);
    let neuro_at_tkc: Vec<i64> = repo::consultants(conn, Some("neurology"), Some(tkc))
        .unwrap()
        .iter()
        .map(|c| c.user.id)
        .collect();
    assert_eq!(neuro_at_tkc, vec![both]);
    let everyone: Vec<i64> = repo::consultants(conn, None, None)
        .unwrap()
        .iter()
        .map(|c| c.user.id)
        .collect();
    assert_eq!(everyone, vec![cardio, both, neuro]);
    assert!(repo::consultants(conn, Some("oncology"), None)
        .unwrap()
        .is_empty());
}

/// The job table does not grow for ever: finished jobs older than the cut are
/// deleted; a newer finished one and every unfinished one (however old) stay.
fn finished_jobs_are_pruned_unfinished_ones_kept(backend: BackendKind) {
    use rtms_store::jobs;
    let (_t, db) = fresh(backend);
    let mut conn = db.conn().unwrap();
    let old = at("2026-01-01 10:00:00");
    let new = at("2026-03-01 10:00:00");
    let done_old = jobs::enqueue(&mut conn, "email", "{}", old, old).unwrap();
    let done_new = jobs::enqueue(&mut conn, "email", "{}", new, new).unwrap();
    let waiting = jobs::enqueue_persistent(&mut conn, "federal_send", "{}", old, old).unwrap();
    jobs::complete(&mut conn, done_old, old).unwrap();
    jobs::complete(&mut conn, done_new, new).unwrap();
    assert_eq!(
        jobs::prune(&mut conn, at("2026-02-01 00:00:00")).unwrap(),
        1
    );
    // A second pass finds nothing more to delete before the same cut.
    assert_eq!(
        jobs::prune(&mut conn, at("2026-02-01 00:00:00")).unwrap(),
        0
    );
    // The unfinished job is still claimable.
    let claimed = jobs::claim(&mut conn, "w", new, chrono::Duration::minutes(5))
        .unwrap()
        .expect("the unfinished job is still there");
    assert_eq!(claimed.id, waiting);
    // After the newer one's cut, it goes too.
    assert_eq!(
        jobs::prune(&mut conn, at("2026-04-01 00:00:00")).unwrap(),
        1
    );
}
