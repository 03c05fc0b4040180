//! Interface texts in Fluent catalogues (`locales/{ru,en}/main.ftl`), chosen per
//! request: never a process-wide locale.
//!
//! The catalogues use Fluent in full: plural selectors with the language's
//! own categories (Russian one/few/many/other: «1 снимок, 2 снимка,
//! 5 снимков»), selects on text arguments, and numbers written per locale
//! (`12 345` / `12,345`). What is cached, and why it stays correct, is told at
//! [`tr_args`].

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, RwLock};

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{static_loader, Loader};
use rtms_domain::Lang;
use unic_langid::{langid, LanguageIdentifier};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "ru",
        customise: |bundle| {
            bundle.set_use_isolating(false);
            let english = bundle.locales.first().is_some_and(|l| l.language.as_str() == "en");
            bundle.set_formatter(Some(if english { number_en } else { number_ru }));
        },
    };
}

/// Whole numbers in a message, written as each locale's readers expect; other
/// numbers are left to Fluent.
fn whole_number(value: &FluentValue, lang: Lang) -> Option<String> {
    match value {
        FluentValue::Number(n)
            if n.value.fract() == 0.0
                && n.value.abs() < 1e15
                && n.options.minimum_fraction_digits.is_none()
                && n.options.use_grouping =>
        {
            Some(super::fmt::count(n.value as i64, lang))
        }
        _ => None,
    }
}

fn number_ru<M>(value: &FluentValue, _: &M) -> Option<String> {
    whole_number(value, Lang::Ru)
}

fn number_en<M>(value: &FluentValue, _: &M) -> Option<String> {
    whole_number(value, Lang::En)
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

/// The message's pieces, formatted once with markers for its arguments (a
/// selector keeps its real value, which chose the variant).
fn shape(lang: Lang, key: &str, names: &[&'static str], texts: &[&str]) -> Vec<Piece> {
    let marked: Vec<(&'static str, FluentValue<'static>)> = names
        .iter()
        .zip(texts)
        .enumerate()
        .map(|(n, (k, text))| {
            let value = if selects_on(lang, key, k) {
                text.to_string()
            } else {
                marker(n).to_string()
            };
            (*k, FluentValue::from(value))
        })
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

/// The variables each message selects on (`{ $count -> … }`), per language,
/// read from the catalogues' syntax once.
static SELECTORS: LazyLock<[HashMap<String, Vec<String>>; 2]> = LazyLock::new(|| {
    [
        selectors_of(include_str!("../../locales/ru/main.ftl")),
        selectors_of(include_str!("../../locales/en/main.ftl")),
    ]
});

fn selectors_of(ftl: &str) -> HashMap<String, Vec<String>> {
    use fluent_syntax::ast;
    fn pattern(p: &ast::Pattern<&str>, out: &mut Vec<String>) {
        for element in &p.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                expr(expression, out);
            }
        }
    }
    fn expr(e: &ast::Expression<&str>, out: &mut Vec<String>) {
        match e {
            ast::Expression::Select { selector, variants } => {
                if let ast::InlineExpression::VariableReference { id } = selector {
                    out.push(id.name.to_string());
                }
                for v in variants {
                    pattern(&v.value, out);
                }
            }
            ast::Expression::Inline(ast::InlineExpression::Placeable { expression }) => {
                expr(expression, out)
            }
            ast::Expression::Inline(_) => {}
        }
    }
    let resource = match fluent_syntax::parser::parse(ftl) {
        Ok(r) => r,
        Err((r, _)) => r,
    };
    let mut map = HashMap::new();
    for entry in resource.body {
        if let ast::Entry::Message(m) = entry {
            let mut vars = Vec::new();
            if let Some(p) = &m.value {
                pattern(p, &mut vars);
            }
            if !vars.is_empty() {
                map.insert(m.id.name.to_string(), vars);
            }
        }
    }
    map
}

/// Whether `key` selects on the argument `name` in `lang`.
fn selects_on(lang: Lang, key: &str, name: &str) -> bool {
    SELECTORS[lang as usize]
        .get(key)
        .is_some_and(|vars| vars.iter().any(|v| v == name))
}

/// A count with its noun: `count` is the message's `$count` («5 снимков»).
pub fn tr_count(lang: Lang, key: &str, count: i64) -> String {
    tr_args(lang, key, &[("count", FluentValue::from(count))])
}

/// A message with arguments. Text arguments (a countdown in every queue row)
/// are put into the message's shape, taken from the catalogue once per
/// language — and, when the message selects on a text argument, once per
/// value of that argument, so a select is never frozen at its first value.
/// Numbers go through Fluent each time: a plural selects on them, and the
/// catalogue's formatter writes them per locale.
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
    let mut memo_key = format!("{key}\u{0}{}", names.join("\u{0}"));
    let mut selected = false;
    for (name, text) in names.iter().zip(&texts) {
        if selects_on(lang, key, name) {
            selected = true;
            memo_key.push('\u{1}');
            memo_key.push_str(name);
            memo_key.push('=');
            memo_key.push_str(text);
        }
    }
    if selected && texts.iter().any(|t| t.len() > 64) {
        // A select's value is a short code; anything else is not kept.
        return lookup_args(lang, key, args);
    }
    let memo = &SHAPES[lang as usize];
    if let Some(out) = memo
        .read()
        .ok()
        .and_then(|m| m.get(&memo_key).map(|p| fill(p, &texts)))
    {
        return out;
    }
    let pieces = shape(lang, key, &names, &texts);
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

    /// The forms a Russian proofreader checks first, and the English ones.
    #[test]
    fn counts_take_their_plural_forms() {
        use rtms_domain::Lang;
        let ru: Vec<String> = [0, 1, 2, 5, 11, 21, 22, 25, 111]
            .iter()
            .map(|n| super::tr_count(Lang::Ru, "viewer-images", *n))
            .collect();
        assert_eq!(
            ru,
            [
                "0 снимков",
                "1 снимок",
                "2 снимка",
                "5 снимков",
                "11 снимков",
                "21 снимок",
                "22 снимка",
                "25 снимков",
                "111 снимков"
            ]
        );
        assert_eq!(super::tr_count(Lang::Ru, "age-years", 54), "54 года");
        assert_eq!(super::tr_count(Lang::Ru, "age-years", 12), "12 лет");
        assert_eq!(
            super::tr_count(Lang::Ru, "duration-minutes", 31),
            "31 минута"
        );
        assert_eq!(super::tr_count(Lang::En, "viewer-images", 1), "1 image");
        assert_eq!(super::tr_count(Lang::En, "viewer-images", 21), "21 images");
        // Numbers are written per locale inside the message.
        assert_eq!(
            super::tr_count(Lang::Ru, "viewer-images", 12_345),
            "12\u{a0}345 снимков"
        );
        assert_eq!(
            super::tr_count(Lang::En, "viewer-images", 12_345),
            "12,345 images"
        );
    }

    /// Each message's arguments, read from the catalogue's syntax tree.
    fn arguments(ftl: &str) -> std::collections::BTreeMap<String, BTreeSet<String>> {
        use fluent_syntax::ast;
        fn pattern(p: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
            for e in &p.elements {
                if let ast::PatternElement::Placeable { expression } = e {
                    expr(expression, out);
                }
            }
        }
        fn expr(e: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
            match e {
                ast::Expression::Select { selector, variants } => {
                    inline(selector, out);
                    for v in variants {
                        pattern(&v.value, out);
                    }
                }
                ast::Expression::Inline(i) => inline(i, out),
            }
        }
        fn inline(i: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
            match i {
                ast::InlineExpression::VariableReference { id } => {
                    out.insert(id.name.to_string());
                }
                ast::InlineExpression::Placeable { expression } => expr(expression, out),
                ast::InlineExpression::FunctionReference { arguments, .. } => {
                    for a in &arguments.positional {
                        inline(a, out);
                    }
                }
                _ => {}
            }
        }
        let resource = fluent_syntax::parser::parse(ftl).expect("the catalogue parses");
        let mut map = std::collections::BTreeMap::new();
        for entry in resource.body {
            if let ast::Entry::Message(m) = entry {
                let mut vars = BTreeSet::new();
                if let Some(p) = &m.value {
                    pattern(p, &mut vars);
                }
                map.insert(m.id.name.to_string(), vars);
            }
        }
        map
    }

    /// Same keys, same arguments, and every message formats in both
    /// languages with every plural category of its counts: no raw key, no
    /// unfilled argument, no Fluent error marker.
    #[test]
    fn every_message_formats_with_every_plural_category() {
        use fluent_templates::fluent_bundle::FluentValue;
        use rtms_domain::Lang;
        let (ru, en) = (arguments(RU_FTL), arguments(EN_FTL));
        assert_eq!(ru.keys().collect::<Vec<_>>(), en.keys().collect::<Vec<_>>());
        let mut selecting = 0;
        for (key, vars) in &ru {
            assert_eq!(Some(vars), en.get(key), "arguments of {key}");
            for lang in [Lang::Ru, Lang::En] {
                let counts = vars.iter().any(|v| super::selects_on(lang, key, v));
                selecting += usize::from(counts);
                // 1 one, 2 few, 5 many, 1.5 other in Russian; 1 one, 5 other in English.
                let samples: Vec<FluentValue<'static>> = if counts {
                    vec![1.into(), 2.into(), 5.into(), 21.into(), 1.5.into()]
                } else {
                    vec![FluentValue::from("7")]
                };
                for sample in samples {
                    let args: Vec<(&'static str, FluentValue<'static>)> = vars
                        .iter()
                        .map(|v| {
                            let name: &'static str = v.clone().leak();
                            (name, sample.clone())
                        })
                        .collect();
                    let out = super::lookup_args(lang, key, &args);
                    assert!(
                        !out.is_empty()
                            && !out.contains('⟦')
                            && !out.contains("{$")
                            && !out.contains("{ $")
                            && !out.contains("???"),
                        "{key} in {lang:?}: {out:?}"
                    );
                }
            }
        }
        assert!(selecting >= 10, "only {selecting} plural messages found");
    }

    #[test]
    fn selectors_are_read_from_the_syntax() {
        let sample = "a = { $n ->\n    [one] x\n   *[other] y { $m }\n}\nb = plain { $n }\n";
        let map = super::selectors_of(sample);
        assert_eq!(map.get("a"), Some(&vec!["n".to_string()]));
        assert_eq!(map.get("b"), None);
        use rtms_domain::Lang;
        assert!(super::selects_on(Lang::Ru, "viewer-images", "count"));
        assert!(!super::selects_on(Lang::Ru, "deadline-left", "left"));
    }

    #[test]
    fn lookups_differ_by_language() {
        use rtms_domain::Lang;
        assert_eq!(super::tr(Lang::Ru, "nav-queue"), "Запросы");
        assert_eq!(super::tr(Lang::En, "nav-queue"), "Requests");
        assert_eq!(super::tr(Lang::En, "no-such-key"), "⟦no-such-key⟧");
    }
}
