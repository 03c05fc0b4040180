//! Rendering tests: the PDFs are read back with poppler-utils (`pdftotext`,
//! `pdfinfo`), which must be installed, and their PDF/A structure with lopdf.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use lopdf::{dictionary, Dictionary, Document, Object, Stream};

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

// ---------------------------------------------------------------------------
// PDF/A-2b, read from the file's structure as a validator reads it
// ---------------------------------------------------------------------------

fn deref<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    doc.dereference(object).ok().map(|(_, o)| o)
}

fn entry<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    dict.get(key).ok().and_then(|o| deref(doc, o))
}

fn name<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    entry(doc, dict, key)?.as_name().ok()
}

fn dict_of(object: &Object) -> Option<&Dictionary> {
    match object {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

/// Calls `f` on every dictionary of the file, direct ones nested in other
/// objects included.
fn each_dictionary<'a>(doc: &'a Document, f: &mut impl FnMut(&'a Dictionary)) {
    fn walk<'a>(object: &'a Object, f: &mut impl FnMut(&'a Dictionary)) {
        match object {
            Object::Dictionary(d) => {
                f(d);
                d.iter().for_each(|(_, v)| walk(v, f));
            }
            Object::Stream(s) => {
                f(&s.dict);
                s.dict.iter().for_each(|(_, v)| walk(v, f));
            }
            Object::Array(a) => a.iter().for_each(|v| walk(v, f)),
            _ => {}
        }
    }
    doc.objects.values().for_each(|o| walk(o, f));
}

/// The value of an XMP property, written as an element or as an attribute.
fn xmp_property(xmp: &str, property: &str) -> Option<String> {
    let open = format!("<{property}>");
    if let Some(at) = xmp.find(&open) {
        let rest = &xmp[at + open.len()..];
        let end = rest.find(&format!("</{property}>"))?;
        return Some(rest[..end].trim().to_string());
    }
    for quote in ['"', '\''] {
        let attr = format!("{property}={quote}");
        if let Some(at) = xmp.find(&attr) {
            let rest = &xmp[at + attr.len()..];
            return Some(rest[..rest.find(quote)?].trim().to_string());
        }
    }
    None
}

/// The embedded ICC profile of the PDF/A output intent.
fn check_output_intent(doc: &Document, catalog: &Dictionary, out: &mut Vec<String>) {
    let Some(intents) = entry(doc, catalog, b"OutputIntents").and_then(|o| o.as_array().ok())
    else {
        out.push("no /OutputIntents in the catalog".into());
        return;
    };
    let pdfa: Vec<&Dictionary> = intents
        .iter()
        .filter_map(|i| deref(doc, i).and_then(dict_of))
        .filter(|d| name(doc, d, b"S") == Some(b"GTS_PDFA1"))
        .collect();
    let [intent] = pdfa[..] else {
        out.push(format!(
            "{} output intents with /S /GTS_PDFA1, not one",
            pdfa.len()
        ));
        return;
    };
    let Some(profile) = entry(doc, intent, b"DestOutputProfile").and_then(|o| o.as_stream().ok())
    else {
        out.push("the /GTS_PDFA1 output intent embeds no /DestOutputProfile stream".into());
        return;
    };
    let icc = match profile.get_plain_content() {
        Ok(icc) => icc,
        Err(e) => {
            out.push(format!("the /DestOutputProfile cannot be decoded: {e}"));
            return;
        }
    };
    // ICC.1 header: the size, then at 16 the colour space, at 36 'acsp'.
    if icc.len() < 128 || &icc[36..40] != b"acsp" {
        out.push("the /DestOutputProfile is not an ICC profile".into());
        return;
    }
    if u32::from_be_bytes(icc[0..4].try_into().unwrap()) as usize != icc.len() {
        out.push("the /DestOutputProfile's ICC header gives another size".into());
    }
    let components = profile.dict.get(b"N").and_then(|n| n.as_i64()).ok();
    let space: &[u8] = match components {
        Some(1) => b"GRAY",
        Some(3) => b"RGB ",
        Some(4) => b"CMYK",
        _ => b"?",
    };
    if &icc[16..20] != space {
        out.push(format!(
            "the /DestOutputProfile's /N {components:?} does not match its colour space {:?}",
            String::from_utf8_lossy(&icc[16..20])
        ));
    }
}

/// The XMP metadata: a plain (unfiltered) XML stream naming PDF/A-2b.
fn check_metadata(doc: &Document, catalog: &Dictionary, out: &mut Vec<String>) {
    let Some(stream) = entry(doc, catalog, b"Metadata").and_then(|o| o.as_stream().ok()) else {
        out.push("no /Metadata stream in the catalog".into());
        return;
    };
    if name(doc, &stream.dict, b"Type") != Some(b"Metadata")
        || name(doc, &stream.dict, b"Subtype") != Some(b"XML")
    {
        out.push("the /Metadata stream is not /Type /Metadata /Subtype /XML".into());
    }
    if stream.dict.has(b"Filter") {
        out.push("the /Metadata stream is filtered".into());
    }
    let xmp = String::from_utf8_lossy(&stream.get_plain_content().unwrap_or_default()).into_owned();
    for (property, wanted) in [("pdfaid:part", "2"), ("pdfaid:conformance", "B")] {
        let got = xmp_property(&xmp, property);
        if got.as_deref() != Some(wanted) {
            out.push(format!("XMP {property} is {got:?}, not {wanted:?}"));
        }
    }
}

/// Every font carries its glyphs: a Type0 font through its descendant
/// (checked as a font of its own), a Type3 font by its own glyph procedures,
/// every other one by a non-empty /FontFile, /FontFile2 or /FontFile3 in its
/// /FontDescriptor. Returns the fonts' names.
fn check_fonts(doc: &Document, out: &mut Vec<String>) -> Vec<String> {
    let mut names = Vec::new();
    each_dictionary(doc, &mut |font| {
        if name(doc, font, b"Type") != Some(b"Font") {
            return;
        }
        let base = name(doc, font, b"BaseFont")
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_else(|| "(no /BaseFont)".into());
        match name(doc, font, b"Subtype") {
            Some(b"Type3") => {}
            Some(b"Type0") => {
                let descendants =
                    entry(doc, font, b"DescendantFonts").and_then(|o| o.as_array().ok());
                if descendants.is_none_or(|d| d.is_empty()) {
                    out.push(format!(
                        "font {base}: a Type0 font without /DescendantFonts"
                    ));
                }
            }
            _ => {
                let Some(descriptor) = entry(doc, font, b"FontDescriptor").and_then(dict_of) else {
                    out.push(format!(
                        "font {base} has no /FontDescriptor, so it is not embedded"
                    ));
                    names.push(base);
                    return;
                };
                let file = [&b"FontFile"[..], b"FontFile2", b"FontFile3"]
                    .iter()
                    .find_map(|k| entry(doc, descriptor, k));
                match file.and_then(|f| f.as_stream().ok()) {
                    None => out.push(format!(
                        "font {base} is not embedded (no /FontFile, /FontFile2 or /FontFile3)"
                    )),
                    Some(f) if f.get_plain_content().map_or(true, |c| c.is_empty()) => out.push(
                        format!("font {base}: its embedded font file is empty or unreadable"),
                    ),
                    Some(_) => {}
                }
            }
        }
        names.push(base);
    });
    names
}

/// What a PDF/A-2b validator would refuse in `pdf`, one finding a line
/// (none for a good file): fonts embedded, the PDF/A output intent with its
/// ICC profile, the XMP identification, no encryption.
fn pdfa_2b_findings(pdf: &[u8]) -> Vec<String> {
    let doc = match Document::load_mem(pdf) {
        Ok(doc) => doc,
        Err(e) => return vec![format!("not a readable PDF: {e}")],
    };
    let mut out = Vec::new();
    if doc.trailer.has(b"Encrypt") {
        out.push("the file is encrypted".into());
    }
    let Ok(catalog) = doc.catalog() else {
        out.push("no document catalog".into());
        return out;
    };
    check_output_intent(&doc, catalog, &mut out);
    check_metadata(&doc, catalog, &mut out);
    check_fonts(&doc, &mut out);
    out
}

fn font_names(pdf: &[u8]) -> Vec<String> {
    check_fonts(&Document::load_mem(pdf).unwrap(), &mut Vec::new())
}

#[test]
fn pdf_is_pdf_a_2b_and_embeds_every_font() {
    for (what, pdf) in [
        (
            "conclusion",
            render_conclusion(&common::conclusion()).unwrap(),
        ),
        (
            "request summary",
            render_request_summary(&common::request_summary()).unwrap(),
        ),
        ("report", render_report(&report()).unwrap()),
    ] {
        let findings = pdfa_2b_findings(&pdf);
        assert!(findings.is_empty(), "{what}: {findings:#?}");
        let fonts = font_names(&pdf);
        assert!(!fonts.is_empty(), "{what}: no fonts found");
        for font in fonts {
            // Cyrillic is covered by the chosen families, so typst never
            // falls back to another bundled font.
            assert!(
                font.contains("LibertinusSerif") || font.contains("DejaVuSansMono"),
                "{what}: unexpected font {font}"
            );
        }
    }
}

/// A small PDF made here: one page of text in Helvetica, referenced but not
/// embedded, with no output intent and no metadata.
fn hand_made_pdf() -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
    });
    let content = doc.add_object(Stream::new(
        dictionary! {},
        b"BT /F1 12 Tf 72 720 Td (hello) Tj ET".to_vec(),
    ));
    let page = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages,
        "Contents" => content,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page.into()],
            "Count" => 1,
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

/// The check above can fail: it refuses a hand-made PDF, and the real
/// conclusion spoiled in one way at a time, each for that very reason.
#[test]
fn the_pdf_a_check_refuses_what_a_validator_refuses() {
    let findings = pdfa_2b_findings(&hand_made_pdf());
    for expected in [
        "font Helvetica has no /FontDescriptor",
        "no /OutputIntents",
        "no /Metadata",
    ] {
        assert!(
            findings.iter().any(|f| f.contains(expected)),
            "{expected:?} not among {findings:#?}"
        );
    }

    let good = render_conclusion(&common::conclusion()).unwrap();
    assert_eq!(pdfa_2b_findings(&good), Vec::<String>::new());
    type Spoil = fn(&mut Document);
    let spoils: [(&str, Spoil, &str); 6] = [
        (
            "font files removed",
            |doc| {
                for o in doc.objects.values_mut() {
                    if let Ok(d) = o.as_dict_mut() {
                        if d.has_type(b"FontDescriptor") {
                            d.remove(b"FontFile");
                            d.remove(b"FontFile2");
                            d.remove(b"FontFile3");
                        }
                    }
                }
            },
            "is not embedded",
        ),
        (
            "output intents removed",
            |doc| {
                doc.catalog_mut().unwrap().remove(b"OutputIntents");
            },
            "no /OutputIntents",
        ),
        (
            "a PDF/X intent instead",
            |doc| {
                for o in doc.objects.values_mut() {
                    if let Ok(d) = o.as_dict_mut() {
                        if d.has_type(b"OutputIntent") {
                            d.set("S", Object::Name(b"GTS_PDFX".to_vec()));
                        }
                    }
                }
            },
            "0 output intents with /S /GTS_PDFA1",
        ),
        (
            "ICC profile not embedded",
            |doc| {
                for o in doc.objects.values_mut() {
                    if let Ok(d) = o.as_dict_mut() {
                        if d.has_type(b"OutputIntent") {
                            d.remove(b"DestOutputProfile");
                        }
                    }
                }
            },
            "embeds no /DestOutputProfile",
        ),
        (
            "XMP says PDF/A-1",
            |doc| spoil_xmp(doc, "<pdfaid:part>2<", "<pdfaid:part>1<"),
            "XMP pdfaid:part is Some(\"1\")",
        ),
        (
            "XMP says level A",
            |doc| spoil_xmp(doc, "<pdfaid:conformance>B<", "<pdfaid:conformance>A<"),
            "XMP pdfaid:conformance is Some(\"A\")",
        ),
    ];
    for (defect, spoil, expected) in spoils {
        let mut doc = Document::load_mem(&good).unwrap();
        spoil(&mut doc);
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        let findings = pdfa_2b_findings(&bytes);
        assert!(!findings.is_empty(), "{defect}: not noticed");
        for f in &findings {
            assert!(
                f.contains(expected),
                "{defect}: {f:?} (expected {expected:?})"
            );
        }
    }
}

/// Replaces text in the XMP metadata stream.
fn spoil_xmp(doc: &mut Document, from: &str, to: &str) {
    let id = doc
        .catalog()
        .unwrap()
        .get(b"Metadata")
        .unwrap()
        .as_reference()
        .unwrap();
    let stream = doc.get_object_mut(id).unwrap().as_stream_mut().unwrap();
    let xmp = String::from_utf8(stream.content.clone()).unwrap();
    assert!(xmp.contains(from), "{from} not in the XMP");
    stream.set_content(xmp.replace(from, to).into_bytes());
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
