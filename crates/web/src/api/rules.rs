//! What the server checks in a request body, written into the served
//! document's schemas as JSON Schema (`pattern`, `enum`, ranges, lengths),
//! so that a client generated from the document refuses what the server
//! would refuse.
//!
//! Each rule here restates a check that lives in the domain or the service
//! (named beside it); `tests` below hold each pattern against that check on
//! many strings. Where a rule cannot be stated (a check digit, a date against
//! today, a reference to another record), the schema says as much as it can
//! and never less than the server accepts: what the schema forbids, the
//! server refuses.
//!
//! Surrounding whitespace: the server trims what people type. `WS` is
//! exactly the set Rust's `char::is_whitespace` (and so `str::trim`) knows,
//! spelled for ECMA, Python and Rust regular expressions alike.

use serde_json::{json, Value};

/// Every character `char::is_whitespace` holds, as a character-class body.
const WS: &str =
    r"\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// Some character that is not whitespace (a non-blank text).
fn non_blank() -> String {
    format!("[^{WS}]")
}

/// `body` with optional whitespace around it, or whitespace alone (which
/// clears the field).
fn trimmed_or_blank(body: &str) -> String {
    format!("^[{WS}]*({body})?[{WS}]*$")
}

/// One of `codes` exactly, or whitespace alone (which clears the field).
fn code_or_blank(codes: &[&str]) -> String {
    format!("^([{WS}]*|{})$", codes.join("|"))
}

/// СНИЛС: 11 digits, spaces and hyphens anywhere (`Snils::parse`); the check
/// number is the server's.
fn snils() -> String {
    trimmed_or_blank("([- ]*[0-9]){11}[- ]*")
}

/// ОМС policy / ЕНП: 16 digits, spaces and hyphens anywhere (`OmsPolicy::parse`).
fn oms() -> String {
    trimmed_or_blank("([- ]*[0-9]){16}[- ]*")
}

/// An МКБ-10 code as a person types it (`Icd10Code::parse`): a letter (Latin
/// in either case, or the Cyrillic one that looks like it), two digits, and
/// one or two more after a dot or a comma. Whether the code exists is the
/// reference table's question.
fn icd10() -> String {
    trimmed_or_blank(
        "[A-Za-z\u{410}\u{412}\u{421}\u{415}\u{41A}\u{41C}\u{41D}\u{41E}\u{420}\u{422}\u{425}\
         \u{430}\u{432}\u{441}\u{435}\u{43A}\u{43C}\u{43D}\u{43E}\u{440}\u{442}\u{445}]\
         [0-9]{2}([.,][0-9]{1,2})?",
    )
}

/// A date as `validate::parse_date` reads it (`ДД.ММ.ГГГГ`, `ГГГГ-ММ-ДД`, an
/// English month name): the characters it may hold. Whether the day exists
/// and is not in the future is the server's.
fn date() -> String {
    format!(r"^[0-9A-Za-z.,+\-{WS}]*$")
}

/// A phone (`validate::parse_phone`): 5 to 15 digits with `+ - ( )` and spaces.
fn phone() -> String {
    trimmed_or_blank(r"([-+ ()]*[0-9]){5,15}[-+ ()]*")
}

/// The rules, as (schema, property, what to add to the property's schema).
fn rules() -> Vec<(&'static str, &'static str, Value)> {
    use rtms_domain::nsi::{IDENTITY_DOC_CODES, POLICY_CODES};
    use rtms_domain::{FormOfCare, Mode, OrgKind, Sex};
    let codes = |list: &[(&'static str, &'static str)]| -> Vec<&'static str> {
        list.iter().map(|(c, _)| *c).collect()
    };
    let max = |n: u32| json!({ "maxLength": n });
    let pattern = |p: String| json!({ "pattern": p });
    let mut out = vec![
        // The request's draft (`ClinicalData::apply`).
        ("PatientPatch", "last_name", max(100)),
        ("PatientPatch", "first_name", max(100)),
        ("PatientPatch", "middle_name", max(100)),
        ("PatientPatch", "birth_date", pattern(date())),
        ("PatientPatch", "id_doc_issued", pattern(date())),
        (
            "PatientPatch",
            "sex",
            pattern(code_or_blank(
                &Sex::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            )),
        ),
        ("PatientPatch", "snils", pattern(snils())),
        ("PatientPatch", "oms_policy", pattern(oms())),
        ("PatientPatch", "address", max(500)),
        ("PatientPatch", "description", max(2000)),
        (
            "PatientPatch",
            "id_doc_type",
            pattern(trimmed_or_blank(&codes(&IDENTITY_DOC_CODES).join("|"))),
        ),
        ("PatientPatch", "id_doc_series", max(20)),
        ("PatientPatch", "id_doc_number", max(30)),
        ("PatientPatch", "id_doc_issuer", max(300)),
        (
            "PatientPatch",
            "oms_policy_type",
            pattern(trimmed_or_blank(&codes(&POLICY_CODES).join("|"))),
        ),
        (
            "ConsultationPatch",
            "form_of_care",
            pattern(code_or_blank(
                &FormOfCare::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "ConsultationPatch",
            "mode",
            pattern(code_or_blank(
                &Mode::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            )),
        ),
        ("ConsultationPatch", "contact_phone", pattern(phone())),
        ("ConsultationPatch", "consent_ground", max(1000)),
        ("DiagnosisPatch", "main", pattern(icd10())),
        (
            "DiagnosisPatch",
            "complications",
            json!({ "items": { "pattern": icd10() } }),
        ),
        (
            "DiagnosisPatch",
            "comorbidities",
            json!({ "items": { "pattern": icd10() } }),
        ),
        ("DiagnosisPatch", "text", max(2000)),
    ];
    for field in [
        "question",
        "anamnesis_morbi",
        "anamnesis_vitae",
        "epidemiological_history",
        "objective_status",
        "lab_results",
        "instrumental_results",
        "current_treatment",
        "previous_consultations",
    ] {
        out.push(("ConsultationPatch", field, max(20_000)));
    }
    // An organization (`admin::validate_org`).
    let time_zones: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
    out.extend([
        ("OrgInput", "name", pattern(non_blank())),
        ("OrgInput", "short_name", pattern(non_blank())),
        (
            "OrgInput",
            "kind",
            json!({ "enum": OrgKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>() }),
        ),
        (
            "OrgInput",
            "time_zone",
            json!({ "enum": time_zones, "x-enum-varnames": enum_names(&time_zones) }),
        ),
        ("OrgInput", "address", max(500)),
        ("OrgInput", "phone", max(50)),
        (
            "OrgInput",
            "frmo_oid",
            pattern(r"^([0-9]+(\.[0-9]+)*)?$".into()),
        ),
        (
            "OrgInput",
            "video_link_template",
            json!({ "maxLength": 500, "pattern": trimmed_or_blank(&format!("https?://[^{WS}]*")) }),
        ),
    ]);
    // People (`admin::admin_create_user`, `admin_update_user`, `staff_identity`).
    for schema in ["UserInput", "UserUpdate"] {
        out.extend([
            (schema, "last_name", pattern(non_blank())),
            (schema, "first_name", pattern(non_blank())),
            (schema, "snils", pattern(snils())),
            (
                schema,
                "position_code",
                pattern(trimmed_or_blank("[0-9]{1,6}")),
            ),
        ]);
    }
    out.push((
        "UserInput",
        "login",
        pattern(format!("^[{WS}]*[A-Za-z0-9._-]+[{WS}]*$")),
    ));
    // The region's settings (`admin::set_region_settings`).
    let range = |lo: i64, hi: i64| json!({ "minimum": lo, "maximum": hi });
    out.extend([
        ("RegionSettings", "emergency_minutes", range(15, 24 * 60)),
        ("RegionSettings", "urgent_minutes", range(60, 7 * 24 * 60)),
        (
            "RegionSettings",
            "planned_minutes",
            range(24 * 60, 90 * 24 * 60),
        ),
        (
            "RegionSettings",
            "session_idle_minutes",
            range(rtms_service::access::sessions::MIN_IDLE_MINUTES, 12 * 60),
        ),
        (
            "RegionSettings",
            "escalate_head_minutes",
            range(0, 30 * 24 * 60),
        ),
        (
            "RegionSettings",
            "upload_quota_org_mb",
            range(0, rtms_service::directory::admin::MAX_UPLOAD_QUOTA_MB),
        ),
        (
            "RegionSettings",
            "upload_quota_user_mb",
            range(0, rtms_service::directory::admin::MAX_UPLOAD_QUOTA_MB),
        ),
        ("RegionSettings", "region_name", max(200)),
        ("RegionSettings", "semd_region_name", max(200)),
        (
            "RegionSettings",
            "semd_mis_number",
            pattern(trimmed_or_blank("[1-9][0-9]{0,8}\\.[1-9][0-9]{0,8}")),
        ),
        (
            "RegionSettings",
            "semd_region_code",
            pattern(format!("^[{WS}]*[0-9]{{0,3}}[{WS}]*$")),
        ),
    ]);
    out
}

/// Names for generated code, one per value and distinct (`Etc/GMT+1` and
/// `Etc/GMT-1` are `ETC_GMT_PLUS_1` and `ETC_GMT_MINUS_1`; a generator left to
/// itself folds `GMT+0`, `GMT-0` and `GMT0` into one name and fails).
fn enum_names(values: &[&str]) -> Vec<String> {
    values
        .iter()
        .map(|v| {
            let mut name = String::new();
            let mut chars = v.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '+' => name.push_str("_PLUS_"),
                    '-' if chars.peek().is_some_and(char::is_ascii_digit) => {
                        name.push_str("_MINUS_")
                    }
                    c if c.is_ascii_alphanumeric() => name.push(c.to_ascii_uppercase()),
                    _ => name.push('_'),
                }
            }
            name.split('_')
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("_")
        })
        .collect()
}

/// Writes the rules into `components.schemas`, and what concerns more than
/// one field: a medical organization has a level of 1, 2 or 3.
pub(super) fn constrain(schemas: &mut Value) {
    for (schema, property, add) in rules() {
        let target = &mut schemas[schema]["properties"][property];
        debug_assert!(
            target.is_object(),
            "rule for a missing property {schema}.{property}"
        );
        merge(target, &add);
    }
    if let Some(org) = schemas.get_mut("OrgInput").and_then(Value::as_object_mut) {
        org.insert(
            "if".into(),
            json!({ "properties": { "kind": { "const": "mo" } }, "required": ["kind"] }),
        );
        org.insert(
            "then".into(),
            json!({
                "properties": { "level": { "type": "integer", "minimum": 1, "maximum": 3 } },
                "required": ["level"]
            }),
        );
    }
}

fn merge(target: &mut Value, add: &Value) {
    match (target, add) {
        (Value::Object(t), Value::Object(a)) => {
            for (k, v) in a {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (t, a) => *t = a.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;
    use rtms_domain::validate::{parse_date, parse_phone, Icd10Code, OmsPolicy, Snils};

    /// Strings over an alphabet that holds each rule's edges: digits, the
    /// separators, letters that look alike, whitespace Rust trims and some
    /// it does not, and characters whose upper case is ASCII.
    fn strings(alphabet: &[char], count: usize, max_len: usize) -> Vec<String> {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        (0..count)
            .map(|_| {
                let len = (next() % (max_len as u64 + 1)) as usize;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    const EDGES: &[char] = &[
        ' ', '\t', '\u{a0}', '\u{3000}', '\u{1c}', '\u{200b}', '-', '.', ',', '+', '(', ')',
    ];

    fn alphabet(extra: &str) -> Vec<char> {
        let mut a: Vec<char> = EDGES.to_vec();
        a.extend(extra.chars());
        a
    }

    /// The form check the server makes, with the check digits left aside.
    fn holds(pattern: &str, accepts: impl Fn(&str) -> bool, samples: &[String]) {
        let re = Regex::new(pattern).unwrap();
        let mut matched = 0;
        for s in samples {
            assert_eq!(
                re.is_match(s),
                accepts(s),
                "pattern {pattern} and the server disagree on {s:?}"
            );
            matched += usize::from(re.is_match(s));
        }
        assert!(matched > 0, "no sample matched {pattern}");
    }

    #[test]
    fn time_zone_names_for_generated_code_are_distinct() {
        let zones: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
        let names = enum_names(&zones);
        let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), zones.len());
        let at = |z: &str| names[zones.iter().position(|x| *x == z).unwrap()].clone();
        assert_eq!(at("Etc/GMT+1"), "ETC_GMT_PLUS_1");
        assert_eq!(at("Etc/GMT-1"), "ETC_GMT_MINUS_1");
        assert_eq!(at("America/Port-au-Prince"), "AMERICA_PORT_AU_PRINCE");
    }

    #[test]
    fn whitespace_is_what_rust_trims() {
        let re = Regex::new(&format!("^[{WS}]$")).unwrap();
        for c in (0..0x1_0000u32).filter_map(char::from_u32) {
            assert_eq!(re.is_match(&c.to_string()), c.is_whitespace(), "{c:?}");
        }
    }

    #[test]
    fn snils_and_oms_patterns_are_the_parsers_form() {
        let samples = strings(&alphabet("0123456789"), 20_000, 20);
        let mut valid = vec![
            "112-233-445 95".to_string(),
            " 11223344595\u{a0}".into(),
            String::new(),
        ];
        valid.extend(samples);
        // A СНИЛС in the right form whose check number is wrong is the
        // server's to refuse; the pattern only says the form.
        holds(
            &snils(),
            |s| s.trim().is_empty() || !matches!(Snils::parse(s), Err("snils_format")),
            &valid,
        );
        let mut samples = strings(&alphabet("0123456789"), 20_000, 24);
        samples.push("1234 5678 9012 3456".into());
        holds(
            &oms(),
            |s| s.trim().is_empty() || OmsPolicy::parse(s).is_ok(),
            &samples,
        );
    }

    #[test]
    fn icd10_pattern_is_the_parsers_form() {
        let mut samples = strings(
            &alphabet("0123456789IiJjAa\u{420}\u{440}\u{425}\u{445}\u{401}\u{451}\u{df}\u{17f}\u{131}\u{212a}"),
            30_000,
            8,
        );
        samples.extend(
            ["I21.0", " i21,01 ", "\u{420}10", "\u{df}10", "\u{212a}21.0"].map(String::from),
        );
        holds(
            &icd10(),
            |s| s.trim().is_empty() || Icd10Code::parse(s).is_ok(),
            &samples,
        );
    }

    #[test]
    fn phone_pattern_is_the_parsers_form() {
        let mut samples = strings(&alphabet("0123456789"), 20_000, 20);
        samples.push("+7 (4822) 12-34-56".into());
        holds(
            &phone(),
            |s| s.trim().is_empty() || parse_phone(s).is_ok(),
            &samples,
        );
    }

    #[test]
    fn the_date_pattern_holds_every_date_the_server_reads() {
        let re = Regex::new(&date()).unwrap();
        for s in [
            "04.12.2026",
            "4.12.2026",
            "2026-12-04",
            " 4 Dec 2026 ",
            "4 December 2026",
            "Dec 4, 2026",
            "+2026-12-04",
        ] {
            if parse_date(s).is_ok() {
                assert!(re.is_match(s), "{s:?}");
            }
        }
        for s in strings(&alphabet("0123456789DecJanuryMay"), 50_000, 12) {
            if parse_date(&s).is_ok() {
                assert!(re.is_match(&s), "{s:?} is read as a date but refused");
            }
        }
        assert!(!re.is_match("4/12/2026"));
    }

    #[test]
    fn every_rule_names_a_property_of_the_served_document() {
        let doc = crate::api::contract(&crate::api::router().split_for_parts().1);
        for (schema, property, _) in rules() {
            assert!(
                doc["components"]["schemas"][schema]["properties"][property].is_object(),
                "{schema}.{property}"
            );
        }
        let settings = &doc["components"]["schemas"]["RegionSettings"]["properties"];
        assert_eq!(settings["emergency_minutes"]["minimum"], 15);
        let org = &doc["components"]["schemas"]["OrgInput"];
        assert_eq!(org["then"]["required"][0], "level");
    }
}
