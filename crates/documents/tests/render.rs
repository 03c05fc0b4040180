//! Rendering tests: the PDFs are read back with poppler-utils (`pdftotext`,
//! `pdffonts`, `pdfinfo`), which must be installed.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use rtms_documents::{
    render_conclusion, render_report, render_request_summary, DocumentError, ReportBar, ReportDoc,
    ReportFigure, ReportTable,
};

/// Runs a poppler tool on `pdf` (fed through a temporary file) and returns
/// its standard output.
fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    let mut file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    file.write_all(pdf).unwrap();
    file.flush().unwrap();
    let output = Command::new(tool)
        .args(args)
        .arg(file.path())
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} (install poppler-utils): {e}"));
    assert!(output.status.success(), "{tool} failed on the rendered PDF");
    String::from_utf8(output.stdout).unwrap()
}

/// The text of a PDF with hyphenation undone and whitespace collapsed, so
/// that phrases can be searched regardless of where lines broke.
fn text_of(pdf: &[u8]) -> String {
    let raw = poppler("pdftotext", &["-enc", "UTF-8"], pdf);
    let unhyphenated = raw.replace("\u{ad}\n", "").replace('\u{ad}', "");
    unhyphenated
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn conclusion_prints_patient_diagnosis_and_markup_characters_literally() {
    let pdf = render_conclusion(&common::conclusion()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = text_of(&pdf);
    for expected in [
        "Иванова Мария Петровна",
        "I21.4",
        "I11.9",
        "E11.9",
        "ПРОТОКОЛ ТЕЛЕМЕДИЦИНСКОЙ КОНСУЛЬТАЦИИ",
        "№ ТМК-2026-000123, версия 2",
        "Исправляет версию 1 от 12.11.2026 14:05",
        "112-233-445 95",
        "7754 3210 9876 5432",
        "Подписано ЭП 12.11.2026 15:40 (МСК)",
        "(подпись, дата)",
        "Показан перевод в региональный сосудистый центр",
        "Повторная консультация при ухудшении",
        "3f9a1c07d2e84b65",
        "9b2e4f0c8d1a7e3b",
        "https://tm.example.ru/verify/ТМК-2026-000123",
        // Typst markup in user text, printed as typed:
        "#set page(width: 1cm)",
        "$x^2$",
        "*жирный*",
        "[x]",
        "<b>жирный</b>",
        "_курсив_",
        "@ref",
        "// не комментарий \\ конец",
        "Страница 1 из",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn missing_optional_parts_are_left_out_or_marked() {
    let mut doc = common::conclusion();
    doc.seal = None;
    doc.supersedes = None;
    doc.transfer = None;
    doc.follow_up = None;
    doc.other_diagnoses.clear();
    doc.patient.snils = None;
    doc.patient.oms_policy = None;
    let text = text_of(&render_conclusion(&doc).unwrap());
    assert!(text.contains("Иванова Мария Петровна"));
    // СНИЛС and полис ОМС (pdftotext reads the label column first).
    assert_eq!(text.matches("не указан").count(), 2, "{text}");
    for absent in [
        "Исправляет",
        "Медицинская эвакуация",
        "Дальнейшее наблюдение",
        "Сопутствующие",
        "электронной печатью",
    ] {
        assert!(
            !text.contains(absent),
            "{absent:?} should not be printed:\n{text}"
        );
    }
}

#[test]
fn long_findings_run_over_numbered_pages() {
    let pdf = render_conclusion(&common::long_conclusion()).unwrap();
    let text = text_of(&pdf);
    assert!(text.contains("Страница 2 из"), "{text}");
    let pages: usize = poppler("pdfinfo", &[], &pdf)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap();
    assert!(pages >= 3, "expected several pages, got {pages}");
    assert!(text.contains(&format!("Страница {pages} из {pages}")));
    // The patient is named on every page after the first one.
    assert!(text.matches("Пациент: Иванова Мария Петровна").count() >= pages - 1);
}

#[test]
fn pdf_declares_pdf_a_2b_and_embeds_every_font() {
    for pdf in [
        render_conclusion(&common::conclusion()).unwrap(),
        render_request_summary(&common::request_summary()).unwrap(),
    ] {
        let xmp = poppler("pdfinfo", &["-meta"], &pdf);
        assert!(xmp.contains("<pdfaid:part>2</pdfaid:part>"), "{xmp}");
        assert!(
            xmp.contains("<pdfaid:conformance>B</pdfaid:conformance>"),
            "{xmp}"
        );

        let fonts = poppler("pdffonts", &[], &pdf);
        let rows: Vec<&str> = fonts
            .lines()
            .skip(2)
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!(!rows.is_empty(), "no fonts listed:\n{fonts}");
        for row in rows {
            // Columns after the name: type (one or more words), encoding,
            // emb, sub, uni, object, generation. Read from the right.
            let cells: Vec<&str> = row.split_whitespace().collect();
            let emb = cells[cells.len() - 5];
            assert_eq!(emb, "yes", "font not embedded: {row}");
            // Cyrillic is covered by the chosen families, so typst never
            // falls back to another bundled font.
            assert!(
                cells[0].contains("LibertinusSerif") || cells[0].contains("DejaVuSansMono"),
                "unexpected font: {row}"
            );
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    let doc = common::conclusion();
    let first = render_conclusion(&doc).unwrap();
    // Render something else in between so caches hold other state.
    render_request_summary(&common::request_summary()).unwrap();
    let second = render_conclusion(&doc).unwrap();
    assert!(first == second, "same input gave different PDFs");

    // The creation date comes from the document, not the clock.
    let info = poppler("pdfinfo", &["-isodates"], &first);
    assert!(
        info.contains("2026-11-12T15:45:00+03") || info.contains("2026-11-12T12:45:00Z"),
        "{info}"
    );

    let mut other = doc.clone();
    other.findings.push_str(" Дополнение.");
    assert!(render_conclusion(&other).unwrap() != first);
}

#[test]
fn request_summary_lists_attachments() {
    let doc = common::request_summary();
    let text = text_of(&render_request_summary(&doc).unwrap());
    for expected in [
        "ЗАПРОС НА ТЕЛЕМЕДИЦИНСКУЮ КОНСУЛЬТАЦИЮ",
        "Иванова Мария Петровна",
        "I21.4",
        "кардиология",
        "13.11.2026 10:20 (МСК)",
        "ЭКГ_12.11.2026.pdf — 1,2 МБ — sha256 5d41402abc4b2a76",
        "Анализы_крови.jpg — 640 КБ — sha256 7c222fb2927d828a",
        "Страница 1 из 1",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }

    let mut bare = doc;
    bare.attachments.clear();
    let text = text_of(&render_request_summary(&bare).unwrap());
    assert!(text.contains("Файлы не приложены."), "{text}");
}

/// A character no embedded font can draw (a control character, a private-use
/// code point, Hangul, an emoji) is printed as U+FFFD; the document is still
/// made (PDF/A refused it whole), and the rest of the text is intact.
#[test]
fn characters_no_font_can_draw_are_marked_not_fatal() {
    for (name, render) in [
        (
            "summary",
            (|name: &str| {
                let mut doc = common::request_summary();
                doc.patient.full_name = name.into();
                doc.question = format!("{name}\u{2028}\u{3000}вопрос");
                render_request_summary(&doc)
            }) as fn(&str) -> _,
        ),
        ("conclusion", |name: &str| {
            let mut doc = common::conclusion();
            doc.patient.full_name = name.into();
            render_conclusion(&doc)
        }),
    ] {
        let hostile = "Иванова\u{1b}\u{17} \u{f25b1}Мария \u{b11e}\u{1f600}\u{9a}Петровна";
        let pdf = render(hostile).unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = text_of(&pdf);
        assert!(
            text.contains("Иванова\u{fffd}\u{fffd} \u{fffd}Мария \u{fffd}\u{fffd}\u{fffd}Петровна"),
            "{name}: {text}"
        );
    }
}

#[test]
fn a_document_date_is_required() {
    let mut doc = common::conclusion();
    doc.issued_at = "не указано".into();
    assert!(matches!(
        render_conclusion(&doc),
        Err(DocumentError::Date(_))
    ));

    // A date without a time is enough.
    doc.issued_at = "12.11.2026".into();
    let pdf = render_conclusion(&doc).unwrap();
    assert_eq!(pdf, render_conclusion(&doc).unwrap());
}

fn report() -> ReportDoc {
    ReportDoc {
        title: "Отчёт по телемедицинским консультациям".into(),
        region: "Заречная область".into(),
        period_label: "Период".into(),
        period: "01.11.2026 — 30.11.2026".into(),
        printed_at: "01.12.2026 09:00 (МСК)".into(),
        printed_label: "Сформирован".into(),
        figures: vec![ReportFigure {
            label: "Направлено".into(),
            value: "128".into(),
        }],
        tables: vec![
            ReportTable {
                title: "По профилям".into(),
                columns: vec!["Наименование".into(), "Количество".into()],
                rows: vec![
                    vec!["Кардиология #1 *важно* $x$ ]".into(), "97".into()],
                    vec!["Неврология".into(), "31".into()],
                ],
                bars: vec![
                    ReportBar {
                        label: "Кардиология #1 *важно* $x$ ]".into(),
                        value: 97.0,
                        text: "97".into(),
                    },
                    ReportBar {
                        label: "Неврология".into(),
                        value: 31.0,
                        text: "31".into(),
                    },
                ],
                bar_max: None,
            },
            ReportTable {
                title: "Отклонения по причинам".into(),
                columns: vec!["Наименование".into(), "Количество".into()],
                rows: Vec::new(),
                bars: Vec::new(),
                bar_max: None,
            },
        ],
        empty: "Нет данных за период.".into(),
    }
}

#[test]
fn report_prints_period_figures_tables_and_user_text_literally() {
    let pdf = render_report(&report()).unwrap();
    let text = text_of(&pdf);
    for expected in [
        "Заречная область",
        "01.11.2026 — 30.11.2026",
        "128",
        "Направлено",
        "Кардиология #1 *важно* $x$ ]",
        "Неврология",
        "Нет данных за период.",
        "Сформирован: 01.12.2026 09:00 (МСК)",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    assert_eq!(pdf, render_report(&report()).unwrap(), "deterministic");
}

/// Text shaped to hurt the layout: one letter under 20,000 combining marks
/// (a cluster whose layout took tens of gigabytes; the marks past UAX #15's
/// stream-safe 30 are left out), 20,000 letters without a space, and a
/// number of 19,999 digits (it cannot be hyphenated: one line of it was a PDF
/// string longer than PDF/A allows; it now breaks every 50 digits).
#[test]
fn pathological_text_is_laid_out_in_bounded_time() {
    for (label, question) in [
        ("marks", format!("Z{}", "\u{301}".repeat(20_000))),
        ("one word", "\u{436}".repeat(20_000)),
        ("one number", "0".repeat(19_999)),
    ] {
        let mut doc = common::request_summary();
        doc.question = format!("{question} END");
        let started = std::time::Instant::now();
        let pdf = render_request_summary(&doc).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert!(text_of(&pdf).contains("END"), "{label}");
        eprintln!("{label}: {:?}", started.elapsed());
    }
}
