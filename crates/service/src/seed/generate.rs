//! The data generator behind `rtms admin generate`: a region (or a federal
//! level) with years of requests, for benchmarks and for trying the screens at
//! scale. Requests are written in large batches straight into the tables, with
//! the history the services would have written: events in the lifecycle's
//! order, the thread, the consilium, a signed conclusion and attachment
//! metadata. Attachment bytes and conclusion PDFs are not made: their rows say
//! what a real region's would, but their downloads answer "not found".

use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rtms_domain::request::{ClinicalData, Diagnosis, Patient, Vitals};
use rtms_domain::{FormOfCare, Mode, OrgKind, Role, Sex, Status};
use rtms_store::bulk::{
    self, Batch, BulkConclusion, BulkConsultant, BulkConsultation, BulkMessage,
};
use rtms_store::models::{NewAttachment, NewEvent, NewOrganization};
use rtms_store::repo;

use crate::access::auth::{hash_password, NewUserSpec};
use crate::lifecycle::consultations::{
    CLOSEOUT_EFFECTS as EFFECTS, ESCALATE_REASONS, REJECT_REASONS,
};
use crate::{ServiceError, Services};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateSpec {
    /// Requests to add.
    pub count: u64,
    /// Spread evenly over this many years up to now.
    pub years: u32,
    /// District hospitals to add (each with two doctors).
    pub districts: usize,
    /// Consultants to add to each consultation centre.
    pub consultants_per_centre: usize,
    pub seed: u64,
}

impl Default for GenerateSpec {
    fn default() -> Self {
        GenerateSpec {
            count: 10_000,
            years: 5,
            districts: 40,
            consultants_per_centre: 8,
            seed: 1,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub consultations: u64,
    pub rows: u64,
    pub organizations: usize,
    pub users: usize,
}

/// Requests written per transaction.
const BATCH: u64 = 5_000;

const SURNAMES: &[(&str, &str)] = &[
    ("Иванов", "Иванова"),
    ("Смирнов", "Смирнова"),
    ("Кузнецов", "Кузнецова"),
    ("Попов", "Попова"),
    ("Васильев", "Васильева"),
    ("Петров", "Петрова"),
    ("Соколов", "Соколова"),
    ("Михайлов", "Михайлова"),
    ("Новиков", "Новикова"),
    ("Фёдоров", "Фёдорова"),
    ("Морозов", "Морозова"),
    ("Волков", "Волкова"),
    ("Алексеев", "Алексеева"),
    ("Лебедев", "Лебедева"),
    ("Семёнов", "Семёнова"),
    ("Егоров", "Егорова"),
    ("Павлов", "Павлова"),
    ("Козлов", "Козлова"),
    ("Степанов", "Степанова"),
    ("Николаев", "Николаева"),
    ("Орлов", "Орлова"),
    ("Андреев", "Андреева"),
    ("Макаров", "Макарова"),
    ("Никитин", "Никитина"),
    ("Захаров", "Захарова"),
    ("Зайцев", "Зайцева"),
    ("Соловьёв", "Соловьёва"),
    ("Борисов", "Борисова"),
    ("Яковлев", "Яковлева"),
    ("Григорьев", "Григорьева"),
    ("Романов", "Романова"),
    ("Воробьёв", "Воробьёва"),
    ("Сергеев", "Сергеева"),
    ("Кузьмин", "Кузьмина"),
    ("Фролов", "Фролова"),
    ("Александров", "Александрова"),
    ("Дмитриев", "Дмитриева"),
    ("Королёв", "Королёва"),
    ("Гусев", "Гусева"),
    ("Киселёв", "Киселёва"),
    ("Ильин", "Ильина"),
    ("Максимов", "Максимова"),
    ("Поляков", "Полякова"),
    ("Сорокин", "Сорокина"),
    ("Виноградов", "Виноградова"),
    ("Ковалёв", "Ковалёва"),
    ("Белов", "Белова"),
    ("Медведев", "Медведева"),
    ("Антонов", "Антонова"),
    ("Тарасов", "Тарасова"),
    ("Жуков", "Жукова"),
    ("Баранов", "Баранова"),
    ("Филиппов", "Филиппова"),
    ("Комаров", "Комарова"),
    ("Давыдов", "Давыдова"),
    ("Беляев", "Беляева"),
    ("Герасимов", "Герасимова"),
    ("Богданов", "Богданова"),
    ("Осипов", "Осипова"),
    ("Сидоров", "Сидорова"),
    ("Матвеев", "Матвеева"),
    ("Титов", "Титова"),
    ("Марков", "Маркова"),
    ("Миронов", "Миронова"),
    ("Крылов", "Крылова"),
    ("Куликов", "Куликова"),
    ("Карпов", "Карпова"),
    ("Власов", "Власова"),
    ("Мельников", "Мельникова"),
    ("Денисов", "Денисова"),
];
const MALE: &[&str] = &[
    "Александр",
    "Алексей",
    "Андрей",
    "Владимир",
    "Дмитрий",
    "Евгений",
    "Иван",
    "Михаил",
    "Николай",
    "Павел",
    "Сергей",
    "Юрий",
    "Виктор",
    "Олег",
    "Игорь",
    "Константин",
];
const FEMALE: &[&str] = &[
    "Анна",
    "Елена",
    "Ольга",
    "Татьяна",
    "Наталья",
    "Ирина",
    "Мария",
    "Светлана",
    "Екатерина",
    "Людмила",
    "Галина",
    "Валентина",
    "Нина",
    "Марина",
    "Юлия",
    "Вера",
];
const FATHERS: &[(&str, &str)] = &[
    ("Александрович", "Александровна"),
    ("Алексеевич", "Алексеевна"),
    ("Андреевич", "Андреевна"),
    ("Владимирович", "Владимировна"),
    ("Дмитриевич", "Дмитриевна"),
    ("Иванович", "Ивановна"),
    ("Михайлович", "Михайловна"),
    ("Николаевич", "Николаевна"),
    ("Петрович", "Петровна"),
    ("Сергеевич", "Сергеевна"),
    ("Викторович", "Викторовна"),
    ("Юрьевич", "Юрьевна"),
];
const TOWNS: &[&str] = &[
    "Берёзовская",
    "Сосновская",
    "Каменская",
    "Луговская",
    "Озёрная",
    "Ключевская",
    "Светлоярская",
    "Покровская",
    "Никольская",
    "Троицкая",
    "Горная",
    "Песчанская",
    "Лесная",
    "Речная",
    "Высокогорская",
    "Степная",
    "Кедровая",
    "Ольховская",
    "Вишнёвая",
    "Солнечная",
];
const QUESTIONS: &[&str] = &[
    "Прошу определить тактику лечения и необходимость перевода в региональный центр.",
    "Просим оценить данные обследования и скорректировать терапию.",
    "Нужна ли экстренная госпитализация в профильное отделение?",
    "Прошу рекомендаций по дообследованию и дальнейшему ведению пациента.",
    "Согласуйте, пожалуйста, показания к оперативному лечению.",
];
const ANAMNESES: &[&str] = &[
    "Болеет в течение трёх суток, ухудшение в последние 12 часов.",
    "Ухудшение на фоне проводимой терапии, эффект от лечения недостаточный.",
    "Заболевание впервые выявлено при диспансеризации, жалобы в течение месяца.",
    "Хроническое течение, обострение после переохлаждения.",
];
const MESSAGES: &[&str] = &[
    "Уточните, пожалуйста, результаты последнего ОАК и креатинин.",
    "ОАК: лейкоциты 11,2, гемоглобин 128. Креатинин 96 мкмоль/л.",
    "Прошу дослать ЭКГ в динамике.",
    "ЭКГ направлена вложением, динамики нет.",
    "Есть ли возможность выполнить КТ на месте?",
    "КТ выполнено, снимки загружены.",
];
const RECOMMENDATIONS: &[&str] = &[
    "Продолжить лечение по месту жительства с коррекцией терапии, контроль через 7 дней.",
    "Показан перевод в профильное отделение регионального центра.",
    "Дообследование: КТ с контрастированием, консультация повторно по результатам.",
    "Госпитализация не требуется, наблюдение у участкового врача.",
];
const FILES: &[(&str, &str, &str, i64)] = &[
    ("ЭКГ.pdf", "pdf", "application/pdf", 350_000),
    ("Выписка.pdf", "pdf", "application/pdf", 180_000),
    ("Рентгенограмма.jpg", "jpeg", "image/jpeg", 1_400_000),
    (
        "КТ_грудной_клетки.zip",
        "dicom_zip",
        "application/zip",
        180_000_000,
    ),
    ("Анализы.pdf", "pdf", "application/pdf", 90_000),
];

/// The region's people the generated history names.
struct Cast {
    dispatcher: (i64, i64),
    /// (organization, its doctors)
    districts: Vec<(i64, Vec<i64>)>,
    /// (centre, its consultants)
    centres: Vec<(i64, Vec<i64>)>,
    profiles: Vec<String>,
    purposes: Vec<String>,
    icd10: Vec<String>,
    /// Minutes to answer, by form of care.
    budget: Vec<(FormOfCare, i64)>,
}

impl Services {
    /// Adds `spec.count` requests spread over `spec.years` years up to now,
    /// seeding the demo region first when the database is empty. `progress`
    /// hears the requests written so far after every batch.
    pub fn generate(
        &self,
        spec: &GenerateSpec,
        mut progress: impl FnMut(u64),
    ) -> Result<Generated, ServiceError> {
        self.db.write(rtms_store::reference::ensure_loaded)?;
        crate::seed::demo::seed_if_empty(self)?;
        let mut rng = StdRng::seed_from_u64(spec.seed);
        let (cast, organizations, users) = self.cast(spec, &mut rng)?;
        let now = self.clock.now().naive_utc();
        let span = Duration::days(365 * i64::from(spec.years.max(1)));
        let start = now - span;
        let mut next_id = self.db.read(bulk::next_consultation_id)?;
        let mut out = Generated {
            organizations,
            users,
            ..Default::default()
        };
        let mut written = 0;
        while written < spec.count {
            let n = BATCH.min(spec.count - written);
            let mut batch = Batch::default();
            for k in 0..n {
                // Evenly over the span, with a few hours of jitter; the newest
                // reach into the last hours, so the queue is full.
                let at = written + k;
                let fraction = (at as f64 + rng.gen::<f64>()) / spec.count as f64;
                let submitted =
                    start + Duration::seconds((span.num_seconds() as f64 * fraction) as i64);
                one_request(
                    &cast,
                    &mut rng,
                    next_id,
                    submitted.min(now),
                    now,
                    &mut batch,
                );
                next_id += 1;
            }
            out.rows += batch.rows() as u64;
            self.db.write(|c| bulk::insert_batch(c, &batch))?;
            written += n;
            progress(written);
        }
        self.db.write(bulk::finish)?;
        out.consultations = written;
        Ok(out)
    }

    /// District hospitals with doctors, consultants for every centre, and what
    /// the reference tables hold.
    fn cast(
        &self,
        spec: &GenerateSpec,
        rng: &mut StdRng,
    ) -> Result<(Cast, usize, usize), ServiceError> {
        let hash = hash_password(crate::seed::demo::DEMO_PASSWORD)?;
        let now = self.clock.now();
        let dispatcher = self.db.read(|c| {
            let centre = repo::organizations(c, Some(OrgKind::Ktc.as_str()))?
                .first()
                .map(|o| o.id);
            let user = repo::users_with_role(c, Role::Dispatcher.as_str(), centre, None)?
                .first()
                .copied();
            Ok(centre.zip(user).map(|(org, user)| (user, org)))
        })?;
        let Some(dispatcher) = dispatcher else {
            return Err(ServiceError::field("dispatcher", "required"));
        };
        // A run on a database that an earlier run filled picks logins of its
        // own: the first tag whose first doctor login is still free.
        let mut tag: u32 = rng.gen_range(1000..10000);
        while self
            .db
            .read(|c| repo::user_by_login(c, &format!("gen{tag}-d1-1")))?
            .is_some()
        {
            tag = if tag >= 99_999 { 1000 } else { tag + 1 };
        }
        let mut districts = Vec::new();
        let mut centres = Vec::new();
        let mut users = 0;
        for (i, town) in (0..spec.districts).map(|i| (i, TOWNS[i % TOWNS.len()])) {
            let name = format!("ГБУЗ «{town} районная больница № {}»", i + 1);
            let short = format!("{town} РБ-{}", i + 1);
            let org = self.db.write(|c| {
                repo::insert_organization(
                    c,
                    &NewOrganization {
                        name: &name,
                        short_name: &short,
                        kind: OrgKind::Mo.as_str(),
                        level: Some(1),
                        frmo_oid: None,
                        time_zone: "Europe/Moscow",
                        requires_head_approval: false,
                        active: true,
                        created_at: now.naive_utc(),
                        address: "",
                        phone: "",
                    },
                )
            })?;
            let mut doctors = Vec::new();
            for j in 0..2 {
                doctors.push(self.cast_user(
                    &format!("gen{tag}-d{}-{}", i + 1, j + 1),
                    rng,
                    "Врач-терапевт",
                    (Role::Doctor, org),
                    &[],
                    &hash,
                )?);
                users += 1;
            }
            districts.push((org, doctors));
        }
        let profiles: Vec<String> = self
            .db
            .read(rtms_store::reference::profiles)?
            .into_iter()
            .map(|p| p.code)
            .collect();
        for (k, centre) in self
            .db
            .read(|c| repo::organizations(c, Some(OrgKind::Tkc.as_str())))?
            .into_iter()
            .enumerate()
        {
            let mut consultants = Vec::new();
            for j in 0..spec.consultants_per_centre {
                let profile = &profiles[(k * 7 + j) % profiles.len()];
                consultants.push(self.cast_user(
                    &format!("gen{tag}-c{}-{}", centre.id, j + 1),
                    rng,
                    "Врач-консультант",
                    (Role::Consultant, centre.id),
                    std::slice::from_ref(profile),
                    &hash,
                )?);
                users += 1;
            }
            centres.push((centre.id, consultants));
        }
        if districts.is_empty() || centres.is_empty() {
            return Err(ServiceError::field("districts", "required"));
        }
        let purposes = self
            .db
            .read(rtms_store::reference::purposes)?
            .into_iter()
            .map(|p| p.code)
            .collect();
        let icd10 = self.db.read(|c| bulk::icd10_codes(c, 3000))?;
        let minutes = self.db.read(repo::deadline_minutes)?;
        let budget = [
            FormOfCare::Emergency,
            FormOfCare::Urgent,
            FormOfCare::Planned,
        ]
        .into_iter()
        .map(|f| {
            let m = minutes
                .iter()
                .find(|(form, _)| form == f.as_str())
                .map(|(_, m)| *m)
                .unwrap_or(match f {
                    FormOfCare::Emergency => 120,
                    FormOfCare::Urgent => 24 * 60,
                    FormOfCare::Planned => 3 * 24 * 60,
                });
            (f, m)
        })
        .collect();
        let n_orgs = districts.len();
        Ok((
            Cast {
                dispatcher,
                districts,
                centres,
                profiles,
                purposes,
                icd10,
                budget,
            },
            n_orgs,
            users,
        ))
    }

    fn cast_user(
        &self,
        login: &str,
        rng: &mut StdRng,
        position: &str,
        role: (Role, i64),
        profiles: &[String],
        hash: &str,
    ) -> Result<i64, ServiceError> {
        let (last, first, middle, _) = person(rng);
        self.insert_user_with_hash(
            &NewUserSpec {
                login: login.into(),
                password: String::new(),
                last_name: last,
                first_name: first,
                middle_name: middle,
                position: position.into(),
                phone: String::new(),
                email: format!("{login}@rtms-demo.example"),
                roles: vec![role],
                profiles: profiles.to_vec(),
                must_change_password: false,
                snils: None,
                position_code: None,
            },
            hash,
        )
    }
}

fn person(rng: &mut StdRng) -> (String, String, String, Sex) {
    let (m, f) = SURNAMES
        .choose(rng)
        .copied()
        .unwrap_or(("Иванов", "Иванова"));
    let (pm, pf) = FATHERS
        .choose(rng)
        .copied()
        .unwrap_or(("Иванович", "Ивановна"));
    if rng.gen_bool(0.5) {
        let first = MALE.choose(rng).copied().unwrap_or("Иван");
        (m.into(), first.into(), pm.into(), Sex::Male)
    } else {
        let first = FEMALE.choose(rng).copied().unwrap_or("Анна");
        (f.into(), first.into(), pf.into(), Sex::Female)
    }
}

/// How a request's story ends.
#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Answered,
    Rejected,
    Cancelled,
    Escalated,
}

/// One request and its history, submitted at `submitted`, as it stands `now`.
fn one_request(
    cast: &Cast,
    rng: &mut StdRng,
    id: i64,
    submitted: NaiveDateTime,
    now: NaiveDateTime,
    b: &mut Batch,
) {
    let (org, doctors) = cast.districts.choose(rng).expect("districts");
    let doctor = *doctors.choose(rng).expect("doctors");
    let (centre, consultants) = cast.centres.choose(rng).expect("centres");
    let consultant = *consultants.choose(rng).expect("consultants");
    let form = match rng.gen_range(0..100) {
        0..=9 => FormOfCare::Emergency,
        10..=29 => FormOfCare::Urgent,
        _ => FormOfCare::Planned,
    };
    let budget = cast
        .budget
        .iter()
        .find(|(f, _)| *f == form)
        .map(|(_, m)| *m)
        .unwrap_or(120);
    let deadline = submitted + Duration::minutes(budget);
    let outcome = match rng.gen_range(0..100) {
        0..=4 => Outcome::Rejected,
        5..=6 => Outcome::Cancelled,
        7..=9 => Outcome::Escalated,
        _ => Outcome::Answered,
    };
    // Most answers come in time; one in eight is late by up to half the budget.
    let answer_minutes = if rng.gen_ratio(1, 8) {
        budget + rng.gen_range(1..=budget / 2 + 1)
    } else {
        rng.gen_range(budget / 8 + 1..=budget)
    };
    let (last, first, middle, sex) = person(rng);
    let birth = NaiveDate::from_ymd_opt(
        rng.gen_range(1935..2020),
        rng.gen_range(1..=12),
        rng.gen_range(1..=28),
    );
    // Stored as its 11 digits, as the services store it.
    let snils = crate::seed::demo::random_snils(rng).replace(['-', ' '], "");
    let oms: String = (0..16)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect();
    let icd = cast.icd10.choose(rng).cloned();
    let profile = cast.profiles.choose(rng).cloned();
    let data = ClinicalData {
        patient: Patient {
            last_name: last,
            first_name: first,
            middle_name: middle,
            birth_date: birth,
            sex: Some(sex),
            snils: Some(snils),
            oms_policy: Some(oms),
            address: format!("ул. Центральная, д. {}", rng.gen_range(1..120)),
            ..Default::default()
        },
        form_of_care: Some(form),
        mode: Some(if form == FormOfCare::Emergency {
            Mode::Realtime
        } else {
            Mode::Deferred
        }),
        patient_present: form == FormOfCare::Emergency,
        purpose: cast.purposes.choose(rng).cloned(),
        profile: profile.clone(),
        diagnosis: Diagnosis {
            main: icd.clone(),
            text: "Основное заболевание, см. код МКБ-10.".into(),
            ..Default::default()
        },
        question: QUESTIONS.choose(rng).copied().unwrap_or_default().into(),
        anamnesis_morbi: ANAMNESES.choose(rng).copied().unwrap_or_default().into(),
        objective_status: "Состояние средней тяжести. Сознание ясное. Гемодинамика стабильна."
            .into(),
        vitals: Vitals {
            bp_systolic: Some(rng.gen_range(100..170)),
            bp_diastolic: Some(rng.gen_range(60..100)),
            heart_rate: Some(rng.gen_range(55..110)),
            resp_rate: Some(rng.gen_range(14..24)),
            temperature: Some(f64::from(rng.gen_range(360..392)) / 10.0),
            ..Default::default()
        },
        consent_given: true,
        contact_phone: "+7 900 000-00-00".into(),
        ..Default::default()
    };
    let created = submitted - Duration::minutes(rng.gen_range(5..90));
    let mut row = crate::lifecycle::consultations::draft_row(*org, doctor, created);
    row.submitted_at = Some(submitted);
    row.deadline_at = Some(deadline);
    row.budget_seconds = budget * 60;
    crate::lifecycle::consultations::store_clinical(&mut row, &data);

    // The story, step by step, as far as `now` has come.
    let (dispatcher, dispatch_org) = cast.dispatcher;
    let total = answer_minutes.max(4);
    let at = |share: i64| submitted + Duration::minutes(total * share / 100);
    let mut status = Status::Draft;
    let mut last_at = created;
    let mut events = vec![event(
        id,
        created,
        doctor,
        *org,
        Role::Doctor,
        "create",
        None,
        Status::Draft,
        None,
    )];
    let mut step = |when: NaiveDateTime,
                    who: (i64, i64, Role),
                    action: &str,
                    to: Status,
                    reason: Option<&str>,
                    status: &mut Status,
                    last_at: &mut NaiveDateTime|
     -> bool {
        if when > now {
            return false;
        }
        events.push(event(
            id,
            when,
            who.0,
            who.1,
            who.2,
            action,
            Some(*status),
            to,
            reason,
        ));
        *status = to;
        *last_at = when;
        true
    };
    let doc = (doctor, *org, Role::Doctor);
    let disp = (dispatcher, dispatch_org, Role::Dispatcher);
    let cons = (consultant, *centre, Role::Consultant);
    let mut signed = None;
    'story: {
        if !step(
            submitted,
            doc,
            "submit",
            Status::Submitted,
            None,
            &mut status,
            &mut last_at,
        ) {
            break 'story;
        }
        if !step(
            at(5),
            disp,
            "take",
            Status::InReview,
            None,
            &mut status,
            &mut last_at,
        ) {
            break 'story;
        }
        match outcome {
            Outcome::Rejected => {
                let reason = REJECT_REASONS.choose(rng).copied();
                step(
                    at(10),
                    disp,
                    "reject",
                    Status::Rejected,
                    reason,
                    &mut status,
                    &mut last_at,
                );
                break 'story;
            }
            Outcome::Escalated => {
                let reason = ESCALATE_REASONS.choose(rng).copied();
                if !step(
                    at(10),
                    disp,
                    "escalate",
                    Status::Escalated,
                    reason,
                    &mut status,
                    &mut last_at,
                ) {
                    break 'story;
                }
                step(
                    submitted + Duration::minutes(total * 3),
                    disp,
                    "record_federal_conclusion",
                    Status::Completed,
                    None,
                    &mut status,
                    &mut last_at,
                );
                break 'story;
            }
            Outcome::Cancelled | Outcome::Answered => {}
        }
        row.assigned_tkc_id = Some(*centre);
        if !step(
            at(15),
            disp,
            "assign",
            Status::Assigned,
            None,
            &mut status,
            &mut last_at,
        ) {
            break 'story;
        }
        if outcome == Outcome::Cancelled {
            step(
                at(20),
                doc,
                "cancel",
                Status::Cancelled,
                None,
                &mut status,
                &mut last_at,
            );
            break 'story;
        }
        if !step(
            at(25),
            cons,
            "accept",
            Status::Accepted,
            None,
            &mut status,
            &mut last_at,
        ) {
            break 'story;
        }
        if !step(
            at(35),
            cons,
            "start",
            Status::InProgress,
            None,
            &mut status,
            &mut last_at,
        ) {
            break 'story;
        }
        for (k, share) in [(0, 50), (1, 65)] {
            if rng.gen_ratio(2, 5) && at(share) <= now {
                let (who, role) = if k == 0 {
                    (consultant, "consultant")
                } else {
                    (doctor, "doctor")
                };
                b.messages.push(BulkMessage {
                    consultation_id: id,
                    author_id: who,
                    author_role: role.into(),
                    kind: if k == 0 { "question" } else { "answer" }.into(),
                    body: MESSAGES.choose(rng).copied().unwrap_or_default().into(),
                    created_at: at(share),
                });
            }
        }
        if step(
            at(100),
            cons,
            "sign",
            Status::Completed,
            None,
            &mut status,
            &mut last_at,
        ) {
            signed = Some(at(100));
        }
    }
    if status != Status::Draft && status != Status::Submitted {
        b.consultants
            .extend(row.assigned_tkc_id.map(|_| BulkConsultant {
                consultation_id: id,
                user_id: consultant,
                assigned_at: at(15),
                signed_at: signed,
            }));
    }
    if let Some(signed_at) = signed {
        b.conclusions.push(BulkConclusion {
            consultation_id: id,
            version: 1,
            author_id: consultant,
            diagnosis_main: icd.clone().unwrap_or_default(),
            diagnosis_text: "Диагноз подтверждён.".into(),
            findings: "Представленные данные соответствуют клинической картине.".into(),
            recommendations: RECOMMENDATIONS
                .choose(rng)
                .copied()
                .unwrap_or_default()
                .into(),
            transfer: String::new(),
            follow_up_needed: false,
            follow_up: String::new(),
            created_at: at(80),
            updated_at: signed_at,
            signed_at: Some(signed_at),
            content_hash: Some(format!("{:064x}", rng.gen::<u128>())),
        });
        // Four in five doctors acknowledge the answer within two days.
        let ack = signed_at + Duration::minutes(rng.gen_range(10..2 * 24 * 60));
        if rng.gen_ratio(4, 5) && ack <= now {
            events.push(event(
                id,
                ack,
                doctor,
                *org,
                Role::Doctor,
                "acknowledge",
                Some(status),
                Status::Closed,
                None,
            ));
            status = Status::Closed;
            last_at = ack;
            row.closeout_useful = Some(rng.gen_ratio(9, 10));
            row.closeout_effect = EFFECTS.choose(rng).map(|e| e.to_string());
        }
    }
    for k in 0..rng.gen_range(0..4usize) {
        let (name, kind, content_type, size) = FILES[(id as usize + k) % FILES.len()];
        b.attachments.push(NewAttachment {
            consultation_id: id,
            message_id: None,
            uploaded_by: doctor,
            file_name: name.into(),
            kind: kind.into(),
            content_type: content_type.into(),
            size: size + rng.gen_range(0..size / 10),
            sha256: format!("{:032x}{:032x}", rng.gen::<u128>(), rng.gen::<u128>()),
            storage_key: format!("generated/{id}/{k}"),
            scan: "clean".into(),
            details: "{}".into(),
            created_at: created,
        });
    }
    row.status = status.as_str().into();
    row.updated_at = last_at;
    if status == Status::Draft {
        row.submitted_at = None;
        row.deadline_at = None;
        row.budget_seconds = 0;
    }
    if !status.is_open() && status != Status::Draft {
        // Closed when it left the open states: the answer, not the acknowledgement.
        let left = events
            .iter()
            .find(|e| {
                e.from_status.is_some() && !Status::parse(&e.to_status).is_some_and(|s| s.is_open())
            })
            .map(|e| e.at)
            .unwrap_or(last_at);
        row.closed_at = Some(left);
    }
    row.version = events.len() as i32 - 1;
    b.events.extend(events);
    b.consultations.push(BulkConsultation { id, row });
}

#[allow(clippy::too_many_arguments)]
fn event(
    id: i64,
    at: NaiveDateTime,
    user: i64,
    org: i64,
    role: Role,
    action: &str,
    from: Option<Status>,
    to: Status,
    reason: Option<&str>,
) -> NewEvent {
    NewEvent {
        consultation_id: id,
        at,
        actor_user_id: Some(user),
        actor_org_id: Some(org),
        actor_role: Some(role.as_str().into()),
        action: action.into(),
        from_status: from.map(|s| s.as_str().into()),
        to_status: to.as_str().into(),
        comment: String::new(),
        reason_code: reason.map(str::to_string),
        details: "{}".into(),
    }
}
