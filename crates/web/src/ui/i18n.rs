//! The interface's texts: `rtms_i18n` (the Fluent catalogues shared with the
//! service crate), re-exported for the pages.

pub use rtms_i18n::{number, refusal, tr, tr_args, tr_count, Label};

/// Marks a catalogue key written in code, so the catalogue test finds it.
pub(crate) const fn lbl(key: &'static str) -> &'static str {
    key
}

/// Why a DICOM upload could not be indexed, for the file list and the
/// viewer: the code kept in the attachment's details (see `rtms_dicom`'s
/// `DicomError::code` and `rtms_service::attachments::dicom`) in the user's language.
pub fn dicom_error_text(code: &str, lang: rtms_domain::Lang) -> String {
    use fluent_templates::fluent_bundle::FluentValue;
    let n = |v: u64| FluentValue::from(v as f64);
    let mib = |v: u64| FluentValue::from((v >> 20) as f64);
    let reason = match code {
        "not_dicom" => tr(lang, "dicom-error-not-dicom"),
        "unsupported_transfer_syntax" => tr(lang, "dicom-error-unsupported"),
        "no_pixel_data" => tr(lang, "dicom-error-no-image"),
        "nesting_too_deep" => tr_args(
            lang,
            "dicom-error-nesting",
            &[("limit", n(rtms_dicom::MAX_DEPTH as u64))],
        ),
        "length_too_large" => tr(lang, "dicom-error-length"),
        "too_many_elements" => tr_args(
            lang,
            "dicom-error-elements",
            &[("limit", n(rtms_dicom::MAX_ELEMENTS))],
        ),
        "truncated" => tr(lang, "dicom-error-truncated"),
        "zip_too_many_entries" => tr_args(
            lang,
            "dicom-error-zip-entries",
            &[("limit", n(rtms_dicom::MAX_ZIP_ENTRIES))],
        ),
        "zip_too_large" => tr_args(
            lang,
            "dicom-error-zip-size",
            &[("limit", mib(rtms_dicom::MAX_ZIP_UNPACKED_BYTES))],
        ),
        "zip_ratio" => tr_args(
            lang,
            "dicom-error-zip-ratio",
            &[("limit", n(rtms_dicom::MAX_ZIP_RATIO))],
        ),
        "invalid_zip" => tr(lang, "dicom-error-zip-broken"),
        "index_crashed" | "index_abandoned" => tr(lang, "dicom-error-crashed"),
        "index_timeout" => tr(lang, "dicom-error-timeout"),
        _ => tr(lang, "dicom-error-invalid"),
    };
    format!("{} {reason}", tr(lang, "dicom-error"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let dirs = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/src/ui"),
        ];
        let mut used = BTreeSet::new();
        for dir in dirs {
            for entry in std::fs::read_dir(dir).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                for marker in [
                    "p.t(\"",
                    "tr(lang, \"",
                    "tr(u.lang, \"",
                    "lbl(\"",
                    "tr_args(lang, \"",
                    "tr_count(lang, \"",
                    "p.tn(\"",
                    "Page::public(lang, \"",
                ] {
                    for part in text.split(marker).skip(1) {
                        if let Some(key) = part.split('"').next() {
                            if !key.is_empty()
                                && key
                                    .chars()
                                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                            {
                                used.insert(key.to_string());
                            }
                        }
                    }
                }
            }
        }
        // In both languages: a key missing from English would show the
        // Russian text on an English page (the loader falls back to Russian).
        let missing: Vec<_> = used
            .iter()
            .flat_map(|k| [rtms_domain::Lang::Ru, rtms_domain::Lang::En].map(|l| (k, l)))
            .filter(|(k, l)| !rtms_i18n::has_key(*l, k))
            .collect();
        assert!(
            missing.is_empty(),
            "keys used but not in the catalogues: {missing:?}"
        );
        assert!(
            used.len() > 50,
            "only {} keys found; is the scan broken?",
            used.len()
        );
    }

    /// What the file list and the viewer say about a DICOM upload that could
    /// not be read: the lead, then the reason with its limit written in.
    #[test]
    fn dicom_errors_read_as_the_catalogue_says() {
        use super::dicom_error_text;
        use rtms_domain::Lang;
        // The texts below name these limits.
        assert_eq!(rtms_dicom::MAX_ZIP_ENTRIES, 20_000);
        assert_eq!(rtms_dicom::MAX_DEPTH, 32);
        assert_eq!(
            dicom_error_text("zip_too_many_entries", Lang::Ru),
            "Исследование не удалось прочитать: в архиве больше 20\u{a0}000 файлов."
        );
        assert_eq!(
            dicom_error_text("zip_too_many_entries", Lang::En),
            "The study could not be read: the archive has more than 20,000 files."
        );
        assert_eq!(
            dicom_error_text("nesting_too_deep", Lang::Ru),
            "Исследование не удалось прочитать: вложенность последовательностей глубже 32 уровней."
        );
        assert_eq!(
            dicom_error_text("not_dicom", Lang::Ru),
            "Исследование не удалось прочитать: это не файл DICOM."
        );
        // A code this version does not know reads as a damaged file.
        assert_eq!(
            dicom_error_text("no_such_code", Lang::Ru),
            "Исследование не удалось прочитать: файл DICOM повреждён."
        );
        assert_eq!(
            dicom_error_text("no_such_code", Lang::En),
            "The study could not be read: the DICOM file is damaged."
        );
    }
}
