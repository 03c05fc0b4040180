//! Every text a person reads, from the Fluent catalogues in `locales/{ru,en}/`:
//! `main.ftl` (pages, e-mails, documents) and `refusals.ftl` (field errors and
//! refusals by their code). Chosen per request: never a process-wide locale.
//! The web and service crates both speak through this crate; the domain crate
//! returns codes only.
//!
//! The catalogues use Fluent in full: plural selectors with the language's
//! own categories (Russian one/few/many/other: «1 снимок, 2 снимка,
//! 5 снимков»), selects on text arguments, and numbers written per locale
//! (`12 345` / `12,345`). What is cached, and why it stays correct, is told at
//! [`tr_args`].

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, RwLock};

pub use fluent_templates::fluent_bundle::FluentValue;
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
            Some(number(n.value as i64, lang))
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

/// A size as people read it: `1,4 МБ` / `1.4 MB`.
pub fn human_size(bytes: i64, lang: Lang) -> String {
    const UNITS: [&str; 5] = ["unit-bytes", "unit-kb", "unit-mb", "unit-gb", "unit-tb"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} {}", tr(lang, UNITS[0]))
    } else {
        format!("{v:.1} {}", tr(lang, UNITS[i])).replace('.', &tr(lang, "decimal-separator"))
    }
}

/// A whole number with its thousands apart: `2 632` (no-break space) / `2,632`.
pub fn number(n: i64, lang: Lang) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = match lang {
        Lang::Ru => '\u{a0}',
        Lang::En => ',',
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(d);
    }
    out
}

/// English months, abbreviated as in `4 Dec 2026`.
pub const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A date to read: `04.12.2026` / `4 Dec 2026` (no one mistakes the month).
pub fn date(d: chrono::NaiveDate, lang: Lang) -> String {
    use chrono::Datelike;
    match lang {
        Lang::Ru => format!("{:02}.{:02}.{:04}", d.day(), d.month(), d.year()),
        Lang::En => format!(
            "{} {} {:04}",
            d.day(),
            MONTHS_EN[d.month0() as usize],
            d.year()
        ),
    }
}

/// The text of a refusal or field-error code (`rtms_domain::validate`, the
/// service's `Refused`); an unknown code reads as a generic "invalid value".
pub fn refusal(code: &str, lang: Lang) -> String {
    let key = format!("refusal-{code}");
    let text = tr(lang, &key);
    if text.starts_with('⟦') {
        tr(lang, "refusal-invalid")
    } else {
        text
    }
}

/// Whether the catalogue of `lang` has a message `key` (read from the
/// catalogue's syntax: a message needing arguments counts too).
pub fn has_key(lang: Lang, key: &str) -> bool {
    let ftl = match lang {
        Lang::Ru => RU_CATALOGUE,
        Lang::En => EN_CATALOGUE,
    };
    let resource = match fluent_syntax::parser::parse(ftl) {
        Ok(r) => r,
        Err((r, _)) => r,
    };
    resource
        .body
        .iter()
        .any(|entry| matches!(entry, fluent_syntax::ast::Entry::Message(m) if m.id.name == key))
}

/// A text from the catalogue, with no arguments.
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

/// Every catalogue of a language, as one text (for the syntax-level reads).
const RU_CATALOGUE: &str = concat!(
    include_str!("../locales/ru/main.ftl"),
    "\n",
    include_str!("../locales/ru/refusals.ftl"),
    "\n",
    include_str!("../locales/ru/kinds.ftl"),
    "\n",
    include_str!("../locales/ru/problems.ftl"),
    "\n",
    include_str!("../locales/ru/audit.ftl")
);
const EN_CATALOGUE: &str = concat!(
    include_str!("../locales/en/main.ftl"),
    "\n",
    include_str!("../locales/en/refusals.ftl"),
    "\n",
    include_str!("../locales/en/kinds.ftl"),
    "\n",
    include_str!("../locales/en/problems.ftl"),
    "\n",
    include_str!("../locales/en/audit.ftl")
);

/// The label of a value of a closed vocabulary (`rtms_domain::kinds`):
/// `Status::Assigned.label(lang)`.
pub trait Label {
    fn label(self, lang: Lang) -> String;
}

impl<K: rtms_domain::Coded> Label for K {
    fn label(self, lang: Lang) -> String {
        tr(lang, &format!("kind-{}-{}", K::KIND, self.code()))
    }
}

/// The variables each message selects on (`{ $count -> … }`), per language,
/// read from the catalogues' syntax once.
static SELECTORS: LazyLock<[HashMap<String, Vec<String>>; 2]> =
    LazyLock::new(|| [selectors_of(RU_CATALOGUE), selectors_of(EN_CATALOGUE)]);

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

    const RU_FTL: &str = super::RU_CATALOGUE;
    const EN_FTL: &str = super::EN_CATALOGUE;

    /// Whether a text holds a Russian letter. The English catalogue holds
    /// none, and a key missing from it falls back to the Russian text (the
    /// loader's fallback language), so this is how a missing English text
    /// shows: never as a marked key.
    fn cyrillic(text: &str) -> bool {
        text.chars().any(|c| matches!(c, '\u{400}'..='\u{4ff}'))
    }

    /// English messages that hold Russian words on purpose.
    const RUSSIAN_IN_ENGLISH: &[(&str, &str)] = &[
        (
            "lang-switch",
            "the name of the other language, written in it",
        ),
        ("icd-hint", "МКБ-10 names are searched in Russian"),
    ];

    /// Per message, the variant keys of each select on a number (one that
    /// names a plural category other than `other`).
    fn plural_selects(ftl: &str) -> std::collections::BTreeMap<String, Vec<BTreeSet<String>>> {
        use fluent_syntax::ast;
        fn pattern(p: &ast::Pattern<&str>, out: &mut Vec<BTreeSet<String>>) {
            for e in &p.elements {
                if let ast::PatternElement::Placeable { expression } = e {
                    expr(expression, out);
                }
            }
        }
        fn expr(e: &ast::Expression<&str>, out: &mut Vec<BTreeSet<String>>) {
            match e {
                ast::Expression::Select { variants, .. } => {
                    let keys: BTreeSet<String> = variants
                        .iter()
                        .map(|v| match &v.key {
                            ast::VariantKey::Identifier { name } => name.to_string(),
                            ast::VariantKey::NumberLiteral { value } => value.to_string(),
                        })
                        .collect();
                    if ["zero", "one", "two", "few", "many"]
                        .iter()
                        .any(|k| keys.contains(*k))
                    {
                        out.push(keys);
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
        let resource = fluent_syntax::parser::parse(ftl).expect("the catalogue parses");
        let mut map = std::collections::BTreeMap::new();
        for entry in resource.body {
            if let ast::Entry::Message(m) = entry {
                let mut selects = Vec::new();
                if let Some(p) = &m.value {
                    pattern(p, &mut selects);
                }
                if !selects.is_empty() {
                    map.insert(m.id.name.to_string(), selects);
                }
            }
        }
        map
    }

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
            // A grammatical gender only Russian needs (the audit log's verbs)
            // may be absent from English; every other argument is the same.
            let no_gender = |v: &BTreeSet<String>| {
                v.iter()
                    .filter(|a| *a != "gender")
                    .cloned()
                    .collect::<BTreeSet<_>>()
            };
            assert_eq!(
                Some(no_gender(vars)),
                en.get(key).map(no_gender),
                "arguments of {key}"
            );
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
                    if lang == Lang::En && !RUSSIAN_IN_ENGLISH.iter().any(|(k, _)| k == key) {
                        assert!(
                            !cyrillic(&out),
                            "{key} reads in Russian on an English page: {out:?}"
                        );
                    }
                }
            }
        }
        assert!(selecting >= 10, "only {selecting} plural messages found");

        // Every count in Russian has its three forms (1 снимок, 2 снимка,
        // 5 снимков), in English its two; and both languages count the same
        // things.
        let (ru, en) = (plural_selects(RU_FTL), plural_selects(EN_FTL));
        assert!(ru.len() >= 10, "only {} counting messages found", ru.len());
        assert_eq!(
            ru.keys().collect::<Vec<_>>(),
            en.keys().collect::<Vec<_>>(),
            "messages that count in one language only"
        );
        for (key, selects) in &ru {
            for keys in selects {
                for form in ["one", "few", "many"] {
                    assert!(
                        keys.contains(form),
                        "{key} in Russian has no [{form}] form: {keys:?}"
                    );
                }
            }
            for keys in &en[key] {
                for form in ["one", "other"] {
                    assert!(
                        keys.contains(form),
                        "{key} in English has no [{form}] form: {keys:?}"
                    );
                }
            }
        }
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
    fn every_refusal_code_has_its_own_text_in_both_languages() {
        use rtms_domain::Lang;
        let generic = super::refusal("no-such-code", Lang::Ru);
        assert_eq!(generic, "Неверное значение");
        assert_eq!(super::refusal("no-such-code", Lang::En), "Invalid value");
        // Texts as refusals.ftl has them.
        assert_eq!(super::refusal("required", Lang::Ru), "Обязательное поле");
        assert_eq!(
            super::refusal("required", Lang::En),
            "This field is required"
        );
        assert_eq!(
            super::refusal("snils_checksum", Lang::Ru),
            "Неверное контрольное число СНИЛС — проверьте номер"
        );
        for code in [
            "required",
            "snils_checksum",
            "icd10_unknown",
            "date_in_future",
        ] {
            let (ru, en) = (
                super::refusal(code, Lang::Ru),
                super::refusal(code, Lang::En),
            );
            assert_ne!(ru, generic, "{code}");
            assert_ne!(en, "Invalid value", "{code}");
            assert!(cyrillic(&ru), "{code} in Russian: {ru}");
            assert!(!cyrillic(&en), "{code} in English: {en}");
        }
        assert_eq!(
            super::refusal("link_template", Lang::En),
            "The link must start with https:// (or http://) and contain no spaces; \
             {session}, {room} and {title} are filled in"
        );
    }

    /// Every value of every vocabulary has its own label in both languages:
    /// none missing, none read in Russian on an English page, no two values
    /// of one vocabulary labelled alike.
    #[test]
    fn every_vocabulary_value_has_its_labels() {
        use super::Label;
        use rtms_domain::{Action, FormOfCare, Lang, Mode, OrgKind, Role, Sex, Status};
        fn check<K: rtms_domain::Coded + Label + std::fmt::Debug>(values: &[K]) -> usize {
            for lang in [Lang::Ru, Lang::En] {
                let labels: Vec<String> = values.iter().map(|v| v.label(lang)).collect();
                for (v, l) in values.iter().zip(&labels) {
                    assert!(!l.contains('⟦'), "{v:?} in {lang:?}: {l}");
                    assert_eq!(cyrillic(l), lang == Lang::Ru, "{v:?} in {lang:?}: {l}");
                }
                let distinct: BTreeSet<&String> = labels.iter().collect();
                assert_eq!(
                    distinct.len(),
                    labels.len(),
                    "{} values share a label in {lang:?}: {labels:?}",
                    K::KIND
                );
            }
            values.len()
        }
        let n = check(OrgKind::ALL)
            + check(Role::ALL)
            + check(FormOfCare::ALL)
            + check(Mode::ALL)
            + check(Sex::ALL)
            + check(Status::ALL)
            + check(Action::ALL);
        assert_eq!(n, 53);
        // As kinds.ftl has them.
        assert_eq!(Status::Assigned.label(Lang::Ru), "Назначен");
        assert_eq!(Status::Returned.label(Lang::Ru), "Возвращён на доработку");
        assert_eq!(Status::Returned.label(Lang::En), "Returned for revision");
        assert_eq!(Role::Doctor.label(Lang::Ru), "Лечащий врач");
        assert_eq!(FormOfCare::Emergency.label(Lang::En), "Emergency");
    }

    #[test]
    fn lookups_differ_by_language() {
        use rtms_domain::Lang;
        assert_eq!(super::tr(Lang::Ru, "nav-queue"), "Запросы");
        assert_eq!(super::tr(Lang::En, "nav-queue"), "Requests");
        assert_eq!(super::tr(Lang::En, "no-such-key"), "⟦no-such-key⟧");
        assert_eq!(super::tr(Lang::Ru, "no-such-key"), "⟦no-such-key⟧");
        assert_eq!(super::tr_count(Lang::Ru, "no-such-key", 3), "⟦no-such-key⟧");
    }
}

/// Display text lives in the catalogues: a Rust source outside tests holding
/// a Cyrillic string literal is either allowed below, with its reason, or
/// still waiting to be moved (and may then only shrink).
#[cfg(test)]
mod no_display_text_in_code {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// Sources whose Cyrillic literals are not interface text.
    const ALLOWED: &[(&str, &str)] = &[
        (
            "service/src/lifecycle/consultations.rs",
            "the patient search folds ё into е",
        ),
        (
            "service/src/documents/semd.rs",
            "the СЭМД's content: НСИ display names, Russian by the rules",
        ),
        ("service/src/seed/demo.rs", "the demo region's data"),
        (
            "service/src/access/audit_text.rs",
            "Russian patronymic endings, read to choose a verb's gender",
        ),
        (
            "service/src/seed/generate.rs",
            "the load generator's synthetic data",
        ),
        (
            "domain/src/nsi.rs",
            "НСИ names, the Ministry's reference data (English lists beside)",
        ),
        (
            "documents/src/semd.rs",
            "the СЭМД's content: Russian by the Ministry's rules",
        ),
        (
            "documents/src/cms.rs",
            "the name of the standard ГОСТ Р 34.10-2012",
        ),
        (
            "documents/src/lib.rs",
            "the product's name in PDF metadata; a developer's error",
        ),
        (
            "documents/examples/render_samples.rs",
            "an example program's sample data",
        ),
        ("dicom/src/fixtures.rs", "test fixtures"),
        (
            "service/src/access/auth.rs",
            "weak passwords refused (data, never shown)",
        ),
        (
            "store/src/reference.rs",
            "a developer's error naming the МКБ-10 file",
        ),
        (
            "rtms/src/main.rs",
            "the operator's console: the product's name",
        ),
        (
            "web/src/api/mod.rs",
            "the OpenAPI document's title: the product's name",
        ),
        (
            "web/src/api/documents.rs",
            "the OpenAPI description's term СЭМД",
        ),
        (
            "web/src/ui/pages.rs",
            "the TOTP issuer, the product's name in authenticator apps",
        ),
        (
            "service/src/access/sessions.rs",
            "the TOTP issuer, the product's name in authenticator apps",
        ),
    ];

    /// Not moved yet (issue 26): the FHIR resources' texts. The number is the most lines
    /// allowed; move texts out and lower it.
    const PENDING: &[(&str, usize)] = &[];

    fn cyrillic_literal_lines(source: &str) -> usize {
        let code = source.split("#[cfg(test)]").next().unwrap_or("");
        code.lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .filter(|l| {
                // A Cyrillic letter between a pair of quotes on the line.
                let mut inside = false;
                let mut prev = ' ';
                for c in l.chars() {
                    if c == '"' && prev != '\\' {
                        inside = !inside;
                    } else if inside && matches!(c, 'А'..='я' | 'Ё' | 'ё') {
                        return true;
                    }
                    prev = c;
                }
                false
            })
            .count()
    }

    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, usize>) {
        // A directory another process removes while this walks (a temporary
        // one) holds no source: it is passed over, never a failure.
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if path.is_dir() {
                if !rel.ends_with("/tests") && !rel.contains("/tests/") {
                    walk(&path, root, out);
                }
            } else if rel.ends_with(".rs") {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let n = cyrillic_literal_lines(&text);
                if n > 0 {
                    out.insert(rel, n);
                }
            }
        }
    }

    #[test]
    fn no_rust_source_holds_display_text() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut found = BTreeMap::new();
        walk(root, root, &mut found);
        assert!(
            found.contains_key("service/src/seed/demo.rs"),
            "is the scan broken? {found:?}"
        );
        let mut wrong = Vec::new();
        for (file, n) in &found {
            if ALLOWED.iter().any(|(f, _)| f == file) {
                continue;
            }
            match PENDING.iter().find(|(f, _)| f == file) {
                Some((_, most)) if n <= most => {}
                Some((_, most)) => wrong.push(format!("{file}: {n} lines (at most {most})")),
                None => wrong.push(format!("{file}: {n} lines")),
            }
        }
        assert!(
            wrong.is_empty(),
            "Cyrillic text in Rust sources; move it to locales/{{ru,en}}/*.ftl: {wrong:#?}"
        );
        let pending: usize = PENDING.iter().map(|(_, n)| n).sum();
        println!(
            "display texts still in service code: {pending} lines in {} files",
            PENDING.len()
        );
    }

    #[test]
    fn the_scan_sees_literals_not_comments() {
        assert_eq!(
            cyrillic_literal_lines("// «текст»\nlet a = \"текст\";\nlet b = \"text\"; // текст\n"),
            1
        );
        assert_eq!(
            cyrillic_literal_lines("let a = 1;\n#[cfg(test)]\nlet b = \"тест\";\n"),
            0
        );
    }
}
