//! Interface texts in Fluent catalogues (`locales/{ru,en}/main.ftl`), chosen per
//! request: never a process-wide locale.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{static_loader, Loader};
use rtms_domain::Lang;
use unic_langid::{langid, LanguageIdentifier};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "ru",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static RU: LanguageIdentifier = langid!("ru");
static EN: LanguageIdentifier = langid!("en");

fn id(lang: Lang) -> &'static LanguageIdentifier {
    match lang {
        Lang::Ru => &RU,
        Lang::En => &EN,
    }
}

/// A missing key shows itself on the page (and fails the catalogue test).
fn missing(key: &str) -> String {
    format!("⟦{key}⟧")
}

pub fn tr(lang: Lang, key: &str) -> String {
    LOCALES
        .try_lookup(id(lang), key)
        .unwrap_or_else(|| missing(key))
}

pub fn tr_args(lang: Lang, key: &str, args: &[(&'static str, FluentValue<'static>)]) -> String {
    let map: HashMap<Cow<'static, str>, FluentValue> = args
        .iter()
        .map(|(k, v)| (Cow::Borrowed(*k), v.clone()))
        .collect();
    LOCALES
        .try_lookup_with_args(id(lang), key, &map)
        .unwrap_or_else(|| missing(key))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    fn keys(ftl: &str) -> BTreeSet<String> {
        ftl.lines()
            .filter(|l| {
                !l.starts_with(' ')
                    && !l.starts_with('#')
                    && !l.starts_with('.')
                    && l.contains(" =")
            })
            .map(|l| l.split(" =").next().unwrap_or("").trim().to_string())
            .collect()
    }

    const RU_FTL: &str = include_str!("../../locales/ru/main.ftl");
    const EN_FTL: &str = include_str!("../../locales/en/main.ftl");

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let (ru, en) = (keys(RU_FTL), keys(EN_FTL));
        let only_ru: Vec<_> = ru.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&ru).collect();
        assert!(
            only_ru.is_empty() && only_en.is_empty(),
            "only in ru: {only_ru:?}; only in en: {only_en:?}"
        );
        assert!(ru.len() > 50);
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let ru = keys(RU_FTL);
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
        let missing: Vec<_> = used.iter().filter(|k| !ru.contains(*k)).collect();
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

    #[test]
    fn lookups_differ_by_language() {
        use rtms_domain::Lang;
        assert_eq!(super::tr(Lang::Ru, "nav-queue"), "Запросы");
        assert_eq!(super::tr(Lang::En, "nav-queue"), "Requests");
        assert_eq!(super::tr(Lang::En, "no-such-key"), "⟦no-such-key⟧");
    }
}
