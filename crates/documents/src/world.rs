//! A minimal in-memory [`typst::World`].
//!
//! The world holds exactly what one document needs: the template sources
//! compiled into this crate, one JSON data file, the fonts embedded in the
//! binary and a fixed "today". It never touches the file system or the
//! network, so a template cannot read anything the caller did not hand in.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// Shared helpers imported by every template.
const COMMON_TEMPLATE: &str = include_str!("../templates/common.typ");

/// Virtual path of the JSON data file (`json("/data.json")` in templates).
pub(crate) const DATA_PATH: &str = "/data.json";
/// Virtual path of the shared helpers (`#import "/common.typ": *`).
const COMMON_PATH: &str = "/common.typ";

/// The standard library, built once. Data reaches templates through the
/// virtual data file, so no per-document `sys.inputs` are needed.
static LIBRARY: LazyLock<LazyHash<Library>> =
    LazyLock::new(|| LazyHash::new(Library::builder().build()));

/// Fonts embedded in the binary (from `typst-assets`), parsed once.
static FONTS: LazyLock<(LazyHash<FontBook>, Vec<Font>)> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    let book = FontBook::from_fonts(&fonts);
    (LazyHash::new(book), fonts)
});

/// Whether some embedded font has a glyph for `c` (ASCII is always drawn).
fn drawable(c: char) -> bool {
    c.is_ascii_graphic() || c == ' ' || FONTS.1.iter().any(|f| f.info().coverage.contains(c as u32))
}

/// The most combining marks kept on one character: UAX #15's stream-safe
/// limit. Thousands of marks on one letter make one cluster that the layout
/// takes quadratic time and memory over (tens of gigabytes for 20,000).
const MAX_MARKS: usize = 30;

/// A run of this many characters without a space (a number pasted whole, a
/// line of a device's output) gets a break opportunity every
/// [`BREAK_EVERY`] characters: a number cannot be hyphenated, and a line of
/// thousands of digits is a PDF string longer than PDF/A allows.
const LONG_RUN: usize = 200;
const BREAK_EVERY: usize = 50;

/// U+200B: a place where a line may break, drawn as nothing.
const ZERO_WIDTH_SPACE: char = '\u{200b}';

/// `text` as the embedded fonts can print it: a character none of them can
/// draw (a control character, a private-use code point, a script without a
/// font here) becomes U+FFFD, an unusual space a plain one, combining marks
/// past [`MAX_MARKS`] on one character are left out, and a very long run
/// without a space may break. PDF/A allows no missing glyph, so without this
/// one such character in a patient's name would stop the whole document.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::char::is_combining_mark;
    let plain = |c: char| matches!(c, '\n' | '\r' | '\t' | ZERO_WIDTH_SPACE) || drawable(c);
    let mut marks = 0;
    let mut run = 0;
    let clean = text.chars().all(|c| {
        marks = if is_combining_mark(c) { marks + 1 } else { 0 };
        run = if c.is_whitespace() { 0 } else { run + 1 };
        marks <= MAX_MARKS && run <= LONG_RUN && plain(c)
    });
    if clean {
        return std::borrow::Cow::Borrowed(text);
    }
    let replacement = if drawable('\u{fffd}') {
        '\u{fffd}'
    } else {
        '?'
    };
    let mut out = String::with_capacity(text.len() + text.len() / BREAK_EVERY);
    let mut marks = 0;
    for word in text.split_inclusive(char::is_whitespace) {
        let long = word.chars().count() > LONG_RUN;
        for (i, c) in word.chars().enumerate() {
            marks = if is_combining_mark(c) { marks + 1 } else { 0 };
            if marks > MAX_MARKS {
                continue;
            }
            if long && i > 0 && i % BREAK_EVERY == 0 && !is_combining_mark(c) {
                out.push(ZERO_WIDTH_SPACE);
            }
            out.push(match c {
                c if plain(c) => c,
                c if c.is_whitespace() => ' ',
                _ => replacement,
            });
        }
    }
    out.into()
}

/// Every string in `data` made [`printable`].
pub(crate) fn make_printable(data: &mut serde_json::Value) {
    use serde_json::Value;
    match data {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(p) = printable(s) {
                *s = p;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(make_printable),
        Value::Object(map) => map.values_mut().for_each(make_printable),
        _ => {}
    }
}

fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("static virtual paths are valid");
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

/// One document compilation: a main template, its data and a fixed date.
pub(crate) struct DocWorld {
    main: Source,
    common: Source,
    data_id: FileId,
    data: Bytes,
    today: Option<Datetime>,
}

impl DocWorld {
    /// Creates a world whose main file is `template` (stored under the
    /// virtual path `main_path`) and whose `/data.json` holds `data`.
    pub(crate) fn new(
        main_path: &str,
        template: &str,
        data: Vec<u8>,
        today: Option<Datetime>,
    ) -> Self {
        Self {
            main: Source::new(file_id(main_path), template.to_owned()),
            common: Source::new(file_id(COMMON_PATH), COMMON_TEMPLATE.to_owned()),
            data_id: file_id(DATA_PATH),
            data: Bytes::new(data),
            today,
        }
    }
}

impl World for DocWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.0
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else if id == self.common.id() {
            Ok(self.common.clone())
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else if id == self.main.id() || id == self.common.id() {
            let source = self.source(id)?;
            Ok(Bytes::from_string(source.text().to_owned()))
        } else {
            Err(not_found(id))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.1.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        self.today
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(std::path::PathBuf::from(
        id.vpath().clone().into_with_slash().as_str(),
    ))
}
