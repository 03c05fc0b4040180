//! Interface texts in Fluent catalogues (`locales/{ru,en}/main.ftl`), chosen per
//! request: never a process-wide locale.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

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
    // A page asks for a few dozen texts, a queue row for several: each is
    // looked up in the catalogue once per language, then copied.
    let memo = &TEXTS[lang as usize];
    if let Some(text) = memo.read().ok().and_then(|m| m.get(key).cloned()) {
        return text;
    }
    let text = LOCALES
        .try_lookup(id(lang), key)
        .unwrap_or_else(|| missing(key));
    if let Ok(mut m) = memo.write() {
        m.insert(key.to_string(), text.clone());
    }
    text
}

/// Texts looked up, per language (the catalogue's keys bound the size).
static TEXTS: [RwLock<BTreeMap<String, String>>; 2] =
    [RwLock::new(BTreeMap::new()), RwLock::new(BTreeMap::new())];

/// A message with text arguments, kept as its pieces: literal text, and the
/// places where argument `n` goes.
enum Piece {
    Text(String),
    Arg(usize),
}

static SHAPES: [RwLock<BTreeMap<String, Vec<Piece>>>; 2] =
    [RwLock::new(BTreeMap::new()), RwLock::new(BTreeMap::new())];

/// Argument `n` while a message's shape is taken: a private-use character.
fn marker(n: usize) -> char {
    char::from_u32(0xF0000 + n as u32).unwrap_or('\u{F0000}')
}

fn lookup_args(lang: Lang, key: &str, args: &[(&'static str, FluentValue<'static>)]) -> String {
    let map: HashMap<Cow<'static, str>, FluentValue> = args
        .iter()
        .map(|(k, v)| (Cow::Borrowed(*k), v.clone()))
        .collect();
    LOCALES
        .try_lookup_with_args(id(lang), key, &map)
        .unwrap_or_else(|| missing(key))
}

/// The message's pieces, formatted once with markers for its arguments.
fn shape(lang: Lang, key: &str, names: &[&'static str]) -> Vec<Piece> {
    let marked: Vec<(&'static str, FluentValue<'static>)> = names
        .iter()
        .enumerate()
        .map(|(n, k)| (*k, FluentValue::from(marker(n).to_string())))
        .collect();
    let text = lookup_args(lang, key, &marked);
    let mut pieces = Vec::new();
    let mut literal = String::new();
    for c in text.chars() {
        match (0..names.len()).find(|n| marker(*n) == c) {
            Some(n) => {
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Arg(n));
            }
            None => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    pieces
}

/// A message with arguments. Text arguments (a countdown in every queue row)
/// are put into the message's shape, taken from the catalogue once: the
/// catalogue has no selectors, so a text argument only ever fills its place.
/// Numbers and dates go through Fluent each time.
pub fn tr_args(lang: Lang, key: &str, args: &[(&'static str, FluentValue<'static>)]) -> String {
    let texts: Option<Vec<&str>> = args
        .iter()
        .map(|(_, v)| match v {
            FluentValue::String(s) => Some(s.as_ref()),
            _ => None,
        })
        .collect();
    let Some(texts) = texts else {
        return lookup_args(lang, key, args);
    };
    let names: Vec<&'static str> = args.iter().map(|(k, _)| *k).collect();
    let memo_key = format!("{key}\u{0}{}", names.join("\u{0}"));
    let memo = &SHAPES[lang as usize];
    if let Some(out) = memo
        .read()
        .ok()
        .and_then(|m| m.get(&memo_key).map(|p| fill(p, &texts)))
    {
        return out;
    }
    let pieces = shape(lang, key, &names);
    let out = fill(&pieces, &texts);
    if let Ok(mut m) = memo.write() {
        m.insert(memo_key, pieces);
    }
    out
}

fn fill(pieces: &[Piece], texts: &[&str]) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Arg(n) => out.push_str(texts[*n]),
        }
    }
    out
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

    /// Text arguments go into a message's shape taken once; the result
    /// must be what Fluent gives for the same arguments, every time.
    #[test]
    fn text_arguments_read_as_fluent_formats_them() {
        use fluent_templates::fluent_bundle::FluentValue;
        use rtms_domain::Lang;
        for lang in [Lang::Ru, Lang::En] {
            for (key, name) in [
                ("deadline-left", "left"),
                ("deadline-overdue", "late"),
                ("deadline-paused", "left"),
            ] {
                for value in ["3 ч 12 мин", "1 d 2 h", ""] {
                    let args = [(name, FluentValue::from(value.to_string()))];
                    for _ in 0..2 {
                        assert_eq!(
                            super::tr_args(lang, key, &args),
                            super::lookup_args(lang, key, &args),
                            "{key} in {lang:?}"
                        );
                    }
                }
            }
        }
        let args = [("left", FluentValue::from("3 ч".to_string()))];
        assert_eq!(
            super::tr_args(Lang::Ru, "deadline-left", &args),
            "осталось 3 ч"
        );
        // A kept shape fills in each new value, in each language.
        let late = [("late", FluentValue::from("2 ч".to_string()))];
        assert_eq!(
            super::tr_args(Lang::Ru, "deadline-overdue", &late),
            "просрочен на 2 ч"
        );
        let left = [("left", FluentValue::from("1 d 2 h".to_string()))];
        assert_eq!(
            super::tr_args(Lang::En, "deadline-left", &left),
            "1 d 2 h left"
        );
        assert_eq!(
            super::tr_args(Lang::En, "deadline-paused", &left),
            "paused, 1 d 2 h left"
        );
    }

    /// Kept shapes are right only while no message selects on an argument.
    #[test]
    fn no_message_selects_on_an_argument() {
        for ftl in [RU_FTL, EN_FTL] {
            assert!(!ftl.contains("->"), "a selector: revisit tr_args' shapes");
        }
    }

    #[test]
    fn lookups_differ_by_language() {
        use rtms_domain::Lang;
        assert_eq!(super::tr(Lang::Ru, "nav-queue"), "Запросы");
        assert_eq!(super::tr(Lang::En, "nav-queue"), "Requests");
        assert_eq!(super::tr(Lang::En, "no-such-key"), "⟦no-such-key⟧");
    }
}
