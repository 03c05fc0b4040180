//! The demo region: `rtms serve --demo` on an empty database. Every request is
//! carried to its state through the real services, with the clock set back,
//! so timelines, deadlines and overdue flags are what the product would produce.

use std::sync::Arc;

use chrono::Duration;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rtms_domain::request::{ConsultationPatch, DiagnosisPatch, PatientPatch};
use rtms_domain::validate::snils_check_number;
use rtms_domain::{Action, OrgKind, Role, Status};
use rtms_store::models::NewOrganization;
use rtms_store::repo;

use crate::access::auth::{hash_password, NewUserSpec};
use crate::lifecycle::consultations::{ActionParams, ConclusionInput};
use crate::{Actor, Clock, ManualClock, ServiceError, Services};

pub const DEMO_PASSWORD: &str = "rtms-demo-password";

/// Every login the demo region creates, each with [`DEMO_PASSWORD`].
pub const DEMO_LOGINS: &[&str] = &[
    "admin",
    "dispatcher",
    "doctor",
    "head",
    "coordinator",
    "consultant",
    "consultant2",
    "analyst",
    "auditor",
    "doctor2",
    "doctor3",
    "doctor4",
    "head2",
];

/// The demo logins that are active and still sign in with [`DEMO_PASSWORD`]:
/// at most one password check per entry of [`DEMO_LOGINS`].
pub fn accounts_with_demo_password(svc: &Services) -> Result<Vec<String>, ServiceError> {
    let mut found = Vec::new();
    for login in DEMO_LOGINS {
        let Some(user) = svc.db.read(|c| repo::user_by_login(c, login))? else {
            continue;
        };
        if user.active && crate::access::auth::verify_password(DEMO_PASSWORD, &user.password_hash) {
            found.push(user.login);
        }
    }
    Ok(found)
}

/// Switches off the demo accounts that still have the demo password (each
/// audited); returns their logins.
pub fn disable_demo_accounts(svc: &Services) -> Result<Vec<String>, ServiceError> {
    let logins = accounts_with_demo_password(svc)?;
    for login in &logins {
        svc.db.write(|c| {
            let user = repo::user_by_login(c, login)?.ok_or(rtms_store::StoreError::NotFound)?;
            rtms_store::signin::set_user_active(c, user.id, false)?;
            let now = svc.clock.now().naive_utc();
            repo::revoke_tokens_of(c, user.id, "session", None, now)?;
            repo::revoke_tokens_of(c, user.id, "api", None, now)?;
            Ok::<_, rtms_store::StoreError>(())
        })?;
        svc.audit_anonymous(login, "", "demo_account_disabled", "demo password at start")?;
    }
    Ok(logins)
}

/// Seeds the demo region when the database has no organizations. Returns
/// whether it seeded.
pub fn seed_if_empty(svc: &Services) -> Result<bool, ServiceError> {
    if !svc.db.read(|c| repo::organizations(c, None))?.is_empty() {
        return Ok(false);
    }
    let now = svc.clock.now();
    let clock = Arc::new(ManualClock::new(now));
    let mut demo = Services::new(svc.db.clone(), clock.clone());
    // Its documents are made when first opened, not all at once at start.
    demo.render_at_signing = false;
    // Documents fixed at the demo's signatures name this server's key and address.
    demo.seal = svc.seal.clone();
    demo.public_url = svc.public_url.clone();

    let org =
        |name: &str, short: &str, kind: OrgKind, level: Option<i32>, oid: &str, approval: bool| {
            // Demo addresses: a fictional region, the town from the name.
            let address = format!(
                "г. Заречный, ул. Больничная, д. {}",
                oid.rsplit('.').next().unwrap_or("1")
            );
            demo.db.write(|c| {
                repo::insert_organization(
                    c,
                    &NewOrganization {
                        name,
                        short_name: short,
                        kind: kind.as_str(),
                        level,
                        frmo_oid: Some(oid),
                        time_zone: "Europe/Moscow",
                        requires_head_approval: approval,
                        active: true,
                        created_at: now.naive_utc(),
                        address: &address,
                        phone: "+7 800 000-00-00",
                    },
                )
            })
        };
    let ktc = org(
        "ГБУЗ «Медицинский информационно-аналитический центр»",
        "КТЦ МИАЦ",
        OrgKind::Ktc,
        None,
        "1.2.643.5.1.13.13.12.2.99.9001",
        false,
    )?;
    let okb = org(
        "ГБУЗ «Областная клиническая больница»",
        "ТКЦ ОКБ",
        OrgKind::Tkc,
        Some(3),
        "1.2.643.5.1.13.13.12.2.99.9002",
        false,
    )?;
    let onko = org(
        "ГБУЗ «Областной онкологический диспансер»",
        "ТКЦ Онкодиспансер",
        OrgKind::Tkc,
        Some(3),
        "1.2.643.5.1.13.13.12.2.99.9003",
        false,
    )?;
    let mo1 = org(
        "ГБУЗ «Заречная центральная районная больница»",
        "Заречная ЦРБ",
        OrgKind::Mo,
        Some(1),
        "1.2.643.5.1.13.13.12.2.99.9101",
        false,
    )?;
    let mo2 = org(
        "ГБУЗ «Озёрская центральная районная больница»",
        "Озёрская ЦРБ",
        OrgKind::Mo,
        Some(1),
        "1.2.643.5.1.13.13.12.2.99.9102",
        true,
    )?;
    let mo3 = org(
        "ГБУЗ «Городская больница № 2 г. Северска»",
        "ГБ № 2 Северска",
        OrgKind::Mo,
        Some(2),
        "1.2.643.5.1.13.13.12.2.99.9103",
        false,
    )?;
    let mo4 = org(
        "ГБУЗ «Лесновская районная больница»",
        "Лесновская РБ",
        OrgKind::Mo,
        Some(1),
        "1.2.643.5.1.13.13.12.2.99.9104",
        false,
    )?;

    // One hash for every demo user: they share the demo password, and hashing
    // is deliberately slow.
    let hash = hash_password(DEMO_PASSWORD)?;
    // Position codes only where НСИ 1002 names them in the Ministry's own
    // example (34 врач-кардиолог, 109 врач-терапевт); СНИЛС made up, with
    // valid check digits.
    let mut next_snils = 0u32;
    let mut user = |login: &str,
                    names: [&str; 3],
                    position: &str,
                    roles: Vec<(Role, i64)>,
                    profiles: &[&str]| {
        next_snils += 1;
        let position_code = match position {
            "Врач-кардиолог" => Some("34".to_string()),
            "Врач-терапевт" => Some("109".to_string()),
            _ => None,
        };
        demo.insert_user_with_hash(
            &NewUserSpec {
                login: login.into(),
                password: String::new(),
                last_name: names[0].into(),
                first_name: names[1].into(),
                middle_name: names[2].into(),
                position: position.into(),
                phone: String::new(),
                // Reserved for examples: nothing is ever delivered there.
                email: format!("{login}@rtms-demo.example"),
                roles,
                profiles: profiles.iter().map(|p| p.to_string()).collect(),
                must_change_password: false,
                snils: Some(demo_snils(next_snils)),
                position_code,
            },
            &hash,
        )
    };
    let admin = user(
        "admin",
        ["Кузнецов", "Олег", "Петрович"],
        "Администратор РТМС",
        vec![(Role::Admin, ktc)],
        &[],
    )?;
    let dispatcher = user(
        "dispatcher",
        ["Орлова", "Марина", "Игоревна"],
        "Диспетчер КТЦ",
        vec![(Role::Dispatcher, ktc)],
        &[],
    )?;
    let doctor = user(
        "doctor",
        ["Петрова", "Анна", "Сергеевна"],
        "Врач-терапевт",
        vec![(Role::Doctor, mo1)],
        &[],
    )?;
    user(
        "head",
        ["Волков", "Сергей", "Николаевич"],
        "Главный врач",
        vec![(Role::Head, mo1)],
        &[],
    )?;
    let coordinator = user(
        "coordinator",
        ["Белова", "Ирина", "Александровна"],
        "Координатор ТКЦ",
        vec![(Role::Coordinator, okb)],
        &[],
    )?;
    let consultant = user(
        "consultant",
        ["Смирнов", "Алексей", "Викторович"],
        "Врач-кардиолог",
        vec![(Role::Consultant, okb)],
        &[
            "cardiology",
            "internal_medicine",
            "neurology",
            "pulmonology",
            "surgery",
            "obstetrics_gynecology",
        ],
    )?;
    let consultant2 = user(
        "consultant2",
        ["Ковалёва", "Елена", "Дмитриевна"],
        "Врач-терапевт",
        vec![(Role::Consultant, onko)],
        &["oncology"],
    )?;
    user(
        "analyst",
        ["Зайцев", "Павел", "Андреевич"],
        "Аналитик",
        vec![(Role::Analyst, ktc)],
        &[],
    )?;
    user(
        "auditor",
        ["Лебедева", "Ольга", "Викторовна"],
        "Аудитор",
        vec![(Role::Auditor, ktc)],
        &[],
    )?;
    let doctor2 = user(
        "doctor2",
        ["Фёдоров", "Иван", "Ильич"],
        "Врач-хирург",
        vec![(Role::Doctor, mo2)],
        &[],
    )?;
    let doctor3 = user(
        "doctor3",
        ["Никитина", "Ольга", "Павловна"],
        "Врач-невролог",
        vec![(Role::Doctor, mo3)],
        &[],
    )?;
    let doctor4 = user(
        "doctor4",
        ["Григорьев", "Денис", "Олегович"],
        "Врач общей практики",
        vec![(Role::Doctor, mo4)],
        &[],
    )?;
    let head2 = user(
        "head2",
        ["Морозова", "Татьяна", "Юрьевна"],
        "Главный врач",
        vec![(Role::Head, mo2)],
        &[],
    )?;

    demo.db.write(|c| {
        // The СЭМД's settings: a МИС registered as number 1, instance 1; the
        // region as the Ministry's example names one in НСИ 206.
        repo::set_setting(c, crate::documents::semd::MIS_NUMBER_SETTING, "1.1")?;
        repo::set_setting(c, crate::documents::semd::REGION_CODE_SETTING, "77")?;
        repo::set_setting(c, crate::documents::semd::REGION_NAME_SETTING, "г. Москва")?;
        for p in rtms_store::reference::profiles(c)? {
            let tkc = if p.code.contains("oncology") {
                onko
            } else {
                okb
            };
            for form in ["emergency", "urgent", "planned"] {
                let on_duty = match (form, p.code.as_str()) {
                    ("emergency", "oncology") => Some(consultant2),
                    ("emergency", _) if tkc == okb => Some(consultant),
                    _ => None,
                };
                repo::insert_route(c, &p.code, form, tkc, on_duty)?;
            }
        }
        Ok::<_, ServiceError>(())
    })?;

    let actor = |id: i64| {
        demo.db
            .read(|c| Actor::load(c, id).map_err(|e| rtms_store::StoreError::Other(e.to_string())))
    };
    let doctors = [
        actor(doctor)?,
        actor(doctor2)?,
        actor(doctor3)?,
        actor(doctor4)?,
    ];
    let dispatcher = actor(dispatcher)?;
    let coordinator = actor(coordinator)?;
    let consultants = [actor(consultant)?, actor(consultant2)?];
    duty_fortnight(&demo, &coordinator, &actor(admin)?, okb, onko)?;
    let head2 = actor(head2)?;

    let mut rng = StdRng::seed_from_u64(2026);
    for (i, case) in CASES.iter().enumerate() {
        // Озёрская ЦРБ (doctor2) has its head approve planned requests.
        let by = if case.target == Status::AwaitingApproval {
            &doctors[1]
        } else {
            &doctors[i % doctors.len()]
        };
        let consultant = if case.profile == "oncology" {
            &consultants[1]
        } else {
            &consultants[0]
        };
        clock.set(now - Duration::minutes(case.age_minutes));
        let (last, first, middle, sex) = PATIENTS[i % PATIENTS.len()];
        let (day, month, year) = (
            rng.gen_range(1..=28),
            rng.gen_range(1..=12),
            rng.gen_range(1940..=2015),
        );
        // An adult shows a passport issued at 20 (or 14, the younger ones); a
        // child under 14 has none in the request.
        let passport = (year <= 2011).then(|| {
            (
                format!("{:04}", 4500 + i),
                format!("{:06}", 100_000 + (i as u32 * 7_919) % 900_000),
                format!(
                    "{day:02}.{month:02}.{}",
                    if year + 20 <= 2025 {
                        year + 20
                    } else {
                        year + 14
                    }
                ),
            )
        });
        let patch = ConsultationPatch {
            patient: Some(PatientPatch {
                last_name: Some(last.into()),
                first_name: Some(first.into()),
                middle_name: Some(middle.into()),
                birth_date: Some(format!("{day:02}.{month:02}.{year}")),
                sex: Some(sex.into()),
                snils: Some(random_snils(&mut rng)),
                oms_policy: Some(
                    (0..16)
                        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
                        .collect(),
                ),
                address: Some(format!("с. Заречное, ул. Центральная, д. {}", i + 1)),
                oms_policy_type: Some("2".into()),
                id_doc_type: passport.as_ref().map(|_| "1".into()),
                id_doc_series: passport.as_ref().map(|p| p.0.clone()),
                id_doc_number: passport.as_ref().map(|p| p.1.clone()),
                id_doc_issuer: passport
                    .as_ref()
                    .map(|_| "Отделением по вопросам миграции МО МВД России «Заречный»".into()),
                id_doc_issued: passport.as_ref().map(|p| p.2.clone()),
                ..Default::default()
            }),
            form_of_care: Some(case.form.into()),
            mode: Some(
                if case.form == "emergency" {
                    "realtime"
                } else {
                    "deferred"
                }
                .into(),
            ),
            purpose: Some("treatment_tactics".into()),
            profile: Some(case.profile.into()),
            diagnosis: Some(DiagnosisPatch {
                main: Some(case.icd.into()),
                text: Some(case.diagnosis.into()),
                ..Default::default()
            }),
            question: Some(case.question.into()),
            anamnesis_morbi: Some(case.anamnesis.into()),
            objective_status: Some("Состояние средней тяжести. Сознание ясное.".into()),
            consent_given: Some(true),
            contact_phone: Some("+7 900 123-45-67".into()),
            ..Default::default()
        };
        let id = demo.create_consultation(by, &patch)?;
        let step =
            |action: Action, who: &Actor, params: ActionParams| -> Result<Status, ServiceError> {
                clock.advance(Duration::minutes(case.step_minutes));
                demo.act(who, id, action, &params)
            };
        let path = case.target;
        if path == Status::Draft {
            continue;
        }
        if path == Status::Cancelled {
            step(Action::Cancel, by, ActionParams::default())?;
            continue;
        }
        if step(Action::Submit, by, ActionParams::default())? == Status::AwaitingApproval
            && path != Status::AwaitingApproval
        {
            step(Action::Approve, &head2, ActionParams::default())?;
        }
        let emergency_routed = case.form == "emergency";
        if matches!(path, Status::Submitted | Status::AwaitingApproval) {
            continue;
        }
        if !emergency_routed {
            step(Action::Take, &dispatcher, ActionParams::default())?;
            match path {
                Status::InReview => continue,
                Status::Returned => {
                    let comment = "Приложите ЭКГ и результаты тропонинового теста".to_string();
                    step(
                        Action::Return,
                        &dispatcher,
                        ActionParams {
                            comment: Some(comment),
                            ..Default::default()
                        },
                    )?;
                    continue;
                }
                Status::Rejected => {
                    step(
                        Action::Reject,
                        &dispatcher,
                        ActionParams {
                            reason_code: Some("duplicate".into()),
                            comment: Some("Дубликат запроса".into()),
                            ..Default::default()
                        },
                    )?;
                    continue;
                }
                Status::Escalated => {
                    step(
                        Action::Escalate,
                        &dispatcher,
                        ActionParams {
                            reason_code: Some("no_specialist".into()),
                            comment: Some("Нет детского кардиохирурга в регионе".into()),
                            ..Default::default()
                        },
                    )?;
                    continue;
                }
                _ => {}
            }
            if case.profile == "oncology" {
                step(
                    Action::Assign,
                    &dispatcher,
                    ActionParams {
                        consultant_id: Some(consultant.user.id),
                        ..Default::default()
                    },
                )?;
            } else {
                let tkc = coordinator.roles[0].org.id;
                step(
                    Action::Assign,
                    &dispatcher,
                    ActionParams {
                        tkc_id: Some(tkc),
                        ..Default::default()
                    },
                )?;
                step(
                    Action::Assign,
                    &coordinator,
                    ActionParams {
                        consultant_id: Some(consultant.user.id),
                        ..Default::default()
                    },
                )?;
            }
        }
        if path == Status::Assigned {
            continue;
        }
        step(Action::Accept, consultant, ActionParams::default())?;
        if path == Status::Accepted {
            continue;
        }
        if path == Status::Scheduled {
            // As the dispatcher's page does it: a video session booked with
            // the request's doctor and consultants, then the request scheduled.
            clock.advance(Duration::minutes(case.step_minutes));
            let starts = clock.now() + Duration::hours(3);
            demo.schedule_video(
                &dispatcher,
                id,
                &ActionParams {
                    starts_at: Some(starts),
                    duration_minutes: Some(30),
                    ..Default::default()
                },
            )?;
            continue;
        }
        step(Action::Start, consultant, ActionParams::default())?;
        clock.advance(Duration::minutes(case.step_minutes));
        demo.post_message(
            consultant,
            id,
            "Уточните, пожалуйста, динамику симптомов за последние сутки.",
        )?;
        clock.advance(Duration::minutes(case.step_minutes));
        demo.post_message(
            by,
            id,
            "Без отрицательной динамики, боли уменьшились после терапии.",
        )?;
        if path == Status::InProgress {
            continue;
        }
        demo.put_conclusion(
            consultant,
            id,
            &ConclusionInput {
                diagnosis_main: case.icd.into(),
                diagnosis_text: case.diagnosis.into(),
                findings: "Данные представленной документации изучены. Диагноз подтверждается.".into(),
                recommendations: "Продолжить назначенную терапию, контроль через 7 дней; при ухудшении — повторная консультация.".into(),
                transfer: String::new(),
                follow_up_needed: true,
                follow_up: "Повторная консультация по результатам контроля".into(),
                patient_condition: Some(if case.form == "emergency" { "3" } else { "2" }.into()),
            },
        )?;
        step(Action::Sign, consultant, ActionParams::default())?;
        if path == Status::Completed {
            continue;
        }
        step(
            Action::Acknowledge,
            by,
            ActionParams {
                useful: Some(true),
                effect: Some("transfer_avoided".into()),
                ..Default::default()
            },
        )?;
    }
    Ok(true)
}

pub(crate) fn random_snils(rng: &mut StdRng) -> String {
    let nine: Vec<u32> = (0..9)
        .map(|i| {
            if i == 0 {
                rng.gen_range(1..10)
            } else {
                rng.gen_range(0..10)
            }
        })
        .collect();
    let check = snils_check_number(&nine);
    let s: String = nine.iter().map(|d| char::from(b'0' + *d as u8)).collect();
    format!("{}-{}-{} {:02}", &s[0..3], &s[3..6], &s[6..9], check)
}

struct DemoCase {
    target: Status,
    form: &'static str,
    profile: &'static str,
    icd: &'static str,
    diagnosis: &'static str,
    question: &'static str,
    anamnesis: &'static str,
    /// How long ago the request was created.
    age_minutes: i64,
    /// Time between the steps that brought it to its state.
    step_minutes: i64,
}

const DAY: i64 = 24 * 60;

macro_rules! case {
    ($target:ident, $form:literal, $profile:literal, $icd:literal, $dx:literal, $q:literal, $age:expr, $step:expr) => {
        DemoCase {
            target: Status::$target,
            form: $form,
            profile: $profile,
            icd: $icd,
            diagnosis: $dx,
            question: $q,
            anamnesis: "Заболел остро, ухудшение в течение последних суток. Лечение по месту жительства без эффекта.",
            age_minutes: $age,
            step_minutes: $step,
        }
    };
}

const CASES: &[DemoCase] = &[
    case!(
        Assigned,
        "emergency",
        "cardiology",
        "I21.0",
        "Острый трансмуральный инфаркт передней стенки миокарда",
        "Показана ли экстренная транспортировка в РСЦ для ЧКВ?",
        40,
        2
    ),
    case!(
        Assigned,
        "emergency",
        "cardiology",
        "I21.1",
        "Острый инфаркт нижней стенки миокарда",
        "Тактика тромболизиса на месте, риски транспортировки?",
        3 * 60,
        5
    ),
    case!(
        InProgress,
        "emergency",
        "neurology",
        "I63.5",
        "Инфаркт мозга",
        "Возможна ли тромболитическая терапия, окно 3 часа?",
        90,
        5
    ),
    case!(
        Submitted,
        "urgent",
        "pulmonology",
        "J18.9",
        "Пневмония неуточнённая",
        "Коррекция антибактериальной терапии при отсутствии эффекта 72 часа.",
        2 * 60,
        10
    ),
    case!(
        Submitted,
        "planned",
        "cardiology",
        "I11.9",
        "Гипертензивная болезнь сердца без сердечной недостаточности",
        "Подбор гипотензивной терапии, целевые цифры не достигнуты.",
        DAY,
        30
    ),
    case!(
        Submitted,
        "planned",
        "oncology",
        "C34.1",
        "Злокачественное новообразование верхней доли бронха или лёгкого",
        "Определение тактики лечения, направление в онкодиспансер.",
        3 * DAY,
        60
    ),
    case!(
        InReview,
        "urgent",
        "surgery",
        "K35.8",
        "Острый аппендицит, другой и неуточнённый",
        "Оперировать на месте или переводить в ОКБ?",
        30 * 60,
        20
    ),
    case!(
        InReview,
        "planned",
        "internal_medicine",
        "E11.9",
        "Сахарный диабет 2 типа без осложнений",
        "Коррекция сахароснижающей терапии.",
        16 * DAY,
        120
    ),
    case!(
        InReview,
        "planned",
        "neurology",
        "G40.9",
        "Эпилепсия неуточнённая",
        "Подбор противосудорожной терапии.",
        20 * DAY,
        60
    ),
    case!(
        Returned,
        "planned",
        "cardiology",
        "I48.0",
        "Пароксизмальная фибрилляция предсердий",
        "Показания к антикоагулянтной терапии?",
        5 * DAY,
        60
    ),
    case!(
        Returned,
        "urgent",
        "pulmonology",
        "J44.1",
        "ХОБЛ с обострением",
        "Коррекция терапии, показания к переводу.",
        20 * 60,
        30
    ),
    case!(
        Assigned,
        "planned",
        "cardiology",
        "I25.1",
        "Атеросклеротическая болезнь сердца",
        "Показания к коронарографии.",
        4 * DAY,
        90
    ),
    case!(
        Assigned,
        "urgent",
        "oncology",
        "C18.7",
        "ЗНО сигмовидной кишки",
        "Объём хирургического лечения.",
        30 * 60,
        30
    ),
    case!(
        Assigned,
        "planned",
        "surgery",
        "K80.1",
        "Камни желчного пузыря с другим холециститом",
        "Сроки планового оперативного лечения.",
        15 * DAY,
        120
    ),
    case!(
        Accepted,
        "planned",
        "neurology",
        "G35",
        "Рассеянный склероз",
        "Коррекция ПИТРС, оценка МРТ.",
        3 * DAY,
        120
    ),
    case!(
        Accepted,
        "urgent",
        "cardiology",
        "I50.0",
        "Застойная сердечная недостаточность",
        "Коррекция диуретической терапии.",
        10 * 60,
        30
    ),
    case!(
        Scheduled,
        "planned",
        "oncology",
        "C50.4",
        "ЗНО верхненаружного квадранта молочной железы",
        "Консилиум: тактика неоадъювантной терапии.",
        2 * DAY,
        60
    ),
    case!(
        Scheduled,
        "planned",
        "obstetrics_gynecology",
        "O14.0",
        "Преэклампсия средней тяжести",
        "Сроки и место родоразрешения.",
        DAY,
        30
    ),
    case!(
        InProgress,
        "planned",
        "cardiology",
        "I35.0",
        "Аортальный стеноз",
        "Показания к оперативному лечению порока.",
        6 * DAY,
        180
    ),
    case!(
        InProgress,
        "urgent",
        "internal_medicine",
        "D50.9",
        "Железодефицитная анемия",
        "Причина анемии, дообследование.",
        26 * 60,
        60
    ),
    case!(
        Completed,
        "planned",
        "cardiology",
        "I20.8",
        "Другие формы стенокардии",
        "Коррекция антиангинальной терапии.",
        8 * DAY,
        240
    ),
    case!(
        Completed,
        "urgent",
        "neurology",
        "G43.1",
        "Мигрень с аурой",
        "Купирование мигренозного статуса.",
        2 * DAY,
        60
    ),
    case!(
        Completed,
        "planned",
        "oncology",
        "C61",
        "ЗНО предстательной железы",
        "Выбор метода лечения.",
        12 * DAY,
        300
    ),
    case!(
        Closed,
        "planned",
        "cardiology",
        "I10",
        "Эссенциальная гипертензия",
        "Подбор терапии.",
        30 * DAY,
        300
    ),
    case!(
        Closed,
        "urgent",
        "pulmonology",
        "J45.9",
        "Астма неуточнённая",
        "Коррекция базисной терапии.",
        20 * DAY,
        60
    ),
    case!(
        Closed,
        "planned",
        "surgery",
        "K40.9",
        "Односторонняя паховая грыжа",
        "Показания к плановой операции.",
        40 * DAY,
        600
    ),
    case!(
        Rejected,
        "planned",
        "cardiology",
        "I10",
        "Эссенциальная гипертензия",
        "Подбор терапии.",
        7 * DAY,
        60
    ),
    case!(
        Escalated,
        "planned",
        "cardiology",
        "Q21.0",
        "Дефект межжелудочковой перегородки",
        "Показания к кардиохирургической коррекции у ребёнка.",
        9 * DAY,
        120
    ),
    case!(
        Cancelled,
        "planned",
        "internal_medicine",
        "E03.9",
        "Гипотиреоз неуточнённый",
        "Коррекция дозы левотироксина.",
        4 * DAY,
        30
    ),
    case!(
        Draft,
        "planned",
        "neurology",
        "M54.5",
        "Боль внизу спины",
        "Тактика ведения при неэффективности НПВС.",
        60,
        5
    ),
    case!(
        Draft,
        "urgent",
        "cardiology",
        "I47.1",
        "Наджелудочковая тахикардия",
        "Купирование пароксизма.",
        20,
        5
    ),
    case!(
        AwaitingApproval,
        "planned",
        "surgery",
        "K42.9",
        "Пупочная грыжа",
        "Показания к плановому лечению.",
        2 * DAY,
        30
    ),
];

const PATIENTS: &[(&str, &str, &str, &str)] = &[
    ("Иванов", "Пётр", "Семёнович", "male"),
    ("Соколова", "Мария", "Ивановна", "female"),
    ("Попов", "Николай", "Андреевич", "male"),
    ("Лебедев", "Виктор", "Павлович", "male"),
    ("Козлова", "Галина", "Фёдоровна", "female"),
    ("Новиков", "Андрей", "Михайлович", "male"),
    ("Морозов", "Юрий", "Степанович", "male"),
    ("Павлова", "Людмила", "Георгиевна", "female"),
    ("Семёнов", "Аркадий", "Борисович", "male"),
    ("Голубева", "Нина", "Алексеевна", "female"),
    ("Виноградов", "Григорий", "Ефимович", "male"),
    ("Богданова", "Зоя", "Петровна", "female"),
    ("Воробьёв", "Константин", "Львович", "male"),
];

/// A made-up СНИЛС with valid check digits, from `n`.
pub fn demo_snils(n: u32) -> String {
    let body = format!("{:09}", 100_000_000 + n * 7_919);
    let digits: Vec<u32> = body.chars().filter_map(|c| c.to_digit(10)).collect();
    format!("{body}{:02}", snils_check_number(&digits))
}

/// Two weeks of duty from today, entered as the coordinator (ТКЦ ОКБ) and
/// the administrator (the oncology centre has no coordinator) would: day and
/// night shifts of cardiology and neurology with Смирнов А. В., of oncology
/// with Ковалёва Е. Д. (the demo centres have one consultant each, so no backup).
fn duty_fortnight(
    demo: &Services,
    coordinator: &Actor,
    admin: &Actor,
    okb: i64,
    onko: i64,
) -> Result<(), ServiceError> {
    use crate::directory::duty::ShiftInput;
    let today = demo
        .clock
        .now()
        .with_timezone(&chrono_tz::Europe::Moscow)
        .date_naive();
    for day in 0..14 {
        let date = today + chrono::Duration::days(day);
        for (who, centre, profile, login) in [
            (coordinator, okb, "cardiology", "consultant"),
            (coordinator, okb, "neurology", "consultant"),
            (admin, onko, "oncology", "consultant2"),
        ] {
            for (kind, start, end) in [("day", "08:00", "20:00"), ("night", "20:00", "08:00")] {
                let shift = ShiftInput {
                    profile: profile.into(),
                    date,
                    kind: kind.into(),
                    start: start.into(),
                    end: end.into(),
                    primary: login.into(),
                    backups: Vec::new(),
                };
                demo.duty_add_shift(who, centre, &shift)?;
            }
        }
    }
    // Yesterday's night runs into this morning.
    let night = ShiftInput {
        profile: "cardiology".into(),
        date: today - chrono::Duration::days(1),
        kind: "night".into(),
        start: "20:00".into(),
        end: "08:00".into(),
        primary: "consultant".into(),
        backups: Vec::new(),
    };
    demo.duty_add_shift(coordinator, okb, &night)?;
    Ok(())
}
