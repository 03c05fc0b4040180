//! Sample documents shared by the tests and the `render_samples` example.

#![allow(dead_code)]

use rtms_documents::{
    ConclusionDoc, Diagnosis, Party, Person, RequestSummaryDoc, SealMark, Signer,
};

/// Text full of characters that mean something in typst markup.
pub const SPECIAL: &str = "Тест разметки: #set page(width: 1cm) $x^2$ *жирный* [x] <b>жирный</b> _курсив_ @ref // не комментарий \\ конец";

pub fn patient() -> Person {
    Person {
        full_name: "Иванова Мария Петровна".into(),
        birth_date: "03.04.1958".into(),
        sex: "женский".into(),
        snils: Some("112-233-445 95".into()),
        oms_policy: Some("7754 3210 9876 5432".into()),
    }
}

pub fn conclusion() -> ConclusionDoc {
    ConclusionDoc {
        title: "Протокол телемедицинской консультации".into(),
        number: "ТМК-2026-000123".into(),
        version: 2,
        supersedes: Some("Исправляет версию 1 от 12.11.2026 14:05".into()),
        region: "Новосибирская область".into(),
        requesting: Party {
            name: "ГБУЗ НСО «Купинская центральная районная больница»".into(),
            details: Some("632735, Новосибирская обл., г. Купино, ул. Советов, 92; тел. +7 (383) 582-00-00".into()),
        },
        consulting: Party {
            name: "ГБУЗ НСО «Государственная Новосибирская областная клиническая больница»".into(),
            details: Some("630087, г. Новосибирск, ул. Немировича-Данченко, 130; тел. +7 (383) 315-00-00".into()),
        },
        form_of_care: "неотложная".into(),
        mode: "в режиме отложенных консультаций".into(),
        patient: patient(),
        diagnosis: Diagnosis {
            code: "I21.4".into(),
            title: "Острый субэндокардиальный инфаркт миокарда".into(),
        },
        other_diagnoses: vec![
            Diagnosis { code: "I11.9".into(), title: "Гипертензивная болезнь сердца без застойной сердечной недостаточности".into() },
            Diagnosis { code: "E11.9".into(), title: "Сахарный диабет 2 типа без осложнений".into() },
        ],
        question: "Определить тактику ведения пациентки и показания к переводу в региональный сосудистый центр.".into(),
        findings: format!(
            "По данным ЭКГ от 12.11.2026: синусовый ритм, ЧСС 88 в минуту, депрессия сегмента ST в отведениях V4–V6 до 2 мм. Тропонин I 1,8 нг/мл (повышен).\n\nСостояние средней тяжести, стабильное. Гемодинамика без инотропной поддержки.\n\n{SPECIAL}"
        ),
        recommendations: "1. Двойная антитромбоцитарная терапия: ацетилсалициловая кислота 100 мг/сут, тикагрелор 90 мг 2 раза в сутки.\n2. Аторвастатин 80 мг/сут.\n3. Контроль ЭКГ и тропонина через 6 часов.".into(),
        transfer: Some("Показан перевод в региональный сосудистый центр для коронароангиографии в течение 24 часов.".into()),
        follow_up: Some("Повторная консультация при ухудшении состояния или по результатам коронароангиографии.".into()),
        consultants: vec![
            Signer {
                full_name: "Петров Алексей Николаевич".into(),
                position: "врач-кардиолог".into(),
                organization: "ГБУЗ НСО «ГНОКБ»".into(),
                signed_at: Some("12.11.2026 15:40 (МСК)".into()),
            },
            Signer {
                full_name: "Сидорова Елена Викторовна".into(),
                position: "заведующая кардиологическим отделением".into(),
                organization: "ГБУЗ НСО «ГНОКБ»".into(),
                signed_at: None,
            },
        ],
        requested_by: "Козлов Игорь Сергеевич, врач-терапевт".into(),
        issued_at: "12.11.2026 15:45 (МСК)".into(),
        seal: Some(SealMark {
            key_id: "3f9a1c07d2e84b65".into(),
            content_sha256: "9b2e4f0c8d1a7e3b5c6d9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e".into(),
            verify_url: "https://tm.example.ru/verify/ТМК-2026-000123".into(),
        }),
    }
}

/// A conclusion whose findings run over several pages.
pub fn long_conclusion() -> ConclusionDoc {
    let mut doc = conclusion();
    doc.findings = (1..=60)
        .map(|i| format!("{i}. Описание результатов обследования, динамики состояния и данных лабораторных исследований пациентки; показатели в пределах ожидаемых значений, отрицательной динамики не выявлено."))
        .collect::<Vec<_>>()
        .join("\n\n");
    doc
}

pub fn request_summary() -> RequestSummaryDoc {
    let c = conclusion();
    RequestSummaryDoc {
        number: "ТМК-2026-000123".into(),
        region: c.region,
        requesting: c.requesting,
        form_of_care: c.form_of_care,
        mode: c.mode,
        profile: "кардиология".into(),
        purpose: "Уточнение диагноза и тактики лечения".into(),
        patient: patient(),
        diagnosis: c.diagnosis,
        question: c.question,
        anamnesis: "Боли за грудиной давящего характера с 11.11.2026, длительностью до 20 минут. Гипертоническая болезнь в течение 15 лет.".into(),
        examinations: "ЭКГ от 12.11.2026; тропонин I 1,8 нг/мл; ОАК, биохимический анализ крови.".into(),
        attachments: vec![
            "ЭКГ_12.11.2026.pdf — 1,2 МБ — sha256 5d41402abc4b2a76".into(),
            "Анализы_крови.jpg — 640 КБ — sha256 7c222fb2927d828a".into(),
        ],
        requested_by: "Козлов Игорь Сергеевич, врач-терапевт".into(),
        submitted_at: "12.11.2026 10:20 (МСК)".into(),
        deadline: "13.11.2026 10:20 (МСК)".into(),
    }
}
