//! The interface's texts: `rtms_i18n` (the Fluent catalogues shared with the
//! service crate), re-exported for the pages.

pub use rtms_i18n::{number, refusal, tr, tr_args, tr_count, Label};

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
        let missing: Vec<_> = used
            .iter()
            .filter(|k| !rtms_i18n::has_key(rtms_domain::Lang::Ru, k))
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
}
